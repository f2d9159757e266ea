"""The embedded default store: one SQLite file through aiosqlite.

WAL with ``synchronous=FULL`` so a commit survives power loss; every write runs in a
``BEGIN IMMEDIATE`` transaction on the one writer connection (taken under a lock, so
writers queue here instead of failing with SQLITE_BUSY); reads use a second connection
and never wait for the writer.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from importlib import resources
from pathlib import Path
from typing import Any

import aiosqlite

from monitor.dedupe import StoryIndex
from monitor.models import (
    Delivery,
    DeliveryStatus,
    FeedSpec,
    FeedState,
    Item,
    NewItem,
    PollRecord,
    SaveResult,
    StoredItem,
    Story,
)
from monitor.store.base import Store, StoreError
from monitor.store.sqlite_rows import (
    DELIVERY_SELECT,
    ITEM_COLUMNS,
    ITEM_INSERT_COLUMNS,
    ITEM_INSERT_MARKS,
    delivery_from_row,
    feed_from_row,
    from_epoch_required,
    in_chunks,
    item_row,
    outbox_rows,
    placeholders,
    stored_item_from_row,
    to_epoch,
)

BUSY_TIMEOUT_MS = 10_000


class SQLiteStore(Store):
    """The Store contract on one SQLite file."""

    def __init__(self, path: Path | str) -> None:
        self.path = str(path)
        self._writer: aiosqlite.Connection | None = None
        self._reader: aiosqlite.Connection | None = None
        self._write_lock = asyncio.Lock()

    async def _connect(self) -> aiosqlite.Connection:
        connection = await aiosqlite.connect(self.path, isolation_level=None)
        connection.row_factory = aiosqlite.Row
        await connection.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        await connection.execute("PRAGMA foreign_keys = ON")
        await connection.execute("PRAGMA synchronous = FULL")
        return connection

    async def open(self) -> None:
        """Create the file if needed, switch it to WAL, and migrate it."""
        try:
            if self.path != ":memory:":
                Path(self.path).parent.mkdir(parents=True, exist_ok=True)
            self._writer = await self._connect()
            await self._writer.execute("PRAGMA journal_mode = WAL")
            await self._migrate(self._writer)
            self._reader = await self._connect()
        except (OSError, sqlite3.Error) as error:
            await self.close()
            reason = error.strerror if isinstance(error, OSError) else str(error)
            raise StoreError(f"cannot open the database {self.path}: {reason}") from None

    async def close(self) -> None:
        """Close both connections."""
        for connection in (self._reader, self._writer):
            if connection is not None:
                await connection.close()
        self._reader = self._writer = None

    @property
    def _read(self) -> aiosqlite.Connection:
        if self._reader is None:
            raise RuntimeError("the store is not open")
        return self._reader

    @asynccontextmanager
    async def _transaction(self) -> AsyncIterator[aiosqlite.Connection]:
        if self._writer is None:
            raise RuntimeError("the store is not open")
        async with self._write_lock:
            await self._writer.execute("BEGIN IMMEDIATE")
            try:
                yield self._writer
            except BaseException:
                await self._writer.execute("ROLLBACK")
                raise
            await self._writer.execute("COMMIT")

    async def _migrate(self, connection: aiosqlite.Connection) -> None:
        await connection.execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations"
            " (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at REAL NOT NULL)"
        )
        async with connection.execute("SELECT version FROM schema_migrations") as cursor:
            applied = {row[0] for row in await cursor.fetchall()}
        folder = resources.files("monitor.store") / "migrations" / "sqlite"
        scripts = sorted(entry.name for entry in folder.iterdir() if entry.name.endswith(".sql"))
        for name in scripts:
            version = int(name.split("_", 1)[0])
            if version in applied:
                continue
            script = (folder / name).read_text(encoding="utf-8")
            now = datetime.now(UTC).timestamp()
            # executescript would commit first; one script keeps the step atomic.
            await connection.executescript(
                f"BEGIN IMMEDIATE;\n{script}\n"
                f"INSERT INTO schema_migrations VALUES ({version}, '{name}', {now});\nCOMMIT;"
            )

    # -- feeds -------------------------------------------------------------------------

    async def sync_feeds(self, specs: Sequence[FeedSpec], now: datetime) -> None:
        """Upsert configured feeds; disable the ones no longer configured."""
        async with self._transaction() as db:
            await db.execute("UPDATE feeds SET enabled = 0 WHERE kind = 'feed'")
            for spec in specs:
                await db.execute(
                    """
                    INSERT INTO feeds (url, name, interval_s, baseline, next_poll_at, created_at)
                    VALUES (?, ?, ?, ?, ?, ?)
                    ON CONFLICT (url) DO UPDATE SET
                        name = excluded.name, interval_s = excluded.interval_s,
                        baseline = excluded.baseline, enabled = 1
                    """,
                    (
                        spec.url,
                        spec.name,
                        spec.interval.total_seconds(),
                        int(spec.baseline),
                        to_epoch(now),
                        to_epoch(now),
                    ),
                )

    async def feeds(self) -> list[FeedState]:
        """Enabled feeds in configuration order."""
        async with self._read.execute(
            "SELECT * FROM feeds WHERE enabled = 1 AND kind = 'feed' ORDER BY id"
        ) as cursor:
            return [feed_from_row(row) for row in await cursor.fetchall()]

    async def claim_due_feeds(
        self, now: datetime, limit: int, lease: timedelta, *, all_feeds: bool = False
    ) -> list[FeedState]:
        """Select due feeds and push their ``next_poll_at`` by the lease in one step."""
        due = "" if all_feeds else "AND next_poll_at <= ?"
        parameters: tuple[Any, ...] = () if all_feeds else (to_epoch(now),)
        async with self._transaction() as db:
            async with db.execute(
                f"SELECT * FROM feeds WHERE enabled = 1 AND kind = 'feed' {due}"
                " ORDER BY next_poll_at LIMIT ?",
                (*parameters, limit),
            ) as cursor:
                rows = await cursor.fetchall()
            await db.executemany(
                "UPDATE feeds SET next_poll_at = ? WHERE id = ?",
                [(to_epoch(now + lease), row["id"]) for row in rows],
            )
        return [feed_from_row(row) for row in rows]

    async def record_poll(self, feed_id: int, record: PollRecord) -> None:
        """Store validators, health and the next poll time."""
        async with self._transaction() as db:
            await self._record_poll(db, feed_id, record)

    async def _record_poll(
        self, db: aiosqlite.Connection, feed_id: int, record: PollRecord
    ) -> None:
        if record.error is None:
            await db.execute(
                """
                UPDATE feeds SET last_polled_at = ?, next_poll_at = ?, last_status = ?,
                    last_error = NULL, error_count = 0,
                    etag = COALESCE(?, etag), last_modified = COALESCE(?, last_modified),
                    title = COALESCE(?, title), body_digest = COALESCE(?, body_digest)
                WHERE id = ?
                """,
                (
                    to_epoch(record.polled_at),
                    to_epoch(record.next_poll_at),
                    record.status,
                    record.etag,
                    record.last_modified,
                    record.title,
                    record.body_digest,
                    feed_id,
                ),
            )
        else:
            await db.execute(
                """
                UPDATE feeds SET last_polled_at = ?, next_poll_at = ?, last_status = ?,
                    last_error = ?, error_count = error_count + 1
                WHERE id = ?
                """,
                (
                    to_epoch(record.polled_at),
                    to_epoch(record.next_poll_at),
                    record.status,
                    record.error,
                    feed_id,
                ),
            )

    # -- items -------------------------------------------------------------------------

    async def save_poll(
        self, feed_id: int, items: Sequence[NewItem], record: PollRecord, *, alert: bool
    ) -> SaveResult:
        """Items, stories, outbox rows and the poll record commit together or not at all."""
        async with self._transaction() as db:
            result = await self._store_items(db, feed_id, items, to_epoch(record.polled_at), alert)
            await self._record_poll(db, feed_id, record)
            await db.execute(
                "UPDATE feeds SET baselined_at = COALESCE(baselined_at, ?) WHERE id = ?",
                (to_epoch(record.polled_at), feed_id),
            )
        return result

    async def _store_items(
        self,
        db: aiosqlite.Connection,
        feed_id: int,
        items: Sequence[NewItem],
        now: float,
        alert: bool,
    ) -> SaveResult:
        """Insert a batch in a handful of statements, not several per item.

        We hold the write lock (BEGIN IMMEDIATE), so ids can be handed out from the
        current maximum and rows inserted with executemany.
        """
        seen = await self._present_keys(db, feed_id, [new.item.entry_key for new in items])
        batch = []
        for new in items:
            if new.item.entry_key not in seen:
                seen.add(new.item.entry_key)
                batch.append(new)
        if not batch:
            return SaveResult(0, 0, 0)
        index = await self._story_index(db, feed_id, [new.item for new in batch])
        next_story = await self._next_id(db, "stories")
        next_item = await self._next_id(db, "items")
        stories: list[tuple[int, float]] = []
        rows: list[tuple[Any, ...]] = []
        outbox: list[tuple[Any, ...]] = []
        for new in batch:
            item = new.item
            story_id = index.story_of(item)
            if story_id is None:
                story_id, next_story = next_story, next_story + 1
                stories.append((story_id, now))
                if alert:
                    outbox += outbox_rows(next_item, story_id, new, now)
            index.add(item, story_id)
            rows.append(item_row(next_item, feed_id, story_id, item, now))
            next_item += 1
        await db.executemany("INSERT INTO stories (id, created_at) VALUES (?, ?)", stories)
        await db.executemany(
            f"INSERT INTO items ({ITEM_INSERT_COLUMNS}) VALUES ({ITEM_INSERT_MARKS})", rows
        )
        queued = 0
        if outbox:
            cursor = await db.executemany(
                """
                INSERT INTO deliveries (message_id, watchlist, story_id, item_id, notifier,
                    matched, next_attempt_at, created_at)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                ON CONFLICT (watchlist, story_id, notifier) DO NOTHING
                """,
                outbox,
            )
            queued = cursor.rowcount
        return SaveResult(len(rows), len(stories), queued)

    async def _present_keys(
        self, db: aiosqlite.Connection, feed_id: int, keys: Sequence[str]
    ) -> set[str]:
        present: set[str] = set()
        for chunk in in_chunks(keys):
            marks = placeholders(chunk)
            async with db.execute(
                f"SELECT entry_key FROM items WHERE feed_id = ? AND entry_key IN ({marks})",
                (feed_id, *chunk),
            ) as cursor:
                present.update(row[0] for row in await cursor.fetchall())
        return present

    async def _story_index(
        self, db: aiosqlite.Connection, feed_id: int, items: Sequence[Item]
    ) -> StoryIndex:
        """The stories the batch's links, text hashes and (other feeds') titles point to;
        the oldest item wins when several share a key."""
        index = StoryIndex()
        for column, found, keys, other_feeds in (
            ("canonical_link", index.by_link, {i.canonical_link for i in items}, False),
            ("content_hash", index.by_hash, {i.content_hash for i in items}, False),
            ("title_key", index.by_title, {i.title_key for i in items}, True),
        ):
            wanted = sorted(key for key in keys if key)
            other = " AND feed_id != ?" if other_feeds else ""
            for chunk in in_chunks(wanted):
                marks = placeholders(chunk)
                async with db.execute(
                    f"SELECT {column}, story_id FROM items WHERE {column} IN ({marks})"
                    f"{other} ORDER BY id",
                    (*chunk, *((feed_id,) if other_feeds else ())),
                ) as cursor:
                    for key, story_id in await cursor.fetchall():
                        found.setdefault(key, story_id)
        return index

    async def _next_id(self, db: aiosqlite.Connection, table: str) -> int:
        async with db.execute(f"SELECT COALESCE(MAX(id), 0) + 1 FROM {table}") as cursor:
            row = await cursor.fetchone()
        assert row is not None
        return int(row[0])

    async def items(self, limit: int | None = None) -> list[StoredItem]:
        """Newest first by first sight."""
        async with self._read.execute(
            f"SELECT {ITEM_COLUMNS} FROM items i JOIN feeds f ON f.id = i.feed_id"
            " ORDER BY i.first_seen_at DESC, i.id DESC LIMIT ?",
            (-1 if limit is None else limit,),
        ) as cursor:
            return [stored_item_from_row(row) for row in await cursor.fetchall()]

    async def stories(self, limit: int = 50) -> list[Story]:
        """The newest stories, each with its items in the order they were seen."""
        async with self._read.execute(
            "SELECT id, created_at FROM stories ORDER BY created_at DESC, id DESC LIMIT ?",
            (limit,),
        ) as cursor:
            heads = list(await cursor.fetchall())
        if not heads:
            return []
        marks = placeholders(heads)
        async with self._read.execute(
            f"SELECT {ITEM_COLUMNS} FROM items i JOIN feeds f ON f.id = i.feed_id"
            f" WHERE i.story_id IN ({marks}) ORDER BY i.id",
            [row["id"] for row in heads],
        ) as cursor:
            members = [stored_item_from_row(row) for row in await cursor.fetchall()]
        by_story: dict[int, list[StoredItem]] = {}
        for member in members:
            by_story.setdefault(member.story_id, []).append(member)
        return [
            Story(row["id"], from_epoch_required(row["created_at"]), by_story.get(row["id"], []))
            for row in heads
        ]

    async def load_seed(self, source: str, items: Sequence[Item], now: datetime) -> int:
        """Seeds live under a feed of kind ``seed`` that is never polled."""
        async with self._transaction() as db:
            await db.execute(
                """
                INSERT INTO feeds (url, kind, name, enabled, interval_s, baseline, baselined_at,
                    next_poll_at, created_at)
                VALUES (?, 'seed', 'seeds', 1, 0, 1, ?, ?, ?)
                ON CONFLICT (url) DO NOTHING
                """,
                (source, to_epoch(now), to_epoch(now), to_epoch(now)),
            )
            async with db.execute("SELECT id FROM feeds WHERE url = ?", (source,)) as cursor:
                row = await cursor.fetchone()
            assert row is not None
            new = [NewItem(item) for item in items]
            result = await self._store_items(db, row[0], new, to_epoch(now), alert=False)
        return result.stored

    async def housekeeping(self) -> None:
        """Fold the WAL back into the database and refresh the planner's statistics."""
        async with self._write_lock:
            assert self._writer is not None
            await self._writer.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            await self._writer.execute("PRAGMA optimize")

    # -- deliveries --------------------------------------------------------------------

    async def claim_due_deliveries(
        self, now: datetime, limit: int, lease: timedelta
    ) -> list[Delivery]:
        """Lease due deliveries and count the attempt before it is made."""
        async with self._transaction() as db:
            async with db.execute(
                "SELECT id FROM deliveries WHERE status = 'pending' AND next_attempt_at <= ?"
                " ORDER BY next_attempt_at, id LIMIT ?",
                (to_epoch(now), limit),
            ) as cursor:
                ids = [row[0] for row in await cursor.fetchall()]
            if not ids:
                return []
            marks = placeholders(ids)
            await db.execute(
                f"UPDATE deliveries SET attempts = attempts + 1, next_attempt_at = ?"
                f" WHERE id IN ({marks})",
                (to_epoch(now + lease), *ids),
            )
            async with db.execute(
                f"{DELIVERY_SELECT} WHERE d.id IN ({marks}) ORDER BY d.id", ids
            ) as cursor:
                return [delivery_from_row(row) for row in await cursor.fetchall()]

    async def mark_sent(self, delivery_id: int, now: datetime) -> None:
        """Sent deliveries stay as the record of what was said."""
        async with self._transaction() as db:
            await db.execute(
                "UPDATE deliveries SET status = 'sent', sent_at = ?, last_error = NULL"
                " WHERE id = ?",
                (to_epoch(now), delivery_id),
            )

    async def mark_failed(self, delivery_id: int, error: str, retry_at: datetime | None) -> None:
        """Keep the last error; either schedule the retry or mark the delivery dead."""
        async with self._transaction() as db:
            if retry_at is None:
                await db.execute(
                    "UPDATE deliveries SET status = 'dead', last_error = ? WHERE id = ?",
                    (error, delivery_id),
                )
            else:
                await db.execute(
                    "UPDATE deliveries SET last_error = ?, next_attempt_at = ? WHERE id = ?",
                    (error, to_epoch(retry_at), delivery_id),
                )

    async def release_deliveries(self, delivery_ids: Sequence[int], retry_at: datetime) -> None:
        """Pending again at ``retry_at``, as if never claimed."""
        if not delivery_ids:
            return
        marks = placeholders(delivery_ids)
        async with self._transaction() as db:
            await db.execute(
                f"UPDATE deliveries SET next_attempt_at = ?, attempts = MAX(attempts - 1, 0)"
                f" WHERE status = 'pending' AND id IN ({marks})",
                (to_epoch(retry_at), *delivery_ids),
            )

    async def deliveries(
        self, status: DeliveryStatus | None = None, limit: int = 100
    ) -> list[Delivery]:
        """Newest first, optionally of one status."""
        where, parameters = ("WHERE d.status = ?", (status.value,)) if status else ("", ())
        async with self._read.execute(
            f"{DELIVERY_SELECT} {where} ORDER BY d.id DESC LIMIT ?", (*parameters, limit)
        ) as cursor:
            return [delivery_from_row(row) for row in await cursor.fetchall()]

    async def retry_deliveries(
        self, now: datetime, *, delivery_id: int | None = None, dead: bool = False
    ) -> int:
        """Requeue one delivery (any status but sent) or every dead one."""
        if delivery_id is None and not dead:
            return 0
        condition, parameters = (
            ("id = ? AND status != 'sent'", (delivery_id,))
            if delivery_id is not None
            else ("status = 'dead'", ())
        )
        async with self._transaction() as db:
            cursor = await db.execute(
                f"UPDATE deliveries SET status = 'pending', next_attempt_at = ?, attempts = 0"
                f" WHERE {condition}",
                (to_epoch(now), *parameters),
            )
            return cursor.rowcount
