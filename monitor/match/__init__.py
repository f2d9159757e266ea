"""The watchlist language: specs → one compiled ``WatchlistSet`` → matches per item.

``monitor.match`` takes plain specs; ``wiring.watchlists`` makes them from the
configuration.
"""

from __future__ import annotations

from collections.abc import Iterable

from monitor.match.compiled import WatchlistSet
from monitor.match.document import Document, FeedLabels, Term
from monitor.match.query import QueryError, parse_query
from monitor.match.watchlist import WatchlistSpec, keyword_rule
from monitor.models import Item, NewItem

__all__ = [
    "Document",
    "FeedLabels",
    "QueryError",
    "Term",
    "WatchlistSet",
    "WatchlistSpec",
    "keyword_rule",
    "match_items",
    "parse_query",
]


def match_items(
    items: Iterable[Item], watchlists: WatchlistSet, feed: FeedLabels | None = None
) -> list[NewItem]:
    """Every item with the watchlists it matched; each item's text is folded once."""
    if not len(watchlists):
        return [NewItem(item) for item in items]
    return [NewItem(item, tuple(watchlists.match(Document.of(item, feed)))) for item in items]
