"""Prints messages: the default notifier, so a new install shows something at once."""

from __future__ import annotations

import sys
from typing import TextIO

from monitor.models import Message, MessageKind
from monitor.views import article_remark, headline, iso_utc, list_lines, snippet, source_name


def format_alert(message: Message) -> str:
    """A few readable lines: watchlist and title, link, feed · time · matched terms."""
    if message.kind is MessageKind.NOTICE:
        return f"[notice] {message.text}"
    if message.kind.lists:
        lines = [headline(message)]
        for line, link in list_lines(message):
            lines.append(f"  - {line}")
            if link:
                lines.append(f"    {link}")
        return "\n".join(lines)
    stored = message.item
    item = stored.item
    if message.kind is MessageKind.FOLLOW_UP:
        return headline(message) + (f"\n  {item.link}" if item.link else "")
    terms = ", ".join(f"{term.term} ({term.field})" for term in message.matched)
    facts = [source_name(stored)]
    if item.published:
        facts.append(iso_utc(item.published) or "")
    if item.language:
        facts.append(f"language: {item.language}")
    facts.append(f"matched: {terms}")
    lines = [headline(message)]
    if item.link:
        lines.append(f"  {item.link}")
    text = snippet(item.summary or item.content, 240)
    if text:
        lines.append(f"  {text}")
    lines.append("  " + " · ".join(facts))
    remark = article_remark(item)
    if remark:
        lines.append(f"  ({remark})")
    return "\n".join(lines)


class ConsoleNotifier:
    """Writes each message to a stream (standard output unless told otherwise)."""

    def __init__(self, stream: TextIO | None = None) -> None:
        self.stream = stream

    async def send(self, message: Message) -> None:
        """Print and flush, so messages show up live under systemd or docker logs."""
        stream = self.stream or sys.stdout
        print(format_alert(message), file=stream, flush=True)

    async def close(self) -> None:
        """Nothing to release."""
