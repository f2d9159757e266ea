"""The feeds an HTML page links to: ``<link rel="alternate" type="application/rss+xml">``.

Kept apart from discovery (which fetches) so that parsing can name a page's feeds when a
configured feed URL answers with that page.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

from selectolax.lexbor import LexborHTMLParser

# The types a feed link announces. A bare "application/json" is left out: too many
# pages link JSON that is not a feed.
FEED_TYPES = {
    "application/rss+xml": "RSS",
    "application/atom+xml": "Atom",
    "application/feed+json": "JSON Feed",
    "application/rdf+xml": "RSS 1.0",
}
MAX_HEAD = 512 * 1024  # the links are in the head: a huge page is not parsed whole


@dataclass(frozen=True)
class FoundFeed:
    """A feed a page links to (or that answered at a common path)."""

    url: str
    title: str | None
    kind: str  # RSS, Atom, JSON Feed, …, or "feed" when read from the feed itself


def feed_links(html: bytes | str, page_url: str) -> list[FoundFeed]:
    """The feeds a page's ``<link rel="alternate">`` tags name, absolute, in page order,
    each once."""
    text = html.decode("utf-8", "replace") if isinstance(html, bytes) else html
    tree = LexborHTMLParser(text[:MAX_HEAD])
    base = page_url
    base_tag = tree.css_first("base[href]")
    if base_tag is not None:
        base = urljoin(page_url, (base_tag.attributes.get("href") or "").strip())
    found: dict[str, FoundFeed] = {}
    for link in tree.css("link[rel][href][type]"):
        rel = (link.attributes.get("rel") or "").lower().split()
        kind = FEED_TYPES.get((link.attributes.get("type") or "").lower().split(";")[0].strip())
        href = (link.attributes.get("href") or "").strip()
        if "alternate" not in rel or kind is None or not href:
            continue
        url = urljoin(base, href)
        if urlsplit(url).scheme not in ("http", "https"):
            continue
        title = (link.attributes.get("title") or "").strip() or None
        found.setdefault(url, FoundFeed(url, title, kind))
    return list(found.values())


def html_page_problem(body: bytes, url: str) -> str:
    """The error for a configured feed URL that answered with an HTML page, naming the
    feeds the page links to when it links to any."""
    message = "the response is an HTML page, not a feed"
    linked = feed_links(body, url)
    if linked:
        shown = ", ".join(feed.url for feed in linked[:3])
        message += f"; the page links to {shown} (`news-monitor feeds discover` lists them)"
    return message
