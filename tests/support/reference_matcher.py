"""A slow, plain evaluator of query trees, written from the rules of docs/queries.md alone.

It shares nothing with the compiled matcher but the tokenizer: it walks every word of
the text for every leaf, so what it finds is easy to check by eye.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping

from monitor.match.query import All, AnyOf, Either, Leaf, Near, Node, Not, Scoped
from monitor.text import HYPHENS, Token, tokenize

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


def occurrences(text: str, leaf: Leaf) -> set[Position]:
    """Where a leaf stands: the term's words in order; or one of its one-word forms as
    a word or a closed-up hyphenated run; or, for a prefix, a word or run starting so."""
    words = [token.word for token in tokenize(text)]
    if leaf.prefix is not None:
        stem = leaf.prefix
        return {(first, last) for first, last, joined in runs(text) if joined.startswith(stem)}
    assert leaf.term is not None
    size = len(leaf.term.words)
    found = {
        (start, start + size - 1)
        for start in range(len(words) - size + 1)
        if tuple(words[start : start + size]) == leaf.term.words
    }
    forms = leaf.term.single_words
    found |= {(first, last) for first, last, joined in runs(text) if joined in forms}
    return found


def _leaves(node: Leaf | AnyOf) -> tuple[Leaf, ...]:
    return node.leaves if isinstance(node, AnyOf) else (node,)


def _gap(one: Position, other: Position) -> int:
    return other[0] - one[1] - 1 if other[0] > one[1] else one[0] - other[1] - 1


def evaluate(
    node: Node, fields: Mapping[str, str], searched: tuple[str, ...]
) -> list[tuple[str, str]] | None:
    """(term as shown, field) for everything that made the query hold, or None."""
    if isinstance(node, Leaf | AnyOf):
        found = [
            (leaf.shown, field)
            for leaf in _leaves(node)
            for field in searched
            if occurrences(fields[field], leaf)
        ]
        return found or None
    if isinstance(node, Near):
        shown = f"{node.left.shown} NEAR/{node.distance} {node.right.shown}"
        near = []
        for field in searched:
            lefts = {at for leaf in _leaves(node.left) for at in occurrences(fields[field], leaf)}
            rights = {at for leaf in _leaves(node.right) for at in occurrences(fields[field], leaf)}
            if any(0 <= _gap(left, right) <= node.distance for left in lefts for right in rights):
                near.append((shown, field))
        return near or None
    if isinstance(node, Scoped):
        return evaluate(node.node, fields, (node.field,))
    if isinstance(node, Not):
        return [] if evaluate(node.node, fields, searched) is None else None
    results = [evaluate(part, fields, searched) for part in node.parts]
    if isinstance(node, All):
        if any(result is None for result in results):
            return None
        return [found for result in results if result is not None for found in result]
    assert isinstance(node, Either)
    held = [result for result in results if result is not None]
    return [found for result in held for found in result] if held else None
