"""Sources other than feeds: news sitemaps, sitemap indexes and pages read by CSS
selectors, through the same poll → identify → match → outbox path as feeds."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from monitor.config import ConfigError
from monitor.sources import PageSelectors, ReadError, Source, parse_date
from monitor.sources.page import read_page
from monitor.sources.sitemap import read_sitemap, title_from_url
from tests.conftest import RuntimeFactory
from tests.support.servers import FeedServer
from tests.support.values import FakeClock, make_settings

NOW = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)
SITEMAP_NS = 'xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"'
NEWS_NS = 'xmlns:news="http://www.google.com/schemas/sitemap-news/0.9"'


def news_url(loc: str, title: str, published: datetime, keywords: str = "") -> str:
    words = f"<news:keywords>{keywords}</news:keywords>" if keywords else ""
    return f"""
  <url>
    <loc>{loc}</loc>
    <news:news>
      <news:publication><news:name>Caucasus Daily</news:name>
        <news:language>en</news:language></news:publication>
      <news:publication_date>{published.isoformat()}</news:publication_date>
      <news:title>{title}</news:title>{words}
    </news:news>
  </url>"""


def news_sitemap(*urls: str) -> str:
    head = f'<?xml version="1.0" encoding="UTF-8"?>\n<urlset {SITEMAP_NS} {NEWS_NS}>'
    return f"{head}{''.join(urls)}\n</urlset>"


def sitemap_index(*children: tuple[str, datetime | None]) -> str:
    parts = "".join(
        f"<sitemap><loc>{loc}</loc>"
        + (f"<lastmod>{modified.isoformat()}</lastmod>" if modified else "")
        + "</sitemap>"
        for loc, modified in children
    )
    return f'<?xml version="1.0"?><sitemapindex {SITEMAP_NS}>{parts}</sitemapindex>'


LISTING = """<!doctype html>
<html><head><title>Caucasus Daily — latest</title><base href="https://daily.example/news/"></head>
<body>
  <nav><a href="/about">About</a></nav>
  <main>
    <article class="story">
      <h2><a href="karabakh-ceasefire-talks#comments">Karabakh ceasefire talks resume</a></h2>
      <p class="dek">Negotiators meet again in Geneva.</p>
      <time datetime="2026-11-29T09:30:00Z">this morning</time>
    </article>
    <article class="story">
      <h2><a href="/markets/rally">Markets rally</a></h2>
      <p class="dek">Stocks rise.</p>
      <time datetime="2026-11-29T08:00:00+01:00">earlier</time>
    </article>
    <article class="story"><p>An advertisement without a link or a heading</p></article>
    <article class="story">
      <h2><a href="javascript:void(0)">Live blog</a></h2>
    </article>
  </main>
</body></html>"""
STORY_SELECTORS = PageSelectors(item="article.story", summary="p.dek")


def sources_config(sources: str, baseline: bool = True) -> str:
    return f"""
defaults: {{fulltext: off, interval: 10m, baseline: {str(baseline).lower()}}}
http: {{allow_private_networks: true, timeout: 5s, max_body: 256KiB}}
feeds:
{sources}
watchlists:
  - name: karabakh
    any: [Karabakh, Qarabağ]
