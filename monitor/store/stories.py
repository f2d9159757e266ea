"""Saving items into their stories, the same SQL on both backends (see ``dialect``):
a batch of new items (and new versions of stored ones), the candidates their identity
keys find, and what each watchlist decides per story. Reading them back is
``story_reads``; the stored sample, pruning and re-keying are ``story_upkeep``.

One batch is saved by ``save_items``, inside the caller's transaction:

1. the entries the feed has already are left out; new versions of stored entries
   (``NewItem.revision``) are looked up by their entry keys;
2. each new item's identity keys find candidates and their stories' representatives
   (``candidates``);
   ``dedupe.resolve_story`` decides each item's story in turn (an item may join a story
   started earlier in the batch), and every story started counts its sketch into the
   learned table of common shingles (``templates``), logged for other instances;
3. ``alerting.decide`` says what each matched watchlist does, from what it decided
   about the story before (``story_watch``);
4. the rows are written: stories, items, keys, outbox rows, decisions, versions;
5. each story an item joined is counted for the spread watchlists (``spreads``).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from monitor.alerting import Action, Heard, Verdict, decide
from monitor.dedupe import (
    FirstItem,
    StoryJoin,
    StoryPolicy,
    identity_keys,
    keys_for_own_batch,
    resolve_story,
)
from monitor.models import NewItem, SaveResult
from monitor.spread import SpreadRule
from monitor.store.candidates import RepresentativeCache, candidates_for
from monitor.store.dialect import Db
from monitor.store.rows import from_epoch_required, new_message_id, term_json
from monitor.store.sketches import log_blob, sketch_blob
from monitor.store.spreads import spread_alerts
from monitor.templates import CommonShingles

YIELD_EVERY = 16  # items resolved between two turns of the event loop

ITEM_INSERT_COLUMNS = (
    "id",
    "feed_id",
    "story_id",
    "entry_key",
    "guid",
    "link",
    "sketch",
    "joined_by",
    "similarity",
    "compared_with",
    "title",
    "summary",
    "content",
    "author",
    "published",
    "language",
    "entry_digest",
    "watchlists",
    "first_seen_at",
    "fulltext",
    "fulltext_note",
)
KEY_COLUMNS = ("key", "item_id", "kind", "story_id", "seen_at")
# A silent decision is kept until the watchlist alerts the story; an alert is final
# (the outbox's constraint holds it to one per notifier as well).
DECISION_UPSERT = """
    INSERT INTO story_watch (story_id, watchlist, state, item_id, feed_id, reason, decided_at)
    VALUES (?, ?, ?, ?, ?, ?, ?)
    ON CONFLICT (story_id, watchlist) DO UPDATE SET
        state = excluded.state, item_id = excluded.item_id, feed_id = excluded.feed_id,
        reason = excluded.reason, decided_at = excluded.decided_at
    WHERE story_watch.state <> 'alerted' AND excluded.state = 'alerted'
