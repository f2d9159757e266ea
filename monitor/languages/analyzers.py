"""How a word becomes a matching key in a language: lower-cased as its readers do
(Turkish and Azerbaijani dotted and dotless i), reduced to its Snowball stem, and, for
watchlists that ask, written in ASCII letters so that scripts meet (Карабах ↔ Karabakh).

A *view* is one such way of reading words. The exact view is the folded word itself and
always applies; an item in Russian is also read in the Russian stem view, and so on.
Every view maps one word of the text to one key, so word positions (for ``NEAR`` and for
highlighting) are the same in every view.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache

import Stemmer
from anyascii import anyascii

from monitor.text import fold, fold_all

# ISO 639-1 code → Snowball algorithm (PyStemmer). Azerbaijani has no Snowball stemmer of
# its own: its suffixes are the Turkish ones with ə (Qarabağ-da, -ın, -a), and the Turkish
# stemmer finds them ("Qarabağda" → qarabak, "Ermənistanın" → ermənista).
SNOWBALL = {
    "ar": "arabic",
    "az": "turkish",
    "ca": "catalan",
    "cs": "czech",
    "da": "danish",
    "de": "german",
    "el": "greek",
    "en": "english",
    "eo": "esperanto",
    "es": "spanish",
    "et": "estonian",
    "eu": "basque",
    "fa": "persian",
    "fi": "finnish",
    "fr": "french",
    "ga": "irish",
    "hi": "hindi",
    "hu": "hungarian",
    "hy": "armenian",
    "id": "indonesian",
    "it": "italian",
    "lt": "lithuanian",
    "nb": "norwegian",
    "ne": "nepali",
    "nl": "dutch",
    "nn": "norwegian",
    "no": "norwegian",
    "pl": "polish",
    "pt": "portuguese",
    "ro": "romanian",
    "ru": "russian",
    "sr": "serbian",
    "sv": "swedish",
    "ta": "tamil",
    "tr": "turkish",
    "yi": "yiddish",
}
STEMMED_LANGUAGES = frozenset(SNOWBALL)
# A stem shorter than this is not a key on its own: "Алиев" stems to "ал", which would
# find "Али"; the term then matches only words whose stem is the term as written
# ("Алиева" → алиев). Arabic words are built on three-letter roots.
MIN_STEM = 4
MIN_STEM_BY_LANGUAGE = {"ar": 3, "fa": 3}
SHORTEST_ALTERNATE = 3
DOTTED_LANGUAGES = frozenset({"tr", "az"})
TURKISH_UPPER_I = str.maketrans({"I": "ı", "İ": "i"})


def primary(tag: str | None) -> str | None:
    """The language of a tag, lower case: ``en-US`` → ``en``, ``pt_BR`` → ``pt``."""
    if not tag:
        return None
    code = tag.replace("_", "-").split("-", 1)[0].strip().lower()
    return code or None


def lower_for(language: str | None, word: str) -> str:
    """Lower case as the language's readers write it: in Turkish and Azerbaijani, ``I``
    is the capital of ``ı`` and ``İ`` of ``i`` (English would make ``İ`` an ``i`` with a
    combining dot, and ``I`` an ``i``)."""
    if language in DOTTED_LANGUAGES:
        word = word.translate(TURKISH_UPPER_I)
    return word.lower()


@lru_cache(maxsize=64)
def _stemmer(language: str) -> Stemmer.Stemmer:
    stemmer = Stemmer.Stemmer(SNOWBALL[language])
    # Its own memory of stems costs more than it saves: the words come here once, as
    # the matcher keeps what each stands for.
    stemmer.maxCacheSize = 0
    return stemmer


def _stem_input(language: str, word: str) -> str:
    lowered = lower_for(language, word)
    if language == "az":
        # The Turkish stemmer checks vowel harmony and does not know ə: it is the e of
        # Turkish spelling ("atəşkəsi" is read as "ateşkesi" → ateşkes).
        lowered = lowered.replace("ə", "e")
    return lowered


@lru_cache(maxsize=65536)
def stem_key(language: str, word: str) -> str:
    """The folded Snowball stem of a word as written (stemmers need the letters the
    language writes, diacritics and case included; the stem is folded after)."""
    return fold(_stemmer(language).stemWord(_stem_input(language, word)))


@lru_cache(maxsize=262144)
def ascii_key(folded: str) -> str:
    """A folded word in ASCII letters (anyascii's table): Карабах → karabakh,
    Փաշինյան → pashinyan. Marks it adds between letters (an apostrophe for Armenian
    aspiration, an underscore) are dropped, so a word stays one word, and the key of a
    word's beginning is the beginning of its key."""
    if folded.isascii() and folded.isalnum():
        return folded
    return "".join(char for char in anyascii(folded).lower() if char.isalnum())


def stem_reading(language: str, folded: str, stem: str) -> tuple[str, ...]:
    """Every key a word of a text (``folded``, with its folded ``stem``) stands for in a
    language's stem view, its own first.

    Its own key is its stem, or the word itself when the stem is too short to stand for
    it ("Али" → али, not ал). The others are the word shortened to anything between its
    stem and itself, so that a term written in the base form finds the forms the
    stemmer cuts too short or too long ("ateşkesin" stems to ateşke, and still finds
    "ateşkes"; "Τουρκίας" stems to τουρκι, and finds "Τουρκία"): never shorter than the
    stem, nor than three letters. The word as written is always among them."""
    key = stem if len(stem) >= MIN_STEM_BY_LANGUAGE.get(language, MIN_STEM) else folded
    if not folded.startswith(stem):
        return (key,) if key == folded else (key, folded)
    others = [folded[:size] for size in range(max(len(stem), SHORTEST_ALTERNATE), len(folded) + 1)]
    if key in others:
        others.remove(key)
    return (key, *others)


def _as_folded(folded: str) -> str:
    return folded


class Readings:
    """The keys each word of a text stands for in one view, its own key first, kept per
    process (news vocabulary repeats): the words not seen yet are stemmed in one call."""

    LIMIT = 300_000  # words kept; then the memory starts again empty

    def __init__(self, view: View) -> None:
        self.view = view
        self._known: dict[str, tuple[str, ...]] = {}

    def of(self, words: Sequence[str]) -> list[tuple[str, ...]]:
        """Each word's keys, in order."""
        known = self._known
        missing = set(words).difference(known)
        if missing:
            if len(known) + len(missing) > self.LIMIT:
                known.clear()
            self._learn(list(missing))
        return list(map(known.__getitem__, words))

    def _learn(self, words: list[str]) -> None:
        view = self.view
        if view.language is None:
            readings: list[tuple[str, ...]] = [(key,) for key in map(view.spelled, fold_all(words))]
        else:
            folded, stems = stems_of(view.language, words)
            readings = list(map(view.reading, folded, stems))
        self._known.update(zip(words, readings, strict=True))


def stems_of(language: str, words: Sequence[str]) -> tuple[list[str], list[str]]:
    """Words (as written) folded, and their folded Snowball stems in ``language``: one
    call each for all the words, as a text's new words come together."""
    if language in DOTTED_LANGUAGES:
        lowered = [_stem_input(language, word) for word in words]
    else:  # one call for all: words hold no spaces
        lowered = " ".join(words).lower().split(" ")
    return fold_all(words), fold_all(_stemmer(language).stemWords(lowered))


_readings: dict[View, Readings] = {}


def stem_keys(language: str, word: str) -> frozenset[str]:
    """The keys a term's word stands for in a language's stem view: the word as
    written, and its stem when that is long enough to stand for it (``перемирие`` →
    перемир, which "перемирия" stems to as well; ``Алиев`` → ал is too short)."""
    folded = fold(word)
    stem = stem_key(language, word)
    shortest = MIN_STEM_BY_LANGUAGE.get(language, MIN_STEM)
    return frozenset({folded, stem} if len(stem) >= shortest else {folded})


@dataclass(frozen=True, slots=True)
class View:
    """One way of reading words: by their stems in ``language`` (None: as written),
    and in ASCII letters or not."""

    language: str | None = None
    ascii: bool = False

    def read(self, words: Sequence[str]) -> list[tuple[str, ...]]:
        """The keys each word of a text stands for in this view, its own key first."""
        readings = _readings.get(self)
        if readings is None:
            readings = _readings[self] = Readings(self)
        return readings.of(words)

    @property
    def spelled(self) -> Callable[[str], str]:
        """How a folded word (or stem) is spelled in this view's letters."""
        return ascii_key if self.ascii else _as_folded

    def reading(self, folded: str, stem: str) -> tuple[str, ...]:
        """The keys a word of a text (``folded``, with its folded ``stem`` in this
        view's language) stands for, its own first: ``stem_reading``, in this view's
        letters. Each is ``spelled(stem)`` or begins a ``spelled(folded)``."""
        assert self.language is not None
        keys = stem_reading(self.language, folded, stem)
        return tuple(dict.fromkeys(map(ascii_key, keys))) if self.ascii else keys

    def term_keys(self, word: str, folded: str) -> frozenset[str]:
        """The keys a term's word matches in this view."""
        keys = {folded} if self.language is None else stem_keys(self.language, word)
        return frozenset(ascii_key(key) for key in keys) if self.ascii else frozenset(keys)


EXACT = View()
