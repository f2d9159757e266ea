"""Readers: a feed body → its entries as written (``RawFeed``), before any text work.

``monitor.parse`` picks the reader and turns raw entries into items. Splitting the two
lets a fast reader stand in for feedparser on well-formed feeds (and be proven to read
them the same), and lets each stage be timed on its own.
"""

from __future__ import annotations

import email.utils
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

# A fetched body and the headers it came with.
Body = tuple[bytes, Mapping[str, str]]


def weight(bodies: Sequence[Body]) -> int:
    """The bytes to read in these bodies: what reading them costs a worker."""
    return sum(len(body) for body, _ in bodies)


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
    # A sitemap index: the sitemaps to read instead (newest first); no entries of its own.
    children: tuple[str, ...] = ()


class ReadError(Exception):
    """The body is not a feed this reader can read; the message says why."""


@dataclass(frozen=True, slots=True)
class PageSelectors:
    """CSS selectors for a page without a feed: ``item`` on the page, the rest inside
    each item (None: the reader's default)."""

    item: str
    title: str | None = None
    link: str | None = None
    summary: str | None = None
    date: str | None = None


@dataclass(frozen=True, slots=True)
class Source:
    """How a source's body is read: its kind (``feed``, ``sitemap``, ``html``) and that
    kind's options."""

    kind: str = "feed"
    selectors: PageSelectors | None = None  # html
    recent: timedelta | None = None  # sitemap: older entries are not read
    max_entries: int = 1000  # the newest entries read per poll


def parse_date(text: str | None) -> datetime | None:
    """An ISO 8601 / W3C date (a bare date is midnight UTC) or an RFC 822 date, aware;
    None when it is neither."""
    if not text or not (text := text.strip()):
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        try:
            moment = email.utils.parsedate_to_datetime(text)
        except (TypeError, ValueError, IndexError):
            return None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
