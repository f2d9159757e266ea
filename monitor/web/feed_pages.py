"""Feeds and trends on the status page: the feeds as a table sorted and filtered by the
page's own links and form (no script: ``/?sort=failures&feed=bbc``), a page per feed
(``/feeds/{id}``: its schedule, health, new items per day and newest items), and the
trends (stories alerted per watchlist per day, new items per day, feeds failing or stale
per day) as inline SVG charts drawn from stored counts, and each feed's health over the
days as a strip."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from html import escape
from urllib.parse import urlencode

from aiohttp import web

from monitor.feed_views import feed_state
from monitor.models import FeedState
from monitor.outcome import PollSummary, RecentPolls
from monitor.poll_days import PollDay, PollDays, day_health, merged, utc_day
from monitor.store.protocols import StatusReads
from monitor.views import duration_text, iso_utc
from monitor.web.charts import DAYS, bar_chart, day_labels, poll_strip, strip
from monitor.web.html import linked_title, message_page, page, table

NEWEST_ITEMS = 20
# The feeds table's orders, by the link text of their column.
SORTS = {
    "feed": "Feed",
    "state": "State",
    "new": "Last new item",
    "failures": "Failures",
    "items": f"Items ({DAYS} d)",
}
# How each order runs, for screen readers (the troubled, newest and busiest first).
DIRECTIONS = {
    "feed": "ascending",
    "state": "other",
    "new": "descending",
    "failures": "descending",
    "items": "descending",
}
# The trends' rows of feeds by health (as ``day_health`` names a day).
HEALTH_ROWS = {
    "failing": "feeds failing (every poll failed)",
    "flaky": "feeds with some failed polls",
    "stale": "feeds stale (silent far longer than usual)",
}
STATE_ORDER = {"failing": 0, "gone": 1, "stale": 2, "moved": 3, "new": 4, "ok": 5}


def sort_key(order: str, feed: FeedState, items: int) -> tuple[object, ...]:
    """Where a feed goes in the table sorted by ``order``: the troubled first, the
    newest first, the busiest first; by name within each."""
    name = feed.display_name.casefold()
    if order == "state":
        return (STATE_ORDER.get(feed_state(feed), 9), name)
    if order == "new":
        newest = feed.last_new_item_at
        return (0, -newest.timestamp(), name) if newest else (1, 0.0, name)
    if order == "failures":
        return (-feed.error_count, name)
    if order == "items":
        return (-items, name)
    return (name,)


class FeedPages:
    """The feeds table and trends of ``/``, and the page of each feed."""

    def __init__(
        self,
        store: StatusReads,
        clock: Callable[[], datetime],
        recent: RecentPolls | None = None,
        unsaved_days: PollDays | None = None,
    ) -> None:
        self.store = store
        self.clock = clock
        self.recent = recent  # this process's recent polls of each feed
        # This process's polls per day that the store has not taken yet (the strip is
        # drawn from both, so it is current between saves).
        self.unsaved_days = unsaved_days

    def add_routes(self, app: web.Application) -> None:
        """Mount ``/feeds/{id}``."""
        app.router.add_get("/feeds/{id}", self.feed_page)

    async def items_per_day(self) -> dict[int, dict[int, int]]:
        """New items per feed and day for the last 30 days (read once per page)."""
        return await self.store.items_per_day(self.clock() - timedelta(days=DAYS))

    def feeds_section(
        self, feeds: list[FeedState], request: web.Request, counts: Mapping[int, Mapping[int, int]]
    ) -> str:
        """The feeds, sorted by ``?sort=`` and filtered by ``?feed=`` (name or URL);
        ``counts``: ``items_per_day``."""
        now = self.clock()
        items = {feed_id: sum(days.values()) for feed_id, days in counts.items()}
        wanted = request.query.get("feed", "").strip()
        shown = [
            feed
            for feed in feeds
            if not wanted
            or wanted.casefold() in feed.display_name.casefold()
            or wanted.casefold() in feed.shown_url.casefold()
        ]
        order = request.query.get("sort", "feed")
        if order not in SORTS:
            order = "feed"
        shown.sort(key=lambda feed: sort_key(order, feed, items.get(feed.id, 0)))
        filter_form = (
            '<form id="feed-filter" method="get" action="/#feeds">'
            f'<input type="hidden" name="sort" value="{escape(order)}">'
            f'<input type="search" name="feed" value="{escape(wanted)}" placeholder="name or URL">'
            " <button>Filter</button></form>"
        )
        header = "".join(
            f"<th{f' aria-sort={DIRECTIONS[name]}' if name == order else ''}>"
            f'<a href="/?{escape(urlencode(_query(name, wanted)))}#feeds">{escape(label)}</a></th>'
            for name, label in SORTS.items()
        )
        header += "<th>Next poll</th><th>Last error</th>"
        rows = "".join(
            "<tr>"
            f'<td><a href="/feeds/{feed.id}">{escape(feed.display_name)}</a>'
            f"<br><small>{escape(feed.shown_url)}</small></td>"
            f'<td><span class="{feed_state(feed)}">{feed_state(feed)}</span>'
            + (" <small>pushed</small>" if feed.pushed(now) else "")
            + f"</td><td>{escape(iso_utc(feed.last_new_item_at) or 'never')}</td>"
            f"<td>{feed.error_count}</td><td>{items.get(feed.id, 0)}</td>"
            f"<td>{escape(iso_utc(feed.next_poll_at) or '')}"
            f"<br><small>{escape(feed.poll_reason or '')}</small></td>"
            f"<td>{escape(feed.last_error or '')}</td></tr>"
            for feed in shown
        )
        listed = f"<p><small>{len(shown)} of {len(feeds)} feed(s)</small></p>"
        body = (
            f'<div class=scroll><table id="feeds"><tr>{header}</tr>{rows}</table></div>'
            if shown
            else '<p id="feeds"><small>none</small></p>'
        )
        return f'<h2 id="feeds-heading">Feeds</h2>{filter_form}{listed}{body}'

    async def trends_section(
        self, watchlists: list[str], counts: Mapping[int, Mapping[int, int]]
    ) -> str:
        """Stories alerted per watchlist per day, and new items per day (``counts``:
        ``items_per_day``), for 30 days."""
        now = self.clock()
        days = day_labels(utc_day(now))
        alerts = await self.store.alerts_per_day(now - timedelta(days=DAYS))
        total: dict[int, int] = {}
        for per_day in counts.values():
            for day, count in per_day.items():
                total[day] = total.get(day, 0) + count
        names = list(dict.fromkeys([*watchlists, *sorted(alerts)]))
        rows = [
            [
                escape(name),
                bar_chart(alerts.get(name, {}), days, f"stories alerted by {name}"),
                str(sum(alerts.get(name, {}).get(day, 0) for day, _ in days)),
            ]
            for name in names
        ]
        rows.append(
            [
                "<em>new items, all feeds</em>",
                bar_chart(total, days, "new items"),
                str(sum(total.get(day, 0) for day, _ in days)),
            ]
        )
        health = await self.store.feed_health_per_day(now - timedelta(days=DAYS - 1))
        for name, label in HEALTH_ROWS.items():
            per_day = health.get(name, {})
            rows.append(
                [
                    f"<em>{escape(label)}</em>",
                    bar_chart(per_day, days, label),
                    str(sum(per_day.get(day, 0) for day, _ in days)),
                ]
            )
        span = f"{days[0][1]} – {days[-1][1]} (UTC days)"
        return f"<h2>Trends</h2><p><small>{escape(span)}</small></p>" + table(
            ["Watchlist", "Stories alerted per day", "Total"], rows, "trends"
        )

    async def feed_page(self, request: web.Request) -> web.Response:
        """One feed: its schedule and health, new items per day, its newest items."""
        text = request.match_info["id"]
        feeds = {feed.id: feed for feed in await self.store.feeds()}
        feed = feeds.get(int(text)) if text.isdigit() else None
        if feed is None:
            return message_page("no such feed", f"No feed {escape(text)} is polled.", 404)
        now = self.clock()
        days = day_labels(utc_day(now))
        counts = (await self.store.items_per_day(now - timedelta(days=DAYS), feed.id)).get(
            feed.id, {}
        )
        newest = await self.store.feed_items(feed.id, NEWEST_ITEMS)
        facts = _facts(feed)
        items = table(
            ["Item", "Seen", "Story"],
            [
                [
                    linked_title(stored.item),
                    escape(iso_utc(stored.first_seen_at) or ""),
                    f'<a href="/stories/{stored.story_id}">{stored.story_id}</a>',
                ]
                for stored in newest
            ],
            "items",
        )
        body = (
            f"<h1>{escape(feed.display_name)}</h1>"
            f'<p><small>{escape(feed.shown_url)} · <a href="/">status</a></small></p>'
            + table(["", ""], [[escape(k), v] for k, v in facts.items()], "feed")
            + f"<h2>New items per day</h2>{bar_chart(counts, days, 'new items')}"
            + await self._health_days(feed, days)
            + self._recent_polls(feed)
            + f"<h2>Newest items</h2>{items}"
        )
        return web.Response(
            text=page(f"{feed.display_name} · news-monitor", body), content_type="text/html"
        )

    async def _health_days(self, feed: FeedState, days: list[tuple[int, str]]) -> str:
        """The feed's health each day (stored, from every instance): a square a day."""
        since = self.clock() - timedelta(days=DAYS - 1)
        stored = {day.day: day for day in await self.store.poll_days(since, feed.id)}
        unsaved = {} if self.unsaved_days is None else self.unsaved_days.pending
        for (feed_id, number), day in unsaved.items():
            if feed_id == feed.id:
                known = stored.get(number)
                stored[number] = day if known is None else merged(known, day)
        squares = [
            (day_health(stored.get(day)), _day_tip(label, stored.get(day))) for day, label in days
        ]
        states = [state for state, _ in squares]
        label = ", ".join(f"{states.count(name)} {name}" for name in dict.fromkeys(states))
        return (
            "<h2>Health per day</h2><p><small>every poll by every instance; a square a"
            f" UTC day, {escape(days[0][1])} – {escape(days[-1][1])}</small></p>"
            + strip(squares, f"{len(days)} days: {label}", "health-strip")
        )

    def _recent_polls(self, feed: FeedState) -> str:
        """This process's last polls of the feed: a strip (one square a poll, by how it
        ended) and a table, newest first."""
        if self.recent is None:
            return ""
        polls = self.recent.of(feed.id)
        rows = [
            [
                escape(iso_utc(poll.at) or ""),
                f'<span class="{_health(poll)}">{escape(poll.answer)}</span>',
                f"{poll.fetched_bytes:,}",
                f"{poll.seconds:.2f}",
                str(poll.stored),
                escape(poll.next_reason or ""),
                escape(poll.error or ""),
            ]
            for poll in reversed(polls)
        ]
        heading = (
            "<h2>Recent polls</h2><p><small>by this instance since it started,"
            f" the last {len(polls)}</small></p>"
        )
        columns = ["Polled", "Answer", "Bytes", "Seconds", "New items", "Next poll by", "Error"]
        return (
            heading + poll_strip([_health(poll) for poll in polls]) + table(columns, rows, "polls")
        )


