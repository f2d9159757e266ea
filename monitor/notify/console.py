"""Prints alerts: the default notifier, so a new install shows something at once."""

from __future__ import annotations

import sys
from typing import TextIO

from monitor.models import Delivery
from monitor.notify.payload import iso_utc, snippet, source_name


def format_alert(delivery: Delivery) -> str:
    """A few readable lines: watchlist and title, link, feed · time · matched terms."""
    stored = delivery.stored
    item = stored.item
    if delivery.kind == "follow_up":
        line = f"[{delivery.watchlist}] also reported by {source_name(stored)}: {item.title}"
        return line + (f"\n  {item.link}" if item.link else "")
    terms = ", ".join(f"{term.term} ({term.field})" for term in delivery.matched)
    facts = [source_name(stored)]
    if item.published:
        facts.append(iso_utc(item.published) or "")
    facts.append(f"matched: {terms}")
    lines = [f"[{delivery.watchlist}] {item.title or '(untitled)'}"]
    if item.link:
        lines.append(f"  {item.link}")
    text = snippet(item.summary or item.content, 240)
    if text:
        lines.append(f"  {text}")
    lines.append("  " + " · ".join(facts))
    return "\n".join(lines)


class ConsoleNotifier:
    """Writes each alert to a stream (standard output unless told otherwise)."""

    def __init__(self, stream: TextIO | None = None) -> None:
        self.stream = stream

    async def send(self, delivery: Delivery) -> None:
        """Print and flush, so alerts show up live under systemd or docker logs."""
        stream = self.stream or sys.stdout
        print(format_alert(delivery), file=stream, flush=True)

    async def close(self) -> None:
        """Nothing to release."""