"""


# -- sitemaps ---------------------------------------------------------------------------


def test_a_news_sitemap_gives_its_recent_articles_with_title_date_keywords_language() -> None:
    body = news_sitemap(
        news_url("https://daily.example/a1", "Truce holds", NOW - timedelta(hours=2), "Karabakh"),
        news_url("https://daily.example/old", "Last week", NOW - timedelta(days=6)),
    ).encode()
    raw = read_sitemap(body, "https://daily.example/news.xml", Source("sitemap"), NOW)
    (entry,) = raw.entries
    assert entry.link == entry.guid == "https://daily.example/a1"
    assert entry.title is not None and entry.title.value == "Truce holds"
    assert entry.summary is not None and entry.summary.value == "Karabakh"
    assert (entry.published, entry.language) == (NOW - timedelta(hours=2), "en")


def test_how_recent_a_sitemap_entry_must_be_is_configurable() -> None:
    body = news_sitemap(news_url("https://d.example/x", "X", NOW - timedelta(days=6))).encode()
    source = Source("sitemap", recent=timedelta(days=7))
    assert len(read_sitemap(body, "https://d.example/s.xml", source, NOW).entries) == 1
    raw = read_sitemap(body, "https://d.example/s.xml", Source("sitemap"), NOW)
    assert raw.entries == [] and raw.warning is not None and "older than" in raw.warning


def test_a_plain_sitemap_without_namespace_gets_titles_from_its_slugs() -> None:
    body = b"""<urlset><url><loc>/2026/11/qarabag-ceasefire_holds.html</loc>
    <lastmod>2026-11-29</lastmod></url><url><loc>/2026/11/12345</loc></url></urlset>"""
    raw = read_sitemap(body, "https://d.example/sitemap.xml", Source("sitemap"), NOW)
    titles = [entry.title.value if entry.title else None for entry in raw.entries]
    assert titles == ["Qarabag ceasefire holds", ""]
    assert raw.entries[0].link == "https://d.example/2026/11/qarabag-ceasefire_holds.html"
    assert title_from_url("https://d.example/") == ""


def test_a_sitemap_index_names_its_recent_sitemaps_newest_first() -> None:
    body = sitemap_index(
        ("https://d.example/s-old.xml", NOW - timedelta(days=30)),
        ("https://d.example/s-1.xml", NOW - timedelta(hours=5)),
        ("https://d.example/s-2.xml", NOW - timedelta(hours=1)),
        ("https://d.example/s-undated.xml", None),
    ).encode()
    raw = read_sitemap(body, "https://d.example/index.xml", Source("sitemap"), NOW)
    assert raw.children == (
        "https://d.example/s-2.xml",
        "https://d.example/s-1.xml",
        "https://d.example/s-undated.xml",
    )
    assert raw.entries == []


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"<rss><channel></channel></rss>", "not a sitemap: its root element is <rss>"),
        (b"<urlset><url><loc>x</loc></urlset>", "not well-formed XML"),
        (
            b'<?xml version="1.0"?><!DOCTYPE u [<!ENTITY e SYSTEM "file:///etc/passwd">]>'
            b"<urlset><url><loc>&e;</loc></url></urlset>",
            None,  # the entity is never expanded: no entry carries the file
        ),
    ],
)
def test_a_broken_or_hostile_sitemap_gets_a_clear_answer(body: bytes, message: str | None) -> None:
    source = Source("sitemap")
    if message is None:
        raw = read_sitemap(body, "https://d.example/s.xml", source, NOW)
        assert all("root:" not in (entry.link or "") for entry in raw.entries)
        return
    with pytest.raises(ReadError, match=message):
        read_sitemap(body, "https://d.example/s.xml", source, NOW)


def test_a_gzipped_sitemap_is_inflated_and_a_gzip_bomb_refused() -> None:
    import gzip

    body = news_sitemap(news_url("https://d.example/z", "Zipped", NOW)).encode()
    raw = read_sitemap(gzip.compress(body), "https://d.example/s.xml.gz", Source("sitemap"), NOW)
    assert [entry.link for entry in raw.entries] == ["https://d.example/z"]
    bomb = gzip.compress(b"<urlset>" + b" " * 60_000_000 + b"</urlset>")
    assert len(bomb) < 100_000
    with pytest.raises(ReadError, match="inflates to more than 50000000 bytes"):
        read_sitemap(bomb, "https://d.example/s.xml.gz", Source("sitemap"), NOW)
    with pytest.raises(ReadError, match="gzipped sitemap is corrupt"):
        read_sitemap(
            b"\x1f\x8b" + b"not gzip at all", "https://d.example/s.xml.gz", Source("sitemap"), NOW
        )


async def test_a_news_sitemap_is_polled_as_a_source_and_alerts_on_new_articles(
    feeds: FeedServer, runtimes: RuntimeFactory
) -> None:
    now = datetime.now(UTC)
    first = news_url("https://daily.example/a1", "Markets rally", now - timedelta(hours=3))
    url = feeds.serve("/news-sitemap.xml", news_sitemap(first))
    runtime = await runtimes(sources_config(f"  - {{url: {url}, type: sitemap}}"), FakeClock(now))
    (baseline,) = await runtime.poll_all()
    assert (baseline.status, baseline.stored, baseline.deliveries) == ("updated", 1, 0)
    fresh = news_url(
        "https://daily.example/a2", "Talks in Geneva", now - timedelta(minutes=5), "Karabakh"
    )
    feeds.serve("/news-sitemap.xml", news_sitemap(fresh, first))
    (poll,) = await runtime.poll_all()
    assert (poll.stored, poll.deliveries, poll.matched) == (1, 1, ("karabakh",))
    (alert,) = await runtime.store.deliveries()
    assert alert.stored is not None and alert.stored.item.link == "https://daily.example/a2"
    (state,) = await runtime.store.feeds()
    assert state.kind == "sitemap"


async def test_a_sitemap_index_is_read_through_its_sitemaps_every_poll(
    feeds: FeedServer, runtimes: RuntimeFactory
) -> None:
    now = datetime.now(UTC)
    child_a = feeds.serve(
        "/s-a.xml", news_sitemap(news_url("https://d.example/1", "One", now - timedelta(hours=1)))
    )
    child_b = feeds.serve(
        "/s-b.xml", news_sitemap(news_url("https://d.example/2", "Two", now - timedelta(hours=2)))
    )
    missing = feeds.url("/s-missing.xml")
    index = sitemap_index((child_a, now), (child_b, now - timedelta(hours=1)), (missing, None))
    url = feeds.serve("/index.xml", index, headers={"ETag": '"i1"'})
    runtime = await runtimes(sources_config(f"  - {{url: {url}, type: sitemap}}"), FakeClock(now))
    (poll,) = await runtime.poll_all()
    assert (poll.status, poll.items, poll.stored) == ("updated", 2, 2)
    # The index is unchanged, one of its sitemaps is not: it is still read.
    feeds.serve(
        "/s-a.xml",
        news_sitemap(
            news_url("https://d.example/3", "Qarabağ truce", now),
            news_url("https://d.example/1", "One", now - timedelta(hours=1)),
        ),
    )
    (again,) = await runtime.poll_all()
    assert (again.status, again.stored, again.deliveries) == ("updated", 1, 1)
    assert "If-None-Match" not in feeds.hits["/index.xml"][-1].headers
    assert len(feeds.hits["/s-missing.xml"]) == 2  # tried each time, skipped when failing


async def test_the_sitemaps_of_an_index_are_asked_for_conditionally(
    feeds: FeedServer, runtimes: RuntimeFactory
) -> None:
    from aiohttp import web

    now = datetime.now(UTC)
    bodies = {"/s-a.xml": news_sitemap(news_url("https://d.example/1", "One", now))}

    async def conditional(request: web.Request) -> web.Response:
        body = bodies[request.path]
        tag = f'"{len(body)}"'
        if request.headers.get("If-None-Match") == tag:
            return web.Response(status=304)
        return web.Response(text=body, content_type="application/xml", headers={"ETag": tag})

    child = feeds.handle("/s-a.xml", conditional)
    url = feeds.serve("/index.xml", sitemap_index((child, now)), headers={"ETag": '"i1"'})
    runtime = await runtimes(sources_config(f"  - {{url: {url}, type: sitemap}}"), FakeClock(now))
    (first,) = await runtime.poll_all()
    assert (first.status, first.stored) == ("updated", 1)
    (second,) = await runtime.poll_all()
    assert second.status == "not-modified"  # the index was read, its sitemap said 304
    (third,) = await runtime.poll_all()
    assert third.status == "not-modified"
    # The index is always read whole: its own ETag is never sent back.
    assert all("If-None-Match" not in hit.headers for hit in feeds.hits["/index.xml"])
    assert feeds.hits["/s-a.xml"][-1].headers.get("If-None-Match") == f'"{len(bodies["/s-a.xml"])}"'
    bodies["/s-a.xml"] = news_sitemap(
        news_url("https://d.example/2", "Karabakh talks", now),
        news_url("https://d.example/1", "One", now),
    )
    (changed,) = await runtime.poll_all()
    assert (changed.status, changed.stored, changed.deliveries) == ("updated", 1, 1)


async def test_a_sitemap_index_whose_sitemaps_all_fail_fails_the_poll(
    feeds: FeedServer, runtimes: RuntimeFactory
) -> None:
    now = datetime.now(UTC)
    url = feeds.serve("/index.xml", sitemap_index((feeds.url("/gone.xml"), now)))
    runtime = await runtimes(sources_config(f"  - {{url: {url}, type: sitemap}}"), FakeClock(now))
    (poll,) = await runtime.poll_all()
    assert poll.status == "failed"
    assert poll.error is not None and "none of the index's 1 sitemap(s)" in poll.error
    assert "404" in poll.error


async def test_an_html_page_configured_as_a_sitemap_says_so(
    feeds: FeedServer, runtimes: RuntimeFactory
) -> None:
    url = feeds.serve("/sitemap", LISTING, content_type="text/html")
    runtime = await runtimes(sources_config(f"  - {{url: {url}, type: sitemap}}"), FakeClock())
    (poll,) = await runtime.poll_all()
    assert (poll.status, poll.error) == ("failed", "the body is an HTML page, not a sitemap")


# -- pages ------------------------------------------------------------------------------


def test_a_page_gives_its_articles_by_selectors() -> None:
    raw = read_page(LISTING.encode(), {}, "https://daily.example/latest", STORY_SELECTORS)
    assert raw.title is not None and raw.title.value == "Caucasus Daily — latest"
    links = [entry.link for entry in raw.entries]
    # resolved against <base href>, without the fragment; the javascript: link is no link
    assert links == [
        "https://daily.example/news/karabakh-ceasefire-talks",
        "https://daily.example/markets/rally",
        None,
    ]
    first = raw.entries[0]
    assert first.title is not None and first.title.value == "Karabakh ceasefire talks resume"
    assert first.summary is not None and first.summary.value == "Negotiators meet again in Geneva."
    assert first.published == datetime(2026, 11, 29, 9, 30, tzinfo=UTC)
    assert raw.entries[1].published == datetime(2026, 11, 29, 7, 0, tzinfo=UTC)
    assert raw.entries[2].title is not None and raw.entries[2].title.value == "Live blog"


def test_explicit_selectors_and_the_http_charset_are_used() -> None:
    page = """<html><body><ul>
      <li class="n"><span class="t">Qarabağ talks</span><a class="go" href="/q">more</a>
        <span class="when">Sun, 29 Nov 2026 10:00:00 +0000</span></li>
    </ul></body></html>""".encode("iso-8859-9")
    selectors = PageSelectors(item="li.n", title=".t", link="a.go", date=".when")
    headers = {"Content-Type": "text/html; charset=ISO-8859-9"}
    (entry,) = read_page(page, headers, "https://t.example/", selectors).entries
    assert entry.title is not None and entry.title.value == "Qarabağ talks"
    assert (entry.link, entry.published) == ("https://t.example/q", NOW - timedelta(hours=2))


def test_a_page_where_the_item_selector_matches_nothing_is_an_error() -> None:
    with pytest.raises(ReadError, match="matches nothing on the page"):
        read_page(b"<html><body><p>redesigned</p></body></html>", {}, "https://x/", STORY_SELECTORS)


async def test_a_page_without_a_feed_is_polled_and_alerts_on_new_articles(
    feeds: FeedServer, runtimes: RuntimeFactory
) -> None:
    old = LISTING.replace("Karabakh ceasefire talks resume", "Budget approved").replace(
        "karabakh-ceasefire-talks", "budget"
    )
    url = feeds.serve("/latest", old, content_type="text/html")
    source = (
        f"  - url: {url}\n    type: html\n    selectors: {{item: article.story, summary: p.dek}}"
    )
    # The listing's articles are dated NOW's morning: the clock must be NOW's, not the
    # real one, or the 24 h max_alert_age keeps them quiet on any later day.
    runtime = await runtimes(sources_config(source), FakeClock(NOW))
    (baseline,) = await runtime.poll_all()
    assert (baseline.status, baseline.stored, baseline.deliveries) == ("updated", 3, 0)
    feeds.serve("/latest", LISTING, content_type="text/html")
    (poll,) = await runtime.poll_all()
    assert (poll.stored, poll.deliveries) == (1, 1)
    (alert,) = await runtime.store.deliveries()
    assert alert.stored is not None
    assert alert.stored.item.link == "https://daily.example/news/karabakh-ceasefire-talks"
    assert alert.stored.item.summary == "Negotiators meet again in Geneva."


def test_page_and_sitemap_settings_are_checked(tmp_path: object) -> None:
    from pathlib import Path

    folder = Path(str(tmp_path))
    cases = {
        "  - {url: 'https://a.example/', type: html}": "type: html needs selectors",
        "  - {url: 'https://a.example/', selectors: {item: p}}": "selectors: are for type: html",
        "  - {url: 'https://a.example/', type: html, selectors: {item: 'p[['}}": (
            "not a CSS selector"
        ),
        "  - {url: 'https://a.example/', type: html, selectors: {title: h2}}": "item",
        "  - {url: 'https://a.example/', recent: 1d}": "recent: is for type: sitemap only",
        "  - {url: 'https://a.example/', type: atom}": "type",
    }
    for feed, message in cases.items():
        with pytest.raises(ConfigError, match=message):
            make_settings(folder, f"feeds:\n{feed}\n")


def test_dates_in_the_forms_pages_and_sitemaps_use() -> None:
    assert parse_date("2026-11-29") == datetime(2026, 11, 29, tzinfo=UTC)
    assert parse_date("2026-11-29T10:00:00+02:00") == datetime(2026, 11, 29, 8, tzinfo=UTC)
    assert parse_date("Sun, 29 Nov 2026 10:00:00 GMT") == datetime(2026, 11, 29, 10, tzinfo=UTC)
    assert parse_date("this morning") is None
    assert parse_date("") is None