"""


@dataclass
class Plan:
    """The rows one batch adds or changes, and what it did."""

    stories: list[tuple[Any, ...]] = field(default_factory=list)
    items: list[tuple[Any, ...]] = field(default_factory=list)
    keys: list[tuple[Any, ...]] = field(default_factory=list)
    alerts: list[tuple[Any, ...]] = field(default_factory=list)
    follow_ups: list[tuple[Any, ...]] = field(default_factory=list)
    decisions: list[tuple[Any, ...]] = field(default_factory=list)
    revisions: list[tuple[Any, ...]] = field(default_factory=list)
    learned: list[tuple[int, ...]] = field(default_factory=list)  # new stories' samples
    joins: list[str] = field(default_factory=list)
    seeded_joins: set[int] = field(default_factory=set)


@dataclass
class StoryMemory:
    """What a store remembers between batches: the learned common shingles and the
    representatives it decoded lately."""

    common: CommonShingles = field(default_factory=CommonShingles)
    representatives: RepresentativeCache = field(default_factory=lambda: RepresentativeCache())


@dataclass(frozen=True, slots=True)
class Saved:
    """What ``save_items`` did, and how many identity rows it wrote."""

    result: SaveResult
    key_rows: int


async def save_items(
    db: Db,
    feed_id: int,
    items: Sequence[NewItem],
    now: float,
    *,
    alert: bool,
    policy: StoryPolicy,
    memory: StoryMemory,
    owner: str | None,
    seed: bool = False,
    spreads: Sequence[SpreadRule] = (),
) -> Saved:
    """Store a batch in the caller's transaction (see the module's docstring)."""
    if not items:
        return Saved(SaveResult(0, 0, 0), 0)
    await db.hold("stories")
    fresh = [new for new in items if new.revision is None]
    batch = await _not_stored(db, feed_id, fresh)
    revised = await _stored_versions(db, feed_id, [new for new in items if new.revision])
    plan = Plan()
    placed: list[tuple[NewItem, int, int]] = []  # (item, item id, story id) to decide
    if batch:
        await _plan_stories(db, feed_id, batch, now, policy, memory, seed, plan, placed)
    for new, (item_id, story_id, _) in revised:
        plan.revisions.append(_revision_row(item_id, new, now))
        placed.append((new, item_id, story_id))
    before = {item_id: watchlists for _, (item_id, _, watchlists) in revised}
    spread_names = frozenset(rule.watchlist for rule in spreads)
    await _decide(db, feed_id, placed, now, alert, seed, plan, before, spread_names)
    queued = await _write(db, plan, now, owner)
    if spreads and alert and not seed:
        begun = {row[0] for row in plan.stories}
        joined = [
            (item_id, story_id)
            for new, item_id, story_id in placed
            if new.revision is None and story_id not in begun
        ]
        if joined:
            queued += await spread_alerts(db, feed_id, joined, now, spreads, DECISION_UPSERT)
    matched = tuple(match.watchlist for new in batch for match in new.matches)
    result = SaveResult(len(plan.items), len(plan.stories), queued, tuple(plan.joins), matched)
    return Saved(result, len(plan.keys))


async def _not_stored(db: Db, feed_id: int, fresh: Sequence[NewItem]) -> list[NewItem]:
    """The items the feed does not have yet, each key once."""
    if not fresh:
        return []
    rows = await db.fetch(
        f"SELECT entry_key FROM items WHERE feed_id = ? AND {db.any_of('entry_key')}",
        feed_id,
        db.as_list([new.item.entry_key for new in fresh]),
    )
    present = {row["entry_key"] for row in rows}
    batch = []
    for new in fresh:
        if new.item.entry_key not in present:
            present.add(new.item.entry_key)
            batch.append(new)
    return batch


async def _stored_versions(
    db: Db, feed_id: int, revised: Sequence[NewItem]
) -> list[tuple[NewItem, tuple[int, int, frozenset[str]]]]:
    """Each new version with its stored item: (id, story id, watchlists it matched)."""
    if not revised:
        return []
    rows = await db.fetch(
        "SELECT id, story_id, entry_key, watchlists FROM items"
        f" WHERE feed_id = ? AND {db.any_of('entry_key')}",
        feed_id,
        db.as_list([new.item.entry_key for new in revised]),
    )
    stored = {
        row["entry_key"]: (
            row["id"],
            row["story_id"],
            frozenset(json.loads(row["watchlists"] or "[]")),
        )
        for row in rows
    }
    return [(new, stored[new.item.entry_key]) for new in revised if new.item.entry_key in stored]


async def _plan_stories(
    db: Db,
    feed_id: int,
    batch: Sequence[NewItem],
    now: float,
    policy: StoryPolicy,
    memory: StoryMemory,
    seed: bool,
    plan: Plan,
    placed: list[tuple[NewItem, int, int]],
) -> None:
    """Resolve each item's story and plan its rows."""
    moment = from_epoch_required(now)
    common = memory.common
    keys_of = [identity_keys(new.item, common.values) for new in batch]

    def may_take(first: FirstItem) -> bool:
        return first.takes(feed_id, moment, policy)

    index = await candidates_for(db, keys_of, common, memory.representatives, may_take)
    story_ids = iter(await db.reserve_ids("stories", len(batch)))
    item_ids = iter(await db.reserve_ids("items", len(batch)))
    for position, (new, keys) in enumerate(zip(batch, keys_of, strict=True), 1):
        if position % YIELD_EVERY == 0:
            # A long batch is resolved in slices, so other polls and sends get the loop.
            await asyncio.sleep(0)
        item = new.item
        item_id = next(item_ids)
        found = index.for_item(keys)
        join = resolve_story(
            item, feed_id, moment, found, index.representatives, policy, common.values
        )
        started = join is None
        if join is None:
            join = StoryJoin(next(story_ids), "")
            plan.stories.append((join.story_id, now, item_id, seed))
            if item.sketch is not None and not seed:
                plan.learned.append(item.sketch.sample)
        else:
            plan.joins.append(join.by)
            if seed:
                plan.seeded_joins.add(join.story_id)
        own = keys_for_own_batch(keys, started=started)
        index.add_item(
            item, item_id, join.story_id, feed_id, moment, own, started=started, seed=seed
        )
        plan.items.append(_item_row(item_id, feed_id, new, join, now))
        plan.keys += [(key, item_id, kind, join.story_id, now) for kind, key in keys]
        placed.append((new, item_id, join.story_id))
    # What the batch's new stories share with the recent ones is learned for the next.
    common.count(plan.learned)


