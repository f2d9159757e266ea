"""The delivery relay: claims due outbox messages, sends them, records the outcome.

Each notifier has its own lane: its messages go out one after another (receivers see
them in order and are not flooded), claimed and sent apart from every other
notifier's, so a receiver that takes seconds to answer never holds a fast one back.
Before sending, the relay
holds what a watchlist's quiet hours or digest schedule say must wait, folds due digest
matches into one digest, and folds a burst that exceeds the notifier's rate limit into
one rollup per watchlist. All of it is outbox state, so a restart loses none of it.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from monitor.logs import message_ids
from monitor.models import Message, MessageKind
from monitor.notify.base import Channel, DeliveryError
from monitor.notify.rules import DigestSchedule, QuietHours
from monitor.store import LeaseLost
from monitor.store.protocols import Outbox

log = logging.getLogger(__name__)
BATCH = 50
# Longer than a batch can take to send, so no other pass takes a message in flight.
# How long a claimed message is held by default; the runtime uses `cluster: {lease}` and
# renews it while the instance lives.
LEASE = timedelta(minutes=10)
# A pass waits this long at most for a rate-limit token; later messages are released
# until their token comes, so one slow channel does not hold the others' next batch.
MAX_TOKEN_WAIT = timedelta(seconds=10)
Sleep = Callable[[float], Awaitable[None]]


@dataclass(frozen=True)
class WatchlistTiming:
    """When a watchlist's messages may go: outside quiet hours, on its digest schedule."""

    quiet: QuietHours | None = None
    digest: DigestSchedule | None = None


