"""Crash safety of the outbox, with real daemons killed at random moments.

Matching items keep arriving on a feed while a flaky receiver takes the alerts; the
daemon is SIGKILLed again and again. After a last clean run every alert must have
reached the receiver, and any duplicate must carry the same ``webhook-id`` as its
first copy. Restarts by SIGTERM must lose and double nothing.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
import signal
import sqlite3
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web

from testbed.builders import Entry, rss
from tests.support.daemons import Launcher
from tests.support.servers import FeedServer

KILLS = 20
PUSH_KILLS = 6


@dataclass
class Newsroom:
    """A feed that grows by three matching entries per request, and a receiver that fails
    a share of its requests (answering slowly, so kills land mid-send)."""

    failure_rate: float
    rng: random.Random
    growing: bool = True
    created: list[str] = field(default_factory=list)
    # guid → every webhook-id it arrived with; and the ids answered 2xx, in order
    ids_by_guid: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    accepted: list[tuple[str, str]] = field(default_factory=list)

    def add_entries(self, count: int) -> None:
        for _ in range(count):
            number = len(self.created)
            self.created.append(f"story-{number}")

    def feed(self) -> str:
        published = format_datetime(datetime.now(UTC) - timedelta(minutes=1), usegmt=True)
        return rss(
            [
                Entry(
                    title=f"Karabakh dispatch {number}: talks on road {number * 7919 % 1000}",
                    guid=guid,
                    link=f"https://wire.example/{guid}",
                    summary=f"Report {number} on the ceasefire line, filed as {guid}.",
                    published=published,
                )
                for number, guid in enumerate(self.created)
            ]
        )

    async def serve_feed(self, request: web.Request) -> web.StreamResponse:
        if self.growing:
            self.add_entries(3)
        return web.Response(text=self.feed(), content_type="application/rss+xml")

    async def receive(self, request: web.Request) -> web.StreamResponse:
        payload = json.loads(await request.read())
        guid, message_id = payload["item"]["id"], request.headers["webhook-id"]
        self.ids_by_guid[guid].add(message_id)
        await asyncio.sleep(self.rng.uniform(0.02, 0.15))
        if self.rng.random() < self.failure_rate:
            return web.Response(status=500, text="flaky")
        self.accepted.append((guid, message_id))
        return web.Response(text="ok")

    @property
    def missing(self) -> set[str]:
        return set(self.created) - {guid for guid, _ in self.accepted}


def write_config(tmp_path: Path, feeds: FeedServer) -> Path:
    config = tmp_path / "monitor.yaml"
    config.write_text(
        f"""storage: sqlite:///{tmp_path / "monitor.db"}
defaults: {{fulltext: off, interval: 1s, baseline: false}}
http: {{allow_private_networks: true, timeout: 5s}}
feeds:
  - url: {feeds.url("/feed.xml")}
notifiers:
  hook:
    type: webhook
    url: {feeds.url("/hook")}
    retry: [0s, 200ms]
    max_attempts: 10000
watchlists:
  - {{name: karabakh, any: [Karabakh]}}
