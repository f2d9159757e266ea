"""Shared fixtures: a real local feed server, a webhook receiver, settings on a temp SQLite."""

from __future__ import annotations

import asyncio
import contextlib
import os
import subprocess
import sys
import textwrap
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from monitor.config import Settings, parse_settings
from monitor.runtime import Runtime
from monitor.store import PostgresStore, SQLiteStore, Store

ROOT = Path(__file__).resolve().parents[1]
pytest_plugins = ["tests.daemons"]  # the `launcher` fixture
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


@pytest.fixture
async def receiver() -> Any:
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


async def queue_alerts(
    store: Any,
    entries: list[tuple[str, str]],
    notifiers: tuple[str, ...] = ("hook",),
    feed_url: str = "https://news.example/feed",
    summary: str = "Armenia and Azerbaijan agreed to a humanitarian ceasefire.",
    now: Any = None,
    watchlist: str = "karabakh",
) -> None:
    """Store one item per (key, title) on a feed and queue an alert for each notifier,
    at ``now`` (the real time unless given)."""
    from datetime import UTC, datetime, timedelta

    from monitor.dedupe import identify
    from monitor.models import FeedSpec, Item, Match, MatchedTerm, NewItem, PollRecord

    now = now or datetime.now(UTC)
    await store.sync_feeds([FeedSpec(feed_url, "News", timedelta(minutes=10), False)], now)
    (feed,) = [feed for feed in await store.feeds() if feed.url == feed_url]
    items = identify(
        [
            Item(
                entry_key=key,
                guid=key,
                title=title,
                link=f"https://news.example/{key}",
                summary=summary,
                content="",
                published=datetime(2020, 10, 10, 9, 0, tzinfo=UTC),
            )
            for key, title in entries
        ]
    )
    terms = (MatchedTerm("ceasefire", "title"), MatchedTerm("Karabakh", "summary"))
    new = [NewItem(item, (Match(watchlist, notifiers, terms),)) for item in items]
    record = PollRecord(now, now + timedelta(minutes=10), 200, None)
    await store.save_poll(feed.id, new, record, alert=True)


class FakeClock:
    """A clock the test moves by hand.

    It starts a second after the real time: close enough for signatures to verify, and
    late enough that what the test queued with the real clock is already due.
    """

    def __init__(self, start: Any = None) -> None:
        from datetime import UTC, datetime, timedelta

        self.now = start or datetime.now(UTC) + timedelta(seconds=1)

    def __call__(self) -> Any:
        return self.now

    def advance(self, **delta: float) -> None:
        from datetime import timedelta

        self.now += timedelta(**delta)

    async def sleep(self, seconds: float) -> None:
        """A sleep that moves this clock instead of waiting."""
        self.advance(seconds=seconds)


@contextlib.contextmanager
def mounted_tmpfs(folder: Path, size: str, *, read_only: bool = False) -> Iterator[Path]:
    """A real, small filesystem at ``folder`` (needs root; the test skips without it)."""
    folder.mkdir(parents=True, exist_ok=True)
    options = f"size={size}" + (",ro" if read_only else "")
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(folder)],
        capture_output=True,
        check=False,
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.decode().strip()}")
    try:
        yield folder
    finally:
        subprocess.run(["umount", "-l", str(folder)], check=False)


async def cli(*args: str, cwd: Path) -> tuple[int, str, str]:
    """Run ``python -m monitor`` as a user would, without blocking the test's servers;
    a command that does not exit within two minutes fails the test as hung."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "monitor",
        *args,
        cwd=cwd,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    try:
        out, err = await asyncio.wait_for(process.communicate(), timeout=120)
    except TimeoutError:
        process.kill()
        await process.wait()
        raise AssertionError(f"news-monitor {' '.join(args)} hung") from None
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


StoreFactory = Callable[[], Store]


POSTGRES_ENV = "NEWS_MONITOR_TEST_POSTGRES"


@pytest.fixture
async def postgres_dsn() -> AsyncIterator[str]:
    """A PostgreSQL URL whose tables live in a schema of this test's own, dropped after.

    The server comes from $NEWS_MONITOR_TEST_POSTGRES (``.ci/run`` sets it); without it
    the test is skipped, saying so.
    """
    import uuid

    import asyncpg

    base = os.environ.get(POSTGRES_ENV)
    if not base:
        pytest.skip(f"set {POSTGRES_ENV}=postgresql://USER@HOST/DATABASE to run it on PostgreSQL")
    schema = f"test_{uuid.uuid4().hex[:16]}"
    connection = await asyncpg.connect(base)
    try:
        await connection.execute(f"CREATE SCHEMA {schema}")
    finally:
        await connection.close()
    yield f"{base}{'&' if '?' in base else '?'}search_path={schema}"
    connection = await asyncpg.connect(base)
    try:
        await connection.execute(f"DROP SCHEMA {schema} CASCADE")
    finally:
        await connection.close()


@pytest.fixture(params=["sqlite", "postgresql"])
def store_factory(request: pytest.FixtureRequest, tmp_path: Path) -> StoreFactory:
    """Makes stores of each backend on one database, so a test can reopen it. Every
    test that needs a store takes it from here, so a new backend runs them all."""
    if request.param == "sqlite":
        return lambda: SQLiteStore(tmp_path / "store.db")
    dsn = request.getfixturevalue("postgres_dsn")
    return lambda: PostgresStore(dsn)


@pytest.fixture
async def store(store_factory: StoreFactory) -> AsyncIterator[Store]:
    """An open store of each backend."""
    async with store_factory() as opened:
        yield opened


RuntimeFactory = Callable[..., Awaitable[Runtime]]


@pytest.fixture
async def runtimes(tmp_path: Path) -> AsyncIterator[RuntimeFactory]:
    """Open Runtimes on a configuration and a fake clock; all closed after the test."""
    opened: list[Runtime] = []

    async def factory(yaml_text: str, clock: FakeClock) -> Runtime:
        runtime = Runtime(make_settings(tmp_path, yaml_text), clock=clock)
        await runtime.open()
        opened.append(runtime)
        return runtime

    yield factory
    for runtime in opened:
        await runtime.close()