@dataclass
class RelayReport:
    """What one pass of the relay did."""

    sent: int = 0
    retrying: int = 0
    dead: int = 0
    deferred: int = 0  # not tried: queued behind a failure to the same receiver
    throttled: int = 0  # the receiver said 429: waiting for its Retry-After
    held: int = 0  # waiting for quiet hours to end, a digest time, or a rate-limit token
    folded: int = 0  # alerts carried by a rollup or digest made on this pass
    failures: list[str] = field(default_factory=list)
    # (notifier, result) of each send tried: sent, retrying or dead, for metrics.
    attempts: list[tuple[str, str]] = field(default_factory=list)
    # (watchlist, seconds from queueing to delivery) of each alert sent.
    delivered: list[tuple[str, float]] = field(default_factory=list)

    @property
    def failed(self) -> int:
        """Messages that did not land on this pass for a reason other than a rule."""
        return self.retrying + self.dead + self.deferred + self.throttled

    def merge(self, other: RelayReport) -> None:
        """Add what another lane did."""
        for name in ("sent", "retrying", "dead", "deferred", "throttled", "held", "folded"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.failures += other.failures
        self.attempts += other.attempts
        self.delivered += other.delivered


class Relay:
    """Sends due messages after their items have committed."""

    def __init__(
        self,
        store: Outbox,
        channels: Mapping[str, Channel],
        clock: Callable[[], datetime],
        rng: random.Random | None = None,
        *,
        timings: Mapping[str, WatchlistTiming] | None = None,
        notices_to: Sequence[str] | None = None,
        sleep: Sleep = asyncio.sleep,
        lease: timedelta = LEASE,
    ) -> None:
        self.store = store
        self.lease = lease
        self.channels = dict(channels)
        self.clock = clock
        self.rng = rng or random.Random()
        self.timings = dict(timings or {})
        self.notices_to = list(notices_to) if notices_to is not None else None
        self.sleep = sleep

    def configure(
        self,
        channels: Mapping[str, Channel],
        timings: Mapping[str, WatchlistTiming],
        notices_to: Sequence[str] | None,
    ) -> None:
        """Take a reloaded configuration's channels and rules."""
        self.channels = dict(channels)
        self.timings = dict(timings)
        self.notices_to = list(notices_to) if notices_to is not None else None

    async def deliver_due(self, stopping: Callable[[], bool] = lambda: False) -> RelayReport:
        """Send every message that is due now, each notifier's lane at the same time as
        the others, until none is left; what they did, together."""
        report = RelayReport()
        while not stopping():
            names = await self.store.due_notifiers(self.clock())
            if not names:
                break
            for lane in await asyncio.gather(*(self.drain(name, stopping) for name in names)):
                report.merge(lane)
        return report

    async def drain(self, name: str, stopping: Callable[[], bool] = lambda: False) -> RelayReport:
        """Send one notifier's due messages, batch by batch, until none is left."""
        report = RelayReport()
        while not stopping():
            batch = await self.store.claim_due_deliveries(
                self.clock(), BATCH, self.lease, notifier=name
            )
            if not batch:
                break
            await self._send_queue(name, batch, report, stopping)
        return report

    # -- before sending: hold and fold -------------------------------------------------

    def _hold_until(self, message: Message, now: datetime) -> datetime | None:
        """When a message held by its watchlist's rules may go (None: now)."""
        timing = self.timings.get(message.watchlist)
        if timing is None or message.kind is MessageKind.NOTICE:
            return None
        if timing.quiet is not None:
            until = timing.quiet.until(now)
            if until is not None:
                return until
        if timing.digest is not None and message.kind.foldable:
            due = timing.digest.next_after(message.created_at)
            if due > now:
                return due
        return None

    async def _fold(
        self, kind: MessageKind, name: str, queue: list[Message], groups: dict[str, list[Message]]
    ) -> list[Message]:
        """Replace each group's members in the queue by one container message."""
        folded_ids = {member.id for members in groups.values() for member in members}
        result = [message for message in queue if message.id not in folded_ids]
        for watchlist, members in groups.items():
            container = await self.store.fold_deliveries(
                kind, name, watchlist, [member.id for member in members], self.clock(), self.lease
            )
            log.info(
                "%s: %s message(s) for %s folded into %s %s",
                name,
                len(container.members),
                watchlist,
                kind.value,
                container.id,
                extra={"notifier": name, "watchlist": watchlist},
            )
            result.append(container)
        return result

    async def _prepare(
        self, name: str, channel: Channel, queue: list[Message], report: RelayReport
    ) -> list[Message]:
        """Hold, then fold digests, then fold the surplus of a burst into rollups."""
        now = self.clock()
        ready: list[Message] = []
        held: dict[datetime, list[Message]] = {}
        for message in queue:
            until = self._hold_until(message, now)
            if until is None:
                ready.append(message)
            else:
                held.setdefault(until, []).append(message)
        for until, messages in held.items():
            await self._release(messages, until)
            report.held += len(messages)
        digests: dict[str, list[Message]] = {}
        for message in ready:
            timing = self.timings.get(message.watchlist)
            if message.kind.foldable and timing is not None and timing.digest is not None:
                digests.setdefault(message.watchlist, []).append(message)
        if digests:
            ready = await self._fold(MessageKind.DIGEST, name, ready, digests)
        if channel.bucket is None:
            return ready
        room = channel.bucket.available(now)
        if len(ready) <= room:
            return ready
        surplus: dict[str, list[Message]] = {}
        for message in ready[room:]:
            if message.kind.foldable:
                surplus.setdefault(message.watchlist, []).append(message)
        # A rollup of one is just the alert, late: only fold two or more.
        surplus = {watchlist: group for watchlist, group in surplus.items() if len(group) > 1}
        if not surplus:
            return ready
        report.folded += sum(len(group) for group in surplus.values())
        return await self._fold(MessageKind.ROLLUP, name, ready, surplus)

    # -- sending -----------------------------------------------------------------------

    async def _release(self, messages: Sequence[Message], until: datetime) -> None:
        """Hand claimed messages back, due at ``until``, their attempt uncounted."""
        if messages:
            await self.store.release_deliveries([message.id for message in messages], until)

    async def _send_queue(
        self,
        name: str,
        queue: list[Message],
        report: RelayReport,
        stopping: Callable[[], bool],
    ) -> None:
        channel = self.channels.get(name)
        if channel is None:
            missing = DeliveryError(
                f"notifier {name!r} is not configured or is off", permanent=True
            )
            for message in queue:
                await self._fail(message, None, missing, report)
            return
        ready = await self._prepare(name, channel, queue, report)
        for position, message in enumerate(ready):
            rest = ready[position:]
            if stopping():
                # Shutting down: what was not tried is pending again, as if never claimed.
                await self._release(rest, self.clock())
                return
            if channel.bucket is not None:
                wait = channel.bucket.wait(self.clock())
                if wait > MAX_TOKEN_WAIT:
                    await self._release(rest, self.clock() + wait)
                    report.held += len(rest)
                    return
                if wait:
                    await self.sleep(wait.total_seconds())
                channel.bucket.take(self.clock())
            error = await self._attempt(channel, name, message)
            if error is None:
                sent_at = self.clock()
                await self._record(self.store.mark_sent(message.id, sent_at))
                report.sent += 1
                report.attempts.append((name, "sent"))
                if message.kind in (MessageKind.ALERT, MessageKind.SPREAD):
                    waited = (sent_at - message.created_at).total_seconds()
                    report.delivered.append((message.watchlist, max(0.0, waited)))
                log.info(
                    "sent %s %s to %s",
                    message.kind.value,
                    message.message_id,
                    name,
                    extra=message_ids(message.id, message.message_id, name),
                )
                continue
            if error.throttled:
                await self._throttled(name, message, rest, error, report)
                return
            if error.gone:
                await self._gone(name, channel, message, rest, error, report)
                return
            retry_at = await self._fail(message, channel, error, report)
            later = ready[position + 1 :]
            if retry_at is not None and later:
                # The receiver is failing: the rest of its queue waits as long as this
                # message does, instead of each spending its own timeout on it.
                await self._release(later, retry_at)
                report.deferred += len(later)
                return

    async def _record(self, outcome: Awaitable[None]) -> None:
        """Record a send's outcome; when the lease ran out first and another instance
        holds the message now, it sends again (with the same ``webhook-id``)."""
        try:
            await outcome
        except LeaseLost as lost:
            log.warning("outcome of a send dropped: %s", lost)

    async def _attempt(self, channel: Channel, name: str, message: Message) -> DeliveryError | None:
        """Send once; the error, or None when the receiver accepted it."""
        try:
            await channel.notifier.send(message)
        except DeliveryError as error:
            return error
        except Exception as error:  # a bug in a channel must not stop the others
            log.exception("notifier %s crashed on message %s", name, message.id)
            return DeliveryError(type(error).__name__)
        return None

    async def _throttled(
        self,
        name: str,
        message: Message,
        rest: list[Message],
        error: DeliveryError,
        report: RelayReport,
    ) -> None:
        """A 429 is not a failed attempt: the queue waits for the receiver's Retry-After."""
        wait = error.retry_after or timedelta(seconds=30)
        await self._release(rest, self.clock() + wait)
        report.throttled += len(rest)
        report.failures.append(f"delivery {message.id} to {name}: {error} (throttled)")
        log.warning(
            "%s is throttling (%s): %s message(s) wait %.0fs",
            name,
            error,
            len(rest),
            wait.total_seconds(),
            extra={"notifier": name},
        )

    async def _gone(
        self,
        name: str,
        channel: Channel,
        message: Message,
        rest: list[Message],
        error: DeliveryError,
        report: RelayReport,
    ) -> None:
        """A 410: stop sending to this notifier, keep its queue, tell the operator."""
        now = self.clock()
        await self._release(rest, now)
        reason = f"the receiver answered {error}"
        changed = await self.store.disable_notifier(name, reason, channel.settings_key, now)
        report.failures.append(f"delivery {message.id} to {name}: {error} (notifier disabled)")
        if not changed:
            return
        log.error(
            "notifier %s is disabled: %s; its queue is kept until its URL changes or"
            " `news-monitor notifiers enable %s`",
            name,
            reason,
            name,
            extra={"notifier": name},
        )
        text = (
            f"Notifier {name!r} is disabled: {reason} (gone). Its pending messages are kept."
            f" Give it a new URL in the configuration, or run"
            f" `news-monitor notifiers enable {name}` once it works again."
        )
        disabled = {state.name for state in await self.store.disabled_notifiers()}
        targets = self.notices_to if self.notices_to is not None else list(self.channels)
        await self.store.queue_notice(
            [target for target in targets if target not in disabled and target in self.channels],
            text,
            now,
        )

    async def _fail(
        self,
        message: Message,
        channel: Channel | None,
        error: DeliveryError,
        report: RelayReport,
    ) -> datetime | None:
        """Record a failed attempt; when the message will be retried (None: dead)."""
        text = str(error)
        delay = None
        if not error.permanent and channel is not None:
            delay = channel.retry.delay_after(message.attempts, self.rng, error.retry_after)
        retry_at = None if delay is None else self.clock() + delay
        if retry_at is None:
            report.dead += 1
            report.attempts.append((message.notifier, "dead"))
            outcome = "gave up"
        else:
            report.retrying += 1
            report.attempts.append((message.notifier, "retrying"))
            outcome = f"retrying in {max(0.0, (retry_at - self.clock()).total_seconds()):.0f}s"
        await self._record(self.store.mark_failed(message.id, text, retry_at))
        report.failures.append(f"delivery {message.id} to {message.notifier}: {text}")
        log.warning(
            "delivery %s to %s failed (attempt %s): %s; %s",
            message.id,
            message.notifier,
            message.attempts,
            text,
            outcome,
            extra=message_ids(message.id, message.message_id, message.notifier),
        )
        return retry_at
