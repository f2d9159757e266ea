"""Counts over time for the status page's charts, the same SQL on both backends: alerts
per watchlist and day, new items per feed and day, and polls per feed and day. Days are
UTC days, numbered from the epoch, counted in the database (a month of 100,000 items is
one grouped scan)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

from monitor.poll_days import PollDay
from monitor.store.dialect import Db

DAY = 86_400.0
KEEP_POLL_DAYS = timedelta(days=90)  # how long a feed's days of polls are kept

Counts = dict[str, dict[int, int]]


def _day(db: Db, column: str) -> str:
    scaled = f"{column} / {DAY}"
    return f"({scaled} - {db.fraction(scaled)})"


async def alerts_per_day(db: Db, since: float) -> Counts:
    """Per watchlist, the stories it alerted each day since ``since`` (one per story,
    whatever the number of notifiers; spread and like watchlists included)."""
    rows = await db.fetch(
        f"SELECT watchlist, {_day(db, 'decided_at')} AS day, COUNT(*) AS alerts"
        " FROM story_watch WHERE state = 'alerted' AND decided_at >= ? GROUP BY 1, 2",
        since,
    )
    found: Counts = {}
    for row in rows:
        found.setdefault(row["watchlist"], {})[int(row["day"])] = int(row["alerts"])
    return found


async def items_per_day(
    db: Db, since: float, feed_id: int | None = None
) -> dict[int, dict[int, int]]:
    """Per feed (or for one), the new items it brought each day since ``since``."""
    where = "first_seen_at >= ?" + ("" if feed_id is None else " AND feed_id = ?")
    args: list[object] = [since] if feed_id is None else [since, feed_id]
    # Grouped by day first: the planner then reads the (first_seen_at, feed_id) index
    # alone, not the feeds' index and every row (migration 0014).
    rows = await db.fetch(
        f"SELECT {_day(db, 'first_seen_at')} AS day, feed_id, COUNT(*) AS items"
        f" FROM items WHERE {where} GROUP BY 1, 2",
        *args,
    )
    found: dict[int, dict[int, int]] = {}
    for row in rows:
        found.setdefault(row["feed_id"], {})[int(row["day"])] = int(row["items"])
    return found


async def add_poll_days(db: Db, days: Sequence[PollDay]) -> None:
    """Add counted polls to each feed's stored day (summed: instances add up)."""
    await db.execute_each(
        "INSERT INTO poll_days (feed_id, day, polls, failures, stale) VALUES (?, ?, ?, ?, ?)"
        " ON CONFLICT (feed_id, day) DO UPDATE SET"
        " polls = poll_days.polls + excluded.polls,"
        " failures = poll_days.failures + excluded.failures,"
        f" stale = {db.greatest('poll_days.stale', 'excluded.stale')}",
        [(day.feed_id, day.day, day.polls, day.failures, int(day.stale)) for day in days],
    )


async def poll_days(db: Db, since_day: int, feed_id: int | None = None) -> list[PollDay]:
    """Each feed's (or one feed's) stored days from ``since_day`` on."""
    where = "day >= ?" + ("" if feed_id is None else " AND feed_id = ?")
    args: list[object] = [since_day] if feed_id is None else [since_day, feed_id]
    rows = await db.fetch(
        f"SELECT feed_id, day, polls, failures, stale FROM poll_days WHERE {where}", *args
    )
    return [
        PollDay(
            int(row["feed_id"]),
            int(row["day"]),
            int(row["polls"]),
            int(row["failures"]),
            bool(row["stale"]),
        )
        for row in rows
    ]


async def prune_poll_days(db: Db, before_day: int) -> None:
    """Forget days before ``before_day``, and the days of feeds that are gone."""
    await db.execute(
        "DELETE FROM poll_days WHERE day < ? OR feed_id NOT IN (SELECT id FROM feeds)",
        before_day,
    )


async def feed_health_per_day(db: Db, since_day: int) -> dict[str, dict[int, int]]:
    """Per health (``failing``, ``flaky``, ``stale``: as ``day_health`` names a day),
    how many feeds had such a day, each day from ``since_day`` on."""
    rows = await db.fetch(
        "SELECT day,"
        " SUM(CASE WHEN failures >= polls THEN 1 ELSE 0 END) AS failing,"
        " SUM(CASE WHEN failures > 0 AND failures < polls THEN 1 ELSE 0 END) AS flaky,"
        " SUM(CASE WHEN failures = 0 AND stale > 0 THEN 1 ELSE 0 END) AS stale"
        " FROM poll_days WHERE day >= ? AND polls > 0 GROUP BY day",
        since_day,
    )
    found: dict[str, dict[int, int]] = {"failing": {}, "flaky": {}, "stale": {}}
    for row in rows:
        for health, counts in found.items():
            if row[health]:
                counts[int(row["day"])] = int(row[health])
    return found
