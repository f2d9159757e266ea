"""What the web side shows of the store: the status page (feeds, recent alerts,
stories (``web.story_pages``), watchlists, the outbox, as one plain HTML page in which
every text from a feed is escaped) and the JSON API (``/api/feeds``, ``/api/alerts``,
``/api/deliveries``, ``/api/stories``, ``/api/stories/{id}``: what the CLI's ``--json``
gives)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from datetime import datetime
from html import escape

from aiohttp import web

from monitor.feed_views import feed_json
from monitor.models import DeliveryStatus, Message, MessageKind
from monitor.outcome import RecentPolls
from monitor.poll_days import PollDays
from monitor.store.protocols import StatusReads
from monitor.views import delivery_json, iso_utc, source_name, story_json
from monitor.web.feed_pages import FeedPages
from monitor.web.html import linked_title, page, table
from monitor.web.story_pages import StoryPages

RECENT = 50
SEARCH_FORM = (
    '<form id="search" method="get" action="/search">'
    '<input type="search" name="q" size="40" placeholder="a query: karabakh AND truce">'
    " <button>Search stored items</button></form>"
)
MAX_STORIES = 500  # per request: a story holds all its items


class StatusPages:
    """The read-only pages and JSON of one daemon's store."""

    def __init__(
        self,
        store: StatusReads,
        clock: Callable[[], datetime],
        watchlists: Callable[[], list[str]],
        searchable: bool = False,
        recent: RecentPolls | None = None,
        unsaved_days: PollDays | None = None,
    ) -> None:
        self.store = store
        self.searchable = searchable  # /search is served: the page shows its box
        self.clock = clock
        self.watchlists = watchlists
        self.stories = StoryPages(store, clock)
        self.feeds = FeedPages(store, clock, recent, unsaved_days)

    def add_routes(self, app: web.Application) -> None:
        """Mount ``/`` and ``/api/…``."""
        app.router.add_get("/", self.status_page)
        app.router.add_get("/api/feeds", self.api_feeds)
        app.router.add_get("/api/alerts", self.api_alerts)
        app.router.add_get("/api/deliveries", self.api_deliveries)
        app.router.add_get("/api/stories", self.api_stories)
        app.router.add_get("/api/stories/{id}", self.api_story)
        self.stories.add_routes(app)
        self.feeds.add_routes(app)

    async def _alerts(self) -> list[Message]:
        recent = await self.store.deliveries(limit=RECENT * 4)
        return [m for m in recent if m.kind in (MessageKind.ALERT, MessageKind.SPREAD)][:RECENT]

    async def api_feeds(self, request: web.Request) -> web.Response:
        """Every feed with its schedule and health."""
        return web.json_response([feed_json(feed) for feed in await self.store.feeds()])

    async def api_alerts(self, request: web.Request) -> web.Response:
        """Recent alerts, newest first."""
        return web.json_response([delivery_json(m) for m in await self._alerts()])

    async def api_deliveries(self, request: web.Request) -> web.Response:
        """Recent outbox messages of every kind, newest first (``?status=dead``)."""
        status = request.query.get("status")
        try:
            wanted = DeliveryStatus(status) if status else None
        except ValueError:
            return web.json_response({"error": f"unknown status {status!r}"}, status=400)
        messages = await self.store.deliveries(wanted, limit=RECENT * 4)
        return web.json_response([delivery_json(m) for m in messages])

    async def api_stories(self, request: web.Request) -> web.Response:
        """The newest stories as ``stories --json`` gives them (``?limit=``, at most
        ``MAX_STORIES``; 50 by default)."""
        text = request.query.get("limit", str(RECENT))
        if not text.isdigit() or not 1 <= int(text) <= MAX_STORIES:
            return web.json_response(
                {"error": f"limit must be a number from 1 to {MAX_STORIES}"}, status=400
            )
        return web.json_response([story_json(s) for s in await self.store.stories(int(text))])

    async def api_story(self, request: web.Request) -> web.Response:
        """One story, with every item, why it joined and what each watchlist decided."""
        text = request.match_info["id"]
        story = await self.store.story(int(text)) if text.isdigit() else None
        if story is None:
            return web.json_response({"error": f"no story {text}"}, status=404)
        return web.json_response(story_json(story))

    async def status_page(self, request: web.Request) -> web.Response:
        """One read-only page; every text that came from a feed is escaped."""
        feeds = await self.store.feeds()
        alerts = await self._alerts()
        outbox = await self.store.outbox_summary()
        waiting = await self.store.deliveries(DeliveryStatus.PENDING, limit=RECENT)
        dead = await self.store.deliveries(DeliveryStatus.DEAD, limit=RECENT)
        hits = Counter(alert.watchlist for alert in alerts)
        per_day = await self.feeds.items_per_day()
        now = self.clock()
        parts = [
            "<h1>news-monitor</h1>",
            f"<p><small>{escape(iso_utc(now) or '')} · {len(feeds)} feed(s) · "
            f"{outbox.pending} pending · {outbox.dead} dead</small></p>",
            SEARCH_FORM if self.searchable else "",
            self.feeds.feeds_section(feeds, request, per_day),
            "<h2>Recent alerts</h2>",
            table(
                ["Alert", "Watchlist", "Matched", "Status"],
                [
                    [
                        _alert_title(alert),
                        escape(alert.watchlist),
                        escape(", ".join(f"{t.term} ({t.field})" for t in alert.matched)),
                        f'<span class="{alert.status.value}">{alert.status.value}</span>'
                        f" → {escape(alert.notifier)}",
                    ]
                    for alert in alerts
                ],
                "alerts",
            ),
            await self.stories.section(),
            await self.feeds.trends_section(self.watchlists(), per_day),
            "<h2>Watchlists</h2>",
            table(
                ["Watchlist", f"Alerts among the last {RECENT}"],
                [[escape(name), str(hits[name])] for name in self.watchlists()],
                "watchlists",
            ),
            "<h2>Outbox</h2>",
            table(
                ["Message", "Status", "Attempts", "Next attempt", "Last error"],
                [
                    [
                        escape(f"#{m.id} {m.kind.value} [{m.watchlist}] → {m.notifier}"),
                        f'<span class="{m.status.value}">{m.status.value}</span>',
                        str(m.attempts),
                        escape(iso_utc(m.next_attempt_at) or ""),
                        escape(m.last_error or ""),
                    ]
                    for m in [*waiting, *dead]
                ],
                "outbox",
            ),
        ]
        return web.Response(text=page("news-monitor", "".join(parts)), content_type="text/html")


def _alert_title(alert: Message) -> str:
    if alert.stored is None:
        return ""
    title = linked_title(alert.stored.item)
    return f"{title}<br><small>{escape(source_name(alert.stored))}</small>"
