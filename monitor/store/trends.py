"""Counts over time for the status page's charts, the same SQL on both backends: alerts
per watchlist and day, and new items per feed and day. Days are UTC days, numbered from
the epoch, counted in the database (a month of 100,000 items is one grouped scan)."""

from __future__ import annotations

from monitor.store.dialect import Db

DAY = 86_400.0

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
