"""The outbox and the notifiers' state, the same SQL on both backends (see ``dialect``):
messages claimed, sent, failed, folded into rollups and digests, retried; operator
notices; notifiers disabled by their receivers.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime

from monitor.models import DeliveryStatus, Message, MessageKind, NotifierState, OutboxSummary
from monitor.store.claims import DELIVERY_HELD, finish
from monitor.store.dialect import Db
from monitor.store.rows import (
    CONTAINER_KINDS,
    DELIVERY_SELECT,
    delivery_from_row,
    from_epoch,
    from_epoch_required,
    in_chunks,
    new_message_id,
    to_epoch,
)

# Notifiers the relay sends to: not disabled by their receivers.
SENDING = "notifier NOT IN (SELECT name FROM notifier_state WHERE disabled_at IS NOT NULL)"


async def due_notifiers(db: Db, now: datetime) -> list[str]:
    """The enabled notifiers that have messages due."""
    rows = await db.fetch(
        "SELECT DISTINCT notifier FROM deliveries WHERE status = 'pending'"
        f" AND next_attempt_at <= ? AND {SENDING} ORDER BY notifier",
        to_epoch(now),
    )
    return [row["notifier"] for row in rows]


async def claim_due(
    db: Db, now: datetime, limit: int, until: datetime, owner: str | None, notifier: str | None
) -> list[Message]:
    """Lease up to ``limit`` due messages of enabled notifiers (or of one) that no one
    else holds, counting the attempt before it is made."""
    rows = await db.fetch(
        "SELECT id FROM deliveries WHERE status = 'pending' AND next_attempt_at <= ?"
        f" AND (CAST(? AS TEXT) IS NULL OR notifier = ?) AND {SENDING}"
        f" ORDER BY next_attempt_at, id LIMIT ?{db.skip_locked}",
        to_epoch(now),
        notifier,
        notifier,
        limit,
    )
    ids = sorted(row["id"] for row in rows)
    if not ids:
        return []
    leased = to_epoch(until)
    await db.execute(
        "UPDATE deliveries SET attempts = attempts + 1, next_attempt_at = ?,"
        f" lease_until = ?, claimed_by = ? WHERE {db.any_of('id')}",
        leased,
        leased,
        owner,
        db.as_list(ids),
    )
    return await messages(db, ids)


async def messages(db: Db, ids: Sequence[int]) -> list[Message]:
    """The messages with these ids, in the order given, rollups and digests with their
    members."""
    by_id = {}
    for chunk in in_chunks(ids):
        for row in await db.fetch(
            f"{DELIVERY_SELECT} WHERE {db.any_of('d.id')}", db.as_list(list(chunk))
        ):
            by_id[row["delivery_id"]] = row
    containers = [key for key, row in by_id.items() if row["kind"] in CONTAINER_KINDS]
    members: dict[int, list[Message]] = {}
    for chunk in in_chunks(containers):
        for row in await db.fetch(
            f"{DELIVERY_SELECT} WHERE {db.any_of('d.parent_id')} ORDER BY d.id",
            db.as_list(list(chunk)),
        ):
            members.setdefault(row["parent_id"], []).append(delivery_from_row(row))
    return [
        delivery_from_row(by_id[message], members.get(message, ()))
        for message in ids
        if message in by_id
    ]


async def fold(
    db: Db,
    kind: MessageKind,
    notifier: str,
    watchlist: str,
    claimed: Sequence[int],
    now: datetime,
    until: datetime,
    owner: str | None,
) -> Message:
    """Fold alerts and follow-ups into one new rollup or digest, claimed for sending.

    Besides the ``claimed`` ones, every other due one of this notifier and watchlist
    that no instance holds joins, so one burst makes one message, not one per batch.
    """
    others = await db.fetch(
        "SELECT id FROM deliveries WHERE status = 'pending' AND notifier = ?"
        " AND watchlist = ? AND kind IN ('alert', 'follow_up') AND next_attempt_at <= ?"
        f" AND claimed_by IS NULL{db.skip_locked}",
        notifier,
        watchlist,
        to_epoch(now),
    )
    members = sorted({*claimed, *(row["id"] for row in others)})
    leased = to_epoch(until)
    (row,) = await db.fetch(
        "INSERT INTO deliveries (message_id, kind, watchlist, notifier, attempts,"
        " next_attempt_at, lease_until, created_at, claimed_by)"
        " VALUES (?, ?, ?, ?, 1, ?, ?, ?, ?) RETURNING id",
        new_message_id(),
        kind.value,
        watchlist,
        notifier,
        leased,
        leased,
        to_epoch(now),
        owner,
    )
    container: int = row["id"]
    for chunk in in_chunks(members):
        await db.execute(
            "UPDATE deliveries SET status = 'folded', parent_id = ?, claimed_by = NULL,"
            f" lease_until = NULL, attempts = {db.greatest('attempts - 1', '0')}"
            f" WHERE {db.any_of('id')}",
            container,
            db.as_list(list(chunk)),
        )
    (message,) = await messages(db, [container])
    return message


async def queue_notice(db: Db, notifiers: Sequence[str], text: str, now: datetime) -> int:
    """An operator notice to each of these notifiers; how many were queued."""
    at = to_epoch(now)
    await db.execute_each(
        "INSERT INTO deliveries (message_id, kind, watchlist, notifier, body,"
        " next_attempt_at, created_at) VALUES (?, 'notice', '', ?, ?, ?, ?)",
        [(new_message_id(), name, text, at, at) for name in notifiers],
    )
    return len(notifiers)


async def mark_sent(db: Db, delivery_id: int, now: datetime, owner: str | None) -> None:
    """The receiver took the message (LeaseLost: another instance holds it now). Only
    a pending one changes: a late mark must not undo what happened since."""
    changed = await db.execute(
        "UPDATE deliveries SET status = 'sent', sent_at = ?, last_error = NULL,"
        " claimed_by = NULL, lease_until = NULL WHERE id = ? AND status = 'pending'"
        f" AND {DELIVERY_HELD}",
        to_epoch(now),
        delivery_id,
        owner,
    )
    await finish(db, "deliveries", delivery_id, owner, None, changed)


async def mark_failed(
    db: Db, delivery_id: int, error: str, retry_at: datetime | None, owner: str | None
) -> None:
    """Keep the last error; retry at ``retry_at``, or give up (dead) when None."""
    if retry_at is None:
        changed = await db.execute(
            "UPDATE deliveries SET status = 'dead', last_error = ?, claimed_by = NULL,"
            f" lease_until = NULL WHERE id = ? AND status = 'pending' AND {DELIVERY_HELD}",
            error,
            delivery_id,
            owner,
        )
    else:
        changed = await db.execute(
            "UPDATE deliveries SET last_error = ?, next_attempt_at = ?, claimed_by = NULL,"
            f" lease_until = NULL WHERE id = ? AND status = 'pending' AND {DELIVERY_HELD}",
            error,
            to_epoch(retry_at),
            delivery_id,
            owner,
        )
    await finish(db, "deliveries", delivery_id, owner, None, changed)


async def release(
    db: Db, delivery_ids: Sequence[int], retry_at: datetime, owner: str | None
) -> None:
    """Claimed messages that were not tried: pending again at ``retry_at``, their
    attempt uncounted (only this instance's)."""
    for chunk in in_chunks(delivery_ids):
        await db.execute(
            "UPDATE deliveries SET next_attempt_at = ?,"
            f" attempts = {db.greatest('attempts - 1', '0')},"
            " claimed_by = NULL, lease_until = NULL WHERE status = 'pending'"
            f" AND {DELIVERY_HELD} AND {db.any_of('id')}",
            to_epoch(retry_at),
            owner,
            db.as_list(list(chunk)),
        )


async def newest(db: Db, status: DeliveryStatus | None, limit: int) -> list[Message]:
    """Messages newest first, optionally of one status."""
    rows = await db.fetch(
        "SELECT id FROM deliveries WHERE CAST(? AS TEXT) IS NULL OR status = ?"
        " ORDER BY id DESC LIMIT ?",
        None if status is None else status.value,
        None if status is None else status.value,
        limit,
    )
    return await messages(db, [row["id"] for row in rows])


async def summary(db: Db) -> OutboxSummary:
    """How many messages are pending and dead, and the oldest pending one's queue time."""
    (row,) = await db.fetch(
        "SELECT count(*) FILTER (WHERE status = 'pending') AS pending,"
        " count(*) FILTER (WHERE status = 'dead') AS dead,"
        " min(created_at) FILTER (WHERE status = 'pending') AS oldest FROM deliveries"
    )
    return OutboxSummary(row["pending"], row["dead"], from_epoch(row["oldest"]))


async def retry(db: Db, now: datetime, delivery_id: int | None, dead: bool) -> int:
    """Requeue one message (pending or dead: a folded one's rollup or digest carried it
    already, a sent one was said) or every dead one; how many changed."""
    if delivery_id is None and not dead:
        return 0
    reset = (
        "UPDATE deliveries SET status = 'pending', next_attempt_at = ?, attempts = 0,"
        " claimed_by = NULL, lease_until = NULL WHERE "
    )
    if delivery_id is not None:
        return await db.execute(
            reset + "id = ? AND status IN ('pending', 'dead')", to_epoch(now), delivery_id
        )
    return await db.execute(reset + "status = 'dead'", to_epoch(now))


async def take_back_claims(db: Db, now: datetime) -> None:
    """Every claimed pending message is due now (its instance is known to be gone)."""
    await db.execute(
        "UPDATE deliveries SET next_attempt_at = ?, claimed_by = NULL, lease_until = NULL"
        " WHERE status = 'pending' AND claimed_by IS NOT NULL",
        to_epoch(now),
    )


async def extend_leases(db: Db, owner: str | None, until: datetime) -> int:
    """Hold the messages ``owner`` has claimed and not finished until ``until``; how
    many (rows a write in flight holds are skipped, as for feeds)."""
    held = to_epoch(until)
    return await db.execute(
        "UPDATE deliveries SET next_attempt_at = ?, lease_until = ? WHERE id IN ("
        " SELECT id FROM deliveries WHERE claimed_by = ? AND status = 'pending'"
        f" AND lease_until IS NOT NULL{db.skip_locked})",
        held,
        held,
        owner,
    )


# -- notifiers ---------------------------------------------------------------------------


async def disable_notifier(
    db: Db, name: str, reason: str, settings_key: str, now: datetime
) -> bool:
    """Stop sending to a notifier (its queue stays); False when it already was."""
    changed = await db.execute(
        """
        INSERT INTO notifier_state (name, disabled_at, reason, settings_key)
        VALUES (?, ?, ?, ?)
        ON CONFLICT (name) DO UPDATE SET disabled_at = excluded.disabled_at,
            reason = excluded.reason, settings_key = excluded.settings_key
        WHERE notifier_state.disabled_at IS NULL
        """,
        name,
        to_epoch(now),
        reason,
        settings_key,
    )
    return changed > 0


async def enable_notifier(db: Db, name: str) -> bool:
    """Send to a disabled notifier again; False when it was not disabled."""
    changed = await db.execute(
        "UPDATE notifier_state SET disabled_at = NULL, reason = NULL"
        " WHERE name = ? AND disabled_at IS NOT NULL",
        name,
    )
    return changed > 0


async def enable_changed(db: Db, settings_keys: Mapping[str, str]) -> list[str]:
    """Enable the disabled notifiers whose settings changed since (a new URL); their
    names."""
    enabled = []
    for row in await db.fetch(
        "SELECT name, settings_key FROM notifier_state WHERE disabled_at IS NOT NULL"
        " ORDER BY disabled_at"
    ):
        key = settings_keys.get(row["name"])
        if key is not None and key != row["settings_key"]:
            await enable_notifier(db, row["name"])
            enabled.append(row["name"])
    return enabled


async def disabled_notifiers(db: Db) -> list[NotifierState]:
    """Notifiers the relay does not send to, oldest first."""
    rows = await db.fetch(
        "SELECT name, disabled_at, reason FROM notifier_state"
        " WHERE disabled_at IS NOT NULL ORDER BY disabled_at"
    )
    return [
        NotifierState(row["name"], from_epoch_required(row["disabled_at"]), row["reason"] or "")
        for row in rows
    ]