def _day_tip(label: str, day: PollDay | None) -> str:
    """A day's square's tooltip: its date, polls, failures, and whether it was stale."""
    if day is None or not day.polls:
        return f"{label}: not polled"
    stale = ", stale" if day.stale else ""
    return f"{label}: {day.polls} polls, {day.failures} failed{stale}"


def _health(poll: PollSummary) -> str:
    """How a poll ended, as the strip colours it: ok, or failing."""
    return "failing" if poll.status in ("failed", "dropped") else "ok"


def _query(order: str, wanted: str) -> dict[str, str]:
    return {"sort": order, "feed": wanted} if wanted else {"sort": order}


def _facts(feed: FeedState) -> Mapping[str, str]:
    state = feed_state(feed)
    return {
        "State": f'<span class="{state}">{state}</span>',
        "Interval": escape(duration_text(feed.interval)),
        "Last poll": escape(iso_utc(feed.last_polled_at) or "never")
        + (f" (HTTP {feed.last_status})" if feed.last_status else ""),
        "Next poll": escape(iso_utc(feed.next_poll_at) or "")
        + (f" ({escape(feed.poll_reason)})" if feed.poll_reason else ""),
        "Last new item": escape(iso_utc(feed.last_new_item_at) or "never"),
        "Failures in a row": str(feed.error_count),
        "Last error": escape(feed.last_error or ""),
        "Claimed by": escape(feed.claimed_by or ""),
    }
