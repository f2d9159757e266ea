"""Models as people and programs read them: one line or a few for the command line,
JSON for ``--json``, the API and webhooks' item shape. Nothing here reads the store or
the configuration; every view is a function of model values.
"""

from __future__ import annotations

import unicodedata
from datetime import UTC, datetime, timedelta
from typing import Any

from monitor.models import (
    Item,
    MatchedTerm,
    Message,
    MessageKind,
    Mute,
    SpreadSource,
    StoredItem,
    Story,
    WatchDecision,
)
from monitor.redact import without_userinfo
from monitor.text import merge_spans

SNIPPET_CHARS = 600
TITLE_CHARS = 1_000  # a feed's title for an item, as receivers get it
LINK_CHARS = 4_000
SHOWN_CHARS = 200  # a name or URL from a feed list, in a summary line
CONTEXT_CHARS = 80  # around a highlighted match


def duration_text(span: timedelta | float) -> str:
    """``2h``, ``90m``, ``1.5s``: a duration as the configuration spells it."""
    seconds = span.total_seconds() if isinstance(span, timedelta) else span
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size and seconds % size == 0:
            return f"{seconds / size:g}{unit}"
    return f"{seconds:g}s"


def iso_utc(moment: datetime | None) -> str | None:
    """``2020-10-10T09:00:00Z``, or None."""
    return None if moment is None else moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def shortened(text: str, limit: int) -> str:
    """``text`` cut to ``limit`` characters with a marker that says how long it was (a
    feed may give a 5 MB title; no one should get it whole)."""
    if len(text) <= limit:
        return text
    return f"{text[: max(0, limit - 40)]}… [cut: {len(text):,} characters]"


def snippet(text: str, limit: int = SNIPPET_CHARS) -> str:
    """The start of a text, cut at a word boundary with an ellipsis."""
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    cut = text[:limit].rsplit(" ", 1)[0]
    return f"{cut}…"


def item_json(stored: StoredItem) -> dict[str, Any]:
    """An item as the webhook shows it."""
    item = stored.item
    shown: dict[str, Any] = {
        "id": shortened(item.guid or item.entry_key, LINK_CHARS),
        "title": shortened(item.title, TITLE_CHARS),
        "link": None if item.link is None else shortened(item.link, LINK_CHARS),
        "summary": snippet(item.summary or item.content),
        "published": iso_utc(item.published),
        # The feed's language tag, or the one read from the text (see languages.detect).
        "language": item.language,
        "feed": {"url": without_userinfo(stored.feed_url), "title": stored.feed_title},
    }
    if item.fulltext_note is not None:
        # Only when the article was tried: "read", or why not (a teaser, paywalled,
        # refused by robots.txt, failed: …, timeout: …).
        shown["fulltext"] = item.fulltext_note
    return shown


def article_remark(item: Item) -> str | None:
    """What an alert says of its article when it was tried and not simply read: that
    the page was a teaser, paywalled, or could not be read, and so what was matched."""
    note = item.fulltext_note
    if note is None or note == "read":
        return None
    if note.startswith("paywalled"):
        matched = (
            "matched on what the page shows" if item.fulltext else "matched on the feed's text"
        )
        return f"the article is paywalled: {matched}"
    return f"full text: {note}; matched on the feed's text"


def source_name(stored: StoredItem) -> str:
    """The feed an item came from, as people read it."""
    return stored.feed_title or without_userinfo(stored.feed_url)


def matched_json(terms: tuple[MatchedTerm, ...]) -> list[dict[str, str]]:
    """Matched terms as ``[{"term": …, "field": …}]``."""
    return [{"term": term.term, "field": term.field} for term in terms]


def headline(message: Message) -> str:
    """One line that says what the message is, for titles and fallbacks."""
    tag = f"[{message.watchlist}] " if message.watchlist else ""
    if message.kind is MessageKind.NOTICE:
        return f"news-monitor: {message.text.splitlines()[0] if message.text else 'notice'}"
    if message.kind is MessageKind.ROLLUP:
        return f"{tag}+{len(message.entries)} more for {message.watchlist}"
    if message.kind is MessageKind.DIGEST:
        count = len(message.entries)
        return f"{tag}digest: {count} match{'es' if count != 1 else ''}"
    item = message.item
    title = item.item.title or "(untitled)"
    if message.spread is not None:
        spread = message.spread
        count = len(spread.sources) + spread.more
        return f"{tag}spreading: {title} ({count} sources within {duration_text(spread.within)})"
    if message.kind is MessageKind.FOLLOW_UP:
        return f"{tag}also reported by {source_name(item)}: {title}"
    if message.update:
        return f"{tag}updated: {title}"
    return f"{tag}{title}"


def entry_line(entry: Message) -> str:
    """``title — source`` for one member of a rollup or digest (``also:`` for a follow-up)."""
    item = entry.item
    prefix = "also: " if entry.kind is MessageKind.FOLLOW_UP else ""
    return f"{prefix}{item.item.title or '(untitled)'} — {source_name(item)}"


