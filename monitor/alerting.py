"""Who hears of a story: the alert decision, a pure function apart from identity.

Identity answers "which story is this item"; this answers "which watchlists hear of it".
The rule, for each watchlist an item matches (``decide``):

- a watchlist alerts a story the first time an item of that story matches it within the
  watchlist's scope and age rules, whether the story is new or not: a lead that says
  "truce" alerts ``truce``; the full report that joins it and names Karabakh still
  alerts ``karabakh``;
- a story the watchlist has already alerted sends only a follow-up, when the watchlist
  asks for them, and only from another feed than the one that alerted it;
- an entry edited in place that now matches a watchlist it did not match before alerts
  it once, as an update (the item and its story stay what they were);
- silent, with the reason kept: a match outside the watchlist's scope or age
  (``Match.silenced``), an item found by a feed's first poll (baseline), a story of the
  stored sample (seeds are known stories), a story someone muted (``stories mute``: no
  alert to a further watchlist and no follow-up while the mute lasts). A silent match
  never stops a later item of the story from alerting, except the seed's: a copy of a
  known story never alerts.

The store keeps what each watchlist decided per story (``story_watch``, unique on both
backends) and the outbox keeps one alert per (watchlist, story, notifier) as a
constraint; this function only says what to write.
"""

from __future__ import annotations

import enum
from collections.abc import Collection, Mapping
from dataclasses import dataclass

from monitor.models import Match, NewItem, Revision

BASELINE = "baseline: found by the feed's first poll"
KNOWN_STORY = "known story: the stored sample holds it"
MUTED = "muted: someone muted the story (stories mute)"


class Action(enum.StrEnum):
    """What a watchlist does about one item of a story."""

    ALERT = "alert"
    FOLLOW_UP = "follow_up"
    SILENT = "silent"


@dataclass(frozen=True, slots=True)
class Heard:
    """What a watchlist decided about a story so far: ``alerted`` or ``silent``, and the
    item (and its feed) it decided on."""

    state: str
    item_id: int
    feed_id: int

    @property
    def alerted(self) -> bool:
        """The watchlist has alerted this story."""
        return self.state == "alerted"


@dataclass(frozen=True, slots=True)
class Verdict:
    """One watchlist's decision about one item: the match, what to do, and why it is
    silent; ``update`` for an alert about an entry edited to match."""

    match: Match
    action: Action
    reason: str | None = None
    update: bool = False


def decide(
    new: NewItem,
    feed_id: int,
    heard: Mapping[str, Heard],
    *,
    alert: bool,
    known_story: bool,
    matched_before: Collection[str] = (),
    muted: bool = False,
) -> list[Verdict]:
    """What each watchlist the item matched does about it.

    ``heard``: what each watchlist decided about the item's story before (by name);
    ``alert``: False for a feed's first poll (a baseline) and the stored sample;
    ``known_story``: the story holds an item of the stored sample; ``matched_before``:
    for an edited entry, the watchlists its previous version matched; ``muted``: the
    story is muted now.
    """
    if new.revision is Revision.REREAD:
        return []  # the version is recorded; nothing is news
    verdicts: list[Verdict] = []
    for match in new.matches:
        before = heard.get(match.watchlist)
        if before is not None and before.alerted:
            if muted:
                continue  # no follow-up for a muted story
            if new.revision is None and match.follow_ups and before.feed_id != feed_id:
                verdicts.append(Verdict(match, Action.FOLLOW_UP))
            continue
        if new.revision is Revision.EDITED and match.watchlist in matched_before:
            continue  # it matched before this edit: the edit is no news to this watchlist
        reason = (
            KNOWN_STORY if known_story else MUTED if muted else None if alert else BASELINE
        ) or match.silenced
        if reason is not None:
            verdicts.append(Verdict(match, Action.SILENT, reason))
            continue
        verdicts.append(Verdict(match, Action.ALERT, update=new.revision is Revision.EDITED))
    return verdicts
