"""Messages as receivers get them: the webhook body (its items shaped as ``views``
shapes them for ``--json``), and a snippet with the matched terms marked."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from typing import Any

from monitor.models import Message, MessageKind
from monitor.views import SNIPPET_CHARS, item_json, matched_json, spread_json

NON_SPACE = re.compile(r"\S+")
MAX_PAYLOAD_ENTRIES = 100  # items listed in one rollup or digest body; "more" counts the rest
CONTEXT_CHARS = 120  # of the article before its first match, in a snippet from it


def marked_snippet(
    text: str, spans: Sequence[tuple[int, int]], limit: int = SNIPPET_CHARS
) -> list[tuple[str, bool]]:
    """``snippet(text, limit)`` in pieces, each saying whether it lies inside one of
    the character spans (of ``text``): the matched terms, for a channel to set in bold."""
    inside = bytearray(len(text))  # one byte per character: filled in C, not per char
    for start, end in spans:
        start, end = max(0, start), min(end, len(text))
        if start < end:
            inside[start:end] = b"\x01" * (end - start)
    chars: list[str] = []
    marks: list[int] = []
    for word in NON_SPACE.finditer(text):  # the same collapsing as ``snippet``
        if len(chars) > limit:
            break  # the rest is cut anyway: a huge content costs no more than a short one
        if chars:
            chars.append(" ")
            marks.append(inside[word.start() - 1])  # inside a phrase: marked too
        chars.extend(word.group())
        marks.extend(inside[word.start() : word.end()])
    if len(chars) > limit:
        kept = "".join(chars[:limit]).rsplit(" ", 1)[0]
        chars, marks = [*chars[: len(kept)], "…"], [*marks[: len(kept)], 0]
    pieces: list[tuple[str, bool]] = []
    for char, mark in zip(chars, marks, strict=True):
        if pieces and pieces[-1][1] == bool(mark):
            pieces[-1] = (pieces[-1][0] + char, bool(mark))
        else:
            pieces.append((char, bool(mark)))
    return pieces


def summary_spans(message: Message) -> tuple[str, list[tuple[int, int]]]:
    """The text an alert's snippet is cut from, and the spans of its matched terms in
    it (matching searched the summary, the content and the article as one field).

    The snippet is the entry's summary (or content) with its matches; when the terms
    matched only in the article's text, it is the article from a little before the first
    match, so the alert shows the words that made it."""
    item = message.item.item
    text = unicodedata.normalize("NFC", item.summary or item.content)
    shift = 0 if item.summary else 1  # the field was "summary\ncontent", summary empty
    searched = [span for term in message.matched if term.field == "summary" for span in term.spans]
    spans = [(start - shift, end - shift) for start, end in searched if end - shift <= len(text)]
    if item.fulltext:
        # Spans of ``fulltext:`` terms are in the article alone; it ends the searched text.
        whole = unicodedata.normalize("NFC", item.searched_summary)
        offset = len(whole) - len(unicodedata.normalize("NFC", item.fulltext))
        searched += [
            (start + offset, end + offset)
            for term in message.matched
            if term.field == "fulltext"
            for start, end in term.spans
        ]
    if spans or not searched or not item.fulltext:
        return text, spans
    first = min(searched)[0]
    start = whole.rfind(" ", 0, max(0, first - CONTEXT_CHARS)) + 1
    lead = "…" if start else ""
    window = [(s - start + len(lead), e - start + len(lead)) for s, e in searched if s >= start]
    return lead + whole[start:], window


def _entry_json(message: Message) -> dict[str, Any]:
    shown: dict[str, Any] = {
        "type": message.kind.value,
        "id": message.message_id,
        "watchlist": message.watchlist,
        "item": item_json(message.item),
        "story": {"id": str(message.item.story_id), "sources": message.story_sources},
        "matched": matched_json(message.matched),
    }
    if message.update:
        shown["update"] = True  # the entry was edited in place, and only now matches
    return shown


def alert_payload(message: Message) -> dict[str, Any]:
    """The webhook body: the same ``id`` as the ``webhook-id`` header, on every retry.

    ``type`` is ``alert`` (with ``"update": true`` when an entry edited in place now
    matches the watchlist), or ``follow_up`` for an "also reported by" note (whose
    ``item`` is the new source of the story); ``rollup`` and ``digest`` carry
    ``items`` (each shaped as an alert, at most 100, ``more`` counting the rest);
    ``notice`` carries ``text`` for the operator; ``spread`` is an alert whose ``item``
    is the story's first report and whose ``spread`` lists the sources that carried it
    within the time, first first (at most 100; ``more`` counts the rest)."""
    if message.kind in (MessageKind.ALERT, MessageKind.FOLLOW_UP):
        return _entry_json(message)
    if message.kind is MessageKind.SPREAD:
        return {**_entry_json(message), "spread": spread_json(message)}
    body: dict[str, Any] = {"type": message.kind.value, "id": message.message_id}
    if message.kind is MessageKind.NOTICE:
        body["text"] = message.text
        return body
    entries = message.entries
    body["watchlist"] = message.watchlist
    body["count"] = len(entries)
    body["items"] = [_entry_json(entry) for entry in entries[:MAX_PAYLOAD_ENTRIES]]
    body["more"] = max(0, len(entries) - MAX_PAYLOAD_ENTRIES)
    return body