def source_line(source: SpreadSource) -> str:
    """``07 Dec 15:04 UTC · BBC News: title`` for one source of a spreading story."""
    stored = source.stored
    when = source.reported_at.astimezone(UTC).strftime("%d %b %H:%M UTC")
    return f"{when} · {source_name(stored)}: {stored.item.title or '(untitled)'}"


def list_lines(message: Message) -> list[tuple[str, str | None]]:
    """The lines a channel lists for a rollup, a digest or a spread alert, each with
    its link: the items carried, or the sources in the order they reported."""
    if message.spread is not None:
        return [(source_line(source), source.stored.item.link) for source in message.spread.sources]
    return [(entry_line(entry), entry.item.item.link) for entry in message.entries]


def spread_json(message: Message) -> dict[str, Any]:
    """A spread alert's rule and sources, as the webhook and ``--json`` show them."""
    spread = message.spread
    if spread is None:
        return {}
    return {
        "threshold": spread.threshold,
        "within": duration_text(spread.within),
        "sources": [
            {
                "site": source.site,
                "reported": iso_utc(source.reported_at),
                "item": item_json(source.stored),
            }
            for source in spread.sources
        ],
        "more": spread.more,
    }


def _mark(text: str, spans: list[tuple[int, int]], color: bool) -> str:
    opening, closing = ("\x1b[1;33m", "\x1b[0m") if color else ("**", "**")
    for start, end in reversed(merge_spans(spans)):
        text = f"{text[:start]}{opening}{text[start:end]}{closing}{text[end:]}"
    return text


def _spans(terms: tuple[MatchedTerm, ...], field: str) -> list[tuple[int, int]]:
    return [span for term in terms if term.field == field for span in term.spans]


def _excerpt(text: str, spans: list[tuple[int, int]], color: bool) -> str:
    """The text around the first match, cut at spaces, every match inside marked."""
    first_start, first_end = min(spans)
    start = max(0, first_start - CONTEXT_CHARS)
    end = min(len(text), first_end + 2 * CONTEXT_CHARS)
    if start:
        start = text.find(" ", start, first_start) + 1 or start
    if end < len(text):
        cut = text.rfind(" ", first_end, end)
        end = cut if cut != -1 else end
    inside = [(s - start, e - start) for s, e in spans if s >= start and e <= end]
    piece = _mark(text[start:end], inside, color).replace("\n", " ")
    return f"{'…' if start else ''}{piece}{'…' if end < len(text) else ''}"


def highlight_match(
    watchlist: str,
    stored: StoredItem,
    fields: dict[str, str],
    terms: tuple[MatchedTerm, ...],
    color: bool,
) -> str:
    """A match for a person: title and a piece of the summary (``fields``: the texts
    the terms' spans are in), matched terms marked."""
    title = unicodedata.normalize("NFC", fields["title"])  # the spans' text
    lines = [f"[{watchlist}] {_mark(title, _spans(terms, 'title'), color)}"]
    summary_spans = _spans(terms, "summary")
    if summary_spans:
        summary = unicodedata.normalize("NFC", fields["summary"])
        lines.append(f"  {_excerpt(summary, summary_spans, color)}")
    facts = [source_name(stored)]
    if stored.item.published:
        facts.append(iso_utc(stored.item.published) or "")
    if stored.item.language:
        facts.append(f"language: {stored.item.language}")
    facts.append("matched: " + ", ".join(f"{t.term} ({t.field})" for t in terms))
    if stored.item.link:
        lines.append(f"  {stored.item.link}")
    lines.append("  " + " · ".join(facts))
    return "\n".join(lines)


JOIN_REASONS = {
    "link": "same link",
    "text": "same text",
    "near": "near-duplicate text",
    "title": "same title, too little text to compare",
}


def story_json(story: Story) -> dict[str, Any]:
    """``{"id": …, "items": [{"id": …, "link": …, "feed": …, "joined": …}, …],
    "watchlists": […]}``. ``joined`` says why an item is in the story (null for the one
    that started it) and which item it was found like; ``watchlists`` what each
    watchlist that met the story decided: alerted (by which item, as an update of an
    edited entry or not) or silent, and why; ``muted`` ``{"since": …, "until": …}``
    (``until`` null: until unmuted; past: the mute ran out) or null."""
    shown = {member.id: member.item.guid or member.item.entry_key for member in story.items}
    return {
        "id": str(story.id),
        "muted": (
            {
                "since": story.muted.since.isoformat(),
                "until": story.muted.until.isoformat() if story.muted.until else None,
            }
            if story.muted
            else None
        ),
        "items": [
            {
                "id": shown[member.id],
                "link": member.item.link,
                "feed": without_userinfo(member.feed_url),
                "title": member.item.title,
                "language": member.item.language,
                "joined": (
                    {
                        "by": member.joined_by,
                        "similarity": member.similarity,
                        "compared_with": shown.get(member.compared_with or 0),
                    }
                    if member.joined_by
                    else None
                ),
            }
            for member in story.items
        ],
        "watchlists": [
            {
                "watchlist": decision.watchlist,
                "alerted": decision.state == "alerted",
                "item": shown.get(decision.item_id),
                "update": decision.reason == "update",
                "why": None if decision.state == "alerted" else decision.reason,
            }
            for decision in story.decisions
        ],
    }


