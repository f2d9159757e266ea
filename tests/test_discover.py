"""Feed discovery against a real local site: alternate links (relative, with a base, of
every feed type), a page with none (the common paths are tried), a URL that is a feed
itself, a site with no feed at all, and a configured feed that turns out to be a page."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest
import yaml

from monitor.config import HttpSettings
from monitor.discover import DiscoveryError, discover, feeds_yaml
from monitor.feedlinks import feed_links
from monitor.fetch import Fetcher
from monitor.wiring import fetch_limits
from testbed.builders import Entry, atom, json_feed, rss
from tests.support.commands import cli
from tests.support.servers import FeedServer

NEWS = [Entry(title="Karabakh truce holds", guid="t1", link="https://n.example/t1")]
HOME = """<!doctype html>
<html><head><title>Example News</title>
<link rel="stylesheet" href="/style.css">
<link rel="alternate" type="application/rss+xml" title="Top stories" href="/rss/top.xml">
<link rel="alternate" type="application/atom+xml" title="World" href="world/atom">
<link rel="Alternate" type="application/feed+json; charset=utf-8" href="https://cdn.example/feed.json">
<link rel="alternate" type="application/rss+xml" title="Top again" href="/rss/top.xml">
<link rel="alternate" type="text/html" hreflang="fr" href="/fr/">
<link rel="alternate" type="application/rss+xml" href="javascript:alert(1)">
</head><body><p>News</p></body></html>
"""


def fetcher() -> Fetcher:
    return Fetcher(fetch_limits(HttpSettings(allow_private_networks=True)))


def test_alternate_links_are_read_resolved_and_kept_once_in_page_order() -> None:
    found = feed_links(HOME, "https://news.example/section/index.html")
    assert [(feed.url, feed.title, feed.kind) for feed in found] == [
        ("https://news.example/rss/top.xml", "Top stories", "RSS"),
        ("https://news.example/section/world/atom", "World", "Atom"),
        ("https://cdn.example/feed.json", None, "JSON Feed"),
    ]
    with_base = HOME.replace("<head>", '<head><base href="https://static.example/en/">')
    assert feed_links(with_base, "https://news.example/")[1].url == (
        "https://static.example/en/world/atom"
    )
    assert feed_links("<html><body>no head at all", "https://news.example/") == []


async def test_a_page_with_alternates_gives_them_as_yaml(feeds: FeedServer) -> None:
    page = feeds.serve("/section/", HOME, content_type="text/html")
    async with fetcher() as client:
        found = await discover(client, page)
    assert [feed.url for feed in found] == [
        feeds.url("/rss/top.xml"),
        feeds.url("/section/world/atom"),
        "https://cdn.example/feed.json",
    ]
    pasted = yaml.safe_load(feeds_yaml(found))
    assert pasted["feeds"][0] == {"url": feeds.url("/rss/top.xml"), "name": "Top stories"}
    assert pasted["feeds"][2] == {"url": "https://cdn.example/feed.json"}


async def test_a_page_without_links_is_tried_at_the_common_paths(feeds: FeedServer) -> None:
    page = feeds.serve("/", "<!doctype html><html><head></head><body>hi</body></html>",
                       content_type="text/html")  # fmt: skip
    feeds.serve("/feed.xml", rss(NEWS, title="The feed"))
    feeds.serve("/atom.xml", atom(NEWS, title="The Atom feed"))
    feeds.serve("/rss", "<!doctype html><html><body>a page, not a feed</body></html>",
                content_type="text/html")  # fmt: skip
    async with fetcher() as client:
        found = await discover(client, page)
    assert [(feed.url, feed.title) for feed in found] == [
        (feeds.url("/feed.xml"), "The feed"),
        (feeds.url("/atom.xml"), "The Atom feed"),
    ]


async def test_a_feed_url_is_its_own_answer(feeds: FeedServer) -> None:
    url = feeds.serve("/feed.json", json_feed(NEWS, title="JSON news"),
                      content_type="application/feed+json")  # fmt: skip
    async with fetcher() as client:
        (found,) = await discover(client, url)
    assert (found.url, found.title, found.kind) == (url, "JSON news", "feed")


async def test_a_site_without_feeds_says_what_was_tried(feeds: FeedServer) -> None:
    page = feeds.serve("/", "<html><body>nothing here</body></html>", content_type="text/html")
    async with fetcher() as client:
        try:
            await discover(client, page)
        except DiscoveryError as error:
            message = str(error)
        else:
            raise AssertionError("no feed should have been found")
    assert "names no feed" in message
    assert "/feed.xml" in message and "/atom.xml" in message
    assert "no news sitemap" in message


async def test_an_unreachable_page_is_a_clear_error(feeds: FeedServer) -> None:
    async with fetcher() as client:
        try:
            await discover(client, feeds.url("/missing"))
        except DiscoveryError as error:
            assert str(error).startswith(f"cannot fetch {feeds.url('/missing')}: ")
        else:
            raise AssertionError("a 404 is not a feed")


@pytest.mark.integration
async def test_the_command_prints_yaml_and_fails_cleanly(feeds: FeedServer, tmp_path: Path) -> None:
    page = feeds.serve("/", HOME, content_type="text/html")
    config = tmp_path / "monitor.yaml"
    config.write_text(
        f"storage: sqlite:///{tmp_path / 'monitor.db'}\nhttp: {{allow_private_networks: true}}\n"
    )
    code, out, err = await cli("feeds", "discover", page, "-c", str(config), cwd=tmp_path)
    assert code == 0, err
    assert out.startswith(f"# 3 feed(s) found from {page}\n")
    assert yaml.safe_load(out)["feeds"][1]["name"] == "World"
    empty = feeds.serve("/empty", "<html><body>nothing</body></html>", content_type="text/html")
    code, out, err = await cli("feeds", "discover", empty, "-c", str(config), cwd=tmp_path)
    assert (code, out) == (1, "")
    assert "names no feed" in err
    # The private-network guard holds here too.
    config.write_text(f"storage: sqlite:///{tmp_path / 'monitor.db'}\n")
    code, out, err = await cli("feeds", "discover", page, "-c", str(config), cwd=tmp_path)
    assert code == 1
    assert "cannot fetch" in err


NEWS_SITEMAP = """<?xml version="1.0"?>
<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"
        xmlns:news="http://www.google.com/schemas/sitemap-news/0.9">
  <url><loc>https://n.example/t1</loc><news:news><news:title>Truce</news:title>
    <news:publication_date>2026-11-29T10:00:00Z</news:publication_date></news:news></url>
