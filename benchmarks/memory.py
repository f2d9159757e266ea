"""Memory against stored items: ``python -m benchmarks.memory [--items 100000]``.

Farm entries (news-sized, each its own story) are parsed and stored through
``SQLiteStore.save_poll``, 50 a poll, as polls store them; the process's resident
memory is read as the store grows. Bounded by the store, not by RAM,
means a flat line: nothing the daemon keeps in memory grows with the items it has.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from benchmarks.farm import Farm, _cpu_and_rss
from monitor.models import FeedSpec, NewItem, PollRecord
from monitor.parse import parse_feed
from monitor.store.sqlite import SQLiteStore

PER_FEED = 50


def rss_mb() -> float:
    """This process's resident memory."""
    return _cpu_and_rss(os.getpid())[1] / 2**20


async def fill(items: int, folder: Path) -> list[tuple[int, float, float, float]]:
    """Store ``items`` entries; (stored, RSS MB, database MB, items/s) at each tenth."""
    feeds = items // PER_FEED
    farm = Farm(feeds, PER_FEED)
    headers = {"content-type": "application/xml"}
    now = datetime(2026, 11, 28, tzinfo=UTC)
    path = folder / "memory.db"
    rows = []
    async with SQLiteStore(path) as store:
        interval = timedelta(minutes=5)
        specs = [FeedSpec(f"https://farm.example/{n}", None, interval, False) for n in range(feeds)]
        await store.sync_feeds(specs, now)
        ids = [feed.id for feed in await store.feeds()]
        started = time.perf_counter()
        for number, feed_id in enumerate(ids):
            url = f"https://farm.example/{number}"
            batch = [NewItem(item) for item in parse_feed(farm.body(number), headers, url).items]
            record = PollRecord(now, now + timedelta(minutes=5), 200, None)
            await store.save_poll(feed_id, batch, record, alert=False)
            if (number + 1) % max(1, feeds // 10) == 0:
                stored = (number + 1) * PER_FEED
                rate = stored / (time.perf_counter() - started)
                rows.append((stored, rss_mb(), path.stat().st_size / 2**20, rate))
    return rows


def main() -> None:
    """Fill a store and print resident memory as it grows."""
    options = argparse.ArgumentParser(description=__doc__)
    options.add_argument("--items", type=int, default=100_000)
    args = options.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        rows = asyncio.run(fill(args.items, Path(tmp)))
    print(f"memory while storing {args.items:,} entries (one process, SQLite)")
    print(
        f"{'stored':>9} {'rss':>8} {'database':>9} {'items/s':>8}  (generated, parsed and stored)"
    )
    for stored, rss, size, rate in rows:
        print(f"{stored:>9,} {rss:>6.0f}MB {size:>7.0f}MB {rate:>8,.0f}")


if __name__ == "__main__":
    main()
