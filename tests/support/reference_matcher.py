"""A slow, plain evaluator of query trees, written from the rules of docs/queries.md alone.

It shares nothing with the compiled matcher but the tokenizer and the analyzers (how
one word becomes a key in a view): it walks every word of the text for every leaf, in
every view the item is read in, so what it finds is easy to check by eye.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass

from monitor.languages import View
from monitor.match.query import All, AnyOf, Either, Leaf, Near, Node, Not, Scoped
from monitor.text import HYPHENS, WORD, Token, tokenize

Position = tuple[int, int]


def runs(text: str) -> list[tuple[int, int, str]]:
    """Every (first, last, joined) run of words where each pair is joined by exactly one
    hyphen, including each single word on its own."""
    text = unicodedata.normalize("NFC", text)
    tokens: list[Token] = tokenize(text)
    runs = []
    for first in range(len(tokens)):
        joined = tokens[first].word
        runs.append((first, first, joined))
        for last in range(first + 1, len(tokens)):
            between = text[tokens[last - 1].end : tokens[last].start]
            if len(between) != 1 or between not in HYPHENS:
                break
            joined += tokens[last].word
            runs.append((first, last, joined))
    return runs


@dataclass(frozen=True)
class Reading:
    """How a watchlist reads an item: the item's language, the languages the watchlist
    stems, and whether it transliterates."""

    language: str | None = None
    stem: frozenset[str] = frozenset()
    transliterate: bool = False

    def views(self, leaf: Leaf) -> list[View]:
        """The views a leaf is looked for in: as written always; by stems when the item's
        language is one the watchlist stems (never for ``=exact`` terms or prefixes); in
        ASCII letters when the watchlist transliterates (never for ``=exact``)."""
        exact = leaf.term is not None and leaf.term.exact
        stems = leaf.term is not None and not exact and self.language in self.stem
        ascii_too = self.transliterate and not exact
        found = [View()]
        if stems:
            found.append(View(self.language))
        if ascii_too:
            found.append(View(None, ascii=True))
            if stems:
                found.append(View(self.language, ascii=True))
        return found


def own_key(view: View, closed: str) -> str:
    """The key a folded word or closed-up run stands for first in a view."""
    return view.read([closed])[0][0]


def occurrences(text: str, leaf: Leaf, reading: Reading | None = None) -> set[Position]:
    """Where a leaf stands, in any view: the term's words in order, each word of the
    text standing for one of the term word's keys; or one of its one-word forms as a
    word or a closed-up hyphenated run (which stands for its keys as a word does); or,
    for a prefix, a word or run starting so."""
    reading = reading or Reading()
    tokens = tokenize(text)
    written = WORD.findall(unicodedata.normalize("NFC", text))
    found: set[Position] = set()
    for view in reading.views(leaf):
        keys = [set(reading) for reading in view.read(written)]
        assert len(keys) == len(tokens)
        if leaf.prefix is not None:
            start = own_key(view, leaf.prefix)
            found |= {
                (first, last)
                for first, last, joined in runs(text)
                if own_key(view, joined).startswith(start)
            }
            continue
        term = leaf.term
        assert term is not None
        wanted = [view.term_keys(w, f) for w, f in zip(term.written, term.words, strict=True)]
        size = len(wanted)
        found |= {
            (start, start + size - 1)
            for start in range(len(keys) - size + 1)
            if all(keys[start + at] & wanted[at] for at in range(size))
        }
        forms: set[str] = set(view.term_keys(term.closed, term.closed)) if term.closed else set()
        if size == 1:
            forms |= wanted[0]
        found |= {(at, at) for at in range(len(keys)) if keys[at] & forms}
        found |= {
            (first, last)
            for first, last, joined in runs(text)
            if first != last and set(view.read([joined])[0]) & forms
        }
    return found


def _leaves(node: Leaf | AnyOf) -> tuple[Leaf, ...]:
    return node.leaves if isinstance(node, AnyOf) else (node,)


def _gap(one: Position, other: Position) -> int:
    return other[0] - one[1] - 1 if other[0] > one[1] else one[0] - other[1] - 1


def evaluate(
    node: Node,
    fields: Mapping[str, str],
    searched: tuple[str, ...],
    reading: Reading | None = None,
) -> list[tuple[str, str]] | None:
    """(term as shown, field) for everything that made the query hold, or None."""
    if isinstance(node, Leaf | AnyOf):
        found = [
            (leaf.shown, field)
            for leaf in _leaves(node)
            for field in searched
            if occurrences(fields[field], leaf, reading)
        ]
        return found or None
    if isinstance(node, Near):
        shown = f"{node.left.shown} NEAR/{node.distance} {node.right.shown}"
        near = []
        for field in searched:
            text = fields[field]
            lefts = {at for leaf in _leaves(node.left) for at in occurrences(text, leaf, reading)}
            rights = {at for leaf in _leaves(node.right) for at in occurrences(text, leaf, reading)}
            if any(0 <= _gap(left, right) <= node.distance for left in lefts for right in rights):
                near.append((shown, field))
        return near or None
    if isinstance(node, Scoped):
        return evaluate(node.node, fields, (node.field,), reading)
    if isinstance(node, Not):
        return [] if evaluate(node.node, fields, searched, reading) is None else None
    results = [evaluate(part, fields, searched, reading) for part in node.parts]
    if isinstance(node, All):
        if any(result is None for result in results):
            return None
        return [found for result in results if result is not None for found in result]
    assert isinstance(node, Either)
    held = [result for result in results if result is not None]
    return [found for result in held for found in result] if held else None
