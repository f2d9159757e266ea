"""Text normalisation shared by identity and matching.

HTML becomes plain text (never matched as markup); words are folded so that case and
diacritics do not matter (``Qarabağ`` = ``qarabag``), and split into tokens that keep
their position in the original text for highlighting.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from html import unescape
from html.parser import HTMLParser

from selectolax.lexbor import LexborHTMLParser

WORD = re.compile(r"\w+")
# Hyphen-minus, hyphen, non-breaking hyphen: "cease-fire". Not dashes: "2019–2020".
HYPHENS = "-\u2010\u2011"
# A word, or words joined by single hyphens: "cease-fire", "Nagorno-Karabakh-based".
# Possessive: a failed run never backtracks into the word it started with.
WORD_RUN = re.compile(rf"\w++(?:[{HYPHENS}]\w++)*+")
HYPHEN = re.compile(rf"[{HYPHENS}]")
SPACES = re.compile(r"[ \t\r\f\v\u00a0]+")
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
    spaced = SPACES.sub(" ", text.translate(INVISIBLE))
    if "\n" not in spaced:
        return spaced.strip()
    return "\n".join(line for part in spaced.split("\n") if (line := part.strip()))


@lru_cache(maxsize=65536)
def fold(word: str) -> str:
    """Case- and diacritic-insensitive form of a word: ``Qarabağ`` → ``qarabag``."""
    decomposed = unicodedata.normalize("NFKD", word.casefold().translate(EXTRA_FOLDS))
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
    text = unicodedata.normalize("NFC", text)
    if not any(hyphen in text for hyphen in HYPHENS):
        return words(text), {}
    plain = text.isascii()
    if plain:
        text = text.lower()  # folding ASCII is lower-casing
    # One regex pass finds words and hyphenated runs together; only runs need Python.
    tokens = WORD_RUN.findall(text)
    runs = [(at, token) for at, token in enumerate(tokens) if not token.isalnum()]
    found = HYPHEN.sub(" ", " ".join(tokens)).split() if runs else tokens
    if not plain:
        found = [fold(word) for word in found]
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
    return found, compounds


def merge_spans(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Sorted spans with overlaps joined: "Karabakh" inside "Nagorno-Karabakh" is one mark."""
    merged: list[tuple[int, int]] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged
