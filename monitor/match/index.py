"""One view's index of every watchlist term: the keys a term's words take in the view,
and the lookup that finds where terms stand among a text's keys."""

from __future__ import annotations

import operator
from dataclasses import dataclass

from ahocorasick_rs import AhoCorasick

from monitor.languages import View
from monitor.languages.analyzers import SHORTEST_ALTERNATE, stems_of
from monitor.match.document import Document, FoldedField, Term

Position = tuple[int, int]  # word positions (first, last) in a field
Standing = tuple[tuple[str, ...], tuple[int, ...]]  # a word's keys here, its prefix leaves
AS_WRITTEN = "\x00"  # marks the keys of terms a stem view finds as written only
Hits = dict[int, list[Position]]  # leaf id → where it stands
Phrase = tuple[int, tuple[frozenset[str], ...]]  # a leaf, and the keys its other words take
# Stands for a space inside one folded word (a ligature such as ﷺ folds to four words'
# letters with spaces between): the automaton reads spaces as word boundaries.
SPACE_IN_WORD = "\x1f"


@dataclass(frozen=True, slots=True)
class Scanner:
    """Every key of an index in one automaton; ``finds[n]``: the (leaf, words after the
    first) that its pattern ``n`` stands for."""

    automaton: AhoCorasick | None
    finds: list[tuple[tuple[int, int], ...]]


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
        # What a word must be to stand for a term or begin a phrase.
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
        self._as_written = frozenset(
            key.removeprefix(AS_WRITTEN) for key in self._vocabulary if key.startswith(AS_WRITTEN)
        )
        # Every beginning of a key, to rule most new words out before reading them.
        self._beginnings = frozenset(
            key[:size]
            for key in self._vocabulary
            if not key.startswith(AS_WRITTEN)
            for size in range(1, len(key) + 1)
        )
        # What each word seen so far stands for, in a stem view (by the word as written).
        self._seen: dict[str, Standing | None] = {}
        self._scan: Scanner | None = None
        # A word's first letters, as many as the shortest stem has: a new word that
        # does not begin like any prefix's stem needs no look at the prefixes.
        self._head = operator.itemgetter(slice(0, shortest))
        return self

    def _scanner(self) -> Scanner:
        """The automaton of every key here, built once per process (it does not
        pickle): a form as `` key `` (a whole word), a phrase as its words' keys in
        order, a prefix as `` stem`` (a word's beginning), each with what it finds."""
        if self._scan is None:
            found: dict[str, list[tuple[int, int]]] = {}
            for key, leaves in self.forms.items():
                found.setdefault(f" {_one(key)} ", []).extend((leaf, 0) for leaf in leaves)
            for key, phrases in self.phrases.items():
                for leaf, rest in phrases:
                    # A view that reads a word as one key gives each word one key.
                    words = [key, *(next(iter(keys)) for keys in rest)]
                    found.setdefault(_joined(words), []).append((leaf, len(rest)))
            for stem, leaves in self.prefixes.items():
                found.setdefault(f" {_one(stem)}", []).extend((leaf, 0) for leaf in leaves)
            patterns = list(found)
            automaton = AhoCorasick(patterns) if patterns else None
            self._scan = Scanner(automaton, [tuple(found[pattern]) for pattern in patterns])
        return self._scan

    def __getstate__(self) -> dict[str, object]:
        return {**self.__dict__, "_scan": None}  # rebuilt where it is used

    def hits(self, folded: FoldedField, found: Hits) -> None:
        """Add to ``found`` where each term stands in a field's words (positions): the
        words as one view reads them, one key each.

        The words, joined by single spaces, go through one automaton of every key (in
        Rust, the text scanned once whatever the number of terms): a match that starts
        at the space before word ``n`` stands at ``n``."""
        scanner = self._scanner()
        if scanner.automaton is None or not folded.words:
            return
        text = _joined(folded.words)
        finds = scanner.finds
        for pattern, start, _ in scanner.automaton.find_matches_as_indexes(text, overlapping=True):
            at = text.count(" ", 0, start)
            for leaf, extra in finds[pattern]:
                found.setdefault(leaf, []).append((at, at + extra))
        compounds = folded.compounds
        if compounds:  # a run closed up stands for the terms its closed form is alone
            runs = list(compounds)
            text = _joined(runs)
            for pattern, start, _ in scanner.automaton.find_matches_as_indexes(
                text, overlapping=True
            ):
                run = runs[text.count(" ", 0, start)]
                for leaf, extra in finds[pattern]:
                    if not extra:  # a phrase's words are words of the text, not runs
                        found.setdefault(leaf, []).extend(compounds[run])

    LIMIT = 300_000  # words whose keys are kept; then the memory starts again empty

    def _standing_keys(self, view: View, words: list[str]) -> list[Standing | None]:
        """For each word, what it may stand for here: the keys of its reading in
        ``view`` that this index holds, and the prefixes it starts with (mostly none).
        Kept per word as written: news vocabulary repeats, so most items cost a lookup
        per word."""
        seen = self._seen
        try:
            return list(map(seen.__getitem__, words))
        except KeyError:  # new words: learned all at once
            new = list(set(words).difference(seen))
            if len(seen) + len(new) > self.LIMIT:
                seen.clear()
                new = list(set(words))
            seen.update(zip(new, self._learn(view, new), strict=True))
            return list(map(seen.__getitem__, words))

    def _learn(self, view: View, words: list[str]) -> list[Standing | None]:
        """What new words stand for. Most stand for nothing, and that is known before
        their readings are spelled out: every key of a word's reading begins with the
        word cut to its stem (``stem_reading``), so unless some key here begins so, it
        has none."""
        assert view.language is not None
        vocabulary, beginnings, as_written = self._vocabulary, self._beginnings, self._as_written
        prefixes, lengths, stem_heads = self.prefixes, self._stem_lengths, self._stem_heads
        head, spell = self._head, view.spelled
        found: list[Standing | None] = []
        for folded, stem in zip(*stems_of(view.language, words), strict=True):
            if folded.startswith(stem):
                cut = spell(folded[: max(len(stem), SHORTEST_ALTERNATE)])
                begins = not cut or cut in beginnings
            else:  # the stemmer rewrote letters: the stem, and the word itself
                begins = spell(stem) in vocabulary or spell(folded) in vocabulary
            keys: tuple[str, ...] = ()
            if begins:
                keys = tuple(key for key in view.reading(folded, stem) if key in vocabulary)
            if folded in as_written:
                keys += (AS_WRITTEN + folded,)
            prefixed: tuple[int, ...] = ()
            if stem_heads and head(folded) in stem_heads:
                prefixed = tuple(
                    leaf
                    for length in lengths
                    if length <= len(folded)
                    for leaf in prefixes.get(folded[:length], ())
                )
            found.append((keys, prefixed) if keys or prefixed else None)
        return found

    def stem_hits(self, view: View, document: Document, field: str, found: Hits) -> None:
        """As ``hits``, in a stem view: each word stands for any key of its reading
        (``View.reading``), and for the prefixes its folded form starts with; so does
        each hyphenated run closed up, over the positions it covers."""
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
        compounds = document.folded(field).compounds
        if compounds:  # a run closed up stands as one word would (its reading, prefixes)
            closed = list(compounds)
            for run, standing in zip(closed, self._standing_keys(view, closed), strict=True):
                if standing is not None:
                    keys, prefixed = standing
                    for leaf in (*prefixed, *(leaf for key in keys for leaf in forms.get(key, ()))):
                        found.setdefault(leaf, []).extend(compounds[run])


def _one(key: str) -> str:
    """A key as the automaton reads one word: spaces inside it are not boundaries."""
    return key.replace(" ", SPACE_IN_WORD)


def _joined(words: list[str]) -> str:
    """Words as the automaton reads them: each between single spaces, so that the
    spaces before a position count the words before it."""
    text = f" {' '.join(words)} "
    if text.count(" ") != len(words) + 1:  # a word holds a space of its own: rare
        text = f" {' '.join(map(_one, words))} "
    return text