def _item_row(
    item_id: int, feed_id: int, new: NewItem, join: StoryJoin, now: float
) -> tuple[Any, ...]:
    item = new.item
    return (
        item_id,
        feed_id,
        join.story_id,
        item.entry_key,
        item.guid,
        item.link,
        sketch_blob(item.sketch),
        join.by or None,
        join.similarity,
        join.compared_with,
        item.title,
        item.summary,
        item.content,
        item.author,
        None if item.published is None else item.published.timestamp(),
        item.language,
        item.digest,
        _watchlists_json(new),
        now,
        item.fulltext,
        item.fulltext_note,
    )


def _watchlists_json(new: NewItem) -> str:
    return json.dumps(sorted({match.watchlist for match in new.matches}), ensure_ascii=False)


def _revision_row(item_id: int, new: NewItem, now: float) -> tuple[Any, ...]:
    item = new.item
    return (
        item.title,
        item.summary,
        item.content,
        item.author,
        None if item.published is None else item.published.timestamp(),
        item.language,
        item.link,
        item.guid,
        item.digest,
        _watchlists_json(new),
        now,
        item_id,
    )


async def _decide(
    db: Db,
    feed_id: int,
    placed: Sequence[tuple[NewItem, int, int]],
    now: float,
    alert: bool,
    seed: bool,
    plan: Plan,
    matched_before: Mapping[int, frozenset[str]],
    spread_names: frozenset[str] = frozenset(),
) -> None:
    """What each matched watchlist does about each placed item: plans the outbox rows
    and the decisions. A spread watchlist's matches only choose which stories it
    counts (``spreads``): they alert nothing by themselves."""
    if spread_names:
        placed = [
            (_without(new, spread_names), item_id, story_id) for new, item_id, story_id in placed
        ]
    matched = [(new, item_id, story_id) for new, item_id, story_id in placed if new.matches]
    if not matched:
        return
    stories = sorted({story_id for _, _, story_id in matched})
    heard, known, muted = await _story_state(db, stories, now)
    known |= plan.seeded_joins
    known |= {row[0] for row in plan.stories if row[3]}
    for new, item_id, story_id in matched:
        state = heard.setdefault(story_id, {})
        verdicts = decide(
            new,
            feed_id,
            state,
            alert=alert and not seed,
            known_story=story_id in known,
            matched_before=matched_before.get(item_id, ()),
            muted=story_id in muted,
        )
        for verdict in verdicts:
            _plan_verdict(plan, verdict, item_id, story_id, feed_id, now)
            if verdict.action is Action.ALERT:
                state[verdict.match.watchlist] = Heard("alerted", item_id, feed_id)
            elif verdict.action is Action.SILENT and verdict.match.watchlist not in state:
                state[verdict.match.watchlist] = Heard("silent", item_id, feed_id)


def _without(new: NewItem, watchlists: frozenset[str]) -> NewItem:
    if not any(match.watchlist in watchlists for match in new.matches):
        return new
    return replace(
        new, matches=tuple(match for match in new.matches if match.watchlist not in watchlists)
    )


async def _story_state(
    db: Db, stories: Sequence[int], now: float
) -> tuple[dict[int, dict[str, Heard]], set[int], set[int]]:
    """What each watchlist decided per story, which stories the stored sample holds, and
    which are muted at ``now``."""
    heard: dict[int, dict[str, Heard]] = {}
    for row in await db.fetch(
        "SELECT story_id, watchlist, state, item_id, feed_id FROM story_watch"
        f" WHERE {db.any_of('story_id')}",
        db.as_list(stories),
    ):
        heard.setdefault(row["story_id"], {})[row["watchlist"]] = Heard(
            row["state"], row["item_id"], row["feed_id"]
        )
    known: set[int] = set()
    muted: set[int] = set()
    for row in await db.fetch(
        "SELECT id, seeded,"
        " (muted_at IS NOT NULL AND (muted_until IS NULL OR muted_until > ?)) AS muted"
        f" FROM stories WHERE {db.any_of('id')} AND (seeded = TRUE OR muted_at IS NOT NULL)",
        now,
        db.as_list(stories),
    ):
        if row["seeded"]:
            known.add(row["id"])
        if row["muted"]:
            muted.add(row["id"])
    return heard, known, muted


