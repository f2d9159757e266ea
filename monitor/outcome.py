"""What one poll (or push) found and did: the value the poller returns and its
observers (metrics, feed health) read."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

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
