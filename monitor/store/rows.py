"""Database rows ⇄ the value types: column lists, and conversions both ways.

Every backend stores times as UTC seconds since the epoch (a float), so SQL can order and
compare them; they become aware datetimes here. Rows are read by column name, which
SQLite's rows and asyncpg's records both allow.
"""

from __future__ import annotations

import json
import struct
import uuid
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol, TypeVar
from urllib.parse import urlsplit

from monitor.dedupe import BatchCandidates, Candidate, StoryJoin
from monitor.fingerprint import FULL_MINIMA, LEAD_MINIMA
from monitor.models import (
    DeliveryStatus,
    FeedState,
    Fingerprint,
    Item,
    MatchedTerm,
    Message,
    MessageKind,
    NewItem,
    StoredItem,
    Story,
)

# Messages that carry others (their members point at them through parent_id).
CONTAINER_KINDS = ("rollup", "digest")
ITEM_COLUMNS = (
    "i.id, i.story_id, i.entry_key, i.guid, i.title, i.link, i.summary, i.content, i.author,"
    " i.published, i.language, i.joined_by, i.similarity,"
    " i.first_seen_at, f.url AS feed_url, COALESCE(f.name, f.title) AS feed_title"
)
DELIVERY_SELECT = f"""
    SELECT d.id AS delivery_id, d.message_id, d.kind, d.watchlist, d.notifier, d.status,
           d.attempts, d.parent_id, d.body,
           d.next_attempt_at, d.last_error, d.created_at, d.sent_at, d.matched,
           d.claimed_by,
           (SELECT COUNT(DISTINCT s.feed_id) FROM items s WHERE s.story_id = d.story_id)
               AS sources,
           {ITEM_COLUMNS}
    FROM deliveries d LEFT JOIN items i ON i.id = d.item_id LEFT JOIN feeds f ON f.id = i.feed_id
"""


ITEM_INSERT_COLUMNS = (
    "id, feed_id, story_id, entry_key, guid, link, fingerprint, joined_by, similarity,"
    " title, summary, content, author, published, language, first_seen_at"
)
FINGERPRINT_HEADER = struct.Struct("<III")  # full_size, lead_size, words
# then the full minima, the lead minima and the title's word hashes, all uint32
ITEM_INSERT_MARKS = ", ".join("?" * len(ITEM_INSERT_COLUMNS.split(",")))
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


def fingerprint_blob(fingerprint: Fingerprint | None) -> bytes | None:
    """The signatures as stored (the band keys are rows of ``identity_keys``)."""
    if fingerprint is None:
        return None
    header = FINGERPRINT_HEADER.pack(
        fingerprint.full_size, fingerprint.lead_size, fingerprint.words
    )
    return header + fingerprint.full + fingerprint.lead + fingerprint.title


def fingerprint_from_blob(blob: bytes | None) -> Fingerprint | None:
    """Inverse of ``fingerprint_blob``, without the band keys."""
    if not blob:
        return None
    full_size, lead_size, word_count = FINGERPRINT_HEADER.unpack_from(blob)
    minima = blob[FINGERPRINT_HEADER.size :]
    full_bytes, lead_bytes = FULL_MINIMA * 4, LEAD_MINIMA * 4
    return Fingerprint(
        full=minima[:full_bytes],
        lead=minima[full_bytes : full_bytes + lead_bytes],
        title=minima[full_bytes + lead_bytes :],
        full_size=full_size,
        lead_size=lead_size,
        words=word_count,
    )


def item_row(
    item_id: int, feed_id: int, item: Item, join: StoryJoin, now: float
) -> tuple[Any, ...]:
    """The values for ``ITEM_INSERT_COLUMNS``; ``join.by`` is empty for a story's first."""
    return (
        item_id,
        feed_id,
        join.story_id,
        item.entry_key,
        item.guid,
        item.link,
        fingerprint_blob(item.fingerprint),
        join.by or None,
        join.similarity,
        item.title,
        item.summary,
        item.content,
        item.author,
        None if item.published is None else to_epoch(item.published),
        item.language,
        now,
    )


def new_message_id() -> str:
    """A fresh idempotency key for a message (``webhook-id``)."""
    return f"msg_{uuid.uuid4().hex}"


def _term_json(term: MatchedTerm) -> dict[str, Any]:
    found: dict[str, Any] = {"term": term.term, "field": term.field}
    if term.spans:  # kept for highlighting in the message; rows from before have none
        found["spans"] = [list(span) for span in term.spans]
    return found


def _term_from_json(found: dict[str, Any]) -> MatchedTerm:
    spans = tuple((int(start), int(end)) for start, end in found.get("spans", ()))
    return MatchedTerm(found["term"], found["field"], spans)


