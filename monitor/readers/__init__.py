"""Readers: a feed body → its entries as written (``RawFeed``), before any text work.

``monitor.parse`` picks the reader and turns raw entries into items. Splitting the two
lets a fast reader stand in for feedparser on well-formed feeds (and be proven to read
them the same), and lets each stage be timed on its own.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta


@dataclass(frozen=True, slots=True)
class Text:
    """A text construct as the feed gave it, and its media type (``text/plain``,
    ``text/html``, ``application/xhtml+xml``)."""

    value: str
    type: str = "text/html"


@dataclass(frozen=True, slots=True)
class RawEntry:
    """One entry's fields as written; text still in its markup."""

    guid: str | None = None
    title: Text | None = None
    link: str | None = None
    summary: Text | None = None
    contents: tuple[Text, ...] = ()
    author: str | None = None
    published: datetime | None = None
    language: str | None = None


@dataclass(frozen=True, slots=True)
class RawFeed:
    """A feed's own fields and its entries, as written."""

    title: Text | None = None
    link: str | None = None
    entries: list[RawEntry] = field(default_factory=list)
    warning: str | None = None
    declared_interval: timedelta | None = None


class ReadError(Exception):
    """The body is not a feed this reader can read; the message says why."""
