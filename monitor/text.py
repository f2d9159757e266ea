"""Text normalisation shared by identity and matching.

HTML becomes plain text (never matched as markup); words are folded so that case and
diacritics do not matter (``Qarabağ`` = ``qarabag``), and split into tokens that keep
their position in the original text for highlighting.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from html import unescape
from html.parser import HTMLParser

from selectolax.lexbor import LexborHTMLParser


def _mark_classes() -> tuple[str, str]:
    """Two character classes over the Basic Multilingual Plane: the combining marks, and
    those of them that folding drops (a combining class above 0: accents, Arabic vowel
    signs; not the spacing vowel signs of Devanagari, which are letters to a reader).

    ``\\w`` leaves marks out, so alone it cuts words at Arabic vowel signs (مُحَمَّد),
    Devanagari vowel signs (हिन्दी) and Hebrew points; inside a word they are part of it.
    Armenian writes its emphasis and question marks over a vowel, inside the word
    (ինչո՞ւ): those are kept in the word too, and folded away."""
    marks: list[tuple[int, int]] = []
    dropped: list[tuple[int, int]] = []
    for code in range(0x0300, 0x10000):
        char = chr(code)
        if unicodedata.category(char)[0] == "M":
            _extend(marks, code)
            if unicodedata.combining(char):
                _extend(dropped, code)
    return _char_class(marks) + re.escape(ARMENIAN_IN_WORD), _char_class(dropped)


def _extend(ranges: list[tuple[int, int]], code: int) -> None:
    if ranges and ranges[-1][1] == code - 1:
        ranges[-1] = (ranges[-1][0], code)
    else:
        ranges.append((code, code))


def _char_class(ranges: list[tuple[int, int]]) -> str:
    return "".join(f"{re.escape(chr(first))}-{re.escape(chr(last))}" for first, last in ranges)


# Armenian emphasis, exclamation and question marks: written on the stressed vowel.
ARMENIAN_IN_WORD = "\u055b\u055c\u055e"
IN_WORD, DROPPED_MARKS = _mark_classes()
COMBINING = re.compile(f"[{DROPPED_MARKS}]+")
ASTRAL = re.compile("[\U00010000-\U0010ffff]")
WORD = re.compile(rf"\w[\w{IN_WORD}]*+")
# Hyphen-minus, hyphen, non-breaking hyphen: "cease-fire". Not dashes: "2019–2020".
HYPHENS = "-\u2010\u2011"
# A word, or words joined by single hyphens: "cease-fire", "Nagorno-Karabakh-based".
# Possessive: a failed run never backtracks into the word it started with.
WORD_RUN = re.compile(rf"\w[\w{IN_WORD}]*+(?:[{HYPHENS}]\w[\w{IN_WORD}]*+)*+")
HYPHEN = re.compile(rf"[{HYPHENS}]")
# Runs of spaces to make one space. A single space is left alone rather than replaced
# by itself: one replacement per word made this a third of tidying an item's text.
OTHER_SPACES = "\t\r\f\v\u00a0"
SPACES = re.compile(rf"[ {OTHER_SPACES}][ {OTHER_SPACES}]+|[{OTHER_SPACES}]")
# Soft hyphens and zero-width characters sit inside words ("Kara\u00adbakh"); they are not
# word characters, so left in they would split one word into two.
INVISIBLE = str.maketrans("", "", "\u00ad\u200b\u200c\u200d\u2060\ufeff")
# Letters that Unicode does not decompose into a base letter plus a mark, but that
# readers treat as the same letter when they search.
EXTRA_FOLDS = str.maketrans(
    {
        "ı": "i",
        "ə": "e",
        "ø": "o",
        "ł": "l",
        "đ": "d",
        "ð": "d",
        "þ": "th",
        "æ": "ae",
        "œ": "oe",
        "ŀ": "l",
        "ħ": "h",
        # Arabic tatweel stretches a word for looks (الـسلام): not a letter.
        "\u0640": None,
        **dict.fromkeys(ARMENIAN_IN_WORD),
    }
)
SKIPPED_TAGS = frozenset({"script", "style", "template", "noscript", "svg", "math", "head"})
BLOCK_TAGS = frozenset(
    {
        "p",
        "div",
        "br",
        "li",
        "ul",
        "ol",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "blockquote",
        "pre",
        "tr",
        "table",
        "section",
        "article",
        "figure",
        "figcaption",
        "hr",
        "header",
        "footer",
    }
)


# HTML5 reads what these hold as text (an <iframe>'s fallback markup shows as tags): a
# fragment with one goes to html.parser, which reads it as markup, as it always did.
RAW_TEXT_ELEMENTS = re.compile(
    r"<(iframe|noembed|noframes|xmp|textarea|title|plaintext)[\s/>]", re.IGNORECASE
)
# lexbor's head always exists (a leading <style> or <meta> goes there): only what a
# fragment's own markup puts in it is skipped, so <head> itself is not removed.
SKIPPED_SELECTOR = ",".join(sorted(SKIPPED_TAGS - {"head"}))
# Whether a fragment's markup opens one of them: most do not, and a search for the tag
# costs a tenth of asking the parsed tree (a false alarm only costs that query).
SKIPPED_TAG = re.compile(rf"<(?:{'|'.join(sorted(SKIPPED_TAGS - {'head'}))})", re.IGNORECASE)
BLOCK_SELECTOR = ",".join(sorted(BLOCK_TAGS))


class _TextExtractor(HTMLParser):
    """Collects the text of an HTML fragment, dropping scripts and styles."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.skipping = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in SKIPPED_TAGS:
            self.skipping += 1
        elif tag in BLOCK_TAGS:
            self.parts.append("\n")

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in BLOCK_TAGS:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in SKIPPED_TAGS:
            self.skipping = max(0, self.skipping - 1)
        elif tag in BLOCK_TAGS:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self.skipping:
            self.parts.append(data)


