"""Keeping stories in shape, the same SQL on both backends (see ``dialect``): the
stored sample's feed and keys, pruning expired near-duplicate keys, the learning log
every instance counts common shingles from, the re-keying an upgrade needs, and muting
a story (``stories mute``)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from monitor.dedupe import LEAD_FLAG, anchors, identify, identity_keys
from monitor.models import Item
from monitor.store.dialect import Db
from monitor.store.sketches import log_blob, samples_of, sketch_blob
from monitor.store.stories import KEY_COLUMNS
from monitor.templates import CommonShingles

FUZZY_KEYS_BELOW = LEAD_FLAG * 2  # near and lead anchors are the keys in [0, 2^33)
PRUNE_SLICES = 64  # the fuzzy key range is pruned in this many short transactions
REKEY_BATCH = 500  # items re-keyed per transaction after an upgrade


async def seed_feed(db: Db, source: str, now: float) -> int:
    """The never-polled feed that holds the stored sample from ``source``."""
    await db.execute(
        """
        INSERT INTO feeds (url, kind, name, enabled, interval_s, baseline, baselined_at,
            next_poll_at, created_at)
        VALUES (?, 'seed', 'seeds', TRUE, 0, TRUE, ?, ?, ?)
        ON CONFLICT (url) DO NOTHING
        """,
        source,
        now,
        now,
        now,
    )
    (row,) = await db.fetch("SELECT id FROM feeds WHERE url = ?", source)
    return int(row["id"])


async def refresh_identity(db: Db, feed_id: int, items: Sequence[Item]) -> None:
    """Re-key the stored copies of these items with today's identity rules, so that
    the stored sample takes part whatever version of the rules stored it (its anchors
    are chosen with nothing common: the sample's keys never expire)."""
    by_key = {item.entry_key: item for item in items}
    if not by_key:
        return
    stored = await db.fetch(
        "SELECT id, story_id, entry_key, first_seen_at FROM items"
        f" WHERE feed_id = ? AND {db.any_of('entry_key')}",
        feed_id,
        db.as_list(list(by_key)),
    )
    for row in stored:
        item = by_key[row["entry_key"]]
        await db.execute("DELETE FROM story_keys WHERE item_id = ?", row["id"])
        await db.execute(
            "UPDATE items SET sketch = ?, fingerprint = NULL WHERE id = ?",
            sketch_blob(item.sketch),
            row["id"],
        )
        await db.insert_rows(
            "story_keys",
            KEY_COLUMNS,
            [
                (key, row["id"], kind, row["story_id"], row["first_seen_at"])
                for kind, key in identity_keys(item)
            ],
        )


async def prune_slice(db: Db, number: int, cutoff: float) -> int:
    """Drop feed items' near-duplicate keys first seen before ``cutoff`` in one slice of
    the fuzzy key range (the stored sample's stay); how many."""
    width = FUZZY_KEYS_BELOW // PRUNE_SLICES
    return await db.execute(
        "DELETE FROM story_keys WHERE key >= ? AND key < ? AND seen_at < ?"
        " AND item_id NOT IN (SELECT i.id FROM items i JOIN feeds f ON f.id = i.feed_id"
        " WHERE f.kind = 'seed')",
        number * width,
        (number + 1) * width,
        cutoff,
    )


async def load_learned(db: Db, common: CommonShingles, after: int = 0) -> int:
    """Count the new stories logged after log row ``after`` into ``common`` (the last
    two generations' worth at most); the id of the last row read."""
    rows = await db.fetch(
        "SELECT id, stories, hashes FROM shingle_log WHERE id > ? ORDER BY id DESC LIMIT ?",
        after,
        2 * common.generation_size,
    )
    last = after
    wanted = 2 * common.generation_size
    chosen = []
    for row in rows:  # newest first: keep the newest two generations' worth
        chosen.append(row)
        last = max(last, row["id"])
        wanted -= row["stories"]
        if wanted <= 0:
            break
    for row in reversed(chosen):
        common.count(samples_of(row["hashes"], row["stories"]))
    return last


async def learned_from_others(db: Db, common: CommonShingles, after: int, owner: str | None) -> int:
    """Count what other instances logged since log row ``after``; the last row seen."""
    rows = await db.fetch(
        "SELECT id, owner, stories, hashes FROM shingle_log WHERE id > ? ORDER BY id", after
    )
    for row in rows:
        after = max(after, row["id"])
        if row["owner"] == owner:
            continue
        common.count(samples_of(row["hashes"], row["stories"]))
    return after


async def prune_log(db: Db, keep_stories: int, cutoff: float) -> None:
    """Forget log rows older than ``cutoff`` or beyond the newest ``keep_stories``."""
    rows = await db.fetch("SELECT id, stories FROM shingle_log ORDER BY id DESC")
    kept = 0
    for row in rows:
        kept += row["stories"]
        if kept > keep_stories:
            await db.execute("DELETE FROM shingle_log WHERE id <= ?", row["id"])
            break
    await db.execute("DELETE FROM shingle_log WHERE at < ?", cutoff)


async def rekey_batch(db: Db, cutoff: float, common: CommonShingles, owner: str | None) -> int:
    """Re-key up to ``REKEY_BATCH`` items stored under the previous identity rules (their
    ``fingerprint`` is set): within the story window, their sketch and near-duplicate
    keys from their stored text (the first item of each story counted as a new story
    into ``common``); older ones only lose the old fingerprint. How many were done."""
    rows = await db.fetch(
        "SELECT i.id, i.story_id, i.entry_key, i.title, i.summary, i.content, i.first_seen_at,"
        " i.joined_by, f.kind = 'seed' AS seed FROM items i JOIN feeds f ON f.id = i.feed_id"
        " WHERE i.fingerprint IS NOT NULL ORDER BY i.id LIMIT ?",
        REKEY_BATCH,
    )
    if not rows:
        return 0
    # The stored sample is re-keyed whenever it is loaded (``refresh_identity``).
    current = [row for row in rows if row["first_seen_at"] >= cutoff and not row["seed"]]
    identified = identify(
        [
            Item(
                entry_key=row["entry_key"],
                guid=None,
                title=row["title"],
                link=None,
                summary=row["summary"],
                content=row["content"],
            )
            for row in current
        ]
    )
    keys: list[tuple[Any, ...]] = []
    learned: list[tuple[int, ...]] = []
    for row, item in zip(current, identified, strict=True):
        if item.sketch is None:
            continue
        await db.execute(
            "UPDATE items SET sketch = ? WHERE id = ?", sketch_blob(item.sketch), row["id"]
        )
        keys += [
            (key, row["id"], kind, row["story_id"], row["first_seen_at"])
            for kind, key in anchors(item.sketch, common.values)
        ]
        if row["joined_by"] is None:
            learned.append(item.sketch.sample)
    if keys:
        await db.insert_rows("story_keys", KEY_COLUMNS, keys)
    common.count(learned)
    if learned:
        await db.execute(
            "INSERT INTO shingle_log (owner, at, stories, hashes) VALUES (?, ?, ?, ?)",
            owner,
            max(row["first_seen_at"] for row in current),
            len(learned),
            log_blob(learned),
        )
    await db.execute(
        f"UPDATE items SET fingerprint = NULL WHERE {db.any_of('id')}",
        db.as_list([row["id"] for row in rows]),
    )
    return len(rows)


async def mute(db: Db, story_id: int, since: float, until: float | None) -> bool:
    """Mute a story from ``since`` until ``until`` (None: until unmuted); False when no
    such story is stored."""
    changed = await db.execute(
        "UPDATE stories SET muted_at = ?, muted_until = ? WHERE id = ?", since, until, story_id
    )
    return changed > 0


async def unmute(db: Db, story_id: int) -> bool:
    """Unmute a story; False when no such story is stored."""
    changed = await db.execute(
        "UPDATE stories SET muted_at = NULL, muted_until = NULL WHERE id = ?", story_id
    )
    return changed > 0
