"""Watchlist specs: plain data that the compiled matcher is built from.

Both kinds of watchlist become one syntax tree: ``any``/``all``/``none`` lists are the
query ``(a OR b) c d -(e OR f)``, so one evaluator serves both.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from monitor.languages import STEMMED_LANGUAGES
from monitor.match.document import Term
from monitor.match.query import All, Either, Leaf, Node, Not, resolve_aliases

DEFAULT_STEMMED = STEMMED_LANGUAGES - {"en"}


@dataclass(frozen=True, slots=True)
class WatchlistSpec:
    """One watchlist as the matcher needs it: a rule over some fields, and who hears."""

    name: str
    rule: Node
    fields: tuple[str, ...] = ("title", "summary")
    notifiers: tuple[str, ...] = ()
    follow_ups: bool = False  # another source of an alerted story sends a short note
    # The languages whose items also match this watchlist's terms by their stems
    # (``Карабах`` finds "Карабаха"); English keeps whole words unless asked.
    stem: frozenset[str] = DEFAULT_STEMMED
    transliterate: bool = False  # also match the terms across scripts (Карабах ↔ Karabakh)


def keyword_rule(
    any_of: Sequence[str],
    all_of: Sequence[str],
    none_of: Sequence[str],
    aliases: Mapping[str, Sequence[str]] | None = None,
) -> Node:
    """Any of ``any_of`` (when given), every one of ``all_of``, none of ``none_of``.

    List terms are taken literally: a ``*`` or an ``OR`` in a list is text to find."""
    groups = aliases or {}

    def leaves(values: Sequence[str]) -> list[Node]:
        terms = (Term.parse(value) for value in resolve_aliases(values, groups))
        return [Leaf(term.text, term=term) for term in terms if term.words]

    parts: list[Node] = []
    if any_of:
        parts.append(Either(tuple(leaves(any_of))))
    parts += leaves(all_of)
    if none_of:
        parts.append(Not(Either(tuple(leaves(none_of)))))
    return All(tuple(parts))
