"""When to poll a feed next, and what a poll's answer changes about the feed.

One pure rule, ``decide``: from the feed's schedule, what the server said and what the
feed declared, it gives the next poll, whether the feed moved (301/308) or is gone
(410), and how long every feed of the host must wait (429/503 with Retry-After). The
poller applies the decision; the tests check every rule on this function alone.
"""

from __future__ import annotations

import itertools
import random
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.utils import parsedate_to_datetime

MAX_RETRY_AFTER = timedelta(days=1)
# Polls spread over ±5% of the interval so feeds added together drift apart.
POLL_JITTER = 0.05
# Backoff after errors doubles give or take 20%, so failing feeds do not retry in step.
BACKOFF_JITTER = 0.2
HOST_HOLD_STATUSES = frozenset({429, 503})
MAX_AGE = re.compile(r"(?:^|,)\s*(?:s-maxage|max-age)\s*=\s*\"?(\d+)", re.IGNORECASE)
NO_CACHE = re.compile(r"(?:^|,)\s*(?:no-cache|no-store)\b", re.IGNORECASE)


def cadence(published: Iterable[datetime | None], recent: int = 10) -> timedelta | None:
    """How often to look at a feed by its own pace: half the median gap between its
    most recent dated entries, so that a new entry waits about a quarter of a gap. None
    with fewer than 3 dates."""
    dates = sorted({moment for moment in published if moment}, reverse=True)[:recent]
    if len(dates) < 3:
        return None
    gaps = sorted(newer - older for newer, older in itertools.pairwise(dates))
    return gaps[len(gaps) // 2] / 2


def parse_retry_after(value: str | None, now: datetime) -> timedelta | None:
    """``Retry-After`` as seconds or an HTTP date → a delay (capped at a day)."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        delay = timedelta(seconds=int(value))
    else:
        try:
            when = parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        if when.tzinfo is None:
            return None
        delay = when - now
    return max(timedelta(0), min(delay, MAX_RETRY_AFTER))


def server_freshness(headers: Mapping[str, str], now: datetime) -> tuple[timedelta, str] | None:
    """How long the server says its answer stays fresh: ``Cache-Control: max-age`` (or
    ``s-maxage``), else ``Expires``; None when it says nothing or ``no-cache``."""
    control = headers.get("cache-control", "")
    if NO_CACHE.search(control):
        return None
    ages = [int(match) for match in MAX_AGE.findall(control)]
    if ages:
        return timedelta(seconds=max(ages)), "cache-control"
    expires = headers.get("expires")
    if expires:
        try:
            when = parsedate_to_datetime(expires)
        except (TypeError, ValueError):
            return None
        if when.tzinfo is not None and when > now:
            return when - now, "expires"
    return None


@dataclass(frozen=True, slots=True)
class PollPolicy:
    """A feed's own interval and the bounds every rule stays within."""

    interval: timedelta
    max_interval: timedelta = timedelta(hours=24)
    max_backoff: timedelta = timedelta(hours=6)
    adaptive: bool = False  # follow the cadence the feed actually publishes at


@dataclass(frozen=True, slots=True)
class Answer:
    """What one poll got: the status (None: no answer at all), the headers, where the
    redirects ended and whether every hop was permanent, and the feed's own declared
    update interval (``<ttl>``, ``sy:updatePeriod``; remembered from an earlier parse
    when this answer had no body)."""

    status: int | None
    headers: Mapping[str, str]
    ok: bool
    final_url: str | None = None
    permanent_redirect: bool = False
    declared_interval: timedelta | None = None
    learned_interval: timedelta | None = None  # from the gaps between recent entries


@dataclass(frozen=True, slots=True)
class Decision:
    """What the poller does after a poll."""

    next_poll_at: datetime
    reason: str  # what set the delay: interval, ttl, learned cadence, cache-control, expires,
    # retry-after, backoff, gone
    moved_to: str | None = None  # a permanent redirect: poll this URL from now on
    gone: bool = False  # 410: stop polling, keep the history
    host_hold_until: datetime | None = None  # no feed of this host before then


def decide(
    policy: PollPolicy,
    failures_before: int,
    answer: Answer,
    now: datetime,
    rng: random.Random | None = None,
) -> Decision:
    """The next poll and any change to the feed, from its policy, its failures in a row
    before this poll, and the answer."""
    rng = rng or random.Random()
    if answer.ok:
        return _after_success(policy, answer, now, rng)
    if answer.status == 410:
        return Decision(now + policy.max_interval, "gone", gone=True)
    retry_after = parse_retry_after(answer.headers.get("retry-after"), now)
    if answer.status in HOST_HOLD_STATUSES and retry_after is not None:
        hold = min(retry_after, policy.max_interval)
        return Decision(now + hold, "retry-after", host_hold_until=now + hold)
    failures = failures_before + 1
    step = policy.interval * (1 << min(failures - 1, 20))
    cap = max(policy.max_backoff, policy.interval)
    delay = min(step, cap) * (1 + rng.uniform(-BACKOFF_JITTER, BACKOFF_JITTER))
    if retry_after is not None:
        delay = max(delay, min(retry_after, policy.max_interval))
    return Decision(now + delay, "backoff")


def _after_success(
    policy: PollPolicy, answer: Answer, now: datetime, rng: random.Random
) -> Decision:
    """The longest of what we were asked for and what the server and feed say, within
    ``max_interval``; the configured interval is a floor, never shortened."""
    candidates = [(policy.interval, "interval")]
    if answer.declared_interval is not None:
        candidates.append((answer.declared_interval, "ttl"))
    if policy.adaptive and answer.learned_interval is not None:
        candidates.append((answer.learned_interval, "learned cadence"))
    fresh = server_freshness(answer.headers, now)
    if fresh is not None:
        candidates.append(fresh)
    delay, reason = max(candidates, key=lambda candidate: candidate[0])
    if delay > policy.max_interval:
        delay, reason = max(policy.max_interval, policy.interval), f"{reason} (capped)"
    delay *= 1 + rng.uniform(-POLL_JITTER, POLL_JITTER)
    moved_to = answer.final_url if answer.permanent_redirect else None
    return Decision(now + delay, reason, moved_to=moved_to)
