"""A source's body → its new items and their matches: the CPU part of a poll or a push,
run in a worker process, and the rules that then trim the matches (watchlist scopes,
item age). ``Poller.ingest`` drives it for polled and pushed bodies alike.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import TypeVar

from monitor.dedupe import identify
from monitor.feedlinks import WebSubLinks, websub_links
from monitor.languages import item_language
from monitor.match import FeedLabels, WatchlistSet, match_items
from monitor.models import Item, Match, NewItem, ParsedFeed
from monitor.parse import identified, revisions, text_of
from monitor.redact import without_userinfo
from monitor.sources import Body, RawFeed, Source
from monitor.sources.index import merged
from monitor.sources.registry import read_source
from monitor.workers import installed

Lapped = TypeVar("Lapped")


@dataclass(frozen=True, slots=True)
class Prepared:
    """A parsed body, and its items with the watchlists each matched."""

    feed: ParsedFeed  # its items: the entries that were not known
    items: list[NewItem]
    entries: int  # in the body, known ones included
    # Seconds spent in each stage in the worker: read, text, identify, match.
    stages: dict[str, float] = field(default_factory=dict)
    children: tuple[str, ...] = ()  # a sitemap index: the sitemaps to read instead
    websub: WebSubLinks | None = None  # the hub and topic the feed names


@dataclass(frozen=True, slots=True)
class MatchRequest:
    """Match a feed's items against the watchlists installed in the worker: the
    generation they were installed as, and the feed's labels for ``feed:``/``tag:``."""

    generation: int
    feed: FeedLabels


def prepare(
    bodies: Sequence[Body],
    url: str,
    request: MatchRequest | None,
    known: Mapping[str, int | None],
    source: Source,
    now: datetime,
) -> Prepared:
    """Parse, identify and match a source's bodies (one, or the sitemaps of an index):
    the CPU part of a poll or a push, run in a worker.

    Each body is read by the reader its source's kind names. Entries whose keys and
    versions are ``known`` (the feed's recently stored ones, with their digests) are
    read for their keys and left there: of a changed feed's 50 entries, 5 are new, and
    only they pay for identity and matching. A known entry in a new version (edited in
    place) is read and matched again, and comes back with its ``revision``; it keeps its
    identity. The store still skips any other entry it has. (The items travel back
    once: pickling shares the objects ``feed`` and ``items`` hold.) Without a request
    nothing is matched. A lone sitemap index comes back as its children.

    The URL is the base of relative links and ids without its user info: a feed's
    password never reaches an item (and so a receiver or any output).
    """
    url = without_userinfo(url)
    clock = StageClock()
    raws = [read_source(body, headers, url, source, now) for body, headers in bodies]
    if len(raws) == 1 and raws[0].children:
        return Prepared(ParsedFeed(None, None, []), [], 0, clock.stages, raws[0].children)
    links = websub_links(*bodies[0], url) if source.kind == "feed" else None
    raw = clock.lap("read", newest(merged(raws), source.max_entries))
    parsed = clock.lap("text", text_of(raw, known))
    entries = len(parsed.items)
    revised = revisions(parsed.items, known)
    parsed = clock.lap("identify", identified(parsed, known))
    if request is None:
        items = [NewItem(i) for i in parsed.items]
        items += [NewItem(item, revision=revision) for item, revision in revised]
        return Prepared(parsed, items, entries, clock.stages, websub=links)
    watchlists = installed(request.generation)
    assert isinstance(watchlists, WatchlistSet)
    labels = replace(request.feed, title=parsed.title)
    matched = match_items([*parsed.items, *(item for item, _ in revised)], watchlists, labels)
    fresh = len(parsed.items)
    items = matched[:fresh] + [
        replace(new, revision=revision)
        for new, (_, revision) in zip(matched[fresh:], revised, strict=True)
    ]
    clock.lap("match", None)
    return Prepared(parsed, items, entries, clock.stages, websub=links)