</urlset>"""
PLAIN_SITEMAP = """<?xml version="1.0"?>
<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"><url><loc>https://n.example/about</loc></url></urlset>"""


async def test_news_sitemaps_from_robots_txt_and_the_usual_paths_are_found_too(
    feeds: FeedServer,
) -> None:
    page = feeds.serve("/", HOME, content_type="text/html")
    feeds.serve(
        "/robots.txt",
        f"User-agent: *\nDisallow: /admin\nSitemap: {feeds.url('/maps/news.xml')}\n"
        f"sitemap: {feeds.url('/maps/all.xml')}\n",
        content_type="text/plain",
    )
    feeds.serve("/maps/news.xml", NEWS_SITEMAP)
    feeds.serve("/maps/all.xml", PLAIN_SITEMAP)  # a whole site's map is not news
    feeds.serve("/sitemap_news.xml", gzip.compress(NEWS_SITEMAP.encode()))  # as .xml.gz
    async with fetcher() as client:
        found = await discover(client, page)
        itself = await discover(client, feeds.url("/maps/news.xml"))
    sitemaps = [(feed.url, feed.source_type) for feed in found if feed.kind == "news sitemap"]
    assert sitemaps == [
        (feeds.url("/maps/news.xml"), "sitemap"),
        (feeds.url("/sitemap_news.xml"), "sitemap"),
    ]
    assert len(found) == 5  # after the three linked feeds
    pasted = yaml.safe_load(feeds_yaml(found))
    assert pasted["feeds"][3] == {"url": feeds.url("/maps/news.xml"), "type": "sitemap"}
    assert [(feed.url, feed.source_type) for feed in itself] == [
        (feeds.url("/maps/news.xml"), "sitemap")
    ]
