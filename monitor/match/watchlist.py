"""Watchlists with ``any``/``all``/``none`` term lists, compiled once per configuration."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Protocol

from monitor.match.document import Document, Term
from monitor.match.query import evaluate, parse_query, resolve_aliases
from monitor.models import MatchedTerm

if TYPE_CHECKING:  # only for types: the configuration imports the query parser
    from monitor.config import WatchlistSettings


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


class _Watchlist:
    """What every kind of watchlist takes from its settings: name, targets, fields."""

    def __init__(self, settings: WatchlistSettings, notifiers: Sequence[str]) -> None:
        self.name = settings.name
        self.notifiers = tuple(notifiers)
        self.follow_ups = settings.follow_ups == "message"
        self.fields = tuple(settings.fields)


class KeywordWatchlist(_Watchlist):
    """Any of ``any`` (when given), every one of ``all``, none of ``none``, in ``fields``."""

    def __init__(
        self,
        settings: WatchlistSettings,
        notifiers: Sequence[str],
        aliases: Mapping[str, Sequence[str]] | None = None,
    ) -> None:
        super().__init__(settings, notifiers)
        groups = aliases or {}
        self.any_terms = [Term.parse(text) for text in resolve_aliases(settings.any, groups)]
        self.all_terms = [Term.parse(text) for text in resolve_aliases(settings.all, groups)]
        self.none_terms = [Term.parse(text) for text in resolve_aliases(settings.none, groups)]

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


class QueryWatchlist(_Watchlist):
    """A watchlist whose rule is one boolean query (``monitor.match.query``)."""

    def __init__(
        self,
        settings: WatchlistSettings,
        notifiers: Sequence[str],
        aliases: Mapping[str, Sequence[str]] | None = None,
    ) -> None:
        assert settings.query is not None
        super().__init__(settings, notifiers)
        self.query = parse_query(settings.query, aliases or {})

    def match(self, document: Document) -> tuple[MatchedTerm, ...] | None:
        """The query's verdict, with the terms that made it true."""
        found = evaluate(self.query, document, self.fields)
        return None if found is None else tuple(found)