def outbox_rows(item_id: int, story_id: int, new: NewItem, now: float) -> list[tuple[Any, ...]]:
    """One delivery per (watchlist, notifier) the item matched."""
    rows: list[tuple[Any, ...]] = []
    for match in new.matches:
        matched = json.dumps([_term_json(term) for term in match.terms], ensure_ascii=False)
        rows += [
            (
                new_message_id(),
                match.watchlist,
                story_id,
                item_id,
                notifier,
                matched,
                now,
                now,
            )
            for notifier in match.notifiers
        ]
    return rows


def follow_up_rows(
    item_id: int, story_id: int, feed_id: int, new: NewItem, now: float
) -> list[tuple[Any, ...]]:
    """Candidate follow-up deliveries for an item that joined a story: one per notifier
    of each matched watchlist that wants them, in this hour's slot. The parameters are
    numbered as the store's INSERT … SELECT reads them (?3 watchlist, ?4 story, ?6
    notifier, ?10 feed)."""
    slot = int(now // 3600)
    wanted = NewItem(new.item, tuple(match for match in new.matches if match.follow_ups))
    return [(slot, *row, feed_id) for row in outbox_rows(item_id, story_id, wanted, now)]


def lease_lost_message(table: str, row_id: int, holder: str | None, owner: str | None) -> str:
    """Why a late write of claimed work is refused."""
    what = "feed" if table == "feeds" else "delivery"
    now_with = f"is held by {holder} now" if holder else "was claimed again since"
    return (
        f"{what} {row_id} {now_with}; the late result of {owner or 'this instance'}"
        " is dropped (its lease ran out)"
    )


def claim_refusal(
    table: str,
    row_id: int,
    current: tuple[str | None, int] | None,
    owner: str | None,
    claim: int | None = None,
) -> str | None:
    """Why a write finishing claimed work must be refused, or None when it may land.

    ``current`` is the row's (claimed_by, claims). With the ``claim`` the work ran
    under, any later claim refuses it (even one finished since); without, only a claim
    that another instance holds now does.
    """
    if current is None:
        return None
    holder, claims = current
    if claim is not None:
        if claims != claim:
            return lease_lost_message(table, row_id, holder, owner)
        return None
    if holder is not None and holder != owner:
        return lease_lost_message(table, row_id, holder, owner)
    return None


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


def from_epoch_required(epoch: float) -> datetime:
    """A stored time that cannot be missing."""
    return datetime.fromtimestamp(epoch, UTC)


def candidates_from_rows(
    rows: Iterable[Row], key_of: Callable[[Row], str | int]
) -> BatchCandidates:
    """The candidates that ``identity_keys`` rows found, each under the key that found
    it (``key_of``); an item found by many of its band keys is one value per kind."""
    found = BatchCandidates()
    made: dict[tuple[int, str], Candidate] = {}
    for row in rows:
        candidate = made.get((row["item_id"], row["kind"]))
        if candidate is None:
            candidate = made[row["item_id"], row["kind"]] = Candidate(
                kind=row["kind"],
                item_id=row["item_id"],
                story_id=row["story_id"],
                feed_id=row["feed_id"],
                seen_at=from_epoch_required(row["seen_at"]),
                fingerprint=fingerprint_from_blob(row["fingerprint"]),
                seed=bool(row["seed"]),
            )
        found.add_found(key_of(row), candidate)
    return found


def stories_from_rows(heads: Iterable[Row], members: Iterable[Row]) -> list[Story]:
    """Stories (``id, created_at`` rows) with their items (rows selected with
    ``ITEM_COLUMNS``, in the order they were seen)."""
    by_story: dict[int, list[StoredItem]] = {}
    for member in map(stored_item_from_row, members):
        by_story.setdefault(member.story_id, []).append(member)
    return [
        Story(row["id"], from_epoch_required(row["created_at"]), by_story.get(row["id"], []))
        for row in heads
    ]


def stored_item_from_row(row: Row) -> StoredItem:
    """An item row selected with ``ITEM_COLUMNS``."""
    item = Item(
        entry_key=row["entry_key"],
        guid=row["guid"],
        title=row["title"],
        link=row["link"],
        summary=row["summary"],
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
    )


def delivery_from_row(row: Row, members: Sequence[Message] = ()) -> Message:
    """A row selected with ``DELIVERY_SELECT`` (a rollup or digest with its members)."""
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
        kind=MessageKind(row["kind"]),
        members=tuple(members),
        text=row["body"] or "",
        parent_id=row["parent_id"],
        claimed_by=row["claimed_by"],
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
