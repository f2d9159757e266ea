"""One view's index of every watchlist term: the keys a term's words take in the view,
and the lookup that finds where terms stand among a text's keys."""

from __future__ import annotations

import operator

from monitor.languages import View
from monitor.match.document import Document, FoldedField, Term
from monitor.text import fold

Position = tuple[int, int]  # word positions (first, last) in a field
Standing = tuple[tuple[str, ...], tuple[int, ...]]  # a word's keys here, its prefix leaves
AS_WRITTEN = "\x00"  # marks the keys of terms a stem view finds as written only
Hits = dict[int, list[Position]]  # leaf id → where it stands
Phrase = tuple[int, tuple[frozenset[str], ...]]  # a leaf, and the keys its other words take


class TermIndex:
    """The terms of every watchlist as keys of one view (words as written, or stems of
    one language, in their own letters or in ASCII), and where they stand in a text."""

    def __init__(self) -> None:
        self.forms: dict[str, list[int]] = {}
        self.phrases: dict[str, list[Phrase]] = {}
        self.prefixes: dict[str, list[int]] = {}

    def add_term(self, leaf: int, term: Term, view: View, *, as_written: bool = False) -> None:
        """Index a term: a one-word term (or a hyphenated one closed up) by its keys, a
        phrase by its first word's keys, with the keys each other word must have.

        ``as_written``: in a stem view, a term that is not stemmed there, found by its
        words as written only (its keys are marked, so that no other key of a word's
        reading, such as a shorter form, can stand for it)."""

        def keys_of(written: str, folded: str) -> frozenset[str]:
            if as_written:
                return frozenset({AS_WRITTEN + folded})
            return view.term_keys(written, folded)

        forms: set[str] = set()
        if term.closed:
            forms |= keys_of(term.closed, term.closed)
        if len(term.words) == 1:
            forms |= keys_of(term.written[0], term.words[0])
        for form in forms:
            self.forms.setdefault(form, []).append(leaf)
        if len(term.words) > 1:
            keys = [
                keys_of(written, folded)
                for written, folded in zip(term.written, term.words, strict=True)
            ]
            for first in keys[0]:
                self.phrases.setdefault(first, []).append((leaf, tuple(keys[1:])))

    def add_prefix(self, leaf: int, stem: str) -> None:
        """Index a prefix ``truc*`` by its (folded, or ASCII) stem."""
        self.prefixes.setdefault(stem, []).append(leaf)

    def seal(self) -> TermIndex:
        """Derive the lookup shortcuts once every term is in."""
        self._stem_lengths = tuple(sorted({len(stem) for stem in self.prefixes}))
        # What a word must be, or begin with, to stand for any term at all.
        self._starts = frozenset(self.forms) | frozenset(self.phrases)
        shortest = self._stem_lengths[0] if self._stem_lengths else 0
        self._stem_heads = frozenset(stem[:shortest] for stem in self.prefixes)
        # Every key a word may stand for here: a one-word form, any word of a phrase.
        rest = {
            key
            for phrases in self.phrases.values()
            for _, others in phrases
            for keys in others
            for key in keys
        }
        self._vocabulary = self._starts | rest
        self._seen: dict[str, Standing | None] = {}
        # A word's first letters, as many as the shortest stem has: map() applies it
        # to every word of a text in C, to rule out prefixes before any Python loop.
        self._head = operator.itemgetter(slice(0, shortest))
        return self

    def _standing(self, distinct: set[str]) -> dict[str, list[int]]:
        """The words of a text that stand for some term, with the leaves that stand on
        each alone: a term's word form, a phrase's first word (no leaf alone), or a word
        that starts with a prefix's stem."""
        forms = self.forms
        # Set operations run in C: most words of most items stand for nothing.
        present = {word: forms.get(word, []) for word in distinct.intersection(self._starts)}
        if self._stem_heads and not self._stem_heads.isdisjoint(map(self._head, distinct)):
            heads = self._stem_heads
            head = self._head
            for word in distinct:
                if head(word) in heads:
                    found: list[int] = []
                    for length in self._stem_lengths:
                        if length > len(word):
                            break
                        found += self.prefixes.get(word[:length], ())
                    if found:
                        present[word] = present.get(word, []) + found
        return present

    def hits(self, folded: FoldedField, found: Hits) -> None:
        """Add to ``found`` where each term stands in a field's words (positions): the
        words as one view reads them, one key each."""
        self._word_hits(folded, found)
        self._compound_hits(folded.compounds, found)

    def _compound_hits(self, compounds: dict[str, list[Position]], found: Hits) -> None:
        if compounds:
            for compound, units in self._standing(set(compounds)).items():
                for leaf in units:
                    found.setdefault(leaf, []).extend(compounds[compound])

    def _word_hits(self, folded: FoldedField, found: Hits) -> None:
        words = folded.words
        present = self._standing(set(words))
        if present:
            phrases = self.phrases
            for at, word in enumerate(words):
                units = present.get(word)
                if units is None:
                    continue
                for leaf in units:
                    found.setdefault(leaf, []).append((at, at))
                for leaf, rest in phrases.get(word, ()):
                    end = at + len(rest)
                    if end < len(words) and all(
                        words[at + 1 + offset] in keys for offset, keys in enumerate(rest)
                    ):
                        found.setdefault(leaf, []).append((at, end))

    LIMIT = 300_000  # words whose keys are kept; then the memory starts again empty

    def _standing_keys(self, view: View, written: list[str]) -> list[Standing | None]:
        """For each word, what it may stand for here: the keys of its reading in
        ``view`` that this index holds, and the prefixes it starts with (mostly none).
        Kept per word as written: news vocabulary repeats, so most items cost a set
        difference and a lookup per word."""
        seen = self._seen
        missing = set(written).difference(seen)
        if missing:
            if len(seen) + len(missing) > self.LIMIT:
                seen.clear()
            words = list(missing)
            vocabulary, prefixes, lengths = self._vocabulary, self.prefixes, self._stem_lengths
            for word, reading in zip(words, view.read(words), strict=True):
                keys = tuple(key for key in reading if key in vocabulary)
                folded = fold(word)
                if AS_WRITTEN + folded in vocabulary:
                    keys += (AS_WRITTEN + folded,)
                prefixed: tuple[int, ...] = ()
                if prefixes:
                    prefixed = tuple(
                        leaf
                        for length in lengths
                        if length <= len(folded)
                        for leaf in prefixes.get(folded[:length], ())
                    )
                seen[word] = (keys, prefixed) if keys or prefixed else None
        return list(map(seen.__getitem__, written))

    def stem_hits(self, view: View, document: Document, field: str, found: Hits) -> None:
        """As ``hits``, in a stem view: each word stands for any key of its reading
        (``View.read``), and for the prefixes its folded form starts with; hyphenated
        runs closed up are looked up as written and by their stems."""
        keyed = self._standing_keys(view, document.written(field))
        forms, phrases = self.forms, self.phrases
        for at, standing in enumerate(keyed):
            if standing is None:
                continue
            keys, prefixed = standing
            for leaf in prefixed:
                found.setdefault(leaf, []).append((at, at))
            for key in keys:
                for leaf in forms.get(key, ()):
                    found.setdefault(leaf, []).append((at, at))
                for leaf, rest in phrases.get(key, ()):
                    end = at + len(rest)
                    if end < len(keyed) and all(
                        (there := keyed[at + 1 + offset]) is not None
                        and not wanted.isdisjoint(there[0])
                        for offset, wanted in enumerate(rest)
                    ):
                        found.setdefault(leaf, []).append((at, end))
        for closed, positions in document.folded(field).compounds.items():
            leaves = list(self.forms.get(AS_WRITTEN + closed, ()))
            for length in self._stem_lengths:
                leaves += self.prefixes.get(closed[:length], ())
            for leaf in leaves:
                found.setdefault(leaf, []).extend(positions)
        self._compound_hits(document.compounds(field, view), found)
