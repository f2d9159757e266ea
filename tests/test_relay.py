"""The relay against a real receiver: retries, Retry-After, hangs, dead letters, isolation."""

from __future__ import annotations

import asyncio
import base64
import itertools
import json
import logging
import random
from collections import Counter
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from standardwebhooks.webhooks import Webhook

from monitor.models import DeliveryStatus, Message
from monitor.notify.base import Channel, Notifier
from monitor.notify.relay import Relay, WatchlistTiming
from monitor.notify.rules import (
    DigestSchedule,
    QuietHours,
    RetrySchedule,
    TokenBucket,
    parse_timezone,
)
from monitor.notify.slack import SlackNotifier
from monitor.notify.webhook import WebhookNotifier
from monitor.store import Store
from tests.support.servers import Receiver
from tests.support.values import FakeClock, queue_alerts


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as client:
        yield client


KEY = b"0123456789abcdef0123456789abcdef"
SCHEDULE = (timedelta(seconds=10), timedelta(seconds=20), timedelta(minutes=1))


def relay_for(
    store: Store,
    clock: FakeClock,
    notifiers: dict[str, Notifier],
    max_attempts: int = 12,
) -> Relay:
    channels = {
        name: Channel(notifier, RetrySchedule(SCHEDULE, max_attempts))
        for name, notifier in notifiers.items()
    }
    return Relay(store, channels, clock, random.Random(7))


def hook(
    session: aiohttp.ClientSession, receiver: Receiver, clock: FakeClock, seconds: float = 5
) -> WebhookNotifier:
    return WebhookNotifier(session, receiver.url(), None, timedelta(seconds=seconds), clock)


async def only(store: Store) -> Message:
    (delivery,) = await store.deliveries()
    return delivery


async def test_500_is_retried_with_backoff_and_the_same_id(
    store: Store, receiver: Receiver, session: aiohttp.ClientSession
) -> None:
    clock = FakeClock()
    await queue_alerts(store, [("a", "Truce in Karabakh")])
    relay = relay_for(store, clock, {"hook": hook(session, receiver, clock)})
    receiver.answers.append(web.Response(status=500, text="down"))
    first = await relay.deliver_due()
    assert (first.sent, first.retrying, first.failures) == (
        0,
        1,
        ["delivery 1 to hook: HTTP 500: down"],
    )
    waiting = await only(store)
    assert waiting.status is DeliveryStatus.PENDING
    assert waiting.last_error == "HTTP 500: down"
    assert clock.now + timedelta(seconds=5) <= waiting.next_attempt_at
    assert (await relay.deliver_due()).sent == 0  # not due yet
    clock.now = waiting.next_attempt_at
    assert (await relay.deliver_due()).sent == 1
    assert (await only(store)).status is DeliveryStatus.SENT
    first_id, second_id = (headers["webhook-id"] for headers, _ in receiver.requests)
    assert first_id == second_id


async def test_429_retry_after_is_honoured(
    store: Store, receiver: Receiver, session: aiohttp.ClientSession
) -> None:
    clock = FakeClock()
    await queue_alerts(store, [("a", "Truce in Karabakh")])
    relay = relay_for(store, clock, {"hook": hook(session, receiver, clock)})
    receiver.answers.append(web.Response(status=429, headers={"Retry-After": "600"}))
    report = await relay.deliver_due()
    assert (report.throttled, report.retrying, report.dead) == (1, 0, 0)
    waiting = await only(store)
    assert waiting.next_attempt_at >= clock.now + timedelta(seconds=600)
    assert waiting.attempts == 0  # a 429 is the receiver pacing us, not a failed attempt
    clock.advance(seconds=599)
    assert (await relay.deliver_due()).sent == 0
    clock.advance(seconds=2)
    assert (await relay.deliver_due()).sent == 1


async def test_a_hanging_receiver_times_out_and_is_retried(
    store: Store, receiver: Receiver, session: aiohttp.ClientSession
) -> None:
    clock = FakeClock()
    await queue_alerts(store, [("a", "Truce in Karabakh")])
    relay = relay_for(store, clock, {"hook": hook(session, receiver, clock, seconds=0.3)})
    receiver.answers.append(5.0)
    report = await relay.deliver_due()
    assert report.failures == ["delivery 1 to hook: no answer within 0.3s"]
    assert (await only(store)).status is DeliveryStatus.PENDING


