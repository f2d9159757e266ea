"""Claims per second: how fast instances take due work from one store and finish it.

``python -m benchmarks.cluster [--feeds N] [--dsn postgresql://…]``

Every feed is due; each instance (its own store, its own connection pool, as separate
processes would have) claims batches of ``BATCH`` and records a 304 for each feed it
claimed, until none is left. That is the store's share of a steady-state poll, the
fetch left out. Reported per backend and number of instances: claims per second, and
whether any feed was claimed twice. PostgreSQL rows need ``--dsn`` or
``$NEWS_MONITOR_TEST_POSTGRES``; the tables go to a schema of their own, dropped after.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg

from monitor.models import FeedSpec, PollRecord
from monitor.store import PostgresStore, SQLiteStore, Store

BATCH = 100
LEASE = timedelta(seconds=60)
NOW = datetime(2026, 1, 5, 12, 0, tzinfo=UTC)


@dataclass(frozen=True)
class ClaimRun:
    """One measurement: a backend, some instances, every feed claimed and finished."""

    backend: str
    instances: int
    feeds: int
    seconds: float
    claimed: int
    distinct: int

    @property
    def per_second(self) -> float:
        return self.claimed / self.seconds


async def _schema_statement(dsn: str, statement: str) -> None:
    connection = await asyncpg.connect(dsn)
    try:
        await connection.execute(statement)
    finally:
        await connection.close()


@asynccontextmanager
async def postgres_schema(dsn: str) -> AsyncIterator[str]:
    """A DSN whose tables live in a fresh schema, dropped afterwards."""
    schema = f"bench_{uuid.uuid4().hex[:12]}"
    await _schema_statement(dsn, f"CREATE SCHEMA {schema}")
    try:
        yield f"{dsn}{'&' if '?' in dsn else '?'}search_path={schema}"
    finally:
        await _schema_statement(dsn, f"DROP SCHEMA {schema} CASCADE")


@contextmanager
def postgres_schema_sync(dsn: str) -> Iterator[str]:
    """``postgres_schema`` for code that runs its own event loops."""
    schema = f"bench_{uuid.uuid4().hex[:12]}"
    asyncio.run(_schema_statement(dsn, f"CREATE SCHEMA {schema}"))
    try:
        yield f"{dsn}{'&' if '?' in dsn else '?'}search_path={schema}"
    finally:
        asyncio.run(_schema_statement(dsn, f"DROP SCHEMA {schema} CASCADE"))


async def claim_all(stores: list[Store], feeds: int, backend: str) -> ClaimRun:
    """Sync ``feeds`` feeds, then let every store claim and finish until none is due."""
    await stores[0].sync_feeds(
        [
            FeedSpec(f"https://{n}.bench.example/feed", None, timedelta(minutes=5), True)
            for n in range(feeds)
        ],
        NOW,
    )
    for number, store in enumerate(stores, 1):
        await store.start_instance(f"bench:{number}", NOW)
    claimed: list[int] = []

    async def instance(store: Store) -> None:
        while batch := await store.claim_due_feeds(NOW, BATCH, LEASE):
            claimed.extend(feed.id for feed in batch)
            record = PollRecord(NOW, NOW + timedelta(minutes=5), 304, None, reason="interval")
            await asyncio.gather(
                *(store.record_poll(feed.id, replace(record, claim=feed.claim)) for feed in batch)
            )

    started = time.perf_counter()
    await asyncio.gather(*(instance(store) for store in stores))
    seconds = time.perf_counter() - started
    return ClaimRun(backend, len(stores), feeds, seconds, len(claimed), len(set(claimed)))


async def measure(backend: str, count: int, feeds: int, make: Callable[[], Store]) -> ClaimRun:
    stores = [make() for _ in range(count)]
    for store in stores:
        await store.open()
    try:
        return await claim_all(stores, feeds, backend)
    finally:
        for store in stores:
            await store.close()


async def run(feeds: int, dsn: str | None) -> list[ClaimRun]:
    """SQLite with one instance (it serves one), PostgreSQL with one, two and three."""
    runs = []
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "bench.db"
        runs.append(await measure("sqlite", 1, feeds, lambda: SQLiteStore(path)))
    if dsn:
        for count in (1, 2, 3):
            async with postgres_schema(dsn) as schema_dsn:
                runs.append(
                    await measure("postgresql", count, feeds, lambda: PostgresStore(schema_dsn))
                )
    return runs


def table(runs: list[ClaimRun]) -> str:
    lines = [
        f"{'backend':<11} {'instances':>9} {'feeds':>7} {'seconds':>8} {'claims/s':>9}"
        f" {'claimed twice':>13}"
    ]
    for run_ in runs:
        lines.append(
            f"{run_.backend:<11} {run_.instances:>9} {run_.feeds:>7,} {run_.seconds:>8.2f}"
            f" {run_.per_second:>9,.0f} {run_.claimed - run_.distinct:>13}"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--feeds", type=int, default=10_000)
    parser.add_argument("--dsn", default=os.environ.get("NEWS_MONITOR_TEST_POSTGRES"))
    args = parser.parse_args()
    runs = asyncio.run(run(args.feeds, args.dsn))
    print(table(runs))
    if not args.dsn:
        print("(no PostgreSQL: pass --dsn or set NEWS_MONITOR_TEST_POSTGRES)")


if __name__ == "__main__":
    main()