def join_reason(member: StoredItem, names: dict[int, str]) -> str:
    """Why an item is part of its story ("first", "same link", "near-duplicate text,
    similarity 0.94, like Wire"), ``names`` naming the story's items by id."""
    if not member.joined_by:
        return "first"
    reason = JOIN_REASONS.get(member.joined_by, member.joined_by)
    if member.similarity is not None:
        reason += f", similarity {member.similarity:.2f}"
    if member.joined_by in ("near", "title") and member.compared_with in names:
        reason += f", like {names[member.compared_with]}"
    return reason


def _decided(decision: WatchDecision, names: dict[int, str]) -> str:
    by = names.get(decision.item_id, f"item {decision.item_id}")
    if decision.state == "alerted":
        update = (
            " (an update: the entry was edited to match)" if decision.reason == "update" else ""
        )
        return f"  watchlist {decision.watchlist}: alerted by {by}{update}"
    return f"  watchlist {decision.watchlist}: silent for {by}: {decision.reason}"


def story_lines(story: Story) -> str:
    """A story for a person: its first title, then each item, where it came from and why
    it is part of the story, then what each watchlist that met it decided."""
    title = story.items[0].item.title if story.items else "(no items)"
    feeds = {source_name(member) for member in story.items}
    names = {member.id: source_name(member) for member in story.items}
    muted = f", muted {mute_span(story.muted)}" if story.muted else ""
    lines = [
        f"story {story.id}: {title} ({len(story.items)} item(s), {len(feeds)} source(s){muted})"
    ]
    lines += [
        f"  - {source_name(member)}:"
        f" {member.item.link or member.item.entry_key}"
        f"{f' ({member.item.language})' if member.item.language else ''}"
        f"  [{join_reason(member, names)}]"
        for member in story.items
    ]
    lines += [_decided(decision, names) for decision in story.decisions]
    return "\n".join(lines)


def delivery_json(delivery: Message) -> dict[str, Any]:
    """A message with its status and attempts, and what it is about: its item, the
    ids of a rollup's or digest's members, or a notice's text."""
    shown: dict[str, Any] = {
        "id": delivery.id,
        "message_id": delivery.message_id,
        "kind": delivery.kind.value,
        "status": delivery.status.value,
        "watchlist": delivery.watchlist,
        "notifier": delivery.notifier,
        "attempts": delivery.attempts,
        "next_attempt_at": iso_utc(delivery.next_attempt_at),
        "last_error": delivery.last_error,
        "created_at": iso_utc(delivery.created_at),
        "sent_at": iso_utc(delivery.sent_at),
        "claimed_by": delivery.claimed_by,
    }
    if delivery.stored is not None:
        shown["item"] = item_json(delivery.stored)
        shown["matched"] = matched_json(delivery.matched)
    if delivery.update:
        shown["update"] = True
    if delivery.parent_id is not None:
        shown["folded_into"] = delivery.parent_id
    if delivery.kind in (MessageKind.ROLLUP, MessageKind.DIGEST):
        shown["members"] = [member.id for member in delivery.members]
    if delivery.kind is MessageKind.NOTICE:
        shown["text"] = delivery.text
    if delivery.spread is not None:
        shown["spread"] = spread_json(delivery)
    return shown


def delivery_line(delivery: Message) -> str:
    """One line a message: id, status, attempts, where, what, and the last error."""
    line = (
        f"{delivery.id:>6}  {delivery.status.value:<7} attempts={delivery.attempts:<2} "
        f"{delivery.notifier} ← {headline(delivery)}"
    )
    if delivery.kind is not MessageKind.ALERT:
        line += f" ({delivery.kind.value.replace('_', '-')})"
    if delivery.parent_id is not None:
        line += f" (in {delivery.parent_id})"
    if delivery.claimed_by:
        line += f" (being sent by {delivery.claimed_by})"
    elif delivery.status.value == "pending":
        line += f" (next {iso_utc(delivery.next_attempt_at)})"
    if delivery.last_error:
        line += f"\n        last error: {delivery.last_error}"
    return line


def mute_span(mute: Mute) -> str:
    """``until 2026-12-14 13:00 UTC`` or ``until unmuted``, for people."""
    if mute.until is None:
        return "until unmuted"
    return f"until {mute.until.astimezone(UTC):%Y-%m-%d %H:%M} UTC"
