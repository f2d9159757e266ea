"""The outbox and the notifiers' state on SQLite: one domain of ``SQLiteStore``, kept
apart from its feeds and items (``sqlite.py``). The connections, the write lock and the
claim rule are the store's own; this part declares what it uses of them."""

from __future__ import annotations

import sqlite3
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from contextlib import AbstractAsyncContextManager
from datetime import datetime, timedelta
from typing import ClassVar

import aiosqlite

from monitor.models import DeliveryStatus, Message, MessageKind, NotifierState, OutboxSummary
from monitor.store.errors import translated
from monitor.store.group_commit import GroupCommit
from monitor.store.rows import (
    CONTAINER_KINDS,
    DELIVERY_SELECT,
    delivery_from_row,
    from_epoch,
    from_epoch_required,
    in_chunks,
    new_message_id,
    placeholders,
    to_epoch,
)


class SQLiteOutbox(ABC):
    """Messages in the outbox (claimed, sent, failed, folded, retried) and notifiers
    disabled by their receivers."""

    # ValueError: aiosqlite's "no active connection" after a failed close.
    driver_errors: ClassVar[tuple[type[BaseException], ...]] = (
        sqlite3.Error,
        OSError,
        ValueError,
    )
    path: str
    _owner: str | None
    _grouped: GroupCommit[aiosqlite.Connection]

    @property
    def shown(self) -> str:
        """The database file, as errors name it."""
        return self.path

    @property
    @abstractmethod
    def _read(self) -> aiosqlite.Connection:
        """The reading connection."""

    @abstractmethod
    def _transaction(self) -> AbstractAsyncContextManager[aiosqlite.Connection]:
        """A write transaction under the store's write lock."""

    @abstractmethod
    async def _check_claim(
        self, db: aiosqlite.Connection, table: str, row_id: int, claim: int | None = None
    ) -> None:
        """Refuse (LeaseLost) a write finishing work another instance holds now."""

    # -- deliveries --------------------------------------------------------------------

    @translated
    async def claim_due_deliveries(
        self, now: datetime, limit: int, lease: timedelta, *, notifier: str | None = None
    ) -> list[Message]:
        """Lease due messages of enabled notifiers (or of one) and count the attempt
        before it is made."""
        async with self._transaction() as db:
            async with db.execute(
                "SELECT id FROM deliveries WHERE status = 'pending' AND next_attempt_at <= ?"
                " AND (? IS NULL OR notifier = ?) AND notifier NOT IN"
                " (SELECT name FROM notifier_state WHERE disabled_at IS NOT NULL)"
                " ORDER BY next_attempt_at, id LIMIT ?",
                (to_epoch(now), notifier, notifier, limit),
            ) as cursor:
                ids = [row[0] for row in await cursor.fetchall()]
            if not ids:
                return []
            until = to_epoch(now + lease)
            await db.execute(
                f"UPDATE deliveries SET attempts = attempts + 1, next_attempt_at = ?,"
                f" lease_until = ?, claimed_by = ? WHERE id IN ({placeholders(ids)})",
                (until, until, self._owner, *ids),
            )
            return await self._messages(db, ids)

    async def _messages(self, db: aiosqlite.Connection, ids: Sequence[int]) -> list[Message]:
        """The messages with these ids, in id order, rollups and digests with members."""
        async with db.execute(
            f"{DELIVERY_SELECT} WHERE d.id IN ({placeholders(ids)}) ORDER BY d.id", ids
        ) as cursor:
            rows = list(await cursor.fetchall())
        containers = [row["delivery_id"] for row in rows if row["kind"] in CONTAINER_KINDS]
        members: dict[int, list[Message]] = {}
        for chunk in in_chunks(containers):
            async with db.execute(
                f"{DELIVERY_SELECT} WHERE d.parent_id IN ({placeholders(chunk)}) ORDER BY d.id",
                chunk,
            ) as cursor:
                for row in await cursor.fetchall():
                    members.setdefault(row["parent_id"], []).append(delivery_from_row(row))
        return [delivery_from_row(row, members.get(row["delivery_id"], ())) for row in rows]

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
        """Fold alerts and follow-ups into one new rollup or digest, claimed for sending.

        Besides the ``claimed`` ones, every other due, unclaimed alert of the same
        notifier and watchlist joins, so one burst makes one message, not one per batch.
        """
        async with self._transaction() as db:
            async with db.execute(
                "SELECT id FROM deliveries WHERE status = 'pending' AND notifier = ?"
                " AND watchlist = ? AND kind IN ('alert', 'follow_up') AND next_attempt_at <= ?"
                " AND claimed_by IS NULL",
                (notifier, watchlist, to_epoch(now)),
            ) as cursor:
                others = [row[0] for row in await cursor.fetchall()]
            members = sorted({*claimed, *others})
            cursor = await db.execute(
                "INSERT INTO deliveries (message_id, kind, watchlist, notifier, attempts,"
                " next_attempt_at, lease_until, created_at, claimed_by)"
                " VALUES (?, ?, ?, ?, 1, ?, ?, ?, ?)",
                (
                    new_message_id(),
                    kind.value,
                    watchlist,
                    notifier,
                    to_epoch(now + lease),
                    to_epoch(now + lease),
                    to_epoch(now),
                    self._owner,
                ),
            )
            container = cursor.lastrowid
            assert container is not None
            for chunk in in_chunks(members):
                await db.execute(
                    f"UPDATE deliveries SET status = 'folded', parent_id = ?, claimed_by = NULL,"
                    f" lease_until = NULL, attempts = MAX(attempts - 1, 0)"
                    f" WHERE id IN ({placeholders(chunk)})",
                    (container, *chunk),
                )
            (message,) = await self._messages(db, [container])
        return message

    @translated
    async def queue_notice(self, notifiers: Sequence[str], text: str, now: datetime) -> int:
        """Queue an operator notice to each of these notifiers; how many were queued."""
        async with self._transaction() as db:
            await db.executemany(
                "INSERT INTO deliveries (message_id, kind, watchlist, notifier, body,"
                " next_attempt_at, created_at) VALUES (?, 'notice', '', ?, ?, ?, ?)",
                [
                    (new_message_id(), name, text, to_epoch(now), to_epoch(now))
                    for name in notifiers
                ],
            )
        return len(notifiers)

    # -- notifiers ---------------------------------------------------------------------

    @translated
    async def disable_notifier(
        self, name: str, reason: str, settings_key: str, now: datetime
    ) -> bool:
        """Stop sending to a notifier (its queue stays); False when it already was."""
        async with self._transaction() as db:
            cursor = await db.execute(
                """
                INSERT INTO notifier_state (name, disabled_at, reason, settings_key)
                VALUES (?, ?, ?, ?)
                ON CONFLICT (name) DO UPDATE SET disabled_at = excluded.disabled_at,
                    reason = excluded.reason, settings_key = excluded.settings_key
                WHERE notifier_state.disabled_at IS NULL
                """,
                (name, to_epoch(now), reason, settings_key),
            )
            return cursor.rowcount > 0

    @translated
    async def enable_notifier(self, name: str) -> bool:
        """Send to a disabled notifier again; False when it was not disabled."""
        async with self._transaction() as db:
            cursor = await db.execute(
                "UPDATE notifier_state SET disabled_at = NULL, reason = NULL"
                " WHERE name = ? AND disabled_at IS NOT NULL",
                (name,),
            )
            return cursor.rowcount > 0

    @translated
    async def sync_notifiers(self, settings_keys: Mapping[str, str]) -> list[str]:
        """Enable the disabled notifiers whose settings changed (a new URL); their names."""
        enabled = []
        for state in await self.disabled_notifiers():
            key = settings_keys.get(state.name)
            if key is not None and key != await self._settings_key(state.name):
                await self.enable_notifier(state.name)
                enabled.append(state.name)
        return enabled

    async def _settings_key(self, name: str) -> str | None:
        async with self._read.execute(
            "SELECT settings_key FROM notifier_state WHERE name = ?", (name,)
        ) as cursor:
            row = await cursor.fetchone()
        return None if row is None else row[0]

    @translated
    async def disabled_notifiers(self) -> list[NotifierState]:
        """Notifiers the relay does not send to, oldest first."""
        async with self._read.execute(
            "SELECT name, disabled_at, reason FROM notifier_state"
            " WHERE disabled_at IS NOT NULL ORDER BY disabled_at"
        ) as cursor:
            return [
                NotifierState(row[0], from_epoch_required(row[1]), row[2] or "")
                for row in await cursor.fetchall()
            ]

    @translated
    async def mark_sent(self, delivery_id: int, now: datetime) -> None:
        """Sent deliveries stay as the record of what was said."""

        async def mark(db: aiosqlite.Connection) -> None:
            await self._check_claim(db, "deliveries", delivery_id)
            # Only a pending one: a late mark must not undo what happened since.
            await db.execute(
                "UPDATE deliveries SET status = 'sent', sent_at = ?, last_error = NULL,"
                " claimed_by = NULL, lease_until = NULL WHERE id = ? AND status = 'pending'",
                (to_epoch(now), delivery_id),
            )

        await self._grouped.run(mark)

    @translated
    async def mark_failed(self, delivery_id: int, error: str, retry_at: datetime | None) -> None:
        """Keep the last error; either schedule the retry or mark the delivery dead."""
        async with self._transaction() as db:
            await self._check_claim(db, "deliveries", delivery_id)
            if retry_at is None:
                await db.execute(
                    "UPDATE deliveries SET status = 'dead', last_error = ?, claimed_by = NULL,"
                    " lease_until = NULL WHERE id = ? AND status = 'pending'",
                    (error, delivery_id),
                )
            else:
                await db.execute(
                    "UPDATE deliveries SET last_error = ?, next_attempt_at = ?, claimed_by = NULL,"
                    " lease_until = NULL WHERE id = ? AND status = 'pending'",
                    (error, to_epoch(retry_at), delivery_id),
                )

    @translated
    async def release_deliveries(self, delivery_ids: Sequence[int], retry_at: datetime) -> None:
        """Pending again at ``retry_at``, as if never claimed."""
        if not delivery_ids:
            return
        marks = placeholders(delivery_ids)
        async with self._transaction() as db:
            await db.execute(
                f"UPDATE deliveries SET next_attempt_at = ?, attempts = MAX(attempts - 1, 0),"
                f" claimed_by = NULL, lease_until = NULL WHERE status = 'pending'"
                f" AND (claimed_by IS NULL OR claimed_by = ?) AND id IN ({marks})",
                (to_epoch(retry_at), self._owner, *delivery_ids),
            )

    @translated
    async def deliveries(
        self, status: DeliveryStatus | None = None, limit: int = 100
    ) -> list[Message]:
        """Newest first, optionally of one status."""
        where, parameters = ("WHERE d.status = ?", (status.value,)) if status else ("", ())
        async with self._read.execute(
            f"{DELIVERY_SELECT} {where} ORDER BY d.id DESC LIMIT ?", (*parameters, limit)
        ) as cursor:
            rows = list(await cursor.fetchall())
        newest_first = [row["delivery_id"] for row in rows]
        return (await self._messages(self._read, newest_first))[::-1]

    @translated
    async def outbox_summary(self) -> OutboxSummary:
        """Counts by status, and the oldest pending message's queue time."""
        async with self._read.execute(
            "SELECT count(*) FILTER (WHERE status = 'pending'),"
            " count(*) FILTER (WHERE status = 'dead'),"
            " min(created_at) FILTER (WHERE status = 'pending') FROM deliveries"
        ) as cursor:
            row = await cursor.fetchone()
        assert row is not None
        return OutboxSummary(row[0], row[1], from_epoch(row[2]))

    @translated
    async def retry_deliveries(
        self, now: datetime, *, delivery_id: int | None = None, dead: bool = False
    ) -> int:
        """Requeue one delivery (any status but sent) or every dead one."""
        if delivery_id is None and not dead:
            return 0
        condition, parameters = (
            # Not a folded one: its rollup or digest carried it already.
            ("id = ? AND status IN ('pending', 'dead')", (delivery_id,))
            if delivery_id is not None
            else ("status = 'dead'", ())
        )
        async with self._transaction() as db:
            cursor = await db.execute(
                f"UPDATE deliveries SET status = 'pending', next_attempt_at = ?, attempts = 0,"
                f" claimed_by = NULL, lease_until = NULL WHERE {condition}",
                (to_epoch(now), *parameters),
            )
            return cursor.rowcount
