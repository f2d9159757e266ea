"""WebSub push against a local hub: discovery, subscription and verification, signed
and unsigned pushes, push-to-alert latency, renewal, a lapsed lease, denial and
unsubscription when a feed leaves the configuration."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import time
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from standardwebhooks import Webhook

from monitor.config import Settings, parse_settings
from monitor.feedlinks import WebSubLinks, websub_links
from monitor.web.push import signature_valid
from monitor.websub import renew_at, retry_delay
from testbed.builders import Entry, rss
from testbed.hub import LocalHub, in_process_daemon, start_hub
from tests.support.servers import FeedServer, Receiver
from tests.test_web import free_port

SECRET = "whsec_" + "c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0"
OLD = Entry(title="Markets rally", guid="o1", link="https://n.example/o1")
PUSHED = Entry(title="Karabakh ceasefire agreed", guid="p1", link="https://n.example/p1")


@pytest.fixture
async def hub_factory() -> AsyncIterator[Callable[[int], Any]]:
    started: list[LocalHub] = []

    async def start(lease_seconds: int = 3600) -> LocalHub:
        hub = await start_hub(lease_seconds)
        started.append(hub)
        return hub

    yield start
    for hub in started:
        await hub.close()


def feed_with_hub(hub: LocalHub, topic: str, entries: list[Entry]) -> str:
    head = f'<atom:link rel="hub" href="{hub.url}"/><atom:link rel="self" href="{topic}"/>'
    return rss(entries, head=head)


@pytest.fixture(params=["sqlite", "postgresql"])
def storage(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The ``storage:`` of a daemon, on each backend."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'monitor.db'}"
    dsn: str = request.getfixturevalue("postgres_dsn")
    return dsn


def push_settings(
    tmp_path: Path,
    feed_urls: list[str],
    hook: str,
    port: int,
    extra: str = "",
    storage: str | None = None,
) -> Settings:
    feeds = "\n".join(f"  - {{url: {url}}}" for url in feed_urls)
    text = f"""
storage: "{storage or f"sqlite:///{tmp_path / 'monitor.db'}"}"
defaults: {{fulltext: off, interval: 1h, baseline: true}}
http: {{allow_private_networks: true, timeout: 5s, max_body: 64KiB}}
web: {{listen: 127.0.0.1:{port}, public_url: "http://127.0.0.1:{port}/"}}
feeds:
{feeds}
notifiers:
  ops: {{type: webhook, url: "{hook}", secret: "{SECRET}"}}
