"""Prometheus metrics: the daemon reports what each poll and relay pass did to one
observer, which keeps the counters (in a registry of its own, one per runtime)."""

from __future__ import annotations

import collections
from collections.abc import Sequence
from datetime import datetime

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

from monitor.models import OutboxSummary
from monitor.notify.relay import RelayReport
from monitor.outcome import PollOutcome

RELAY_RESULTS = ("sent", "retrying", "dead", "deferred", "throttled", "held", "folded")
SUBSCRIPTION_STATES = ("requested", "active", "denied", "unsubscribing")


class Metrics:
    """Counters for polls, items, stories and messages; gauges for the outbox."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.polls = Counter(
            "news_monitor_polls",
            "Feed polls by result: the HTTP answer (200, 304, …), push (content a hub"
            " pushed) or what failed (http_4xx, http_5xx, network, parse, internal).",
            ["result"],
            registry=self.registry,
        )
        self.fetch_seconds = Histogram(
            "news_monitor_fetch_seconds",
            "Time to fetch a feed, redirects and body included.",
            buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
            registry=self.registry,
        )
        self.fetched_bytes = Counter(
            "news_monitor_fetched_bytes", "Feed bodies received, in bytes.", registry=self.registry
        )
        self.stage_seconds = Counter(
            "news_monitor_stage_seconds",
            "Time spent per stage of a poll: fetch, read, text, identify, match (in"
            " workers), articles (waiting for them), store.",
            ["stage"],
            registry=self.registry,
        )
        self.dispatch_lag = Histogram(
            "news_monitor_dispatch_lag_seconds",
            "How late a due feed was when the scheduler claimed it.",
            buckets=(0.5, 1, 2, 5, 10, 30, 60, 300),
            registry=self.registry,
        )
        self.poll_seconds = Histogram(
            "news_monitor_poll_seconds",
            "Time from the start of a poll to its end (fetch, parse, match, store).",
            buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60),
            registry=self.registry,
        )
        self.items = Counter(
            "news_monitor_items",
            "Items seen in polled feeds: new (stored now) or known.",
            ["kind"],
            registry=self.registry,
        )
        self.stories = Counter(
            "news_monitor_new_stories", "Items that started a new story.", registry=self.registry
        )
        self.joins = Counter(
            "news_monitor_story_joins",
            "Items that joined a known story, by the key that joined them"
            " (link, title, text, near).",
            ["by"],
            registry=self.registry,
        )
        self.matches = Counter(
            "news_monitor_matches",
            "New items matched, by watchlist (before story deduplication).",
            ["watchlist"],
            registry=self.registry,
        )
        self.articles = Counter(
            "news_monitor_articles",
            "Attempts to read a new item's article, by result: read, teaser (no more than"
            " the feed), paywalled, reused (read for the same story before), refused"
            " (robots.txt), held (Retry-After), failed, timeout.",
            ["result"],
            registry=self.registry,
        )
        self.queued = Counter(
            "news_monitor_alerts_queued", "Alerts put in the outbox.", registry=self.registry
        )
        self.messages = Counter(
            "news_monitor_messages",
            "Outbox messages handled by the relay, by result.",
            ["result"],
            registry=self.registry,
        )
        self.sends = Counter(
            "news_monitor_sends",
            "Sends tried, by notifier and result: sent, retrying, dead.",
            ["notifier", "result"],
            registry=self.registry,
        )
        self.alerts_sent = Counter(
            "news_monitor_alerts_sent",
            "Alerts delivered, by watchlist.",
            ["watchlist"],
            registry=self.registry,
        )
        self.delivery_latency = Histogram(
            "news_monitor_delivery_latency_seconds",
            "From an alert being queued (right after its item was fetched) to its delivery.",
            buckets=(0.5, 1, 2, 5, 10, 30, 60, 300, 1800, 3600, 21600),
            registry=self.registry,
        )
        self.pending = Gauge(
            "news_monitor_outbox_pending", "Messages waiting to be sent.", registry=self.registry
        )
        self.dead = Gauge(
            "news_monitor_outbox_dead", "Messages that gave up.", registry=self.registry
        )
        self.oldest_pending = Gauge(
            "news_monitor_outbox_oldest_pending_seconds",
            "Age of the oldest message waiting to be sent (0 when none).",
            registry=self.registry,
        )
        self.websub = Gauge(
            "news_monitor_websub_subscriptions",
            "WebSub subscriptions by state: requested (not verified yet), active, denied,"
            " unsubscribing.",
            ["state"],
            registry=self.registry,
        )
        for result in RELAY_RESULTS:
            self.messages.labels(result)

    def polled(self, outcome: PollOutcome, seconds: float) -> None:
        """Count one poll."""
        self.polls.labels(outcome.result or outcome.status).inc()
        self.poll_seconds.observe(seconds)
        if outcome.fetch_seconds is not None:
            self.fetch_seconds.observe(outcome.fetch_seconds)
        self.fetched_bytes.inc(outcome.fetched_bytes)
        for stage, spent in outcome.stages.items():
            self.stage_seconds.labels(stage).inc(spent)
        self.items.labels("new").inc(outcome.stored)
        self.items.labels("known").inc(max(0, outcome.items - outcome.stored))
        self.stories.inc(outcome.new_stories)
        for kind in outcome.joins:
            self.joins.labels(kind).inc()
        for watchlist in outcome.matched:
            self.matches.labels(watchlist).inc()
        self.queued.inc(outcome.deliveries)
        for result, count in outcome.articles.items():
            self.articles.labels(result).inc(count)

    def relayed(self, report: RelayReport) -> None:
        """Count one relay pass."""
        for result in RELAY_RESULTS:
            count = getattr(report, result)
            if count:
                self.messages.labels(result).inc(count)
        for notifier, result in report.attempts:
            self.sends.labels(notifier, result).inc()
        for watchlist, waited in report.delivered:
            self.alerts_sent.labels(watchlist).inc()
            self.delivery_latency.observe(waited)

    def dispatched(self, lateness: float) -> None:
        """A due feed was claimed this many seconds after it was due."""
        self.dispatch_lag.observe(max(0.0, lateness))

    def outbox(self, summary: OutboxSummary, now: datetime) -> None:
        """Set the outbox gauges (asked of the store when metrics are scraped)."""
        self.pending.set(summary.pending)
        self.dead.set(summary.dead)
        oldest = summary.oldest_pending_at
        self.oldest_pending.set(0 if oldest is None else max(0.0, (now - oldest).total_seconds()))

    def subscriptions(self, states: Sequence[str]) -> None:
        """Set the WebSub gauge from the subscriptions' states (asked of the store when
        metrics are scraped, with push on)."""
        counts = collections.Counter(states)
        for state in SUBSCRIPTION_STATES:
            self.websub.labels(state=state).set(counts.get(state, 0))

    def exposition(self) -> bytes:
        """The text format Prometheus scrapes."""
        return generate_latest(self.registry)
