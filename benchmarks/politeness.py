"""Requests saved by the polling rules: ``python -m benchmarks.politeness``.

The 112 corpus feeds are served locally, a third each by a server that answers
conditional requests (ETag → 304), one that sends the same body without validators,
and one that also says ``Cache-Control: max-age=1800``. The daemon's dispatch runs on a
fake clock every minute for two simulated hours with a 5-minute interval, and every
request, 304, unchanged-body skip and parse is counted, against a naive poller that
fetches and parses every feed every 5 minutes.
"""

from __future__ import annotations

import asyncio
import hashlib
import tempfile
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

from aiohttp import web
from aiohttp.test_utils import TestServer

from benchmarks import CORPUS, corpus_bodies
from monitor.config import parse_settings
from monitor.runtime import Runtime

INTERVAL = timedelta(minutes=5)
SPAN = timedelta(hours=2)
TICK = timedelta(minutes=1)
BEHAVIOURS = ("etag", "plain", "max-age")


class Clock:
    """The simulated time."""

    def __init__(self) -> None:
        self.now = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


def serve(bodies: dict[str, bytes], counts: Counter[str]) -> web.Application:
    names = sorted(bodies)

    async def feed(request: web.Request) -> web.StreamResponse:
        name = request.match_info["name"]
        behaviour = BEHAVIOURS[names.index(name) % 3]
        counts[f"requests: {behaviour}"] += 1
        body = bodies[name]
        if behaviour == "etag":
            tag = '"' + hashlib.sha1(body).hexdigest() + '"'
            if request.headers.get("If-None-Match") == tag:
                counts["answered 304"] += 1
                return web.Response(status=304, headers={"ETag": tag})
            return web.Response(body=body, headers={"ETag": tag}, content_type="application/xml")
        headers = {"Cache-Control": "max-age=1800"} if behaviour == "max-age" else {}
        return web.Response(body=body, headers=headers, content_type="application/xml")

    app = web.Application()
    app.router.add_get("/{name}", feed)
    return app


async def simulate() -> tuple[Counter[str], int]:
    """Run the dispatch over the simulated span; the counts, and how many requests a
    naive poller would make."""
    bodies = corpus_bodies()
    counts: Counter[str] = Counter()
    server = TestServer(serve(bodies, counts), host="127.0.0.1")
    await server.start_server()
    clock = Clock()
    with tempfile.TemporaryDirectory() as folder:
        feeds = "\n".join(f"  - url: {server.make_url('/' + name)}" for name in sorted(bodies))
        settings = parse_settings(
            f"storage: sqlite:///{Path(folder) / 'p.db'}\n"
            "defaults: {interval: 5m, max_alert_age: off, fulltext: off}\n"
            "http: {allow_private_networks: true, per_host: 50}\n"
            f"feeds:\n{feeds}\n",
            "politeness.yaml",
            {},
        )
        async with Runtime(settings, clock=clock, seed_dir=None) as runtime:
            end = clock.now + SPAN
            while clock.now <= end:
                due = await runtime.store.claim_due_feeds(clock.now, 1000, runtime.lease)
                outcomes = await asyncio.gather(*(runtime.poller.poll(feed) for feed in due))
                counts.update(f"outcome: {outcome.status}" for outcome in outcomes)
                clock.now += TICK
            declared = [feed for feed in await runtime.store.feeds() if feed.declared_interval]
            counts["feeds declaring an interval"] = len(declared)
    await server.close()
    ticks = int(SPAN / INTERVAL) + 1
    return counts, len(bodies) * ticks


def main() -> None:
    """Print the table."""
    if not CORPUS.is_dir():
        print(f"skipped: {CORPUS} is absent")
        return
    counts, naive = asyncio.run(simulate())
    requests = sum(value for key, value in counts.items() if key.startswith("requests:"))
    parsed = counts["outcome: updated"]
    print(f"two simulated hours, 112 corpus feeds, interval {INTERVAL}, a dispatch every {TICK}")
    print(f"{'':<44}{'count':>8}  {'vs naive':>9}")
    print(f"{'naive: every feed fetched and parsed':<44}{naive:>8}  {'1.00':>9}")
    print(f"{'requests made':<44}{requests:>8}  {requests / naive:>9.2f}")
    ticks = naive // 112
    for position, behaviour in enumerate(BEHAVIOURS):
        key = f"requests: {behaviour}"
        group = len(range(position, 112, 3)) * ticks
        label = f"  to {behaviour} servers (naive {group})"
        print(f"{label:<44}{counts[key]:>8}  {counts[key] / group:>9.2f}")
    declaring = counts["feeds declaring an interval"]
    print(f"{'feeds declaring <ttl> or sy:updatePeriod':<44}{declaring:>8}")
    saved_by_freshness = naive - requests
    print(f"{'saved by freshness (max-age, ttl)':<44}{saved_by_freshness:>8}")
    print(f"{'answered 304 (no body sent)':<44}{counts['answered 304']:>8}")
    skipped = counts["outcome: not-modified"] - counts["answered 304"]
    print(f"{'same body, not parsed again':<44}{skipped:>8}")
    print(f"{'bodies parsed':<44}{parsed:>8}  {parsed / naive:>9.2f}")
    print(f"{'failed':<44}{counts['outcome: failed']:>8}")


if __name__ == "__main__":
    main()