def with_articles(
    items: Sequence[NewItem], request: MatchRequest | None, title: str | None
) -> list[NewItem]:
    """Items that gained their article's text, identified and matched again on the whole
    of it (in a worker). Each keeps the canonical link the feed's batch gave it (a link
    the feed repeats identifies none of its entries); one whose language was unknown is
    read for it again, on the article."""
    found = identify([_with_language(new.item) for new in items])
    found = [
        replace(item, canonical_link=new.item.canonical_link)
        for item, new in zip(found, items, strict=True)
    ]
    if request is None:
        return [replace(new, item=item) for new, item in zip(items, found, strict=True)]
    watchlists = installed(request.generation)
    assert isinstance(watchlists, WatchlistSet)
    return match_items(found, watchlists, replace(request.feed, title=title))


def _with_language(item: Item) -> Item:
    if item.language or not item.fulltext:
        return item
    return replace(item, language=item_language(None, item.title, item.fulltext))


def newest(raw: RawFeed, limit: int) -> RawFeed:
    """At most ``limit`` entries, the newest by their dates (or the first, when few have
    dates: feeds list their newest first), in the body's order; with a warning when
    some were left out. A feed's cost per poll stays bounded however long it is."""
    if len(raw.entries) <= limit:
        return raw
    entries = raw.entries
    dated = [index for index, entry in enumerate(entries) if entry.published is not None]
    if len(dated) * 2 >= len(entries):
        floor = datetime.min.replace(tzinfo=UTC)
        chosen = sorted(
            range(len(entries)), key=lambda index: entries[index].published or floor, reverse=True
        )[:limit]
        kept = [entries[index] for index in sorted(chosen)]
    else:
        kept = entries[:limit]
    said = f"the body lists {len(entries):,} entries; the newest {limit:,} were read (max_entries)"
    return replace(raw, entries=kept, warning="; ".join(filter(None, [raw.warning, said])))


class StageClock:
    """Seconds per stage of a pipeline, each lap ending when its result is passed in."""

    def __init__(self) -> None:
        self.stages: dict[str, float] = {}
        self._since = time.perf_counter()

    def lap(self, stage: str, result: Lapped) -> Lapped:
        """Record the time since the last lap against ``stage``; return ``result``."""
        now = time.perf_counter()
        self.stages[stage] = self.stages.get(stage, 0.0) + now - self._since
        self._since = now
        return result


TOO_OLD = "too old: published before the feed's max_alert_age"
OUT_OF_SCOPE = "out of scope: the watchlist does not watch this feed"
TOO_OLD_FOR_WATCHLIST = "too old: published before the watchlist's max_age"


def without_stale_matches(items: Sequence[NewItem], cutoff: datetime) -> list[NewItem]:
    """Items published before ``cutoff`` alert nothing: their matches are recorded as
    silent (a daemon back from downtime, or a feed that dumps its archive, stays
    quiet), and a fresher item of the same story may still alert. An item without a
    date is taken as new."""
    return [
        replace(new, matches=tuple(_silenced(match, TOO_OLD) for match in new.matches))
        if new.matches and new.item.published is not None and new.item.published < cutoff
        else new
        for new in items
    ]


def _silenced(match: Match, reason: str) -> Match:
    return match if match.silenced else replace(match, silenced=reason)


@dataclass(frozen=True, slots=True)
class WatchlistScope:
    """Which feeds a watchlist watches (None: all) and how old an item may be."""

    feed_urls: frozenset[str] | None = None
    max_age: timedelta | None = None


def in_scope(
    scopes: Mapping[str, WatchlistScope], items: Sequence[NewItem], feed_url: str, now: datetime
) -> list[NewItem]:
    """Silence the matches of watchlists that do not watch this feed, or that find the
    item too old: recorded with the reason, never alerted for this item."""

    def scoped(match: Match, new: NewItem) -> Match:
        scope = scopes.get(match.watchlist)
        if scope is None:
            return match
        if scope.feed_urls is not None and feed_url not in scope.feed_urls:
            return _silenced(match, OUT_OF_SCOPE)
        published, max_age = new.item.published, scope.max_age
        if max_age is not None and published is not None and published < now - max_age:
            return _silenced(match, TOO_OLD_FOR_WATCHLIST)
        return match

    return [
        replace(new, matches=tuple(scoped(match, new) for match in new.matches))
        if new.matches
        else new
        for new in items
    ]
