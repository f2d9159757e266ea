"""The delivery relay: claims due outbox rows, sends them, records the outcome.

Each notifier's deliveries go out one after another (receivers see alerts in order and
are not flooded); different notifiers send at the same time.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import aiohttp

from monitor.config import (
    ConsoleNotifierSettings,
    NotifierSettings,
    Settings,
    SlackNotifierSettings,
    WebhookNotifierSettings,
)
from monitor.models import Delivery
from monitor.notify.base import DeliveryError, Notifier
from monitor.notify.console import ConsoleNotifier
from monitor.notify.slack import SlackNotifier
from monitor.notify.webhook import WebhookNotifier
from monitor.schedule import delivery_backoff
from monitor.store import Store

log = logging.getLogger(__name__)
MAX_ATTEMPTS = 12  # 10 s doubling to 1 h: about three hours before a delivery is dead
BATCH = 50
# Longer than a batch can take to send, so no other pass takes a delivery in flight.
LEASE = timedelta(minutes=10)


def build_notifier(
    spec: NotifierSettings, session: aiohttp.ClientSession, clock: Callable[[], datetime]
) -> Notifier:
    """The channel a notifier's settings describe."""
    if isinstance(spec, ConsoleNotifierSettings):
        return ConsoleNotifier()
    if isinstance(spec, SlackNotifierSettings):
        return SlackNotifier(session, spec.resolved_url(), spec.timeout, clock)
    if isinstance(spec, WebhookNotifierSettings):
        return WebhookNotifier(
            session, spec.resolved_url(), spec.signing_key(), spec.timeout, clock
        )
    raise TypeError(f"no notifier for {type(spec).__name__}")


def build_notifiers(
    settings: Settings, session: aiohttp.ClientSession, clock: Callable[[], datetime]
) -> dict[str, Notifier]:
    """Every active notifier by name."""
    return {
        name: build_notifier(spec, session, clock)
        for name, spec in settings.active_notifiers().items()
    }


@dataclass
class RelayReport:
    """What one pass of the relay did."""

    sent: int = 0
    retrying: int = 0
    dead: int = 0
    deferred: int = 0  # not tried: queued behind a failure to the same receiver
    failures: list[str] = field(default_factory=list)

    @property
    def failed(self) -> int:
        """Deliveries that did not land on this pass."""
        return self.retrying + self.dead + self.deferred


class Relay:
    """Sends due deliveries after their items have committed."""

    def __init__(
        self,
        store: Store,
        notifiers: Mapping[str, Notifier],
        clock: Callable[[], datetime],
        rng: random.Random | None = None,
        max_attempts: int = MAX_ATTEMPTS,
    ) -> None:
        self.store = store
        self.notifiers = notifiers
        self.clock = clock
        self.rng = rng or random.Random()
        self.max_attempts = max_attempts

    async def deliver_due(self, stopping: Callable[[], bool] = lambda: False) -> RelayReport:
        """Send every delivery that is due now, batch by batch, until none is left."""
        report = RelayReport()
        while not stopping():
            batch = await self.store.claim_due_deliveries(self.clock(), BATCH, LEASE)
            if not batch:
                break
            by_notifier: dict[str, list[Delivery]] = {}
            for delivery in batch:
                by_notifier.setdefault(delivery.notifier, []).append(delivery)
            await asyncio.gather(
                *(self._send_in_order(name, queue, report) for name, queue in by_notifier.items())
            )
        return report

    async def _send_in_order(self, name: str, queue: list[Delivery], report: RelayReport) -> None:
        notifier = self.notifiers.get(name)
        for position, delivery in enumerate(queue):
            error = await self._attempt(notifier, name, delivery)
            if error is None:
                await self.store.mark_sent(delivery.id, self.clock())
                report.sent += 1
                log.info("sent %s to %s (%s)", delivery.message_id, name, delivery.watchlist)
                continue
            retry_at = await self._fail(delivery, error, report)
            rest = queue[position + 1 :]
            if retry_at is not None and rest:
                # The receiver is failing: the rest of its queue waits as long as this
                # delivery does, instead of each spending its own timeout on it.
                await self.store.release_deliveries([later.id for later in rest], retry_at)
                report.deferred += len(rest)
                return

    async def _attempt(
        self, notifier: Notifier | None, name: str, delivery: Delivery
    ) -> DeliveryError | None:
        """Send once; the error, or None when the receiver accepted it."""
        if notifier is None:
            return DeliveryError(f"notifier {name!r} is not configured or is off", permanent=True)
        try:
            await notifier.send(delivery)
        except DeliveryError as error:
            return error
        except Exception as error:  # a bug in a channel must not stop the others
            log.exception("notifier %s crashed on delivery %s", name, delivery.id)
            return DeliveryError(type(error).__name__)
        return None

    async def _fail(
        self, delivery: Delivery, error: DeliveryError, report: RelayReport
    ) -> datetime | None:
        """Record a failed attempt; when the delivery will be retried (None: dead)."""
        message = str(error)
        retry_at = None
        if error.permanent or delivery.attempts >= self.max_attempts:
            report.dead += 1
            outcome = "gave up"
        else:
            delay = delivery_backoff(delivery.attempts, self.rng)
            if error.retry_after is not None:
                delay = max(delay, error.retry_after)
            retry_at = self.clock() + delay
            report.retrying += 1
            outcome = f"retrying in {delay.total_seconds():.0f}s"
        await self.store.mark_failed(delivery.id, message, retry_at)
        report.failures.append(f"delivery {delivery.id} to {delivery.notifier}: {message}")
        log.warning(
            "delivery %s to %s failed (attempt %s): %s; %s",
            delivery.id,
            delivery.notifier,
            delivery.attempts,
            message,
            outcome,
        )
        return retry_at
