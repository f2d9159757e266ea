"""The optional HTTP side (``web: {listen: 127.0.0.1:8080}``): probes, metrics, a
read-only status page and JSON, on aiohttp.

- ``/healthz``: the process answers; ``/readyz``: the store answers, the scheduler runs
  and shutdown has not begun (503 otherwise);
- ``/metrics``: Prometheus text;
- ``/``: feeds, recent alerts, watchlists and the outbox, as one plain HTML page;
- ``/api/feeds``, ``/api/alerts``, ``/api/deliveries``: JSON arrays.

With ``token:`` set, every path but ``/healthz`` wants ``Authorization: Bearer TOKEN``.
With ``public_url:`` set, ``/websub/{token}`` takes WebSub hubs' verifications and
pushes (``monitor.websub``); hubs carry no bearer token, the URL's token and the
signature are their credentials.
"""

from __future__ import annotations

import hmac
import logging
from collections import Counter
from collections.abc import Awaitable, Callable
from datetime import datetime
from html import escape

from aiohttp import web
from aiohttp.http_exceptions import HttpProcessingError

from monitor.metrics import Metrics
from monitor.models import DeliveryStatus, Message, MessageKind
from monitor.store import StoreError
from monitor.store.protocols import StatusReads
from monitor.views import delivery_json, feed_json, feed_state, iso_utc, source_name
from monitor.websub import CALLBACK_PATH, PushEndpoint

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
RECENT = 50
OPEN_PATHS = frozenset({"/healthz"})
STYLE = """
body{font:15px/1.4 system-ui,sans-serif;margin:1rem auto;max-width:70rem;padding:0 .8rem;color:#222}
h1{font-size:1.3rem}h2{font-size:1.1rem;margin-top:1.6rem}
table{border-collapse:collapse;width:100%}td,th{padding:.3rem .4rem;border-bottom:1px solid #ddd;
text-align:left;vertical-align:top}th{font-weight:600}.scroll{overflow-x:auto}
.ok{color:#176a2a}.failing,.gone,.dead{color:#a11}.stale,.moved,.pending{color:#8a5a00}
small{color:#666}
"""


def parse_listen(listen: str) -> tuple[str, int]:
    """``host:port`` (``[::1]:8080`` for IPv6) → (host, port)."""
    host, _, port = listen.rpartition(":")
    return host.strip("[]") or "127.0.0.1", int(port)


class _BadRequests(logging.Filter):
    """A request aiohttp cannot even parse (headers over 8 KB, a broken request line)
    is the client's fault: one warning line, not an error with a traceback each time."""

    def filter(self, record: logging.LogRecord) -> bool:
        error = record.exc_info[1] if record.exc_info else None
        if isinstance(error, HttpProcessingError):
            first = str(error.message).splitlines()[0] if error.message else ""
            record.msg, record.args = "%s: %s %s", (record.getMessage(), error.code, first[:200])
            record.exc_info = record.exc_text = None
            record.levelno, record.levelname = logging.WARNING, "WARNING"
        return True


def quiet_bad_requests() -> None:
    """Install ``_BadRequests`` on aiohttp's server log (once)."""
    server_log = logging.getLogger("aiohttp.server")
    if not any(isinstance(each, _BadRequests) for each in server_log.filters):
        server_log.addFilter(_BadRequests())


