"""What every channel implements, and the error it raises when a send fails."""

from __future__ import annotations

from datetime import timedelta
from typing import Protocol

from monitor.models import Delivery


class DeliveryError(Exception):
    """A send that did not land; the message must never contain a secret.

    ``permanent`` failures (the receiver rejected the request itself) go straight to
    dead; others are retried, not sooner than ``retry_after`` when the receiver asks.
    """

    def __init__(
        self, message: str, *, retry_after: timedelta | None = None, permanent: bool = False
    ) -> None:
        super().__init__(message)
        self.retry_after = retry_after
        self.permanent = permanent


class Notifier(Protocol):
    """One channel: sends one alert or raises DeliveryError."""

    async def send(self, delivery: Delivery) -> None:
        """Deliver the alert; return only when the receiver has accepted it."""
        ...

    async def close(self) -> None:
        """Release connections."""
        ...
