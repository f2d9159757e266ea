"""The outbox and the notifiers' state on PostgreSQL: one domain of ``PostgresStore``,
kept apart from its feeds and items (``postgres.py``). The pool, the transactions and
the claim rule are the store's own; this part declares what it uses of them."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from contextlib import AbstractAsyncContextManager
from datetime import datetime, timedelta
from typing import Any, ClassVar

import asyncpg

from monitor.models import DeliveryStatus, Message, MessageKind, NotifierState, OutboxSummary
from monitor.store.errors import translated
from monitor.store.group_commit import GroupCommit
from monitor.store.postgres_errors import DRIVER_ERRORS, rows_changed
from monitor.store.rows import (
    CONTAINER_KINDS,
    DELIVERY_SELECT,
    delivery_from_row,
    from_epoch,
    from_epoch_required,
    new_message_id,
    to_epoch,
)

# A delivery this instance may finish: unclaimed, or claimed by it ($3 is the owner).
HELD_BY_US = "(claimed_by IS NULL OR claimed_by = $3)"


class PostgresOutbox(ABC):
    """Messages in the outbox (claimed, sent, failed, folded, retried) and notifiers
    disabled by their receivers."""

    driver_errors: ClassVar[tuple[type[BaseException], ...]] = DRIVER_ERRORS
    name: str
    _owner: str | None
    _grouped: GroupCommit[asyncpg.Connection]

    @property
    def shown(self) -> str:
        """The database's URL without its password, as errors name it."""
        return self.name

    @property
    @abstractmethod
    def pool(self) -> asyncpg.Pool:
        """The open pool."""

    @abstractmethod
    def _transaction(self) -> AbstractAsyncContextManager[asyncpg.Connection]:
        """A transaction on a pooled connection."""

    @abstractmethod
    async def _check_claim(
        self, db: asyncpg.Connection, table: str, row_id: int, claim: int | None = None
    ) -> None:
        """Refuse (LeaseLost) a write finishing work another instance holds now."""

    async def _finish(
        self,
        db: asyncpg.Connection,
        table: str,
        row_id: int,
        claim: int | None,
        status: str,
    ) -> None:
        """After an UPDATE that finishes claimed work only where the claim still holds:
        when it changed no row, say why (LeaseLost), unless there was nothing to do."""
        if rows_changed(status) == 0:
            await self._check_claim(db, table, row_id, claim)

    # -- deliveries --------------------------------------------------------------------

    @translated
    async def claim_due_deliveries(
        self, now: datetime, limit: int, lease: timedelta, *, notifier: str | None = None
    ) -> list[Message]:
        """Lease due messages of enabled notifiers (or of one) that no one else holds,
        counting the attempt before it is made."""
        async with self._transaction() as db:
            rows = await db.fetch(
                """
                WITH due AS (
                    SELECT id FROM deliveries
                    WHERE status = 'pending' AND next_attempt_at <= $1
                        AND ($5::text IS NULL OR notifier = $5) AND notifier NOT IN
                        (SELECT name FROM notifier_state WHERE disabled_at IS NOT NULL)
                    ORDER BY next_attempt_at, id LIMIT $2
                    FOR UPDATE SKIP LOCKED
                )
                UPDATE deliveries d SET attempts = attempts + 1, next_attempt_at = $3,
                    lease_until = $3, claimed_by = $4
                FROM due WHERE d.id = due.id
                RETURNING d.id
                """,
                to_epoch(now),
                limit,
                to_epoch(now + lease),
                self._owner,
                notifier,
            )
            if not rows:
                return []
            return await self._messages(db, sorted(row[0] for row in rows))

    async def _messages(self, db: Any, ids: Sequence[int]) -> list[Message]:
        """The messages with these ids, in the order given, rollups and digests with
        their members."""
        rows = await db.fetch(f"{DELIVERY_SELECT} WHERE d.id = ANY($1::bigint[])", list(ids))
        by_id = {row["delivery_id"]: row for row in rows}
        containers = [row["delivery_id"] for row in rows if row["kind"] in CONTAINER_KINDS]
        members: dict[int, list[Message]] = {}
        if containers:
            for row in await db.fetch(
                f"{DELIVERY_SELECT} WHERE d.parent_id = ANY($1::bigint[]) ORDER BY d.id",
                containers,
            ):
                members.setdefault(row["parent_id"], []).append(delivery_from_row(row))
        return [
            delivery_from_row(by_id[message], members.get(message, ()))
            for message in ids
            if message in by_id
        ]

    @translated
    async def fold_deliveries(
        self,
        kind: MessageKind,
        notifier: str,
        watchlist: str,
        claimed: Sequence[int],
        now: datetime,
        lease: timedelta,
    ) -> Message:
        """Fold alerts and follow-ups into one new rollup or digest, claimed for sending:
        the ``claimed`` ones and every other due one of this notifier and watchlist that
        no instance holds."""
        async with self._transaction() as db:
            others = await db.fetch(
                "SELECT id FROM deliveries WHERE status = 'pending' AND notifier = $1"
                " AND watchlist = $2 AND kind IN ('alert', 'follow_up') AND next_attempt_at <= $3"
                " AND claimed_by IS NULL FOR UPDATE SKIP LOCKED",
                notifier,
                watchlist,
                to_epoch(now),
            )
            members = sorted({*claimed, *(row[0] for row in others)})
            container = await db.fetchval(
                "INSERT INTO deliveries (message_id, kind, watchlist, notifier, attempts,"
                " next_attempt_at, lease_until, created_at, claimed_by)"
                " VALUES ($1, $2, $3, $4, 1, $5, $5, $6, $7) RETURNING id",
                new_message_id(),
                kind.value,
                watchlist,
                notifier,
                to_epoch(now + lease),
                to_epoch(now),
                self._owner,
            )
            await db.execute(
                "UPDATE deliveries SET status = 'folded', parent_id = $1, claimed_by = NULL,"
                " lease_until = NULL, attempts = GREATEST(attempts - 1, 0)"
                " WHERE id = ANY($2::bigint[])",
                container,
                members,
            )
            (message,) = await self._messages(db, [container])
        return message

    @translated
    async def queue_notice(self, notifiers: Sequence[str], text: str, now: datetime) -> int:
        """Queue an operator notice to each of these notifiers; how many were queued."""
        async with self._transaction() as db:
            await db.executemany(
                "INSERT INTO deliveries (message_id, kind, watchlist, notifier, body,"
                " next_attempt_at, created_at) VALUES ($1, 'notice', '', $2, $3, $4, $4)",
                [(new_message_id(), name, text, to_epoch(now)) for name in notifiers],
            )
        return len(notifiers)

    # -- notifiers ---------------------------------------------------------------------

    @translated
    async def disable_notifier(
        self, name: str, reason: str, settings_key: str, now: datetime
    ) -> bool:
        """Stop sending to a notifier (its queue stays); False when it already was."""
        status = await self.pool.execute(
            """
            INSERT INTO notifier_state (name, disabled_at, reason, settings_key)
            VALUES ($1, $2, $3, $4)
            ON CONFLICT (name) DO UPDATE SET disabled_at = excluded.disabled_at,
                reason = excluded.reason, settings_key = excluded.settings_key
            WHERE notifier_state.disabled_at IS NULL
            """,
            name,
            to_epoch(now),
            reason,
            settings_key,
        )
        return rows_changed(status) > 0

    @translated
    async def enable_notifier(self, name: str) -> bool:
        """Send to a disabled notifier again; False when it was not disabled."""
        status = await self.pool.execute(
            "UPDATE notifier_state SET disabled_at = NULL, reason = NULL"
            " WHERE name = $1 AND disabled_at IS NOT NULL",
            name,
        )
        return rows_changed(status) > 0

    @translated
    async def sync_notifiers(self, settings_keys: Mapping[str, str]) -> list[str]:
        """Enable the disabled notifiers whose settings changed (a new URL); their names."""
        enabled = []
        for row in await self.pool.fetch(
            "SELECT name, settings_key FROM notifier_state WHERE disabled_at IS NOT NULL"
            " ORDER BY disabled_at"
        ):
            key = settings_keys.get(row["name"])
            if key is not None and key != row["settings_key"]:
                await self.enable_notifier(row["name"])
                enabled.append(row["name"])
        return enabled

    @translated
    async def disabled_notifiers(self) -> list[NotifierState]:
        """Notifiers the relay does not send to, oldest first."""
        rows = await self.pool.fetch(
            "SELECT name, disabled_at, reason FROM notifier_state"
            " WHERE disabled_at IS NOT NULL ORDER BY disabled_at"
        )
        return [NotifierState(row[0], from_epoch_required(row[1]), row[2] or "") for row in rows]

    @translated
    async def mark_sent(self, delivery_id: int, now: datetime) -> None:
        """Sent deliveries stay as the record of what was said."""

        async def mark(db: asyncpg.Connection) -> None:
            changed = await db.execute(
                "UPDATE deliveries SET status = 'sent', sent_at = $1, last_error = NULL,"
                " claimed_by = NULL, lease_until = NULL WHERE id = $2 AND status = 'pending'"
                f" AND {HELD_BY_US}",
                to_epoch(now),
                delivery_id,
                self._owner,
            )
            await self._finish(db, "deliveries", delivery_id, None, changed)

        await self._grouped.run(mark)

    @translated
    async def mark_failed(self, delivery_id: int, error: str, retry_at: datetime | None) -> None:
        """Keep the last error; either schedule the retry or mark the delivery dead."""
        async with self._transaction() as db:
            if retry_at is None:
                changed = await db.execute(
                    "UPDATE deliveries SET status = 'dead', last_error = $1, claimed_by = NULL,"
                    f" lease_until = NULL WHERE id = $2 AND status = 'pending' AND {HELD_BY_US}",
                    error,
                    delivery_id,
                    self._owner,
                )
            else:
                changed = await db.execute(
                    "UPDATE deliveries SET last_error = $1, next_attempt_at = $4,"
                    " claimed_by = NULL, lease_until = NULL WHERE id = $2 AND status = 'pending'"
                    f" AND {HELD_BY_US}",
                    error,
                    delivery_id,
                    self._owner,
                    to_epoch(retry_at),
                )
            await self._finish(db, "deliveries", delivery_id, None, changed)

    @translated
    async def release_deliveries(self, delivery_ids: Sequence[int], retry_at: datetime) -> None:
        """Pending again at ``retry_at``, as if never claimed (only this instance's)."""
        if not delivery_ids:
            return
        await self.pool.execute(
            "UPDATE deliveries SET next_attempt_at = $1, attempts = GREATEST(attempts - 1, 0),"
            " claimed_by = NULL, lease_until = NULL WHERE status = 'pending'"
            " AND (claimed_by IS NULL OR claimed_by = $2) AND id = ANY($3::bigint[])",
            to_epoch(retry_at),
            self._owner,
            list(delivery_ids),
        )

    @translated
    async def deliveries(
        self, status: DeliveryStatus | None = None, limit: int = 100
    ) -> list[Message]:
        """Newest first, optionally of one status."""
        rows = await self.pool.fetch(
            "SELECT id FROM deliveries WHERE $1::text IS NULL OR status = $1"
            " ORDER BY id DESC LIMIT $2",
            None if status is None else status.value,
            limit,
        )
        async with self.pool.acquire() as connection:
            return await self._messages(connection, [row[0] for row in rows])

    @translated
    async def outbox_summary(self) -> OutboxSummary:
        """Counts by status, and the oldest pending message's queue time."""
        row = await self.pool.fetchrow(
            "SELECT count(*) FILTER (WHERE status = 'pending'),"
            " count(*) FILTER (WHERE status = 'dead'),"
            " min(created_at) FILTER (WHERE status = 'pending') FROM deliveries"
        )
        assert row is not None
        return OutboxSummary(row[0], row[1], from_epoch(row[2]))

    @translated
    async def retry_deliveries(
        self, now: datetime, *, delivery_id: int | None = None, dead: bool = False
    ) -> int:
        """Requeue one delivery (any status but sent or folded) or every dead one."""
        if delivery_id is None and not dead:
            return 0
        reset = (
            "UPDATE deliveries SET status = 'pending', next_attempt_at = $1, attempts = 0,"
            " claimed_by = NULL, lease_until = NULL WHERE "
        )
        if delivery_id is not None:
            status = await self.pool.execute(
                reset + "id = $2 AND status IN ('pending', 'dead')", to_epoch(now), delivery_id
            )
        else:
            status = await self.pool.execute(reset + "status = 'dead'", to_epoch(now))
        return rows_changed(status)
