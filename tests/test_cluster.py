"""Several ``news-monitor run`` processes on one PostgreSQL database, end to end.

Three instances poll a few hundred local feeds in which matching stories keep appearing,
some of them published by several feeds at the same moment; one instance is killed with
SIGKILL midway. Every story must be alerted exactly once by ``webhook-id`` (only a send
the killed instance had in flight may arrive twice, with the same id), no feed may be
polled twice within its interval, and the work must be spread over the instances.
"""

from __future__ import annotations

import asyncio
import hashlib
import itertools
import json
import random
import signal
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import asyncpg
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from standardwebhooks.webhooks import Webhook

from testbed.builders import Entry, rss
from tests.support.commands import cli
from tests.support.daemons import Daemon, Launcher
from tests.support.servers import Receiver

FEEDS = 240
INTERVAL = 5.0  # seconds between two polls of one feed
LEASE = 5  # seconds; not shorter than the interval, so a takeover never polls early
SLOW_EVERY, SLOW_SECONDS = 5, 1.5  # every fifth site answers after 1.5 s
SEND_SECONDS = 0.2  # the receiver takes this long to answer each alert
SECRET = "whsec_" + "c2VjcmV0LWZvci10aGUtY2x1c3Rlci10ZXN0"
VOCABULARY = [f"{a}{b}" for a in ("ka", "lo", "mi", "nu", "pe", "ro", "su", "ti") for b in (
    "bar", "cen", "dol", "fim", "gas", "hul", "jor", "kev", "lan", "mos", "nip", "pud",
    "quo", "ras", "sol", "tam", "vex", "wim", "yod", "zan",
)]  # fmt: skip


@dataclass
class NewsSites:
    """``FEEDS`` RSS feeds with ETags (unchanged ones answer 304), every request timed."""

    entries: dict[int, list[Entry]] = field(default_factory=lambda: defaultdict(list))
    hits: dict[int, list[float]] = field(default_factory=lambda: defaultdict(list))
    rng: random.Random = field(default_factory=lambda: random.Random(7))
    published: dict[str, list[int]] = field(default_factory=dict)  # story link → feeds

    def body(self, feed: int) -> bytes:
        return rss(self.entries[feed][-20:], title=f"Site {feed}").encode()

    async def handle(self, request: web.Request) -> web.StreamResponse:
        feed = int(request.match_info["feed"])
        self.hits[feed].append(time.monotonic())
        if feed % SLOW_EVERY == 0:
            # A slow site: polls of it are in flight for a while (a kill finds some).
            await asyncio.sleep(SLOW_SECONDS)
        body = self.body(feed)
        etag = '"' + hashlib.sha1(body).hexdigest() + '"'
        if request.headers.get("If-None-Match") == etag:
            return web.Response(status=304, headers={"ETag": etag})
        return web.Response(body=body, content_type="application/rss+xml", headers={"ETag": etag})

    def words(self, count: int) -> str:
        return " ".join(self.rng.choice(VOCABULARY) for _ in range(count))

    def publish_story(self, number: int) -> None:
        """A matching story on one feed, or on several at the same moment (copies)."""
        link = f"https://wire.example/story-{number}"
        title = f"Ceasefire {self.words(5)}"
        body = f"Karabakh ceasefire talks. {self.words(60)}"
        copies = self.rng.choice((1, 1, 2, 3))
        feeds = self.rng.sample(range(FEEDS), copies)
        for feed in feeds:
            self.entries[feed].append(
                Entry(title=title, link=link, guid=f"{link}#{feed}", summary=body)
            )
        self.published[link] = feeds

    def publish_other(self, number: int) -> None:
        feed = self.rng.randrange(FEEDS)
        link = f"https://site{feed}.example/other-{number}"
        self.entries[feed].append(
            Entry(title=f"Weather {self.words(5)}", link=link, guid=link, summary=self.words(40))
        )


def config(path: Path, dsn: str, name: str, sites: TestServer, receiver: Receiver) -> Path:
    feeds = "\n".join(f"  - url: {sites.make_url(f'/feeds/{feed}.xml')}" for feed in range(FEEDS))
    path.write_text(
        f"""storage: {dsn}
cluster: {{lease: {LEASE}s, instance_id: {name}}}
defaults: {{fulltext: off, interval: {INTERVAL:g}s}}
http: {{allow_private_networks: true, per_host: 100}}
notifiers:
  ops: {{type: webhook, url: "{receiver.url("/hook")}", secret: {SECRET}}}
watchlists:
  - {{name: karabakh, all: [ceasefire, karabakh]}}
feeds:
{feeds}
"""
    )
    return path


