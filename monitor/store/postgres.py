"""The shared store: PostgreSQL through asyncpg, for several instances on one database.

Instances claim feeds and deliveries with ``FOR UPDATE SKIP LOCKED``, each claim
recording its owner and ``lease_until``; a live instance renews its leases, so only a
dead instance's work is claimed again, once its lease has run out. Story resolution
reads the identity keys stored so far and then writes its own: two instances doing that
at once could each miss the other's copy of a story, so those transactions take one
transaction-scoped advisory lock and run one at a time (fetching and parsing, the costly
part, stay parallel). Entry keys and the one-alert-per-(watchlist, story, notifier) rule
are constraints. Every driver error leaves as a StoreError naming the database without
its password.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from importlib import resources

import asyncpg

from monitor.dedupe import StoryPolicy
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
from monitor.redact import database_shown
from monitor.store import portable, stories, story_reads, story_upkeep
from monitor.store.base import LeaseLost, Store, StoreError, reason_of
from monitor.store.errors import translated, translated_errors
from monitor.store.group_commit import GroupCommit
from monitor.store.postgres_errors import DRIVER_ERRORS, rows_changed
from monitor.store.postgres_outbox import PostgresOutbox
from monitor.store.rows import (
    Row,
    claim_refusal,
    feed_from_row,
    host_of,
    to_epoch,
)

# Advisory lock keys (any 64-bit numbers no other program on the database uses).
MIGRATION_LOCK = 0x6E6D_0001  # session lock: one instance migrates at a time
STORY_LOCK = 0x6E6D_0002  # transaction lock: one story resolution at a time
FEEDS_LOCK = 0x6E6D_0003  # transaction lock: one configuration sync at a time
HOUSEKEEPING_LOCK = 0x6E6D_0004  # session lock, tried: one instance prunes
POOL_SIZE = 8
ANALYZE_AFTER = 1_000  # identity rows written before the first statistics refresh
# A feed due longer ago than this fell due while no instance ran (see spread_overdue_feeds).
OVERDUE_AFTER = timedelta(minutes=1)
FEED_CLAIM = """
    WITH due AS (
        SELECT * FROM feeds
        WHERE enabled AND kind <> 'seed' AND gone_at IS NULL AND {due}
            AND COALESCE(host, '') NOT IN (SELECT host FROM host_holds WHERE hold_until > $1)
        ORDER BY next_poll_at, id LIMIT $2
        FOR UPDATE SKIP LOCKED
    )
    UPDATE feeds f SET next_poll_at = $3, lease_until = $3, claimed_by = $4,
        claims = f.claims + 1
    FROM due WHERE f.id = due.id
    RETURNING due.*, f.claims AS claim
"""
log = logging.getLogger(__name__)


def numbered(sql: str) -> str:
    """``?`` placeholders as asyncpg's ``$1``, ``$2``, … (the queries hold no other ``?``)."""
    parts = sql.split("?")
    return parts[0] + "".join(f"${n}{part}" for n, part in enumerate(parts[1:], start=1))


class _PostgresDb:
    """The portable queries' ``Db`` (``?`` numbered as ``$n``) on an asyncpg connection."""

    dialect = "postgresql"

    def __init__(self, connection: asyncpg.Connection) -> None:
        self.connection = connection

    async def fetch(self, sql: str, *args: object) -> Sequence[Row]:
        return list(await self.connection.fetch(numbered(sql), *args))

    async def execute(self, sql: str, *args: object) -> int:
        return rows_changed(await self.connection.execute(numbered(sql), *args))

    async def execute_each(self, sql: str, rows: Sequence[Sequence[object]]) -> int:
        statement = await self.connection.prepare(numbered(sql))
        changed = 0
        for row in rows:
            await statement.fetch(*row)
            changed += rows_changed(statement.get_statusmsg())
        return changed

    async def insert_rows(
        self, table: str, columns: Sequence[str], rows: Sequence[Sequence[object]]
    ) -> None:
        await self.connection.copy_records_to_table(table, records=rows, columns=list(columns))

    async def reserve_ids(self, table: str, count: int) -> list[int]:
        rows = await self.connection.fetch(
            f"SELECT nextval(pg_get_serial_sequence('{table}', 'id')) FROM generate_series(1, $1)",
            count,
        )
        return [row[0] for row in rows]

    async def lock_stories(self) -> None:
        # Held to commit: whoever resolves next sees these rows.
        await self.connection.execute("SELECT pg_advisory_xact_lock($1)", STORY_LOCK)

    def any_of(self, column: str) -> str:
        return f"{column} = ANY(?)"

    def as_list(self, values: Sequence[int] | Sequence[str]) -> object:
        return list(values)