async def test_permanent_rejections_and_exhausted_attempts_go_dead(
    store: Store, receiver: Receiver, session: aiohttp.ClientSession
) -> None:
    clock = FakeClock()
    await queue_alerts(store, [("a", "Truce in Karabakh"), ("b", "Karabakh ceasefire")])
    relay = relay_for(store, clock, {"hook": hook(session, receiver, clock)}, max_attempts=2)
    receiver.answers += [web.Response(status=400, text="bad"), web.Response(status=503)]
    report = await relay.deliver_due()
    assert (report.dead, report.retrying) == (1, 1)
    clock.advance(hours=2)
    receiver.answers.append(web.Response(status=503))
    assert (await relay.deliver_due()).dead == 1
    dead = await store.deliveries(DeliveryStatus.DEAD)
    assert sorted(d.last_error or "" for d in dead) == ["HTTP 400: bad", "HTTP 503"]


async def test_unconfigured_notifier_goes_dead_with_a_reason(store: Store) -> None:
    clock = FakeClock()
    await queue_alerts(store, [("a", "Truce")], notifiers=("gone",))
    report = await relay_for(store, clock, {}).deliver_due()
    assert report.dead == 1
    assert (await only(store)).last_error == "notifier 'gone' is not configured or is off"


class Crashing:
    async def send(self, delivery: Message) -> None:
        raise RuntimeError("bug")

    async def close(self) -> None:
        pass


async def test_one_broken_channel_does_not_stop_the_others(
    store: Store, receiver: Receiver, session: aiohttp.ClientSession
) -> None:
    clock = FakeClock()
    await queue_alerts(store, [("a", "Truce"), ("b", "Karabakh")], notifiers=("bad", "hook"))
    relay = relay_for(store, clock, {"bad": Crashing(), "hook": hook(session, receiver, clock)})
    report = await relay.deliver_due()
    assert (report.sent, report.retrying, report.deferred) == (2, 1, 1)
    titles = [__import__("json").loads(body)["item"]["title"] for body in receiver.bodies]
    assert titles == ["Truce", "Karabakh"]  # in order, per channel
    failed = await store.deliveries(DeliveryStatus.PENDING)
    assert sorted(d.last_error or "" for d in failed) == ["", "RuntimeError"]


async def test_a_failing_receiver_gets_one_request_per_pass(
    store: Store, receiver: Receiver, session: aiohttp.ClientSession
) -> None:
    clock = FakeClock()
    await queue_alerts(store, [("a", "One"), ("b", "Two"), ("c", "Three")])
    relay = relay_for(store, clock, {"hook": hook(session, receiver, clock)})
    receiver.answers.append(web.Response(status=503, headers={"Retry-After": "300"}))
    report = await relay.deliver_due()
    assert (report.retrying, report.deferred, len(receiver.requests)) == (1, 2, 1)
    waiting = await store.deliveries(DeliveryStatus.PENDING)
    assert sorted(d.attempts for d in waiting) == [0, 0, 1]
    assert all(d.next_attempt_at >= clock.now + timedelta(seconds=300) for d in waiting)
    clock.advance(seconds=301)
    assert (await relay.deliver_due()).sent == 3
    titles = [__import__("json").loads(body)["item"]["title"] for body in receiver.bodies]
    assert titles == ["One", "One", "Two", "Three"]


# -- schedules, 410, Slack's errors, rollups, digests, quiet hours, shutdown --------------


def channel(notifier: Notifier, **options: Any) -> Channel:
    return Channel(notifier, **options)


async def test_the_default_schedule_is_followed_to_the_second(
    store: Store, receiver: Receiver, session: aiohttp.ClientSession
) -> None:
    clock = FakeClock()
    await queue_alerts(store, [("a", "Truce in Karabakh")])
    relay = Relay(store, {"hook": channel(hook(session, receiver, clock))}, clock, random.Random(5))
    for _ in range(10):
        receiver.answers.append(web.Response(status=500))
    for _ in range(12):
        await relay.deliver_due()
        waiting = await only(store)
        if waiting.status is not DeliveryStatus.PENDING:
            break
        clock.now = waiting.next_attempt_at
    assert (await only(store)).status is DeliveryStatus.DEAD
    sent_at = [int(headers["webhook-timestamp"]) for headers, _ in receiver.requests]
    gaps = [later - earlier for earlier, later in itertools.pairwise(sent_at)]
    planned = [0, 5, 300, 1800, 7200, 18000, 36000]
    assert len(sent_at) == 8
    for gap, plan in zip(gaps, planned, strict=True):
        assert plan - 1 <= gap <= plan * 1.1 + 1, (gaps, planned)


