"""The HTTP side: probes, metrics, the status page and JSON, from a real daemon process."""

from __future__ import annotations

import asyncio
import re
import socket
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiohttp
import pytest
from aiohttp.test_utils import TestClient, TestServer

from monitor.config import ConfigError, parse_settings
from monitor.models import FeedSpec
from monitor.store import Store
from monitor.web import WebSide
from monitor.web.metrics import Metrics
from testbed.builders import Entry, rss
from tests.support.daemons import Launcher
from tests.support.servers import FeedServer, Receiver
from tests.support.values import queue_alerts
from tests.test_daemon import write_config

TOKEN = "s3cret-token-for-tests"
HOSTILE = Entry(
    title="Karabakh <script>alert('x')</script> truce", guid="h1", link="https://n.example/h1"
)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@pytest.mark.integration
async def test_a_running_daemon_serves_probes_metrics_page_and_json(
    feeds: FeedServer, receiver: Receiver, tmp_path: Path, launcher: Launcher
) -> None:
    feeds.serve("/feed.xml", rss([HOSTILE]))
    config = tmp_path / "monitor.yaml"
    port = free_port()
    web = f"web: {{listen: 127.0.0.1:{port}, token: {TOKEN}}}"
    write_config(config, feeds.url("/feed.xml"), receiver.url(), extra=web)
    daemon = await launcher.start(config)
    await daemon.wait_for(lambda: len(receiver.requests) == 1)
    base = f"http://127.0.0.1:{port}"
    auth = {"Authorization": f"Bearer {TOKEN}"}
    async with aiohttp.ClientSession() as http:
        async with http.get(f"{base}/healthz") as answer:
            assert answer.status == 200  # open without the token: liveness probes
        for path in ("/readyz", "/metrics", "/", "/api/feeds"):
            async with http.get(f"{base}{path}") as answer:
                assert answer.status == 401, path
            bad = {"Authorization": "Bearer wrong"}
            async with http.get(f"{base}{path}", headers=bad) as answer:
                assert answer.status == 401, path
        async with http.get(f"{base}/readyz", headers=auth) as answer:
            assert answer.status == 200
        # The receiver has the alert; the daemon counts the send once its answer is read.
        sent = 'news_monitor_sends_total{notifier="ops",result="sent"} 1.0'
        for _ in range(100):
            async with http.get(f"{base}/metrics", headers=auth) as answer:
                metrics = await answer.text()
            if sent in metrics:
                break
            await asyncio.sleep(0.05)
        async with http.get(f"{base}/api/feeds", headers=auth) as answer:
            (feed,) = await answer.json()
        async with http.get(f"{base}/api/alerts", headers=auth) as answer:
            (alert,) = await answer.json()
        async with http.get(f"{base}/api/deliveries?status=sent", headers=auth) as answer:
            (delivered,) = await answer.json()
        async with http.get(f"{base}/", headers=auth) as answer:
            page = await answer.text()
    assert 'news_monitor_polls_total{result="200"} 1.0' in metrics
    assert "news_monitor_fetch_seconds_count 1.0" in metrics
    for stage in ("fetch", "read", "text", "identify", "match", "store"):
        assert f'news_monitor_stage_seconds_total{{stage="{stage}"}}' in metrics, stage
    assert "news_monitor_dispatch_lag_seconds_count 1.0" in metrics
    assert sent in metrics
    assert 'news_monitor_alerts_sent_total{watchlist="karabakh"} 1.0' in metrics
    assert "news_monitor_delivery_latency_seconds_count 1.0" in metrics
    assert 'news_monitor_matches_total{watchlist="karabakh"} 1.0' in metrics
    assert 'news_monitor_items_total{kind="new"} 1.0' in metrics
    assert "news_monitor_outbox_pending 0.0" in metrics
    assert 'news_monitor_messages_total{result="sent"} 1.0' in metrics
    assert feed["url"] == feeds.url("/feed.xml") and feed["state"] == "ok"
    assert alert["item"]["title"] == "Karabakh <script>alert('x')</script> truce"
    assert delivered["id"] == alert["id"]
    assert "<script>alert" not in page  # a feed's text is shown, never run
    assert "Karabakh &lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt; truce" in page
    assert feeds.url("/feed.xml") in page and '<span class="ok">ok</span>' in page
    assert "Karabakh (title)" in page
    code, _ = await daemon.stop()
    assert code == 0


