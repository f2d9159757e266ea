"""Reading items and stories back, the same SQL on both backends (see ``dialect``)."""

from __future__ import annotations

from collections.abc import Sequence

from monitor.models import Mute, StoredItem, Story, WatchDecision
from monitor.store.dialect import Db
from monitor.store.rows import (
    ITEM_COLUMNS,
    Row,
    from_epoch,
    from_epoch_required,
    stored_item_from_row,
)


async def recent_entries(db: Db, feed_id: int, limit: int) -> dict[str, int | None]:
    """The entry keys of a feed's ``limit`` most recently stored items, with the digest
    of the version stored (None: stored before entries were versioned)."""
    rows = await db.fetch(
        "SELECT entry_key, entry_digest FROM items WHERE feed_id = ? ORDER BY id DESC LIMIT ?",
        feed_id,
        limit,
    )
    return {row["entry_key"]: row["entry_digest"] for row in rows}


async def stored_items(db: Db, limit: int | None) -> list[StoredItem]:
    """Stored items, newest first by first sight."""
    rows = await db.fetch(
        f"SELECT {ITEM_COLUMNS} FROM items i JOIN feeds f ON f.id = i.feed_id"
        " ORDER BY i.first_seen_at DESC, i.id DESC LIMIT ?",
        -1 if limit is None and db.dialect == "sqlite" else limit,
    )
    return [stored_item_from_row(row) for row in rows]


async def feed_items(db: Db, feed_id: int, limit: int) -> list[StoredItem]:
    """One feed's newest items (by its own recent-items index)."""
    rows = await db.fetch(
        f"SELECT {ITEM_COLUMNS} FROM items i JOIN feeds f ON f.id = i.feed_id"
        " WHERE i.feed_id = ? ORDER BY i.id DESC LIMIT ?",
        feed_id,
        limit,
    )
    return [stored_item_from_row(row) for row in rows]


STORY_HEAD = "SELECT id, created_at, muted_at, muted_until FROM stories"


async def newest_stories(db: Db, limit: int) -> list[Story]:
    """The newest stories, each with its items in the order they were seen and what
    each watchlist decided about it."""
    heads = await db.fetch(f"{STORY_HEAD} ORDER BY created_at DESC, id DESC LIMIT ?", limit)
    return await _stories(db, heads)


async def one_story(db: Db, story_id: int) -> Story | None:
    """One story as ``newest_stories`` gives each; None when no such story is stored."""
    found = await _stories(db, await db.fetch(f"{STORY_HEAD} WHERE id = ?", story_id))
    return found[0] if found else None


async def _stories(db: Db, heads: Sequence[Row]) -> list[Story]:
    if not heads:
        return []
    ids = db.as_list([row["id"] for row in heads])
    members = await db.fetch(
        f"SELECT {ITEM_COLUMNS} FROM items i JOIN feeds f ON f.id = i.feed_id"
        f" WHERE {db.any_of('i.story_id')} ORDER BY i.id",
        ids,
    )
    decisions = await db.fetch(
        "SELECT story_id, watchlist, state, item_id, reason, decided_at FROM story_watch"
        f" WHERE {db.any_of('story_id')} ORDER BY watchlist",
        ids,
    )
    by_story: dict[int, list[StoredItem]] = {}
    for member in map(stored_item_from_row, members):
        by_story.setdefault(member.story_id, []).append(member)
    decided: dict[int, list[WatchDecision]] = {}
    for row in decisions:
        decided.setdefault(row["story_id"], []).append(
            WatchDecision(
                row["watchlist"],
                row["state"],
                row["item_id"],
                row["reason"],
                from_epoch_required(row["decided_at"]),
            )
        )
    return [
        Story(
            row["id"],
            from_epoch_required(row["created_at"]),
            by_story.get(row["id"], []),
            decided.get(row["id"], []),
            _mute(row),
        )
        for row in heads
    ]


async def stored_fulltext(db: Db, keys: Sequence[int]) -> dict[int, tuple[str, str]]:
    """For canonical links' keys, the article text and note of a stored item with that
    link whose article was read."""
    if not keys:
        return {}
    rows = await db.fetch(
        "SELECT k.key, i.fulltext, i.fulltext_note FROM story_keys k"
        " JOIN items i ON i.id = k.item_id"
        f" WHERE k.kind = 'link' AND {db.any_of('k.key')} AND i.fulltext <> ''",
        db.as_list(list(keys)),
    )
    found: dict[int, tuple[str, str]] = {}
    for row in rows:
        found.setdefault(row["key"], (row["fulltext"], row["fulltext_note"] or "read"))
    return found


async def fulltext_counts(db: Db, since: float) -> dict[int, tuple[int, int]]:
    """Per feed, of the items first seen since ``since``: how many had their article
    tried, and how many of those could not be read (not a teaser, not paywalled)."""
    rows = await db.fetch(
        "SELECT feed_id, count(*) AS tried, count(*) FILTER (WHERE fulltext_note <> 'read'"
        " AND fulltext_note NOT LIKE 'teaser%' AND fulltext_note NOT LIKE 'paywalled%')"
        " AS failed FROM items WHERE fulltext_note IS NOT NULL AND first_seen_at >= ?"
        " GROUP BY feed_id",
        since,
    )
    return {row["feed_id"]: (row["tried"], row["failed"]) for row in rows}


def _mute(row: Row) -> Mute | None:
    if row["muted_at"] is None:
        return None
    return Mute(from_epoch_required(row["muted_at"]), from_epoch(row["muted_until"]))


async def find_items(db: Db, refs: Sequence[str]) -> dict[str, StoredItem]:
    """Stored items by reference: the id ``stories --json`` and webhooks show (an
    entry's guid, else its key, such as the stored sample's ``seed:…``), or the item's
    number in the store; the first stored wins when several feeds have the id."""
    found: dict[str, StoredItem] = {}
    select = f"SELECT {ITEM_COLUMNS} FROM items i JOIN feeds f ON f.id = i.feed_id"
    rows = await db.fetch(
        f"{select} WHERE {db.any_of('i.guid')} OR {db.any_of('i.entry_key')} ORDER BY i.id",
        db.as_list(list(refs)),
        db.as_list(list(refs)),
    )
    wanted = set(refs)
    for row in rows:
        for ref in (row["guid"], row["entry_key"]):
            if ref in wanted:
                found.setdefault(ref, stored_item_from_row(row))
    numbers = [int(ref) for ref in refs if ref.isdigit() and ref not in found]
    if numbers:
        for row in await db.fetch(f"{select} WHERE {db.any_of('i.id')}", db.as_list(numbers)):
            found.setdefault(str(row["id"]), stored_item_from_row(row))
    return found
