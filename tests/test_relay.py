"""The relay against a real receiver: retries, Retry-After, hangs, dead letters, isolation."""

from __future__ import annotations

import random
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web

from monitor.models import DeliveryStatus, Message
from monitor.notify.base import Notifier
from monitor.notify.registry import Channel
from monitor.notify.relay import Relay
from monitor.notify.rules import RetrySchedule
from monitor.notify.webhook import WebhookNotifier
from monitor.store import SQLiteStore
from tests.conftest import FakeClock, Receiver, queue_alerts


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[SQLiteStore]:
    async with SQLiteStore(tmp_path / "relay.db") as opened:
        yield opened


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as client:
        yield client


SCHEDULE = (timedelta(seconds=10), timedelta(seconds=20), timedelta(minutes=1))


def relay_for(
    store: SQLiteStore,
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


async def only(store: SQLiteStore) -> Message:
    (delivery,) = await store.deliveries()
    return delivery


async def test_500_is_retried_with_backoff_and_the_same_id(
    store: SQLiteStore, receiver: Receiver, session: aiohttp.ClientSession
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
    store: SQLiteStore, receiver: Receiver, session: aiohttp.ClientSession
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
    store: SQLiteStore, receiver: Receiver, session: aiohttp.ClientSession
) -> None:
    clock = FakeClock()
    await queue_alerts(store, [("a", "Truce in Karabakh")])
    relay = relay_for(store, clock, {"hook": hook(session, receiver, clock, seconds=0.3)})
    receiver.answers.append(5.0)
    report = await relay.deliver_due()
    assert report.failures == ["delivery 1 to hook: no answer within 0.3s"]
    assert (await only(store)).status is DeliveryStatus.PENDING


async def test_permanent_rejections_and_exhausted_attempts_go_dead(
    store: SQLiteStore, receiver: Receiver, session: aiohttp.ClientSession
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


async def test_unconfigured_notifier_goes_dead_with_a_reason(store: SQLiteStore) -> None:
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
    store: SQLiteStore, receiver: Receiver, session: aiohttp.ClientSession
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
    store: SQLiteStore, receiver: Receiver, session: aiohttp.ClientSession
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