async def test_a_410_disables_the_notifier_keeps_its_queue_and_tells_the_operator(
    store: Store, receiver: Receiver, session: aiohttp.ClientSession
) -> None:
    clock = FakeClock()
    await queue_alerts(store, [("a", "One"), ("b", "Two"), ("c", "Three")], notifiers=("gone",))
    gone = WebhookNotifier(session, receiver.url("/gone"), None, timedelta(seconds=5), clock)
    ops = WebhookNotifier(session, receiver.url("/ops"), KEY, timedelta(seconds=5), clock)
    channels = {"gone": Channel(gone, settings_key="v1"), "ops": Channel(ops)}
    relay = Relay(store, channels, clock, random.Random(1))
    receiver.answers.append(web.Response(status=410, text="channel_is_archived"))
    await relay.deliver_due()
    (disabled,) = await store.disabled_notifiers()
    assert disabled.name == "gone" and "HTTP 410: channel_is_archived" in disabled.reason
    pending = await store.deliveries(DeliveryStatus.PENDING)
    assert sorted(m.attempts for m in pending) == [0, 0, 0]  # kept, as if never tried
    assert len(receiver.requests) == 2
    headers, body = receiver.requests[1]
    notice = Webhook(base64.b64encode(KEY).decode()).verify(body, headers)
    assert notice["type"] == "notice" and "'gone' is disabled" in notice["text"]
    clock.advance(hours=1)
    await relay.deliver_due()
    assert len(receiver.requests) == 2  # nothing more goes to a disabled notifier
    assert await store.sync_notifiers({"gone": "v1"}) == []  # same settings: still off
    assert await store.sync_notifiers({"gone": "v2"}) == ["gone"]  # a new URL: back on
    assert (await relay.deliver_due()).sent == 3


@pytest.mark.parametrize(
    ("status", "word", "outcome"),
    [
        (400, "invalid_payload", "dead"),
        (403, "invalid_token", "dead"),
        (403, "action_prohibited", "dead"),
        (404, "channel_not_found", "dead"),
        (400, "no_text", "dead"),
        (410, "channel_is_archived", "disabled"),
        (500, "rollup_error", "retrying"),
        (503, "", "retrying"),
        (429, "rate_limited", "throttled"),
    ],
)
async def test_each_slack_error_has_its_outcome(
    store: Store,
    receiver: Receiver,
    session: aiohttp.ClientSession,
    status: int,
    word: str,
    outcome: str,
) -> None:
    clock = FakeClock()
    await queue_alerts(store, [("a", "Truce")], notifiers=("slack",))
    slack = SlackNotifier(
        session, receiver.url("/services/T0/B0/SECRET"), timedelta(seconds=5), clock
    )
    relay = Relay(store, {"slack": Channel(slack)}, clock, random.Random(1))
    headers = {"Retry-After": "7"} if status == 429 else None
    receiver.answers.append(web.Response(status=status, text=word, headers=headers))
    if outcome == "retrying":
        receiver.answers.append(web.Response(status=status, text=word))  # the 0s retry
    report = await relay.deliver_due()
    message = await only(store)
    expected = f"HTTP {status}" + (f": {word}" if word else "")
    if outcome == "dead":
        assert message.status is DeliveryStatus.DEAD and message.last_error == expected
    elif outcome == "disabled":
        assert [state.name for state in await store.disabled_notifiers()] == ["slack"]
        assert message.status is DeliveryStatus.PENDING
    elif outcome == "retrying":
        assert message.status is DeliveryStatus.PENDING and report.retrying == 2
        assert message.next_attempt_at >= clock.now + timedelta(seconds=5)
    else:
        assert report.throttled == 1 and message.attempts == 0
        assert message.next_attempt_at == clock.now + timedelta(seconds=7)
    assert "SECRET" not in (message.last_error or "")


