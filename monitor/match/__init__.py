"""The watchlist language: specs → one compiled ``WatchlistSet`` → matches per item.

``monitor.match`` takes plain specs; only ``compile_watchlists`` reads the configuration
(imported for types alone, since the configuration imports the query parser from here).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from monitor.match.compiled import WatchlistSet
from monitor.match.document import Document, FeedLabels, Term
from monitor.match.watchlist import WatchlistSpec, keyword_rule, spec_of
from monitor.models import Item, NewItem

if TYPE_CHECKING:
    from monitor.config import Settings

__all__ = [
    "Document",
    "FeedLabels",
    "Term",
    "WatchlistSet",
    "WatchlistSpec",
    "compile_watchlists",
    "keyword_rule",
    "match_items",
    "spec_of",
]


def compile_watchlists(settings: Settings) -> WatchlistSet:
    """Every watchlist of a configuration in one matcher, each aimed at its active
    notifiers."""
    active = list(settings.active_notifiers())
    specs = []
    for watchlist in settings.watchlists:
        wanted = active if watchlist.notify is None else watchlist.notify
        targets = [name for name in wanted if name in active]
        specs.append(spec_of(watchlist, targets, settings.aliases))
    return WatchlistSet(specs)


def match_items(
    items: Iterable[Item], watchlists: WatchlistSet, feed: FeedLabels | None = None
) -> list[NewItem]:
    """Every item with the watchlists it matched; each item's text is folded once."""
    if not len(watchlists):
        return [NewItem(item) for item in items]
    return [NewItem(item, tuple(watchlists.match(Document.of(item, feed)))) for item in items]