class WebSide:
    """The HTTP side of one daemon; ``ready`` says whether it takes work."""

    def __init__(
        self,
        store: StatusReads,
        metrics: Metrics,
        ready: Callable[[], bool],
        clock: Callable[[], datetime],
        watchlists: Callable[[], list[str]],
        token: str | None = None,
        push: PushEndpoint | None = None,
    ) -> None:
        self.store = store
        self.push = push
        self.metrics = metrics
        self.ready = ready
        self.clock = clock
        self.watchlists = watchlists
        self.token = token
        self._runner: web.AppRunner | None = None

    def application(self) -> web.Application:
        """The routes, behind the token check."""
        app = web.Application(middlewares=[self._guard])
        app.router.add_get("/healthz", self.healthz)
        app.router.add_get("/readyz", self.readyz)
        app.router.add_get("/metrics", self.metrics_text)
        app.router.add_get("/", self.status_page)
        app.router.add_get("/api/feeds", self.api_feeds)
        app.router.add_get("/api/alerts", self.api_alerts)
        app.router.add_get("/api/deliveries", self.api_deliveries)
        if self.push is not None:
            self.push.add_routes(app)
        return app

    async def start(self, listen: str) -> None:
        """Serve on ``host:port`` until ``stop``."""
        quiet_bad_requests()
        host, port = parse_listen(listen)
        self._runner = web.AppRunner(self.application(), access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, host, port).start()

    async def stop(self) -> None:
        """Stop serving."""
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    @web.middleware
    async def _guard(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        if (
            self.token is None
            or request.path in OPEN_PATHS
            or (self.push is not None and request.path.startswith(CALLBACK_PATH))
        ):
            return await handler(request)
        given = request.headers.get("Authorization", "")
        # Constant time: the comparison must not tell how much of a guess was right.
        if hmac.compare_digest(given.encode(), f"Bearer {self.token}".encode()):
            return await handler(request)
        return web.json_response(
            {"error": "a bearer token is required"},
            status=401,
            headers={"WWW-Authenticate": "Bearer"},
        )

    async def healthz(self, request: web.Request) -> web.Response:
        """The process is alive."""
        return web.Response(text="ok\n")

    async def readyz(self, request: web.Request) -> web.Response:
        """Ready for work: scheduler running, not stopping, store answering."""
        if not self.ready():
            return web.Response(status=503, text="not ready\n")
        try:
            await self.store.check_health()
        except StoreError as error:
            return web.Response(status=503, text=f"store: {error}\n")
        return web.Response(text="ready\n")

    async def metrics_text(self, request: web.Request) -> web.Response:
        """Prometheus exposition, with the outbox gauges read now."""
        self.metrics.outbox(await self.store.outbox_summary(), self.clock())
        if self.push is not None:
            states = [subscription.state for subscription in await self.store.subscriptions()]
            self.metrics.subscriptions(states)
        return web.Response(
            body=self.metrics.exposition(),
            headers={"Content-Type": "text/plain; version=0.0.4; charset=utf-8"},
        )

    async def _alerts(self) -> list[Message]:
        recent = await self.store.deliveries(limit=RECENT * 4)
        return [m for m in recent if m.kind is MessageKind.ALERT][:RECENT]

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

    async def status_page(self, request: web.Request) -> web.Response:
        """One read-only page; every text that came from a feed is escaped."""
        feeds = await self.store.feeds()
        alerts = await self._alerts()
        outbox = await self.store.outbox_summary()
        waiting = await self.store.deliveries(DeliveryStatus.PENDING, limit=RECENT)
        dead = await self.store.deliveries(DeliveryStatus.DEAD, limit=RECENT)
        hits = Counter(alert.watchlist for alert in alerts)
        now = self.clock()
        parts = [
            "<!doctype html><html lang=en><head><meta charset=utf-8>",
            '<meta name=viewport content="width=device-width,initial-scale=1">',
            f"<title>news-monitor</title><style>{STYLE}</style></head><body>",
            "<h1>news-monitor</h1>",
            f"<p><small>{escape(iso_utc(now) or '')} · {len(feeds)} feed(s) · "
            f"{outbox.pending} pending · {outbox.dead} dead</small></p>",
            "<h2>Feeds</h2>",
            _table(
                ["Feed", "State", "Last poll", "Next poll", "Last error"],
                [
                    [
                        f"{escape(feed.display_name)}<br><small>{escape(feed.shown_url)}</small>",
                        f'<span class="{feed_state(feed)}">{feed_state(feed)}</span>'
                        + (" <small>pushed</small>" if feed.pushed(now) else ""),
                        escape(iso_utc(feed.last_polled_at) or "never"),
                        escape(iso_utc(feed.next_poll_at) or ""),
                        escape(feed.last_error or ""),
                    ]
                    for feed in feeds
                ],
                "feeds",
            ),
            "<h2>Recent alerts</h2>",
            _table(
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
            "<h2>Watchlists</h2>",
            _table(
                ["Watchlist", f"Alerts among the last {RECENT}"],
                [[escape(name), str(hits[name])] for name in self.watchlists()],
                "watchlists",
            ),
            "<h2>Outbox</h2>",
            _table(
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
            "</body></html>",
        ]
        return web.Response(text="".join(parts), content_type="text/html")


def _alert_title(alert: Message) -> str:
    if alert.stored is None:
        return ""
    item = alert.stored.item
    title = escape(item.title or "(untitled)")
    if item.link and item.link.startswith(("http://", "https://")):
        title = f'<a href="{escape(item.link)}" rel="noreferrer">{title}</a>'
    return f"{title}<br><small>{escape(source_name(alert.stored))}</small>"


def _table(headers: list[str], rows: list[list[str]], name: str) -> str:
    """A table of cells that are already escaped HTML; "none" when there are no rows."""
    if not rows:
        return f'<p id="{name}"><small>none</small></p>'
    head = "".join(f"<th>{escape(header)}</th>" for header in headers)
    body = "".join("<tr>" + "".join(f"<td>{cell}</td>" for cell in row) + "</tr>" for row in rows)
    return f'<div class=scroll><table id="{name}"><tr>{head}</tr>{body}</table></div>'