def _plan_verdict(
    plan: Plan, verdict: Verdict, item_id: int, story_id: int, feed_id: int, now: float
) -> None:
    match = verdict.match
    if verdict.action is Action.SILENT:
        plan.decisions.append(
            (story_id, match.watchlist, "silent", item_id, feed_id, verdict.reason, now)
        )
        return
    matched = json.dumps([term_json(term) for term in match.terms], ensure_ascii=False)
    if verdict.action is Action.ALERT:
        reason = "update" if verdict.update else None
        plan.decisions.append((story_id, match.watchlist, "alerted", item_id, feed_id, reason, now))
        plan.alerts += [
            (
                new_message_id(),
                match.watchlist,
                story_id,
                item_id,
                notifier,
                matched,
                verdict.update,
                now,
                now,
            )
            for notifier in match.notifiers
        ]
        return
    slot = int(now // 3600)
    # The watchlist, story and notifier come twice: in the row and in its condition.
    plan.follow_ups += [
        (
            *(slot, new_message_id(), match.watchlist, story_id, item_id, notifier, matched),
            *(now, now, match.watchlist, story_id, notifier, feed_id),
        )
        for notifier in match.notifiers
    ]


async def _write(db: Db, plan: Plan, now: float, owner: str | None) -> int:
    """Write the plan's rows; how many alerts and follow-ups were queued."""
    queued = 0
    if plan.stories:
        await db.execute_each(
            "INSERT INTO stories (id, created_at, first_item_id, seeded) VALUES (?, ?, ?, ?)",
            plan.stories,
        )
    if plan.items:
        await db.insert_rows("items", ITEM_INSERT_COLUMNS, plan.items)
    if plan.keys:
        await db.insert_rows("story_keys", KEY_COLUMNS, plan.keys)
    if plan.seeded_joins:
        await db.execute(
            f"UPDATE stories SET seeded = TRUE WHERE {db.any_of('id')}",
            db.as_list(sorted(plan.seeded_joins)),
        )
    if plan.revisions:
        await db.execute_each(
            "UPDATE items SET title = ?, summary = ?, content = ?, author = ?, published = ?,"
            " language = ?, link = ?, guid = ?, entry_digest = ?, watchlists = ?,"
            " revised_at = ? WHERE id = ?",
            plan.revisions,
        )
    if plan.alerts:
        queued += await db.execute_each(
            """
            INSERT INTO deliveries (message_id, watchlist, story_id, item_id, notifier,
                matched, is_update, next_attempt_at, created_at)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
            ON CONFLICT (kind, watchlist, story_id, notifier, slot) DO NOTHING
            """,
            plan.alerts,
        )
    if plan.follow_ups:
        # Only for a story that was alerted to this notifier, from another feed: a copy
        # of a seed never speaks up.
        queued += await db.execute_each(
            """
            INSERT INTO deliveries (kind, slot, message_id, watchlist, story_id, item_id,
                notifier, matched, next_attempt_at, created_at)
            SELECT 'follow_up', ?, ?, ?, ?, ?, ?, ?, ?, ? WHERE EXISTS (
                SELECT 1 FROM deliveries d JOIN items i ON i.id = d.item_id
                WHERE d.kind = 'alert' AND d.watchlist = ? AND d.story_id = ?
                    AND d.notifier = ? AND i.feed_id <> ?)
            ON CONFLICT (kind, watchlist, story_id, notifier, slot) DO NOTHING
            """,
            plan.follow_ups,
        )
    if plan.decisions:
        await db.execute_each(DECISION_UPSERT, plan.decisions)
    if plan.learned:
        await db.execute(
            "INSERT INTO shingle_log (owner, at, stories, hashes) VALUES (?, ?, ?, ?)",
            owner,
            now,
            len(plan.learned),
            log_blob(plan.learned),
        )
    return queued
