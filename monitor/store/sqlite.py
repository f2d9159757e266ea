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
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from importlib import resources
from pathlib import Path
from typing import Any

import aiosqlite

from monitor.dedupe import StoryPolicy, key_of
from monitor.models import (
    FeedSpec,
    FeedState,
    Item,
    NewItem,
    PollRecord,
    SaveResult,
    StoredItem,
    Story,
)
from monitor.store import portable, repair, stories, story_reads, story_upkeep
from monitor.store.base import LeaseLost, Store, StoreError, reason_of
from monitor.store.errors import translated, translated_errors
from monitor.store.group_commit import GroupCommit
from monitor.store.rows import (
    Row,
    claim_refusal,
    feed_from_row,
    host_of,
    to_epoch,
)
from monitor.store.sqlite_outbox import SQLiteOutbox

log = logging.getLogger(__name__)
BUSY_TIMEOUT_MS = 10_000
# A feed due longer ago than this fell due while no instance ran (see spread_overdue_feeds).
OVERDUE_AFTER = timedelta(minutes=1)


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
    """The portable queries' ``Db`` on an aiosqlite connection."""

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

    async def lock_stories(self) -> None:
        return None  # SQLite's one writer is the lock

    def any_of(self, column: str) -> str:
        return f"{column} IN (SELECT value FROM json_each(?))"

    def as_list(self, values: Sequence[int] | Sequence[str]) -> object:
        return json.dumps(list(values))


async def _thread_gone(thread: threading.Thread, within: float = 5.0) -> None:
    """Wait for ``thread`` to end, on the loop (a helper thread would outlive it)."""
    for _ in range(int(within / 0.01)):
        if not thread.is_alive():
            return
        await asyncio.sleep(0.01)