def polls_by(daemon: Daemon) -> int:
    """How many polls the instance logged (DEBUG lines: "polled URL: status")."""
    return sum(
        1
        for line in daemon.log.splitlines()
        if line.startswith("{") and json.loads(line)["message"].startswith("polled ")
    )


async def held_by(dsn: str, instance: str) -> set[int]:
    """The feeds an instance holds a claim on (numbers, from their URLs)."""
    connection = await asyncpg.connect(dsn)
    try:
        rows = await connection.fetch("SELECT url FROM feeds WHERE claimed_by = $1", instance)
    finally:
        await connection.close()
    return {int(row[0].rsplit("/", 1)[1].removesuffix(".xml")) for row in rows}


async def what_became_of(dsn: str, links: list[str]) -> str:
    """The stored items and deliveries of these links, for a failure's message."""
    connection = await asyncpg.connect(dsn)
    try:
        rows = await connection.fetch(
            "SELECT i.link, f.url, i.story_id, i.joined_by, i.first_seen_at, f.baselined_at,"
            " d.id AS delivery, d.status FROM items i JOIN feeds f ON f.id = i.feed_id"
            " LEFT JOIN deliveries d ON d.story_id = i.story_id"
            " WHERE i.link = ANY($1::text[]) ORDER BY i.link, i.id",
            links,
        )
    finally:
        await connection.close()
    return "\n".join(str(dict(row)) for row in rows) or "none of them was stored"


async def unbaselined(dsn: str) -> int:
    """Feeds whose baseline is not stored yet (all of them while the instances are still
    migrating, or have not added the configured feeds yet)."""
    connection = await asyncpg.connect(dsn)
    try:
        baselined: int = await connection.fetchval(
            "SELECT count(*) FROM feeds WHERE kind = 'feed' AND baselined_at IS NOT NULL"
        )
    except asyncpg.UndefinedTableError:
        return FEEDS
    finally:
        await connection.close()
    return FEEDS - baselined