async def client_for(web: WebSide) -> TestClient[aiohttp.web.Request, aiohttp.web.Application]:
    client = TestClient(TestServer(web.application()))
    await client.start_server()
    return client


async def test_readiness_follows_the_daemon_and_the_outbox_gauges_the_store(
    store: Store,
) -> None:
    # Queued and read at fixed times (not the real one), so the age is the same any day.
    queued = datetime(2026, 1, 1, tzinfo=UTC)
    await queue_alerts(store, [("a1", "Karabakh truce")], ("hook", "slack"), now=queued)
    ready = False
    later = queued + timedelta(days=26_000)  # decades: 2.2464e+09 seconds
    web = WebSide(store, Metrics(), lambda: ready, lambda: later, lambda: ["karabakh"])
    client = await client_for(web)
    try:
        assert (await client.get("/readyz")).status == 503
        ready = True
        assert (await client.get("/readyz")).status == 200
        metrics = await (await client.get("/metrics")).text()
        assert "news_monitor_outbox_pending 2.0" in metrics
        assert "news_monitor_outbox_oldest_pending_seconds 2." in metrics  # decades
        assert (await client.get("/api/deliveries?status=bogus")).status == 400
        page = await (await client.get("/")).text()
        assert '<table id="watchlists">' in page and "<td>karabakh</td><td>2</td>" in page
    finally:
        await client.close()


