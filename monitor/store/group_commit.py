"""Group commit: writes that queue up while one transaction runs share the next one.

With ``synchronous=FULL`` every commit waits for the disk, and in a cold pass hundreds
of polls queue behind the write lock, each to insert its items and then commit alone:
the commits and the index pages written again by every poll bound the whole pass.
Here the writes waiting meanwhile run one after another in one transaction, each in its
own savepoint, so that a failing write is rolled back alone. A caller's result is
handed back only after the commit that holds it, so durability is what it was.

An urgent write (one on the way to an alert: a small poll's items, a message claimed
or marked sent) goes before the writes queued without urgency, and the transaction
that holds it takes no other write of more than one statement: it waits for the write
under way, not for a cold pass's backlog of thousands of items.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Awaitable, Callable
from contextlib import AbstractAsyncContextManager
from typing import Any, Generic, Protocol, TypeVar

log = logging.getLogger(__name__)
Result = TypeVar("Result")


class Executes(Protocol):
    """A connection: what savepoints need of it."""

    async def execute(self, sql: str) -> Any:
        """Run one statement."""


Connection = TypeVar("Connection", bound=Executes)
Work = Callable[[Connection], Awaitable[Any]]
# A queued write: its work, its caller's future, and whether it is one statement.
Queued = tuple[Work[Connection], "asyncio.Future[Any]", bool]


class GroupCommit(Generic[Connection]):
    """Runs queued writes in shared transactions; ``limit`` bounds the writes in one
    (and so how long other writers wait for the lock).

    ``intact``: whether the transaction is still open after a write failed, given for
    a database that undoes a failed statement alone and goes on (SQLite, unless the
    error was grave enough to roll everything back; PostgreSQL aborts the whole
    transaction instead, and gives none). With it, a write of a single statement
    (``run(..., single=True)``) needs no savepoint: two round trips to the database
    thread fewer, for each 304 recorded and message sent. When the transaction did not
    survive, every write in it is failed, as when a commit fails."""

    def __init__(
        self,
        transaction: Callable[[], AbstractAsyncContextManager[Connection]],
        limit: int = 32,
        *,
        intact: Callable[[Connection], bool] | None = None,
    ) -> None:
        self._transaction = transaction
        self.limit = limit
        self._intact = intact
        self._queued: deque[Queued[Connection]] = deque()
        self._urgent: deque[Queued[Connection]] = deque()
        self._flusher: asyncio.Task[None] | None = None
        self._bulk_owed = False  # the last transaction left waiting bulk writes out
        self.transactions = 0  # committed, for tests and benchmarks

    async def run(
        self,
        work: Callable[[Connection], Awaitable[Result]],
        *,
        single: bool = False,
        urgent: bool = False,
    ) -> Result:
        """Run ``work`` in a shared transaction; its result once that is committed.
        Its exception (its savepoint rolled back) or the commit's is raised here.
        ``single``: the work writes with one statement at most (it may read besides,
        and raise after a statement that changed nothing). ``urgent``: it goes before
        the writes that are not, and is committed without waiting for them."""
        future: asyncio.Future[Result] = asyncio.get_running_loop().create_future()
        queue = self._urgent if urgent else self._queued
        queue.append((work, future, single and self._intact is not None))
        if self._flusher is None or self._flusher.done():
            self._flusher = asyncio.create_task(self._flush(), name="group-commit")
        return await future

    async def drain(self) -> None:
        """Wait until every queued write is committed or failed (a drain that is
        cancelled leaves the writes to finish)."""
        if self._flusher is not None and not self._flusher.done():
            await asyncio.wait([self._flusher])

    async def _flush(self) -> None:
        try:
            while self._urgent or self._queued:
                await self._one_transaction()
        finally:
            # Cancelled with the loop, or closed: no caller may wait forever.
            for queue in (self._urgent, self._queued):
                while queue:
                    _, future, _ = queue.popleft()
                    if not future.done():
                        future.cancel()

    def _next(self, urgent_done: bool, bulk_owed: bool) -> tuple[Queued[Connection], bool] | None:
        """The next write for the open transaction, and whether it is urgent: the
        oldest bulk one when it is owed its turn, else an urgent one first; once an
        urgent one is written, only one-statement writes (a 304 recorded: cheaper than
        the commit it would otherwise need alone), so that the transaction commits soon."""
        if bulk_owed and self._queued:
            return self._queued.popleft(), False
        if self._urgent:
            return self._urgent.popleft(), True
        if self._queued and (not urgent_done or self._queued[0][2]):
            return self._queued.popleft(), False
        return None

    async def _one_transaction(self) -> None:
        succeeded: list[tuple[asyncio.Future[Any], Any]] = []
        current: asyncio.Future[Any] | None = None  # the write under way
        began = False
        urgent_done = False  # an urgent write is in this transaction: commit it soon
        # When the last transaction took only urgent writes while others waited, this
        # one begins with the oldest of those.
        owed, took_bulk = self._bulk_owed, False
        try:
            async with self._transaction() as db:
                began = True
                while len(succeeded) < self.limit:
                    picked = self._next(urgent_done, owed and not took_bulk)
                    if picked is None:
                        break
                    (work, future, single), urgent = picked
                    urgent_done = urgent_done or urgent
                    took_bulk = took_bulk or not urgent
                    if future.done():
                        continue  # its caller gave up before it started: nothing written
                    current = future
                    if not single:
                        await db.execute("SAVEPOINT grouped_write")
                    try:
                        result = await work(db)
                    except Exception as error:
                        if not single:
                            await db.execute("ROLLBACK TO grouped_write")
                            await db.execute("RELEASE grouped_write")
                        elif self._intact is not None and not self._intact(db):
                            raise  # it took the whole transaction with it
                        # (else the single statement that failed undid itself)
                        if not future.done():  # its caller may have given up meanwhile
                            future.set_exception(error)
                        current = None
                        continue
                    if not single:
                        await db.execute("RELEASE grouped_write")
                    succeeded.append((future, result))
                    current = None
        except BaseException as error:
            # The transaction is lost: so is every write in it, and the one under way.
            lost: list[asyncio.Future[Any] | None] = [current, *(f for f, _ in succeeded)]
            if not began:
                # It failed before any write began (BEGIN itself: the store is closed,
                # or the disk is gone): the writes waiting would only fail the same way,
                # and trying again at once would never let the loop breathe.
                lost += [waiting for _, waiting, _ in (*self._urgent, *self._queued)]
                self._urgent.clear()
                self._queued.clear()
            for failed in lost:
                if failed is not None and not failed.done():
                    failed.set_exception(error)
            if not isinstance(error, Exception):
                raise
            log.debug("a grouped transaction failed: %s", error)
            return
        self.transactions += 1
        self._bulk_owed = not took_bulk and bool(self._queued)
        for future, result in succeeded:
            if not future.done():
                future.set_result(result)
