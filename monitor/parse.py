"""Feed body → items.

RSS 0.9x/1.0/2.0 and Atom go through feedparser (given the response headers, so the HTTP
charset rules hold); JSON Feed, which feedparser does not read, has its own adapter. Every
entry becomes one ``Item`` with plain text and an entry key (the Miniflux rule: the guid;
a guid repeated inside the feed → guid + link; no guid → the link; neither → a hash of
title + content). These functions are CPU work: callers run them in an executor.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import re
import time
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import feedparser

from monitor.dedupe import identify
from monitor.models import Item, ParsedFeed
from monitor.text import html_to_text, tidy

HTML_PAGE = re.compile(
    rb"^\s*(<!--.*?-->\s*)*<(!doctype\s+html|html[\s>])", re.IGNORECASE | re.DOTALL
)
JSON_FEED_VERSION = "https://jsonfeed.org/version/"
HTML_TYPES = ("text/html", "application/xhtml+xml")


class ParseError(Exception):
    """The body is not a feed we can read; the message says what it is instead."""


def parse_feed(body: bytes, headers: Mapping[str, str], url: str) -> ParsedFeed:
    """Parse a fetched body into items with entry keys and identity keys."""
    stripped = body.lstrip(b"\xef\xbb\xbf \t\r\n")
    if not stripped:
        raise ParseError("the response body is empty")
    content_type = headers.get("content-type", "").lower()
    if stripped[:1] in (b"{", b"[") or "json" in content_type:
        parsed = _parse_json_feed(stripped)
    elif HTML_PAGE.match(stripped[:4096]):
        raise ParseError("the response is an HTML page, not a feed")
    else:
        parsed = _parse_xml_feed(body, headers, url)
    return replace(
        parsed, items=identify(parsed.items), learned_interval=learned_interval(parsed.items)
    )


def learned_interval(items: Sequence[Item], recent: int = 10) -> timedelta | None:
    """Half the median gap between the feed's most recent dated entries: how often to
    look so that a new entry waits about a quarter of a gap. None with fewer than 3."""
    dates = sorted({item.published for item in items if item.published}, reverse=True)[:recent]
    if len(dates) < 3:
        return None
    gaps = sorted(newer - older for newer, older in itertools.pairwise(dates))
    return gaps[len(gaps) // 2] / 2


def _parse_xml_feed(body: bytes, headers: Mapping[str, str], url: str) -> ParsedFeed:
    response_headers = {key.lower(): value for key, value in headers.items()}
    # The feed's own URL is the base that relative entry links resolve against.
    response_headers.setdefault("content-location", url)
    try:
        result = feedparser.parse(
            body,
            response_headers=response_headers,
            sanitize_html=False,  # we keep text only; markup never reaches a reader
            resolve_relative_uris=False,
        )
    except Exception as error:
        # feedparser has failure modes of its own on broken input (a non-UTF-8 byte in
        # the XML declaration's encoding name raises UnicodeDecodeError): whatever it
        # raises, the body is not a feed we can read, and that is an answer, not a bug.
        raise ParseError(f"the feed cannot be read: {type(error).__name__}: {error}") from None
    problem = result.get("bozo_exception")
    if not result.get("version") and not result.entries:
        reason = f": {_describe(problem)}" if problem else ""
        raise ParseError(f"the body is not an RSS, Atom or JSON feed{reason}")
    feed = result.feed
    language = feed.get("language")
    entries = [_entry_fields(entry, language) for entry in result.entries]
    warning = f"feed is not well-formed ({_describe(problem)})" if problem else None
    return ParsedFeed(
        title=_text(feed.get("title"), feed.get("title_detail")) or None,
        link=feed.get("link"),
        items=_keyed(entries),
        warning=warning,
        declared_interval=declared_interval(feed),
    )


SYNDICATION_PERIODS = {
    "hourly": timedelta(hours=1),
    "daily": timedelta(days=1),
    "weekly": timedelta(weeks=1),
    "monthly": timedelta(days=30),
    "yearly": timedelta(days=365),
}


def _positive_number(value: object) -> float | None:
    try:
        number = float(str(value).strip())
    except ValueError:
        return None
    return number if 0 < number < 1e7 else None


def declared_interval(feed: Mapping[str, Any]) -> timedelta | None:
    """How often the feed says it changes: RSS ``<ttl>`` (minutes), or
    ``sy:updatePeriod`` divided by ``sy:updateFrequency``; the longer when both."""
    found = []
    minutes = _positive_number(feed.get("ttl"))
    if minutes is not None:
        found.append(timedelta(minutes=minutes))
    period = SYNDICATION_PERIODS.get(str(feed.get("sy_updateperiod", "")).strip().lower())
    if period is not None:
        frequency = _positive_number(feed.get("sy_updatefrequency", 1)) or 1
        found.append(period / max(frequency, 1))
    return max(found) if found else None


def _describe(problem: object) -> str:
    message = getattr(problem, "getMessage", None)
    text = message() if callable(message) else str(problem)
    line = getattr(problem, "getLineNumber", None)
    return f"{text} at line {line()}" if callable(line) else text


def _text(value: object, detail: Mapping[str, Any] | None = None) -> str:
    if not isinstance(value, str) or not value:
        return ""
    kind = (detail or {}).get("type", "text/html")
    return html_to_text(value) if kind in HTML_TYPES else tidy(value)


def _entry_fields(entry: Mapping[str, Any], feed_language: str | None) -> dict[str, Any]:
    summary = _text(entry.get("summary"), entry.get("summary_detail"))
    contents = [_text(part.get("value"), part) for part in entry.get("content", [])]
    content = "\n".join(dict.fromkeys(text for text in contents if text))
    if content == summary:
        content = ""
    title_detail = entry.get("title_detail") or {}
    return {
        "guid": (entry.get("id") or "").strip() or None,
        "title": _text(entry.get("title"), title_detail),
        "link": (entry.get("link") or "").strip() or None,
        "summary": summary,
        "content": content,
        "author": entry.get("author") or None,
        "published": _struct_time(entry.get("published_parsed") or entry.get("updated_parsed")),
        "language": title_detail.get("language") or feed_language,
    }


def _struct_time(value: time.struct_time | None) -> datetime | None:
    if value is None:
        return None
    try:
        return datetime(*value[:6], tzinfo=UTC)
    except (TypeError, ValueError):
        return None


def _parse_json_feed(body: bytes) -> ParsedFeed:
    try:
        document = json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ParseError(f"the body is not valid JSON: {exc}") from None
    if not isinstance(document, dict) or not str(document.get("version", "")).startswith(
        JSON_FEED_VERSION
    ):
        raise ParseError("the body is JSON but not a JSON Feed (no jsonfeed.org version)")
    items = document.get("items")
    if not isinstance(items, list):
        raise ParseError("the JSON Feed has no items list")
    language = _string(document.get("language"))
    entries = [_json_entry(entry, language) for entry in items if isinstance(entry, dict)]
    return ParsedFeed(
        title=_string(document.get("title")),
        link=_string(document.get("home_page_url")),
        items=_keyed(entries),
    )


def _string(value: object) -> str | None:
    if isinstance(value, str | int) and not isinstance(value, bool):
        return str(value).strip() or None
    return None


def _json_entry(entry: Mapping[str, Any], feed_language: str | None) -> dict[str, Any]:
    html = _string(entry.get("content_html"))
    content = html_to_text(html) if html else tidy(_string(entry.get("content_text")) or "")
    # Plain text by the spec, but publishers put HTML here often enough to strip it.
    summary = html_to_text(_string(entry.get("summary")) or "")
    authors = entry.get("authors") or ([entry["author"]] if entry.get("author") else [])
    names = [
        name
        for author in authors
        if isinstance(author, dict) and (name := _string(author.get("name")))
    ]
    return {
        "guid": _string(entry.get("id")),
        "title": tidy(_string(entry.get("title")) or ""),  # JSON Feed titles are plain text
        "link": _string(entry.get("url")) or _string(entry.get("external_url")),
        "summary": summary,
        "content": "" if content == summary else content,
        "author": ", ".join(names) or None,
        "published": _iso_time(entry.get("date_published") or entry.get("date_modified")),
        "language": _string(entry.get("language")) or feed_language,
    }


def _iso_time(value: object) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError:
        return None
    return parsed.astimezone(UTC) if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _keyed(entries: Iterable[dict[str, Any]]) -> list[Item]:
    """Give each entry its key by the Miniflux rule; drop empty and repeated entries."""
    entries = [e for e in entries if e["guid"] or e["link"] or e["title"] or e["summary"]]
    guid_counts = Counter(entry["guid"] for entry in entries if entry["guid"])
    items: dict[str, Item] = {}
    for fields in entries:
        guid, link = fields["guid"], fields["link"]
        if guid and guid_counts[guid] == 1:
            key = guid
        elif guid:
            key = f"{guid} {link or _content_key(fields)}"
        elif link:
            key = link
        else:
            key = _content_key(fields)
        items.setdefault(key, Item(entry_key=key, **fields))
    return list(items.values())


def _content_key(fields: Mapping[str, Any]) -> str:
    text = f"{fields['title']}\n{fields['content'] or fields['summary']}"
    return "sha256:" + hashlib.sha256(text.encode("utf-8")).hexdigest()
