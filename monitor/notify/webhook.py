"""Generic JSON webhook, per Standard Webhooks: id, timestamp and an HMAC signature."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Callable
from datetime import datetime, timedelta

import aiohttp

from monitor.models import Delivery
from monitor.notify.http import post
from monitor.notify.payload import alert_payload


def sign(key: bytes, message_id: str, timestamp: int, body: bytes) -> str:
    """``v1,<base64 HMAC-SHA256 of id.timestamp.body>``."""
    signed = f"{message_id}.{timestamp}.".encode() + body
    digest = hmac.new(key, signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode("ascii")


class WebhookNotifier:
    """POSTs the alert JSON; the ``webhook-id`` is the same on every retry of one alert."""

    def __init__(
        self,
        session: aiohttp.ClientSession,
        url: str,
        key: bytes | None,
        timeout: timedelta,
        clock: Callable[[], datetime],
    ) -> None:
        self.session = session
        self.url = url
        self.key = key
        self.timeout = timeout
        self.clock = clock

    async def send(self, delivery: Delivery) -> None:
        """Sign (when keyed) and POST; a non-2xx answer raises DeliveryError."""
        body = json.dumps(alert_payload(delivery), ensure_ascii=False).encode("utf-8")
        timestamp = int(self.clock().timestamp())
        headers = {
            "content-type": "application/json",
            "webhook-id": delivery.message_id,
            "webhook-timestamp": str(timestamp),
        }
        if self.key is not None:
            headers["webhook-signature"] = sign(self.key, delivery.message_id, timestamp, body)
        await post(self.session, self.url, body, headers, self.timeout, self.clock)

    async def close(self) -> None:
        """The session belongs to the relay."""
