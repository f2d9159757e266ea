"""The one storage contract, written once: each method is a transaction (or a read) of
one domain's SQL (``feeds``, ``stories``, ``outbox``, ``subscriptions``, ``parts``) on a
backend's ``Db``. A backend (``sqlite``, ``postgres``) brings only what differs:
connecting, transactions, migrations, locks, a health check and its own upkeep.

Callers depend on the narrow views of ``protocols`` (the relay on an outbox, the poller
on what a poll writes), not on the whole of it.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from datetime import datetime, timedelta
from typing import ClassVar

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
from monitor.poll_days import PollDay, utc_day
from monitor.spread import SpreadRule
from monitor.store import (
    feeds,
    outbox,
    parts,
    stories,
    story_reads,
    story_upkeep,
    subscriptions,
    trends,
)
from monitor.store.dialect import Db
from monitor.store.errors import translated, translated_errors
from monitor.store.group_commit import GroupCommit
from monitor.store.rows import to_epoch
from monitor.store.stories import StoryMemory
from monitor.templates import CommonShingles

# A save of this many items or fewer (a feed's few new entries, a hub's push) that may
# alert goes before the bulk of a cold pass's writes: it is quick, and someone waits.
URGENT_ITEMS = 5


def _on_the_way_to_an_alert(items: Sequence[NewItem], alert: bool) -> bool:
    """Whether a save is urgent: a few items, one of them matched, not a baseline."""
    return alert and len(items) <= URGENT_ITEMS and any(new.matches for new in items)


class Store(AsyncResource, ABC):
    """Feeds with their schedule, items with their stories, the delivery outbox, WebSub
    subscriptions and the parts of sitemap indexes, on one database."""

    #: What the driver raises (see ``errors.translated``).
    driver_errors: ClassVar[tuple[type[BaseException], ...]]
    #: One instance per database: a start takes back whatever a previous run left
    #: claimed at once (a shared database leaves it to the claim's lease).
    exclusive: ClassVar[bool]
    #: How items are grouped into stories; a reload may replace it.
    story_policy: StoryPolicy
    #: What story resolution remembers between batches (see ``stories.StoryMemory``).
    memory: StoryMemory
    #: The spread watchlists whose stories' sources a save counts; a reload may replace it.
    spread_rules: tuple[SpreadRule, ...] = ()
    #: Poll saves, poll records and sent marks queued meanwhile share one transaction.
    _grouped: GroupCommit[Db]
    _owner: str | None

    # -- what a backend brings ---------------------------------------------------------

    @property
    @abstractmethod
    def shown(self) -> str:
        """The database as errors name it (a path, or a URL without its password)."""

    @abstractmethod
    async def open(self) -> None:
        """Connect and apply pending migrations."""

    @abstractmethod
    async def close(self) -> None:
        """Finish queued writes and release connections; safe to call twice."""

    @abstractmethod
    def _transaction(self) -> AbstractAsyncContextManager[Db]:
        """A write transaction (driver errors pass through untranslated)."""

    @abstractmethod
    def _reading(self) -> AbstractAsyncContextManager[Db]:
        """A connection for a read that need not wait for writers."""

    @abstractmethod
    async def check_health(self) -> None:
        """Raise StoreError when the store can no longer be trusted with writes
        (for a file, when its path no longer names the open database)."""

    async def _take_instance(self, owner: str) -> None:
        """Whatever the backend does for a new instance (SQLite: its lock file)."""

    async def _learn_from_others(self, db: Db) -> None:
        """Count what other instances learned since (under the story lock)."""

    def _note_growth(self, key_rows: int) -> None:
        """``key_rows`` identity rows were written (PostgreSQL refreshes statistics)."""

    @asynccontextmanager
    async def _upkeep_turn(self) -> AsyncIterator[bool]:
        """Whether this instance prunes now (instances sharing a database take turns)."""
        yield True

    async def _compact(self) -> None:
        """The backend's own upkeep after pruning (SQLite: checkpoint, optimize)."""

    # -- connections for the domains ---------------------------------------------------

    @asynccontextmanager
    async def _db(self, *, write: bool = True) -> AsyncIterator[Db]:
        """A write transaction, or with ``write=False`` a read; only StoreError leaves."""
        with translated_errors(self):
            async with self._transaction() if write else self._reading() as db:
                yield db

    @property
    def common(self) -> CommonShingles:
        """The shingles many recent stories share, learned from the stream."""
        return self.memory.common

    # -- instances ---------------------------------------------------------------------

    @translated
    async def start_instance(self, owner: str, now: datetime) -> None:
        """Poll and deliver as ``owner``: claims record it, and writes that finish
        claimed work check it (LeaseLost when another instance holds the claim now).

        An exclusive backend allows one instance per database (StoreError when another
        one runs), so work a previous run left claimed is due again at once; a shared
        backend leaves it to its lease.
        """
        await self._take_instance(owner)
        self._owner = owner
        if self.exclusive:
            async with self._db() as db:
                await outbox.take_back_claims(db, now)
                await feeds.take_back_claims(db, now)

    async def extend_leases(self, now: datetime, lease: timedelta) -> int:
        """Hold every feed and delivery this instance has claimed and not finished until
        ``now + lease``; how many. A live instance calls it well within each lease."""
        async with self._db() as db:
            held = await feeds.extend_leases(db, self._owner, now + lease)
            return held + await outbox.extend_leases(db, self._owner, now + lease)

    # -- feeds and their schedule (feeds.py) -------------------------------------------

    async def sync_feeds(self, specs: Sequence[FeedSpec], now: datetime) -> None:
        """Make the stored feeds match the configuration.

        New feeds are due now; known ones keep their schedule and validators; feeds no
        longer configured are disabled, not deleted, so their items stay known.
        """
        async with self._db() as db:
            await feeds.sync(db, specs, now)

    async def feeds(self) -> list[FeedState]:
        """Every enabled feed, in configuration order."""
        async with self._db(write=False) as db:
            return await feeds.enabled(db)

    async def claim_due_feeds(
        self, now: datetime, limit: int, lease: timedelta, *, all_feeds: bool = False
    ) -> list[FeedState]:
        """Take up to ``limit`` feeds whose ``next_poll_at`` has come (or every enabled
        feed with ``all_feeds``), held by this instance until ``now + lease`` so no one
        else takes them; each as it was before the claim. Feeds another instance holds
        are skipped, not waited for."""
        async with self._db() as db:
            return await feeds.claim_due(
                db, now, limit, now + lease, self._owner, all_feeds=all_feeds
            )

    @translated
    async def record_poll(self, feed_id: int, record: PollRecord) -> None:
        """Record a poll that brought no items (not modified, or failed), releasing the
        claim (LeaseLost: another instance holds it)."""

        async def record_it(db: Db) -> None:
            if record.claim is None:  # no claim number: only the holder can refuse it
                await feeds.check_poll_claim(db, feed_id, record, self._owner)
            # With one, the UPDATE lands only where that claim still holds, and when it
            # changes nothing ``finish`` says why: no check first, one statement less.
            await feeds.record_poll(db, feed_id, record, self._owner)

        # One UPDATE, unless the server asked its whole host to wait (a second write).
        await self._grouped.run(record_it, single=record.host_hold_until is None)

    async def mark_stale(self, feed_id: int, since: datetime | None) -> None:
        """Record that a feed went silent (None: it publishes again)."""
        async with self._db() as db:
            await feeds.mark_stale(db, feed_id, since)

    async def revive_feed(self, url: str, now: datetime) -> bool:
        """Poll a feed that answered 410 again; False when it was not gone."""
        async with self._db() as db:
            return await feeds.revive(db, url, now)

    async def spread_overdue_feeds(self, now: datetime) -> int:
        """Spread known feeds that fell due during downtime (over a minute ago) over their
        interval; a feed never polled, or due only moments ago (with other instances
        running, about to be claimed), stays due now. How many moved."""
        async with self._db() as db:
            return await feeds.spread_overdue(db, now)

    # -- items and their stories (stories.py, story_reads.py, story_upkeep.py) ---------

    @translated
    async def save_poll(
        self, feed_id: int, items: Sequence[NewItem], record: PollRecord, *, alert: bool
    ) -> SaveResult:
        """In one transaction: store the items the feed does not have yet (and the new
        versions of edited ones), attach each to a story, queue what the watchlists they
        matched decide (``alerting.decide``; nothing is sent for a baseline, without
        ``alert``), and record the poll, releasing the claim (LeaseLost: another
        instance holds it). It shares its transaction with the writes queued meanwhile."""

        async def save(db: Db) -> SaveResult:
            await feeds.check_poll_claim(db, feed_id, record, self._owner)
            result = await self._store_items(db, feed_id, items, record.polled_at, alert)
            await feeds.record_poll(db, feed_id, record, self._owner)
            await feeds.note_saved(db, feed_id, record, result.stored)
            return result

        return await self._grouped.run(save, urgent=_on_the_way_to_an_alert(items, alert))

    @translated
    async def save_pushed(
        self, feed_id: int, items: Sequence[NewItem], now: datetime, *, alert: bool
    ) -> SaveResult:
        """Store items a hub pushed as ``save_poll`` stores a poll's, in one transaction,
        leaving the feed's schedule and claim alone."""

        async def save(db: Db) -> SaveResult:
            result = await self._store_items(db, feed_id, items, now, alert)
            if result.stored:
                await feeds.note_pushed(db, feed_id, now)
            return result

        return await self._grouped.run(save, urgent=_on_the_way_to_an_alert(items, alert))

    async def _store_items(
        self,
        db: Db,
        feed_id: int,
        items: Sequence[NewItem],
        now: datetime,
        alert: bool,
        seed: bool = False,
    ) -> SaveResult:
        """The batch through the story rules (``stories.save_items``), under the story
        lock; what other instances learned meanwhile is counted first."""
        if items:
            await db.hold("stories")
            await self._learn_from_others(db)
        saved = await stories.save_items(
            db,
            feed_id,
            items,
            to_epoch(now),
            alert=alert,
            policy=self.story_policy,
            memory=self.memory,
            owner=self._owner,
            seed=seed,
            spreads=self.spread_rules,
        )
        self._note_growth(saved.key_rows)
        return saved.result

    async def host_hold(self, host: str, now: datetime) -> datetime | None:
        """Until when ``host`` asked us to wait (Retry-After), if it still does."""
        async with self._db(write=False) as db:
            return await feeds.host_hold(db, host, now)

    async def hold_host(self, host: str, until: datetime) -> None:
        """No feed of ``host`` is claimed, and no article of it fetched, before ``until``."""
        async with self._db() as db:
            await feeds.hold_host(db, host, until)

    async def stored_fulltext(self, keys: Sequence[int]) -> dict[int, tuple[str, str]]:
        """For canonical links' keys, the article text and note of a stored item with
        that link whose article was read (an article is read once per story)."""
        async with self._db(write=False) as db:
            return await story_reads.stored_fulltext(db, keys)

    async def fulltext_counts(self, since: datetime) -> dict[int, tuple[int, int]]:
        """Per feed, since ``since``: articles tried, and those that could not be read."""
        async with self._db(write=False) as db:
            return await story_reads.fulltext_counts(db, to_epoch(since))

    async def recent_entries(self, feed_id: int, limit: int) -> dict[str, int | None]:
        """The entry keys of a feed's ``limit`` most recently stored items, each with
        the digest of its stored version (None: stored before versions were kept)."""
        async with self._db(write=False) as db:
            return await story_reads.recent_entries(db, feed_id, limit)

    async def items(self, limit: int | None = None) -> list[StoredItem]:
        """Stored items, newest first by first sight."""
        async with self._db(write=False) as db:
            return await story_reads.stored_items(db, limit)

    async def feed_items(self, feed_id: int, limit: int = 20) -> list[StoredItem]:
        """One feed's newest items."""
        async with self._db(write=False) as db:
            return await story_reads.feed_items(db, feed_id, limit)

    async def alerts_per_day(self, since: datetime) -> dict[str, dict[int, int]]:
        """Per watchlist, the stories it alerted each UTC day (numbered from the epoch)."""
        async with self._db(write=False) as db:
            return await trends.alerts_per_day(db, to_epoch(since))

    async def items_per_day(
        self, since: datetime, feed_id: int | None = None
    ) -> dict[int, dict[int, int]]:
        """Per feed (or for one), its new items each UTC day (numbered from the epoch)."""
        async with self._db(write=False) as db:
            return await trends.items_per_day(db, to_epoch(since), feed_id)

    async def add_poll_days(self, days: Sequence[PollDay]) -> None:
        """Add counted polls to each feed's stored days (one write for the batch)."""
        if days:
            async with self._db() as db:
                await trends.add_poll_days(db, days)

    async def poll_days(self, since: datetime, feed_id: int | None = None) -> list[PollDay]:
        """Each feed's (or one feed's) polls per UTC day from ``since``'s day on."""
        async with self._db(write=False) as db:
            return await trends.poll_days(db, utc_day(since), feed_id)

    async def feed_health_per_day(self, since: datetime) -> dict[str, dict[int, int]]:
        """Per health (failing, flaky, stale), the feeds that had such a day, each UTC
        day from ``since``'s day on."""
        async with self._db(write=False) as db:
            return await trends.feed_health_per_day(db, utc_day(since))

    async def find_items(self, refs: Sequence[str]) -> dict[str, StoredItem]:
        """Stored items by number or entry key (``like: [{item: ID}]``), by reference."""
        async with self._db(write=False) as db:
            return await story_reads.find_items(db, refs)

    async def stories(self, limit: int = 50) -> list[Story]:
        """The newest stories, each with its items in the order they were seen."""
        async with self._db(write=False) as db:
            return await story_reads.newest_stories(db, limit)

    async def story(self, story_id: int) -> Story | None:
        """One story, as ``stories`` gives each; None when no such story is stored."""
        async with self._db(write=False) as db:
            return await story_reads.one_story(db, story_id)

    @translated
    async def mute_story(self, story_id: int, now: datetime, until: datetime | None) -> bool:
        """Mute a story from ``now`` until ``until`` (None: until ``unmute_story``): no
        further watchlist hears of it and no follow-up is sent meanwhile, on every
        instance. False when no such story is stored."""
        async with self._db() as db:
            until_epoch = None if until is None else to_epoch(until)
            return await story_upkeep.mute(db, story_id, to_epoch(now), until_epoch)

    @translated
    async def unmute_story(self, story_id: int) -> bool:
        """Let a muted story alert again; False when no such story is stored."""
        async with self._db() as db:
            return await story_upkeep.unmute(db, story_id)

    async def load_seed(self, source: str, items: Sequence[Item], now: datetime) -> int:
        """Store items as already known (they never alert), under a feed of kind ``seed``
        that is never polled; how many were new."""
        async with self._db() as db:
            await db.hold("stories")
            seed_feed = await story_upkeep.seed_feed(db, source, to_epoch(now))
            await story_upkeep.refresh_identity(db, seed_feed, items)
            new = [NewItem(item) for item in items]
            result = await self._store_items(db, seed_feed, new, now, alert=False, seed=True)
        return result.stored

    async def rekey(self, now: datetime) -> int:
        """After an upgrade: give the items of the story window that older identity rules
        stored their sketch and near-duplicate keys (safe to run at any time; nothing to
        do once done); how many items were looked at. Instances take turns per batch."""
        done = 0
        cutoff = to_epoch(now - self.story_policy.window)
        while True:
            async with self._db() as db:
                await db.hold("stories")
                count = await story_upkeep.rekey_batch(db, cutoff, self.common, self._owner)
            done += count
            if count < story_upkeep.REKEY_BATCH:
                return done

    async def housekeeping(self, now: datetime) -> None:
        """Periodic upkeep at ``now``: prune expired near-duplicate keys and the learning
        log (one short transaction per slice, so polls are never held up for long, and
        one instance at a time), then the backend's own; safe to run at any time."""
        cutoff = to_epoch(now - self.story_policy.window)
        kept_from = utc_day(now - trends.KEEP_POLL_DAYS)
        with translated_errors(self):
            async with self._upkeep_turn() as mine:
                if mine:
                    for number in range(story_upkeep.PRUNE_SLICES):
                        async with self._db() as db:
                            await story_upkeep.prune_slice(db, number, cutoff)
                    async with self._db() as db:
                        await story_upkeep.prune_log(db, 2 * self.common.generation_size, cutoff)
                    async with self._db() as db:
                        await trends.prune_poll_days(db, kept_from)
            await self._compact()

    # -- the outbox (outbox.py) --------------------------------------------------------

    async def due_notifiers(self, now: datetime) -> list[str]:
        """The enabled notifiers that have messages due (each one's queue is sent on
        its own, so a slow receiver never holds a fast one)."""
        async with self._db(write=False) as db:
            return await outbox.due_notifiers(db, now)

    @translated
    async def claim_due_deliveries(
        self, now: datetime, limit: int, lease: timedelta, *, notifier: str | None = None
    ) -> list[Message]:
        """Take pending deliveries that are due (only ``notifier``'s, when given),
        counting an attempt and leasing them. Urgent: an alert waits for it."""

        async def claim(db: Db) -> list[Message]:
            return await outbox.claim_due(db, now, limit, now + lease, self._owner, notifier)

        return await self._grouped.run(claim, urgent=True)

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
        async with self._db() as db:
            return await outbox.fold(
                db, kind, notifier, watchlist, claimed, now, now + lease, self._owner
            )

    async def queue_notice(self, notifiers: Sequence[str], text: str, now: datetime) -> int:
        """Queue an operator notice to each notifier; how many were queued."""
        async with self._db() as db:
            return await outbox.queue_notice(db, notifiers, text, now)

    @translated
    async def mark_sent(self, delivery_id: int, now: datetime) -> None:
        """The receiver accepted the delivery (LeaseLost: another instance holds it).
        Sent deliveries stay as the record of what was said."""

        async def mark(db: Db) -> None:
            await outbox.mark_sent(db, delivery_id, now, self._owner)

        await self._grouped.run(mark, single=True, urgent=True)  # one UPDATE

    @translated
    async def mark_failed(self, delivery_id: int, error: str, retry_at: datetime | None) -> None:
        """Record the failure; retry at ``retry_at``, or give up (dead) when None
        (LeaseLost: another instance holds it)."""

        async def mark(db: Db) -> None:
            await outbox.mark_failed(db, delivery_id, error, retry_at, self._owner)

        await self._grouped.run(mark, urgent=True)

    async def release_deliveries(self, delivery_ids: Sequence[int], retry_at: datetime) -> None:
        """Hand back claimed deliveries that were not tried, uncounting their attempt."""
        if not delivery_ids:
            return
        async with self._db() as db:
            await outbox.release(db, delivery_ids, retry_at, self._owner)

    async def deliveries(
        self, status: DeliveryStatus | None = None, limit: int = 100
    ) -> list[Message]:
        """Deliveries, newest first, optionally of one status."""
        async with self._db(write=False) as db:
            return await outbox.newest(db, status, limit)

    async def outbox_summary(self) -> OutboxSummary:
        """How many messages are pending and dead, and when the oldest pending one was
        queued (for metrics and the status page)."""
        async with self._db(write=False) as db:
            return await outbox.summary(db)

    async def retry_deliveries(
        self, now: datetime, *, delivery_id: int | None = None, dead: bool = False
    ) -> int:
        """Make one delivery (pending or dead) or every dead one pending and due now;
        how many changed."""
        async with self._db() as db:
            return await outbox.retry(db, now, delivery_id, dead)

    async def disable_notifier(
        self, name: str, reason: str, settings_key: str, now: datetime
    ) -> bool:
        """Stop sending to a notifier, keeping its queue; False when it already was."""
        async with self._db() as db:
            return await outbox.disable_notifier(db, name, reason, settings_key, now)

    async def enable_notifier(self, name: str) -> bool:
        """Send to a disabled notifier again; False when it was not disabled."""
        async with self._db() as db:
            return await outbox.enable_notifier(db, name)

    async def sync_notifiers(self, settings_keys: Mapping[str, str]) -> list[str]:
        """Enable disabled notifiers whose settings key changed; their names."""
        async with self._db() as db:
            return await outbox.enable_changed(db, settings_keys)

    async def disabled_notifiers(self) -> list[NotifierState]:
        """Notifiers the relay does not send to, oldest first."""
        async with self._db(write=False) as db:
            return await outbox.disabled_notifiers(db)

    # -- sitemap indexes (parts.py) ----------------------------------------------------

    async def sitemap_parts(self, feed_id: int) -> dict[str, PartState]:
        """The sitemaps a source's index named at its last poll, by URL, as fetched."""
        async with self._db(write=False) as db:
            return await parts.parts_of(db, feed_id)

    async def save_sitemap_parts(
        self, feed_id: int, states: Sequence[PartState], now: datetime
    ) -> None:
        """The sitemaps the source's index names now, as fetched (the others go)."""
        async with self._db() as db:
            await parts.replace_parts(db, feed_id, states, now)

    # -- WebSub subscriptions (subscriptions.py) ---------------------------------------

    async def subscription_tasks(self, now: datetime, limit: int = 100) -> list[SubscriptionTask]:
        """What to ask hubs now (subscribe, renew, unsubscribe); each task's row is held
        for a while so that no other instance asks too."""
        async with self._db() as db:
            return await subscriptions.due_tasks(db, now, limit)

    async def record_subscription_request(
        self, task: SubscriptionTask, now: datetime, next_attempt_at: datetime
    ) -> None:
        """A request about to go to a hub, and when to look at the subscription again
        (recorded before it is sent: a hub may verify it before it answers)."""
        async with self._db() as db:
            await subscriptions.record_request(db, task, now, next_attempt_at)

    async def subscription_request_failed(
        self, feed_id: int, error: str, retry_at: datetime
    ) -> None:
        """The hub did not take the request: why, and when to ask again."""
        async with self._db() as db:
            await subscriptions.record_failure(db, feed_id, error, retry_at)

    async def subscribed_feed(self, token: str) -> tuple[Subscription, FeedState] | None:
        """The subscription whose callback URL carries ``token``, and its feed."""
        async with self._db(write=False) as db:
            return await subscriptions.subscribed_feed(db, token)

    async def subscriptions(self) -> list[Subscription]:
        """Every WebSub subscription, in feed order (for ``feeds``)."""
        async with self._db(write=False) as db:
            return await subscriptions.every_subscription(db)

    async def subscription_verified(
        self, feed_id: int, lease_until: datetime, renew_at: datetime
    ) -> None:
        """The hub verified the subscription: the feed is pushed until ``lease_until``
        (and polled slowly meanwhile); renew it at ``renew_at``."""
        async with self._db() as db:
            await subscriptions.record_verified(db, feed_id, lease_until, renew_at)

    async def subscription_denied(self, feed_id: int, reason: str, retry_at: datetime) -> None:
        """The hub refused the subscription: polled at its own pace; ask again later."""
        async with self._db() as db:
            await subscriptions.record_denied(db, feed_id, reason, retry_at)

    async def subscription_ended(self, feed_id: int) -> None:
        """The hub confirmed an unsubscription: the row goes."""
        async with self._db() as db:
            await subscriptions.record_unsubscribed(db, feed_id)
