"""Push to alert: how long an item a WebSub hub pushes takes to reach a webhook.

``python -m benchmarks.push [--feeds N] [--dsn postgresql://…]``

A daemon runs in this process with its web side, subscribed through a local hub
(``testbed.hub``) to ``N`` local feeds; a receiver records when each alert arrives. Two
scenarios, on SQLite and (with ``--dsn`` or ``$NEWS_MONITOR_TEST_POSTGRES``) PostgreSQL:
one push at a time (each a new matching item on one feed), and a burst (a new item on
every feed at once). Latency runs from the hub starting its POST to the webhook
arriving: fetch-free ingest, identity, match, outbox, relay. For scale, polling every
five minutes makes a new item wait 150 s on average.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import statistics
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from aiohttp import web
from aiohttp.test_utils import TestServer

from benchmarks.cluster import postgres_schema
from monitor.config import Settings, parse_settings
from testbed.builders import Entry, rss
from testbed.hub import LocalHub, in_process_daemon, start_hub

POLL_INTERVAL_SECONDS = 300.0


@dataclass(frozen=True)
class PushRun:
    """Latencies of one scenario on one backend, in seconds."""

    backend: str
    scenario: str
    latencies: list[float]
    wall: float


class Sink:
    """Feeds (served from memory) and a webhook receiver that notes arrival times."""

    def __init__(self) -> None:
        self.bodies: dict[str, str] = {}
        self.arrived: dict[str, float] = {}
        self.changed = asyncio.Event()
        app = web.Application()
        app.router.add_get("/feeds/{name}", self.feed)
        app.router.add_post("/hook", self.hook)
        self.server = TestServer(app, host="127.0.0.1")

    def url(self, path: str) -> str:
        return str(self.server.make_url(path))

    async def feed(self, request: web.Request) -> web.Response:
        body = self.bodies.get(request.match_info["name"])
        if body is None:
            return web.Response(status=404)
        return web.Response(text=body, content_type="application/rss+xml")

    async def hook(self, request: web.Request) -> web.Response:
        payload = await request.json()
        self.arrived[payload["item"]["link"]] = time.perf_counter()
        self.changed.set()
        return web.Response(text="ok")

    async def wait_for(self, links: set[str]) -> None:
        while not links <= self.arrived.keys():
            self.changed.clear()
            await asyncio.wait_for(self.changed.wait(), 30)


def feed_body(hub: LocalHub, topic: str, entries: list[Entry]) -> str:
    head = f'<atom:link rel="hub" href="{hub.url}"/><atom:link rel="self" href="{topic}"/>'
    return rss(entries, head=head)


def pushed_daemon_settings(
    storage: str, topics: list[str], hook: str, folder: Path, fulltext: str = "off"
) -> Settings:
    """A daemon with its web side on a free port, the ``topics`` as feeds (baselined,
    polled hourly: what arrives, a hub pushed), one watchlist and one webhook."""
    port = _free_port()
    listed = "\n".join(f"  - {{url: {topic}}}" for topic in topics)
    return parse_settings(
        f"""
storage: "{storage}"
defaults: {{interval: 1h, baseline: true, fulltext: {fulltext}}}
http: {{allow_private_networks: true}}
web: {{listen: 127.0.0.1:{port}, public_url: "http://127.0.0.1:{port}"}}
feeds:
{listed}
notifiers:
  ops: {{type: webhook, url: "{hook}"}}
watchlists:
  - {{name: karabakh, any: [Karabakh]}}
""",
        str(folder / "monitor.yaml"),
        {},
    )


async def subscribed(hub: LocalHub, topics: list[str]) -> None:
    """Wait until the hub has verified a subscription to every topic (30 s at most)."""
    for _ in range(600):
        if all(hub.active(topic) for topic in topics):
            return
        await asyncio.sleep(0.05)


async def measure(backend: str, storage: str, feeds: int, folder: Path) -> list[PushRun]:
    sink = Sink()
    await sink.server.start_server()
    hub = await start_hub(3600)
    topics = [sink.url(f"/feeds/f{number}") for number in range(feeds)]
    old = Entry(title="Markets rally", guid="old", link="https://n.example/old")
    for number, topic in enumerate(topics):
        sink.bodies[f"f{number}"] = feed_body(hub, topic, [old])
    settings = pushed_daemon_settings(storage, topics, sink.url("/hook"), folder)
    runs = []
    try:
        async with in_process_daemon(settings):
            await subscribed(hub, topics)

            async def push(number: int, tag: str) -> tuple[str, float]:
                link = f"https://n.example/{tag}/{number}"
                entry = Entry(title=f"Karabakh news {tag} {number}", guid=link, link=link)
                started = time.perf_counter()
                await hub.publish(topics[number], feed_body(hub, topics[number], [entry, old]))
                return link, started

            one_by_one = []
            started_all = time.perf_counter()
            for number in range(feeds):
                link, started = await push(number, "single")
                await sink.wait_for({link})
                one_by_one.append(sink.arrived[link] - started)
            runs.append(
                PushRun(backend, "one at a time", one_by_one, time.perf_counter() - started_all)
            )
            started_all = time.perf_counter()
            sent = await asyncio.gather(*(push(number, "burst") for number in range(feeds)))
            await sink.wait_for({link for link, _ in sent})
            burst = [sink.arrived[link] - started for link, started in sent]
            runs.append(PushRun(backend, "all at once", burst, time.perf_counter() - started_all))
    finally:
        await hub.close()
        await sink.server.close()
    return runs


def _free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


async def run(feeds: int, dsn: str | None) -> list[PushRun]:
    runs = []
    with tempfile.TemporaryDirectory() as folder:
        storage = f"sqlite:///{Path(folder) / 'monitor.db'}"
        runs += await measure("SQLite", storage, feeds, Path(folder))
    if dsn:
        async with postgres_schema(dsn) as scoped:
            with tempfile.TemporaryDirectory() as folder:
                runs += await measure("PostgreSQL", scoped, feeds, Path(folder))
    return runs


def table(runs: list[PushRun]) -> str:
    lines = [
        f"{'backend':<11} {'pushes':<15} {'count':>5} {'p50':>8} {'p95':>8} {'max':>8}"
        f" {'wall':>8}  vs polling every 5m (mean wait)"
    ]
    for run in runs:
        ordered = sorted(run.latencies)
        p50 = statistics.median(ordered)
        p95 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))]
        mean = statistics.fmean(ordered)
        lines.append(
            f"{run.backend:<11} {run.scenario:<15} {len(ordered):>5} {p50 * 1000:>6.0f}ms"
            f" {p95 * 1000:>6.0f}ms {ordered[-1] * 1000:>6.0f}ms {run.wall:>7.2f}s"
            f"  {POLL_INTERVAL_SECONDS / 2 / mean:,.0f}x sooner"
        )
    return "\n".join(lines)


def main() -> None:
    # A pass of the websub job can outlast its 0.1 s tick here; APScheduler says so.
    logging.getLogger("apscheduler").setLevel(logging.ERROR)
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--feeds", type=int, default=50)
    parser.add_argument("--dsn", default=os.environ.get("NEWS_MONITOR_TEST_POSTGRES"))
    args = parser.parse_args()
    print(table(asyncio.run(run(args.feeds, args.dsn))))
    if not args.dsn:
        print("(no PostgreSQL: pass --dsn or set NEWS_MONITOR_TEST_POSTGRES)")


if __name__ == "__main__":
    main()
