"""Watchlists with ``any``/``all``/``none`` term lists, compiled once per configuration."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from monitor.config import WatchlistSettings
from monitor.match.document import Document, Term
from monitor.models import MatchedTerm


class Matcher(Protocol):
    """What the pipeline needs of a watchlist: its name, its notifiers and a verdict."""

    @property
    def name(self) -> str: ...

    @property
    def notifiers(self) -> tuple[str, ...]: ...

    @property
    def follow_ups(self) -> bool: ...

    def match(self, document: Document) -> tuple[MatchedTerm, ...] | None:
        """The terms found and where, or None when the item does not satisfy the rules."""
        ...


class KeywordWatchlist:
    """Any of ``any`` (when given), every one of ``all``, none of ``none``, in ``fields``."""

    def __init__(self, settings: WatchlistSettings, notifiers: Sequence[str]) -> None:
        self.name = settings.name
        self.notifiers = tuple(notifiers)
        self.follow_ups = settings.follow_ups == "message"
        self.fields = tuple(settings.fields)
        self.any_terms = [Term.parse(text) for text in settings.any]
        self.all_terms = [Term.parse(text) for text in settings.all]
        self.none_terms = [Term.parse(text) for text in settings.none]

    def _found(self, document: Document, term: Term) -> list[MatchedTerm]:
        return [
            MatchedTerm(term.text, field) for field in self.fields if document.contains(field, term)
        ]

    def match(self, document: Document) -> tuple[MatchedTerm, ...] | None:
        """Check the cheap exclusions last: most items fail on ``any`` first."""
        found: list[MatchedTerm] = []
        for term in self.any_terms:
            found += self._found(document, term)
        if self.any_terms and not found:
            return None
        for term in self.all_terms:
            hits = self._found(document, term)
            if not hits:
                return None
            found += hits
        for term in self.none_terms:
            if self._found(document, term):
                return None
        return tuple(found)
