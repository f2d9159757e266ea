"""The long tail of services through Apprise (an optional extra).

Apprise reports success or failure but not why, so every failure is retried on the
notifier's schedule; its own log lines are quieted, since they may name a token.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta
from typing import Any

from monitor.models import Message, MessageKind
from monitor.notify.base import DeliveryError
from monitor.views import headline, list_lines, snippet, source_name

logging.getLogger("apprise").setLevel(logging.CRITICAL)


def apprise_body(message: Message) -> str:
    """Plain text: the snippet and link of an alert, the lines of a list, a notice."""
    if message.kind is MessageKind.NOTICE:
        return message.text
    if message.kind.lists:
        return "\n".join(
            f"- {line}" + (f" {link}" if link else "") for line, link in list_lines(message)
        )
    stored = message.item
    item = stored.item
    lines = [snippet(item.summary or item.content, 600), item.link or "", source_name(stored)]
    return "\n".join(line for line in lines if line)


class AppriseNotifier:
    """Sends through one Apprise URL."""

    def __init__(self, url: str, timeout: timedelta) -> None:
        import apprise  # the optional extra; the configuration checked it is there

        self.apprise: Any = apprise.Apprise()
        self.apprise.add(url)
        self.timeout = timeout

    async def send(self, message: Message) -> None:
        """Notify; Apprise's False (or no answer in time) is a failure to retry."""
        try:
            async with asyncio.timeout(self.timeout.total_seconds()):
                result = await self.apprise.async_notify(
                    body=apprise_body(message), title=headline(message)
                )
        except TimeoutError:
            raise DeliveryError(f"no answer within {self.timeout.total_seconds():g}s") from None
        if not result:
            raise DeliveryError("apprise reported a failure (its service did not accept it)")

    async def close(self) -> None:
        """Nothing to release."""