watchlists:
  - {{name: karabakh, any: [Karabakh]}}
{extra}"""
    return parse_settings(text, str(tmp_path / "monitor.yaml"), {})


async def eventually(check: Callable[[], Any], within: float = 10.0) -> None:
    deadline = time.monotonic() + within
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError("not reached in time")
        await asyncio.sleep(0.02)


def alerted_links(receiver: Receiver) -> list[str]:
    hook = Webhook(SECRET)
    links = []
    for headers, body in receiver.requests:
        payload = hook.verify(body, headers)
        links.append(payload["item"]["link"])
    return links


# -- units ------------------------------------------------------------------------------


@pytest.mark.parametrize("method", ["sha1", "sha256", "sha384", "sha512"])
def test_a_signature_by_each_method_websub_names_is_checked(method: str) -> None:
    body = b"<rss/>"
    digest = hmac.new(b"k3y", body, getattr(hashlib, method)).hexdigest()
    assert signature_valid("k3y", f"{method}={digest}", body)
    assert signature_valid("k3y", f"{method.upper()}={digest.upper()}", body)
    assert not signature_valid("other", f"{method}={digest}", body)
    assert not signature_valid("k3y", f"{method}={digest}", body + b" ")


@pytest.mark.parametrize("header", [None, "", "sha256", "md5=abc", "sha256="])
def test_a_missing_or_unknown_signature_is_not_valid(header: str | None) -> None:
    assert not signature_valid("k3y", header, b"body")


def test_hub_and_topic_come_from_the_link_header_before_the_feed() -> None:
    body = (
        b'<rss xmlns:atom="http://www.w3.org/2005/Atom"><channel>'
        b"<atom:link href='/hub?x=1&amp;y=2' rel='hub'/>"
        b'<atom:link rel="self" href="https://n.example/feed"/></channel></rss>'
    )
    base = "https://n.example/news/feed"
    assert websub_links(body, {}, base) == WebSubLinks(
        "https://n.example/hub?x=1&y=2", "https://n.example/feed"
    )
    header = {"Link": '<https://hub.example/>; rel="hub", </t>; rel=self'}
    assert websub_links(body, header, base) == WebSubLinks(
        "https://hub.example/", "https://n.example/t"
    )
    atom = b'<feed xmlns="http://www.w3.org/2005/Atom"><link rel="hub" href="https://h/"/></feed>'
    assert websub_links(atom, {}, base) is None  # a hub without a topic
    assert websub_links(b"<rss/>", {"Link": '<javascript:x>; rel="hub self"'}, base) is None


def test_renewal_and_retry_timing() -> None:
    from datetime import UTC, datetime

    now = datetime(2026, 11, 29, tzinfo=UTC)
    assert renew_at(now, timedelta(days=10)) == now + timedelta(days=9)
    assert renew_at(now, timedelta(seconds=4)) == now + timedelta(seconds=2)
    assert [retry_delay(n).total_seconds() for n in (1, 2, 3)] == [60, 120, 240]
    assert retry_delay(100) == timedelta(hours=6)


# -- against a local hub ------------------------------------------------------------------


@pytest.mark.integration
async def test_a_signed_push_is_alerted_at_once_and_unsigned_or_forged_ones_are_dropped(
    feeds: FeedServer,
    receiver: Receiver,
    hub_factory: Callable[[int], Any],
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
    storage: str,
) -> None:
    hub: LocalHub = await hub_factory(3600)
    topic = feeds.url("/feed.xml")
    feeds.serve("/feed.xml", feed_with_hub(hub, topic, [OLD]))
    port = free_port()
    settings = push_settings(tmp_path, [topic], receiver.url(), port, storage=storage)
    async with in_process_daemon(settings) as (runtime, _):
        await eventually(lambda: hub.active(topic))
        (form,) = hub.asked("subscribe")
        assert form["hub.callback"].startswith(f"http://127.0.0.1:{port}/websub/")
        assert len(form["hub.secret"]) >= 32 and form["hub.lease_seconds"] == str(7 * 86400)
        assert hub.verifications == [("subscribe", 200, True)]
        (state,) = await runtime.store.feeds()
        assert state.hub == hub.url and state.topic == topic
        assert state.push_until is not None

        started = time.monotonic()
        statuses = await hub.publish(topic, feed_with_hub(hub, topic, [PUSHED, OLD]))
        await eventually(lambda: receiver.requests, within=5)
        latency = time.monotonic() - started
        print(f"\npush → alert delivered ({storage.split(':')[0]}): {latency * 1000:.0f} ms")
        assert statuses == [202]
        assert latency < 2.0
        assert alerted_links(receiver) == [PUSHED.link]

        forged = Entry(title="Karabakh forged", guid="f1", link="https://n.example/f1")
        unsigned = Entry(title="Karabakh unsigned", guid="u1", link="https://n.example/u1")
        assert await hub.publish(topic, rss([forged]), sign="wrong") == [202]
        assert await hub.publish(topic, rss([unsigned]), sign=None) == [202]
        other = Entry(title="Karabakh talks", guid="p2", link="https://n.example/p2")
        assert await hub.publish(topic, rss([other]), sign="sha512") == [202]
        await eventually(lambda: len(receiver.requests) == 2, within=5)
        await asyncio.sleep(0.5)
        assert alerted_links(receiver) == [PUSHED.link, other.link]
        stored = {item.item.link for item in await runtime.store.items()}
        assert forged.link not in stored and unsigned.link not in stored
        assert "its signature is wrong" in caplog.text and "it is not signed" in caplog.text
        assert len(feeds.hits["/feed.xml"]) == 1  # pushed, not polled

        # A push over http.max_body (64 KiB here) is refused, signed or not.
        huge = rss(
            [Entry(title="Karabakh " + "x" * 70_000, guid="h1", link="https://n.example/h1")]
        )
        assert await hub.publish(topic, huge) == [413]
        assert "over 65536 bytes" in caplog.text

        async with aiohttp.ClientSession() as http:
            async with http.get(f"http://127.0.0.1:{port}/") as answer:
                assert "<small>pushed</small>" in await answer.text()
            async with http.get(f"http://127.0.0.1:{port}/metrics") as answer:
                metrics = await answer.text()
            assert 'news_monitor_websub_subscriptions{state="active"} 1.0' in metrics
            assert 'news_monitor_websub_subscriptions{state="denied"} 0.0' in metrics
            assert 'news_monitor_polls_total{result="push"} 2.0' in metrics
            unknown = f"http://127.0.0.1:{port}/websub/no-such-token"
            query = {"hub.mode": "subscribe", "hub.topic": topic, "hub.challenge": "x"}
            async with http.get(unknown, params=query) as answer:
                assert answer.status == 404
            async with http.post(unknown, data=b"<rss/>") as answer:
                assert answer.status == 410
            callback = form["hub.callback"]
            wrong_topic = {**query, "hub.topic": "https://elsewhere.example/feed"}
            async with http.get(callback, params=wrong_topic) as answer:
                assert answer.status == 404
            unasked = {**query, "hub.mode": "unsubscribe"}
            async with http.get(callback, params=unasked) as answer:
                assert answer.status == 404


@pytest.mark.slow
@pytest.mark.integration
async def test_leases_are_renewed_and_a_lapsed_one_brings_polling_back(
    feeds: FeedServer,
    receiver: Receiver,
    hub_factory: Callable[[int], Any],
    tmp_path: Path,
) -> None:
    hub: LocalHub = await hub_factory(3)
    topic = feeds.url("/feed.xml")
    feeds.serve("/feed.xml", feed_with_hub(hub, topic, [OLD]))
    port = free_port()
    extra = "websub: {fallback_interval: 1h}\n"
    settings = push_settings(tmp_path, [topic], receiver.url(), port, extra)
    settings = settings.model_copy(
        update={
            "feeds": [
                f.model_copy(update={"interval": timedelta(seconds=1)}) for f in settings.feeds
            ]
        }
    )
    async with in_process_daemon(settings) as (runtime, _):
        await eventually(lambda: hub.active(topic))
        # Renewed halfway through each 3 s lease, so it never lapses.
        for _ in range(35):
            assert hub.active(topic)
            await asyncio.sleep(0.1)
        assert len(hub.asked("subscribe")) >= 2
        (state,) = await runtime.store.feeds()
        assert state.last_polled_at is not None
        # Pushed: the next poll waits for the lease's end, not the feed's 1 s.
        assert state.next_poll_at - state.last_polled_at > timedelta(seconds=1.2)

        hub.refuse = True  # renewals fail: the lease runs out, the hub stops pushing
        await eventually(lambda: not hub.active(topic), within=5)
        polls = len(feeds.hits["/feed.xml"])
        feeds.serve("/feed.xml", feed_with_hub(hub, topic, [PUSHED, OLD]))
        await eventually(lambda: receiver.requests, within=6)
        assert alerted_links(receiver) == [PUSHED.link]  # found by polling
        assert len(feeds.hits["/feed.xml"]) > polls
        (state,) = await runtime.store.feeds()
        assert not state.pushed(runtime.clock())


@pytest.mark.integration
async def test_a_removed_feed_is_unsubscribed_and_a_denied_one_is_polled(
    feeds: FeedServer,
    receiver: Receiver,
    hub_factory: Callable[[int], Any],
    tmp_path: Path,
    storage: str,
) -> None:
    hub: LocalHub = await hub_factory(3600)
    kept, removed = feeds.url("/kept.xml"), feeds.url("/removed.xml")
    feeds.serve("/kept.xml", feed_with_hub(hub, kept, [OLD]))
    feeds.serve("/removed.xml", feed_with_hub(hub, removed, [OLD]))
    port = free_port()
    settings = push_settings(tmp_path, [kept, removed], receiver.url(), port, storage=storage)
    async with in_process_daemon(settings) as (runtime, _):
        await eventually(lambda: hub.active(kept) and hub.active(removed))
        fewer = push_settings(tmp_path, [kept], receiver.url(), port, storage=storage)
        await runtime.apply(fewer)
        await eventually(lambda: not hub.active(removed))
        (form,) = hub.asked("unsubscribe")
        assert form["hub.topic"] == removed and "hub.secret" not in form
        assert ("unsubscribe", 200, True) in hub.verifications
        token = form["hub.callback"].rsplit("/", 1)[1]
        assert await runtime.store.subscribed_feed(token) is None
        # What the old subscription still receives is refused with 410 Gone.
        async with aiohttp.ClientSession() as http, http.post(form["hub.callback"]) as answer:
            assert answer.status == 410

        assert await hub.deny(kept, "topic not allowed") == 200
        (state,) = await runtime.store.feeds()
        assert state.url == kept and state.push_until is None
        (request,) = [f for f in hub.asked("subscribe") if f["hub.topic"] == kept]
        found = await runtime.store.subscribed_feed(request["hub.callback"].rsplit("/", 1)[1])
        assert found is not None
        subscription, _ = found
        assert (subscription.state, subscription.last_error) == ("denied", "topic not allowed")


@pytest.mark.integration
async def test_a_refusing_hub_is_asked_again_later_and_a_signed_non_feed_push_is_logged(
    feeds: FeedServer,
    receiver: Receiver,
    hub_factory: Callable[[int], Any],
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    hub: LocalHub = await hub_factory(3600)
    hub.refuse = True
    topic = feeds.url("/feed.xml")
    feeds.serve("/feed.xml", feed_with_hub(hub, topic, [OLD]))
    port = free_port()
    settings = push_settings(tmp_path, [topic], receiver.url(), port)
    async with in_process_daemon(settings) as (runtime, _):
        await eventually(lambda: hub.requests)
        await eventually(lambda: "hub overloaded" in caplog.text)
        token = hub.requests[0]["hub.callback"].rsplit("/", 1)[1]
        found = await runtime.store.subscribed_feed(token)
        assert found is not None
        subscription, feed = found
        assert subscription.state == "requested"
        assert subscription.last_error == "subscribe: HTTP 500: hub overloaded"
        assert feed.push_until is None
        await asyncio.sleep(0.5)
        assert len(hub.requests) == 1  # not again before a minute has passed

        # The hub comes back and verifies; then pushes something that is no feed.
        hub.refuse = False
        subscriber = runtime.subscriber
        assert subscriber is not None
        (task,) = await runtime.store.subscription_tasks(runtime.clock() + timedelta(minutes=2))
        assert await subscriber.ask(task)
        await eventually(lambda: hub.active(topic))
        assert await hub.publish(topic, "<html><body>an error page</body></html>") == [202]
        await eventually(
            lambda: "content pushed for" in caplog.text and "cannot be read" in caplog.text
        )
        assert receiver.requests == []


def test_public_url_and_websub_settings_are_checked(tmp_path: Path) -> None:
    from monitor.cli.summaries import check_summary
    from monitor.config import ConfigError
    from tests.support.values import make_settings

    with pytest.raises(ConfigError, match="expected an http"):
        make_settings(tmp_path, "web: {public_url: 'ftp://x.example'}\n")
    with pytest.raises(ConfigError, match="at least 1s"):
        make_settings(tmp_path, "websub: {fallback_interval: 0s}\n")
    on = make_settings(tmp_path, "web: {public_url: 'https://nm.example/'}\n")
    assert on.push_url == "https://nm.example"
    summary = check_summary(on, tmp_path / "monitor.yaml")
    assert "websub: hubs push to https://nm.example/websub/…; pushed feeds polled every 1h" in (
        summary
    )
    assert "a reverse proxy at https://nm.example must forward /websub/" in summary
    direct = make_settings(
        tmp_path, "web: {listen: '0.0.0.0:8080', public_url: 'https://nm.example/'}\n"
    )
    assert "reverse proxy" not in check_summary(direct, tmp_path / "monitor.yaml")
    assert make_settings(tmp_path, "web: {public_url: ''}\n").push_url is None
    off = make_settings(
        tmp_path, "web: {public_url: 'https://nm.example'}\nwebsub: {enabled: false}\n"
    )
    assert off.push_url is None
    assert "websub: off" in check_summary(off, tmp_path / "monitor.yaml")


async def test_a_hub_call_the_store_cannot_answer_gets_503(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    from aiohttp import web
    from aiohttp.test_utils import TestClient, TestServer

    from monitor.store import SQLiteStore
    from monitor.web.push import PushEndpoint

    async def ingest(*_: object) -> bool:
        raise AssertionError("nothing is ingested")

    unopened = SQLiteStore(tmp_path / "never-opened.db")
    endpoint = PushEndpoint(unopened, lambda: datetime.now(UTC), ingest, timedelta(days=1))
    app = web.Application()
    endpoint.add_routes(app)
    async with TestClient(TestServer(app)) as client:
        answer = await client.get("/websub/t0ken", params={"hub.mode": "subscribe"})
        assert answer.status == 503
        answer = await client.post("/websub/t0ken", data=b"<rss/>")
        assert answer.status == 503
    assert "could not be answered" in caplog.text and "t0ken" not in caplog.text


async def test_content_pushed_while_the_daemon_stops_is_sent_back_to_retry(tmp_path: Path) -> None:
    from aiohttp import web
    from aiohttp.test_utils import TestClient, TestServer

    from monitor.models import FeedSpec, PollRecord
    from monitor.store import SQLiteStore
    from monitor.web.push import PushEndpoint

    now = datetime.now(UTC)
    url = "https://n.example/feed"
    async with SQLiteStore(tmp_path / "m.db") as store:
        await store.sync_feeds([FeedSpec(url, None, timedelta(hours=1), True)], now)
        (feed,) = await store.claim_due_feeds(now, 1, timedelta(minutes=1))
        polled = PollRecord(now, now, 200, None, claim=feed.claim, hub="https://h/", topic=url)
        await store.save_poll(feed.id, [], polled, alert=False)
        (task,) = await store.subscription_tasks(now)

        async def stopping(*_: object) -> bool:
            return False  # what Daemon.pushed says once shutdown has begun

        endpoint = PushEndpoint(store, lambda: now, stopping, timedelta(days=1))
        app = web.Application()
        endpoint.add_routes(app)
        body = rss([PUSHED]).encode()
        digest = hmac.new(task.subscription.secret.encode(), body, hashlib.sha256).hexdigest()
        async with TestClient(TestServer(app)) as client:
            answer = await client.post(
                f"/websub/{task.subscription.token}",
                data=body,
                headers={"X-Hub-Signature": f"sha256={digest}"},
            )
            assert answer.status == 503


@pytest.mark.integration
async def test_a_push_is_answered_2xx_only_once_it_is_stored(
    feeds: FeedServer,
    receiver: Receiver,
    hub_factory: Callable[[int], Any],
    tmp_path: Path,
) -> None:
    """Hubs do not send a 2xx'd push again: the answer waits for the commit, and a push
    the store cannot take in time is answered 503, so the hub retries it."""
    import sqlite3

    hub: LocalHub = await hub_factory(3600)
    topic = feeds.url("/feed.xml")
    feeds.serve("/feed.xml", feed_with_hub(hub, topic, [OLD]))
    settings = push_settings(tmp_path, [topic], receiver.url(), free_port())
    database = tmp_path / "monitor.db"

    def stored() -> set[str]:
        with sqlite3.connect(database) as db:
            return {row[0] for row in db.execute("SELECT guid FROM items")}

    async with in_process_daemon(settings) as (_, daemon):
        await eventually(lambda: hub.active(topic))
        # Another process holds the write lock for a moment: the answer waits for it.
        # (The locker runs in a thread: waiting for the lock on the loop would stop the
        # daemon, which runs on it too, from ever finishing its own transaction.)
        locker = sqlite3.connect(
            database, isolation_level=None, timeout=10, check_same_thread=False
        )
        await asyncio.to_thread(locker.execute, "BEGIN IMMEDIATE")
        loop = asyncio.get_running_loop()
        loop.call_later(1.0, locker.execute, "ROLLBACK")
        started = time.monotonic()
        assert await hub.publish(topic, feed_with_hub(hub, topic, [PUSHED, OLD])) == [202]
        assert time.monotonic() - started >= 0.9
        assert "p1" in stored()  # durable before the hub had its answer
        # Held longer than a hub is kept waiting: 503, and nothing half-done.
        daemon.push_deadline = 0.5
        await asyncio.to_thread(locker.execute, "BEGIN IMMEDIATE")
        later = Entry(title="Karabakh talks", guid="p2", link="https://n.example/p2")
        body = feed_with_hub(hub, topic, [later, PUSHED, OLD])
        assert await hub.publish(topic, body) == [503]
        locker.execute("ROLLBACK")
        locker.close()
        assert await hub.publish(topic, body) == [202]  # the hub's retry
        assert {"p1", "p2"} <= stored()
        await eventually(lambda: len(receiver.requests) == 2, within=5)
        assert sorted(alerted_links(receiver)) == sorted([PUSHED.link, later.link])