@pytest.mark.integration
@pytest.mark.slow
async def test_three_instances_alert_every_story_once_and_survive_a_sigkill(
    postgres_dsn: str, receiver: Receiver, launcher: Launcher, tmp_path: Path
) -> None:
    sites = NewsSites()
    for feed in range(FEEDS):  # what is there before: the baseline, never alerted
        sites.publish_other(-feed - 1)
    receiver.answers.extend([SEND_SECONDS] * 1000)  # a slow receiver: sends in flight
    app = web.Application()
    app.router.add_get("/feeds/{feed}.xml", sites.handle)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    try:
        daemons = [
            await launcher.start(
                config(tmp_path / f"node-{n}.yaml", postgres_dsn, f"node-{n}", server, receiver),
                "--log-format",
                "json",
                "--log-level",
                "DEBUG",
            )
            for n in (1, 2, 3)
        ]
        deadline = time.monotonic() + 60
        while await unbaselined(postgres_dsn):
            assert time.monotonic() < deadline, "\n".join(d.log[-3000:] for d in daemons)
            await asyncio.sleep(0.2)

        # 24 s of news: a story every 0.4 s, other items in between; SIGKILL at 12 s.
        killed = daemons[1]
        started = time.monotonic()
        for number in range(60):
            sites.publish_story(number)
            sites.publish_other(number)
            if number == 30:
                polls_before_kill = [polls_by(daemon) for daemon in daemons]
                killed.process.send_signal(signal.SIGKILL)
                await killed.process.wait()
                killed_at = time.monotonic()
                # Its leases run for up to LEASE more seconds; then others take over.
                leased = await held_by(postgres_dsn, "node-2")
            await asyncio.sleep(0.4)
        publishing = time.monotonic() - started

        def alerted() -> set[str]:
            links = set()
            for _, body in receiver.requests:
                payload = json.loads(body)
                if payload["type"] == "alert":
                    links.add(payload["item"]["link"])
            return links

        deadline = time.monotonic() + 60
        while alerted() != set(sites.published):
            missing = set(sites.published) - alerted()
            if time.monotonic() > deadline:
                found = await what_became_of(postgres_dsn, sorted(missing))
                raise AssertionError(f"never alerted: {sorted(missing)}\n{found}")
            await asyncio.sleep(0.2)
        await asyncio.sleep(LEASE + 1)  # room for a late duplicate to show itself
        survivors = [daemons[0], daemons[2]]
        for daemon in survivors:
            code, _ = await daemon.stop()
            assert code == 0, daemon.log[-3000:]
    finally:
        await server.close()

    # Every story once by webhook-id; a repeat only of an id, never a new one.
    ids_by_story: dict[str, set[str]] = defaultdict(set)
    sends = Counter()
    for headers, body in receiver.requests:
        payload = Webhook(SECRET).verify(body, {k.lower(): v for k, v in headers.items()})
        assert isinstance(payload, dict)
        ids_by_story[payload["item"]["link"]].add(headers["webhook-id"])
        sends[headers["webhook-id"]] += 1
    assert set(ids_by_story) == set(sites.published)
    assert all(len(ids) == 1 for ids in ids_by_story.values()), ids_by_story
    repeated = {message: count for message, count in sends.items() if count > 1}
    assert all(count == 2 for count in repeated.values())
    assert len(repeated) <= 10  # at most what the killed instance had in flight

    # No feed polled twice within its interval (less the 5% jitter), except a feed the
    # killed instance held: its request may have gone out just before the kill (after
    # waiting for a connection), and the feed is polled again once the lease ends.
    early = [
        (feed, earlier, later)
        for feed, times in sites.hits.items()
        for earlier, later in itertools.pairwise(times)
        if later - earlier < 0.9 * INTERVAL
    ]
    taken_over = [(feed, earlier, later) for feed, earlier, later in early if feed in leased]
    assert early == taken_over, early
    assert all(earlier <= killed_at <= later for _, earlier, later in taken_over)

    # The work was spread: each instance did a fair share while all three ran.
    assert all(count > sum(polls_before_kill) / 6 for count in polls_before_kill)
    polls = [polls_by(daemon) for daemon in daemons]
    assert all(after >= before for after, before in zip(polls, polls_before_kill, strict=True))
    print(
        f"\n{FEEDS} feeds, {len(sites.published)} stories"
        f" ({sum(len(f) for f in sites.published.values())} copies) over {publishing:.0f} s;"
        f" requests {sum(len(h) for h in sites.hits.values())};"
        f" polls per instance before the kill {polls_before_kill}, in all {polls};"
        f" alerts {len(sends)}, repeated ids {len(repeated)};"
        f" feeds leased by the killed instance {len(leased)}, polled again after the lease"
        f" sooner than the interval {len(taken_over)}"
    )


@pytest.mark.slow
@pytest.mark.integration
async def test_once_and_the_read_commands_on_postgresql(
    postgres_dsn: str, receiver: Receiver, tmp_path: Path
) -> None:
    sites = NewsSites()
    for feed in range(3):
        sites.publish_other(-feed - 1)
    sites.publish_story(1)
    app = web.Application()
    app.router.add_get("/feeds/{feed}.xml", sites.handle)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    try:
        # A password in the URL (trust authentication ignores it) is never shown.
        user, rest = postgres_dsn.removeprefix("postgresql://").split("@", 1)
        dsn = f"postgresql://{user}:not-needed@{rest}"
        path = config(tmp_path / "monitor.yaml", dsn, "cli-1", server, receiver)
        path.write_text(path.read_text().replace("interval: 5s", "interval: 5s, baseline: false"))
        code, out, err = await cli("check", "-c", str(path), cwd=tmp_path)
        assert code == 0, err
        assert f"storage: postgresql://{user}@{rest}" in out
        assert "cluster: leases of 5s, renewed every" in out
        assert "not-needed" not in out
        code, out, err = await cli("once", "-c", str(path), cwd=tmp_path)
        assert code == 0, err
        assert "not-needed" not in err
        code, out, err = await cli("feeds", "--json", "-c", str(path), cwd=tmp_path)
        assert code == 0, err
        shown = [json.loads(line) for line in out.splitlines()]
        assert len(shown) == FEEDS
        assert all(feed["claimed_by"] is None and feed["state"] == "ok" for feed in shown)
        code, out, err = await cli("deliveries", "--json", "-c", str(path), cwd=tmp_path)
        assert code == 0, err
        (sent,) = [json.loads(line) for line in out.splitlines()]
        assert (sent["status"], sent["claimed_by"]) == ("sent", None)
        assert sent["item"]["link"] == "https://wire.example/story-1"
    finally:
        await server.close()
