"""The watchlist language: terms → compiled matchers → matched terms per field.

Callers use ``Document``, ``Matcher`` and ``compile_watchlists``; the boolean query
language will arrive behind the same ``Matcher`` interface.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from monitor.config import Settings
from monitor.match.document import Document, Term
from monitor.match.watchlist import KeywordWatchlist, Matcher
from monitor.models import Item, Match, NewItem

__all__ = ["Document", "KeywordWatchlist", "Matcher", "Term", "compile_watchlists", "match_items"]


def compile_watchlists(settings: Settings) -> list[Matcher]:
    """Matchers for every watchlist, each aimed at its active notifiers."""
    active = list(settings.active_notifiers())
    matchers: list[Matcher] = []
    for watchlist in settings.watchlists:
        wanted = active if watchlist.notify is None else watchlist.notify
        matchers.append(KeywordWatchlist(watchlist, [name for name in wanted if name in active]))
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
