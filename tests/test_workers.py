"""The worker pool: results and errors come back; a dead worker is replaced."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import time
from pathlib import Path

import pytest

from monitor.parse import ParseError, parse_feed
from monitor.workers import WorkerCrashed, WorkerPool

ROOT = Path(__file__).resolve().parents[1]


def die() -> None:
    os.kill(os.getpid(), signal.SIGKILL)


def survive_sigterm() -> str:
    os.kill(os.getpid(), signal.SIGTERM)
    return "still here"


def nap(seconds: float, name: str) -> str:
    time.sleep(seconds)
    return name


async def in_order_of_finishing(pool: WorkerPool, *tasks: tuple[str, float, int]) -> list[str]:
    """Queue (name, seconds, cost) tasks one after another; their names as they end."""
    finished: list[str] = []

    async def one(name: str, seconds: float, cost: int) -> None:
        finished.append(await pool.run(nap, seconds, name, cost=cost))

    running = []
    for name, seconds, cost in tasks:
        running.append(asyncio.create_task(one(name, seconds, cost)))
        await asyncio.sleep(0.01)  # queued in this order, each at its own time
    await asyncio.gather(*running)
    return finished


async def test_a_cheap_task_goes_before_big_ones_queued_earlier() -> None:
    pool = WorkerPool(workers=1)
    try:
        await pool.start()
        finished = await in_order_of_finishing(
            pool,
            ("busy", 0.3, 0),  # the worker is busy ...
            ("next", 0.1, 1_000_000),  # ... this one is queued in the executor already
            ("big 1", 0.1, 1_000_000),
            ("big 2", 0.1, 1_000_000),
            ("small", 0.1, 1_000),
        )
        assert finished == ["busy", "next", "small", "big 1", "big 2"]
    finally:
        await pool.close()


async def test_a_task_that_waited_past_its_slack_keeps_its_place() -> None:
    now = [0.0]
    pool = WorkerPool(workers=1, slack_per_byte=1e-6, clock=lambda: now[0])
    finished: list[str] = []

    async def one(name: str, seconds: float, cost: int) -> None:
        finished.append(await pool.run(nap, seconds, name, cost=cost))

    try:
        await pool.start()
        running = [asyncio.create_task(one("busy", 0.3, 0))]
        running.append(asyncio.create_task(one("next", 0.1, 0)))
        # Big: it may wait 1 s for cheaper tasks that come after it ...
        running.append(asyncio.create_task(one("big", 0.1, 1_000_000)))
        await asyncio.sleep(0.05)
        now[0] = 5.0  # ... and this cheap one comes 5 s later.
        running.append(asyncio.create_task(one("small", 0.1, 0)))
        await asyncio.gather(*running)
        assert finished == ["busy", "next", "big", "small"]
    finally:
        await pool.close()


async def test_tasks_cancelled_in_the_queue_or_on_their_turn_leave_no_worker_taken() -> None:
    pool = WorkerPool(workers=1)
    try:
        await pool.start()
        busy = asyncio.create_task(pool.run(nap, 0.3, "busy"))
        await asyncio.sleep(0.05)
        queued = [asyncio.create_task(pool.run(nap, 0.1, "queued")) for _ in range(4)]
        await asyncio.sleep(0.05)
        for task in queued:
            task.cancel()
        await asyncio.gather(*queued, return_exceptions=True)
        assert await busy == "busy"
        # Four were taken or never given a worker: had any kept its turn, these would
        # wait forever.
        done = await asyncio.wait_for(
            asyncio.gather(*(pool.run(nap, 0.0, str(n)) for n in range(3))), timeout=10
        )
        assert done == ["0", "1", "2"]
    finally:
        await pool.close()


async def test_closing_cancels_the_tasks_still_waiting_for_a_worker() -> None:
    pool = WorkerPool(workers=1)
    await pool.start()
    busy = asyncio.create_task(pool.run(nap, 0.3, "busy"))
    await asyncio.sleep(0.05)
    waiting = [asyncio.create_task(pool.run(nap, 0.1, str(n), cost=n)) for n in range(3)]
    await asyncio.sleep(0.05)
    await pool.close()
    outcomes = await asyncio.gather(busy, *waiting, return_exceptions=True)
    # The one in the executor's queue and the two waiting here are dropped alike;
    # none of them started a new pool after the close.
    assert sum(isinstance(outcome, asyncio.CancelledError) for outcome in outcomes) >= 2
    assert pool._pool is None


async def test_results_and_errors_come_back() -> None:
    pool = WorkerPool(workers=1)
    try:
        await pool.start()
        parsed = await pool.run(
            parse_feed,
            b'{"version": "https://jsonfeed.org/version/1.1", '
            b'"items": [{"id": "1", "title": "Truce"}]}',
            {},
            "https://x/",
        )
        assert [item.title for item in parsed.items] == ["Truce"]
        with pytest.raises(ParseError, match="empty"):
            await pool.run(parse_feed, b"", {}, "https://x/")
    finally:
        await pool.close()


async def test_a_dead_worker_is_replaced() -> None:
    pool = WorkerPool(workers=1)
    try:
        with pytest.raises(WorkerCrashed):
            await pool.run(die)
        assert await pool.run(os.getpid) != os.getpid()
    finally:
        await pool.close()


async def test_workers_leave_stopping_to_the_daemon() -> None:
    pool = WorkerPool(workers=1)
    try:
        assert await pool.run(survive_sigterm) == "still here"
    finally:
        await pool.close()


def children_of(pid: int) -> set[int]:
    """Live processes whose parent is ``pid``, read from /proc."""
    found = set()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # "pid (comm) state ppid …": comm may hold spaces, so split after its ')'.
        fields = stat.rsplit(")", 1)[1].split()
        if int(fields[1]) == pid and fields[0] != "Z":
            found.add(int(entry.name))
    return found


def alive(pid: int) -> bool:
    try:
        state = (Path("/proc") / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


PARENT = """
import asyncio, os, sys
from monitor.workers import WorkerPool

