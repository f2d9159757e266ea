"""The alert as JSON: the webhook body, and the item shape the CLI's ``--json`` shares."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from monitor.models import Delivery, MatchedTerm, StoredItem
from monitor.redact import without_userinfo

SNIPPET_CHARS = 600


def iso_utc(moment: datetime | None) -> str | None:
    """``2020-10-10T09:00:00Z``, or None."""
    return None if moment is None else moment.strftime("%Y-%m-%dT%H:%M:%SZ")


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
    return {
        "id": item.guid or item.entry_key,
        "title": item.title,
        "link": item.link,
        "summary": snippet(item.summary or item.content),
        "published": iso_utc(item.published),
        "feed": {"url": without_userinfo(stored.feed_url), "title": stored.feed_title},
    }


def source_name(stored: StoredItem) -> str:
    """The feed an item came from, as people read it."""
    return stored.feed_title or without_userinfo(stored.feed_url)


def matched_json(terms: tuple[MatchedTerm, ...]) -> list[dict[str, str]]:
    """Matched terms as ``[{"term": …, "field": …}]``."""
    return [{"term": term.term, "field": term.field} for term in terms]


def alert_payload(delivery: Delivery) -> dict[str, Any]:
    """The webhook body: the same ``id`` as the ``webhook-id`` header, on every retry.

    ``type`` is ``alert``, or ``follow_up`` for an "also reported by" note, whose
    ``item`` is the new source of the story."""
    return {
        "type": delivery.kind,
        "id": delivery.message_id,
        "watchlist": delivery.watchlist,
        "item": item_json(delivery.stored),
        "story": {"id": str(delivery.stored.story_id), "sources": delivery.story_sources},
        "matched": matched_json(delivery.matched),
    }
