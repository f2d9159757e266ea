"""What a batch of new items becomes in the store, decided without touching it.

``plan_batch`` resolves each item's story from the candidates its identity keys found
(and from the items before it in the batch) and returns the rows to insert: stories,
items, identity keys, alerts and follow-ups. Every backend inserts them its own way, so
the story rules live here once, not in each backend's SQL.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from monitor.dedupe import BatchCandidates, StoryJoin, StoryPolicy, identity_keys, resolve_story
from monitor.models import NewItem
from monitor.store.rows import follow_up_rows, from_epoch_required, item_row, outbox_rows

YIELD_EVERY = 16  # items resolved between two turns of the event loop


@dataclass
class BatchPlan:
    """The rows one batch adds, in the column orders of ``rows``."""

    stories: list[tuple[int, float]] = field(default_factory=list)
    items: list[tuple[Any, ...]] = field(default_factory=list)
    #: (key, item_id, kind, story_id, feed_id, seen_at)
    keys: list[tuple[Any, ...]] = field(default_factory=list)
    outbox: list[tuple[Any, ...]] = field(default_factory=list)
    follow_ups: list[tuple[Any, ...]] = field(default_factory=list)
    #: why each item that joined a known story joined it
    joins: list[str] = field(default_factory=list)


async def plan_batch(
    batch: Sequence[NewItem],
    feed_id: int,
    now: float,
    candidates: BatchCandidates,
    policy: StoryPolicy,
    story_ids: Iterator[int],
    item_ids: Iterator[int],
    *,
    alert: bool,
) -> BatchPlan:
    """The rows for ``batch`` (items the feed does not have yet), ids drawn from the
    iterators. Alerts are planned for matched items that start a story (when ``alert``),
    follow-ups for matched items that join one."""
    plan = BatchPlan()
    moment = from_epoch_required(now)
    for position, new in enumerate(batch, 1):
        item = new.item
        item_id = next(item_ids)
        item_keys = identity_keys(item)
        join = resolve_story(item, feed_id, moment, candidates.for_item(item, item_keys), policy)
        if join is None:
            join = StoryJoin(next(story_ids), "")
            plan.stories.append((join.story_id, now))
            if alert:
                plan.outbox += outbox_rows(item_id, join.story_id, new, now)
        else:
            plan.joins.append(join.by)
            if alert:
                plan.follow_ups += follow_up_rows(item_id, join.story_id, feed_id, new, now)
        candidates.add_item(item, item_id, join.story_id, feed_id, moment, item_keys)
        plan.items.append(item_row(item_id, feed_id, item, join, now))
        plan.keys += [(key, item_id, kind, join.story_id, feed_id, now) for kind, key in item_keys]
        if position % YIELD_EVERY == 0:
            # A long feed is resolved in slices, so other polls and sends get the loop.
            await asyncio.sleep(0)
    return plan
