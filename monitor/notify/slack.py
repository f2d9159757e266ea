"""Slack incoming webhooks with Block Kit: header, snippet with link, context line."""

from __future__ import annotations

import json
import re
from typing import Any

from monitor.models import Message, MessageKind
from monitor.notify.http import HttpNotifier
from monitor.notify.payload import marked_snippet, summary_spans
from monitor.views import article_remark, headline, list_lines, source_name

PARTIAL_ENTITY = re.compile(r"&[a-z]{0,3}$")
HEADER_LIMIT = 150
SECTION_LIMIT = 2900  # Slack allows 3000; the link line needs room.
MAX_BLOCKS = 50


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


def _follow_up_message(delivery: Message) -> dict[str, Any]:
    """One short line: the story has another source."""
    item = delivery.item.item
    title = escape(item.title or "(untitled)")
    where = f"*{escape(source_name(delivery.item))}*"
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


def slack_message(delivery: Message) -> dict[str, Any]:
    """The Block Kit message for any kind of message, with a plain-text fallback."""
    if delivery.kind is MessageKind.NOTICE:
        return _notice_message(delivery)
    if delivery.kind.lists:
        return _list_message(delivery)
    if delivery.kind is MessageKind.FOLLOW_UP:
        return _follow_up_message(delivery)
    stored = delivery.item
    item = stored.item
    # Escaped in the header too: only escaping everywhere keeps `<!channel>` inert.
    title = escape(item.title or "(untitled)")
    text, spans = summary_spans(delivery)
    # The matched terms in bold: Slack's mrkdwn "*…*" around escaped text.
    body = "".join(
        f"*{escape(piece)}*" if marked else escape(piece)
        for piece, marked in marked_snippet(text, spans, 700)
    )
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
    if item.language:
        context.append(f"language: {escape(item.language)}")
    context.append(f"matched: {escape(terms)}")
    if delivery.update:
        context.append("updated: the entry was edited, and only now matches")
    remark = article_remark(item)
    if remark:
        context.append(escape(remark))
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
        "text": _clip(escape(headline(delivery)), 3000),
        "blocks": blocks,
        "unfurl_links": False,
        "unfurl_media": False,
    }


def _list_message(message: Message) -> dict[str, Any]:
    """A rollup or digest: a header, then ``• <link|title> — source`` lines in sections
    of at most 3,000 characters and 50 blocks; what does not fit is counted, in order."""
    head = escape(headline(message))
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": _clip(head, HEADER_LIMIT)}}
    ]
    lines = [
        f"• {_link(link, label) if link else escape(label)}" for label, link in list_lines(message)
    ]
    sections: list[list[str]] = [[]]
    shown = 0
    for line in lines:
        line = _clip(line, SECTION_LIMIT)
        if sections[-1] and len("\n".join([*sections[-1], line])) > SECTION_LIMIT:
            if len(sections) == MAX_BLOCKS - 2:  # room for the header and the context
                break
            sections.append([])
        sections[-1].append(line)
        shown += 1
    blocks += [
        {"type": "section", "text": {"type": "mrkdwn", "text": "\n".join(section)}}
        for section in sections
        if section
    ]
    rest = len(lines) - shown
    noun = "source(s)" if message.spread is not None else "item(s)"
    context = f"{escape(message.watchlist)} · {len(lines)} {noun}"
    if rest:
        context += f" · {rest} more not shown: run `news-monitor deliveries`"
    blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": context}]})
    return {
        "text": _clip(head, 3000),
        "blocks": blocks,
        "unfurl_links": False,
        "unfurl_media": False,
    }


def _notice_message(message: Message) -> dict[str, Any]:
    text = _clip(escape(message.text), SECTION_LIMIT)
    return {
        "text": _clip(escape(headline(message)), 3000),
        "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": f":warning: {text}"}}],
        "unfurl_links": False,
        "unfurl_media": False,
    }


class SlackNotifier(HttpNotifier):
    """Posts to an incoming webhook. Any 2xx is delivered, whatever its body: Slack
    reports its errors with 4xx/5xx (``invalid_payload``, ``channel_not_found``,
    ``channel_is_archived`` as 410, …), and Slack-compatible receivers (Mattermost,
    Rocket.Chat, Zulip) answer 200 with JSON."""

    def request(self, message: Message) -> tuple[bytes, dict[str, str]]:
        """The Block Kit JSON."""
        body = json.dumps(slack_message(message), ensure_ascii=False).encode("utf-8")
        return body, {"content-type": "application/json"}
