"""Poll to alert under load: how long a changed feed's new item takes to reach a webhook
while 1,000 other feeds are polled, and how late the daemon's scheduler runs meanwhile.

``python -m benchmarks.latency [--feeds 1000] [--items 50] [--steady 30]``

A server process serves the farm (``benchmarks.farm``: ``--feeds`` feeds of ``--items``
news entries, with ETags) and one probe feed that has a new watched entry at every
request; it notes when it sent each probe body and when each alert reached its webhook
(one monotonic clock, one machine). The daemon runs in this process as in production
(``Daemon.run``: its dispatcher, relay and other jobs), the farm's feeds every 30 s and
the probe every 2 s, on a new SQLite file. Two phases: the cold pass (every farm feed
new, 50,000 entries to read, identify, match and store) and then the steady state (the
farm's feeds answer 304). Per phase: the probe's poll-to-alert latency (p50, p99, worst),
how late the dispatcher's ticks started against their schedule (the scheduler's
lateness: the event loop was busy), the longest the loop did not answer a 5 ms sleep,
and the longest time between two polls of the probe (was it starved of claims).
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import logging
import statistics
import tempfile
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import format_datetime
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web
from apscheduler.events import EVENT_JOB_SUBMITTED, JobSubmissionEvent

from benchmarks.farm import Farm
from benchmarks.server import serve_forever, served
from monitor.config import parse_settings
from monitor.daemon import Daemon
from monitor.runtime import Runtime

PROBE_EVERY = 2  # seconds between polls of the probe feed
FARM_EVERY = 30  # seconds between polls of each farm feed


async def serve(feeds: int, items: int) -> None:
    """The farm, the probe feed and the timing webhook, at a free port."""
    farm = Farm(feeds, items)
    bodies = [farm.body(n) for n in range(feeds)]
    sent: dict[str, float] = {}
    arrived: dict[str, float] = {}
    served_bodies = {"count": 0}

    async def feed(request: web.Request) -> web.Response:
        number = int(request.match_info["number"])
        etag = f'"{number}"'
        if request.headers.get("If-None-Match") == etag:
            return web.Response(status=304, headers={"ETag": etag})
        served_bodies["count"] += 1
        return web.Response(
            body=bodies[number], content_type="application/xml", headers={"ETag": etag}
        )

    async def probe(request: web.Request) -> web.StreamResponse:
        number = len(sent)
        link = f"https://probe.example/{number}"
        entries = "".join(
            f"<item><title>Karabakh probe {old}</title><link>https://probe.example/{old}</link>"
            f"<guid>https://probe.example/{old}</guid>"
            f"<pubDate>{format_datetime(datetime.now(UTC))}</pubDate>"
            f"<description>Talks on Karabakh resumed, item {old}.</description></item>"
            for old in range(number, max(-1, number - 5), -1)
        )
        body = f'<?xml version="1.0"?><rss version="2.0"><channel><title>Probe</title>{entries}'
        answer = web.Response(
            body=f"{body}</channel></rss>".encode(), content_type="application/xml"
        )
        await answer.prepare(request)
        await answer.write_eof()
        sent[link] = time.monotonic()  # the body is on its way: the clock starts
        return answer

    async def hook(request: web.Request) -> web.Response:
        payload = await request.json()
        link = payload["item"]["link"]
        if link.startswith("https://probe.example/"):
            arrived.setdefault(link, time.monotonic())
        return web.Response(text="ok")

    async def timings(request: web.Request) -> web.Response:
        return web.json_response(
            {"sent": sent, "arrived": arrived, "served": served_bodies["count"]}
        )

    app = web.Application()
    app.router.add_get("/feeds/{number}", feed)
    app.router.add_get("/probe", probe)
    app.router.add_post("/hook", hook)
    app.router.add_get("/timings", timings)
    await serve_forever(app)


@dataclass
class Phase:
    """What one phase measured, in seconds."""

    name: str
    latencies: list[float] = field(default_factory=list)
    probe_gap: float = 0.0  # the longest time between two polls of the probe
    lateness: list[float] = field(default_factory=list)
    worst_stall: float = 0.0
    wall: float = 0.0


class Watch:
    """The dispatcher's lateness (when each tick was submitted against when it was due)
    and the event loop's stalls, filed under the phase under way."""

    def __init__(self, daemon: Daemon) -> None:
        self.phase = Phase("")
        daemon.scheduler.add_listener(self._submitted, EVENT_JOB_SUBMITTED)
        self._task = asyncio.create_task(self._stalls())

    def _submitted(self, event: JobSubmissionEvent) -> None:
        if event.job_id == "dispatch":
            due = max(event.scheduled_run_times)
            self.phase.lateness.append((datetime.now(UTC) - due).total_seconds())

    async def _stalls(self) -> None:
        while True:
            started = time.perf_counter()
            await asyncio.sleep(0.005)
            stall = time.perf_counter() - started - 0.005
            self.phase.worst_stall = max(self.phase.worst_stall, stall)

    def stop(self) -> None:
        self._task.cancel()


