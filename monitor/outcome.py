"""What one poll (or push) found and did: the value the poller returns and its
observers (metrics, feed health) read."""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime

from monitor.models import FeedState
from monitor.schedule import Decision


@dataclass(frozen=True, slots=True)
class PollOutcome:
    """What one poll found and did."""

    feed: FeedState
    # "updated", "not-modified", "failed", or "dropped" (the lease ran out first)
    status: str
    items: int = 0
    stored: int = 0
    new_stories: int = 0
    deliveries: int = 0
    error: str | None = None
    warning: str | None = None
    # For metrics: the answer ("200", "304") or what failed (http_4xx, http_5xx,
    # network, parse, internal); the fetch's duration and body size.
    result: str = ""
    fetch_seconds: float | None = None
    fetched_bytes: int = 0
    joins: tuple[str, ...] = ()  # key kinds by which stored items joined stories
    matched: tuple[str, ...] = ()  # watchlists the stored items matched
    new_hub: bool = False  # the feed names a WebSub hub (or topic) it did not name before
    # What the poll's answer decided about the feed (None: a push, or dropped).
    decision: Decision | None = None
    # How the attempts to read new items' articles ended: read, teaser, paywalled,
    # reused, refused (robots.txt), held (Retry-After), failed, timeout.
    articles: Mapping[str, int] = field(default_factory=dict)
    # Seconds per stage: fetch, read, text, identify, match (in a worker), store.
    stages: Mapping[str, float] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class PollSummary:
    """One poll as a feed's page lists it: when, the answer (``200``, ``304``, or what
    failed), bytes, seconds, new items, the error, and what set the next poll."""

    at: datetime
    answer: str
    status: str
    fetched_bytes: int
    seconds: float
    stored: int
    error: str | None
    next_reason: str | None


class RecentPolls:
    """The last ``keep`` polls of each feed this process made, newest last: an observer
    of poll outcomes for the status page, kept in memory (a restart starts it afresh;
    each instance of several sees its own polls)."""

    def __init__(self, clock: Callable[[], datetime], keep: int = 48) -> None:
        self.clock = clock
        self.keep = keep
        self._polls: dict[int, deque[PollSummary]] = {}

    def add(self, outcome: PollOutcome, seconds: float) -> None:
        """Remember one poll (or push) of ``outcome.feed``."""
        polls = self._polls.get(outcome.feed.id)
        if polls is None:
            polls = self._polls[outcome.feed.id] = deque(maxlen=self.keep)
        polls.append(
            PollSummary(
                at=self.clock(),
                answer=outcome.result or outcome.status,
                status=outcome.status,
                fetched_bytes=outcome.fetched_bytes,
                seconds=seconds,
                stored=outcome.stored,
                error=outcome.error,
                next_reason=None if outcome.decision is None else outcome.decision.reason,
            )
        )

    def of(self, feed_id: int) -> list[PollSummary]:
        """A feed's remembered polls, oldest first."""
        return list(self._polls.get(feed_id, ()))
