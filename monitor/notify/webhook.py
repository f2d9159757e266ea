"""Generic JSON webhook, per Standard Webhooks: id, timestamp and an HMAC signature."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Callable
from datetime import datetime, timedelta

import aiohttp

from monitor.models import Message
from monitor.notify.http import HttpNotifier
from monitor.notify.payload import alert_payload


def sign(key: bytes, message_id: str, timestamp: int, body: bytes) -> str:
    """``v1,<base64 HMAC-SHA256 of id.timestamp.body>``."""
    signed = f"{message_id}.{timestamp}.".encode() + body
    digest = hmac.new(key, signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode("ascii")


class WebhookNotifier(HttpNotifier):
    """POSTs the message JSON; the ``webhook-id`` is the same on every retry of one."""

    def __init__(
        self,
        session: aiohttp.ClientSession,
        url: str,
        key: bytes | None,
        timeout: timedelta,
        clock: Callable[[], datetime],
    ) -> None:
        super().__init__(session, url, timeout, clock)
        self.key = key

    def request(self, message: Message) -> tuple[bytes, dict[str, str]]:
        """The signed (when keyed) JSON body."""
        body = json.dumps(alert_payload(message), ensure_ascii=False).encode("utf-8")
        timestamp = int(self.clock().timestamp())
        headers = {
            "content-type": "application/json",
            "webhook-id": message.message_id,
            "webhook-timestamp": str(timestamp),
        }
        if self.key is not None:
            headers["webhook-signature"] = sign(self.key, message.message_id, timestamp, body)
        return body, headers
