"""The embedded default store: one SQLite file through aiosqlite.

WAL with ``synchronous=FULL`` so a commit survives power loss; every write runs in a
``BEGIN IMMEDIATE`` transaction on the one writer connection (taken under a lock, so
writers queue here instead of failing with SQLITE_BUSY); reads use a second connection
and never wait for the writer. Every driver error leaves as a StoreError that says what
SQLite said ("database or disk is full", "file is not a database").
"""

from __future__ import annotations

import asyncio
import fcntl
import json
import logging
import os
import sqlite3
import threading
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager, suppress
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path
from typing import ClassVar

import aiosqlite

from monitor.dedupe import StoryPolicy, key_of
from monitor.store import repair, stories, story_upkeep
from monitor.store.base import Store
from monitor.store.dialect import Db, Lock
from monitor.store.errors import StoreError, reason_of
from monitor.store.group_commit import GroupCommit
from monitor.store.rows import Row

log = logging.getLogger(__name__)
BUSY_TIMEOUT_MS = 10_000


def _key_function(text: object) -> int:
    """``dedupe.key_of`` as SQLite calls it (migration 0010)."""
    return key_of(str(text))


async def _close_quietly(connection: aiosqlite.Connection) -> None:
    # Closing stops the connection's thread even when SQLite reports an error on close.
    with suppress(sqlite3.Error, ValueError):
        await connection.close()


def _lock_instance(path: Path, owner: str) -> int:
    """Hold an exclusive lock on ``path`` for the life of the process (or until closed).

    A lock file beside the database, not the database itself: closing any descriptor
    of the database file would drop SQLite's own locks on it.
    """
    descriptor = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        holder = os.pread(descriptor, 200, 0).decode("utf-8", "replace").strip()
        os.close(descriptor)
        raise StoreError(
            f"another news-monitor ({holder or 'unknown'}) is already running on"
            f" {path.with_suffix('')}; SQLite serves one instance (use PostgreSQL for several)"
        ) from None
    os.ftruncate(descriptor, 0)
    os.pwrite(descriptor, owner.encode(), 0)
    return descriptor


class _SQLiteDb:
    """The domains' ``Db`` on an aiosqlite connection."""

    dialect = "sqlite"

    def __init__(self, connection: aiosqlite.Connection) -> None:
        self.connection = connection
        self._next_ids: dict[str, int] = {}

    async def fetch(self, sql: str, *args: object) -> Sequence[Row]:
        async with self.connection.execute(sql, args) as cursor:
            return list(await cursor.fetchall())

    async def execute(self, sql: str, *args: object) -> int:
        cursor = await self.connection.execute(sql, args)
        return cursor.rowcount

    async def execute_each(self, sql: str, rows: Sequence[Sequence[object]]) -> int:
        cursor = await self.connection.executemany(sql, rows)
        return cursor.rowcount

    async def insert_rows(
        self, table: str, columns: Sequence[str], rows: Sequence[Sequence[object]]
    ) -> None:
        marks = ", ".join("?" * len(columns))
        await self.connection.executemany(
            f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})", rows
        )

    async def reserve_ids(self, table: str, count: int) -> list[int]:
        # The one writer holds the lock: ids follow on from the current maximum (and
        # from what this transaction reserved already).
        async with self.connection.execute(
            f"SELECT COALESCE(MAX(id), 0) + 1 FROM {table}"
        ) as cursor:
            row = await cursor.fetchone()
        assert row is not None
        first = max(int(row[0]), self._next_ids.get(table, 0))
        self._next_ids[table] = first + count
        return list(range(first, first + count))

    async def hold(self, lock: Lock) -> None:
        return None  # SQLite's one writer holds every lock already

    def greatest(self, first: str, second: str) -> str:
        return f"MAX({first}, {second})"

    def fraction(self, expression: str) -> str:
        return f"(({expression}) - CAST({expression} AS INTEGER))"

    @property
    def skip_locked(self) -> str:
        return ""  # the one writer: no row is held by anyone else

    def any_of(self, column: str) -> str:
        return f"{column} IN (SELECT value FROM json_each(?))"

    def as_list(self, values: Sequence[int] | Sequence[str]) -> object:
        return json.dumps(list(values))


