"""The reader registry: a source's body → its entries as written, by the reader its
kind (``feed``, ``sitemap``, ``html``) and, for a feed, its format names. A new kind of
source is one more entry in ``READERS``. The poller and ``feeds preview`` both read here.

JSON Feed has its own reader; well-formed RSS 2.0 and Atom a fast one on lxml, proven to
read them as feedparser does; everything else goes through feedparser.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from datetime import datetime

from monitor.feedlinks import html_page_problem
from monitor.sources import RawFeed, ReadError, Source
from monitor.sources.fast import read_fast
from monitor.sources.jsonfeed import read_json_feed
from monitor.sources.page import read_page
from monitor.sources.sitemap import read_sitemap
from monitor.sources.universal import read_with_feedparser

HTML_PAGE = re.compile(
    rb"^\s*(<!--.*?-->\s*)*<(!doctype\s+html|html[\s>])", re.IGNORECASE | re.DOTALL
)
# A source's body → its entries, by the source's kind: (body, headers, url, source, now).
Reader = Callable[[bytes, Mapping[str, str], str, Source, datetime], RawFeed]


def read_feed(body: bytes, headers: Mapping[str, str], url: str) -> RawFeed:
    """The body's entries as written, by the reader its format needs."""
    stripped = body.lstrip(b"\xef\xbb\xbf \t\r\n")
    if not stripped:
        raise ReadError("the response body is empty")
    content_type = headers.get("content-type", "").lower()
    if stripped[:1] in (b"{", b"[") or "json" in content_type:
        return read_json_feed(stripped)
    if HTML_PAGE.match(stripped[:4096]):
        raise ReadError(html_page_problem(stripped, url))
    # Most feeds are well-formed RSS 2.0 or Atom: read them in C; feedparser reads the rest.
    return read_fast(body, headers, url) or read_with_feedparser(body, headers, url)


def _read_as_feed(
    body: bytes, headers: Mapping[str, str], url: str, source: Source, now: datetime
) -> RawFeed:
    return read_feed(body, headers, url)


def _read_as_sitemap(
    body: bytes, headers: Mapping[str, str], url: str, source: Source, now: datetime
) -> RawFeed:
    if HTML_PAGE.match(body.lstrip(b"\xef\xbb\xbf \t\r\n")[:4096]):
        raise ReadError("the body is an HTML page, not a sitemap")
    return read_sitemap(body, url, source, now)


def _read_as_page(
    body: bytes, headers: Mapping[str, str], url: str, source: Source, now: datetime
) -> RawFeed:
    if source.selectors is None:
        raise ReadError("a page source (type: html) needs selectors")
    return read_page(body, headers, url, source.selectors)


# The readers by source kind (feeds.kind); a new kind of source is one more entry.
READERS: Mapping[str, Reader] = {
    "feed": _read_as_feed,
    "sitemap": _read_as_sitemap,
    "html": _read_as_page,
}


def read_source(
    body: bytes, headers: Mapping[str, str], url: str, source: Source, now: datetime
) -> RawFeed:
    """The body's entries as written, by the reader the source's kind names."""
    if not body.strip(b"\xef\xbb\xbf \t\r\n"):
        raise ReadError("the response body is empty")
    reader = READERS.get(source.kind)
    if reader is None:
        raise ReadError(f"unknown source type {source.kind!r}")
    return reader(body, headers, url, source, now)