def html_to_text(html: str) -> str:
    """Plain text of an HTML fragment: tags and scripts gone, entities decoded, spaces tidy.

    Inline tags (``<a>``, ``<b>``, ``<span>``) never split a word; block tags always do.
    """
    if "<" not in html and "&" not in html:
        return tidy(html)
    if "<" not in html:
        return tidy(unescape(html))
    if RAW_TEXT_ELEMENTS.search(html):
        return _html_parser_text(html)
    return _lexbor_text(html)


def _lexbor_text(html: str) -> str:
    """The fragment parsed by lexbor (C, HTML5 rules): about twice as fast as Python's
    ``html.parser`` and it keeps text that a stray ``<head>`` or ``<noscript>`` written
    into a post made ``html.parser`` drop to the end of the fragment."""
    tree = LexborHTMLParser(html)
    if SKIPPED_TAG.search(html):
        for node in tree.css(SKIPPED_SELECTOR):
            node.decompose()
    for node in tree.css(BLOCK_SELECTOR):
        node.insert_before("\n")
        node.insert_after("\n")
    root = tree.root
    return "" if root is None else tidy(root.text(deep=True, separator="", strip=False))


def _html_parser_text(html: str) -> str:
    extractor = _TextExtractor()
    extractor.feed(html)
    extractor.close()
    return tidy("".join(extractor.parts))


def tidy(text: str) -> str:
    """Drop invisible in-word characters; collapse runs of spaces and blank lines.

    Whitespace around a line break goes, and blank lines with it: the same as replacing
    every run of whitespace that holds a line break by one, without a regex that must
    be tried at every character (which was 40% of reading an item's text).
    """
    spaced = text.translate(INVISIBLE)
    # Most texts (three in four of the corpus's) have nothing to collapse, and a few
    # substring searches tell so at a fraction of the regex's cost.
    if "  " in spaced or any(space in spaced for space in OTHER_SPACES):
        spaced = SPACES.sub(" ", spaced)
    if "\n" not in spaced:
        return spaced.strip()
    return "\n".join(line for part in spaced.split("\n") if (line := part.strip()))


