"""ntfy push notifications, published as JSON to the server's root URL.

JSON publishing (not headers) keeps non-Latin titles such as ``Qarabağ`` intact.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import aiohttp

from monitor.models import Message, MessageKind
from monitor.notify.http import HttpNotifier
from monitor.views import headline, list_lines, snippet, source_name

MESSAGE_LIMIT = 4096


def split_topic_url(url: str) -> tuple[str, str]:
    """``https://ntfy.sh/my-topic`` → (``https://ntfy.sh/``, ``my-topic``)."""
    parts = urlsplit(url)
    base_path, _, topic = parts.path.rstrip("/").rpartition("/")
    return urlunsplit((parts.scheme, parts.netloc, base_path + "/", "", "")), topic


def ntfy_message(message: Message, topic: str, priority: int) -> dict[str, Any]:
    """The JSON publish body."""
    body: dict[str, Any] = {"topic": topic, "priority": priority, "title": headline(message)}
    if message.kind is MessageKind.NOTICE:
        body["message"] = message.text
        body["tags"] = ["warning"]
    elif message.kind.lists:
        lines = [f"- {line}" for line, _ in list_lines(message)]
        text = "\n".join(lines)
        if len(text) > MESSAGE_LIMIT:
            text = text[: MESSAGE_LIMIT - 1].rsplit("\n", 1)[0] + "\n…"
        body["message"] = text
    else:
        stored = message.item
        item = stored.item
        text = snippet(item.summary or item.content, 600)
        body["message"] = f"{text}\n{source_name(stored)}" if text else source_name(stored)
        if item.link:
            body["click"] = item.link
    return body


class NtfyNotifier(HttpNotifier):
    """Publishes to one ntfy topic, with a bearer token when one is configured."""

    def __init__(
        self,
        session: aiohttp.ClientSession,
        url: str,
        timeout: timedelta,
        clock: Callable[[], datetime],
        token: str | None = None,
        priority: int = 3,
    ) -> None:
        root, self.topic = split_topic_url(url)
        super().__init__(session, root, timeout, clock)
        self.token = token
        self.priority = priority

    def request(self, message: Message) -> tuple[bytes, dict[str, str]]:
        """The JSON body, and the token."""
        payload = ntfy_message(message, self.topic, self.priority)
        headers = {"content-type": "application/json"}
        if self.token:
            headers["authorization"] = f"Bearer {self.token}"
        return json.dumps(payload, ensure_ascii=False).encode("utf-8"), headers