async def measure(base: str, feeds: int, folder: Path, steady: float) -> list[Phase]:
    """Run the daemon through the cold pass and ``steady`` seconds of steady state."""
    listed = "\n".join(f"  - url: {base}/feeds/{n}" for n in range(feeds))
    settings = parse_settings(
        f"storage: sqlite:///{folder / 'latency.db'}\n"
        f"defaults: {{baseline: false, interval: {FARM_EVERY}s, max_alert_age: off,"
        " fulltext: off}\n"
        "http: {allow_private_networks: true, per_host: 1000}\n"
        f"feeds:\n  - {{url: {base}/probe, interval: {PROBE_EVERY}s}}\n{listed}\n"
        f'notifiers:\n  sink: {{type: webhook, url: "{base}/hook"}}\n'
        "watchlists:\n  - {name: karabakh, any: [Karabakh]}\n",
        "latency.yaml",
        {},
    )
    phases = [Phase("cold pass"), Phase("steady (304s)")]
    async with Runtime(settings) as runtime, aiohttp.ClientSession() as session:
        daemon = Daemon(runtime)
        watch = Watch(daemon)

        async def timings() -> dict[str, Any]:
            async with session.get(f"{base}/timings") as answer:
                found: dict[str, Any] = await answer.json()
                return found

        running = asyncio.create_task(daemon.run())
        spans = []
        for phase in phases:
            watch.phase = phase
            started = time.monotonic()
            if phase is phases[0]:
                # The cold pass ends once every farm body was served and every poll of
                # one has finished (only the probe's, or none, left in flight).
                while True:
                    await asyncio.sleep(0.2)
                    served_bodies = (await timings())["served"]
                    polls = [task for task in daemon.in_flight if "_poll" in repr(task)]
                    if served_bodies >= feeds and len(polls) <= 1:
                        break
            else:
                await asyncio.sleep(steady)
            phase.wall = time.monotonic() - started
            spans.append((phase, started, time.monotonic()))
        daemon.stop()
        await running
        watch.stop()
        await asyncio.sleep(0.5)
        found = await timings()
    for phase, start, end in spans:
        polled = sorted(sent for sent in found["sent"].values() if start <= sent < end)
        phase.probe_gap = max((b - a for a, b in itertools.pairwise(polled)), default=0.0)
        phase.latencies = [
            found["arrived"][link] - sent
            for link, sent in found["sent"].items()
            if start <= sent < end and link in found["arrived"]
        ]
    return phases


def percentile(values: list[float], share: float) -> float:
    """The value below which ``share`` of ``values`` lie (nearest rank)."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * share))] if ordered else 0.0


def report(feeds: int, items: int, steady: float) -> None:
    """Serve the farm and the probe, measure both phases, print the table."""
    logging.getLogger("apscheduler").setLevel(logging.ERROR)
    with (
        served(
            "benchmarks.latency", "--serve", "--feeds", str(feeds), "--items", str(items)
        ) as server,
        tempfile.TemporaryDirectory() as tmp,
    ):
        phases = asyncio.run(measure(server.base, feeds, Path(tmp), steady))
    print(
        f"poll to alert: a probe feed every {PROBE_EVERY}s beside {feeds} farm feeds"
        f" x {items} entries every {FARM_EVERY}s, SQLite, one run"
    )
    print(
        f"{'phase':<15} {'wall':>7} {'alerts':>6} {'p50':>7} {'p99':>7} {'worst':>7}"
        f"  {'ticks':>5} {'late p50':>8} {'late p99':>8} {'worst':>7}  loop stall"
        f"  probe gap"
    )
    for phase in phases:
        ms = [value * 1000 for value in phase.latencies] or [0.0]
        late = [value * 1000 for value in phase.lateness] or [0.0]
        print(
            f"{phase.name:<15} {phase.wall:>6.1f}s {len(phase.latencies):>6}"
            f" {statistics.median(ms):>5.0f}ms {percentile(ms, 0.99):>5.0f}ms {max(ms):>5.0f}ms"
            f"  {len(phase.lateness):>5} {statistics.median(late):>6.0f}ms"
            f" {percentile(late, 0.99):>6.0f}ms {max(late):>5.0f}ms"
            f"  {phase.worst_stall * 1000:>6.0f}ms  {phase.probe_gap:>8.1f}s"
        )
    print(
        "  alerts: probe items sent in the phase and alerted; p50/p99/worst: body sent to"
        " alert received;\n  ticks: dispatcher ticks, late: how long after its due time each"
        " started; loop stall: the longest a 5 ms sleep overslept;\n  probe gap: the longest"
        f" time between two polls of the probe (its interval: {PROBE_EVERY}s)"
    )


def main() -> None:
    """``python -m benchmarks.latency``."""
    options = argparse.ArgumentParser(description=__doc__)
    options.add_argument("--feeds", type=int, default=1000)
    options.add_argument("--items", type=int, default=50)
    options.add_argument("--steady", type=float, default=30.0, help="seconds of steady state")
    options.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    args = options.parse_args()
    if args.serve:
        asyncio.run(serve(args.feeds, args.items))
    else:
        report(args.feeds, args.items, args.steady)


if __name__ == "__main__":
    main()
