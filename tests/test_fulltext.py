"""Reading the article behind an item, against real local servers: a watched word in
paragraph five alerts, one in the page's navigation, related links or comments does
not; robots.txt, Retry-After and the per-host limit are kept; only new items of a poll
that alerts are read, once per story; and every page that cannot be read (slow,
endless, huge, not HTML, hostile) leaves a reason and the alert on the feed's text."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from datetime import timedelta
from pathlib import Path

import pytest
from aiohttp import web

from monitor.fetch import Fetcher
from monitor.fulltext import ArticleReader, ArticleRule, FulltextLimits
from monitor.models import Item, NewItem
from monitor.runtime import Runtime
from monitor.store import SQLiteStore
from monitor.wiring import fetch_limits
from monitor.workers import WorkerPool
from testbed.builders import Entry, article_page, report_paragraphs, rss
from tests.support.servers import FeedServer, Receiver
from tests.support.values import FakeClock, make_settings

TEASER = "Delegations met again on Monday, officials said."


def config(feeds: list[str], hook: str, *, mode: str = "auto", baseline: bool = False) -> str:
    lines = "\n".join(f"  - url: {url}" for url in feeds)
    return f"""
defaults: {{baseline: {str(baseline).lower()}, fulltext: {mode}}}
http: {{allow_private_networks: true, timeout: 5s, per_host: 4}}
fulltext: {{timeout: 4s}}
feeds:
{lines}
notifiers:
  hook: {{type: webhook, url: "{hook}"}}
watchlists:
  - {{name: karabakh, any: [Karabakh]}}