async def test_a_burst_over_the_rate_limit_becomes_one_rollup(
    store: Store, receiver: Receiver, session: aiohttp.ClientSession
) -> None:
    clock = FakeClock()
    await queue_alerts(store, [(f"k{n}", f"Karabakh report number {n}") for n in range(12)])
    signed = WebhookNotifier(session, receiver.url(), KEY, timedelta(seconds=5), clock)
    bucket = TokenBucket(messages=1, per=timedelta(seconds=1), burst=3)
    relay = Relay(
        store, {"hook": Channel(signed, bucket=bucket)}, clock, random.Random(1), sleep=clock.sleep
    )
    started = clock.now
    report = await relay.deliver_due()
    verify = Webhook(base64.b64encode(KEY).decode())
    payloads = [verify.verify(body, headers) for headers, body in receiver.requests]
    assert [p["type"] for p in payloads] == ["alert", "alert", "alert", "rollup"]
    rollup = payloads[-1]
    assert rollup["count"] == 9 and rollup["more"] == 0
    assert [entry["item"]["title"] for entry in rollup["items"]] == [
        f"Karabakh report number {n}" for n in range(3, 12)
    ]
    assert (report.sent, report.folded) == (4, 9)
    assert clock.now - started == timedelta(seconds=1)  # the rollup waited for its token
    folded = await store.deliveries(DeliveryStatus.FOLDED)
    assert len(folded) == 9 and {m.parent_id for m in folded} == {13}


async def test_a_digest_collects_matches_until_its_time_and_survives_a_restart(
    store: Store, receiver: Receiver, session: aiohttp.ClientSession
) -> None:
    # 06:00 UTC on 10 March is 07:00 in Paris; the digest is at 08:00 Paris (07:00 UTC).
    clock = FakeClock(datetime(2026, 3, 10, 6, 0, tzinfo=UTC))
    await queue_alerts(store, [(f"k{n}", f"Karabakh item {n}") for n in range(5)], now=clock.now)
    timing = WatchlistTiming(
        digest=DigestSchedule.parse("0 8 * * *", parse_timezone("Europe/Paris"))
    )

    def relay() -> Relay:  # a fresh relay each time: the state is in the outbox
        channels = {"hook": Channel(hook(session, receiver, clock))}
        return Relay(store, channels, clock, random.Random(1), timings={"karabakh": timing})

    assert (await relay().deliver_due()).held == 5
    assert {m.next_attempt_at for m in await store.deliveries()} == {
        datetime(2026, 3, 10, 7, 0, tzinfo=UTC)
    }
    clock.now = datetime(2026, 3, 10, 6, 59, 59, tzinfo=UTC)
    await relay().deliver_due()
    assert receiver.requests == []
    clock.now = datetime(2026, 3, 10, 7, 0, tzinfo=UTC)
    assert (await relay().deliver_due()).sent == 1
    (digest,) = [json.loads(body) for body in receiver.bodies]
    assert (digest["type"], digest["count"], digest["watchlist"]) == ("digest", 5, "karabakh")
    await queue_alerts(store, [("late", "Karabakh late item")], now=clock.now)
    clock.advance(minutes=30)
    await relay().deliver_due()
    (late,) = await store.deliveries(DeliveryStatus.PENDING)
    assert late.next_attempt_at == datetime(2026, 3, 11, 7, 0, tzinfo=UTC)


async def test_quiet_hours_hold_messages_until_they_end(
    store: Store, receiver: Receiver, session: aiohttp.ClientSession
) -> None:
    clock = FakeClock(datetime(2026, 3, 10, 23, 0, tzinfo=UTC))
    await queue_alerts(store, [("a", "Karabakh one"), ("b", "Karabakh two")], now=clock.now)
    timing = WatchlistTiming(quiet=QuietHours.parse("22:00-07:00", parse_timezone("UTC")))
    relay = Relay(
        store,
        {"hook": Channel(hook(session, receiver, clock))},
        clock,
        random.Random(1),
        timings={"karabakh": timing},
    )
    assert (await relay.deliver_due()).held == 2
    morning = datetime(2026, 3, 11, 7, 0, tzinfo=UTC)
    assert {m.next_attempt_at for m in await store.deliveries()} == {morning}
    assert all(m.attempts == 0 for m in await store.deliveries())
    clock.now = morning
    assert (await relay.deliver_due()).sent == 2


async def test_shutdown_stops_between_sends_and_leaves_the_rest_pending(
    store: Store, receiver: Receiver, session: aiohttp.ClientSession
) -> None:
    clock = FakeClock()
    await queue_alerts(store, [("a", "One"), ("b", "Two"), ("c", "Three")])
    relay = relay_for(store, clock, {"hook": hook(session, receiver, clock)})
    report = await relay.deliver_due(stopping=lambda: bool(receiver.requests))
    assert report.sent == 1
    pending = await store.deliveries(DeliveryStatus.PENDING)
    assert len(pending) == 2 and all(m.attempts == 0 for m in pending)
    assert all(m.next_attempt_at <= clock.now for m in pending)  # due again at once


