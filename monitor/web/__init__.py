"""The optional HTTP side (``web: {listen: 127.0.0.1:8080}``): probes, metrics, a
read-only status page and JSON, on aiohttp.

- ``/healthz``: the process answers; ``/readyz``: the store answers, the scheduler runs
  and shutdown has not begun (503 otherwise);
- ``/metrics``: Prometheus text;
- ``/``: feeds, recent alerts, watchlists and the outbox, as one plain HTML page;
- ``/api/feeds``, ``/api/alerts``, ``/api/deliveries``: JSON arrays.

With ``token:`` set, every path but ``/healthz`` wants ``Authorization: Bearer TOKEN``.
With ``public_url:`` set, ``/websub/{token}`` takes WebSub hubs' verifications and
pushes (``push``); hubs carry no bearer token, the URL's token and the signature are
their credentials. The pages and the API are ``status``'s, the metrics ``metrics``'s;
everything here reads the store, never the configuration.
"""

from __future__ import annotations

import hmac
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime

from aiohttp import web
from aiohttp.http_exceptions import HttpProcessingError

from monitor.outcome import RecentPolls
from monitor.poll_days import PollDays
from monitor.store import StoreError
from monitor.store.protocols import StatusReads
from monitor.web.metrics import Metrics
from monitor.web.push import PushEndpoint
from monitor.web.search import QueryBuilder, SearchApi
from monitor.web.status import StatusPages
from monitor.websub import CALLBACK_PATH

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
OPEN_PATHS = frozenset({"/healthz"})


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
        query: QueryBuilder | None = None,
        recent_polls: RecentPolls | None = None,
        poll_days: PollDays | None = None,
    ) -> None:
        self.store = store
        self.push = push
        self.search = None if query is None else SearchApi(store, query)
        self.metrics = metrics
        self.ready = ready
        self.clock = clock
        self.pages = StatusPages(
            store,
            clock,
            watchlists,
            searchable=self.search is not None,
            recent=recent_polls,
            unsaved_days=poll_days,
        )
        self.token = token
        self._runner: web.AppRunner | None = None

    def application(self) -> web.Application:
        """The routes, behind the token check."""
        app = web.Application(middlewares=[self._guard])
        app.router.add_get("/healthz", self.healthz)
        app.router.add_get("/readyz", self.readyz)
        app.router.add_get("/metrics", self.metrics_text)
        self.pages.add_routes(app)
        if self.search is not None:
            self.search.add_routes(app)
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
