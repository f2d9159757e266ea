"""What every channel implements, the error it raises when a send fails, and a
channel as the relay drives it."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import Protocol

from monitor.models import Message
from monitor.notify.rules import RetrySchedule, TokenBucket


class DeliveryError(Exception):
    """A send that did not land; the message must never contain a secret.

    ``permanent`` failures (the receiver rejected the request itself) go straight to
    dead; ``throttled`` ones (429) wait for ``retry_after`` without counting as an
    attempt; ``gone`` (410) disables the notifier until its settings change. Others
    are retried on the notifier's schedule, not sooner than ``retry_after``.
    """

    def __init__(
        self,
        message: str,
        *,
        retry_after: timedelta | None = None,
        permanent: bool = False,
        throttled: bool = False,
        gone: bool = False,
    ) -> None:
        super().__init__(message)
        self.retry_after = retry_after
        self.permanent = permanent or gone
        self.throttled = throttled
        self.gone = gone


class Notifier(Protocol):
    """One channel: sends one message or raises DeliveryError."""

    async def send(self, message: Message) -> None:
        """Deliver the message; return only when the receiver has accepted it."""
        ...

    async def close(self) -> None:
        """Release connections."""
        ...


@dataclass
class Channel:
    """One notifier as the relay drives it: where to send, how to retry, how fast."""

    notifier: Notifier
    retry: RetrySchedule = field(default_factory=RetrySchedule)
    bucket: TokenBucket | None = None
    settings_key: str = ""