async def test_a_receiver_failing_30_percent_gets_every_alert_exactly_once(
    store: Store, receiver: Receiver, session: aiohttp.ClientSession
) -> None:
    clock = FakeClock()
    await queue_alerts(store, [(f"k{n}", f"Karabakh story {n}") for n in range(40)])
    flaky = random.Random(30)
    receiver.answers += [
        web.Response(status=500) if flaky.random() < 0.3 else web.Response(text="ok")
        for _ in range(200)
    ]
    relay = relay_for(store, clock, {"hook": hook(session, receiver, clock)}, max_attempts=50)
    for _ in range(60):
        await relay.deliver_due()
        if not await store.deliveries(DeliveryStatus.PENDING):
            break
        clock.advance(minutes=2)
    assert len(await store.deliveries(DeliveryStatus.SENT, limit=100)) == 40
    accepted = Counter(
        headers["webhook-id"]
        for (headers, _), status in zip(receiver.requests, receiver.statuses, strict=True)
        if status == 200
    )
    assert len(accepted) == 40 and set(accepted.values()) == {1}


async def test_an_answer_after_the_timeout_is_sent_again_with_the_same_id(
    store: Store, receiver: Receiver, session: aiohttp.ClientSession
) -> None:
    # The 25 s against a 10 s timeout, scaled down: 1.5 s against 0.5 s.
    clock = FakeClock()
    await queue_alerts(store, [("a", "Truce in Karabakh")])
    relay = relay_for(store, clock, {"hook": hook(session, receiver, clock, seconds=0.5)})
    receiver.answers.append(1.5)
    assert (await relay.deliver_due()).retrying == 1
    clock.now = (await only(store)).next_attempt_at
    assert (await relay.deliver_due()).sent == 1
    first, second = (headers["webhook-id"] for headers, _ in receiver.requests)
    assert first == second


async def test_a_dead_letter_retried_keeps_its_webhook_id(
    store: Store, receiver: Receiver, session: aiohttp.ClientSession
) -> None:
    clock = FakeClock()
    await queue_alerts(store, [("a", "Truce in Karabakh")])
    relay = relay_for(store, clock, {"hook": hook(session, receiver, clock)})
    receiver.answers.append(web.Response(status=400, text="bad"))
    assert (await relay.deliver_due()).dead == 1
    assert await store.retry_deliveries(clock.now, dead=True) == 1
    assert (await relay.deliver_due()).sent == 1
    first, second = (headers["webhook-id"] for headers, _ in receiver.requests)
    assert first == second
    assert await store.retry_deliveries(clock.now, dead=True) == 0  # nothing dead now


async def test_a_send_that_outlived_its_lease_is_not_recorded_over_the_new_holder(
    postgres_dsn: str,
    receiver: Receiver,
    session: aiohttp.ClientSession,
    caplog: pytest.LogCaptureFixture,
) -> None:
    from monitor.store import PostgresStore

    caplog.set_level(logging.WARNING, logger="monitor.notify.relay")
    clock = FakeClock()
    async with PostgresStore(postgres_dsn) as slow, PostgresStore(postgres_dsn) as other:
        await slow.start_instance("host:1", clock.now)
        await other.start_instance("host:2", clock.now)
        await queue_alerts(slow, [("a", "Truce in Karabakh")])
        relay = relay_for(slow, clock, {"hook": hook(session, receiver, clock)})
        relay.lease = timedelta(seconds=30)
        taken: list[Message] = []

        def stall_past_the_lease(request: web.Request) -> float:
            clock.advance(seconds=31)  # the receiver is so slow that the lease runs out …
            return 2.0  # … and answers 200 only after another instance took the message

        async def and_another_instance_takes_over() -> None:
            await asyncio.wait_for(receiver.arrived.wait(), 30)  # fail, never hang
            taken.extend(await other.claim_due_deliveries(clock.now, 10, timedelta(minutes=1)))

        receiver.answers.append(stall_past_the_lease)
        report, _ = await asyncio.gather(relay.deliver_due(), and_another_instance_takes_over())
        assert report.sent == 1  # it did go out
        assert "outcome of a send dropped: delivery 1 is held by host:2 now" in caplog.text
        (held,) = await other.deliveries()
        assert (held.status, held.claimed_by) == (DeliveryStatus.PENDING, "host:2")
        # The holder sends it again, with the same id: the receiver can tell.
        (again,) = taken
        assert again.message_id == receiver.requests[0][0]["webhook-id"]
        await other.mark_sent(again.id, clock.now)
        assert (await only(other)).status is DeliveryStatus.SENT