class SQLiteStore(SQLiteOutbox, Store):
    """The Store contract on one SQLite file (its outbox in ``SQLiteOutbox``)."""

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
        # Polls' saves and delivery marks queued meanwhile share one transaction.
        self._grouped = GroupCommit(self._transaction)

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

    @property
    def _read(self) -> aiosqlite.Connection:
        if self._reader is None:
            raise StoreError(f"database {self.path}: the store is not open")
        return self._reader

    @asynccontextmanager
    async def _transaction(self) -> AsyncIterator[aiosqlite.Connection]:
        if self._writer is None:
            raise StoreError(f"database {self.path}: the store is not open")
        writer = self._writer
        async with self._write_lock:
            await writer.execute("BEGIN IMMEDIATE")
            try:
                yield writer
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
    async def _portable_db(self, *, write: bool = True) -> AsyncIterator[portable.Db]:
        with translated_errors(self):
            if not write:
                yield _SQLiteDb(self._read)  # WAL: reads never wait for the writer
                return
            async with self._transaction() as db:
                yield _SQLiteDb(db)

    # -- instances ---------------------------------------------------------------------

    @translated
    async def start_instance(self, owner: str, now: datetime) -> None:
        """Take the lock file beside the database, then take back abandoned claims."""
        if self._on_disk and self._instance_lock is None:
            self._instance_lock = _lock_instance(Path(f"{self.path}.lock"), owner)
        self._owner = owner
        async with self._transaction() as db:
            # Holding the lock, we know whoever claimed these is gone.
            await db.execute(
                "UPDATE deliveries SET next_attempt_at = ?, claimed_by = NULL, lease_until = NULL"
                " WHERE status = 'pending' AND claimed_by IS NOT NULL",
                (to_epoch(now),),
            )
            await db.execute(
                "UPDATE feeds SET next_poll_at = ?, claimed_by = NULL, lease_until = NULL"
                " WHERE claimed_by IS NOT NULL",
                (to_epoch(now),),
            )

    @translated
    async def extend_leases(self, now: datetime, lease: timedelta) -> int:
        """Push the leases of this instance's unfinished claims to ``now + lease``."""
        until = to_epoch(now + lease)
        async with self._transaction() as db:
            feeds = await db.execute(
                "UPDATE feeds SET next_poll_at = ?, lease_until = ?"
                " WHERE claimed_by = ? AND lease_until IS NOT NULL",
                (until, until, self._owner),
            )
            deliveries = await db.execute(
                "UPDATE deliveries SET next_attempt_at = ?, lease_until = ?"
                " WHERE claimed_by = ? AND status = 'pending' AND lease_until IS NOT NULL",
                (until, until, self._owner),
            )
            return feeds.rowcount + deliveries.rowcount

    async def _check_claim(
        self, db: aiosqlite.Connection, table: str, row_id: int, claim: int | None = None
    ) -> None:
        """Refuse (LeaseLost) a write finishing work that was claimed again since (see
        ``claim_refusal``)."""
        claims = "claims" if table == "feeds" else "0"
        async with db.execute(
            f"SELECT claimed_by, {claims} FROM {table} WHERE id = ?", (row_id,)
        ) as cursor:
            row = await cursor.fetchone()
        current = None if row is None else (row[0], row[1])
        refusal = claim_refusal(table, row_id, current, self._owner, claim)
        if refusal is not None:
            raise LeaseLost(refusal)

    @translated
    async def spread_overdue_feeds(self, now: datetime) -> int:
        """Spread the polls of known feeds that fell due while we were down over their
        interval, so a restart does not burst every publisher at once; a feed never
        polled, or due only moments ago, stays due now. How many moved."""
        async with self._transaction() as db:
            # A fixed fraction per feed (the golden ratio's multiples mod 1) spreads
            # them evenly and the same way on every restart.
            cursor = await db.execute(
                """
                UPDATE feeds SET poll_reason = 'spread after restart', next_poll_at = ? +
                    interval_s * ((id * 0.6180339887) - CAST(id * 0.6180339887 AS INTEGER))
                WHERE kind <> 'seed' AND enabled = 1 AND gone_at IS NULL
                    AND last_polled_at IS NOT NULL AND next_poll_at <= ?
                """,
                (to_epoch(now), to_epoch(now - OVERDUE_AFTER)),
            )
            return cursor.rowcount

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

    # -- feeds -------------------------------------------------------------------------

    @translated
    async def sync_feeds(self, specs: Sequence[FeedSpec], now: datetime) -> None:
        """Upsert configured feeds; disable the ones no longer configured."""
        async with self._transaction() as db:
            await db.execute("UPDATE feeds SET enabled = 0 WHERE kind <> 'seed'")
            for spec in specs:
                await db.execute(
                    """
                    INSERT INTO feeds (url, name, interval_s, baseline, max_alert_age_s,
                        next_poll_at, created_at, host, kind)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                    ON CONFLICT (url) DO UPDATE SET
                        name = excluded.name, interval_s = excluded.interval_s,
                        -- read another way now: the last body must be read again
                        body_digest = CASE WHEN kind = excluded.kind THEN body_digest END,
                        etag = CASE WHEN kind = excluded.kind THEN etag END,
                        last_modified = CASE WHEN kind = excluded.kind THEN last_modified END,
                        kind = excluded.kind,
                        baseline = excluded.baseline,
                        max_alert_age_s = excluded.max_alert_age_s, enabled = 1,
                        -- a moved feed keeps the host it moved to
                        host = CASE WHEN fetch_url IS NULL THEN excluded.host ELSE host END
                    """,
                    (
                        spec.url,
                        spec.name,
                        spec.interval.total_seconds(),
                        int(spec.baseline),
                        None if spec.max_alert_age is None else spec.max_alert_age.total_seconds(),
                        to_epoch(now),
                        to_epoch(now),
                        host_of(spec.url),
                        spec.kind,
                    ),
                )

    @translated
    async def feeds(self) -> list[FeedState]:
        """Enabled feeds in configuration order."""
        async with self._read.execute(
            "SELECT * FROM feeds WHERE enabled = 1 AND kind <> 'seed' ORDER BY id"
        ) as cursor:
            return [feed_from_row(row) for row in await cursor.fetchall()]

    @translated
    async def claim_due_feeds(
        self, now: datetime, limit: int, lease: timedelta, *, all_feeds: bool = False
    ) -> list[FeedState]:
        """Select due feeds and push their ``next_poll_at`` by the lease in one step.

        Gone feeds are never taken, nor (even with ``all_feeds``) feeds of a host that
        asked us to wait with Retry-After."""
        due = "" if all_feeds else "AND next_poll_at <= ?"
        parameters: tuple[Any, ...] = () if all_feeds else (to_epoch(now),)
        parameters += (to_epoch(now),)
        async with self._transaction() as db:
            async with db.execute(
                "SELECT * FROM feeds WHERE enabled = 1 AND kind <> 'seed' AND gone_at IS NULL"
                f" {due} AND COALESCE(host, '') NOT IN"
                " (SELECT host FROM host_holds WHERE hold_until > ?)"
                " ORDER BY next_poll_at LIMIT ?",
                (*parameters, limit),
            ) as cursor:
                rows = await cursor.fetchall()
            until = to_epoch(now + lease)
            await db.executemany(
                "UPDATE feeds SET next_poll_at = ?, lease_until = ?, claimed_by = ?,"
                " claims = claims + 1 WHERE id = ?",
                [(until, until, self._owner, row["id"]) for row in rows],
            )
        # Each as it was before the claim, carrying the claim itself.
        return [replace(feed_from_row(row), claim=row["claims"] + 1) for row in rows]

    @translated
    async def recent_entries(self, feed_id: int, limit: int) -> dict[str, int | None]:
        """The entry keys (and stored versions' digests) of a feed's newest items."""
        return await story_reads.recent_entries(_SQLiteDb(self._read), feed_id, limit)

    @translated
    async def record_poll(self, feed_id: int, record: PollRecord) -> None:
        """Store validators, health and the next poll time."""

        async def record_it(db: aiosqlite.Connection) -> None:
            await self._check_claim(db, "feeds", feed_id, record.claim)
            await self._record_poll(db, feed_id, record)

        await self._grouped.run(record_it)

    async def _record_poll(
        self, db: aiosqlite.Connection, feed_id: int, record: PollRecord
    ) -> None:
        """The poll's record, its claim checked by the caller."""
        declared = (
            None if record.declared_interval is None else record.declared_interval.total_seconds()
        )
        if record.error is None:
            await db.execute(
                """
                UPDATE feeds SET last_polled_at = ?, next_poll_at = ?, last_status = ?,
                    last_error = NULL, error_count = 0, claimed_by = NULL, lease_until = NULL,
                    poll_reason = ?,
                    etag = COALESCE(?, etag), last_modified = COALESCE(?, last_modified),
                    title = COALESCE(?, title), body_digest = COALESCE(?, body_digest),
                    declared_interval_s = COALESCE(?, declared_interval_s),
                    learned_interval_s = COALESCE(?, learned_interval_s),
                    fetch_url = COALESCE(?, fetch_url), host = COALESCE(?, host)
                WHERE id = ?
                """,
                (
                    to_epoch(record.polled_at),
                    to_epoch(record.next_poll_at),
                    record.status,
                    record.reason,
                    record.etag,
                    record.last_modified,
                    record.title,
                    record.body_digest,
                    declared,
                    None
                    if record.learned_interval is None
                    else record.learned_interval.total_seconds(),
                    record.moved_to,
                    None if record.moved_to is None else host_of(record.moved_to),
                    feed_id,
                ),
            )
        else:
            await db.execute(
                """
                UPDATE feeds SET last_polled_at = ?, next_poll_at = ?, last_status = ?,
                    last_error = ?, error_count = error_count + 1, claimed_by = NULL,
                    lease_until = NULL, poll_reason = ?,
                    gone_at = CASE WHEN ? THEN ? ELSE gone_at END
                WHERE id = ?
                """,
                (
                    to_epoch(record.polled_at),
                    to_epoch(record.next_poll_at),
                    record.status,
                    record.error,
                    record.reason,
                    int(record.gone),
                    to_epoch(record.polled_at),
                    feed_id,
                ),
            )
        if record.host_hold_until is not None:
            # The server asked its whole host to wait: no feed of the host is claimed
            # before then (see claim_due_feeds).
            await db.execute(
                """
                INSERT INTO host_holds (host, hold_until)
                SELECT host, ? FROM feeds WHERE id = ? AND host IS NOT NULL
                ON CONFLICT (host) DO UPDATE SET
                    hold_until = MAX(hold_until, excluded.hold_until)
                """,
                (to_epoch(record.host_hold_until), feed_id),
            )

    @translated
    async def mark_stale(self, feed_id: int, since: datetime | None) -> None:
        """Record that a feed went silent (or, with None, that it publishes again)."""
        async with self._transaction() as db:
            await db.execute(
                "UPDATE feeds SET stale_since = ? WHERE id = ?",
                (None if since is None else to_epoch(since), feed_id),
            )

    @translated
    async def revive_feed(self, url: str, now: datetime) -> bool:
        """Poll a gone feed again; False when it was not gone."""
        async with self._transaction() as db:
            cursor = await db.execute(
                "UPDATE feeds SET gone_at = NULL, error_count = 0, next_poll_at = ?,"
                " poll_reason = 'revived' WHERE url = ? AND gone_at IS NOT NULL",
                (to_epoch(now), url),
            )
            return cursor.rowcount > 0

    # -- items -------------------------------------------------------------------------

    @translated
    async def save_poll(
        self, feed_id: int, items: Sequence[NewItem], record: PollRecord, *, alert: bool
    ) -> SaveResult:
        """Items, stories, outbox rows and the poll record commit together or not at all
        (in a transaction shared with the other writes queued meanwhile)."""

        async def save(db: aiosqlite.Connection) -> SaveResult:
            await self._check_claim(db, "feeds", feed_id, record.claim)
            result = await self._store_items(db, feed_id, items, to_epoch(record.polled_at), alert)
            await self._record_poll(db, feed_id, record)
            polled = to_epoch(record.polled_at)
            await db.execute(
                "UPDATE feeds SET baselined_at = COALESCE(baselined_at, ?),"
                " last_new_item_at = CASE WHEN ? THEN ? ELSE last_new_item_at END,"
                " hub = ?, topic = ? WHERE id = ?",
                (polled, result.stored > 0, polled, record.hub, record.topic, feed_id),
            )
            return result

        return await self._grouped.run(save)

    @translated
    async def save_pushed(
        self, feed_id: int, items: Sequence[NewItem], now: datetime, *, alert: bool
    ) -> SaveResult:
        """Items a hub pushed: stored as a poll's are, the feed's schedule untouched."""

        async def save(db: aiosqlite.Connection) -> SaveResult:
            at = to_epoch(now)
            result = await self._store_items(db, feed_id, items, at, alert)
            if result.stored:
                await db.execute(
                    "UPDATE feeds SET last_new_item_at = ? WHERE id = ?", (at, feed_id)
                )
            return result

        return await self._grouped.run(save)

    async def _store_items(
        self,
        db: aiosqlite.Connection,
        feed_id: int,
        items: Sequence[NewItem],
        now: float,
        alert: bool,
        seed: bool = False,
    ) -> SaveResult:
        """The batch through the portable story rules (``stories.save_items``)."""
        saved = await stories.save_items(
            _SQLiteDb(db),
            feed_id,
            items,
            now,
            alert=alert,
            policy=self.story_policy,
            memory=self.memory,
            owner=self._owner,
            seed=seed,
        )
        return saved.result

    @translated
    async def items(self, limit: int | None = None) -> list[StoredItem]:
        """Newest first by first sight."""
        return await story_reads.stored_items(_SQLiteDb(self._read), limit)

    @translated
    async def stories(self, limit: int = 50) -> list[Story]:
        """The newest stories, each with its items in the order they were seen."""
        return await story_reads.newest_stories(_SQLiteDb(self._read), limit)

    @translated
    async def load_seed(self, source: str, items: Sequence[Item], now: datetime) -> int:
        """Seeds live under a feed of kind ``seed`` that is never polled."""
        async with self._transaction() as connection:
            db = _SQLiteDb(connection)
            seed_feed = await story_upkeep.seed_feed(db, source, to_epoch(now))
            await story_upkeep.refresh_identity(db, seed_feed, items)
            new = [NewItem(item) for item in items]
            result = await self._store_items(
                connection, seed_feed, new, to_epoch(now), alert=False, seed=True
            )
        return result.stored

    @translated
    async def rekey(self, now: datetime) -> int:
        """Give the items of the story window stored under older identity rules their
        sketch and keys now; how many (see ``story_upkeep.rekey_batch``)."""
        done = 0
        cutoff = to_epoch(now - self.story_policy.window)
        while True:
            async with self._transaction() as connection:
                count = await story_upkeep.rekey_batch(
                    _SQLiteDb(connection), cutoff, self.common, self._owner
                )
            done += count
            if count < story_upkeep.REKEY_BATCH:
                return done

    @translated
    async def housekeeping(self, now: datetime) -> None:
        """Prune expired near-duplicate keys and the learning log; fold the WAL back
        into the database and refresh the planner's statistics."""
        if self._writer is None:
            raise StoreError(f"database {self.path}: the store is not open")
        cutoff = to_epoch(now - self.story_policy.window)
        for number in range(story_upkeep.PRUNE_SLICES):
            # One short transaction per slice: polls are never held up for long.
            async with self._transaction() as connection:
                await story_upkeep.prune_slice(_SQLiteDb(connection), number, cutoff)
        async with self._transaction() as connection:
            await story_upkeep.prune_log(
                _SQLiteDb(connection), 2 * self.common.generation_size, cutoff
            )
        async with self._write_lock:
            await self._writer.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            await self._writer.execute("PRAGMA optimize")