"""


def serve_article(feeds: FeedServer, path: str, page: str, **headers: str) -> str:
    return feeds.serve(path, page, content_type="text/html", headers=headers or None)


def alerts(receiver: Receiver) -> list[dict[str, object]]:
    return [json.loads(body) for body in receiver.bodies]


def titles(receiver: Receiver) -> set[str]:
    return {payload["item"]["title"] for payload in alerts(receiver)}  # type: ignore[index]


async def run_once(tmp_path: Path, yaml_text: str, clock: FakeClock | None = None) -> Runtime:
    runtime = Runtime(make_settings(tmp_path, yaml_text), clock=clock or FakeClock())
    async with runtime:
        report = await runtime.once()
        assert report.ok, report
    return runtime


async def test_a_word_only_in_the_body_alerts_and_one_only_around_the_article_does_not(
    feeds: FeedServer, receiver: Receiver, tmp_path: Path
) -> None:
    body = report_paragraphs(6, seed=1, inserted={4: "Shelling was reported near Karabakh."})
    inside = serve_article(feeds, "/a/inside", article_page("Talks resume", body))
    around = serve_article(
        feeds,
        "/a/around",
        article_page(
            "Markets calm",
            report_paragraphs(6, seed=2),
            navigation="Home World Karabakh live Business",
            related=["Karabakh: what we know so far", "Karabakh talks stall"],
            comments=["What about Karabakh? Nobody mentions Karabakh any more."],
        ),
    )
    entries = [
        Entry(title="Talks resume", link=inside, guid="inside", summary=TEASER),
        Entry(title="Markets calm", link=around, guid="around", summary=TEASER),
    ]
    feed = feeds.serve("/feed.xml", rss(entries))
    await run_once(tmp_path, config([feed], receiver.url()))

    (alert,) = alerts(receiver)
    assert alert["item"]["title"] == "Talks resume"  # type: ignore[index]
    assert alert["item"]["fulltext"] == "read"  # type: ignore[index]
    assert alert["item"]["summary"] == TEASER  # type: ignore[index]  # the feed's, as before
    assert alert["matched"] == [{"term": "Karabakh", "field": "summary"}]
    assert len(feeds.hits["/a/inside"]) == len(feeds.hits["/a/around"]) == 1


async def test_a_farm_of_teaser_feeds_alerts_every_body_word_and_no_surrounding_one(
    feeds: FeedServer, receiver: Receiver, tmp_path: Path
) -> None:
    urls, expected = [], set()
    for number in range(6):
        entries = []
        for index in range(4):
            key = f"f{number}-{index}"
            seed = number * 10 + index
            if index % 2 == 0:  # the watched word in the body only
                body = report_paragraphs(6, seed, inserted={1 + index: "Karabakh was named."})
                page = article_page(f"Report {key}", body)
                expected.add(f"Report {key}")
            else:  # the watched word all around the article, never in it
                page = article_page(
                    f"Report {key}",
                    report_paragraphs(6, seed),
                    navigation="World Karabakh Business",
                    related=[f"Karabakh: the story so far ({key})"],
                    comments=["And Karabakh?"],
                )
            link = serve_article(feeds, f"/articles/{key}", page)
            entries.append(Entry(title=f"Report {key}", link=link, guid=key, summary=TEASER))
        urls.append(feeds.serve(f"/feeds/{number}.xml", rss(entries)))
    await run_once(tmp_path, config(urls, receiver.url()))
    assert titles(receiver) == expected and len(receiver.requests) == len(expected)


async def test_a_long_feed_text_is_not_fetched_in_auto_and_off_fetches_nothing(
    feeds: FeedServer, receiver: Receiver, tmp_path: Path
) -> None:
    page = serve_article(feeds, "/a/1", article_page("Long", report_paragraphs(5, seed=3)))
    long_text = " ".join(report_paragraphs(4, seed=4))  # over 80 words
    entries = [Entry(title="Long Karabakh", link=page, guid="1", summary=long_text)]
    feed = feeds.serve("/feed.xml", rss(entries))
    await run_once(tmp_path / "auto", config([feed], receiver.url()))
    assert "/a/1" not in feeds.hits and len(receiver.requests) == 1

    short = [Entry(title="Short Karabakh", link=page, guid="2", summary=TEASER)]
    other = feeds.serve("/other.xml", rss(short))
    await run_once(tmp_path / "off", config([other], receiver.url(), mode="off"))
    assert "/a/1" not in feeds.hits and len(receiver.requests) == 2
    (_, second) = alerts(receiver)
    assert "fulltext" not in second["item"]  # type: ignore[operator]  # not tried: not said


async def test_an_item_too_old_to_alert_is_not_fetched(
    feeds: FeedServer, receiver: Receiver, tmp_path: Path
) -> None:
    page = serve_article(feeds, "/a/old", article_page("Old", report_paragraphs(5, seed=13)))
    old = Entry(title="Old", link=page, guid="old", summary=TEASER)
    old.published = "Sat, 10 Oct 2020 09:00:00 GMT"  # max_alert_age is 24 h by default
    feed = feeds.serve("/feed.xml", rss([old]))
    await run_once(tmp_path, config([feed], receiver.url()))
    assert "/a/old" not in feeds.hits


async def test_the_baseline_and_known_entries_are_never_fetched_and_a_story_once(
    feeds: FeedServer, receiver: Receiver, tmp_path: Path
) -> None:
    body = report_paragraphs(5, seed=5, inserted={3: "Karabakh was named."})
    page = serve_article(feeds, "/a/story", article_page("Story", body))
    old = serve_article(feeds, "/a/old", article_page("Old", body))
    first = feeds.serve("/first.xml", rss([Entry(title="Old", link=old, guid="o")]))
    yaml_text = config([first], receiver.url(), baseline=True)
    clock = FakeClock()
    runtime = Runtime(make_settings(tmp_path, yaml_text), clock=clock)
    async with runtime:
        await runtime.once()  # the baseline
        assert "/a/old" not in feeds.hits
        await runtime.once()  # known now
        assert "/a/old" not in feeds.hits
        # The same story on two feeds: its article is read once.
        copy = Entry(title="Story", link=page, guid="s", summary=TEASER)
        feeds.serve("/first.xml", rss([Entry(title="Old", link=old, guid="o"), copy]))
        await runtime.once()
        assert len(feeds.hits["/a/story"]) == 1
        (alert,) = alerts(receiver)
        assert alert["item"]["fulltext"] == "read"  # type: ignore[index]

    second = feeds.serve("/second.xml", rss([Entry(title="Story", link=page, guid="x")]))
    again = config([first, second], receiver.url(), baseline=False)
    async with Runtime(make_settings(tmp_path, again), clock=clock) as runtime:
        await runtime.once()
    assert len(feeds.hits["/a/story"]) == 1  # the copy took the text read before
    stored = await _stored_notes(tmp_path)
    assert stored == {"o": None, "s": "read", "x": "read"}


async def _stored_notes(tmp_path: Path) -> dict[str | None, str | None]:
    async with SQLiteStore(tmp_path / "monitor.db") as store:
        stored = await store.items()
    return {s.item.guid: s.item.fulltext_note for s in stored if s.feed_url.startswith("http")}


def item(guid: str, link: str) -> Item:
    return Item(guid, guid, "An item", link, TEASER, "")


async def test_robots_txt_is_honoured_for_articles_and_the_alert_stays(
    feeds: FeedServer, receiver: Receiver, tmp_path: Path
) -> None:
    feeds.serve("/robots.txt", "User-agent: *\nDisallow: /private/\n", content_type="text/plain")
    body = report_paragraphs(5, seed=6, inserted={2: "Karabakh"})
    private = serve_article(feeds, "/private/1", article_page("Private", body))
    public = serve_article(feeds, "/public/1", article_page("Public", body))
    entries = [
        Entry(title="Private Karabakh", link=private, guid="p", summary=TEASER),
        Entry(title="Public", link=public, guid="q", summary=TEASER),
    ]
    feed = feeds.serve("/feed.xml", rss(entries))
    await run_once(tmp_path, config([feed], receiver.url()))
    assert "/private/1" not in feeds.hits and len(feeds.hits["/public/1"]) == 1
    assert len(feeds.hits["/robots.txt"]) == 1  # asked once for the host
    notes = {a["item"]["title"]: a["item"]["fulltext"] for a in alerts(receiver)}  # type: ignore[index]
    assert notes == {"Private Karabakh": "refused by robots.txt", "Public": "read"}


async def test_a_429_on_an_article_holds_the_host_for_articles_and_feeds(
    feeds: FeedServer, receiver: Receiver, tmp_path: Path
) -> None:
    feeds.serve("/a/1", "slow down", status=429, headers={"Retry-After": "3600"})
    page = feeds.url("/a/1")
    entries = [Entry(title=f"Karabakh {n}", link=f"{page}?n={n}", guid=str(n)) for n in range(3)]
    for entry in entries:
        entry.summary = TEASER
    feed = feeds.serve("/feed.xml", rss(entries[:1]))
    clock = FakeClock()
    runtime = Runtime(make_settings(tmp_path, config([feed], receiver.url())), clock=clock)
    async with runtime:
        await runtime.once()
        assert len(feeds.hits["/a/1"]) == 1
        held = await runtime.store.host_hold("127.0.0.1", clock())
        assert held is not None and held >= clock() + timedelta(seconds=3590)
        # The host's feed is not claimed while it holds...
        feeds.serve("/feed.xml", rss(entries))
        later = clock() + timedelta(minutes=30)  # the feed is due, its host held
        assert await runtime.store.claim_due_feeds(later, 10, timedelta(minutes=5)) == []
        # ...and an article of the host read meanwhile (by a push, say) waits too.
        reader = runtime.poller.articles
        items = [NewItem(item("9", f"{page}?n=9"))]
        read, counts = await reader.read(items, ArticleRule("always"))
        assert counts == {"held": 1} and read[0].item.fulltext_note.startswith("held: 127.0.0.1")  # type: ignore[union-attr]
    assert len(feeds.hits["/a/1"]) == 1
    (alert,) = alerts(receiver)  # the item alerted on the feed's text all the same
    assert str(alert["item"]["fulltext"]).startswith("failed: HTTP 429")  # type: ignore[index]


async def test_articles_of_one_host_never_exceed_its_limit(
    feeds: FeedServer, receiver: Receiver, tmp_path: Path
) -> None:
    active = peak = 0
    page = article_page("Report", report_paragraphs(5, seed=7, inserted={1: "Karabakh"}))

    async def article(request: web.Request) -> web.Response:
        nonlocal active, peak
        active += 1
        peak = max(peak, active)
        await asyncio.sleep(0.05)
        active -= 1
        return web.Response(text=page, content_type="text/html")

    feeds.handle("/a", article)
    entries = [
        Entry(title=f"Report {n}", link=feeds.url(f"/a?n={n}"), guid=str(n), summary=TEASER)
        for n in range(12)
    ]
    feed = feeds.serve("/feed.xml", rss(entries))
    await run_once(tmp_path, config([feed], receiver.url()))
    assert len(feeds.hits["/a"]) == 12 and len(receiver.requests) == 12
    assert 1 < peak <= 4  # http.per_host


def slow(seconds: float, page: str) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
    async def handler(request: web.Request) -> web.Response:
        await asyncio.sleep(seconds)
        return web.Response(text=page, content_type="text/html")

    return handler


def endless() -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
    async def handler(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Type": "text/html"})
        await response.prepare(request)
        await response.write(b"<html><body><p>")
        while True:
            await response.write(b"more words ")
            await asyncio.sleep(0.01)

    return handler


BILLION_LAUGHS = (
    '<?xml version="1.0"?><!DOCTYPE html [<!ENTITY a "Karabakh Karabakh">'
    + "".join(
        f'<!ENTITY {b} "&{a};&{a};&{a};&{a};&{a};&{a};&{a};&{a};">'
        for a, b in zip("abcdefgh", "bcdefghi", strict=True)
    )
    + ']><html xmlns="http://www.w3.org/1999/xhtml"><body><p>&i;</p></body></html>'
)


async def test_each_page_that_cannot_be_read_leaves_a_reason_and_the_alert_on_the_feed(
    feeds: FeedServer, receiver: Receiver, tmp_path: Path
) -> None:
    feeds.handle("/slow", slow(30, article_page("Slow", report_paragraphs(5, seed=8))))
    feeds.handle("/endless", endless())
    feeds.serve("/huge", "x" * 3_000_000, content_type="text/html")
    feeds.serve("/pdf", b"%PDF-1.7 Karabakh", content_type="application/pdf")
    feeds.serve("/laughs", BILLION_LAUGHS, content_type="application/xhtml+xml")
    reasons = {
        "slow": "timeout",
        "endless": "timeout",
        "huge": "failed: ",
        "pdf": "failed: not an HTML page (application/pdf)",
        "laughs": "teaser",  # entities stay unexpanded: no text
        "missing": "failed: HTTP 404",
    }
    good = serve_article(
        feeds, "/good", article_page("Good", report_paragraphs(5, seed=9, inserted={3: "Karabakh"}))
    )
    entries = [
        Entry(title=f"Karabakh {name}", link=feeds.url(f"/{name}"), guid=name, summary=TEASER)
        for name in reasons
    ]
    entries.append(Entry(title="Good page", link=good, guid="good", summary=TEASER))
    feed = feeds.serve("/feed.xml", rss(entries))
    yaml_text = (
        config([feed], receiver.url())
        .replace("timeout: 5s,", "timeout: 5s, max_body: 1MB,")
        .replace("fulltext: {timeout: 4s}", "fulltext: {timeout: 2s}")
    )
    started = asyncio.get_running_loop().time()
    await run_once(tmp_path, yaml_text)
    assert asyncio.get_running_loop().time() - started < 15
    notes = {a["item"]["title"]: a["item"].get("fulltext") for a in alerts(receiver)}  # type: ignore[union-attr]
    assert notes.pop("Good page") == "read"  # the bad pages slowed nothing else down
    assert notes.keys() == {f"Karabakh {name}" for name in reasons}  # each alerted all the same
    for name, reason in reasons.items():
        assert str(notes[f"Karabakh {name}"]).startswith(reason), (name, notes)


async def test_an_article_in_an_odd_charset_is_read_in_it(
    feeds: FeedServer, receiver: Receiver, tmp_path: Path
) -> None:
    body = [
        "Переговоры продолжались до поздней ночи и закончились без общего заявления.",
        "Официальные лица обеих сторон сказали, что встреча была полезной, но трудной.",
        "Жители приграничных сёл сказали, что последняя неделя прошла спокойно.",
        "Обстрелы были зафиксированы в Карабахе, сообщили местные власти в понедельник.",
        "Гуманитарные организации просили обеспечить безопасный проход для колонн.",
    ]
    page = article_page("Переговоры", body).replace("<meta charset='utf-8'>", "")
    encoded = page.encode("windows-1251")

    async def cyrillic(request: web.Request) -> web.Response:
        return web.Response(
            body=encoded, headers={"Content-Type": "text/html; charset=windows-1251"}
        )

    feeds.handle("/ru", cyrillic)
    entry = Entry(title="Переговоры", link=feeds.url("/ru"), guid="ru", summary="Коротко.")
    feed = feeds.serve("/feed.xml", rss([entry]))
    yaml_text = config([feed], receiver.url()).replace("any: [Karabakh]", "any: [Карабахе]")
    await run_once(tmp_path, yaml_text)
    (alert,) = alerts(receiver)
    assert alert["item"]["fulltext"] == "read"  # type: ignore[index]


async def test_a_teaser_page_and_a_paywall_are_said_so(
    feeds: FeedServer, receiver: Receiver, tmp_path: Path
) -> None:
    teaser = serve_article(feeds, "/teaser", article_page("Karabakh teaser", [TEASER]))
    paywall = article_page(
        "Karabakh paywalled",
        report_paragraphs(1, seed=10),
        head='<script type="application/ld+json">{"isAccessibleForFree": false}</script>',
    )
    locked = serve_article(feeds, "/locked", paywall)
    entries = [
        Entry(title="Karabakh teaser", link=teaser, guid="t", summary=TEASER),
        Entry(title="Karabakh paywalled", link=locked, guid="p", summary=TEASER),
    ]
    feed = feeds.serve("/feed.xml", rss(entries))
    await run_once(tmp_path, config([feed], receiver.url()))
    notes = {a["item"]["title"]: a["item"]["fulltext"] for a in alerts(receiver)}  # type: ignore[index]
    assert notes["Karabakh teaser"].startswith("teaser")
    assert notes["Karabakh paywalled"].startswith("paywalled")


async def test_a_feeds_selector_takes_the_extractors_place(
    feeds: FeedServer, receiver: Receiver, tmp_path: Path
) -> None:
    # The extractor would read the article; the selector says the story is in the box.
    page = article_page("Box", report_paragraphs(5, seed=11)).replace(
        "<footer>", "<div class='factbox'>Karabakh in numbers: " + "facts " * 40 + "</div><footer>"
    )
    link = serve_article(feeds, "/box", page)
    feed = feeds.serve("/feed.xml", rss([Entry(title="Box", link=link, guid="b", summary=TEASER)]))
    yaml_text = config([feed], receiver.url()).replace(
        f"  - url: {feed}", f"  - url: {feed}\n    fulltext: {{mode: always, selector: '.factbox'}}"
    )
    await run_once(tmp_path, yaml_text)
    (alert,) = alerts(receiver)
    assert alert["item"]["fulltext"] == "read"  # type: ignore[index]


async def test_a_private_address_is_refused_for_articles_as_for_feeds(
    feeds: FeedServer, tmp_path: Path
) -> None:
    page = serve_article(feeds, "/a", article_page("A", report_paragraphs(5, seed=12)))
    limits = fetch_limits(make_settings(tmp_path, "fulltext: {}").http)  # private refused
    workers = WorkerPool(1)
    try:
        async with Fetcher(limits) as fetcher, SQLiteStore(tmp_path / "a.db") as store:
            reader = ArticleReader(fetcher, store, workers, FakeClock())
            reader.configure({}, ArticleRule("always"), FulltextLimits(robots=False))
            items = [NewItem(item("a", page))]
            (read,), counts = await reader.read(items, ArticleRule("always"))
    finally:
        await workers.close()
    assert counts == {"failed": 1} and "/a" not in feeds.hits
    assert "private or local address" in (read.item.fulltext_note or "")


ARTICLES = Path(__file__).resolve().parents[2] / "shared" / "articles"


@pytest.mark.slow
def test_extraction_keeps_what_real_articles_say_and_drops_what_surrounds_them() -> None:
    """The 200 real pages of ../shared/articles: the share of phrases a good extraction
    keeps (``with``) that the text holds, and of those it drops (``without``) that it
    does not (measured when chosen: 0.94 and 0.90)."""
    import gzip

    from monitor.sources.article import extract_article

    if not (ARTICLES / "expected.json").is_file():
        pytest.skip("the shared article pages are not present")
    expected = json.loads((ARTICLES / "expected.json").read_text(encoding="utf-8"))
    kept = wanted = dropped = unwanted = 0
    for url, case in expected.items():
        body = gzip.decompress((ARTICLES / "pages" / case["file"]).read_bytes())
        text = " ".join(extract_article(body, {}, url, "").text.split())
        wanted += len(case["with"])
        kept += sum(" ".join(phrase.split()) in text for phrase in case["with"])
        unwanted += len(case["without"])
        dropped += sum(" ".join(phrase.split()) not in text for phrase in case["without"])
    assert kept / wanted >= 0.92, (kept, wanted)
    assert dropped / unwanted >= 0.88, (dropped, unwanted)


@pytest.mark.integration
async def test_feeds_shows_how_reading_articles_went_and_check_the_settings(
    feeds: FeedServer, receiver: Receiver, tmp_path: Path
) -> None:
    from tests.support.commands import cli

    good = serve_article(feeds, "/good", article_page("G", report_paragraphs(5, seed=14)))
    entries = [
        Entry(title="Gone", link=feeds.url("/gone"), guid="g", summary=TEASER),
        Entry(title="Good", link=good, guid="o", summary=TEASER),
    ]
    feed = feeds.serve("/feed.xml", rss(entries))
    yaml_text = f"storage: sqlite:///{tmp_path / 'monitor.db'}\n" + config([feed], receiver.url())
    await run_once(tmp_path, yaml_text)
    path = tmp_path / "monitor.yaml"
    path.write_text(yaml_text)
    code, out, err = await cli("feeds", "--json", "-c", str(path), cwd=tmp_path)
    assert code == 0, err
    assert json.loads(out)["fulltext"] == {"days": 7, "tried": 2, "failed": 1}
    code, out, _ = await cli("feeds", "-c", str(path), cwd=tmp_path)
    assert "full text: 1 of 2 article(s) not read in 7 days" in out
    code, out, _ = await cli("check", "-c", str(path), cwd=tmp_path)
    assert "full text: auto: the articles of new items under 80 words read" in out
    selector = f"  - url: {feed}\n    fulltext: {{selector: '<<'}}"
    path.write_text(yaml_text.replace(f"  - url: {feed}", selector))
    code, _, err = await cli("check", "-c", str(path), cwd=tmp_path)
    assert code == 2 and "feeds[0].fulltext.selector: not a CSS selector" in err, err


def test_the_articles_metric_counts_each_result() -> None:
    from datetime import UTC, datetime

    from monitor.models import FeedState
    from monitor.outcome import PollOutcome
    from monitor.web.metrics import Metrics

    now = datetime(2026, 12, 7, tzinfo=UTC)
    feed = FeedState(
        1, "https://n.example/feed", None, None, timedelta(minutes=10), True, True,
        None, None, now, 0, None,
    )  # fmt: skip
    metrics = Metrics()
    metrics.polled(PollOutcome(feed, "updated", articles={"read": 2, "timeout": 1}), 0.5)
    metrics.polled(PollOutcome(feed, "updated", articles={"read": 1}), 0.5)
    counted = {
        result: metrics.registry.get_sample_value("news_monitor_articles_total", {"result": result})
        for result in ("read", "timeout", "refused")
    }
    assert counted == {"read": 3.0, "timeout": 1.0, "refused": None}


async def test_a_teaser_and_a_full_copy_elsewhere_are_one_story_by_the_article(
    feeds: FeedServer, receiver: Receiver, tmp_path: Path
) -> None:
    body = report_paragraphs(6, seed=15, inserted={4: "Shelling was reported near Karabakh."})
    page = serve_article(feeds, "/a/report", article_page("Report", body))
    lead = Entry(title="Talks resume", link=page, guid="lead", summary=TEASER)
    whole = Entry(
        title="Talks resume in the capital",
        link="https://copies.example/report",
        guid="copy",
        summary=body[0],
        content="".join(f"<p>{paragraph}</p>" for paragraph in body),
    )
    leads = feeds.serve("/leads.xml", rss([lead], title="Leads"))
    copies = feeds.serve("/copies.xml", rss([whole], title="Copies"))
    for mode in ("off", "auto"):
        folder = tmp_path / mode
        folder.mkdir()
        async with Runtime(
            make_settings(folder, config([leads, copies], receiver.url(), mode=mode))
        ) as runtime:
            assert (await runtime.once()).ok
            stories = [
                sorted(member.item.guid or "" for member in story.items)
                for story in await runtime.store.stories()
                if all(member.feed_url.startswith("http") for member in story.items)
            ]
        if mode == "off":
            assert sorted(stories) == [["copy"], ["lead"]]  # a sentence has nothing to compare
        else:
            assert stories == [["copy", "lead"]]  # the article is the copy
    assert len(receiver.requests) == 2  # one alert a run: the story, once


async def test_items_of_one_poll_that_share_an_article_fetch_it_once(
    feeds: FeedServer, receiver: Receiver, tmp_path: Path
) -> None:
    body = report_paragraphs(5, seed=16, inserted={2: "Karabakh"})
    page = serve_article(feeds, "/a/shared", article_page("Shared", body))
    entries = [
        Entry(title=f"Update {n}", link=page, guid=f"u{n}", summary=f"Update {n}.")
        for n in range(3)
    ]
    feed = feeds.serve("/feed.xml", rss(entries))
    await run_once(tmp_path, config([feed], receiver.url()))
    assert len(feeds.hits["/a/shared"]) == 1
    assert {a["item"]["fulltext"] for a in alerts(receiver)} == {"read"}  # type: ignore[index]


async def test_a_host_whose_robots_txt_cannot_be_had_is_not_fetched_and_says_why(
    tmp_path: Path,
) -> None:
    import socket

    with socket.socket() as closed:  # a port nothing listens on
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    limits = fetch_limits(make_settings(tmp_path, "http: {allow_private_networks: true}").http)
    async with Fetcher(limits) as fetcher, SQLiteStore(tmp_path / "a.db") as store:
        reader = ArticleReader(fetcher, store, WorkerPool(1), FakeClock())  # never started
        items = [NewItem(item("a", f"http://127.0.0.1:{port}/article"))]
        (read,), counts = await reader.read(items, ArticleRule("always"))
    assert counts == {"refused": 1}
    assert (read.item.fulltext_note or "").startswith(
        "robots.txt could not be had (cannot connect to 127.0.0.1"
    )
