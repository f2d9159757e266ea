"""Discord channel webhooks: an embed per alert, plain lines for lists and notices.

Mentions are never parsed (``allowed_mentions: {parse: []}``), so no feed text can
ping ``@everyone``; a 429 says how long to wait in its JSON body.
"""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from monitor.models import Message, MessageKind
from monitor.notify.http import HttpNotifier
from monitor.views import headline, list_lines, snippet, source_name

CONTENT_LIMIT = 2000
TITLE_LIMIT = 256
DESCRIPTION_LIMIT = 4096


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _list_content(message: Message) -> str:
    lines = [headline(message)]
    listed = list_lines(message)
    for position, (label, link) in enumerate(listed):
        line = f"- {label}" + (f" <{link}>" if link else "")
        rest = len(listed) - position
        if len("\n".join([*lines, line])) > CONTENT_LIMIT - 40:
            lines.append(f"… and {rest} more")
            break
        lines.append(line)
    return "\n".join(lines)


def discord_message(message: Message) -> dict[str, Any]:
    """The webhook body for any kind of message."""
    body: dict[str, Any] = {"allowed_mentions": {"parse": []}}
    if message.kind is MessageKind.NOTICE:
        body["content"] = _clip(f"⚠️ {message.text}", CONTENT_LIMIT)
    elif message.kind.lists:
        body["content"] = _list_content(message)
    else:
        stored = message.item
        item = stored.item
        embed: dict[str, Any] = {
            "title": _clip(item.title or "(untitled)", TITLE_LIMIT),
            "description": _clip(snippet(item.summary or item.content, 700), DESCRIPTION_LIMIT),
            "footer": {"text": _clip(f"{source_name(stored)} · {message.watchlist}", 2048)},
        }
        if item.link:
            embed["url"] = item.link
        if item.published:
            embed["timestamp"] = item.published.isoformat()
        body["content"] = _clip(headline(message), CONTENT_LIMIT)
        body["embeds"] = [embed]
    return body


class DiscordNotifier(HttpNotifier):
    """Posts to a Discord webhook (``…/api/webhooks/ID/TOKEN``)."""

    def request(self, message: Message) -> tuple[bytes, dict[str, str]]:
        """The JSON body."""
        body = json.dumps(discord_message(message), ensure_ascii=False).encode("utf-8")
        return body, {"content-type": "application/json"}

    def retry_after_of(self, body: str) -> timedelta | None:
        """Discord's 429 body: ``{"retry_after": 1.5, …}`` in seconds."""
        try:
            seconds = float(json.loads(body)["retry_after"])
        except (ValueError, KeyError, TypeError):
            return None
        return timedelta(seconds=min(max(seconds, 0.0), 86400.0))
