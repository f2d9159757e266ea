"""One poll of one feed, along the arrow: fetch → parse → identify → match → store;
and ``Poller.ingest``, the same path from parse on for a body a hub pushed."""

from __future__ import annotations

import logging
import random
import time
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from monitor.fetch import Fetcher, FetchError, FetchResult
from monitor.fulltext import ArticleReader, ArticleRule, FulltextLimits
from monitor.health import FeedHealth, HealthRules
from monitor.ingest import (
    MatchRequest,
    Prepared,
    WatchlistScope,
    in_scope,
    prepare,
    without_stale_matches,
)
from monitor.logs import feed_ids
from monitor.match import FeedLabels, WatchlistSet
from monitor.models import FeedState, NewItem, ParsedFeed, PollRecord, SaveResult
from monitor.outcome import PollOutcome
from monitor.parse import ParseError
from monitor.schedule import Answer, Decision, PollPolicy, decide
from monitor.sources import Body, Source, weight
from monitor.sources.index import Sitemaps, fetch_index
from monitor.store import LeaseLost, StoreError
from monitor.store.protocols import PollWrites
from monitor.workers import WorkerCrashed, WorkerPool

log = logging.getLogger(__name__)
# A feed's most recent entry keys sent with its body: more than any feed carries, so
# every entry it still carries is left out of identity and matching once stored.
RECENT_KEYS = 1_000


@dataclass(frozen=True, slots=True)
class Fetched:
    """How a poll got a body: the fetch's result, its duration and its size."""

    result: FetchResult
    seconds: float
    size: int


@dataclass(frozen=True, slots=True)
class PollSettings:
    """What a poll needs to know of the configuration (``wiring.poll_settings``)."""

    watchlists: WatchlistSet = field(default_factory=lambda: WatchlistSet(()))
    # By configured URL: labels for ``feed:``/``tag:`` queries, and how each is read.
    feed_labels: Mapping[str, FeedLabels] = field(default_factory=dict)
    sources: Mapping[str, Source] = field(default_factory=dict)
    scopes: Mapping[str, WatchlistScope] = field(default_factory=dict)
    health: HealthRules = field(default_factory=HealthRules)
    # A feed a hub pushes is polled at most this often (it may be longer).
    push_fallback: timedelta = timedelta(hours=1)
    max_interval: timedelta = timedelta(hours=24)
    max_backoff: timedelta = timedelta(hours=6)
    adaptive: bool = False
    # How each feed's articles are read (by configured URL; the default for the others).
    articles: Mapping[str, ArticleRule] = field(default_factory=dict)
    article_default: ArticleRule = field(default_factory=ArticleRule)
    fulltext: FulltextLimits = field(default_factory=FulltextLimits)


