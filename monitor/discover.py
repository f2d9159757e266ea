"""Feed discovery: the feeds a site publishes, found from one of its pages.

A page names its feeds with ``<link rel="alternate" type="application/rss+xml" …>`` (or
Atom, JSON Feed) in its head; relative addresses resolve against the page (or its
``<base href>``). A page that names none is tried at the paths where sites usually put
their feed. ``news-monitor feeds discover URL`` prints what is found as YAML to paste
into ``feeds:``, and a configured feed that turns out to be an HTML page gets an error
naming the feeds that page links to.

News sitemaps are found too, for sites whose feed is thin or missing: the ``Sitemap:``
lines of the site's robots.txt and the usual news sitemap paths, kept when they are
Google News sitemaps (``type: sitemap``).
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Mapping, Sequence
from dataclasses import replace
from urllib.parse import urlsplit

import yaml

from monitor.feedlinks import FoundFeed, feed_links
from monitor.fetch import Fetcher, FetchError
from monitor.parse import ParseError, parse_feed
from monitor.redact import without_userinfo
from monitor.sources.registry import HTML_PAGE
from monitor.sources.sitemap import GZIP_MAGIC, gunzipped

# Where sites without feed links usually serve one (WordPress, Ghost, Hugo, Jekyll, …).
COMMON_PATHS = (
    "/feed",
    "/rss",
    "/feed.xml",
    "/rss.xml",
    "/atom.xml",
    "/index.xml",
    "/feed.json",
    "/feeds/posts/default",
)

# Where sites usually serve a Google News sitemap, besides what robots.txt names.
NEWS_SITEMAP_PATHS = ("/news-sitemap.xml", "/sitemap_news.xml", "/sitemap-news.xml")
NEWS_NAMESPACE = b"http://www.google.com/schemas/sitemap-news/0.9"
SITEMAP_ROOT = re.compile(rb"<(?:[\w-]+:)?(urlset|sitemapindex)\b")
MAX_ROBOTS_SITEMAPS = 10


class DiscoveryError(Exception):
    """The page could not be fetched, or names no feed; the message says which."""


def looks_like_html(body: bytes) -> bool:
    """The body is an HTML page (not a feed)."""
    return bool(HTML_PAGE.match(body.lstrip(b"\xef\xbb\xbf \t\r\n")[:4096]))


async def discover(fetcher: Fetcher, url: str) -> list[FoundFeed]:
    """The feeds at or behind ``url``: the URL itself when it is a feed (or a news
    sitemap), else the feeds its page links to, else the common paths of its site that
    answer with a feed; then the site's news sitemaps. Raises DiscoveryError when the
    page cannot be fetched or nothing is found."""
    shown = without_userinfo(url)
    try:
        result = await fetcher.fetch(url)
    except FetchError as error:
        raise DiscoveryError(f"cannot fetch {shown}: {error}") from None
    body = result.body or b""
    if not looks_like_html(body):
        itself = _as_feed(body, result.headers, result.url)
        if itself is not None:
            return [itself]
        if _is_news_sitemap(body, result.url):
            return [FoundFeed(result.url, None, "news sitemap", "sitemap")]
    sitemaps = asyncio.create_task(_news_sitemaps(fetcher, result.url))
    found = feed_links(body, result.url)
    tried: list[str] = []
    if not found:
        tried = _candidates(result.url)
        answers = await asyncio.gather(*(_feed_at(fetcher, candidate) for candidate in tried))
        found = [feed for feed in answers if feed is not None]
    found += await sitemaps
    if not found:
        raise DiscoveryError(
            f'{shown} names no feed (no <link rel="alternate"> to RSS, Atom or JSON Feed),'
            f" none answers at {', '.join(urlsplit(path).path for path in tried)},"
            " and the site has no news sitemap (robots.txt, "
            f"{', '.join(NEWS_SITEMAP_PATHS)})"
        )
    # What is printed never carries the site's user info (the caller says to add it).
    return _unique([replace(feed, url=without_userinfo(feed.url)) for feed in found])


def _is_news_sitemap(body: bytes, url: str) -> bool:
    """A Google News sitemap (gzipped or not), or a sitemap index that is one by name."""
    if body[:2] == GZIP_MAGIC:
        try:
            body = gunzipped(body)
        except ParseError:
            return False
    head = body.lstrip(b"\xef\xbb\xbf \t\r\n")[:65536]
    root = SITEMAP_ROOT.search(head)
    if root is None:
        return False
    return NEWS_NAMESPACE in head or (root.group(1) == b"sitemapindex" and "news" in url.lower())


async def _news_sitemaps(fetcher: Fetcher, page_url: str) -> list[FoundFeed]:
    """The site's news sitemaps: those its robots.txt names, and at the usual paths."""
    parts = urlsplit(page_url)
    root = f"{parts.scheme}://{parts.netloc}"
    candidates = [root + path for path in NEWS_SITEMAP_PATHS]
    try:
        robots = await fetcher.fetch(root + "/robots.txt")
    except FetchError:
        robots = None
    if robots is not None and robots.body:
        named = [
            line.split(":", 1)[1].strip()
            for line in robots.body.decode("utf-8", "replace").splitlines()
            if line.lower().startswith("sitemap:")
        ]
        candidates = [*named[:MAX_ROBOTS_SITEMAPS], *candidates]

    async def news_sitemap_at(url: str) -> FoundFeed | None:
        try:
            result = await fetcher.fetch(url)
        except FetchError:
            return None
        if _is_news_sitemap(result.body or b"", result.url):
            return FoundFeed(result.url, None, "news sitemap", "sitemap")
        return None

    found = await asyncio.gather(*(news_sitemap_at(url) for url in dict.fromkeys(candidates)))
    return [sitemap for sitemap in found if sitemap is not None]


def _as_feed(body: bytes, headers: Mapping[str, str], url: str) -> FoundFeed | None:
    try:
        parsed = parse_feed(body, headers, url)
    except ParseError:
        return None
    return FoundFeed(url, parsed.title, "feed")


async def _feed_at(fetcher: Fetcher, url: str) -> FoundFeed | None:
    try:
        result = await fetcher.fetch(url)
    except FetchError:
        return None
    body = result.body or b""
    if looks_like_html(body):
        return None
    # Parsing is CPU work, but a handful of probes in a command is not the daemon's loop.
    return _as_feed(body, result.headers, result.url)


def _candidates(page_url: str) -> list[str]:
    parts = urlsplit(page_url)
    root = f"{parts.scheme}://{parts.netloc}"
    return [root + path for path in COMMON_PATHS]


def _unique(feeds: Sequence[FoundFeed]) -> list[FoundFeed]:
    """One of each URL (``/feed`` may redirect to where ``/feed.xml`` is)."""
    seen: dict[str, FoundFeed] = {}
    for feed in feeds:
        seen.setdefault(feed.url, feed)
    return list(seen.values())


def feeds_yaml(feeds: Sequence[FoundFeed]) -> str:
    """The feeds as a ``feeds:`` block to paste into the configuration."""
    entries = [
        {
            "url": feed.url,
            **({"name": feed.title} if feed.title else {}),
            **({"type": feed.source_type} if feed.source_type != "feed" else {}),
        }
        for feed in feeds
    ]
    return yaml.safe_dump({"feeds": entries}, sort_keys=False, allow_unicode=True)
