"""Narrow views of the store, one per caller: each asks for the part of the contract it
uses, so the relay depends on an outbox and the status page on reads, not on all of
``Store``. ``Store`` fulfils every one of them."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Protocol

from monitor.models import (
    DeliveryStatus,
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
from monitor.poll_days import PollDay


class PollDayWrites(Protocol):
    """Where counted polls per feed and day go (the daemon hands them in batches)."""

    async def add_poll_days(self, days: Sequence[PollDay]) -> None:
        """Add counted polls to each feed's stored days."""


class Notices(Protocol):
    """Where operator notices are queued."""

    async def queue_notice(self, notifiers: Sequence[str], text: str, now: datetime) -> int:
        """Queue an operator notice to each notifier; how many were queued."""


class ArticleStore(Protocol):
    """What reading articles asks of the store: hosts' holds, and articles read before."""

    async def host_hold(self, host: str, now: datetime) -> datetime | None:
        """Until when ``host`` asked us to wait, if it still does."""

    async def hold_host(self, host: str, until: datetime) -> None:
        """No feed or article of ``host`` is fetched before ``until``."""

    async def stored_fulltext(self, keys: Sequence[int]) -> dict[int, tuple[str, str]]:
        """Article texts (and notes) of stored items known by these links' keys."""


class PollWrites(Notices, ArticleStore, Protocol):
    """What a poll (or a push) reads and writes: the poller's view."""

    async def recent_entries(self, feed_id: int, limit: int) -> dict[str, int | None]:
        """The entry keys (and versions' digests) of a feed's newest stored items."""

    async def save_poll(
        self, feed_id: int, items: Sequence[NewItem], record: PollRecord, *, alert: bool
    ) -> SaveResult:
        """Store a poll's items and its record in one transaction."""

    async def save_pushed(
        self, feed_id: int, items: Sequence[NewItem], now: datetime, *, alert: bool
    ) -> SaveResult:
        """Store items a hub pushed, leaving the feed's schedule alone."""

    async def record_poll(self, feed_id: int, record: PollRecord) -> None:
        """Record a poll that brought no items."""

    async def mark_stale(self, feed_id: int, since: datetime | None) -> None:
        """Record that a feed went silent (None: it publishes again)."""

    async def sitemap_parts(self, feed_id: int) -> dict[str, PartState]:
        """The sitemaps a source's index named at its last poll."""

    async def save_sitemap_parts(
        self, feed_id: int, states: Sequence[PartState], now: datetime
    ) -> None:
        """The sitemaps the source's index names now."""


class Outbox(Notices, Protocol):
    """Messages to send and the notifiers' state: the relay's view."""

    async def due_notifiers(self, now: datetime) -> list[str]:
        """The enabled notifiers that have messages due."""

    async def claim_due_deliveries(
        self, now: datetime, limit: int, lease: timedelta, *, notifier: str | None = None
    ) -> list[Message]:
        """Lease due messages, counting an attempt."""

    async def fold_deliveries(
        self,
        kind: MessageKind,
        notifier: str,
        watchlist: str,
        claimed: Sequence[int],
        now: datetime,
        lease: timedelta,
    ) -> Message:
        """Fold alerts into one rollup or digest, claimed for sending."""

    async def mark_sent(self, delivery_id: int, now: datetime) -> None:
        """The receiver took the message."""

    async def mark_failed(self, delivery_id: int, error: str, retry_at: datetime | None) -> None:
        """The receiver did not take it: retry at ``retry_at``, or dead."""

    async def release_deliveries(self, delivery_ids: Sequence[int], retry_at: datetime) -> None:
        """Hand back claimed messages that were not tried."""

    async def disable_notifier(
        self, name: str, reason: str, settings_key: str, now: datetime
    ) -> bool:
        """Stop sending to a notifier, keeping its queue."""

    async def disabled_notifiers(self) -> list[NotifierState]:
        """Notifiers the relay does not send to."""


class Subscriptions(Protocol):
    """WebSub subscriptions: the subscriber's and the push endpoint's view."""

    async def subscription_tasks(self, now: datetime, limit: int = 100) -> list[SubscriptionTask]:
        """What to ask hubs now."""

    async def record_subscription_request(
        self, task: SubscriptionTask, now: datetime, next_attempt_at: datetime
    ) -> None:
        """A request about to go to a hub."""

    async def subscription_request_failed(
        self, feed_id: int, error: str, retry_at: datetime
    ) -> None:
        """The hub did not take the request."""

    async def subscribed_feed(self, token: str) -> tuple[Subscription, FeedState] | None:
        """The subscription a callback token names, and its feed."""

    async def subscription_verified(
        self, feed_id: int, lease_until: datetime, renew_at: datetime
    ) -> None:
        """The hub verified the subscription."""

    async def subscription_denied(self, feed_id: int, reason: str, retry_at: datetime) -> None:
        """The hub refused the subscription."""

    async def subscription_ended(self, feed_id: int) -> None:
        """The hub confirmed an unsubscription."""


class StatusReads(Protocol):
    """What the status page, the API and the metrics read, and the one thing a story's
    page writes: a mute."""

    async def check_health(self) -> None:
        """Raise StoreError when the store cannot be trusted with writes."""

    async def feeds(self) -> list[FeedState]:
        """Every enabled feed."""

    async def deliveries(
        self, status: DeliveryStatus | None = None, limit: int = 100
    ) -> list[Message]:
        """Deliveries, newest first."""

    async def outbox_summary(self) -> OutboxSummary:
        """How many messages are pending and dead, and the oldest pending one's age."""

    async def subscriptions(self) -> list[Subscription]:
        """Every WebSub subscription."""

    async def stories(self, limit: int = 50) -> list[Story]:
        """The newest stories."""

    async def story(self, story_id: int) -> Story | None:
        """One story; None when no such story is stored."""

    async def items(self, limit: int | None = None) -> list[StoredItem]:
        """Stored items, newest first (for search)."""

    async def feed_items(self, feed_id: int, limit: int = 20) -> list[StoredItem]:
        """One feed's newest items."""

    async def alerts_per_day(self, since: datetime) -> dict[str, dict[int, int]]:
        """Per watchlist, the stories it alerted each UTC day (numbered from the epoch)."""

    async def items_per_day(
        self, since: datetime, feed_id: int | None = None
    ) -> dict[int, dict[int, int]]:
        """Per feed (or for one), its new items each UTC day (numbered from the epoch)."""

    async def poll_days(self, since: datetime, feed_id: int | None = None) -> list[PollDay]:
        """Each feed's (or one feed's) polls per UTC day from ``since``'s day on."""

    async def feed_health_per_day(self, since: datetime) -> dict[str, dict[int, int]]:
        """Per health (failing, flaky, stale), the feeds that had such a day, each UTC
        day from ``since``'s day on."""

    async def mute_story(self, story_id: int, now: datetime, until: datetime | None) -> bool:
        """Mute a story from ``now`` until ``until`` (None: until unmuted); False when
        no such story is stored."""

    async def unmute_story(self, story_id: int) -> bool:
        """Lift a story's mute; False when no such story is stored."""


class Seeds(Protocol):
    """Where the stored sample is loaded."""

    async def load_seed(self, source: str, items: Sequence[Item], now: datetime) -> int:
        """Store items as already known; how many were new."""