def _transaction_open(db: Db) -> bool:
    """Whether the writer's transaction is still open (a grave error rolls it back)."""
    return isinstance(db, _SQLiteDb) and db.connection.in_transaction


async def _thread_gone(thread: threading.Thread, within: float = 5.0) -> None:
    """Wait for ``thread`` to end, on the loop (a helper thread would outlive it)."""
    for _ in range(int(within / 0.01)):
        if not thread.is_alive():
            return
        await asyncio.sleep(0.01)


class SQLiteStore(Store):
    """The store on one SQLite file: one instance at a time (a lock file says so)."""

    # ValueError: aiosqlite's "no active connection" after a failed close.
    driver_errors: ClassVar[tuple[type[BaseException], ...]] = (
        sqlite3.Error,
        OSError,
        ValueError,
    )
    exclusive: ClassVar[bool] = True

    def __init__(self, path: Path | str, story_policy: StoryPolicy | None = None) -> None:
        self.path = str(path)
        self.story_policy = story_policy or StoryPolicy()
        self.memory = stories.StoryMemory()
        self._writer: aiosqlite.Connection | None = None
        self._reader: aiosqlite.Connection | None = None
        self._write_lock = asyncio.Lock()
        self._owner: str | None = None
        self._instance_lock: int | None = None  # the lock file's descriptor
        self._file_identity: tuple[int, int] | None = None
        # SQLite undoes a failed statement alone: a one-statement write needs no savepoint.
        self._grouped = GroupCommit(self._transaction, intact=_transaction_open)

    @property
    def shown(self) -> str:
        """The database file, as errors name it."""
        return self.path

    async def _connect(self) -> aiosqlite.Connection:
        pending = aiosqlite.connect(self.path, isolation_level=None)
        try:
            connection = await pending
        except BaseException:
            # aiosqlite stops its thread without waiting for it; the thread then
            # answers a loop that may be closed by then ("Event loop is closed").
            await _thread_gone(pending._thread)
            raise
        try:
            connection.row_factory = aiosqlite.Row
            await connection.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            await connection.execute("PRAGMA foreign_keys = ON")
            await connection.execute("PRAGMA synchronous = FULL")
        except BaseException:
            # Its thread would otherwise keep the process alive after the error.
            await _close_quietly(connection)
            raise
        return connection

    @property
    def _on_disk(self) -> bool:
        return self.path != ":memory:" and not self.path.startswith("file:")

    async def open(self) -> None:
        """Create the file if needed, switch it to WAL, and migrate it."""
        try:
            if self._on_disk:
                Path(self.path).parent.mkdir(parents=True, exist_ok=True)
            self._writer = await self._connect()
            await self._writer.execute("PRAGMA journal_mode = WAL")
            await self._migrate(self._writer)
            self._reader = await self._connect()
            await story_upkeep.load_learned(_SQLiteDb(self._reader), self.common)
            if self._on_disk:
                stat = os.stat(self.path)
                self._file_identity = (stat.st_dev, stat.st_ino)
        except (OSError, sqlite3.Error) as error:
            await self.close()
            raise StoreError(f"cannot open the database {self.path}: {reason_of(error)}") from None

    async def close(self) -> None:
        """Close both connections and give up the instance lock; never raises."""
        await self._grouped.drain()
        for connection in (self._reader, self._writer):
            if connection is not None:
                await _close_quietly(connection)
        self._reader = self._writer = None
        if self._instance_lock is not None:
            os.close(self._instance_lock)  # closing the descriptor releases the lock
            self._instance_lock = None

    @asynccontextmanager
    async def _transaction(self) -> AsyncIterator[Db]:
        if self._writer is None:
            raise StoreError(f"database {self.path}: the store is not open")
        writer = self._writer
        async with self._write_lock:
            await writer.execute("BEGIN IMMEDIATE")
            try:
                yield _SQLiteDb(writer)
                await writer.execute("COMMIT")
            except BaseException:
                # Ids of rows that were not committed are given out again (MAX(id) + 1):
                # nothing decoded from them may stay remembered.
                self.memory.representatives.forget()
                # SQLite has already rolled back after some errors (a full disk): a
                # ROLLBACK then fails with "no transaction is active" and would hide
                # the real cause, which is the error that propagates from here.
                if writer.in_transaction:
                    with suppress(sqlite3.Error, ValueError):
                        await writer.execute("ROLLBACK")
                raise

    @asynccontextmanager
    async def _reading(self) -> AsyncIterator[Db]:
        if self._reader is None:
            raise StoreError(f"database {self.path}: the store is not open")
        yield _SQLiteDb(self._reader)  # WAL: reads never wait for the writer

    async def _take_instance(self, owner: str) -> None:
        """Take the lock file beside the database (StoreError: another instance runs)."""
        if self._on_disk and self._instance_lock is None:
            self._instance_lock = _lock_instance(Path(f"{self.path}.lock"), owner)

    async def _compact(self) -> None:
        """Fold the WAL back into the database and refresh the planner's statistics."""
        if self._writer is None:
            raise StoreError(f"database {self.path}: the store is not open")
        async with self._write_lock:
            await self._writer.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            await self._writer.execute("PRAGMA optimize")

    async def check_health(self) -> None:
        """The path must still name the file we have open: deleted or replaced under a
        running daemon, everything written from now on would vanish at exit."""
        if self._writer is None:
            raise StoreError(f"database {self.path}: the store is not open")
        if self._file_identity is None:
            return
        try:
            stat = await asyncio.to_thread(os.stat, self.path)
        except FileNotFoundError:
            stat = None
        if stat is None or (stat.st_dev, stat.st_ino) != self._file_identity:
            raise StoreError(
                f"the database file {self.path} was deleted or replaced while in use;"
                " what is written now is lost when the process exits: restore the file,"
                " or restart to start a new one"
            )

    async def _migrate(self, connection: aiosqlite.Connection) -> None:
        # Migration 0010 turns the old text keys into the integers dedupe.key_of makes.
        await connection.create_function("news_monitor_key", 1, _key_function, deterministic=True)
        await connection.execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations"
            " (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at REAL NOT NULL)"
        )
        async with connection.execute("SELECT version FROM schema_migrations") as cursor:
            applied = {row[0] for row in await cursor.fetchall()}
        folder = resources.files("monitor.store") / "migrations" / "sqlite"
        names = sorted(entry.name for entry in folder.iterdir() if entry.name.endswith(".sql"))
        scripts = [
            (int(name.split("_", 1)[0]), name, (folder / name).read_text()) for name in names
        ]
        for position, (version, name, script) in enumerate(scripts):
            if version in applied:
                continue
            # What an edited earlier migration added is added first (see repair).
            await self._repair(connection, [text for _, _, text in scripts[:position]])
            now = datetime.now(UTC).timestamp()
            # executescript would commit first; one script keeps the step atomic.
            await connection.executescript(
                f"BEGIN IMMEDIATE;\n{script}\n"
                f"INSERT INTO schema_migrations VALUES ({version}, '{name}', {now});\nCOMMIT;"
            )
        await self._repair(connection, [text for _, _, text in scripts])

    async def _repair(self, connection: aiosqlite.Connection, scripts: Sequence[str]) -> None:
        """Add what the migrations so far promise and the database lacks (a database
        made before one of them was edited)."""
        if not scripts:
            return
        reference = await asyncio.to_thread(
            repair.sqlite_reference, scripts, {"news_monitor_key": _key_function}
        )

        async def read(sql: str) -> Sequence[tuple[object, ...]]:
            async with connection.execute(sql) as cursor:
                return [tuple(row) for row in await cursor.fetchall()]

        tables = await read(
            "SELECT name, type, tbl_name, sql FROM sqlite_master WHERE sql IS NOT NULL"
        )
        infos = {
            str(row[0]): await read(f'PRAGMA table_info("{row[0]}")')
            for row in tables
            if row[1] == "table"
        }
        have = repair.sqlite_shape(
            lambda sql: tables if sql.startswith("SELECT") else infos[sql.split('"')[1]]
        )
        statements = repair.missing(have, reference)
        if not statements:
            return
        log.warning(
            "database %s lacked part of its schema (made between releases); added: %s",
            self.path,
            "; ".join(statements),
        )
        await connection.executescript("BEGIN IMMEDIATE;\n" + ";\n".join(statements) + ";\nCOMMIT;")