@pytest.mark.parametrize(
    ("web", "message"),
    [
        ("{listen: localhost}", "expected HOST:PORT"),
        ("{listen: '127.0.0.1:99999'}", "expected HOST:PORT"),
        ("{token: short}", "at least 16 characters"),
    ],
)
def test_web_settings_are_checked(web: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        parse_settings(f"web: {web}\n", "monitor.yaml", {})


@pytest.mark.integration
async def test_a_port_already_taken_stops_the_start_with_the_reason(
    feeds: FeedServer, receiver: Receiver, tmp_path: Path, launcher: Launcher
) -> None:
    feeds.serve("/feed.xml", rss([HOSTILE]))
    config = tmp_path / "monitor.yaml"
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        web = f"web: {{listen: 127.0.0.1:{port}}}"
        write_config(config, feeds.url("/feed.xml"), receiver.url(), extra=web)
        daemon = await launcher.start(config)
        code = await asyncio.wait_for(daemon.process.wait(), timeout=30)
    await daemon.wait_for(lambda: "address already in use" in daemon.log.lower())
    assert code == 1
    assert feeds.hits.get("/feed.xml", []) == []  # no work began


async def test_story_joins_and_matches_reach_the_metrics(store: Store) -> None:
    from datetime import timedelta

    from monitor.dedupe import identify
    from monitor.models import FeedSpec, Item, Match, NewItem, PollRecord
    from monitor.outcome import PollOutcome

    now = datetime.now(UTC)
    specs = [FeedSpec(f"https://{host}/feed", None, timedelta(hours=1), False) for host in "ab"]
    await store.sync_feeds(specs, now)
    first, second = await store.feeds()
    story = Item(
        entry_key="k", guid=None, title="Karabakh truce", link="https://n/1", summary="", content=""
    )
    matched = (Match("karabakh", ("hook",), ()),)
    record = PollRecord(now, now + timedelta(hours=1), 200, None)
    await store.save_poll(first.id, [NewItem(identify([story])[0], matched)], record, alert=True)
    new = [NewItem(identify([story])[0], matched)]
    saved = await store.save_poll(second.id, new, record, alert=True)
    assert (saved.stored, saved.new_stories, saved.joins, saved.matched) == (
        1,
        0,
        ("link",),
        ("karabakh",),
    )
    metrics = Metrics()
    metrics.polled(PollOutcome(second, "updated", joins=saved.joins, matched=saved.matched), 0.1)
    text = metrics.exposition().decode()
    assert 'news_monitor_story_joins_total{by="link"} 1.0' in text
    assert 'news_monitor_matches_total{watchlist="karabakh"} 1.0' in text


async def test_a_request_too_large_to_parse_is_one_warning_not_a_traceback(
    store: Store, caplog: pytest.LogCaptureFixture
) -> None:
    web = WebSide(store, Metrics(), lambda: True, lambda: datetime.now(UTC), list)
    port = free_port()
    await web.start(f"127.0.0.1:{port}")
    try:
        for _ in range(3):
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.write(b"GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 20_000 + b"\r\n\r\n")
            await writer.drain()
            assert (await reader.read(12)).endswith(b"400")
            writer.close()
    finally:
        await web.stop()
    said = [r for r in caplog.records if r.name == "aiohttp.server"]
    assert len(said) == 3
    assert all(r.levelname == "WARNING" and not r.exc_info for r in said)
    assert "400 Got more than 8190 bytes" in said[0].getMessage()


async def test_the_story_api_gives_what_stories_json_gives(store: Store) -> None:
    from monitor.views import story_json

    now = datetime.now(UTC)
    await queue_alerts(store, [("a1", HOSTILE.title), ("a2", "Markets rally")], now=now)
    newest = await store.stories()
    assert await store.mute_story(newest[-1].id, now, None)
    web = WebSide(store, Metrics(), lambda: True, lambda: now, lambda: ["karabakh"], TOKEN)
    client = await client_for(web)
    auth = {"Authorization": f"Bearer {TOKEN}"}
    try:
        assert (await client.get("/api/stories")).status == 401
        listed = await (await client.get("/api/stories", headers=auth)).json()
        assert listed == [story_json(story) for story in await store.stories()]
        assert [story["items"][0]["title"] for story in listed] == [
            "Markets rally",
            HOSTILE.title,  # JSON carries a feed's text as it is; pages escape it
        ]
        assert listed[1]["muted"] is not None and listed[0]["muted"] is None
        (one,) = await (await client.get("/api/stories?limit=1", headers=auth)).json()
        assert one == listed[0]
        single = await client.get(f"/api/stories/{newest[-1].id}", headers=auth)
        assert await single.json() == listed[1]
        for path, status in (
            ("/api/stories/424242", 404),
            ("/api/stories/x1", 404),
            ("/api/stories?limit=0", 400),
            ("/api/stories?limit=501", 400),
            ("/api/stories?limit=ten", 400),
        ):
            answer = await client.get(path, headers=auth)
            assert answer.status == status, path
            assert "error" in await answer.json()
    finally:
        await client.close()


async def test_search_finds_what_the_watchlists_test_matcher_finds(store: Store) -> None:
    from itertools import count

    from monitor.match import Document
    from monitor.web.search import Query, SearchApi
    from monitor.wiring.watchlists import feed_labels, query_watchlist

    now = datetime.now(UTC)
    titles = [HOSTILE.title, "Markets rally", "Qarabağ talks resume", "Karabakh: prisoners"]
    await queue_alerts(store, [(f"s{n}", title) for n, title in enumerate(titles)], now=now)
    settings = parse_settings("aliases:\n  karabakh: [Karabakh, Qarabağ]\n", "m.yaml", {})

    def build(text: str) -> Query:
        return Query(query_watchlist(settings, text), feed_labels(settings))

    web = WebSide(store, Metrics(), lambda: True, lambda: now, lambda: [], TOKEN, query=build)
    client = await client_for(web)
    auth = {"Authorization": f"Bearer {TOKEN}"}
    try:
        assert (await client.get("/api/search?q=karabakh")).status == 401
        answer = await (await client.get("/api/search?q=title:@karabakh", headers=auth)).json()
        expected = [
            stored.item.title
            for stored in await store.items()
            if build("title:@karabakh").watchlists.match(Document.of(stored.item))
        ]
        assert [hit["item"]["title"] for hit in answer["results"]] == expected
        assert len(expected) == 3 and answer["total"] == 3 and answer["complete"]
        assert answer["searched"] == 4 and answer["took_ms"] >= 0
        found = {hit["item"]["title"]: hit["matched"][0]["found"] for hit in answer["results"]}
        assert found[HOSTILE.title] == ["Karabakh"]  # a feed's text, as it is, in JSON
        assert found["Qarabağ talks resume"] == ["Qarabağ"]
        paged = await (
            await client.get("/api/search?q=title:@karabakh&limit=1&offset=1", headers=auth)
        ).json()
        assert [hit["item"]["title"] for hit in paged["results"]] == expected[1:2]
        for query, said in (
            ("", "say what to search for"),
            ("q=karabakh AND (", "q: 1:"),
            ("q=" + "x" * 501, "at most 500 characters"),
            ("q=karabakh&within=0", "within must be a number"),
            ("q=karabakh&limit=ten", "limit must be a number"),
        ):
            bad = await client.get(f"/api/search?{query}", headers=auth)
            assert bad.status == 400, query
            assert said in (await bad.json())["error"], query
    finally:
        await client.close()
    # Out of time before the first slice: it says how far it got, and that it stopped.
    ticks = count(step=2)
    late = SearchApi(store, build, clock=lambda: float(next(ticks)))
    app = aiohttp.web.Application()
    late.add_routes(app)
    client = TestClient(TestServer(app))
    await client.start_server()
    try:
        answer = await (await client.get("/api/search?q=karabakh")).json()
        assert (answer["searched"], answer["complete"], answer["results"]) == (0, False, [])
    finally:
        await client.close()


async def test_stories_on_the_status_page_and_a_page_per_story(store: Store) -> None:
    now = datetime.now(UTC)
    await queue_alerts(store, [("p1", HOSTILE.title), ("p2", "Markets rally")], now=now)
    stories = await store.stories()
    hostile = next(story for story in stories if story.items[0].item.title == HOSTILE.title)
    assert await store.mute_story(hostile.id, now, None)
    web = WebSide(store, Metrics(), lambda: True, lambda: now, lambda: ["karabakh"])
    client = await client_for(web)
    try:
        page = await (await client.get("/")).text()
        assert '<table id="stories">' in page
        assert f'<a href="/stories/{hostile.id}">' in page
        assert "<script>alert" not in page
        assert "muted until unmuted" in page
        story = await client.get(f"/stories/{hostile.id}")
        assert story.status == 200
        text = await story.text()
        assert "<script>alert" not in text  # escaped, never run
        assert "Karabakh &lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt; truce" in text
        assert '<table id="members">' in text and "<td>first</td>" in text
        assert '<table id="decisions">' in text and "<td>karabakh</td><td>alerted</td>" in text
        assert "muted until unmuted" in text
        for path in ("/stories/424242", "/stories/%3Cb%3E"):
            missing = await client.get(path)
            assert missing.status == 404, path
            assert "<b>" not in await missing.text()
    finally:
        await client.close()


async def test_a_story_page_mutes_and_unmutes_by_its_own_form_only(store: Store) -> None:
    now = datetime.now(UTC)
    await queue_alerts(store, [("m1", "Karabakh truce holds")], now=now)
    (story,) = await store.stories()
    web = WebSide(store, Metrics(), lambda: True, lambda: now, lambda: ["karabakh"])
    client = await client_for(web)
    path = f"/stories/{story.id}"

    async def form_token(action: str) -> str:
        found = re.search(
            rf'<form id="{action}" method="post" action="{path}/{action}">'
            r'<input type="hidden" name="token" value="([0-9a-f]+)">',
            await (await client.get(path)).text(),
        )
        assert found is not None
        return found.group(1)

    try:
        token = await form_token("mute")
        refused = [
            ({"token": "0" * 32, "for": "7d"}, {}, 403),  # forged
            ({"token": token, "for": "7d"}, {"Sec-Fetch-Site": "cross-site"}, 403),
            ({"token": token, "for": "7d"}, {"Origin": "https://evil.example"}, 403),
            ({"token": token, "for": "1y"}, {}, 400),
        ]
        for form, headers, status in refused:
            answer = await client.post(f"{path}/mute", data=form, headers=headers)
            assert answer.status == status, (form, headers)
        assert (await store.story(story.id)).muted is None  # type: ignore[union-attr]
        same_site = {
            "Sec-Fetch-Site": "same-origin",
            "Origin": f"http://{client.host}:{client.port}",
        }
        answer = await client.post(
            f"{path}/mute",
            data={"token": token, "for": "7d"},
            headers=same_site,
            allow_redirects=False,
        )
        assert (answer.status, answer.headers["Location"]) == (303, path)
        muted = (await store.story(story.id)).muted  # type: ignore[union-attr]
        assert muted is not None and muted.until == now + timedelta(days=7)
        assert "muted until" in await (await client.get(path)).text()
        # A mute token does not unmute; the page's unmute form does.
        answer = await client.post(f"{path}/unmute", data={"token": token})
        assert answer.status == 403
        answer = await client.post(f"{path}/unmute", data={"token": await form_token("unmute")})
        assert answer.status == 200  # followed back to the story's page
        assert (await store.story(story.id)).muted is None  # type: ignore[union-attr]
        missing = await client.post("/stories/424242/mute", data={"token": token})
        assert missing.status == 403  # a token names its story
    finally:
        await client.close()


async def test_trends_feeds_and_a_feed_page_show_the_stored_counts(store: Store) -> None:
    from monitor.poll_days import utc_day

    now = datetime.now(UTC)
    yesterday = now - timedelta(days=1)
    # Three stories (texts of their own): one alerted yesterday, two today.
    for key, title, when, url in (
        ("t1", "Karabakh truce", yesterday, "https://a.example/f"),
        ("t2", HOSTILE.title, now, "https://b.example/f"),
        ("t3", "Markets rally", now, "https://b.example/f"),
    ):
        summary = f"Story {key}: {title}, told in words of its own for {key}."
        await queue_alerts(store, [(key, title)], now=when, feed_url=url, summary=summary)
    urls = ["https://a.example/f", "https://b.example/f"]
    await store.sync_feeds([FeedSpec(url, None, timedelta(minutes=10), False) for url in urls], now)
    feeds = {feed.url: feed for feed in await store.feeds()}
    web = WebSide(store, Metrics(), lambda: True, lambda: now, lambda: ["karabakh", "quiet"])
    client = await client_for(web)
    try:
        page = await (await client.get("/")).text()
        # The charts draw what the store counts: a story per (watchlist, day) alerted.
        counts = await store.alerts_per_day(now - timedelta(days=30))
        today = utc_day(now)
        drawn = re.findall(
            r'aria-label="stories alerted by (\w+)[^"]*" data-counts="([\d,]+)"', page
        )
        by_name = {name: [int(n) for n in values.split(",")] for name, values in drawn}
        assert set(by_name) == {"karabakh", "quiet"}
        assert by_name["karabakh"][-1] == counts["karabakh"][today] == 2
        assert by_name["karabakh"][-2] == counts["karabakh"][today - 1] == 1
        assert sum(by_name["quiet"]) == 0
        assert "<title>" in page and "<script>alert" not in page
        # Sorted by items in the last 30 days, the busiest first; filtered by name or URL.
        by_items = await (await client.get("/?sort=items")).text()
        assert by_items.index("https://b.example/f") < by_items.index("https://a.example/f")
        only_a = await (await client.get("/?feed=A.EXAMPLE")).text()
        listed = only_a[only_a.index('<table id="feeds">') :].split("</table>")[0]
        assert "https://a.example/f" in listed and "https://b.example/f" not in listed
        assert "1 of 2 feed(s)" in only_a
        hostile_filter = await (await client.get("/?feed=%3Cscript%3E&sort=%3Cb%3E")).text()
        assert "<script>" not in hostile_filter and "<b>" not in hostile_filter
        # A feed's page: its facts, new items per day, its newest items linked to stories.
        feed = feeds["https://b.example/f"]
        answer = await client.get(f"/feeds/{feed.id}")
        assert answer.status == 200
        text = await answer.text()
        assert f'href="/feeds/{feed.id}"' in page
        assert re.search(r'data-counts="[0,]*2"', text)  # two items today
        assert '<table id="items">' in text and "<script>alert" not in text
        assert (await client.get("/feeds/424242")).status == 404
        assert (await client.get("/feeds/%3Cb%3E")).status == 404
    finally:
        await client.close()


async def test_a_feeds_health_per_day_is_drawn_from_the_stored_polls(store: Store) -> None:
    from monitor.outcome import PollOutcome
    from monitor.poll_days import PollDay, PollDays, utc_day

    now = datetime.now(UTC)
    today = utc_day(now)
    await queue_alerts(store, [("h1", "Karabakh truce")], now=now)
    (feed,) = await store.feeds()
    await store.add_poll_days(
        [
            PollDay(feed.id, today, 20, 0, False),
            PollDay(feed.id, today - 1, 20, 3, False),
            PollDay(feed.id, today - 2, 5, 5, False),
            PollDay(feed.id, today - 3, 9, 0, True),
            PollDay(feed.id, today - 45, 9, 9, False),  # before the strip's 30 days
        ]
    )
    # This instance's polls not saved yet count on the feed's page: a failed one today.
    unsaved = PollDays(lambda: now)
    unsaved.add(PollOutcome(feed, "failed", error="HTTP 503"))
    web = WebSide(store, Metrics(), lambda: True, lambda: now, list, poll_days=unsaved)
    client = await client_for(web)
    try:
        text = await (await client.get(f"/feeds/{feed.id}")).text()
        states = re.search(r'id="health-strip"[^>]*data-states="([^"]+)"', text)
        assert states is not None
        drawn = states.group(1).split(",")
        assert len(drawn) == 30 and drawn[-4:] == ["stale", "failing", "flaky", "flaky"]
        assert set(drawn[:-4]) == {"unpolled"}
        assert "20 polls, 3 failed" in text and "21 polls, 1 failed" in text  # tooltips
        # The trends count feeds per health and day, as the store does.
        page = await (await client.get("/")).text()
        counts = dict(re.findall(r'aria-label="feeds (\w+)[^"]*" data-counts="([\d,]+)"', page))
        assert counts["failing"].split(",")[-3] == "1" and counts["stale"].split(",")[-4] == "1"
        assert sum(map(int, counts["failing"].split(","))) == 1  # the 45th day is not drawn
    finally:
        await client.close()


async def test_the_search_page_marks_what_matched_and_pages(store: Store) -> None:
    from monitor.web.search import Query
    from monitor.wiring.watchlists import feed_labels, query_watchlist

    now = datetime.now(UTC)
    titles = [HOSTILE.title, *(f"Karabakh report {n}" for n in range(60))]
    await queue_alerts(store, [(f"q{n}", title) for n, title in enumerate(titles)], now=now)
    settings = parse_settings("feeds: []\n", "m.yaml", {})

    def build(text: str) -> Query:
        return Query(query_watchlist(settings, text), feed_labels(settings))

    web = WebSide(store, Metrics(), lambda: True, lambda: now, lambda: [], query=build)
    client = await client_for(web)
    try:
        assert (
            '<form id="search" method="get" action="/search">'
            in await (await client.get("/")).text()
        )
        first = await (await client.get("/search?q=title:karabakh")).text()
        assert "61 match(es) among 61 stored item(s)" in first and "1–50 shown" in first
        assert "<mark>Karabakh</mark>" in first and "<script>alert" not in first
        assert 'id="next"' in first
        second = await (await client.get("/search?q=title:karabakh&offset=50")).text()
        assert "51–61 shown" in second and "previous" in second and 'id="next"' not in second
        bad = await client.get("/search?q=karabakh%20AND%20(")
        assert bad.status == 400 and 'id="error"' in await bad.text()
        empty = await client.get("/search")
        assert empty.status == 200 and 'id="error"' not in await empty.text()
    finally:
        await client.close()


async def test_a_feed_page_lists_this_instances_recent_polls(store: Store) -> None:
    from monitor.outcome import PollOutcome, RecentPolls

    now = datetime.now(UTC)
    await queue_alerts(store, [("r1", "Karabakh truce")], now=now)
    (feed,) = await store.feeds()
    recent = RecentPolls(lambda: now, keep=3)
    for _ in range(4):  # one more than it keeps
        recent.add(PollOutcome(feed, "not-modified", result="304"), 0.01)
    recent.add(PollOutcome(feed, "failed", result="http_5xx", error="HTTP 503 <b>"), 0.5)
    web = WebSide(store, Metrics(), lambda: True, lambda: now, list, recent_polls=recent)
    client = await client_for(web)
    try:
        text = await (await client.get(f"/feeds/{feed.id}")).text()
        assert 'data-states="ok,ok,failing"' in text  # the last three, oldest first
        rows = text[text.index('<table id="polls">') :].split("</table>")[0]
        assert rows.count("<tr>") == 4  # the header and three polls
        assert rows.index("http_5xx") < rows.index("304")  # newest first
        assert "HTTP 503 &lt;b&gt;" in rows
    finally:
        await client.close()
