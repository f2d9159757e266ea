"""The fixtures every test may ask for: a real local feed server and webhook receiver,
the captured corpus, stores of each backend (PostgreSQL in a schema of the test's own),
and runtimes on a fake clock. Helpers they build on live in ``tests/support``."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest

from monitor.runtime import Runtime
from monitor.store import PostgresStore, SQLiteStore, Store
from tests.support.servers import FeedServer, Receiver, feed_server, webhook_receiver
from tests.support.values import CORPUS, FakeClock, make_settings

pytest_plugins = ["tests.support.daemons"]  # the `launcher` fixture
StoreFactory = Callable[[], Store]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark every test that runs on PostgreSQL ``postgres``: those that ask for a
    database of their own, and the PostgreSQL half of each store-contract test."""
    for item in items:
        params = getattr(getattr(item, "callspec", None), "params", {})
        uses_postgres = "postgres_dsn" in getattr(item, "fixturenames", ()) or (
            params.get("store_factory") == "postgresql"
        )
        if uses_postgres:
            item.add_marker(pytest.mark.postgres)


@pytest.fixture
async def feeds() -> AsyncIterator[FeedServer]:
    """A feed server on 127.0.0.1; unknown paths answer 404."""
    async with feed_server() as server:
        yield server


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    """A webhook receiver: 200 unless the test queued answers."""
    async with webhook_receiver() as server:
        yield server


@pytest.fixture
def corpus() -> Path:
    """The captured real feeds; tests that need them skip when they are absent."""
    if not CORPUS.is_dir():
        pytest.skip("the shared feed corpus is not present")
    return CORPUS


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
