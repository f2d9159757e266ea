"""An item's searchable fields as folded words, indexed for whole-word and phrase lookup."""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass

from monitor.models import Item
from monitor.text import HYPHENS, tokenize, words, words_and_compound_spans


@dataclass(frozen=True, slots=True)
class Term:
    """A watchlist term as written, the folded words it must match in order, and for a
    hyphenated term its closed form (``cease-fire`` also finds ``ceasefire``)."""

    text: str
    words: tuple[str, ...]
    closed: str | None = None

    @classmethod
    def parse(cls, text: str) -> Term:
        """``Qarabağ`` → (qarabag); ``"Nagorno Karabakh"`` or ``Nagorno-Karabakh`` → a phrase."""
        cleaned = text.strip()
        if len(cleaned) >= 2 and cleaned[0] == cleaned[-1] and cleaned[0] in "\"'":
            cleaned = cleaned[1:-1]
        found = tuple(words(cleaned))
        hyphenated = len(found) > 1 and any(hyphen in cleaned for hyphen in HYPHENS)
        return cls(text=cleaned, words=found, closed="".join(found) if hyphenated else None)

    @property
    def single_words(self) -> set[str]:
        """The one-word forms of the term, which a hyphenated compound in a text can be."""
        forms = {self.closed} if self.closed else set()
        if len(self.words) == 1:
            forms.add(self.words[0])
        return forms


class _FieldIndex:
    __slots__ = ("compounds", "positions", "words")

    def __init__(self, text: str) -> None:
        self.words, self.compounds = words_and_compound_spans(text)
        self.positions: dict[str, list[int]] = {}
        for position, word in enumerate(self.words):
            self.positions.setdefault(word, []).append(position)

    def occurrences(self, term: Term) -> list[tuple[int, int]]:
        """Word positions (first, last) of every place the term stands, under the same
        rules as ``contains``."""
        size = len(term.words)
        found = [
            (start, start + size - 1)
            for start in self.positions.get(term.words[0], ())
            if tuple(self.words[start : start + size]) == term.words
        ]
        if term.closed is not None:
            found += [(at, at) for at in self.positions.get(term.closed, ())]
        for form in term.single_words:
            found += self.compounds.get(form, [])
        return found

    def prefix_occurrences(self, stem: str) -> list[tuple[int, int]]:
        """Word positions of every word (or closed compound) that starts with ``stem``."""
        found = [(at, at) for at, word in enumerate(self.words) if word.startswith(stem)]
        for compound, spans in self.compounds.items():
            if compound.startswith(stem):
                found += spans
        return found

    def contains(self, term: Term) -> bool:
        first, rest = term.words[0], term.words[1:]
        for start in self.positions.get(first, ()):
            if tuple(self.words[start + 1 : start + 1 + len(rest)]) == rest:
                return True
        if term.closed is not None and term.closed in self.positions:
            return True
        return any(form in self.compounds for form in term.single_words)


class Document:
    """The fields of one item that watchlists search, built once and shared by all of them."""

    def __init__(self, fields: Mapping[str, str]) -> None:
        self.fields = dict(fields)
        self._indexes: dict[str, _FieldIndex] = {}

    @classmethod
    def of(cls, item: Item) -> Document:
        """``title``, ``summary`` (the entry's summary and its full content), and for
        queries ``author``, ``url`` (the link) and ``lang``."""
        summary = f"{item.summary}\n{item.content}" if item.content else item.summary
        return cls(
            {
                "title": item.title,
                "summary": summary,
                "author": item.author or "",
                "url": item.link or "",
                "lang": item.language or "",
            }
        )

    def _index(self, field: str) -> _FieldIndex:
        index = self._indexes.get(field)
        if index is None:
            index = self._indexes[field] = _FieldIndex(self.fields.get(field, ""))
        return index

    def contains(self, field: str, term: Term) -> bool:
        """Whether the field holds the term as whole words, ignoring case and diacritics."""
        return self._index(field).contains(term)

    def positions(self, field: str, term: Term) -> list[tuple[int, int]]:
        """Word positions (first, last) of the term's occurrences in the field."""
        return self._index(field).occurrences(term)

    def prefix_positions(self, field: str, stem: str) -> list[tuple[int, int]]:
        """Word positions of the words in the field that start with the folded stem."""
        return self._index(field).prefix_occurrences(stem)

    def prefix_spans(self, field: str, stem: str) -> list[tuple[int, int]]:
        """Character spans of the words (or hyphenated compounds) that start with the
        folded stem."""
        text = unicodedata.normalize("NFC", self.fields.get(field, ""))
        tokens = tokenize(text)
        found = {(token.start, token.end) for token in tokens if token.word.startswith(stem)}
        for start, token in enumerate(tokens):
            joined = token.word
            for later in range(start + 1, len(tokens)):
                between = text[tokens[later - 1].end : tokens[later].start]
                if len(between) != 1 or between not in HYPHENS:
                    break
                joined += tokens[later].word
                if joined.startswith(stem):
                    found.add((token.start, tokens[later].end))
        return sorted(found)

    def spans(self, field: str, term: Term) -> list[tuple[int, int]]:
        """Character spans of the term's occurrences in the field's (NFC) text."""
        text = unicodedata.normalize("NFC", self.fields.get(field, ""))
        tokens = tokenize(text)
        size = len(term.words)
        found = set()
        for start in range(len(tokens) - size + 1):
            if tuple(token.word for token in tokens[start : start + size]) == term.words:
                found.add((tokens[start].start, tokens[start + size - 1].end))
        forms = term.single_words
        for start, token in enumerate(tokens):
            joined = token.word
            if joined in forms:
                found.add((token.start, token.end))
            for later in range(start + 1, len(tokens)):
                between = text[tokens[later - 1].end : tokens[later].start]
                if len(between) != 1 or between not in HYPHENS:
                    break
                joined += tokens[later].word
                if joined in forms:
                    found.add((token.start, tokens[later].end))
        return sorted(found)