async def main():
    pool = WorkerPool(workers=2)
    await pool.start()
    await asyncio.gather(*(pool.run(os.getpid) for _ in range(8)))
    print("ready", flush=True)
    await asyncio.sleep(600)

asyncio.run(main())
"""


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs /proc")
async def test_workers_exit_when_the_daemon_is_killed(tmp_path: Path) -> None:
    # Output to a file, not a pipe: surviving workers would hold a pipe open.
    output = tmp_path / "parent.out"
    with output.open("wb") as sink:
        parent = await asyncio.create_subprocess_exec(
            sys.executable, "-c", PARENT, stdout=sink, env={**os.environ, "PYTHONPATH": str(ROOT)}
        )
    deadline = time.monotonic() + 60
    while b"ready" not in output.read_bytes():
        assert time.monotonic() < deadline, "the parent did not start its workers"
        await asyncio.sleep(0.05)
    workers = children_of(parent.pid)
    assert len(workers) >= 2  # the pool's processes (and the resource tracker)
    parent.kill()  # SIGKILL: no chance to stop the workers itself
    await parent.wait()
    for _ in range(100):  # up to ten seconds
        if not any(alive(pid) for pid in workers):
            break
        await asyncio.sleep(0.1)
    survivors = [pid for pid in workers if alive(pid)]
    for pid in survivors:
        os.kill(pid, signal.SIGKILL)
    assert not survivors, "workers outlived their parent"


async def test_a_normal_close_leaves_no_worker_behind() -> None:
    pool = WorkerPool(workers=2)
    await pool.start()
    worker_pids = set(await asyncio.gather(*(pool.run(os.getpid) for _ in range(8))))
    await pool.close()
    assert worker_pids
    assert not [pid for pid in worker_pids if alive(pid)]