class PostgresStore(PostgresOutbox, Store):
    """The Store contract on one PostgreSQL database, shared by several instances.

    ``dsn`` is a ``postgresql://`` URL; query parameters other than libpq's are server
    settings (``?search_path=news`` keeps the tables in that schema).
    """

    def __init__(
        self, dsn: str, story_policy: StoryPolicy | None = None, *, pool_size: int = POOL_SIZE
    ) -> None:
        self.dsn = dsn
        self.name = database_shown(dsn)
        self.story_policy = story_policy or StoryPolicy()
        self.pool_size = pool_size
        self._pool: asyncpg.Pool | None = None
        self._owner: str | None = None
        # Saves, poll records and sent marks queued meanwhile share one transaction.
        self._grouped = GroupCommit(self._transaction)
        # Identity rows written since the planner's statistics were last refreshed, and
        # how many there were then (see _note_growth).
        self._written_since_analyze = 0
        self._rows_at_analyze = 0
        self._analyzing: asyncio.Task[None] | None = None
        self.memory = stories.StoryMemory()
        self._log_seen = 0  # the last learning-log row counted into ``common``

    # -- connections -------------------------------------------------------------------

    async def open(self) -> None:
        """Connect and apply pending migrations (one instance at a time)."""
        try:
            self._pool = await asyncpg.create_pool(
                self.dsn, min_size=1, max_size=self.pool_size, command_timeout=60
            )
            async with self._pool.acquire() as connection:
                await self._migrate(connection)
                self._log_seen = await story_upkeep.load_learned(
                    _PostgresDb(connection), self.common
                )
        except (*DRIVER_ERRORS, ValueError) as error:
            await self.close()
            raise StoreError(f"cannot open the database {self.name}: {reason_of(error)}") from None

    async def close(self) -> None:
        """Finish queued writes and close the pool; never raises."""
        await self._grouped.drain()
        if self._analyzing is not None:
            await asyncio.wait([self._analyzing])
        pool, self._pool = self._pool, None
        if pool is not None:
            try:
                await asyncio.wait_for(pool.close(), timeout=10)
            except (*DRIVER_ERRORS, asyncio.CancelledError):
                pool.terminate()

    @property
    def pool(self) -> asyncpg.Pool:
        """The open pool (StoreError when the store is not open)."""
        if self._pool is None:
            raise StoreError(f"database {self.name}: the store is not open")
        return self._pool

    @asynccontextmanager
    async def _transaction(self) -> AsyncIterator[asyncpg.Connection]:
        async with self.pool.acquire() as connection, connection.transaction():
            yield connection

    async def _migrate(self, connection: asyncpg.Connection) -> None:
        await connection.execute("SELECT pg_advisory_lock($1)", MIGRATION_LOCK)
        try:
            await connection.execute(
                "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY,"
                " name TEXT NOT NULL, applied_at DOUBLE PRECISION NOT NULL)"
            )
            applied = {
                row[0] for row in await connection.fetch("SELECT version FROM schema_migrations")
            }
            folder = resources.files("monitor.store") / "migrations" / "postgresql"
            scripts = sorted(
                entry.name for entry in folder.iterdir() if entry.name.endswith(".sql")
            )
            for name in scripts:
                version = int(name.split("_", 1)[0])
                if version in applied:
                    continue
                async with connection.transaction():
                    await connection.execute((folder / name).read_text(encoding="utf-8"))
                    await connection.execute(
                        "INSERT INTO schema_migrations VALUES ($1, $2, $3)",
                        version,
                        name,
                        datetime.now(UTC).timestamp(),
                    )
        finally:
            await connection.execute("SELECT pg_advisory_unlock($1)", MIGRATION_LOCK)

    # -- instances ---------------------------------------------------------------------

    @translated
    async def start_instance(self, owner: str, now: datetime) -> None:
        """Claim as ``owner``. Other instances may be running: what a dead one left
        claimed is taken back when its lease runs out, not now."""
        self._owner = owner

    @translated
    async def extend_leases(self, now: datetime, lease: timedelta) -> int:
        """Push the leases of this instance's unfinished claims to ``now + lease``."""
        until = to_epoch(now + lease)
        # A row locked now is being finished (its claim released) by a write of ours in
        # flight: skipped, not waited for, so a renewal never queues behind the writes
        # (nor they behind it, in a deadlock) and the leases keep their rhythm.
        async with self._transaction() as db:
            feeds = await db.execute(
                "UPDATE feeds SET next_poll_at = $1, lease_until = $1 WHERE id IN ("
                " SELECT id FROM feeds WHERE claimed_by = $2 AND lease_until IS NOT NULL"
                " FOR UPDATE SKIP LOCKED)",
                until,
                self._owner,
            )
            deliveries = await db.execute(
                "UPDATE deliveries SET next_attempt_at = $1, lease_until = $1 WHERE id IN ("
                " SELECT id FROM deliveries WHERE claimed_by = $2 AND status = 'pending'"
                " AND lease_until IS NOT NULL FOR UPDATE SKIP LOCKED)",
                until,
                self._owner,
            )
        return rows_changed(feeds) + rows_changed(deliveries)

    async def _check_claim(
        self, db: asyncpg.Connection, table: str, row_id: int, claim: int | None = None
    ) -> None:
        """Refuse (LeaseLost) a write finishing work that was claimed again since (see
        ``claim_refusal``). It takes no lock: the write's own UPDATE checks the claim
        again (see ``_finish``), so a claim slipping in between is still caught, and a
        stale writer never waits for a row that another instance holds."""
        claims = "claims" if table == "feeds" else "0"
        row = await db.fetchrow(f"SELECT claimed_by, {claims} FROM {table} WHERE id = $1", row_id)
        current = None if row is None else (row[0], row[1])
        refusal = claim_refusal(table, row_id, current, self._owner, claim)
        if refusal is not None:
            raise LeaseLost(refusal)

    @translated
    async def spread_overdue_feeds(self, now: datetime) -> int:
        """Spread the polls of known feeds that fell due while no instance ran over
        their interval (see the SQLite store). Feeds someone holds are left alone, and
        so are feeds due only moments ago: with other instances running, those are
        simply about to be claimed."""
        async with self._transaction() as db:
            status = await db.execute(
                """
                UPDATE feeds SET poll_reason = 'spread after restart', next_poll_at = $1 +
                    interval_s * ((id * 0.6180339887) - floor(id * 0.6180339887))
                WHERE kind <> 'seed' AND enabled AND gone_at IS NULL AND claimed_by IS NULL
                    AND last_polled_at IS NOT NULL AND next_poll_at <= $2
                """,
                to_epoch(now),
                to_epoch(now - OVERDUE_AFTER),
            )
        return rows_changed(status)

    @translated
    async def check_health(self) -> None:
        """The database answers."""
        await self.pool.fetchval("SELECT 1")

    # -- feeds -------------------------------------------------------------------------

    @asynccontextmanager
    async def _portable_db(self, *, write: bool = True) -> AsyncIterator[portable.Db]:
        with translated_errors(self):
            # A read takes a pooled connection without a transaction of its own.
            async with self._transaction() if write else self.pool.acquire() as db:
                yield _PostgresDb(db)

    @translated
    async def sync_feeds(self, specs: Sequence[FeedSpec], now: datetime) -> None:
        """Upsert configured feeds; disable the ones no longer configured. Instances
        starting together sync one after the other."""
        async with self._transaction() as db:
            await db.execute("SELECT pg_advisory_xact_lock($1)", FEEDS_LOCK)
            await db.execute(
                "UPDATE feeds SET enabled = FALSE"
                " WHERE kind <> 'seed' AND NOT url = ANY($1::text[])",
                [spec.url for spec in specs],
            )
            await db.executemany(
                """
                INSERT INTO feeds (url, name, interval_s, baseline, max_alert_age_s,
                    next_poll_at, created_at, host, kind)
                VALUES ($1, $2, $3, $4, $5, $6, $6, $7, $8)
                ON CONFLICT (url) DO UPDATE SET
                    name = excluded.name, interval_s = excluded.interval_s,
                    -- read another way now: the last body must be read again
                    body_digest = CASE WHEN feeds.kind = excluded.kind
                                  THEN feeds.body_digest END,
                    etag = CASE WHEN feeds.kind = excluded.kind THEN feeds.etag END,
                    last_modified = CASE WHEN feeds.kind = excluded.kind
                                    THEN feeds.last_modified END,
                    kind = excluded.kind,
                    baseline = excluded.baseline,
                    max_alert_age_s = excluded.max_alert_age_s, enabled = TRUE,
                    host = CASE WHEN feeds.fetch_url IS NULL THEN excluded.host
                           ELSE feeds.host END
                """,
                [
                    (
                        spec.url,
                        spec.name,
                        spec.interval.total_seconds(),
                        spec.baseline,
                        None if spec.max_alert_age is None else spec.max_alert_age.total_seconds(),
                        to_epoch(now),
                        host_of(spec.url),
                        spec.kind,
                    )
                    for spec in specs
                ],
            )

    @translated
    async def feeds(self) -> list[FeedState]:
        """Enabled feeds in configuration order."""
        rows = await self.pool.fetch(
            "SELECT * FROM feeds WHERE enabled AND kind <> 'seed' ORDER BY id"
        )
        return [feed_from_row(row) for row in rows]

    @translated
    async def claim_due_feeds(
        self, now: datetime, limit: int, lease: timedelta, *, all_feeds: bool = False
    ) -> list[FeedState]:
        """Claim due feeds no one else holds; ``all_feeds`` takes every feed that no
        other instance's live lease holds, due or not."""
        due = (
            "(lease_until IS NULL OR lease_until <= $1 OR claimed_by IS NOT DISTINCT FROM $4)"
            if all_feeds
            else "next_poll_at <= $1"
        )
        async with self._transaction() as db:
            rows = await db.fetch(
                FEED_CLAIM.format(due=due),
                to_epoch(now),
                limit,
                to_epoch(now + lease),
                self._owner,
            )
        # Each as it was before the claim, carrying the claim itself.
        claimed = [replace(feed_from_row(row), claim=row["claim"]) for row in rows]
        return sorted(claimed, key=lambda feed: (feed.next_poll_at, feed.id))

    @translated
    async def recent_entries(self, feed_id: int, limit: int) -> dict[str, int | None]:
        """The entry keys (and stored versions' digests) of a feed's newest items."""
        async with self.pool.acquire() as connection:
            return await story_reads.recent_entries(_PostgresDb(connection), feed_id, limit)

    @translated
    async def record_poll(self, feed_id: int, record: PollRecord) -> None:
        """Store validators, health and the next poll time; release the claim."""

        async def record_it(db: asyncpg.Connection) -> None:
            await self._check_claim(db, "feeds", feed_id, record.claim)
            await self._record_poll(db, feed_id, record)

        await self._grouped.run(record_it)

    async def _record_poll(self, db: asyncpg.Connection, feed_id: int, record: PollRecord) -> None:
        """The poll's record, where its claim still holds (the caller checked it first;
        ``_finish`` catches a claim that slipped in since)."""
        if record.error is None:
            changed = await db.execute(
                """
                UPDATE feeds SET last_polled_at = $1, next_poll_at = $2, last_status = $3,
                    last_error = NULL, error_count = 0, claimed_by = NULL, lease_until = NULL,
                    poll_reason = $4, etag = COALESCE($5, etag),
                    last_modified = COALESCE($6, last_modified), title = COALESCE($7, title),
                    body_digest = COALESCE($8, body_digest),
                    declared_interval_s = COALESCE($9, declared_interval_s),
                    learned_interval_s = COALESCE($10, learned_interval_s),
                    fetch_url = COALESCE($11, fetch_url), host = COALESCE($12, host)
                WHERE id = $13 AND claims = COALESCE($14, claims)
                """,
                to_epoch(record.polled_at),
                to_epoch(record.next_poll_at),
                record.status,
                record.reason,
                record.etag,
                record.last_modified,
                record.title,
                record.body_digest,
                None
                if record.declared_interval is None
                else record.declared_interval.total_seconds(),
                None
                if record.learned_interval is None
                else record.learned_interval.total_seconds(),
                record.moved_to,
                None if record.moved_to is None else host_of(record.moved_to),
                feed_id,
                record.claim,
            )
        else:
            changed = await db.execute(
                """
                UPDATE feeds SET last_polled_at = $1, next_poll_at = $2, last_status = $3,
                    last_error = $4, error_count = error_count + 1, claimed_by = NULL,
                    lease_until = NULL, poll_reason = $5,
                    gone_at = CASE WHEN $6 THEN $1 ELSE gone_at END
                WHERE id = $7 AND claims = COALESCE($8, claims)
                """,
                to_epoch(record.polled_at),
                to_epoch(record.next_poll_at),
                record.status,
                record.error,
                record.reason,
                record.gone,
                feed_id,
                record.claim,
            )
        await self._finish(db, "feeds", feed_id, record.claim, changed)
        if record.host_hold_until is not None:
            # The server asked its whole host to wait: no instance claims its feeds.
            await db.execute(
                """
                INSERT INTO host_holds (host, hold_until)
                SELECT host, $1 FROM feeds WHERE id = $2 AND host IS NOT NULL
                ON CONFLICT (host) DO UPDATE SET
                    hold_until = GREATEST(host_holds.hold_until, excluded.hold_until)
                """,
                to_epoch(record.host_hold_until),
                feed_id,
            )

    @translated
    async def mark_stale(self, feed_id: int, since: datetime | None) -> None:
        """Record that a feed went silent (or, with None, that it publishes again)."""
        await self.pool.execute(
            "UPDATE feeds SET stale_since = $1 WHERE id = $2",
            None if since is None else to_epoch(since),
            feed_id,
        )

    @translated
    async def revive_feed(self, url: str, now: datetime) -> bool:
        """Poll a gone feed again; False when it was not gone."""
        status = await self.pool.execute(
            "UPDATE feeds SET gone_at = NULL, error_count = 0, next_poll_at = $1,"
            " poll_reason = 'revived' WHERE url = $2 AND gone_at IS NOT NULL",
            to_epoch(now),
            url,
        )
        return rows_changed(status) > 0

    # -- items -------------------------------------------------------------------------

    @translated
    async def save_poll(
        self, feed_id: int, items: Sequence[NewItem], record: PollRecord, *, alert: bool
    ) -> SaveResult:
        """Items, stories, outbox rows and the poll record commit together or not at all."""

        async def save(db: asyncpg.Connection) -> SaveResult:
            await self._check_claim(db, "feeds", feed_id, record.claim)
            polled = to_epoch(record.polled_at)
            result = await self._store_items(db, feed_id, items, polled, alert)
            await self._record_poll(db, feed_id, record)
            await db.execute(
                "UPDATE feeds SET baselined_at = COALESCE(baselined_at, $1),"
                " last_new_item_at = CASE WHEN $2 THEN $1 ELSE last_new_item_at END,"
                " hub = $3, topic = $4 WHERE id = $5",
                polled,
                result.stored > 0,
                record.hub,
                record.topic,
                feed_id,
            )
            return result

        return await self._grouped.run(save)

    @translated
    async def save_pushed(
        self, feed_id: int, items: Sequence[NewItem], now: datetime, *, alert: bool
    ) -> SaveResult:
        """Items a hub pushed: stored as a poll's are, the feed's schedule untouched."""

        async def save(db: asyncpg.Connection) -> SaveResult:
            at = to_epoch(now)
            result = await self._store_items(db, feed_id, items, at, alert)
            if result.stored:
                await db.execute(
                    "UPDATE feeds SET last_new_item_at = $1 WHERE id = $2", at, feed_id
                )
            return result

        return await self._grouped.run(save)

    async def _store_items(
        self,
        db: asyncpg.Connection,
        feed_id: int,
        items: Sequence[NewItem],
        now: float,
        alert: bool,
        seed: bool = False,
    ) -> SaveResult:
        """The batch through the portable story rules (``stories.save_items``), under
        the story lock; what other instances learned meanwhile is counted first."""
        portable_db = _PostgresDb(db)
        if items:
            await portable_db.lock_stories()
            self._log_seen = await story_upkeep.learned_from_others(
                portable_db, self.common, self._log_seen, self._owner
            )
        saved = await stories.save_items(
            portable_db,
            feed_id,
            items,
            now,
            alert=alert,
            policy=self.story_policy,
            memory=self.memory,
            owner=self._owner,
            seed=seed,
        )
        self._note_growth(saved.key_rows)
        return saved.result

    def _note_growth(self, rows: int) -> None:
        """Refresh the planner's statistics each time the identity keys have doubled.

        A new database grows from nothing to millions of keys within its first pass,
        far faster than autovacuum analyzes it, and with statistics from a nearly empty
        table the planner scans every key for each lookup: a cold pass of 300 feeds
        took 80 to 140 s instead of 10. Doubling keeps it to a few cheap ANALYZEs over
        a lifetime (eleven to the first million keys).
        """
        self._written_since_analyze += rows
        if self._written_since_analyze < max(ANALYZE_AFTER, self._rows_at_analyze):
            return
        if self._analyzing is not None and not self._analyzing.done():
            return
        self._rows_at_analyze += self._written_since_analyze
        self._written_since_analyze = 0
        self._analyzing = asyncio.create_task(self._analyze(), name="analyze")

    async def _analyze(self) -> None:
        log.debug("refreshing statistics: %s identity keys written", self._rows_at_analyze)
        try:
            await self.pool.execute("ANALYZE story_keys, items, stories, deliveries")
        except (*DRIVER_ERRORS, StoreError) as error:
            log.warning("could not refresh the statistics of %s: %s", self.name, error)

    @translated
    async def items(self, limit: int | None = None) -> list[StoredItem]:
        """Newest first by first sight."""
        async with self.pool.acquire() as connection:
            return await story_reads.stored_items(_PostgresDb(connection), limit)

    @translated
    async def stories(self, limit: int = 50) -> list[Story]:
        """The newest stories, each with its items in the order they were seen."""
        async with self.pool.acquire() as connection:
            return await story_reads.newest_stories(_PostgresDb(connection), limit)

    @translated
    async def load_seed(self, source: str, items: Sequence[Item], now: datetime) -> int:
        """Seeds live under a feed of kind ``seed`` that is never polled."""
        async with self._transaction() as connection:
            db = _PostgresDb(connection)
            await db.lock_stories()
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
        sketch and keys now (under the story lock, so instances take turns)."""
        done = 0
        cutoff = to_epoch(now - self.story_policy.window)
        while True:
            async with self._transaction() as connection:
                db = _PostgresDb(connection)
                await db.lock_stories()
                count = await story_upkeep.rekey_batch(db, cutoff, self.common, self._owner)
            done += count
            if count < story_upkeep.REKEY_BATCH:
                return done

    @translated
    async def housekeeping(self, now: datetime) -> None:
        """Prune feed items' expired near-duplicate keys and the learning log (one
        instance at a time, in short transactions); PostgreSQL's autovacuum does the
        rest."""
        cutoff = to_epoch(now - self.story_policy.window)
        async with self.pool.acquire() as connection:
            if not await connection.fetchval("SELECT pg_try_advisory_lock($1)", HOUSEKEEPING_LOCK):
                return  # another instance is at it
            try:
                for number in range(story_upkeep.PRUNE_SLICES):
                    async with connection.transaction():
                        await story_upkeep.prune_slice(_PostgresDb(connection), number, cutoff)
                async with connection.transaction():
                    await story_upkeep.prune_log(
                        _PostgresDb(connection), 2 * self.common.generation_size, cutoff
                    )
            finally:
                await connection.execute("SELECT pg_advisory_unlock($1)", HOUSEKEEPING_LOCK)
