"""The one storage contract every backend fulfils; only ``store`` touches the database."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from contextlib import AbstractAsyncContextManager
from datetime import datetime, timedelta

from monitor.dedupe import StoryPolicy
from monitor.lifecycle import AsyncResource
from monitor.models import (
    DeliveryStatus,
    FeedSpec,
    FeedState,
    Item,
    Message,
    MessageKind,
    NewItem,
    NotifierState,
    OutboxSummary,
    PartState,
    PollRecord,
    SaveResult,
    StoredItem,
    Story,
    Subscription,
    SubscriptionTask,
)
from monitor.store import parts, portable, subscriptions
from monitor.store.rows import to_epoch
from monitor.store.stories import StoryMemory
from monitor.templates import CommonShingles


class StoreError(Exception):
    """The store cannot be opened or used; the message says which and why.

    It is the only exception that leaves a store: callers never see a driver's own.
    """


def reason_of(error: BaseException) -> str:
    """A driver's or the system's error as a store message says it (an OSError by its
    strerror: "No space left on device", not "[Errno 28] …")."""
    if isinstance(error, OSError):
        return error.strerror or str(error)
    return str(error) or type(error).__name__


class LeaseLost(StoreError):
    """A write that finishes claimed work came from an instance that no longer holds the
    claim (its lease ran out and another instance took the work): it is refused."""


class Store(AsyncResource, ABC):
    """Feeds with their schedule, items with their stories, and the delivery outbox."""

    #: How items are grouped into stories; a reload may replace it.
    story_policy: StoryPolicy
    #: What story resolution remembers between batches (see ``stories.StoryMemory``).
    memory: StoryMemory

    @property
    def common(self) -> CommonShingles:
        """The shingles many recent stories share, learned from the stream."""
        return self.memory.common

    @abstractmethod
    async def open(self) -> None:
        """Connect and apply pending migrations."""

    @abstractmethod
    async def close(self) -> None:
        """Release connections; safe to call twice."""

    @abstractmethod
    async def start_instance(self, owner: str, now: datetime) -> None:
        """Poll and deliver as ``owner``: claims record it, and writes that finish
        claimed work check it (LeaseLost when another instance holds the claim now).

        The embedded backend allows one instance per database (StoreError when another
        one runs), so work a previous run left claimed is due again at once; a shared
        backend leaves it to its lease.
        """

    @abstractmethod
    async def extend_leases(self, now: datetime, lease: timedelta) -> int:
        """Hold every feed and delivery this instance has claimed and not finished until
        ``now + lease``; how many. A live instance calls it well within each lease."""

    @abstractmethod
    async def spread_overdue_feeds(self, now: datetime) -> int:
        """Spread known feeds that fell due during downtime (over a minute ago) over their
        interval; a feed never polled, or due only moments ago (with other instances
        running, about to be claimed), stays due now. How many moved."""

    @abstractmethod
    async def check_health(self) -> None:
        """Raise StoreError when the store can no longer be trusted with writes
        (for a file, when its path no longer names the open database)."""

    @abstractmethod
    async def sync_feeds(self, specs: Sequence[FeedSpec], now: datetime) -> None:
        """Make the stored feeds match the configuration.

        New feeds are due now; known ones keep their schedule and validators; feeds no
        longer configured are disabled, not deleted, so their items stay known.
        """

    @abstractmethod
    async def feeds(self) -> list[FeedState]:
        """Every enabled feed."""

    @abstractmethod
    async def claim_due_feeds(
        self, now: datetime, limit: int, lease: timedelta, *, all_feeds: bool = False
    ) -> list[FeedState]:
        """Take up to ``limit`` feeds whose ``next_poll_at`` has come (or every enabled
        feed with ``all_feeds``), held by this instance until ``now + lease`` so no one
        else takes them; each as it was before the claim. Feeds another instance holds
        are skipped, not waited for."""

    @abstractmethod
    async def save_poll(
        self, feed_id: int, items: Sequence[NewItem], record: PollRecord, *, alert: bool
    ) -> SaveResult:
        """In one transaction: store the items the feed does not have yet (and the new
        versions of edited ones), attach each to a story, queue what the watchlists they
        matched decide (``alerting.decide``; nothing is sent for a baseline, without
        ``alert``), and record the poll, releasing the claim (LeaseLost: another
        instance holds it)."""

    @abstractmethod
    async def recent_entries(self, feed_id: int, limit: int) -> dict[str, int | None]:
        """The entry keys of a feed's ``limit`` most recently stored items, each with
        the digest of its stored version (None: stored before versions were kept)."""

    @abstractmethod
    async def record_poll(self, feed_id: int, record: PollRecord) -> None:
        """Record a poll that brought no items (not modified, or failed), releasing the
        claim (LeaseLost: another instance holds it)."""

    @abstractmethod
    async def mark_stale(self, feed_id: int, since: datetime | None) -> None:
        """Record that a feed went silent (None: it publishes again)."""

    @abstractmethod
    async def revive_feed(self, url: str, now: datetime) -> bool:
        """Poll a feed that answered 410 again; False when it was not gone."""

    @abstractmethod
    async def claim_due_deliveries(
        self, now: datetime, limit: int, lease: timedelta, *, notifier: str | None = None
    ) -> list[Message]:
        """Take pending deliveries that are due (only ``notifier``'s, when given),
        counting an attempt and leasing them."""

    async def due_notifiers(self, now: datetime) -> list[str]:
        """The enabled notifiers that have messages due (each one's queue is sent on
        its own, so a slow receiver never holds a fast one)."""
        async with self._portable_db(write=False) as db:
            rows = await db.fetch(
                "SELECT DISTINCT notifier FROM deliveries WHERE status = 'pending'"
                " AND next_attempt_at <= ? AND notifier NOT IN"
                " (SELECT name FROM notifier_state WHERE disabled_at IS NOT NULL)"
                " ORDER BY notifier",
                to_epoch(now),
            )
        return [row["notifier"] for row in rows]

    @abstractmethod
    async def fold_deliveries(
        self,
        kind: MessageKind,
        notifier: str,
        watchlist: str,
        claimed: Sequence[int],
        now: datetime,
        lease: timedelta,
    ) -> Message:
        """Fold the ``claimed`` alerts and follow-ups, and any other due unclaimed ones of
        this notifier and watchlist, into one new rollup or digest, claimed for sending.
        The members become ``folded``; the container is retried like any message."""

    @abstractmethod
    async def queue_notice(self, notifiers: Sequence[str], text: str, now: datetime) -> int:
        """Queue an operator notice to each notifier; how many were queued."""

    @abstractmethod
    async def disable_notifier(
        self, name: str, reason: str, settings_key: str, now: datetime
    ) -> bool:
        """Stop sending to a notifier, keeping its queue; False when it already was."""

    @abstractmethod
    async def enable_notifier(self, name: str) -> bool:
        """Send to a disabled notifier again; False when it was not disabled."""

    @abstractmethod
    async def sync_notifiers(self, settings_keys: Mapping[str, str]) -> list[str]:
        """Enable disabled notifiers whose settings key changed; their names."""

    @abstractmethod
    async def disabled_notifiers(self) -> list[NotifierState]:
        """Notifiers the relay does not send to."""

    @abstractmethod
    async def mark_sent(self, delivery_id: int, now: datetime) -> None:
        """The receiver accepted the delivery (LeaseLost: another instance holds it)."""

    @abstractmethod
    async def mark_failed(self, delivery_id: int, error: str, retry_at: datetime | None) -> None:
        """Record the failure; retry at ``retry_at``, or give up (dead) when None
        (LeaseLost: another instance holds it)."""

    @abstractmethod
    async def release_deliveries(self, delivery_ids: Sequence[int], retry_at: datetime) -> None:
        """Hand back claimed deliveries that were not tried, uncounting their attempt."""

    @abstractmethod
    async def deliveries(
        self, status: DeliveryStatus | None = None, limit: int = 100
    ) -> list[Message]:
        """Deliveries, newest first."""

    @abstractmethod
    async def outbox_summary(self) -> OutboxSummary:
        """How many messages are pending and dead, and when the oldest pending one was
        queued (for metrics and the status page)."""

    @abstractmethod
    async def retry_deliveries(
        self, now: datetime, *, delivery_id: int | None = None, dead: bool = False
    ) -> int:
        """Make one delivery (or every dead one) pending and due now; how many changed."""

    @abstractmethod
    async def items(self, limit: int | None = None) -> list[StoredItem]:
        """Stored items, newest first."""

    @abstractmethod
    async def stories(self, limit: int = 50) -> list[Story]:
        """Stories with their items, newest first."""

    @abstractmethod
    async def rekey(self, now: datetime) -> int:
        """After an upgrade: give the items of the story window that older identity rules
        stored their sketch and near-duplicate keys (safe to run at any time; nothing to
        do once done); how many items were looked at."""

    @abstractmethod
    async def housekeeping(self, now: datetime) -> None:
        """Periodic upkeep at ``now``: prune expired near-duplicate keys, checkpoint,
        refresh statistics; safe to run at any time."""

    @abstractmethod
    async def load_seed(self, source: str, items: Sequence[Item], now: datetime) -> int:
        """Store items as already known (they never alert); how many were new."""

    @abstractmethod
    async def save_pushed(
        self, feed_id: int, items: Sequence[NewItem], now: datetime, *, alert: bool
    ) -> SaveResult:
        """Store items a hub pushed as ``save_poll`` stores a poll's, in one transaction,
        leaving the feed's schedule and claim alone."""

    # -- the same SQL on every backend (store/portable.py) ------------------------------

    async def sitemap_parts(self, feed_id: int) -> dict[str, PartState]:
        """The sitemaps a source's index named at its last poll, by URL, as fetched."""
        async with self._portable_db(write=False) as db:
            return await parts.parts_of(db, feed_id)

    async def save_sitemap_parts(
        self, feed_id: int, states: Sequence[PartState], now: datetime
    ) -> None:
        """The sitemaps the source's index names now, as fetched (the others go)."""
        async with self._portable_db() as db:
            await parts.replace_parts(db, feed_id, states, now)

    # WebSub subscriptions (store/subscriptions.py)

    @abstractmethod
    def _portable_db(self, *, write: bool = True) -> AbstractAsyncContextManager[portable.Db]:
        """A connection for the portable queries (``store/portable.py``): in a write
        transaction, or with ``write=False`` for a read that need not wait for writers.
        Only StoreError leaves it."""

    async def subscription_tasks(self, now: datetime, limit: int = 100) -> list[SubscriptionTask]:
        """What to ask hubs now (subscribe, renew, unsubscribe); each task's row is held
        for a while so that no other instance asks too."""
        async with self._portable_db() as db:
            return await subscriptions.due_tasks(db, now, limit)

    async def record_subscription_request(
        self, task: SubscriptionTask, now: datetime, next_attempt_at: datetime
    ) -> None:
        """A request about to go to a hub, and when to look at the subscription again
        (recorded before it is sent: a hub may verify it before it answers)."""
        async with self._portable_db() as db:
            await subscriptions.record_request(db, task, now, next_attempt_at)

    async def subscription_request_failed(
        self, feed_id: int, error: str, retry_at: datetime
    ) -> None:
        """The hub did not take the request: why, and when to ask again."""
        async with self._portable_db() as db:
            await subscriptions.record_failure(db, feed_id, error, retry_at)

    async def subscribed_feed(self, token: str) -> tuple[Subscription, FeedState] | None:
        """The subscription whose callback URL carries ``token``, and its feed."""
        async with self._portable_db(write=False) as db:
            return await subscriptions.subscribed_feed(db, token)

    async def subscriptions(self) -> list[Subscription]:
        """Every WebSub subscription, in feed order (for ``feeds``)."""
        async with self._portable_db(write=False) as db:
            return await subscriptions.every_subscription(db)

    async def subscription_verified(
        self, feed_id: int, lease_until: datetime, renew_at: datetime
    ) -> None:
        """The hub verified the subscription: the feed is pushed until ``lease_until``
        (and polled slowly meanwhile); renew it at ``renew_at``."""
        async with self._portable_db() as db:
            await subscriptions.record_verified(db, feed_id, lease_until, renew_at)

    async def subscription_denied(self, feed_id: int, reason: str, retry_at: datetime) -> None:
        """The hub refused the subscription: polled at its own pace; ask again later."""
        async with self._portable_db() as db:
            await subscriptions.record_denied(db, feed_id, reason, retry_at)

    async def subscription_ended(self, feed_id: int) -> None:
        """The hub confirmed an unsubscription: the row goes."""
        async with self._portable_db() as db:
            await subscriptions.record_unsubscribed(db, feed_id)
