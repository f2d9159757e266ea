"""An item's searchable fields, folded once into words for every watchlist to share."""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from monitor.models import Item
from monitor.text import HYPHENS, WORD, words, words_and_compound_spans


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
        """The one-word forms of the term: a word of the text, or a hyphenated compound
        of the text closed up, can be any of them."""
        forms = {self.closed} if self.closed else set()
        if len(self.words) == 1:
            forms.add(self.words[0])
        return forms


@dataclass(frozen=True, slots=True)
class FeedLabels:
    """What a feed is called, for ``feed:`` and ``tag:`` in queries: its URL, its
    configured name, the title it declares, and its tags."""

    url: str = ""
    name: str | None = None
    title: str | None = None
    tags: tuple[str, ...] = ()

    @property
    def text(self) -> str:
        """What ``feed:`` searches: name, title and URL, one per line."""
        return "\n".join(part for part in (self.name, self.title, self.url) if part)


@dataclass(frozen=True, slots=True)
class FoldedField:
    """A field's folded words, and each hyphenated run closed up with the word
    positions (first, last) it covers: ``a cease-fire`` → ``ceasefire`` at (1, 2)."""

    words: list[str]
    compounds: dict[str, list[tuple[int, int]]]


class Document:
    """The fields of one item that watchlists search, folded once and shared by all."""

    def __init__(self, fields: Mapping[str, str]) -> None:
        self.fields = dict(fields)
        self._folded: dict[str, FoldedField] = {}
        self._offsets: dict[str, list[tuple[int, int]]] = {}

    @classmethod
    def of(cls, item: Item, feed: FeedLabels | None = None) -> Document:
        """``title``, ``summary`` (the entry's summary, its full content and its
        article's text), and for queries ``fulltext`` (the article's text alone),
        ``author``, ``url`` (the link), ``lang``, ``feed`` and ``tag``."""
        labels = feed or FeedLabels()
        return cls(
            {
                "title": item.title,
                "summary": item.searched_summary,
                "fulltext": item.fulltext,
                "author": item.author or "",
                "url": item.link or "",
                "lang": item.language or "",
                "feed": labels.text,
                "tag": "\n".join(labels.tags),
            }
        )

    def folded(self, field: str) -> FoldedField:
        """The field's folded words and closed compounds (computed once)."""
        folded = self._folded.get(field)
        if folded is None:
            found, compounds = words_and_compound_spans(self.fields.get(field, ""))
            folded = self._folded[field] = FoldedField(found, compounds)
        return folded

    def char_spans(self, field: str, positions: Sequence[tuple[int, int]]) -> list[tuple[int, int]]:
        """Character spans, in the field's NFC text, of word positions (first, last)."""
        offsets = self._offsets.get(field)
        if offsets is None:
            text = unicodedata.normalize("NFC", self.fields.get(field, ""))
            offsets = self._offsets[field] = [match.span() for match in WORD.finditer(text)]
        return sorted({(offsets[first][0], offsets[last][1]) for first, last in positions})
