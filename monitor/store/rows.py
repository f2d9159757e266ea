"""Database rows ⇄ the value types: column lists, and conversions both ways.

Every backend stores times as UTC seconds since the epoch (a float), so SQL can order and
compare them; they become aware datetimes here. Rows are read by column name, which
SQLite's rows and asyncpg's records both allow.
"""

from __future__ import annotations

import functools
import json
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol, TypeVar
from urllib.parse import urlsplit

from monitor.models import (
    DeliveryStatus,
    FeedState,
    Item,
    MatchedTerm,
    Message,
    MessageKind,
    Spread,
    SpreadSource,
    StoredItem,
)
from monitor.views import LINK_CHARS, TITLE_CHARS, shortened, snippet

# Messages that carry others (their members point at them through parent_id).
CONTAINER_KINDS = ("rollup", "digest")
ITEM_COLUMNS = (
    "i.id, i.story_id, i.entry_key, i.guid, i.title, i.link, i.summary, i.content, i.author,"
    " i.fulltext, i.fulltext_note,"
    " i.published, i.language, i.joined_by, i.similarity, i.compared_with,"
    " i.first_seen_at, f.url AS feed_url, COALESCE(f.name, f.title) AS feed_title"
)
DELIVERY_SELECT = f"""
    SELECT d.id AS delivery_id, d.message_id, d.kind, d.watchlist, d.notifier, d.status,
           d.attempts, d.parent_id, d.body,
           d.next_attempt_at, d.last_error, d.created_at, d.sent_at, d.matched,
           d.claimed_by, d.is_update,
           (SELECT COUNT(DISTINCT s.feed_id) FROM items s WHERE s.story_id = d.story_id)
               AS sources,
           {ITEM_COLUMNS}
    FROM deliveries d LEFT JOIN items i ON i.id = d.item_id LEFT JOIN feeds f ON f.id = i.feed_id
"""


CHUNK = 500  # keys per IN (…) list
Key = TypeVar("Key")


class Row(Protocol):
    """A row read by column name (``sqlite3.Row``, ``asyncpg.Record``)."""

    def __getitem__(self, column: str, /) -> Any:
        """The value of one column."""


def in_chunks(values: Sequence[Key]) -> list[Sequence[Key]]:
    """Values in slices short enough for one ``IN (…)`` list."""
    return [values[start : start + CHUNK] for start in range(0, len(values), CHUNK)]


def placeholders(values: Sequence[object]) -> str:
    """``?,?,?`` for the values."""
    return ",".join("?" * len(values))


def new_message_id() -> str:
    """A fresh idempotency key for a message (``webhook-id``)."""
    return f"msg_{uuid.uuid4().hex}"


def term_json(term: MatchedTerm) -> dict[str, Any]:
    """A matched term as the outbox stores it."""
    found: dict[str, Any] = {"term": term.term, "field": term.field}
    if term.spans:  # kept for highlighting in the message; rows from before have none
        found["spans"] = [list(span) for span in term.spans]
    return found


def _term_from_json(found: dict[str, Any]) -> MatchedTerm:
    spans = tuple((int(start), int(end)) for start, end in found.get("spans", ()))
    return MatchedTerm(found["term"], found["field"], spans)


def host_of(url: str) -> str:
    """The lower-case host of a URL (the unit that per-host rules apply to)."""
    try:
        return (urlsplit(url).hostname or "").lower()
    except ValueError:
        return ""


def to_epoch(moment: datetime) -> float:
    """An aware datetime as stored."""
    return moment.timestamp()


def from_epoch(epoch: float | None) -> datetime | None:
    """A stored time, or None, as an aware UTC datetime."""
    return None if epoch is None else datetime.fromtimestamp(epoch, UTC)


@functools.lru_cache(maxsize=4096)
def from_epoch_required(epoch: float) -> datetime:
    """A stored time that cannot be missing (cached: rows of one batch share a time)."""
    return datetime.fromtimestamp(epoch, UTC)


def stored_item_from_row(row: Row) -> StoredItem:
    """An item row selected with ``ITEM_COLUMNS``."""
    item = Item(
        entry_key=row["entry_key"],
        guid=row["guid"],
        title=row["title"],
        link=row["link"],
        summary=row["summary"],
        fulltext=row["fulltext"] or "",
        fulltext_note=row["fulltext_note"],
        content=row["content"],
        author=row["author"],
        published=from_epoch(row["published"]),
        language=row["language"],
    )
    return StoredItem(
        id=row["id"],
        story_id=row["story_id"],
        feed_url=row["feed_url"],
        feed_title=row["feed_title"],
        item=item,
        first_seen_at=from_epoch_required(row["first_seen_at"]),
        joined_by=row["joined_by"],
        similarity=row["similarity"],
        compared_with=row["compared_with"],
    )


SOURCE_SUMMARY_CHARS = 300  # of each source's summary, kept in a spread alert