class Poller:
    """Polls feeds; the CPU work runs in worker processes, off the event loop."""

    def __init__(
        self,
        store: PollWrites,
        fetcher: Fetcher,
        clock: Callable[[], datetime],
        workers: WorkerPool,
        rng: random.Random | None = None,
    ) -> None:
        self.store = store
        self.fetcher = fetcher
        self.clock = clock
        self.workers = workers
        self.rng = rng or random.Random()
        self.settings = PollSettings()
        self.generation = 0  # of the watchlists installed in the workers
        self.feed_health = FeedHealth(store, clock)
        self.articles = ArticleReader(fetcher, store, workers, clock)

    def configure(self, settings: PollSettings) -> None:
        """Poll by these settings from now on; new watchlists are installed in every
        worker once."""
        if settings.watchlists is not self.settings.watchlists:
            self.generation = self.workers.install(settings.watchlists)
        self.settings = settings
        self.feed_health.rules = settings.health
        self.articles.configure(settings.articles, settings.article_default, settings.fulltext)

    def _match_request(self, feed: FeedState) -> MatchRequest | None:
        if not len(self.settings.watchlists):
            return None
        labels = self.settings.feed_labels.get(feed.url) or FeedLabels(feed.url, feed.name)
        return MatchRequest(self.generation, labels)

    def _policy(self, feed: FeedState) -> PollPolicy:
        interval = feed.interval
        now = self.clock()
        if feed.push_until is not None and feed.push_until > now:
            # A hub pushes it: polling is only the fallback for a hub that falls silent,
            # and it comes back to the feed's own pace once the hub's lease has run out
            # (a renewed lease stretches the next poll again).
            interval = max(interval, min(self.settings.push_fallback, feed.push_until - now))
        settings = self.settings
        return PollPolicy(interval, settings.max_interval, settings.max_backoff, settings.adaptive)

    async def poll(self, feed: FeedState) -> PollOutcome:
        """Poll once; a failure is recorded on the feed and returned, never raised."""
        try:
            try:
                outcome = await self._poll(feed)
                await self.feed_health.observe(outcome)
                return outcome
            except LeaseLost:
                raise
            except Exception as error:  # a bug on one feed must not stop the others
                log.exception("internal error while polling %s", feed.shown_url)
                message = f"internal error: {type(error).__name__}: {error}"
                return await self._failed(feed, message, kind="internal")
        except LeaseLost as lost:
            # Too slow: another instance holds the feed now and polls it itself, so
            # what this poll found is dropped (the store refused it).
            log.warning(
                "poll of %s dropped: %s", feed.shown_url, lost, extra=feed_ids(feed.id, feed.url)
            )
            return PollOutcome(feed, "dropped", error=str(lost), result="lease_lost")

    async def _failed(
        self,
        feed: FeedState,
        message: str,
        status: int | None = None,
        headers: Mapping[str, str] | None = None,
        kind: str | None = None,
    ) -> PollOutcome:
        now = self.clock()
        answer = Answer(status, headers or {}, ok=False)
        decision = decide(self._policy(feed), feed.error_count, answer, now, self.rng)
        record = PollRecord(
            polled_at=now,
            next_poll_at=decision.next_poll_at,
            status=status,
            error=message,
            reason=decision.reason,
            gone=decision.gone,
            host_hold_until=decision.host_hold_until,
            claim=feed.claim,
        )
        await self.store.record_poll(feed.id, record)
        log.warning(
            "feed %s failed: %s", feed.shown_url, message, extra=feed_ids(feed.id, feed.url)
        )
        return PollOutcome(
            feed, "failed", error=message, result=kind or "internal", decision=decision
        )

    def _decide(self, feed: FeedState, result: FetchResult, parsed: ParsedFeed | None) -> Decision:
        declared = parsed.declared_interval if parsed else None
        learned = parsed.learned_interval if parsed else None
        answer = Answer(
            result.status,
            result.headers,
            ok=True,
            final_url=result.url,
            permanent_redirect=result.permanent_redirect and result.url != feed.poll_url,
            declared_interval=declared or feed.declared_interval,
            learned_interval=learned or feed.learned_interval,
        )
        return decide(self._policy(feed), feed.error_count, answer, self.clock(), self.rng)

    async def _poll(self, feed: FeedState) -> PollOutcome:
        started = time.perf_counter()
        try:
            result = await self.fetcher.fetch(
                feed.poll_url, etag=feed.etag, last_modified=feed.last_modified
            )
        except FetchError as error:
            kind = f"http_{error.status // 100}xx" if error.status else "network"
            return await self._failed(feed, str(error), error.status, error.headers, kind)
        fetch_seconds = time.perf_counter() - started
        fetched_bytes = len(result.body or b"")
        # Many servers ignore conditional requests; an identical body is not parsed again.
        body = result.body
        if body is None or result.digest == feed.body_digest:
            return await self._unchanged(feed, Fetched(result, fetch_seconds, fetched_bytes))
        return await self.ingest(
            feed, body, result.headers, Fetched(result, fetch_seconds, fetched_bytes)
        )

    async def _unchanged(
        self, feed: FeedState, fetched: Fetched, *, index: bool = False
    ) -> PollOutcome:
        """Record a poll that brought nothing to read: 304, the same body, or an
        ``index`` whose sitemaps are all as they were (its own validators are not kept:
        the next poll must read it, to ask for its sitemaps)."""
        result = fetched.result
        decision = self._decide(feed, result, None)  # no body: what we learned before
        record = PollRecord(
            self.clock(),
            decision.next_poll_at,
            result.status,
            None,
            etag=None if index else result.etag,
            last_modified=None if index else result.last_modified,
            reason=decision.reason,
            moved_to=decision.moved_to,
            claim=feed.claim,
        )
        stored_at = time.perf_counter()
        await self.store.record_poll(feed.id, record)
        return PollOutcome(
            feed,
            "not-modified",
            decision=decision,
            result=str(result.status),
            fetch_seconds=fetched.seconds,
            fetched_bytes=fetched.size,
            stages={"fetch": fetched.seconds, "store": time.perf_counter() - stored_at},
        )

    async def push(self, feed: FeedState, body: bytes, headers: Mapping[str, str]) -> PollOutcome:
        """A hub pushed this body: stored as a poll's items are, the feed's schedule left
        as it is (``ingest``); a notice its health asks for never fails the push, which
        is stored by then."""
        outcome = await self.ingest(feed, body, headers)
        try:
            await self.feed_health.observe(outcome)
        except StoreError as error:
            log.error("a notice about %s was not queued: %s", feed.shown_url, error)
        return outcome

    async def ingest(
        self,
        feed: FeedState,
        body: bytes,
        headers: Mapping[str, str],
        fetched: Fetched | None = None,
    ) -> PollOutcome:
        """A body arrived for this source: read it by the source's kind, identify, match
        and store its new items. ``fetched`` says how a poll got it (its record goes with
        the items); without it a hub pushed it, and the feed's schedule stays as it is.
        A LeaseLost from the store propagates (the caller's poll drops it)."""
        now = self.clock()
        source = self.settings.sources.get(feed.url) or Source(feed.kind)
        # Baseline: the first poll of a feed records what is there and alerts nothing.
        alert = feed.baselined or not feed.baseline
        # The configured URL, not the final one, is the base for relative links and ids:
        # entry keys must not change when a redirect comes and goes.
        bodies: list[Body] = [(body, headers)]
        sitemaps: Sitemaps | None = None
        try:
            # A baseline is matched too: it alerts nothing, but what each item matched is
            # kept, so that an edit later alerts only a watchlist it newly matches.
            request = self._match_request(feed)
            known = await self.store.recent_entries(feed.id, RECENT_KEYS)
            prepared = await self.workers.run(
                prepare, bodies, feed.url, request, known, source, now, cost=weight(bodies)
            )
            if prepared.children and fetched is not None:
                sitemaps = await fetch_index(
                    self.fetcher, feed, prepared.children, await self.store.sitemap_parts(feed.id)
                )
                if not sitemaps.bodies:  # every sitemap as it was
                    await self.store.save_sitemap_parts(feed.id, sitemaps.parts, now)
                    return await self._unchanged(feed, fetched, index=True)
                bodies = sitemaps.bodies
                prepared = await self.workers.run(
                    prepare, bodies, feed.url, request, known, source, now, cost=weight(bodies)
                )
        except (ParseError, WorkerCrashed, FetchError) as error:
            if fetched is None:
                log.warning(
                    "content pushed for %s cannot be read: %s",
                    feed.shown_url,
                    error,
                    extra=feed_ids(feed.id, feed.url),
                )
                return PollOutcome(feed, "failed", error=str(error), result="parse")
            return await self._failed(feed, str(error), fetched.result.status, kind="parse")
        parsed = prepared.feed
        if parsed.warning:
            log.info(
                "feed %s: %s", feed.shown_url, parsed.warning, extra=feed_ids(feed.id, feed.url)
            )
        items = prepared.items
        articles: Counter[str] = Counter()
        if alert:  # a baseline's articles are never read
            started = time.perf_counter()
            items, articles = await self.articles.for_feed(
                feed, items, request, parsed.title, pushed=fetched is None
            )
            if articles:
                prepared.stages["articles"] = time.perf_counter() - started
        if self.settings.scopes:
            items = in_scope(self.settings.scopes, items, feed.url, now)
        if alert and feed.max_alert_age is not None:
            scoped = items
            items = without_stale_matches(scoped, now - feed.max_alert_age)
            stale = sum(1 for new, kept in zip(scoped, items, strict=True) if new is not kept)
            if stale:
                log.info(
                    "feed %s: %s matching item(s) published before max_alert_age: not alerted",
                    feed.shown_url,
                    stale,
                    extra=feed_ids(feed.id, feed.url),
                )
        # The store skips the entries it already has, in the same transaction.
        stored_at = time.perf_counter()
        decision = None
        if fetched is None:
            saved = await self.store.save_pushed(feed.id, items, now, alert=alert)
        else:
            index = sitemaps is not None
            saved, decision = await self._save_polled(
                feed, fetched, prepared, items, alert, now, index
            )
            if sitemaps is not None:
                await self.store.save_sitemap_parts(feed.id, sitemaps.parts, now)
        store_seconds = time.perf_counter() - stored_at
        if saved.deliveries:
            log.info(
                "feed %s: %s alert(s) queued%s",
                feed.shown_url,
                saved.deliveries,
                "" if fetched else " (pushed)",
                extra=feed_ids(feed.id, feed.url),
            )
        stages = dict(prepared.stages)
        if fetched is not None:
            stages = {"fetch": fetched.seconds, **stages}
        return PollOutcome(
            feed,
            "updated" if fetched else "pushed",
            result=str(fetched.result.status) if fetched else "push",
            fetch_seconds=fetched.seconds if fetched else None,
            fetched_bytes=fetched.size if fetched else len(body),
            items=prepared.entries,
            stored=saved.stored,
            new_stories=saved.new_stories,
            deliveries=saved.deliveries,
            joins=saved.joins,
            matched=saved.matched,
            warning=parsed.warning,
            stages={**stages, "store": store_seconds},
            articles=dict(articles),
            new_hub=prepared.websub is not None
            and (prepared.websub.hub, prepared.websub.topic) != (feed.hub, feed.topic),
            decision=decision,
        )

    async def _save_polled(
        self,
        feed: FeedState,
        fetched: Fetched,
        prepared: Prepared,
        items: Sequence[NewItem],
        alert: bool,
        now: datetime,
        index: bool,
    ) -> tuple[SaveResult, Decision]:
        """The items with the poll's record, which releases the feed's claim; what the
        poll decided about the feed."""
        parsed, result = prepared.feed, fetched.result
        decision = self._decide(feed, result, parsed)
        # An index was read through its sitemaps: its own validators and digest say
        # nothing about theirs, so it is fetched whole next time (they, conditionally).
        whole = not index
        record = PollRecord(
            polled_at=now,
            next_poll_at=decision.next_poll_at,
            status=result.status,
            error=None,
            etag=result.etag if whole else None,
            last_modified=result.last_modified if whole else None,
            title=parsed.title,
            body_digest=result.digest if whole else None,
            reason=decision.reason,
            moved_to=decision.moved_to,
            declared_interval=parsed.declared_interval,
            learned_interval=parsed.learned_interval,
            claim=feed.claim,
            hub=prepared.websub.hub if prepared.websub else None,
            topic=prepared.websub.topic if prepared.websub else None,
        )
        saved = await self.store.save_poll(feed.id, items, record, alert=alert)
        return saved, decision
