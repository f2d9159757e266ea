"""Counting each feed's polls per day in memory, and naming how a day went."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from monitor.models import FeedState
from monitor.outcome import PollOutcome
from monitor.poll_days import PollDay, PollDays, day_health

NOW = datetime(2026, 12, 7, 23, 59, tzinfo=UTC)
TODAY = int(NOW.timestamp() // 86_400)


def feed(feed_id: int, stale: bool = False) -> FeedState:
    return FeedState(
        feed_id, f"https://{feed_id}.example/feed", None, None, timedelta(minutes=10),
        True, True, None, None, NOW, 0, None,
        stale_since=NOW - timedelta(days=4) if stale else None,
    )  # fmt: skip


def test_polls_are_counted_per_feed_and_day_until_taken() -> None:
    clock = [NOW]
    days = PollDays(lambda: clock[0])
    days.add(PollOutcome(feed(1), "updated"))
    days.add(PollOutcome(feed(1), "failed", error="HTTP 503"))
    days.add(PollOutcome(feed(1), "dropped"))  # cut off by its lease: failed, as shown
    days.add(PollOutcome(feed(2, stale=True), "not-modified"))
    clock[0] = NOW + timedelta(minutes=2)  # past midnight: a new day
    days.add(PollOutcome(feed(1), "not-modified"))
    taken = days.take()
    assert sorted(taken, key=lambda day: (day.feed_id, day.day)) == [
        PollDay(1, TODAY, 3, 2, False),
        PollDay(1, TODAY + 1, 1, 0, False),
        PollDay(2, TODAY, 1, 0, True),
    ]
    assert days.take() == []  # taken once


def test_counts_the_store_did_not_take_are_kept_for_the_next_try() -> None:
    days = PollDays(lambda: NOW)
    days.add(PollOutcome(feed(1), "updated"))
    refused = days.take()
    days.add(PollOutcome(feed(1), "failed"))
    days.give_back(refused)
    assert days.take() == [PollDay(1, TODAY, 2, 1, False)]


def test_a_day_is_named_by_how_its_polls_went() -> None:
    assert day_health(None) == "unpolled"
    assert day_health(PollDay(1, TODAY, 0, 0, False)) == "unpolled"
    assert day_health(PollDay(1, TODAY, 4, 4, True)) == "failing"
    assert day_health(PollDay(1, TODAY, 4, 1, True)) == "flaky"
    assert day_health(PollDay(1, TODAY, 4, 0, True)) == "stale"
    assert day_health(PollDay(1, TODAY, 4, 0, False)) == "ok"
