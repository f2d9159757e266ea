"""Watchlists for tests: one watchlist compiled alone, and its verdict on a document."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from monitor.config import WatchlistSettings
from monitor.match import Document, WatchlistSet
from monitor.models import MatchedTerm
from monitor.wiring.watchlists import watchlist_spec


class OneWatchlist:
    """A single configured watchlist, matched through the compiled set as in production."""

    def __init__(self, aliases: Mapping[str, Sequence[str]] | None = None, **rules: Any) -> None:
        settings = WatchlistSettings.model_validate({"name": "w", **rules})
        self.watchlists = WatchlistSet([watchlist_spec(settings, ["console"], aliases)])

    def match(self, document: Document) -> tuple[MatchedTerm, ...] | None:
        """The terms found, or None when the watchlist does not match."""
        found = self.watchlists.match(document)
        return found[0].terms if found else None
