"""Feed discovery: the feeds a site publishes, found from one of its pages.

A page names its feeds with ``<link rel="alternate" type="application/rss+xml" …>`` (or
Atom, JSON Feed) in its head; relative addresses resolve against the page (or its
``<base href>``). A page that names none is tried at the paths where sites usually put
their feed. ``news-monitor feeds discover URL`` prints what is found as YAML to paste
into ``feeds:``, and a configured feed that turns out to be an HTML page gets an error
naming the feeds that page links to.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from urllib.parse import urlsplit

import yaml

from monitor.feedlinks import FoundFeed, feed_links
from monitor.fetch import Fetcher, FetchError
from monitor.parse import HTML_PAGE, ParseError, parse_feed

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


class DiscoveryError(Exception):
    """The page could not be fetched, or names no feed; the message says which."""


def looks_like_html(body: bytes) -> bool:
    """The body is an HTML page (not a feed)."""
    return bool(HTML_PAGE.match(body.lstrip(b"\xef\xbb\xbf \t\r\n")[:4096]))


async def discover(fetcher: Fetcher, url: str) -> list[FoundFeed]:
    """The feeds at or behind ``url``: the URL itself when it is a feed, else the feeds
    its page links to, else the common paths of its site that answer with a feed.
    Raises DiscoveryError when the page cannot be fetched or names no feed."""
    try:
        result = await fetcher.fetch(url)
    except FetchError as error:
        raise DiscoveryError(f"cannot fetch {url}: {error}") from None
    body = result.body or b""
    if not looks_like_html(body):
        itself = _as_feed(body, result.headers, result.url)
        if itself is not None:
            return [itself]
    linked = feed_links(body, result.url)
    if linked:
        return linked
    tried = _candidates(result.url)
    answers = await asyncio.gather(*(_feed_at(fetcher, candidate) for candidate in tried))
    found = [feed for feed in answers if feed is not None]
    if not found:
        raise DiscoveryError(
            f'{url} names no feed (no <link rel="alternate"> to RSS, Atom or JSON Feed)'
            f" and none answers at {', '.join(urlsplit(path).path for path in tried)}"
        )
    return _unique(found)


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
    entries = [{"url": feed.url, **({"name": feed.title} if feed.title else {})} for feed in feeds]
    return yaml.safe_dump({"feeds": entries}, sort_keys=False, allow_unicode=True)
