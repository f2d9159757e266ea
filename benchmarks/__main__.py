"""Run every scenario and print one table: ``python -m benchmarks [--quick]``.

Times are wall-clock seconds on this machine; compare rows of one run as ratios, since
shared machines are noisy from one run to the next.
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import feedparser

from benchmarks import (
    CORPUS,
    corpus_bodies,
    farm,
    latency,
    matching,
    politeness,
    steady,
    stories,
)
from benchmarks.landed import describe, run_module
from benchmarks.server import served
from monitor.config import parse_settings
from monitor.match import match_items
from monitor.models import Item
from monitor.parse import ParseError, parse_feed
from monitor.runtime import Runtime
from monitor.wiring.watchlists import compile_watchlists
from testbed.builders import synthetic_feeds

WATCHLISTS = """
watchlists:
  - name: karabakh
    any: [Karabakh, Nagorno-Karabakh, Qarabağ, Karabagh, Artsakh]
  - name: karabakh-ceasefire
    any: [Karabakh, Qarabağ, Karabagh, Artsakh]
    all: [ceasefire]
  - name: ceasefire
    any: [ceasefire, truce, armistice, "cessation of hostilities"]
"""


def timed(work: Callable[[], object]) -> float:
    started = time.perf_counter()
    work()
    return time.perf_counter() - started


def parse_one(name: str, body: bytes) -> list[Item]:
    try:
        # As servers send it: a content type (without one, feedparser warns).
        headers = {"content-type": "application/xml"}
        return parse_feed(body, headers, f"https://bench.example/{name}").items
    except ParseError:
        return []


def parse_all(bodies: dict[str, bytes]) -> list[Item]:
    return [item for name, body in bodies.items() for item in parse_one(name, body)]


def feedparser_only(bodies: dict[str, bytes]) -> None:
    for body in bodies.values():
        if body.lstrip()[:1] != b"{":
            feedparser.parse(body, sanitize_html=False, resolve_relative_uris=False)


@dataclass
class Passes:
    """Seconds for a cold and a warm ``once``, alerts received, worst event-loop stall."""

    cold: float
    warm: float
    delivered: int
    worst_lag: float


class LoopLag:
    """Measures how late a 5 ms sleep wakes up: the longest the event loop was blocked."""

    def __init__(self) -> None:
        self.worst = 0.0
        self._task: asyncio.Task[None] | None = None

    async def _watch(self) -> None:
        while True:
            started = time.perf_counter()
            await asyncio.sleep(0.005)
            self.worst = max(self.worst, time.perf_counter() - started - 0.005)

    async def __aenter__(self) -> LoopLag:
        self._task = asyncio.create_task(self._watch())
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._task is not None
        self._task.cancel()


async def two_passes(base: str, folder: Path, names: list[str]) -> Passes:
    """Two ``once`` passes, cold then warm; how many alerts the sink received."""
    feeds = "\n".join(f"  - url: {base}/feeds/{name}" for name in names)
    text = (
        f"storage: sqlite:///{folder / 'bench.db'}\n"
        "defaults: {baseline: false, max_alert_age: off, fulltext: off}\n"
        "http: {allow_private_networks: true, per_host: 100}\n"
        f"feeds:\n{feeds}\n"
        f'notifiers:\n  ops: {{type: webhook, url: "{base}/hook"}}\n{WATCHLISTS}'
    )
    settings = parse_settings(text, "bench.yaml", {})
    lag = LoopLag()
    async with Runtime(settings) as runtime, lag:
        started = time.perf_counter()
        await runtime.once()
        cold = time.perf_counter() - started
        started = time.perf_counter()
        await runtime.once()
        warm = time.perf_counter() - started
    async with aiohttp.ClientSession() as session, session.get(f"{base}/count") as answer:
        delivered = int(await answer.text())
    return Passes(cold, warm, delivered, lag.worst)


def once_over(folder: Path, names: list[str]) -> Passes:
    """Serve the folder from another process, so the load shares no loop with the daemon."""
    with served("benchmarks.server", str(folder)) as server:
        return asyncio.run(two_passes(server.base, folder, names))


def main() -> None:
    """Run the scenarios and print the table."""
    options = argparse.ArgumentParser(description=__doc__)
    options.add_argument("--quick", action="store_true", help="smaller synthetic scenario")
    options.add_argument(
        "--against",
        metavar="REV",
        default="HEAD",
        help="the commit whose daemon the farm and matching rows compare with (default HEAD:"
        " what is committed, against the checkout's changes); '' for none",
    )
    args = options.parse_args()
    rows: list[tuple[str, str, str]] = []

    if CORPUS.is_dir():
        bodies = corpus_bodies()
        size = sum(map(len, bodies.values())) / 1e6
        base = timed(lambda: feedparser_only(bodies))
        parsed = parse_all(bodies)
        ours = timed(lambda: parse_all(bodies))
        rows.append(("feedparser alone, corpus", f"{base:.2f} s", "1.00"))
        rows.append(
            (
                f"parse_feed, corpus ({size:.0f} MB, {len(parsed)} items)",
                f"{ours:.2f} s",
                f"{ours / base:.2f}",
            )
        )
        settings = parse_settings(WATCHLISTS, "bench.yaml", {})
        watchlists = compile_watchlists(settings)
        took = timed(lambda: match_items(parsed, watchlists))
        rows.append(
            (
                f"match 3 watchlists x {len(parsed)} items",
                f"{took:.2f} s",
                f"{len(parsed) / took:,.0f} items/s",
            )
        )
        with tempfile.TemporaryDirectory() as tmp:
            folder = Path(tmp)
            for name, body in bodies.items():
                (folder / name).write_bytes(body)
            corpus_run = once_over(folder, list(bodies))
        rows.append(
            (
                f"once, corpus, cold ({len(bodies)} feeds, {corpus_run.delivered} alerts)",
                f"{corpus_run.cold:.2f} s",
                f"{corpus_run.cold / base:.2f} x feedparser",
            )
        )
        rows.append(
            (
                "once, corpus, warm (all items known)",
                f"{corpus_run.warm:.2f} s",
                f"{corpus_run.warm / corpus_run.cold:.2f} x cold",
            )
        )
        rows.append(("worst event-loop stall, corpus", f"{corpus_run.worst_lag * 1000:.0f} ms", ""))
    else:
        rows.append(("corpus scenarios", "skipped", f"{CORPUS} is absent"))

    count = 60 if args.quick else 300
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        generated = synthetic_feeds(count=count, per_feed=20)
        for number, feed in enumerate(generated):
            (folder / f"s{number}").write_text(feed.body)
        expected = sum(len(feed.watched) for feed in generated)
        run = once_over(folder, [f"s{n}" for n in range(count)])
    rows.append(
        (
            f"once, {count} synthetic feeds x 20, cold",
            f"{run.cold:.2f} s",
            f"{run.delivered} alerts (expected {expected})",
        )
    )
    rows.append(
        (
            f"once, {count} synthetic feeds, warm",
            f"{run.warm:.2f} s",
            f"{run.warm / run.cold:.2f} x cold",
        )
    )
    rows.append(("worst event-loop stall, synthetic", f"{run.worst_lag * 1000:.0f} ms", ""))

    width = max(len(row[0]) for row in rows)
    print(f"{'scenario':<{width}}  {'time':>9}  ratio / note")
    print(f"{'-' * width}  {'-' * 9}  {'-' * 30}")
    for name, value, note in rows:
        print(f"{name:<{width}}  {value:>9}  {note}")
    print()
    stories.report(4_000 if args.quick else 12_000)
    print()
    items = "4000" if args.quick else "20000"
    if args.against:
        print(f"landed ({describe(args.against)}):")
        run_module(args.against, "benchmarks.matching", "--items", items)
        print("this checkout:")
    matching.report(int(items))
    print()
    politeness.main()
    print()
    farm.report(200 if args.quick else 1000, 50, against=args.against or None)
    print()
    latency.report(200 if args.quick else 1000, 50, 10.0 if args.quick else 30.0)
    print()
    steady.report(2000 if args.quick else 5000, [20.0] if args.quick else [20.0, 50.0, 70.0])


if __name__ == "__main__":
    main()
