"""The watchlist language: terms → compiled matchers → matched terms per field.

Callers use ``Document``, ``Matcher`` and ``compile_watchlists``; the boolean query
language will arrive behind the same ``Matcher`` interface.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

from monitor.match.document import Document, Term
from monitor.match.watchlist import KeywordWatchlist, Matcher, QueryWatchlist
from monitor.models import Item, Match, NewItem

if TYPE_CHECKING:  # only for types: the configuration imports the query parser from here
    from monitor.config import Settings

__all__ = [
    "Document",
    "KeywordWatchlist",
    "Matcher",
    "QueryWatchlist",
    "Term",
    "compile_watchlists",
    "match_items",
]


def compile_watchlists(settings: Settings) -> list[Matcher]:
    """Matchers for every watchlist, each aimed at its active notifiers."""
    active = list(settings.active_notifiers())
    matchers: list[Matcher] = []
    for watchlist in settings.watchlists:
        wanted = active if watchlist.notify is None else watchlist.notify
        targets = [name for name in wanted if name in active]
        kind = QueryWatchlist if watchlist.query is not None else KeywordWatchlist
        matchers.append(kind(watchlist, targets, settings.aliases))
    return matchers


def match_items(items: Iterable[Item], matchers: Sequence[Matcher]) -> list[NewItem]:
    """Run every watchlist over every item; each item's text is indexed once."""
    results = []
    for item in items:
        document = Document.of(item)
        matches = []
        for matcher in matchers:
            terms = matcher.match(document)
            if terms is not None:
                matches.append(Match(matcher.name, matcher.notifiers, terms, matcher.follow_ups))
        results.append(NewItem(item, tuple(matches)))
    return results
