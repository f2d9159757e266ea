"""An item's searchable fields as folded words, indexed for whole-word and phrase lookup."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from monitor.models import Item
from monitor.text import tokenize, words


@dataclass(frozen=True, slots=True)
class Term:
    """A watchlist term as written, and the folded words it must match in order."""

    text: str
    words: tuple[str, ...]

    @classmethod
    def parse(cls, text: str) -> Term:
        """``Qarabağ`` → (qarabag); ``"Nagorno Karabakh"`` or ``Nagorno-Karabakh`` → a phrase."""
        cleaned = text.strip()
        if len(cleaned) >= 2 and cleaned[0] == cleaned[-1] and cleaned[0] in "\"'":
            cleaned = cleaned[1:-1]
        return cls(text=cleaned, words=tuple(words(cleaned)))


class _FieldIndex:
    __slots__ = ("positions", "words")

    def __init__(self, text: str) -> None:
        self.words = words(text)
        self.positions: dict[str, list[int]] = {}
        for position, word in enumerate(self.words):
            self.positions.setdefault(word, []).append(position)

    def contains(self, term: Term) -> bool:
        first, rest = term.words[0], term.words[1:]
        for start in self.positions.get(first, ()):
            if tuple(self.words[start + 1 : start + 1 + len(rest)]) == rest:
                return True
        return False


class Document:
    """The fields of one item that watchlists search, built once and shared by all of them."""

    def __init__(self, fields: Mapping[str, str]) -> None:
        self.fields = dict(fields)
        self._indexes: dict[str, _FieldIndex] = {}

    @classmethod
    def of(cls, item: Item) -> Document:
        """``title``, and ``summary`` meaning the entry's summary and its full content."""
        summary = f"{item.summary}\n{item.content}" if item.content else item.summary
        return cls({"title": item.title, "summary": summary})

    def contains(self, field: str, term: Term) -> bool:
        """Whether the field holds the term as whole words, ignoring case and diacritics."""
        index = self._indexes.get(field)
        if index is None:
            index = self._indexes[field] = _FieldIndex(self.fields.get(field, ""))
        return index.contains(term)

    def spans(self, field: str, term: Term) -> list[tuple[int, int]]:
        """Character spans of the term's occurrences in the field's (NFC) text."""
        tokens = tokenize(self.fields.get(field, ""))
        size = len(term.words)
        found = []
        for start in range(len(tokens) - size + 1):
            if tuple(token.word for token in tokens[start : start + size]) == term.words:
                found.append((tokens[start].start, tokens[start + size - 1].end))
        return found
