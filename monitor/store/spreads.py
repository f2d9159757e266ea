"""Spread alerts, counted by the store: after a batch's items are written, each story
an item joined is checked against the spread watchlists (``spread.spread_of``) with its
reports from the database, so every instance sharing it counts the same sources. The
save holds the story lock, so two instances never count one story at once.

A spread alert is an outbox row of kind ``spread`` with its sources kept in ``body``
as they were when it spread (the same body on every retry), and a ``story_watch``
decision, ``alerted``, that keeps it to one per story and watchlist.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from monitor.models import StoredItem
from monitor.spread import MAX_SHOWN, Reached, Report, SpreadRule, reported_at, spread_of
from monitor.store.dialect import Db
from monitor.store.rows import (
    ITEM_COLUMNS,
    new_message_id,
    spread_source_json,
    stored_item_from_row,
)


async def spread_alerts(
    db: Db,
    feed_id: int,
    joined: Sequence[tuple[int, int]],
    now: float,
    rules: Sequence[SpreadRule],
    decision_sql: str,
) -> int:
    """Queue the spread alerts that the items in ``joined`` (item id, story id: items
    that joined stories begun before this batch) set off; how many were queued."""
    if not joined:
        return 0
    watching = list(rules)
    if any(rule.feed_urls is not None for rule in rules):
        (feed,) = await db.fetch("SELECT url FROM feeds WHERE id = ?", feed_id)
        watching = [rule for rule in rules if rule.watches(feed["url"])]
    if not watching:
        return 0  # a report from a feed no rule counts changes no count
    trigger = {story_id: item_id for item_id, story_id in joined}  # the last to join
    stories = await _open_stories(db, sorted(trigger), [rule.watchlist for rule in watching], now)
    if not stories:
        return 0
    longest = max(rule.within for rule in watching).total_seconds()
    reports = await _reports(db, sorted(stories), now - longest)
    reached: list[tuple[int, Reached]] = []
    for story_id, done in sorted(stories.items()):
        for rule in watching:
            if rule.watchlist in done:
                continue
            found = spread_of(rule, reports.get(story_id, ()), now)
            if found is not None:
                reached.append((story_id, found))
    if not reached:
        return 0
    shown = await _items(db, {r.item_id for _, found in reached for r in found.reports[:MAX_SHOWN]})
    alerts, decisions = [], []
    for story_id, found in reached:
        rule = found.rule
        body = json.dumps(_body(found, shown), ensure_ascii=False)
        first = found.reports[0].item_id
        decision = (story_id, rule.watchlist, "alerted", trigger[story_id], feed_id, None, now)
        decisions.append(decision)
        alerts += [
            (new_message_id(), rule.watchlist, story_id, first, notifier, body, now, now)
            for notifier in rule.notifiers
        ]
    await db.execute_each(decision_sql, decisions)
    if not alerts:
        return 0
    return await db.execute_each(
        """
        INSERT INTO deliveries (message_id, kind, watchlist, story_id, item_id, notifier,
            body, next_attempt_at, created_at)
        VALUES (?, 'spread', ?, ?, ?, ?, ?, ?, ?)
        ON CONFLICT (kind, watchlist, story_id, notifier, slot) DO NOTHING
        """,
        alerts,
    )


async def _open_stories(
    db: Db, stories: Sequence[int], watchlists: Sequence[str], now: float
) -> dict[int, set[str]]:
    """The stories that may still spread (not of the stored sample, not muted now),
    each with the spread watchlists that have alerted it already (one query)."""
    open_stories: dict[int, set[str]] = {}
    for row in await db.fetch(
        "SELECT s.id, w.watchlist FROM stories s LEFT JOIN story_watch w"
        f" ON w.story_id = s.id AND w.state = 'alerted' AND {db.any_of('w.watchlist')}"
        f" WHERE {db.any_of('s.id')} AND s.seeded = FALSE"
        " AND (s.muted_at IS NULL OR (s.muted_until IS NOT NULL AND s.muted_until <= ?))",
        db.as_list(sorted(watchlists)),
        db.as_list(stories),
        now,
    ):
        alerted = open_stories.setdefault(row["id"], set())
        if row["watchlist"] is not None:
            alerted.add(row["watchlist"])
    return open_stories


async def _reports(db: Db, stories: Sequence[int], cutoff: float) -> dict[int, list[Report]]:
    """Each story's items reported since ``cutoff`` (see ``spread.reported_at``)."""
    found: dict[int, list[Report]] = {}
    for row in await db.fetch(
        "SELECT i.id, i.story_id, f.url, i.published, i.first_seen_at, i.watchlists"
        " FROM items i JOIN feeds f ON f.id = i.feed_id"
        f" WHERE {db.any_of('i.story_id')} AND i.first_seen_at >= ?"
        " AND (i.published IS NULL OR i.published >= ?)",
        db.as_list(stories),
        cutoff,
        cutoff,
    ):
        found.setdefault(row["story_id"], []).append(
            Report(
                row["id"],
                row["url"],
                reported_at(row["published"], row["first_seen_at"]),
                frozenset(json.loads(row["watchlists"] or "[]")),
            )
        )
    return found


async def _items(db: Db, ids: set[int]) -> dict[int, StoredItem]:
    rows = await db.fetch(
        f"SELECT {ITEM_COLUMNS} FROM items i JOIN feeds f ON f.id = i.feed_id"
        f" WHERE {db.any_of('i.id')}",
        db.as_list(sorted(ids)),
    )
    return {row["id"]: stored_item_from_row(row) for row in rows}


def _body(found: Reached, shown: dict[int, StoredItem]) -> dict[str, Any]:
    """The sources as the alert keeps them (``spread_from_body`` reads them back)."""
    sources = [
        spread_source_json(site, report.reported_at, shown[report.item_id])
        for site, report in zip(found.sites, found.reports, strict=True)
        if report.item_id in shown
    ][:MAX_SHOWN]
    return {
        "threshold": found.rule.sources,
        "within": found.rule.within.total_seconds(),
        "sources": sources,
        "more": len(found.reports) - len(sources),
    }
