"""Feeds' health as the operator hears of it: an observer of poll outcomes (beside the
metrics) that says, through the outbox and the log, once per change, that a feed is
failing, works again, moved, is gone, fell silent far longer than usual, or publishes
again."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from monitor.logs import feed_ids
from monitor.models import FeedState
from monitor.outcome import PollOutcome
from monitor.redact import without_userinfo
from monitor.views import iso_utc

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class HealthRules:
    """Who hears about a feed's health, and after how many failures in a row."""

    notify: tuple[str, ...] = ()
    after: int = 3
    stale_after: timedelta | None = timedelta(days=3)


class HealthWrites(Protocol):
    """What the observer writes: notices, and a feed's silence."""

    async def queue_notice(self, notifiers: Sequence[str], text: str, now: datetime) -> int:
        """Queue an operator notice to each notifier; how many were queued."""

    async def mark_stale(self, feed_id: int, since: datetime | None) -> None:
        """Record that a feed went silent (None: it publishes again)."""


class FeedHealth:
    """Turns poll outcomes into operator notices by ``rules``."""

    def __init__(self, store: HealthWrites, clock: Callable[[], datetime]) -> None:
        self.store = store
        self.clock = clock
        self.rules = HealthRules()

    async def observe(self, outcome: PollOutcome) -> None:
        """Say what this outcome changes about its feed's health, if anything."""
        feed, decision = outcome.feed, outcome.decision
        if outcome.status == "failed" and decision is not None:
            if decision.gone:
                await self._tell(
                    f"Feed {feed.display_name} ({feed.shown_url}) answered 410 Gone: it is no"
                    " longer polled; its items stay. If it comes back, run"
                    f" `news-monitor feeds revive {feed.shown_url}`.",
                    feed,
                )
            elif feed.error_count + 1 == self.rules.after:
                await self._tell(
                    f"Feed {feed.display_name} ({feed.shown_url}) is failing:"
                    f" {feed.error_count + 1} polls in a row, the last: {outcome.error}."
                    f" Next try {iso_utc(decision.next_poll_at)}.",
                    feed,
                )
            return
        if outcome.status in ("updated", "not-modified") and decision is not None:
            if feed.error_count >= self.rules.after:
                await self._tell(
                    f"Feed {feed.display_name} ({feed.shown_url}) works again after"
                    f" {feed.error_count} failed polls.",
                    feed,
                )
            if decision.moved_to is not None:
                await self._tell(
                    f"Feed {feed.display_name} moved permanently to"
                    f" {without_userinfo(decision.moved_to)}; it is polled there from now"
                    " on. Put the new URL in the configuration when convenient (see"
                    " docs/operations.md: Polling).",
                    feed,
                )
        if outcome.status in ("updated", "not-modified", "pushed"):
            await self._check_silence(feed, new_items=outcome.stored > 0)

    async def _check_silence(self, feed: FeedState, new_items: bool) -> None:
        """One notice when a feed falls silent far longer than usual, one when it
        publishes again."""
        if new_items:
            if feed.stale_since is not None:
                await self.store.mark_stale(feed.id, None)
                await self._tell(
                    f"Feed {feed.display_name} ({feed.shown_url}) publishes again.", feed
                )
            return
        limit = self.rules.stale_after
        if limit is None or feed.stale_since is not None or feed.last_new_item_at is None:
            return
        if feed.learned_interval is not None:
            limit = max(limit, feed.learned_interval * 2 * 4)  # four of its usual gaps
        now = self.clock()
        if now - feed.last_new_item_at > limit:
            await self.store.mark_stale(feed.id, now)
            await self._tell(
                f"Feed {feed.display_name} ({feed.shown_url}) has brought nothing new since"
                f" {iso_utc(feed.last_new_item_at)}, far longer than usual; it answers, but"
                " it may have stopped being updated or moved without a redirect.",
                feed,
            )

    async def _tell(self, text: str, feed: FeedState) -> None:
        """An operator notice about a feed through the outbox (and the log)."""
        log.warning("%s", text, extra=feed_ids(feed.id, feed.url))
        if self.rules.notify:
            await self.store.queue_notice(self.rules.notify, text, self.clock())
