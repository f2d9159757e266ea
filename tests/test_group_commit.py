"""Group commit on a real SQLite file: writes queued together share one transaction,
a failing write is rolled back alone, and nobody hears back before the commit."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import aiosqlite
import pytest

from monitor.store.group_commit import GroupCommit


class Table:
    """One table on a file, written through a GroupCommit, read by a second connection."""

    def __init__(self, path: Path, *, single_writes: bool = False) -> None:
        self.path = path
        self.lock = asyncio.Lock()
        # single_writes: as the SQLite store groups them, a one-statement write with no
        # savepoint of its own, checking that the transaction survived its failure.
        intact = (lambda db: db.in_transaction) if single_writes else None
        self.group = GroupCommit(self.transaction, limit=3, intact=intact)
        self.writer: aiosqlite.Connection | None = None

    async def open(self) -> None:
        """The writer connection, in WAL mode, and the table."""
        self.writer = await aiosqlite.connect(self.path, isolation_level=None)
        await self.writer.execute("PRAGMA journal_mode = WAL")
        await self.writer.execute("CREATE TABLE t (value TEXT NOT NULL UNIQUE)")

    async def close(self) -> None:
        """Wait for the queued writes, then close the writer."""
        await self.group.drain()
        assert self.writer is not None
        await self.writer.close()

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[aiosqlite.Connection]:
        assert self.writer is not None
        async with self.lock:
            await self.writer.execute("BEGIN IMMEDIATE")
            try:
                yield self.writer
                await self.writer.execute("COMMIT")
            except BaseException:
                if self.writer.in_transaction:
                    await self.writer.execute("ROLLBACK")
                raise

    async def insert(self, value: str, *, urgent: bool = False) -> str:
        async def work(db: aiosqlite.Connection) -> str:
            await db.execute("INSERT INTO t (value) VALUES (?)", (value,))
            return value

        return await self.group.run(work, urgent=urgent)

    def committed(self) -> list[str]:
        with sqlite3.connect(self.path) as reader:
            return [row[0] for row in reader.execute("SELECT value FROM t ORDER BY value")]


@pytest.fixture
async def table(tmp_path: Path) -> AsyncIterator[Table]:
    table = Table(tmp_path / "group.db")
    await table.open()
    yield table
    await table.close()


@pytest.fixture
async def single_table(tmp_path: Path) -> AsyncIterator[Table]:
    table = Table(tmp_path / "single.db", single_writes=True)
    await table.open()
    yield table
    await table.close()


async def test_writes_queued_together_share_a_transaction_up_to_the_limit(table: Table) -> None:
    results = await asyncio.gather(*(table.insert(f"v{n}") for n in range(7)))
    assert results == [f"v{n}" for n in range(7)]
    assert table.committed() == [f"v{n}" for n in range(7)]
    assert table.group.transactions == 3  # 3 + 3 + 1


async def test_an_urgent_write_goes_first_and_commits_without_the_backlog(
    table: Table,
) -> None:
    order: list[str] = []

    async def insert(value: str, urgent: bool = False) -> None:
        await table.insert(value, urgent=urgent)
        order.append(value)

    first = asyncio.ensure_future(insert("bulk0"))  # under way when the others queue
    await asyncio.sleep(0)
    backlog = [asyncio.ensure_future(insert(f"bulk{n}")) for n in range(1, 6)]
    alert = asyncio.ensure_future(insert("urgent", urgent=True))
    await asyncio.gather(first, *backlog, alert)
    # It went before the queued bulk, and its transaction committed at once: its
    # caller heard back before theirs did (the one under way shares its commit).
    assert order.index("urgent") < min(order.index(f"bulk{n}") for n in range(1, 6))
    assert table.committed() == sorted([*(f"bulk{n}" for n in range(6)), "urgent"])
    assert table.group.transactions == 3  # bulk0 + urgent, then the backlog: 3 + 2


async def test_urgent_writes_never_starve_the_others(table: Table) -> None:
    order: list[str] = []

    async def insert(value: str, urgent: bool) -> None:
        await table.insert(value, urgent=urgent)
        order.append(value)

    waiting = [asyncio.ensure_future(insert("bulk", False))]
    waiting += [asyncio.ensure_future(insert(f"urgent{n}", True)) for n in range(9)]
    await asyncio.gather(*waiting)
    # Three urgent writes (the limit) go first; the next transaction begins with the
    # bulk write that waited, not after all nine.
    assert order.index("bulk") < order.index("urgent8")
    assert order[:3] == ["urgent0", "urgent1", "urgent2"]


async def test_a_failing_write_is_rolled_back_alone(table: Table) -> None:
    async def half_then_fail(db: aiosqlite.Connection) -> None:
        await db.execute("INSERT INTO t (value) VALUES ('half')")
        await db.execute("INSERT INTO t (value) VALUES ('a')")  # UNIQUE: fails

    first = asyncio.ensure_future(table.insert("a"))
    failing = asyncio.ensure_future(table.group.run(half_then_fail))
    last = asyncio.ensure_future(table.insert("b"))
    with pytest.raises(sqlite3.IntegrityError):
        await failing
    assert (await first, await last) == ("a", "b")
    assert table.committed() == ["a", "b"]  # no "half"
    assert table.group.transactions == 1


async def test_a_result_comes_back_only_once_it_is_committed(table: Table) -> None:
    seen_at_return = []

    async def watch(value: str) -> None:
        await table.insert(value)
        seen_at_return.append(value in table.committed())

    await asyncio.gather(*(watch(f"v{n}") for n in range(5)))
    assert seen_at_return == [True] * 5


async def test_a_failed_commit_fails_every_write_in_it(table: Table) -> None:
    async def break_the_transaction(db: aiosqlite.Connection) -> None:
        await db.execute("ROLLBACK")  # what comes after it has no transaction left

    other = asyncio.ensure_future(table.insert("lost"))
    breaking = asyncio.ensure_future(table.group.run(break_the_transaction))
    for task in (other, breaking):
        with pytest.raises(sqlite3.OperationalError):
            await task
    assert await table.insert("later") == "later"  # the next transaction works
    assert table.committed() == ["later"]


async def test_a_caller_that_gave_up_before_its_turn_writes_nothing(table: Table) -> None:
    async with table.lock:  # hold the transaction back
        task = asyncio.ensure_future(table.insert("never"))
        await asyncio.sleep(0.01)
        task.cancel()
    await table.group.drain()
    assert table.committed() == []


async def test_a_transaction_that_cannot_begin_fails_the_waiting_writes_at_once(
    table: Table,
) -> None:
    assert table.writer is not None
    await table.writer.close()  # BEGIN will fail: every queued write must hear so
    results = await asyncio.gather(
        *(table.insert(f"v{n}") for n in range(5)), return_exceptions=True
    )
    assert all(isinstance(result, ValueError) for result in results), results
    table.writer = await aiosqlite.connect(table.path, isolation_level=None)
    assert await table.insert("later") == "later"


async def test_a_single_statement_write_that_fails_undoes_itself_without_a_savepoint(
    single_table: Table,
) -> None:
    # SQLite undoes a failed statement alone: a one-statement write is grouped with no
    # savepoint, and its failure still leaves the others of its transaction whole.
    table = single_table
    assert table.writer is not None
    statements: list[str] = []
    await table.writer.set_trace_callback(statements.append)

    def single(value: str) -> asyncio.Future[str]:
        async def work(db: aiosqlite.Connection) -> str:
            await db.execute("INSERT INTO t (value) VALUES (?)", (value,))
            return value

        return asyncio.ensure_future(table.group.run(work, single=True))

    first, failing, last = single("a"), single("a"), single("b")  # UNIQUE: the second fails
    with pytest.raises(sqlite3.IntegrityError):
        await failing
    assert (await first, await last) == ("a", "b")
    assert table.committed() == ["a", "b"]
    assert table.group.transactions == 1
    assert not any("SAVEPOINT" in statement for statement in statements)


async def test_a_single_write_that_took_the_transaction_with_it_fails_the_others(
    single_table: Table,
) -> None:
    # A grave error (a full disk) makes SQLite roll back the whole transaction: the
    # writes before it in the group are gone too, and must hear so, not be told saved.
    table = single_table

    async def grave(db: aiosqlite.Connection) -> None:
        await db.execute("ROLLBACK")  # what SQLite does itself on such an error
        raise sqlite3.OperationalError("database or disk is full")

    before = asyncio.ensure_future(table.insert("before"))
    failing = asyncio.ensure_future(table.group.run(grave, single=True))
    after = asyncio.ensure_future(table.insert("after"))
    for task in (before, failing):
        with pytest.raises(sqlite3.OperationalError):
            await task
    # The write queued after it goes in the next transaction, and is told the truth.
    assert await after == "after"
    assert table.committed() == ["after"]