"""
    )
    return config


def open_newsroom(feeds: FeedServer, failure_rate: float, seed: int) -> Newsroom:
    newsroom = Newsroom(failure_rate, random.Random(seed))
    newsroom.add_entries(5)
    feeds.handle("/feed.xml", newsroom.serve_feed)
    feeds.handle("/hook", newsroom.receive)
    return newsroom


async def finish(launcher: Launcher, config: Path, newsroom: Newsroom) -> None:
    """A last clean run: until every story has reached the receiver, then SIGTERM."""
    newsroom.growing = False
    daemon = await launcher.start(config)
    # (and it has started: a signal before the interpreter runs our code kills it)
    await daemon.wait_for(lambda: not newsroom.missing and "running" in daemon.log, seconds=90)
    code, _ = await daemon.stop()
    assert code == 0, daemon.log


@pytest.mark.slow
@pytest.mark.integration
async def test_sigkill_at_random_moments_loses_nothing_and_duplicates_keep_their_id(
    feeds: FeedServer, tmp_path: Path, launcher: Launcher
) -> None:
    newsroom = open_newsroom(feeds, failure_rate=0.3, seed=7)
    config = write_config(tmp_path, feeds)
    moments = random.Random(2026)
    for _ in range(KILLS):
        daemon = await launcher.start(config)
        await asyncio.sleep(moments.uniform(0.5, 3.0))
        daemon.process.send_signal(signal.SIGKILL)
        await daemon.process.wait()
    await finish(launcher, config, newsroom)
    copies = Counter(guid for guid, _ in newsroom.accepted)
    duplicates = sum(count - 1 for count in copies.values())
    print(
        f"\ncrash test: {KILLS} SIGKILLs, {len(newsroom.created)} alerts expected,"
        f" {len(copies)} received, {len(newsroom.accepted)} accepted requests,"
        f" {duplicates} duplicate(s)"
    )
    assert not newsroom.missing
    assert set(copies) == set(newsroom.created)  # nothing that was not expected
    for guid, message_ids in newsroom.ids_by_guid.items():
        assert len(message_ids) == 1, (guid, message_ids)  # a duplicate keeps its id


@pytest.mark.slow
@pytest.mark.integration
async def test_sigterm_restarts_lose_and_double_nothing(
    feeds: FeedServer, tmp_path: Path, launcher: Launcher
) -> None:
    newsroom = open_newsroom(feeds, failure_rate=0.0, seed=8)
    config = write_config(tmp_path, feeds)
    moments = random.Random(2027)
    for _ in range(5):
        daemon = await launcher.start(config)
        await asyncio.sleep(moments.uniform(0.8, 2.5))
        code, took = await daemon.stop(signal.SIGTERM)
        assert code == 0 and took < 10, daemon.log
    await finish(launcher, config, newsroom)
    copies = Counter(guid for guid, _ in newsroom.accepted)
    assert set(copies) == set(newsroom.created)
    assert set(copies.values()) == {1}  # zero duplicates, zero losses


@pytest.mark.slow
@pytest.mark.integration
async def test_sigkill_with_pushes_in_flight_loses_no_pushed_item(
    feeds: FeedServer, tmp_path: Path, launcher: Launcher
) -> None:
    """A hub pushes new entries while the daemon is killed again and again. A hub sends
    a push again until it is answered 2xx, and the daemon answers 2xx only once the push
    is stored: every pushed entry is stored and alerted, each under one webhook-id."""
    from testbed.hub import start_hub
    from tests.test_web import free_port

    hub = await start_hub(3600)
    newsroom = Newsroom(failure_rate=0.2, rng=random.Random(9))
    topic = feeds.url("/feed.xml")
    head = f'<atom:link rel="hub" href="{hub.url}"/><atom:link rel="self" href="{topic}"/>'
    # Polls only ever see an old entry: whatever else arrives came by push.
    old = Entry(title="Old news", guid="old-0", link="https://wire.example/old-0")
    feeds.serve("/feed.xml", rss([old], head=head))
    feeds.handle("/hook", newsroom.receive)
    port = free_port()
    config = write_config(tmp_path, feeds)
    config.write_text(
        config.read_text().replace("interval: 1s", "interval: 1h")
        + f'web: {{listen: 127.0.0.1:{port}, public_url: "http://127.0.0.1:{port}/"}}\n'
    )
    pushed = 0

    async def publish_until_taken(body: str) -> None:
        while True:
            try:
                if await hub.publish(topic, body) == [202]:
                    return
            except aiohttp.ClientError:
                pass  # the daemon is down: the hub tries again
            await asyncio.sleep(0.1)

    async def publisher() -> None:
        # Each push carries only its new entry (hubs may send what changed): a push
        # answered 2xx and then lost is never sent again.
        nonlocal pushed
        while True:
            newsroom.add_entries(1)
            pushed += 1
            await publish_until_taken(rss(newsroom_entries(newsroom)[:1], head=head))
            await asyncio.sleep(0.05)

    daemon = await launcher.start(config)
    try:
        await daemon.wait_for(lambda: bool(hub.active(topic)), seconds=30)
        publishing = asyncio.create_task(publisher())
        moments = random.Random(2028)
        database = tmp_path / "monitor.db"
        for _ in range(PUSH_KILLS):
            await asyncio.sleep(moments.uniform(0.5, 2.0))
            # Another process holds the write lock for a moment, so that pushes are in
            # flight (taken, not yet stored) when the kill comes.
            locker = sqlite3.connect(
                database, isolation_level=None, timeout=10, check_same_thread=False
            )
            await asyncio.to_thread(locker.execute, "BEGIN IMMEDIATE")
            await asyncio.sleep(moments.uniform(0.2, 0.5))
            daemon.process.send_signal(signal.SIGKILL)
            await daemon.process.wait()
            locker.execute("ROLLBACK")
            locker.close()
            daemon = await launcher.start(config)
        await asyncio.sleep(1.0)
        publishing.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await publishing
        # The last push may have been cut short by the cancel: send it until it is taken.
        await publish_until_taken(rss(newsroom_entries(newsroom)[:1], head=head))
        await daemon.wait_for(lambda: not newsroom.missing, seconds=60)
    finally:
        await hub.close()
    copies = Counter(guid for guid, _ in newsroom.accepted)
    print(f"\npush crash test: {PUSH_KILLS} SIGKILLs, {pushed} pushes, {len(copies)} alerted")
    assert pushed >= PUSH_KILLS and not newsroom.missing
    assert set(copies) == set(newsroom.created)
    for guid, message_ids in newsroom.ids_by_guid.items():
        assert len(message_ids) == 1, (guid, message_ids)


def newsroom_entries(newsroom: Newsroom) -> list[Entry]:
    """The newsroom's entries as a feed gives them, newest first."""
    published = format_datetime(datetime.now(UTC) - timedelta(minutes=1), usegmt=True)
    return [
        Entry(
            title=f"Karabakh dispatch {guid}",
            guid=guid,
            link=f"https://wire.example/{guid}",
            summary=f"Report on the ceasefire line, filed as {guid}.",
            published=published,
        )
        for guid in reversed(newsroom.created)
    ]
