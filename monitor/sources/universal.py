"""Any RSS or Atom feed, well-formed or not, through feedparser.

feedparser is given the response headers, so the HTTP charset rules hold, and the
feed's URL as the base that relative links resolve against.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

import feedparser

from monitor.sources import RawEntry, RawFeed, ReadError, Text

SYNDICATION_PERIODS = {
    "hourly": timedelta(hours=1),
    "daily": timedelta(days=1),
    "weekly": timedelta(weeks=1),
    "monthly": timedelta(days=30),
    "yearly": timedelta(days=365),
}


def read_with_feedparser(body: bytes, headers: Mapping[str, str], url: str) -> RawFeed:
    """Read an RSS or Atom body; ``ReadError`` when it is neither."""
    response_headers = {key.lower(): value for key, value in headers.items()}
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
        raise ReadError(f"the feed cannot be read: {type(error).__name__}: {error}") from None
    problem = result.get("bozo_exception")
    if not result.get("version") and not result.entries:
        reason = f": {describe(problem)}" if problem else ""
        raise ReadError(f"the body is not an RSS, Atom or JSON feed{reason}")
    feed = result.feed
    language = feed.get("language")
    return RawFeed(
        title=_text(feed.get("title"), feed.get("title_detail")),
        link=feed.get("link"),
        entries=[_entry(entry, language) for entry in result.entries],
        warning=f"feed is not well-formed ({describe(problem)})" if problem else None,
        declared_interval=declared_interval(
            feed.get("ttl"), feed.get("sy_updateperiod"), feed.get("sy_updatefrequency")
        ),
    )


def describe(problem: object) -> str:
    """A parser's complaint with its line number when it has one."""
    message = getattr(problem, "getMessage", None)
    text = message() if callable(message) else str(problem)
    line = getattr(problem, "getLineNumber", None)
    return f"{text} at line {line()}" if callable(line) else text


def _positive_number(value: object) -> float | None:
    try:
        number = float(str(value).strip())
    except ValueError:
        return None
    return number if 0 < number < 1e7 else None


def declared_interval(ttl: object, period: object, frequency: object) -> timedelta | None:
    """How often the feed says it changes: RSS ``<ttl>`` (minutes), or
    ``sy:updatePeriod`` divided by ``sy:updateFrequency``; the longer when both."""
    found = []
    minutes = _positive_number(ttl)
    if minutes is not None:
        found.append(timedelta(minutes=minutes))
    length = SYNDICATION_PERIODS.get(str(period or "").strip().lower())
    if length is not None:
        times = _positive_number(1 if frequency is None else frequency) or 1
        found.append(length / max(times, 1))
    return max(found) if found else None


def _text(value: object, detail: Mapping[str, Any] | None = None) -> Text | None:
    if not isinstance(value, str) or not value:
        return None
    return Text(value, (detail or {}).get("type", "text/html"))


def _entry(entry: Mapping[str, Any], feed_language: str | None) -> RawEntry:
    title_detail = entry.get("title_detail") or {}
    contents = (_text(part.get("value"), part) for part in entry.get("content", []))
    return RawEntry(
        guid=(entry.get("id") or "").strip() or None,
        title=_text(entry.get("title"), title_detail),
        link=(entry.get("link") or "").strip() or None,
        summary=_text(entry.get("summary"), entry.get("summary_detail")),
        contents=tuple(text for text in contents if text is not None),
        author=entry.get("author") or None,
        published=_struct_time(entry.get("published_parsed") or entry.get("updated_parsed")),
        language=title_detail.get("language") or feed_language,
    )


def _struct_time(value: time.struct_time | None) -> datetime | None:
    if value is None:
        return None
    try:
        return datetime(*value[:6], tzinfo=UTC)
    except (TypeError, ValueError):
        return None
