"""The feeds an HTML page links to: ``<link rel="alternate" type="application/rss+xml">``.

Kept apart from discovery (which fetches) so that parsing can name a page's feeds when a
configured feed URL answers with that page.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from html import unescape
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
    kind: str  # RSS, Atom, JSON Feed, …, "feed" when read from the feed itself, "news sitemap"
    source_type: str = "feed"  # its type: in the configuration (feed or sitemap)


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


# WebSub discovery: <link rel="hub"> / rel="self" in an RSS or Atom feed (RSS carries
# them as atom:link), or the same in the response's Link header. The links sit in the
# feed's head, so a regular expression over its first bytes finds them cheaply.
LINK_TAG = re.compile(rb"<(?:[\w-]+:)?link\b[^>]*>", re.IGNORECASE)
ATTRIBUTE = re.compile(rb"""([\w:-]+)\s*=\s*(?:"([^"]*)"|'([^']*)')""")
LINK_HEADER_PART = re.compile(r"<([^>]*)>((?:\s*;\s*[^;,]*)*)")
REL_PARAMETER = re.compile(r"""\brel\s*=\s*(?:"([^"]*)"|([^\s;,"]+))""", re.IGNORECASE)
WEBSUB_HEAD = 64 * 1024


@dataclass(frozen=True)
class WebSubLinks:
    """The hub a feed names and the topic URL it is published under (its self link)."""

    hub: str
    topic: str


def websub_links(body: bytes, headers: Mapping[str, str], url: str) -> WebSubLinks | None:
    """The hub and self URL from the Link header, else from the feed; None unless both
    are found (a hub without a topic cannot be subscribed to)."""
    found = _header_links(headers, url)
    if "hub" not in found or "self" not in found:
        found = {**_body_links(body[:WEBSUB_HEAD], url), **found}
    if "hub" in found and "self" in found:
        return WebSubLinks(found["hub"], found["self"])
    return None


def _header_links(headers: Mapping[str, str], url: str) -> dict[str, str]:
    found: dict[str, str] = {}
    values = [value for key, value in headers.items() if key.lower() == "link"]
    for value in values:
        for match in LINK_HEADER_PART.finditer(value):
            rel = REL_PARAMETER.search(match.group(2))
            if rel is None:
                continue
            for name in (rel.group(1) or rel.group(2) or "").lower().split():
                _keep(found, name, match.group(1), url)
    return found


def _body_links(head: bytes, url: str) -> dict[str, str]:
    found: dict[str, str] = {}
    for tag in LINK_TAG.finditer(head):
        attributes = {
            match.group(1).lower(): (match.group(2) or match.group(3) or b"")
            for match in ATTRIBUTE.finditer(tag.group(0))
        }
        href = unescape(attributes.get(b"href", b"").decode("utf-8", "replace"))
        for name in attributes.get(b"rel", b"").decode("ascii", "replace").lower().split():
            _keep(found, name, href, url)
    return found


def _keep(found: dict[str, str], rel: str, href: str, base: str) -> None:
    if rel not in ("hub", "self") or rel in found or not href.strip():
        return
    link = urljoin(base, href.strip())
    if urlsplit(link).scheme in ("http", "https"):
        found[rel] = link
