"""Slack incoming webhooks with Block Kit: header, snippet with link, context line."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import aiohttp

from monitor.models import Delivery
from monitor.notify.http import post
from monitor.notify.payload import snippet, source_name

PARTIAL_ENTITY = re.compile(r"&[a-z]{0,3}$")
HEADER_LIMIT = 150
SECTION_LIMIT = 2900  # Slack allows 3000; the link line needs room.


def escape(text: str) -> str:
    """Slack's three control characters, so no text can become ``<!channel>`` or a link."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _link(url: str, label: str) -> str:
    return f"<{escape(url).replace('|', '%7C')}|{escape(label)}>"


def _clip(text: str, limit: int) -> str:
    """Shorten escaped text to Slack's limit without cutting an ``&amp;`` in half."""
    if len(text) <= limit:
        return text
    return PARTIAL_ENTITY.sub("", text[: limit - 1]).rstrip() + "…"


def _follow_up_message(delivery: Delivery) -> dict[str, Any]:
    """One short line: the story has another source."""
    item = delivery.stored.item
    title = escape(item.title or "(untitled)")
    where = f"*{escape(source_name(delivery.stored))}*"
    story = _link(item.link, item.title or item.link) if item.link else title
    text = _clip(f"Also reported by {where}: {story}", SECTION_LIMIT)
    context = f"{escape(delivery.watchlist)} · {delivery.story_sources} source(s)"
    return {
        "text": _clip(f"[{delivery.watchlist}] also reported: {title}", 3000),
        "blocks": [
            {"type": "section", "text": {"type": "mrkdwn", "text": text}},
            {"type": "context", "elements": [{"type": "mrkdwn", "text": context}]},
        ],
        "unfurl_links": False,
        "unfurl_media": False,
    }


def slack_message(delivery: Delivery) -> dict[str, Any]:
    """The Block Kit message for one alert (or follow-up), with a plain-text fallback."""
    if delivery.kind == "follow_up":
        return _follow_up_message(delivery)
    stored = delivery.stored
    item = stored.item
    # Escaped in the header too: only escaping everywhere keeps `<!channel>` inert.
    title = escape(item.title or "(untitled)")
    body = escape(snippet(item.summary or item.content, 700))
    if item.link:
        body = (
            f"{body}\n{_link(item.link, 'Read the story')}" if body else _link(item.link, item.link)
        )
    terms = ", ".join(f"{term.term} ({term.field})" for term in delivery.matched)
    context = [f"*{escape(source_name(stored))}*"]
    if item.published:
        stamp = int(item.published.timestamp())
        fallback = item.published.strftime("%Y-%m-%d %H:%M UTC")
        context.append(f"<!date^{stamp}^{{date_short_pretty}} {{time}}|{fallback}>")
    context.append(f"matched: {escape(terms)}")
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": _clip(title, HEADER_LIMIT)}},
    ]
    if body:
        blocks.append(
            {"type": "section", "text": {"type": "mrkdwn", "text": _clip(body, SECTION_LIMIT)}}
        )
    blocks.append(
        {"type": "context", "elements": [{"type": "mrkdwn", "text": " · ".join(context)}]}
    )
    return {
        "text": _clip(f"[{delivery.watchlist}] {title}", 3000),
        "blocks": blocks,
        "unfurl_links": False,
        "unfurl_media": False,
    }


class SlackNotifier:
    """Posts to an incoming webhook; Slack answers ``ok`` or an error word."""

    def __init__(
        self,
        session: aiohttp.ClientSession,
        url: str,
        timeout: timedelta,
        clock: Callable[[], datetime],
    ) -> None:
        self.session = session
        self.url = url
        self.timeout = timeout
        self.clock = clock

    async def send(self, delivery: Delivery) -> None:
        """POST the message; a 4xx (``invalid_payload``…) is permanent, any 2xx delivered."""
        body = json.dumps(slack_message(delivery), ensure_ascii=False).encode("utf-8")
        await post(
            self.session,
            self.url,
            body,
            {"content-type": "application/json"},
            self.timeout,
            self.clock,
        )
        # Any 2xx is delivered, whatever its body: Slack reports errors with 4xx/5xx, and
        # Slack-compatible receivers (Mattermost, Rocket.Chat, Zulip) answer 200 with JSON.

    async def close(self) -> None:
        """The session belongs to the relay."""
