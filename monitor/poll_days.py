"""Each feed's health over the days, as the status page draws it: an observer of poll
outcomes that counts polls and failed polls per feed and UTC day in memory and hands
them to the store in batches (a row per feed and day, summed with what is stored: one
write every few minutes, not one per poll, and instances sharing a database add up)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime

from monitor.outcome import PollOutcome

DAY_SECONDS = 86_400


def utc_day(moment: datetime) -> int:
    """A moment's UTC day, counted from the epoch (as the store and the charts count)."""
    return int(moment.timestamp() // DAY_SECONDS)


@dataclass(frozen=True, slots=True)
class PollDay:
    """A feed's polls on one UTC day (numbered from the epoch): how many, how many
    failed, and whether it had gone silent far longer than usual (stale)."""

    feed_id: int
    day: int
    polls: int
    failures: int
    stale: bool


def day_health(day: PollDay | None) -> str:
    """How a day went, as the strip colours it: ``unpolled`` (no poll), ``failing``
    (every poll failed), ``flaky`` (some did), ``stale`` (all worked, but the feed was
    silent far longer than usual), or ``ok``."""
    if day is None or day.polls == 0:
        return "unpolled"
    if day.failures >= day.polls:
        return "failing"
    if day.failures:
        return "flaky"
    return "stale" if day.stale else "ok"


def merged(first: PollDay, second: PollDay) -> PollDay:
    """Two counts of the same feed and day as one."""
    return PollDay(
        first.feed_id,
        first.day,
        first.polls + second.polls,
        first.failures + second.failures,
        first.stale or second.stale,
    )


class PollDays:
    """Counts each feed's polls per day until the store takes them (``take``); what
    the store could not take is given back (``give_back``) and tried again."""

    def __init__(self, clock: Callable[[], datetime]) -> None:
        self.clock = clock
        self._days: dict[tuple[int, int], PollDay] = {}

    def add(self, outcome: PollOutcome) -> None:
        """Count one poll (or push) of ``outcome.feed``; a poll cut off by its lease
        ("dropped") counts as failed, as the feed's page shows it."""
        day = utc_day(self.clock())
        failed = outcome.status in ("failed", "dropped")
        counted = PollDay(
            outcome.feed.id, day, 1, int(failed), outcome.feed.stale_since is not None
        )
        self._merge([counted])

    def take(self) -> list[PollDay]:
        """The counts since the last take, forgotten here."""
        days, self._days = list(self._days.values()), {}
        return days

    def give_back(self, days: Iterable[PollDay]) -> None:
        """Counts the store did not take: kept for the next try."""
        self._merge(days)

    @property
    def pending(self) -> Mapping[tuple[int, int], PollDay]:
        """The counts not yet taken, by (feed, day)."""
        return self._days

    def _merge(self, days: Iterable[PollDay]) -> None:
        for day in days:
            key = (day.feed_id, day.day)
            known = self._days.get(key)
            self._days[key] = day if known is None else merged(known, day)
