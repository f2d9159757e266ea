"""The one schedule rule, ``decide``: every politeness rule on fixed moments."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest

from monitor.schedule import Answer, PollPolicy, decide, parse_retry_after, server_freshness

NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
POLICY = PollPolicy(interval=timedelta(minutes=10))


def ok(**options: object) -> Answer:
    headers = options.pop("headers", {})
    return Answer(200, headers, ok=True, **options)  # type: ignore[arg-type]


def failed(status: int | None, **headers: str) -> Answer:
    return Answer(
        status, {key.replace("_", "-"): value for key, value in headers.items()}, ok=False
    )


def delay(answer: Answer, failures: int = 0, policy: PollPolicy = POLICY) -> timedelta:
    return decide(policy, failures, answer, NOW, random.Random(1)).next_poll_at - NOW


def near(value: timedelta, expected: timedelta, spread: float) -> bool:
    return expected * (1 - spread) <= value <= expected * (1 + spread)


def test_the_interval_when_the_server_and_feed_say_nothing() -> None:
    decision = decide(POLICY, 0, ok(), NOW, random.Random(1))
    assert decision.reason == "interval"
    assert near(decision.next_poll_at - NOW, timedelta(minutes=10), 0.05)


@pytest.mark.parametrize(
    ("answer", "expected", "reason"),
    [
        (
            ok(headers={"cache-control": "public, max-age=3600"}),
            timedelta(hours=1),
            "cache-control",
        ),
        (
            ok(headers={"cache-control": "max-age=60, s-maxage=7200"}),
            timedelta(hours=2),
            "cache-control",
        ),
        (ok(headers={"expires": "Sat, 28 Nov 2026 14:00:00 GMT"}), timedelta(hours=2), "expires"),
        (ok(declared_interval=timedelta(minutes=60)), timedelta(hours=1), "ttl"),
        # The configured interval is a floor: a short max-age never polls more often.
        (ok(headers={"cache-control": "max-age=30"}), timedelta(minutes=10), "interval"),
        (
            ok(headers={"cache-control": "no-cache, max-age=3600"}),
            timedelta(minutes=10),
            "interval",
        ),
        (ok(headers={"expires": "0"}), timedelta(minutes=10), "interval"),
    ],
)
def test_freshness_is_the_longest_of_what_we_and_they_say(
    answer: Answer, expected: timedelta, reason: str
) -> None:
    decision = decide(POLICY, 0, answer, NOW, random.Random(1))
    assert decision.reason == reason
    assert near(decision.next_poll_at - NOW, expected, 0.05)


def test_freshness_is_capped_by_max_interval() -> None:
    week = ok(headers={"cache-control": "max-age=604800"})
    decision = decide(POLICY, 0, week, NOW, random.Random(1))
    assert decision.reason == "cache-control (capped)"
    assert near(decision.next_poll_at - NOW, timedelta(hours=24), 0.05)


@pytest.mark.parametrize("status", [429, 503])
def test_retry_after_holds_the_whole_host_within_max_interval(status: int) -> None:
    decision = decide(POLICY, 0, failed(status, retry_after="3600"), NOW)
    assert decision.reason == "retry-after"
    assert decision.next_poll_at == decision.host_hold_until == NOW + timedelta(hours=1)
    dated = failed(status, retry_after="Sat, 28 Nov 2026 12:30:00 GMT")
    assert decide(POLICY, 0, dated, NOW).host_hold_until == NOW + timedelta(minutes=30)
    short = PollPolicy(timedelta(minutes=10), max_interval=timedelta(minutes=20))
    assert decide(short, 0, failed(status, retry_after="86400"), NOW).host_hold_until == (
        NOW + timedelta(minutes=20)
    )


def test_without_retry_after_a_429_backs_off_and_holds_no_one() -> None:
    decision = decide(POLICY, 0, failed(429), NOW, random.Random(1))
    assert (decision.reason, decision.host_hold_until) == ("backoff", None)


def test_errors_back_off_doubling_with_jitter_up_to_max_backoff() -> None:
    for failures, step in [(0, 10), (1, 20), (2, 40), (3, 80), (4, 160), (5, 320), (9, 360)]:
        for seed in range(20):
            wait = (
                decide(POLICY, failures, failed(500), NOW, random.Random(seed)).next_poll_at - NOW
            )
            assert near(wait, timedelta(minutes=step), 0.2), (failures, wait)
    lenient = PollPolicy(timedelta(minutes=10), max_backoff=timedelta(hours=1))
    assert delay(failed(None), 8, lenient) <= timedelta(hours=1.2)


def test_a_success_after_failures_goes_back_to_the_interval() -> None:
    assert near(delay(ok(), failures=7), timedelta(minutes=10), 0.05)


def test_410_stops_the_feed() -> None:
    decision = decide(POLICY, 0, failed(410), NOW)
    assert decision.gone and decision.reason == "gone"


def test_a_permanent_redirect_moves_the_feed_and_a_temporary_one_does_not() -> None:
    moved = ok(final_url="https://new.example/feed", permanent_redirect=True)
    assert decide(POLICY, 0, moved, NOW).moved_to == "https://new.example/feed"
    temporary = ok(final_url="https://new.example/feed", permanent_redirect=False)
    assert decide(POLICY, 0, temporary, NOW).moved_to is None


def test_header_parsing() -> None:
    assert parse_retry_after("120", NOW) == timedelta(minutes=2)
    assert parse_retry_after("soon", NOW) is None
    assert parse_retry_after("Sat, 28 Nov 2026 11:00:00 GMT", NOW) == timedelta(0)  # past
    assert server_freshness({"cache-control": "no-store"}, NOW) is None
    assert server_freshness({"expires": "not a date"}, NOW) is None


def test_a_learned_cadence_counts_only_when_adaptive() -> None:
    weekly = ok(learned_interval=timedelta(days=3, hours=12))
    adaptive = PollPolicy(timedelta(minutes=10), adaptive=True)
    decision = decide(adaptive, 0, weekly, NOW, random.Random(1))
    assert decision.reason == "learned cadence (capped)"  # a quiet blog: daily at most
    assert near(decision.next_poll_at - NOW, timedelta(hours=24), 0.05)
    hourly = ok(learned_interval=timedelta(minutes=30))
    assert decide(adaptive, 0, hourly, NOW).reason == "learned cadence"
    busy = ok(learned_interval=timedelta(minutes=1))  # a busy wire: never under the interval
    assert decide(adaptive, 0, busy, NOW).reason == "interval"
    assert decide(POLICY, 0, weekly, NOW).reason == "interval"  # adaptive is off by default
