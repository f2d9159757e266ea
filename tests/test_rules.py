"""Retry schedules, token buckets, quiet hours and digest times, on fixed moments."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest

from monitor.notify.rules import (
    DEFAULT_RETRY,
    DigestSchedule,
    QuietHours,
    RetrySchedule,
    TokenBucket,
    parse_timezone,
)

PARIS = parse_timezone("Europe/Paris")


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def test_the_default_schedule_is_eight_attempts_over_about_eighteen_hours() -> None:
    schedule = RetrySchedule()
    rng = random.Random(1)
    delays = [schedule.delay_after(attempt, rng) for attempt in range(1, 9)]
    assert delays[-1] is None and None not in delays[:-1]
    expected = list(DEFAULT_RETRY)
    for delay, planned in zip(delays[:-1], expected, strict=True):
        assert delay is not None
        assert planned <= delay <= planned * 1.1  # jitter only ever adds, at most 10%
    assert schedule.attempts == 8


def test_the_last_delay_repeats_until_max_attempts() -> None:
    schedule = RetrySchedule((timedelta(0), timedelta(minutes=1)), max_attempts=5)
    rng = random.Random(2)
    delays = [schedule.delay_after(attempt, rng) for attempt in range(1, 6)]
    assert delays[0] == timedelta(0)
    assert all(d is not None and timedelta(minutes=1) <= d for d in delays[1:4])
    assert delays[4] is None


def test_retry_after_is_a_floor_never_a_ceiling() -> None:
    schedule = RetrySchedule((timedelta(seconds=5),))
    rng = random.Random(3)
    assert schedule.delay_after(1, rng, timedelta(minutes=10)) == timedelta(minutes=10)
    delay = schedule.delay_after(1, rng, timedelta(seconds=1))
    assert delay is not None and delay >= timedelta(seconds=5)


def test_a_token_bucket_allows_its_burst_then_its_rate() -> None:
    bucket = TokenBucket(messages=1, per=timedelta(seconds=1), burst=3)
    now = at("2026-01-01T00:00:00")
    assert bucket.available(now) == 3
    for _ in range(3):
        assert bucket.wait(now) == timedelta(0)
        bucket.take(now)
    assert bucket.wait(now) == timedelta(seconds=1)
    assert bucket.available(now + timedelta(milliseconds=2500)) == 2
    assert bucket.available(now + timedelta(hours=1)) == 3  # never more than the burst


def test_quiet_hours_that_span_midnight_end_the_next_morning_local_time() -> None:
    quiet = QuietHours.parse("22:00-07:00", PARIS)
    # 21:30 UTC is 22:30 in Paris in winter (UTC+1): quiet until 07:00 Paris = 06:00 UTC.
    assert quiet.until(at("2026-01-10T21:30:00")) == at("2026-01-11T06:00:00")
    # 05:59 UTC is 06:59 Paris: still quiet, ends a minute later.
    assert quiet.until(at("2026-01-11T05:59:00")) == at("2026-01-11T06:00:00")
    assert quiet.until(at("2026-01-11T06:00:00")) is None
    assert quiet.until(at("2026-01-11T12:00:00")) is None
    # In summer Paris is UTC+2: the same local window moves an hour in UTC.
    assert quiet.until(at("2026-07-10T20:30:00")) == at("2026-07-11T05:00:00")


def test_daytime_quiet_hours_and_bad_windows() -> None:
    quiet = QuietHours.parse("12:00-13:30", parse_timezone("UTC"))
    assert quiet.until(at("2026-01-10T12:10:00")) == at("2026-01-10T13:30:00")
    assert quiet.until(at("2026-01-10T13:30:00")) is None
    for bad in ("22-07", "25:00-07:00", "07:00-07:00", "noon-1pm"):
        with pytest.raises(ValueError, match="quiet hours"):
            QuietHours.parse(bad, PARIS)


def test_digest_times_follow_the_cron_in_its_time_zone() -> None:
    digest = DigestSchedule.parse("0 8 * * *", PARIS)
    assert digest.next_after(at("2026-01-10T06:59:00")) == at("2026-01-10T07:00:00")
    # Exactly at the digest time, the next one is tomorrow's.
    assert digest.next_after(at("2026-01-10T07:00:00")) == at("2026-01-11T07:00:00")
    weekdays = DigestSchedule.parse("30 9 * * mon-fri", parse_timezone("UTC"))
    # 2026-01-10 is a Saturday: the next is Monday 09:30.
    assert weekdays.next_after(at("2026-01-10T10:00:00")) == at("2026-01-12T09:30:00")
    with pytest.raises(ValueError, match="invalid cron expression"):
        DigestSchedule.parse("every morning", PARIS)


def test_unknown_time_zones_are_refused() -> None:
    with pytest.raises(ValueError, match="unknown time zone"):
        parse_timezone("Mars/Olympus")
