"""An item's searchable fields, folded once into words for every watchlist to share."""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from itertools import islice

from monitor.languages import View, primary
from monitor.languages.analyzers import EXACT
from monitor.models import Item
from monitor.text import HYPHENS, WORD, words, written_words_and_compound_spans


@dataclass(frozen=True, slots=True)
class Term:
    """A watchlist term as written, the folded words it must match in order, and for a
    hyphenated term its closed form (``cease-fire`` also finds ``ceasefire``).

    ``written`` holds the words as written (stemmers need their letters); an ``exact``
    term (written ``=Karabakh``) matches its words only, never their stems or their
    transliterations."""

    text: str
    words: tuple[str, ...]
    closed: str | None = None
    written: tuple[str, ...] = ()
    exact: bool = False

    @classmethod
    def parse(cls, text: str) -> Term:
        """``Qarabağ`` → (qarabag); ``"Nagorno Karabakh"`` or ``Nagorno-Karabakh`` → a
        phrase; ``=Karabakh`` or ``="Nagorno Karabakh"`` → exact."""
        cleaned = text.strip()
        exact = cleaned.startswith("=")
        if exact:
            cleaned = cleaned[1:].strip()
        if len(cleaned) >= 2 and cleaned[0] == cleaned[-1] and cleaned[0] in "\"'":
            cleaned = cleaned[1:-1]
        found = tuple(words(cleaned))
        written = tuple(WORD.findall(unicodedata.normalize("NFC", cleaned)))
        hyphenated = len(found) > 1 and any(hyphen in cleaned for hyphen in HYPHENS)
        closed = "".join(found) if hyphenated else None
        return cls(text=cleaned, words=found, closed=closed, written=written, exact=exact)

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
    """The fields of one item that watchlists search, folded once and shared by all;
    ``language`` (an ISO 639-1 code) says which language's stems its words are read by."""

    def __init__(self, fields: Mapping[str, str], language: str | None = None) -> None:
        self.fields = dict(fields)
        self.language = primary(language)
        self._folded: dict[str, FoldedField] = {}
        self._views: dict[tuple[str, View], FoldedField] = {}
        self._written: dict[str, list[str]] = {}
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
            },
            item.language,
        )

    def folded(self, field: str) -> FoldedField:
        """The field's folded words and closed compounds (computed once)."""
        folded = self._folded.get(field)
        if folded is None:
            text = self.fields.get(field, "")
            written, found, compounds = written_words_and_compound_spans(text)
            self._written[field] = written
            folded = self._folded[field] = FoldedField(found, compounds)
        return folded

    def viewed(self, field: str, view: View) -> FoldedField:
        """The field's words and closed compounds as keys of a view that reads each word
        as one key (the exact view, or ASCII letters; computed once): the same positions
        as ``folded``."""
        if view == EXACT:
            return self.folded(field)
        found = self._views.get((field, view))
        if found is None:
            keys = [reading[0] for reading in view.read(self.written(field))]
            found = FoldedField(keys, self.compounds(field, view))
            self._views[(field, view)] = found
        return found

    def compounds(self, field: str, view: View) -> dict[str, list[tuple[int, int]]]:
        """The field's hyphenated runs, closed up, as keys of ``view``."""
        folded = self.folded(field).compounds
        compounds: dict[str, list[tuple[int, int]]] = {}
        if folded:
            closed = list(folded)
            for reading, run in zip(view.read(closed), closed, strict=True):
                compounds.setdefault(reading[0], []).extend(folded[run])
        return compounds

    def written(self, field: str) -> list[str]:
        """The field's words as written (the same positions as ``folded``'s)."""
        found = self._written.get(field)
        if found is None:
            self.folded(field)
            found = self._written[field]
        return found

    def char_spans(self, field: str, positions: Sequence[tuple[int, int]]) -> list[tuple[int, int]]:
        """Character spans, in the field's NFC text, of word positions (first, last)."""
        offsets = self._offsets.get(field, [])
        furthest = max((last for _, last in positions), default=-1)
        if furthest >= len(offsets):
            # Words only as far as the furthest one asked for: a term is mostly found
            # early (a title, a lead). Each word as written is looked for where the last
            # one ended (the text between two words holds no word character, so the
            # next occurrence is the word): a find in C, not the word regex again.
            text = unicodedata.normalize("NFC", self.fields.get(field, ""))
            offsets = self._offsets[field] = []
            end = 0
            for word in islice(self.written(field), furthest + 1):
                start = text.find(word, end)
                end = start + len(word)
                offsets.append((start, end))
        return sorted({(offsets[first][0], offsets[last][1]) for first, last in positions})