@lru_cache(maxsize=262144)
def fold(word: str) -> str:
    """Case- and diacritic-insensitive form of a word: ``Qarabağ`` → ``qarabag``."""
    if word.isascii():
        return word.lower()  # the same, without the decomposition
    decomposed = unicodedata.normalize("NFKD", word.casefold().translate(EXTRA_FOLDS))
    if ASTRAL.search(decomposed) is None:
        return COMBINING.sub("", decomposed)  # in C: the marks of the plane the class holds
    return "".join(char for char in decomposed if not unicodedata.combining(char))


@dataclass(frozen=True, slots=True)
class Token:
    """One folded word and where it stands in the (NFC) text it came from."""

    word: str
    start: int
    end: int


def tokenize(text: str) -> list[Token]:
    """Folded words of a text with their spans; punctuation and hyphens split words."""
    text = unicodedata.normalize("NFC", text)
    return [Token(fold(found.group()), found.start(), found.end()) for found in WORD.finditer(text)]


def words(text: str) -> list[str]:
    """Folded words of a text, without spans: the cheap form for hashing and matching."""
    text = unicodedata.normalize("NFC", text)
    if text.isascii():  # folding ASCII is lower-casing: one call for the whole text
        return WORD.findall(text.lower())
    return [fold(found) for found in WORD.findall(text)]


def words_and_compounds(text: str) -> tuple[list[str], set[str]]:
    """Folded words, and the closed forms of hyphenated ones.

    "cease-fire" gives the words ``cease``, ``fire`` and the compound ``ceasefire``, so
    that a watch for either spelling finds both (newsrooms differ: "ceasefire" at one,
    "cease-fire" at another).
    """
    found, compounds = words_and_compound_spans(text)
    return found, set(compounds)


def words_and_compound_spans(text: str) -> tuple[list[str], dict[str, list[tuple[int, int]]]]:
    """Folded words, and each closed form of a hyphenated run with the word positions
    (first, last) it covers: ``a cease-fire`` → ``ceasefire`` at (1, 2)."""
    _, found, compounds = written_words_and_compound_spans(text)
    return found, compounds


def written_words_and_compound_spans(
    text: str,
) -> tuple[list[str], list[str], dict[str, list[tuple[int, int]]]]:
    """The words as written (NFC), the same words folded, and the closed forms of the
    hyphenated runs with their word positions (``words_and_compound_spans``)."""
    text = unicodedata.normalize("NFC", text)
    if not any(hyphen in text for hyphen in HYPHENS):
        written = WORD.findall(text)
        return written, fold_all(written), {}
    # One regex pass finds words and hyphenated runs together; only runs need Python.
    tokens = WORD_RUN.findall(text)
    runs = [(at, token) for at, token in enumerate(tokens) if not token.isalnum()]
    written = HYPHEN.sub(" ", " ".join(tokens)).split() if runs else tokens
    found = fold_all(written)
    compounds: dict[str, list[tuple[int, int]]] = {}
    extra = 0  # words that earlier runs added beyond one token each
    for at, token in runs:
        size = len(HYPHEN.split(token))  # a token with "_" but no hyphen is one word
        start = at + extra
        for first in range(size):
            for last in range(first + 2, size + 1):
                closed = "".join(found[start + first : start + last])
                compounds.setdefault(closed, []).append((start + first, start + last - 1))
        extra += size - 1
    return written, found, compounds


def fold_all(found: Sequence[str]) -> list[str]:
    """``fold`` of each word, in one call over them all (folding works letter by letter,
    and a space stays a space): much cheaper than a call per word."""
    if not found:
        return []
    joined = " ".join(found)
    if joined.isascii():  # folding ASCII is lower-casing
        return joined.lower().split(" ")
    folded = fold(joined).split(" ")
    if len(folded) != len(found):  # a letter whose compatibility form holds a space
        return list(map(fold, found))
    return folded


def merge_spans(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Sorted spans with overlaps joined: "Karabakh" inside "Nagorno-Karabakh" is one mark."""
    merged: list[tuple[int, int]] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged
