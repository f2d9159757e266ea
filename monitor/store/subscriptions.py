"""WebSub subscriptions in the store: one row per feed, the same SQL on both backends
(see ``dialect``)."""

from __future__ import annotations

import secrets
from datetime import datetime

from monitor.models import FeedState, Subscription, SubscriptionTask
from monitor.store.dialect import Db
from monitor.store.rows import Row, feed_from_row, from_epoch, to_epoch

# A feed that wants a subscription: polled, read as a feed, naming a hub and a topic.
WANTED = (
    "f.enabled = TRUE AND f.kind = 'feed' AND f.gone_at IS NULL"
    " AND f.hub IS NOT NULL AND f.topic IS NOT NULL"
)
SUBSCRIPTION_COLUMNS = (
    "s.feed_id, f.url AS feed_url, s.hub, s.topic, s.token, s.secret, s.state,"
    " s.lease_until, s.attempts, s.last_error"
)
# While one instance asks a hub, the row is not due for anyone else.
WORKING_SECONDS = 120.0
# An unsubscription the hub never confirms is forgotten after this many requests.
UNSUBSCRIBE_TRIES = 3


def subscription_from_row(row: Row) -> Subscription:
    """A ``subscriptions`` row joined with its feed's URL."""
    return Subscription(
        feed_id=row["feed_id"],
        feed_url=row["feed_url"],
        hub=row["hub"],
        topic=row["topic"],
        token=row["token"],
        secret=row["secret"],
        state=row["state"],
        lease_until=from_epoch(row["lease_until"]),
        attempts=row["attempts"],
        last_error=row["last_error"],
    )


async def due_tasks(db: Db, now: datetime, limit: int) -> list[SubscriptionTask]:
    """What to ask hubs now, each row then held for a while so no one asks twice.

    A feed that names a hub gets a subscription row (with its callback token and its
    secret) the first time it is seen here; a row is due when its time has come (a
    request unanswered, a lease ending), at once when its feed left the configuration
    (unsubscribe) or names another hub or topic now (subscribe there).
    """
    at = to_epoch(now)
    # At most ``limit`` new ones a pass: a first start with many hubbed feeds adds them
    # over a few passes, not in one long write.
    new = await db.fetch(
        "SELECT f.id, f.hub, f.topic FROM feeds f"
        f" WHERE {WANTED} AND NOT EXISTS (SELECT 1 FROM subscriptions s WHERE s.feed_id = f.id)"
        " ORDER BY f.id LIMIT ?",
        limit,
    )
    for row in new:
        await db.execute(
            "INSERT INTO subscriptions (feed_id, hub, topic, token, secret, state,"
            " requested_at, next_attempt_at) VALUES (?, ?, ?, ?, ?, 'requested', ?, ?)"
            # another instance may have added it meanwhile: then it is that one's
            " ON CONFLICT (feed_id) DO NOTHING",
            row["id"],
            row["hub"],
            row["topic"],
            secrets.token_urlsafe(18),
            secrets.token_urlsafe(32),
            at,
            at,
        )
    rows = await db.fetch(
        f"SELECT {SUBSCRIPTION_COLUMNS}, s.next_attempt_at,"
        f" f.hub AS feed_hub, f.topic AS feed_topic, ({WANTED}) AS wanted"
        " FROM subscriptions s JOIN feeds f ON f.id = s.feed_id"
        f" WHERE s.next_attempt_at <= ?"
        f" OR (NOT ({WANTED}) AND s.state <> 'unsubscribing')"
        f" OR (({WANTED}) AND (s.hub <> f.hub OR s.topic <> f.topic))"
        " ORDER BY s.next_attempt_at LIMIT ?",
        at,
        limit,
    )
    tasks = []
    for row in rows:
        subscription = subscription_from_row(row)
        if (
            not row["wanted"]
            and subscription.state == "unsubscribing"
            and subscription.attempts >= UNSUBSCRIBE_TRIES
        ):
            await _forget(db, subscription.feed_id)
            continue
        # Held only if no other instance took it since it was read (compare and set:
        # a second instance's update waits for the first and then changes nothing).
        held = await db.execute(
            "UPDATE subscriptions SET next_attempt_at = ?"
            " WHERE feed_id = ? AND next_attempt_at = ?",
            at + WORKING_SECONDS,
            subscription.feed_id,
            row["next_attempt_at"],
        )
        if not held:
            continue
        if row["wanted"]:
            tasks.append(
                SubscriptionTask("subscribe", subscription, row["feed_hub"], row["feed_topic"])
            )
        else:
            tasks.append(
                SubscriptionTask("unsubscribe", subscription, subscription.hub, subscription.topic)
            )
    return tasks


async def record_request(
    db: Db, task: SubscriptionTask, now: datetime, next_attempt_at: datetime
) -> None:
    """A request about to go to a hub; recorded first, since a hub may verify it before
    it answers. A subscription keeps its state while its renewal waits for the hub."""
    subscribing = task.action == "subscribe"
    await db.execute(
        "UPDATE subscriptions SET hub = ?, topic = ?, requested_at = ?, next_attempt_at = ?,"
        # requests in a row of one kind: unsubscribing after subscribing counts from 1
        " attempts = CASE WHEN ? = (state = 'unsubscribing') THEN attempts + 1 ELSE 1 END,"
        " state = CASE WHEN ? THEN (CASE WHEN state = 'active' THEN 'active' ELSE 'requested' END)"
        " ELSE 'unsubscribing' END"
        " WHERE feed_id = ?",
        task.hub,
        task.topic,
        to_epoch(now),
        to_epoch(next_attempt_at),
        not subscribing,
        subscribing,
        task.subscription.feed_id,
    )
    if not subscribing:
        await _set_push_until(db, task.subscription.feed_id, None)


async def record_failure(db: Db, feed_id: int, error: str, retry_at: datetime) -> None:
    """The hub did not take the request: why, and when to ask again."""
    await db.execute(
        "UPDATE subscriptions SET last_error = ?, next_attempt_at = ? WHERE feed_id = ?",
        error,
        to_epoch(retry_at),
        feed_id,
    )


async def subscribed_feed(db: Db, token: str) -> tuple[Subscription, FeedState] | None:
    """The subscription a callback URL names, and its feed."""
    rows = await db.fetch(
        f"SELECT {SUBSCRIPTION_COLUMNS} FROM subscriptions s JOIN feeds f ON f.id = s.feed_id"
        " WHERE s.token = ?",
        token,
    )
    if not rows:
        return None
    subscription = subscription_from_row(rows[0])
    feeds = await db.fetch("SELECT * FROM feeds WHERE id = ?", subscription.feed_id)
    return subscription, feed_from_row(feeds[0])


async def every_subscription(db: Db) -> list[Subscription]:
    """Every subscription, in feed order."""
    rows = await db.fetch(
        f"SELECT {SUBSCRIPTION_COLUMNS} FROM subscriptions s JOIN feeds f ON f.id = s.feed_id"
        " ORDER BY s.feed_id"
    )
    return [subscription_from_row(row) for row in rows]


async def record_verified(db: Db, feed_id: int, lease_until: datetime, renew_at: datetime) -> None:
    """The hub verified our subscription: it pushes until ``lease_until``."""
    await db.execute(
        "UPDATE subscriptions SET state = 'active', lease_until = ?, next_attempt_at = ?,"
        " attempts = 0, last_error = NULL WHERE feed_id = ?",
        to_epoch(lease_until),
        to_epoch(renew_at),
        feed_id,
    )
    await _set_push_until(db, feed_id, lease_until)


async def record_denied(db: Db, feed_id: int, reason: str, retry_at: datetime) -> None:
    """The hub refused (or ended) our subscription: polling alone until ``retry_at``."""
    await db.execute(
        "UPDATE subscriptions SET state = 'denied', lease_until = NULL, next_attempt_at = ?,"
        " attempts = attempts + 1, last_error = ? WHERE feed_id = ?",
        to_epoch(retry_at),
        reason,
        feed_id,
    )
    await _set_push_until(db, feed_id, None)


async def record_unsubscribed(db: Db, feed_id: int) -> None:
    """The hub confirmed it stops: the subscription is gone."""
    await _forget(db, feed_id)


async def _forget(db: Db, feed_id: int) -> None:
    await db.execute("DELETE FROM subscriptions WHERE feed_id = ?", feed_id)
    await _set_push_until(db, feed_id, None)


async def _set_push_until(db: Db, feed_id: int, until: datetime | None) -> None:
    await db.execute(
        "UPDATE feeds SET push_until = ? WHERE id = ?",
        None if until is None else to_epoch(until),
        feed_id,
    )