def spread_source_json(site: str, reported: float, stored: StoredItem) -> dict[str, Any]:
    """One source of a spread alert as its outbox row keeps it (``body``)."""
    item = stored.item
    return {
        "site": site,
        "reported": reported,
        "item": {
            "id": stored.id,
            "story_id": stored.story_id,
            "entry_key": shortened(item.entry_key, LINK_CHARS),
            "guid": None if item.guid is None else shortened(item.guid, LINK_CHARS),
            "title": shortened(item.title, TITLE_CHARS),
            "link": None if item.link is None else shortened(item.link, LINK_CHARS),
            "summary": snippet(item.summary or item.content, SOURCE_SUMMARY_CHARS),
            "published": None if item.published is None else item.published.timestamp(),
            "language": item.language,
            "feed_url": stored.feed_url,
            "feed_title": stored.feed_title,
            "first_seen_at": stored.first_seen_at.timestamp(),
        },
    }


def _spread_source(kept: dict[str, Any]) -> SpreadSource:
    shown = kept["item"]
    item = Item(
        entry_key=shown["entry_key"],
        guid=shown["guid"],
        title=shown["title"],
        link=shown["link"],
        summary=shown["summary"],
        content="",
        published=from_epoch(shown["published"]),
        language=shown["language"],
    )
    stored = StoredItem(
        id=shown["id"],
        story_id=shown["story_id"],
        feed_url=shown["feed_url"],
        feed_title=shown["feed_title"],
        item=item,
        first_seen_at=from_epoch_required(shown["first_seen_at"]),
    )
    return SpreadSource(kept["site"], from_epoch_required(kept["reported"]), stored)


def spread_from_body(body: str) -> Spread:
    """A spread alert's sources as its outbox row kept them."""
    kept = json.loads(body)
    return Spread(
        tuple(_spread_source(source) for source in kept["sources"]),
        kept["threshold"],
        timedelta(seconds=kept["within"]),
        kept["more"],
    )


def delivery_from_row(row: Row, members: Sequence[Message] = ()) -> Message:
    """A row selected with ``DELIVERY_SELECT`` (a rollup or digest with its members)."""
    kind = MessageKind(row["kind"])
    spread = kind is MessageKind.SPREAD
    return Message(
        id=row["delivery_id"],
        message_id=row["message_id"],
        watchlist=row["watchlist"],
        notifier=row["notifier"],
        status=DeliveryStatus(row["status"]),
        attempts=row["attempts"],
        next_attempt_at=from_epoch_required(row["next_attempt_at"]),
        last_error=row["last_error"],
        created_at=from_epoch_required(row["created_at"]),
        sent_at=from_epoch(row["sent_at"]),
        matched=tuple(_term_from_json(term) for term in json.loads(row["matched"])),
        stored=None if row["id"] is None else stored_item_from_row(row),
        story_sources=row["sources"],
        kind=kind,
        members=tuple(members),
        text="" if spread else row["body"] or "",
        parent_id=row["parent_id"],
        claimed_by=row["claimed_by"],
        update=bool(row["is_update"]),
        spread=spread_from_body(row["body"]) if spread and row["body"] else None,
    )


def feed_from_row(row: Row) -> FeedState:
    """A ``feeds`` row."""
    return FeedState(
        id=row["id"],
        url=row["url"],
        name=row["name"],
        title=row["title"],
        interval=timedelta(seconds=row["interval_s"]),
        baseline=bool(row["baseline"]),
        baselined=row["baselined_at"] is not None,
        etag=row["etag"],
        last_modified=row["last_modified"],
        next_poll_at=from_epoch_required(row["next_poll_at"]),
        error_count=row["error_count"],
        last_error=row["last_error"],
        enabled=bool(row["enabled"]),
        body_digest=row["body_digest"],
        max_alert_age=(
            None if row["max_alert_age_s"] is None else timedelta(seconds=row["max_alert_age_s"])
        ),
        last_polled_at=from_epoch(row["last_polled_at"]),
        last_status=row["last_status"],
        fetch_url=row["fetch_url"],
        gone=row["gone_at"] is not None,
        declared_interval=(
            None
            if row["declared_interval_s"] is None
            else timedelta(seconds=row["declared_interval_s"])
        ),
        learned_interval=(
            None
            if row["learned_interval_s"] is None
            else timedelta(seconds=row["learned_interval_s"])
        ),
        poll_reason=row["poll_reason"],
        last_new_item_at=from_epoch(row["last_new_item_at"]),
        stale_since=from_epoch(row["stale_since"]),
        claimed_by=row["claimed_by"],
        lease_until=from_epoch(row["lease_until"]),
        claim=row["claims"],
        kind=row["kind"],
        hub=row["hub"],
        topic=row["topic"],
        push_until=from_epoch(row["push_until"]),
    )
