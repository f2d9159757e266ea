"""CPU work off the event loop: worker processes that are replaced when one dies.

Threads were not enough: feedparser, the HTML stripper and the tokenizer hold the GIL in
long C calls (a regex over a megabyte of text), and the event loop stalled for 0.66 s
during a cold poll of the corpus. In worker processes they cannot touch the loop.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import logging
import multiprocessing
import multiprocessing.connection
import os
import signal
import threading
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import TypeVar

log = logging.getLogger(__name__)
Result = TypeVar("Result")
MAX_WORKERS = 4
# How much longer a task may wait, per byte of its input, than a task that came after
# it, and at most. Reading a feed (parse, identify, match) takes about 1 ms per KB, so a
# task waits at most ~100 times its own run time behind cheaper ones that came later
# (1 KB: 0.1 s; 64 KB: 6.5 s), and never more than 10 s. A cold pass queues a hundred
# bodies for the workers at once (seconds of work): a small changed feed is read
# before them, not behind them. None starves: a task's place is fixed when it comes.
SLACK_PER_BYTE = 100e-6
MAX_SLACK = 10.0
# In a worker process: what its pool installed at start, with the generation it belongs to.
_installed: tuple[int, object] = (0, None)


class WorkerCrashed(Exception):
    """A worker process died mid-task (killed, or out of memory); the pool was replaced."""


class StaleWorker(Exception):
    """A task expected another generation of the installed state than its worker holds."""


def installed(generation: int) -> object:
    """In a worker: the state its pool installed (``WorkerPool.install``), which must be
    of the generation the task was sent with."""
    held, state = _installed
    if held != generation:
        raise StaleWorker(f"worker holds generation {held}, the task wants {generation}")
    return state


def _exit_with_parent(parent_sentinel: int) -> None:
    # The sentinel is the read end of a pipe the parent holds open: it becomes readable
    # when the parent is gone, however it died (SIGKILL, the OOM killer, a crash).
    multiprocessing.connection.wait([parent_sentinel])
    os._exit(0)


def _start_worker(generation: int, state: object) -> None:
    """Pool initializer: install the state, ignore stop signals, and exit when the
    parent process dies.

    The daemon decides when workers stop: a Ctrl-C or a SIGTERM sent to the whole
    process group (systemd does that) must not kill a parse half-way. But since they
    ignore those signals, they must notice on their own when nobody is left to stop
    them, or they pile up after every crash of the daemon.
    """
    global _installed
    _installed = (generation, state)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    parent = multiprocessing.parent_process()
    if parent is not None and parent.sentinel is not None:
        threading.Thread(
            target=_exit_with_parent, args=(parent.sentinel,), name="parent-watch", daemon=True
        ).start()


class WorkerPool:
    """A lazily started process pool for the CPU-bound stages (parse, identify, match).

    Large read-only state (the compiled watchlists) is installed in each worker once,
    when it starts, rather than pickled with every task: ``install`` replaces it and
    retires the running workers, and tasks name the generation they expect.
    """

    def __init__(
        self,
        workers: int | None = None,
        *,
        slack_per_byte: float = SLACK_PER_BYTE,
        max_slack: float = MAX_SLACK,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.workers = workers or max(1, min(MAX_WORKERS, os.cpu_count() or 1))
        self.slack_per_byte = slack_per_byte
        self.max_slack = max_slack
        self.clock = clock
        # Tasks waiting for a worker, cheapest-deadline first: (deadline, arrival, turn).
        self._waiting: list[tuple[float, int, asyncio.Future[None]]] = []
        self._arrivals = itertools.count()
        self._running = 0
        self._pool: ProcessPoolExecutor | None = None
        self._state: object = None
        self._retired: list[ProcessPoolExecutor] = []
        self.generation = 0

    def install(self, state: object) -> int:
        """Give every worker this state from now on; returns its generation. Workers
        already running finish their tasks (with the state they were sent for) and go."""
        self.generation += 1
        self._state = state
        if self._pool is not None:
            retired, self._pool = self._pool, None
            retired.shutdown(wait=False)
            self._retired.append(retired)
        return self.generation

    def _current(self) -> ProcessPoolExecutor:
        if self._pool is None:
            # spawn: a fresh interpreter, never a fork of a process that has threads.
            self._pool = ProcessPoolExecutor(
                max_workers=self.workers,
                mp_context=multiprocessing.get_context("spawn"),
                initializer=_start_worker,
                initargs=(self.generation, self._state),
            )
        return self._pool

    async def start(self) -> None:
        """Start the workers now: spawning blocks the loop for a moment, which belongs
        to start-up, not to the first poll."""
        await self.run(os.getpid)

    async def run(self, function: Callable[..., Result], *args: object, cost: int = 0) -> Result:
        """Run a top-level function in a worker; its exceptions come back as raised.

        ``cost`` is the size of its input in bytes: when workers are busy, cheaper tasks
        go first, within ``slack_per_byte`` seconds a byte (``max_slack`` at most) of
        each waiting one."""
        deadline = self.clock() + min(cost * self.slack_per_byte, self.max_slack)
        turn: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        heapq.heappush(self._waiting, (deadline, next(self._arrivals), turn))
        self._hand_out()
        try:
            await turn
        except asyncio.CancelledError:
            if turn.done() and not turn.cancelled():  # given a worker, then cancelled
                self._done()
            raise
        try:
            return await self._execute(function, *args)
        finally:
            self._done()

    def _hand_out(self) -> None:
        # One task more than there are workers keeps them fed between tasks (it waits
        # in the executor); the rest wait here, where their order can still change.
        while self._waiting and self._running <= self.workers:
            _, _, turn = heapq.heappop(self._waiting)
            if not turn.done():
                self._running += 1
                turn.set_result(None)

    def _done(self) -> None:
        self._running -= 1
        self._hand_out()

    async def _execute(self, function: Callable[..., Result], *args: object) -> Result:
        pool = self._current()
        try:
            return await asyncio.get_running_loop().run_in_executor(pool, function, *args)
        except BrokenProcessPool:
            if self._pool is pool:
                log.error("a worker process died; starting new ones")
                self._pool = None
                pool.shutdown(wait=False, cancel_futures=True)
            raise WorkerCrashed("a worker process died while parsing this feed") from None

    async def close(self) -> None:
        """Stop the workers, dropping queued work; the wait happens off the loop."""
        # Waiting tasks end as the executor's queued ones do: cancelled.
        waiting, self._waiting = self._waiting, []
        for _, _, turn in waiting:
            turn.cancel()
        pools, self._retired = self._retired, []
        if self._pool is not None:
            pools.append(self._pool)
            self._pool = None
        for pool in pools:
            await asyncio.to_thread(pool.shutdown, wait=True, cancel_futures=True)
