"""When to try again: the next poll of a feed and the next attempt of a delivery."""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from email.utils import parsedate_to_datetime

MAX_RETRY_AFTER = timedelta(days=1)
MAX_FEED_BACKOFF = timedelta(hours=6)
# Polls spread over ±5% of the interval so feeds added together drift apart.
POLL_JITTER = 0.05


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


def next_poll_after_success(
    now: datetime, interval: timedelta, rng: random.Random | None = None
) -> datetime:
    """The feed's interval from now, give or take a little jitter."""
    spread = (rng or random).uniform(-POLL_JITTER, POLL_JITTER)
    return now + interval * (1 + spread)


def next_poll_after_failure(
    now: datetime, interval: timedelta, failures: int, retry_after: timedelta | None = None
) -> datetime:
    """Back off a failing feed: the interval doubled per failure in a row, up to 6 h,
    and never sooner than the server's ``Retry-After``."""
    doublings = min(max(failures - 1, 0), 10)
    backoff = min(interval * (1 << doublings), max(MAX_FEED_BACKOFF, interval))
    if retry_after is not None:
        backoff = max(backoff, retry_after)
    return now + backoff


def delivery_backoff(
    attempts: int,
    rng: random.Random | None = None,
    base: timedelta = timedelta(seconds=10),
    cap: timedelta = timedelta(hours=1),
) -> timedelta:
    """Exponential backoff with jitter for the next attempt after ``attempts`` failures.

    The delay is drawn from the upper half of the exponential step, so retries from
    many deliveries spread out but none comes back sooner than half its step.
    """
    step = min(cap, base * (1 << min(max(attempts - 1, 0), 20)))
    return step * (rng or random).uniform(0.5, 1.0)
