"""The stored items a batch's identity keys find, and the representatives of the
stories they belong to, the same SQL on both backends (see ``dialect``).

A key's lookup is capped at ``PER_KEY`` items, newest first: a key shared by more is
template, not identity, and the work per item stays flat whatever the feeds repeat.
An anchor found in ``BUSY_STORIES`` different stories is marked common from then on.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Collection, Sequence

from monitor.dedupe import (
    FUZZY_KINDS,
    LEAD_FLAG,
    BatchCandidates,
    Candidate,
    FirstItem,
    IdentityKey,
    Representative,
    stories_to_compare,
)
from monitor.store.dialect import Db
from monitor.store.rows import Row, from_epoch_required
from monitor.store.sketches import sketch_from_blob, words_of_blob
from monitor.templates import CommonShingles

PER_KEY = 8  # items fetched per identity key, newest first
BUSY_STORIES = 3  # an anchor found in this many stories is template
SHINGLE_MASK = LEAD_FLAG - 1  # an anchor's key → its shingle hash
# The first item of each candidate's story (the item it is compared by): who may join.
FIRST_ITEM = (
    "LEFT JOIN stories st ON st.id = k.story_id LEFT JOIN items r ON r.id = st.first_item_id"
    " LEFT JOIN feeds rf ON rf.id = r.feed_id"
)
# A capped lookup per key, newest first.
CANDIDATES = {
    "sqlite": f"""
        WITH wanted (key) AS (SELECT DISTINCT value FROM json_each(?))
        SELECT k.key, k.kind, k.item_id, k.story_id, k.seen_at, i.feed_id,
               substr(i.sketch, 5, 4) AS words, f.kind = 'seed' AS seed,
               r.feed_id AS first_feed, r.first_seen_at AS first_seen,
               rf.kind = 'seed' AS first_seed
        FROM wanted w
        JOIN story_keys k ON k.key = w.key AND k.item_id >= COALESCE((
            SELECT item_id FROM story_keys WHERE key = w.key
            ORDER BY item_id DESC LIMIT 1 OFFSET {PER_KEY - 1}), 0)
        JOIN items i ON i.id = k.item_id JOIN feeds f ON f.id = i.feed_id
        {FIRST_ITEM}
    """,
    "postgresql": f"""
        SELECT k.key, k.kind, k.item_id, k.story_id, k.seen_at, i.feed_id,
               substr(i.sketch, 5, 4) AS words, f.kind = 'seed' AS seed,
               r.feed_id AS first_feed, r.first_seen_at AS first_seen,
               rf.kind = 'seed' AS first_seed
        FROM (SELECT DISTINCT unnest(?::bigint[]) AS key) w
        CROSS JOIN LATERAL (
            SELECT * FROM story_keys s WHERE s.key = w.key
            ORDER BY s.item_id DESC LIMIT {PER_KEY}) k
        JOIN items i ON i.id = k.item_id JOIN feeds f ON f.id = i.feed_id
        {FIRST_ITEM}
    """,
}


async def candidates_for(
    db: Db,
    keys_of: Sequence[Sequence[IdentityKey]],
    common: CommonShingles,
    cache: RepresentativeCache,
    may_take: Callable[[FirstItem], bool],
) -> BatchCandidates:
    """The stored items sharing one of each item's keys (``PER_KEY`` newest per key),
    and the representatives of the stories each item will be compared with, of those
    that ``may_take`` it (``stories_to_compare``)."""
    found = BatchCandidates()
    keys = sorted({key for keys in keys_of for _, key in keys})
    if not keys:
        return found
    rows = await db.fetch(CANDIDATES[db.dialect], db.as_list(keys))
    stories_of: dict[int, set[int]] = {}
    first_items: dict[int, FirstItem | None] = {}  # by story: rows repeat them
    for row in rows:
        story = row["story_id"]
        if story not in first_items:
            first_items[story] = _first_item(row)
        candidate = Candidate(
            kind=row["kind"],
            item_id=row["item_id"],
            story_id=row["story_id"],
            feed_id=row["feed_id"],
            seen_at=from_epoch_required(row["seen_at"]),
            words=words_of_blob(row["words"]),
            seed=bool(row["seed"]),
            story=first_items[story],
        )
        found.add_found(row["key"], candidate)
        if candidate.kind in FUZZY_KINDS:
            stories_of.setdefault(row["key"], set()).add(candidate.story_id)
    # An anchor that many different stories share is template, not identity: it is no
    # anchor from now on, and carries no weight (a story's own copies share its anchors
    # but are one story).
    common.mark_busy(
        key & SHINGLE_MASK for key, owners in stories_of.items() if len(owners) >= BUSY_STORIES
    )
    wanted = {
        story for keys in keys_of for story in stories_to_compare(found.for_item(keys), may_take)
    }
    found.representatives.update(await cache.fetch(db, wanted))
    return found


def _first_item(row: Row) -> FirstItem | None:
    """A candidate row's story's first item (None: not stored any more)."""
    if row["first_feed"] is None:
        return None
    return FirstItem(
        row["first_feed"], from_epoch_required(row["first_seen"]), bool(row["first_seed"])
    )


class RepresentativeCache:
    """The representatives of recently compared stories, decoded once (a story's first
    item never changes), at most ``size`` of them."""

    def __init__(self, size: int = 8192) -> None:
        self.size = size
        self._held: OrderedDict[int, Representative] = OrderedDict()

    async def fetch(self, db: Db, stories: Collection[int]) -> dict[int, Representative]:
        """The representatives of these stories (those stored)."""
        found = {}
        missing = []
        for story in stories:
            held = self._held.get(story)
            if held is None:
                missing.append(story)
            else:
                self._held.move_to_end(story)
                found[story] = held
        if missing:
            for row in await db.fetch(
                "SELECT s.id AS story_id, i.id AS item_id, i.feed_id, i.first_seen_at,"
                " i.sketch, f.kind = 'seed' AS seed FROM stories s"
                " JOIN items i ON i.id = s.first_item_id JOIN feeds f ON f.id = i.feed_id"
                f" WHERE {db.any_of('s.id')}",
                db.as_list(sorted(missing)),
            ):
                found[row["story_id"]] = self._held[row["story_id"]] = Representative(
                    story_id=row["story_id"],
                    item_id=row["item_id"],
                    feed_id=row["feed_id"],
                    seen_at=from_epoch_required(row["first_seen_at"]),
                    sketch=sketch_from_blob(row["sketch"]),
                    seed=bool(row["seed"]),
                )
            while len(self._held) > self.size:
                self._held.popitem(last=False)
        return found

    def forget(self) -> None:
        """Drop every representative (after a transaction that may not have committed)."""
        self._held.clear()
