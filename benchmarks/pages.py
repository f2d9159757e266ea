"""The status pages against a big store: ``python -m benchmarks.pages [--feeds 1000]``.

Fills a SQLite store as polls do (``save_poll``): 1,000 farm feeds of 100 entries
(100,000 items, wire stories among them), saved over the last 30 days so the trends have
something to draw, 2% of the items matched by a watchlist and alerted, and 90 days of
polls per feed (the feeds' health per day). Then serves the
web side in this process and times each page and API answer (the median of five, and
the slowest), against the 200 ms a page may take.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from aiohttp.test_utils import TestClient, TestServer

from benchmarks.farm import WATCHED, Farm
from monitor.config import parse_settings
from monitor.match import FeedLabels, match_items
from monitor.models import FeedSpec, PollRecord
from monitor.parse import parse_feed
from monitor.poll_days import PollDay
from monitor.store.sqlite import SQLiteStore
from monitor.web import WebSide
from monitor.web.metrics import Metrics
from monitor.web.search import Query
from monitor.wiring.watchlists import compile_watchlists, feed_labels, query_watchlist

TARGET_MS = 200.0
RUNS = 5
SETTINGS = parse_settings(
    f"watchlists:\n  - name: karabakh\n    any: [{WATCHED}]\n", "pages.yaml", {}
)


async def fill(store: SQLiteStore, feeds: int, items: int, now: datetime) -> None:
    """``feeds`` feeds of ``items`` entries each, one poll a feed, spread over 30 days."""
    farm = Farm(feeds, items, shared=True)
    headers = {"content-type": "application/xml"}
    watchlists = compile_watchlists(SETTINGS)
    specs = [
        FeedSpec(f"https://site{n}.farm.example/feed", None, timedelta(minutes=10), False)
        for n in range(feeds)
    ]
    await store.sync_feeds(specs, now)
    ids = {feed.url: feed.id for feed in await store.feeds()}
    for number, spec in enumerate(specs):
        parsed = parse_feed(farm.body(number), headers, spec.url)
        batch = match_items(parsed.items, watchlists, FeedLabels(spec.url))
        when = now - timedelta(days=30) + timedelta(days=30) * number / feeds
        record = PollRecord(when, when + timedelta(minutes=10), 200, None)
        await store.save_poll(ids[spec.url], batch, record, alert=True)
    # 90 days (all that is kept) of polls per feed, every 10 minutes, some failing.
    today = int(now.timestamp() // 86_400)
    for feed_id in ids.values():
        failing = {back for back in range(90) if (feed_id + back) % 7 == 0}
        days = [
            PollDay(feed_id, today - back, 144, 144 if back in failing else 0, back % 11 == 0)
            for back in range(90)
        ]
        await store.add_poll_days(days)


async def measure(store: SQLiteStore, now: datetime) -> list[tuple[str, float, float, int]]:
    """(path, median ms, slowest ms, bytes) for each page and answer."""

    def build(text: str) -> Query:
        return Query(query_watchlist(SETTINGS, text), feed_labels(SETTINGS))

    web = WebSide(store, Metrics(), lambda: True, lambda: now, lambda: ["karabakh"], query=build)
    story = (await store.stories(1))[0].id
    feed = (await store.feeds())[0].id
    paths = [
        "/",
        "/?sort=items",
        "/?sort=state&feed=site1",
        f"/stories/{story}",
        f"/feeds/{feed}",
        f"/search?q={WATCHED}",
        "/api/stories",
        "/api/feeds",
        f"/api/search?q={WATCHED}&within=20000",
    ]
    client = TestClient(TestServer(web.application()))
    await client.start_server()
    rows = []
    try:
        for path in paths:
            times, size = [], 0
            for _ in range(RUNS):
                started = time.perf_counter()
                answer = await client.get(path)
                body = await answer.read()
                times.append((time.perf_counter() - started) * 1000)
                assert answer.status == 200, (path, answer.status)
                size = len(body)
            rows.append((path, statistics.median(times), max(times), size))
    finally:
        await client.close()
    return rows


async def run(
    feeds: int, items: int, path: Path
) -> tuple[float, list[tuple[str, float, float, int]]]:
    """Fill the store at ``path`` (unless it is there: a kept one is reused), time it."""
    now = datetime.now(UTC)
    filled = 0.0
    fresh = not path.exists()
    async with SQLiteStore(path) as store:
        if fresh:
            started = time.perf_counter()
            await fill(store, feeds, items, now)
            filled = time.perf_counter() - started
        return filled, await measure(store, now)


def main() -> None:
    """Fill the store, time the pages, print the table."""
    options = argparse.ArgumentParser(description=__doc__)
    options.add_argument("--feeds", type=int, default=1000)
    options.add_argument("--items", type=int, default=100, help="entries per feed")
    options.add_argument(
        "--keep", type=Path, help="fill this database file once, and reuse it next time"
    )
    args = options.parse_args()
    if args.keep:
        filled, rows = asyncio.run(run(args.feeds, args.items, args.keep))
    else:
        with tempfile.TemporaryDirectory() as tmp:
            filled, rows = asyncio.run(run(args.feeds, args.items, Path(tmp) / "pages.db"))
    total = args.feeds * args.items
    fill = f"filled in {filled:.0f} s" if filled else f"kept in {args.keep}"
    print(f"status pages: {args.feeds:,} feeds, {total:,} items ({fill}), SQLite")
    print(f"{'page':<42} {'median':>8} {'slowest':>8} {'size':>9}  within {TARGET_MS:.0f} ms")
    for path, median, slowest, size in rows:
        verdict = "yes" if median <= TARGET_MS else "NO"
        if "within=" in path:
            verdict = "(a search of 20,000 stops at its 1 s budget and says so)"
        print(f"{path:<42} {median:>6.0f}ms {slowest:>6.0f}ms {size / 1024:>7.0f}KB  {verdict}")


if __name__ == "__main__":
    main()
