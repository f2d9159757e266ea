"""Shared fixtures: a real local feed server, a webhook receiver, settings on a temp SQLite."""

from __future__ import annotations

import asyncio
import textwrap
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from monitor.config import Settings, parse_settings

CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus" / "feeds"
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


@pytest.fixture
async def feeds() -> Any:
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
    yield state["server"]
    await test_server.close()


@dataclass
class Receiver:
    """A webhook receiver that records every request and answers as the test scripts."""

    server: TestServer
    requests: list[tuple[dict[str, str], bytes]] = field(default_factory=list)
    answers: list[web.Response | float] = field(default_factory=list)
    arrived: asyncio.Event = field(default_factory=asyncio.Event)

    def url(self, path: str = "/hook") -> str:
        return str(self.server.make_url(path))

    @property
    def bodies(self) -> list[bytes]:
        return [body for _, body in self.requests]


@pytest.fixture
async def receiver() -> Any:
    """Answers 200 unless the test queued answers (a Response, or seconds to hang)."""
    state: dict[str, Receiver] = {}

    async def hook(request: web.Request) -> web.StreamResponse:
        current = state["receiver"]
        body = await request.read()
        current.requests.append((dict(request.headers), body))
        current.arrived.set()
        if current.answers:
            answer = current.answers.pop(0)
            if isinstance(answer, float | int):
                await asyncio.sleep(answer)
                return web.Response(text="late")
            return answer
        return web.Response(text="ok")

    app = web.Application()
    app.router.add_post("/{tail:.*}", hook)
    test_server = TestServer(app, host="127.0.0.1")
    await test_server.start_server()
    state["receiver"] = Receiver(test_server)
    yield state["receiver"]
    await test_server.close()


def make_settings(tmp_path: Path, yaml_text: str, **env: str) -> Settings:
    """Settings from YAML, stored in a fresh SQLite file under tmp_path."""
    text = textwrap.dedent(yaml_text)
    if "storage:" not in text:
        text = f"storage: sqlite:///{tmp_path / 'monitor.db'}\n" + text
    return parse_settings(text, "test.yaml", env)


@pytest.fixture
def corpus() -> Path:
    """The captured real feeds; tests that need them skip when they are absent."""
    if not CORPUS.is_dir():
        pytest.skip("the shared feed corpus is not present")
    return CORPUS
