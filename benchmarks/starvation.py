"""One huge feed beside small ones: ``python -m benchmarks.starvation [--seconds 60]``.

A feed of 100,000 entries (about 15 MB, under the 15 MiB body cap) that gains entries on
every request, so each poll must read it again, is polled every 10 s beside 100 small
feeds polled every 10 s, by the daemon's own dispatcher in real time. Reported: how late
the small feeds' polls were claimed (p50, p99, worst), how many polls they got against
how many they were due, the huge feed's polls and their duration, and the peak RSS of
the process tree (workers included, the feeds' server not). Not part of
``python -m benchmarks``.
"""

from __future__ import annotations

import argparse
import asyncio
import html
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path

from aiohttp import web

from benchmarks.farm import TreeMeter
from benchmarks.server import serve_forever, served
from monitor.config import parse_settings
from monitor.daemon import Daemon
from monitor.outcome import PollOutcome
from monitor.runtime import Runtime
from monitor.web.metrics import Metrics

HUGE = 100_000
SMALL = 100
INTERVAL = "10s"


def _entry(number: int, prefix: str) -> str:
    """About 150 bytes: a title, a link and a date."""
    when = format_datetime(datetime(2026, 12, 1, tzinfo=UTC) + timedelta(seconds=number))
    title = html.escape(f"Harbour works, item {number}")
    return (
        f"<item><title>{title}</title><link>https://{prefix}.example/{number}</link>"
        f"<pubDate>{when}</pubDate></item>"
    )


def _rss(items: str, name: str) -> bytes:
    return (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
        f"<title>{name}</title><link>https://{name}.example/</link><description>x</description>"
        f"{items}</channel></rss>"
    ).encode()


async def serve() -> None:
    """The huge feed (new entries on every request) and the small ones (304 when asked
    with their ETag)."""
    state = {"huge": HUGE}
    huge_items = [_entry(number, "huge") for number in range(HUGE)]

    async def huge(request: web.Request) -> web.Response:
        state["huge"] += 3
        fresh = [_entry(number, "huge") for number in range(HUGE, state["huge"])]
        body = _rss("".join(reversed(fresh)) + "".join(reversed(huge_items)), "huge")
        return web.Response(body=body, content_type="application/rss+xml")

    smalls = {
        n: _rss("".join(_entry(k, f"small{n}") for k in range(10)), f"s{n}") for n in range(SMALL)
    }

    async def small(request: web.Request) -> web.Response:
        number = int(request.match_info["number"])
        if request.headers.get("If-None-Match") == '"v1"':
            return web.Response(status=304, headers={"ETag": '"v1"'})
        return web.Response(
            body=smalls[number], content_type="application/rss+xml", headers={"ETag": '"v1"'}
        )

    app = web.Application()
    app.router.add_get("/huge", huge)
    app.router.add_get("/small/{number}", small)
    await serve_forever(app, len(_rss("".join(huge_items), "huge")))


class Recording(Metrics):
    """The daemon's metrics, also keeping how late each claim was and how long each
    poll of the huge feed took."""

    def __init__(self) -> None:
        super().__init__()
        self.lateness: list[float] = []
        self.huge_polls: list[float] = []

    def dispatched(self, lateness: float) -> None:
        self.lateness.append(lateness)
        super().dispatched(lateness)

    def polled(self, outcome: PollOutcome, seconds: float) -> None:
        if outcome.feed.name == "huge":
            self.huge_polls.append(seconds)
        super().polled(outcome, seconds)


async def run(base: str, seconds: float, folder: Path, meter: TreeMeter) -> dict[str, float]:
    feeds = f"  - {{url: {base}/huge, name: huge}}\n" + "".join(
        f"  - {{url: {base}/small/{n}}}\n" for n in range(SMALL)
    )
    text = (
        f"storage: sqlite:///{folder / 'starvation.db'}\n"
        f"defaults: {{interval: {INTERVAL}, baseline: true, fulltext: off}}\n"
        "http: {allow_private_networks: true, per_host: 100}\n"
        f"feeds:\n{feeds}"
        "watchlists:\n  - {name: karabakh, any: [Karabakh]}\n"
    )
    settings = parse_settings(text, "starvation.yaml", {})
    recording = Recording()
    async with Runtime(settings) as runtime:
        daemon = Daemon(runtime)
        daemon.metrics = recording
        task = asyncio.create_task(daemon.run())
        started = time.perf_counter()
        await asyncio.sleep(seconds)
        daemon.stop()
        await asyncio.wait_for(task, 60)
        wall = time.perf_counter() - started
    ordered = sorted(recording.lateness)
    huge_polls = recording.huge_polls
    due = SMALL * wall / 10
    return {
        "wall": wall,
        "claims": len(ordered),
        "due": due,
        "p50": ordered[len(ordered) // 2] if ordered else 0.0,
        "p99": ordered[int(len(ordered) * 0.99)] if ordered else 0.0,
        "worst": ordered[-1] if ordered else 0.0,
        "huge_polls": len(huge_polls),
        "huge_median": statistics.median(huge_polls) if huge_polls else 0.0,
        "rss": meter.peak_rss / 2**20,
    }


def main() -> None:
    """``python -m benchmarks.starvation``: run the scenario and print its table."""
    options = argparse.ArgumentParser(description=__doc__)
    options.add_argument("--seconds", type=float, default=60.0)
    options.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    args = options.parse_args()
    if args.serve:
        asyncio.run(serve())
        return
    with (
        served("benchmarks.starvation", "--serve") as server,
        TreeMeter(skip=server.pid) as meter,
        tempfile.TemporaryDirectory() as tmp,
    ):
        found = asyncio.run(run(server.base, args.seconds, Path(tmp), meter))
    size = int(server.announced[0]) / 1e6
    print(
        f"starvation: one feed of {HUGE:,} entries ({size:.0f} MB) and {SMALL} small feeds,"
        f" every {INTERVAL}, {found['wall']:.0f} s"
    )
    print(
        f"  claims {found['claims']:.0f} (about {found['due']:.0f} due);"
        f" lateness p50 {found['p50']:.2f} s, p99 {found['p99']:.2f} s,"
        f" worst {found['worst']:.2f} s"
    )
    print(
        f"  huge feed: {found['huge_polls']:.0f} polls, median {found['huge_median']:.1f} s;"
        f" peak RSS {found['rss']:.0f} MB"
    )
    sys.stdout.flush()


if __name__ == "__main__":
    main()
