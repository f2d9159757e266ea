"""Real local HTTP servers: feeds the test serves route by route, and a webhook
receiver that records every request and answers as the test scripts."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field

from aiohttp import web
from aiohttp.test_utils import TestServer

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@dataclass
class FeedServer:
    """A local HTTP server whose routes the test sets: fixed bodies or handlers."""

    server: TestServer
    routes: dict[str, Handler] = field(default_factory=dict)
    hits: dict[str, list[web.Request]] = field(default_factory=dict)

    def url(self, path: str) -> str:
        return str(self.server.make_url(path))

    def serve(
        self,
        path: str,
        body: str | bytes,
        *,
        content_type: str = "application/xml",
        status: int = 200,
        headers: dict[str, str] | None = None,
    ) -> str:
        data = body.encode() if isinstance(body, str) else body

        async def handler(request: web.Request) -> web.StreamResponse:
            return web.Response(
                body=data, status=status, content_type=content_type, headers=headers
            )

        return self.handle(path, handler)

    def handle(self, path: str, handler: Handler) -> str:
        self.routes[path] = handler
        return self.url(path)


@contextlib.asynccontextmanager
async def feed_server() -> AsyncIterator[FeedServer]:
    """A feed server on 127.0.0.1; unknown paths answer 404."""
    state: dict[str, FeedServer] = {}

    async def dispatch(request: web.Request) -> web.StreamResponse:
        server = state["server"]
        server.hits.setdefault(request.path, []).append(request)
        handler = server.routes.get(request.path)
        if handler is None:
            raise web.HTTPNotFound()
        return await handler(request)

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", dispatch)
    test_server = TestServer(app, host="127.0.0.1")
    await test_server.start_server()
    state["server"] = FeedServer(test_server)
    try:
        yield state["server"]
    finally:
        await test_server.close()


@dataclass
class Receiver:
    """A webhook receiver that records every request and answers as the test scripts."""

    server: TestServer
    requests: list[tuple[dict[str, str], bytes]] = field(default_factory=list)
    statuses: list[int] = field(default_factory=list)  # what each request was answered
    # A Response, seconds to hang, or a function of the request (to echo its path).
    answers: list[web.Response | float | Callable[[web.Request], web.Response | float]] = field(
        default_factory=list
    )
    arrived: asyncio.Event = field(default_factory=asyncio.Event)

    def url(self, path: str = "/hook") -> str:
        return str(self.server.make_url(path))

    @property
    def bodies(self) -> list[bytes]:
        return [body for _, body in self.requests]


@contextlib.asynccontextmanager
async def webhook_receiver() -> AsyncIterator[Receiver]:
    """Answers 200 unless the test queued answers (a Response, or seconds to hang)."""
    state: dict[str, Receiver] = {}

    async def hook(request: web.Request) -> web.StreamResponse:
        current = state["receiver"]
        body = await request.read()
        current.requests.append((dict(request.headers), body))
        current.arrived.set()
        answer = current.answers.pop(0) if current.answers else web.Response(text="ok")
        if callable(answer):
            answer = answer(request)
        if isinstance(answer, float | int):
            await asyncio.sleep(answer)
            answer = web.Response(text="late")
        current.statuses.append(answer.status)
        return answer

    app = web.Application()
    app.router.add_post("/{tail:.*}", hook)
    test_server = TestServer(app, host="127.0.0.1")
    await test_server.start_server()
    state["receiver"] = Receiver(test_server)
    try:
        yield state["receiver"]
    finally:
        await test_server.close()
