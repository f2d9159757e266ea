"""JSON Feed 1.x, which feedparser does not read."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from monitor.sources import RawEntry, RawFeed, ReadError, Text

JSON_FEED_VERSION = "https://jsonfeed.org/version/"


def read_json_feed(body: bytes) -> RawFeed:
    """Read a JSON Feed document; ``ReadError`` when it is not one."""
    try:
        document = json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ReadError(f"the body is not valid JSON: {exc}") from None
    if not isinstance(document, dict) or not str(document.get("version", "")).startswith(
        JSON_FEED_VERSION
    ):
        raise ReadError("the body is JSON but not a JSON Feed (no jsonfeed.org version)")
    items = document.get("items")
    if not isinstance(items, list):
        raise ReadError("the JSON Feed has no items list")
    language = _string(document.get("language"))
    title = _string(document.get("title"))
    return RawFeed(
        title=Text(title, "text/plain") if title else None,
        link=_string(document.get("home_page_url")),
        entries=[_entry(entry, language) for entry in items if isinstance(entry, dict)],
    )


def _string(value: object) -> str | None:
    if isinstance(value, str | int) and not isinstance(value, bool):
        return str(value).strip() or None
    return None


def _entry(entry: Mapping[str, Any], feed_language: str | None) -> RawEntry:
    html = _string(entry.get("content_html"))
    plain = _string(entry.get("content_text"))
    content = Text(html) if html else Text(plain or "", "text/plain")
    title = _string(entry.get("title"))
    authors = entry.get("authors") or ([entry["author"]] if entry.get("author") else [])
    names = [
        name
        for author in authors
        if isinstance(author, dict) and (name := _string(author.get("name")))
    ]
    return RawEntry(
        guid=_string(entry.get("id")),
        title=Text(title, "text/plain") if title else None,  # plain text by the spec
        link=_string(entry.get("url")) or _string(entry.get("external_url")),
        # Plain text by the spec, but publishers put HTML here often enough to strip it.
        summary=Text(_string(entry.get("summary")) or ""),
        contents=(content,),
        author=", ".join(names) or None,
        published=_iso_time(entry.get("date_published") or entry.get("date_modified")),
        language=_string(entry.get("language")) or feed_language,
    )


def _iso_time(value: object) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError:
        return None
    return parsed.astimezone(UTC) if parsed.tzinfo else parsed.replace(tzinfo=UTC)
