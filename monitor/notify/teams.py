"""Microsoft Teams through a workflow webhook: one Adaptive Card per message."""

from __future__ import annotations

import json
from typing import Any

from monitor.models import Message, MessageKind
from monitor.notify.http import HttpNotifier
from monitor.views import headline, list_lines, snippet, source_name

MAX_LIST_ENTRIES = 30  # a card stays readable; the rest is counted


def _text(text: str, **style: Any) -> dict[str, Any]:
    return {"type": "TextBlock", "text": text, "wrap": True, **style}


def teams_message(message: Message) -> dict[str, Any]:
    """The workflow body: a message with one Adaptive Card attachment."""
    body: list[dict[str, Any]] = [_text(headline(message), weight="Bolder", size="Medium")]
    actions: list[dict[str, Any]] = []
    if message.kind is MessageKind.NOTICE:
        body.append(_text(message.text))
    elif message.kind.lists:
        listed = list_lines(message)
        for label, link in listed[:MAX_LIST_ENTRIES]:
            # Adaptive Cards render Markdown links in TextBlocks.
            line = f"[{label}]({link})" if link else label
            body.append(_text(f"- {line}", spacing="None"))
        if len(listed) > MAX_LIST_ENTRIES:
            body.append(_text(f"… and {len(listed) - MAX_LIST_ENTRIES} more", isSubtle=True))
    else:
        stored = message.item
        item = stored.item
        text = snippet(item.summary or item.content, 700)
        if text:
            body.append(_text(text))
        body.append(_text(f"{source_name(stored)} · {message.watchlist}", isSubtle=True))
        if item.link:
            actions.append({"type": "Action.OpenUrl", "title": "Read the story", "url": item.link})
    card: dict[str, Any] = {
        "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
        "type": "AdaptiveCard",
        "version": "1.4",
        "body": body,
    }
    if actions:
        card["actions"] = actions
    return {
        "type": "message",
        "attachments": [
            {"contentType": "application/vnd.microsoft.card.adaptive", "content": card}
        ],
    }


class TeamsNotifier(HttpNotifier):
    """Posts to a Teams workflow webhook (it answers 202 Accepted)."""

    def request(self, message: Message) -> tuple[bytes, dict[str, str]]:
        """The JSON body."""
        body = json.dumps(teams_message(message), ensure_ascii=False).encode("utf-8")
        return body, {"content-type": "application/json"}
