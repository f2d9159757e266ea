"""When a message may go: retry schedules, rate limits, quiet hours and digest times.

Pure values over an injected ``now``: the relay asks them, the configuration builds them,
and none of them keeps state that a restart would lose except the token bucket (which
starts full, as a receiver's own limit would after a pause).
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from apscheduler.triggers.cron import CronTrigger

DEFAULT_RETRY = (
    timedelta(0),
    timedelta(seconds=5),
    timedelta(minutes=5),
    timedelta(minutes=30),
    timedelta(hours=2),
    timedelta(hours=5),
    timedelta(hours=10),
)
RETRY_JITTER = 0.1  # a retry comes up to 10% later than scheduled, never sooner
QUIET = re.compile(r"^\s*([01]?\d|2[0-3]):([0-5]\d)\s*-\s*([01]?\d|2[0-3]):([0-5]\d)\s*$")


def parse_timezone(name: str) -> tzinfo:
    """An IANA zone name (``Europe/Paris``, ``UTC``) → tzinfo; ValueError otherwise."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(
            f"unknown time zone {name!r}; use an IANA name such as Europe/Paris"
        ) from None


@dataclass(frozen=True)
class RetrySchedule:
    """Delays before each retry; the last one repeats until ``max_attempts``.

    ``delays[0]`` is the wait after the first failed attempt. Without ``max_attempts``
    a message gets one attempt plus one retry per delay.
    """

    delays: tuple[timedelta, ...] = DEFAULT_RETRY
    max_attempts: int | None = None

    @property
    def attempts(self) -> int:
        """How many attempts a message gets before it is dead."""
        return self.max_attempts if self.max_attempts is not None else 1 + len(self.delays)

    def delay_after(
        self, attempts: int, rng: random.Random, retry_after: timedelta | None = None
    ) -> timedelta | None:
        """The wait after ``attempts`` failed attempts, or None when it is the last.

        Jitter only adds (up to 10%), so no retry comes before its slot, and never
        before the receiver's ``Retry-After``.
        """
        if attempts >= self.attempts or not self.delays:
            return None
        delay = self.delays[min(attempts - 1, len(self.delays) - 1)]
        delay *= 1 + rng.uniform(0, RETRY_JITTER)
        if retry_after is not None:
            delay = max(delay, retry_after)
        return delay


@dataclass
class TokenBucket:
    """``messages`` per ``per``, with bursts of up to ``burst``; full when created."""

    messages: int
    per: timedelta
    burst: int
    tokens: float = field(init=False)
    updated: datetime | None = field(default=None, init=False)

    def __post_init__(self) -> None:
        self.tokens = float(self.burst)

    def _refill(self, now: datetime) -> None:
        if self.updated is not None and now > self.updated:
            rate = self.messages / self.per.total_seconds()
            elapsed = (now - self.updated).total_seconds()
            self.tokens = min(float(self.burst), self.tokens + elapsed * rate)
        self.updated = now if self.updated is None else max(now, self.updated)

    def available(self, now: datetime) -> int:
        """Messages that may go right now."""
        self._refill(now)
        return int(self.tokens + 1e-9)

    def wait(self, now: datetime) -> timedelta:
        """How long until one message may go (zero: now)."""
        self._refill(now)
        missing = 1 - self.tokens
        if missing <= 1e-9:
            return timedelta(0)
        return timedelta(seconds=missing * self.per.total_seconds() / self.messages)

    def take(self, now: datetime) -> None:
        """Spend one message's token (call when ``wait`` is zero)."""
        self._refill(now)
        self.tokens -= 1


@dataclass(frozen=True)
class QuietHours:
    """A daily window, in local time, during which a watchlist's messages wait."""

    start: time
    end: time
    zone: tzinfo

    @classmethod
    def parse(cls, text: str, zone: tzinfo) -> QuietHours:
        """``22:00-07:00`` (may span midnight); ValueError on anything else."""
        match = QUIET.match(text)
        if not match:
            raise ValueError(f"expected quiet hours such as 22:00-07:00, got {text!r}")
        start_h, start_m, end_h, end_m = (int(part) for part in match.groups())
        if (start_h, start_m) == (end_h, end_m):
            raise ValueError("quiet hours must start and end at different times")
        return cls(time(start_h, start_m), time(end_h, end_m), zone)

    def until(self, now: datetime) -> datetime | None:
        """When the quiet period that ``now`` falls in ends; None when it is not quiet."""
        local = now.astimezone(self.zone)
        clock = local.time().replace(tzinfo=None)
        if self.start < self.end:
            quiet = self.start <= clock < self.end
        else:
            quiet = clock >= self.start or clock < self.end
        if not quiet:
            return None
        day = local.date() if clock < self.end else local.date() + timedelta(days=1)
        # The wall-clock end on that day; a DST gap moves it by the gap, never earlier.
        end = datetime.combine(day, self.end, tzinfo=self.zone)
        return max(end, now)


@dataclass(frozen=True)
class DigestSchedule:
    """A cron expression in a time zone, read by APScheduler's cron trigger."""

    expression: str
    trigger: CronTrigger

    @classmethod
    def parse(cls, expression: str, zone: tzinfo) -> DigestSchedule:
        """Five-field cron (``0 8 * * *``, ``0 8 * * mon-fri``); ValueError otherwise."""
        try:
            trigger = CronTrigger.from_crontab(expression, timezone=zone)
        except (ValueError, TypeError) as error:
            raise ValueError(f"invalid cron expression {expression!r}: {error}") from None
        return cls(expression, trigger)

    def next_after(self, moment: datetime) -> datetime:
        """The first digest time strictly after ``moment``."""
        fire = self.trigger.get_next_fire_time(None, moment + timedelta(microseconds=1))
        if fire is None:  # a cron that never fires again: send at once rather than never
            return moment
        return fire  # type: ignore[no-any-return]
