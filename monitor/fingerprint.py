"""Near-duplicate fingerprints: MinHash signatures of an item's words, and their bands.

A re-post changes the headline, swaps a few words, adds or drops boilerplate, or carries
only the first paragraphs. So an item is fingerprinted by the set of its 3-word shingles
(title and text, boilerplate removed) and, separately, by the shingles of its lead (the
first ``LEAD_WORDS`` words of the text):

- the *full* signature (64 minima) estimates Jaccard similarity: copies with edits;
- the *lead* signature (32 minima) tells that two items open with the same words, and
  then the sizes turn the full estimate into containment: a lead-only copy is contained
  in the full text (and the full text contains the lead-only item).

Signatures are cut into bands of four minima; each band is an identity key, so items that
share one band are candidates, confirmed by the estimated similarity (``similarity``).
One hash per shingle and a vectorised multiply-shift per minimum (numpy) keep this to
tens of microseconds per item, in the worker processes.
"""

from __future__ import annotations

import hashlib
import re
from functools import lru_cache

import numpy as np
import numpy.typing as npt

from monitor.models import Fingerprint
from monitor.text import words

SHINGLE = 3
FULL_MINIMA = 64
LEAD_MINIMA = 32
ROWS_PER_BAND = 4
LEAD_WORDS = 40
MAX_WORDS = 1200  # enough text to know a story; bounds the cost of a very long one
# Two items "open with the same words" when their leads are this similar (by containment
# of the shorter lead): only then is the full text's containment estimate trusted.
LEAD_AGREEMENT = 0.8

# Boilerplate that scrapers and blog engines glue onto a story. Lines are compared
# folded (case and accents ignored), so each entry is written once, in lower case.
BOILERPLATE_LINES = frozenset(
    {
        "source link",
        "source",
        "leave a reply",
        "leave a comment",
        "cancel reply",
        "share this",
        "share this article",
        "share this story",
        "like this",
        "loading",
        "related",
        "related posts",
        "related articles",
        "related stories",
        "you may also like",
        "more from this author",
        "read more",
        "continue reading",
        "advertisement",
        "sponsored",
        "print",
        "email",
        "tweet",
        "share",
        "comments",
        "no comments",
    }
)
# Short lines that start like this are navigation, sharing or bylines, not the story.
BOILERPLATE_PREFIXES = re.compile(
    r"^(share on|share via|click to share|click to email|click to print|follow us|"
    r"subscribe to|sign up for|related:|read more:|read also:|see also:|also read:|"
    r"written by |posted by |reporting by |editing by |photo:|image:|"
    r"copyright |©|all rights reserved)"
)
# "By Jane Doe": a plain "by" starts a byline only on a line this short ("By noon the
# two delegations had agreed" is the story).
BYLINE = re.compile(r"^by\s")
MAX_BYLINE_WORDS = 5
MAX_BOILERPLATE_WORDS = 14
MAX_BOILERPLATE_CHARS = 160  # longer lines are never boilerplate: not even looked at
TAIL_CHARS = 600  # the tails below are looked for in the last characters only
# Tails that feeds append inside the last paragraph.
BOILERPLATE_TAILS = re.compile(
    r"\s*(the post .{1,300}? appeared first on .{1,150}?|continue reading.{0,80}?|"
    r"read more.{0,40}?|\[(?:…|\.\.\.)\]|\(?source link\)?)\s*$",
    re.IGNORECASE | re.DOTALL,
)
TAIL_MARKERS = ("appeared first on", "continue reading", "read more", "[…]", "[...]", "source")
# Words a headline is sometimes dressed in: "BREAKING: …", "UPDATE 2-…".
HEADLINE_PREFIX = re.compile(
    r"^\s*(breaking( news)?|update( \d+)?|updated|exclusive|watch|live|just in|"
    r"video|analysis|opinion|factbox|explainer)\s*[:\-–—|]+\s*",
    re.IGNORECASE,
)

_random = np.random.default_rng(20201010)  # fixed: signatures must agree across runs
FULL_A = _random.integers(1, 2**63, size=FULL_MINIMA, dtype=np.uint64) * 2 + 1
FULL_B = _random.integers(0, 2**63, size=FULL_MINIMA, dtype=np.uint64)
LEAD_A = _random.integers(1, 2**63, size=LEAD_MINIMA, dtype=np.uint64) * 2 + 1
LEAD_B = _random.integers(0, 2**63, size=LEAD_MINIMA, dtype=np.uint64)
SHINGLE_MIX = _random.integers(1, 2**63, size=SHINGLE, dtype=np.uint64) * 2 + 1
BAND_MIX = _random.integers(1, 2**63, size=ROWS_PER_BAND, dtype=np.uint64) * 2 + 1
FULL_SALT = np.uint64(0x9E3779B97F4A7C15)
LEAD_SALT = np.uint64(0xC2B2AE3D27D4EB4F)
U64 = npt.NDArray[np.uint64]


def strip_boilerplate(text: str) -> str:
    """The text without the scraper and blog-engine lines around the story."""
    kept = []
    for line in text.split("\n"):
        if len(line) <= MAX_BOILERPLATE_CHARS:
            line_words = words(line)
            if not line_words or " ".join(line_words) in BOILERPLATE_LINES:
                continue
            start = line.strip().casefold()
            if len(line_words) <= MAX_BOILERPLATE_WORDS and BOILERPLATE_PREFIXES.match(start):
                continue
            if len(line_words) <= MAX_BYLINE_WORDS and BYLINE.match(start):
                continue
        kept.append(line)
    kept_text = "\n".join(kept)
    head, tail = kept_text[:-TAIL_CHARS], kept_text[-TAIL_CHARS:]
    folded_tail = tail.casefold()
    if not any(marker in folded_tail for marker in TAIL_MARKERS):
        return kept_text  # the regex below is costly; most texts have no such tail
    return head + BOILERPLATE_TAILS.sub("", tail)


def strip_headline_prefix(title: str) -> str:
    """``BREAKING: Ceasefire agreed`` → ``Ceasefire agreed``."""
    return HEADLINE_PREFIX.sub("", title, count=1)


@lru_cache(maxsize=1 << 17)
def _word_hash(word: str) -> int:
    # Stable across processes and runs (Python's hash() is not).
    return int.from_bytes(hashlib.blake2b(word.encode(), digest_size=8).digest(), "little")


def shingle_hashes(folded_words: list[str]) -> U64:
    """The distinct hashes of a text's ``SHINGLE``-word runs (one word alone if shorter)."""
    if not folded_words:
        return np.empty(0, dtype=np.uint64)
    hashes = np.fromiter(map(_word_hash, folded_words), dtype=np.uint64, count=len(folded_words))
    if len(hashes) >= SHINGLE:
        span = len(hashes) - SHINGLE + 1
        combined = hashes[:span] * SHINGLE_MIX[0]
        for offset in range(1, SHINGLE):
            combined += hashes[offset : offset + span] * SHINGLE_MIX[offset]
        hashes = combined
    hashes ^= hashes >> np.uint64(31)
    return np.unique(hashes)


def _minima(shingles: U64, a: U64, b: U64) -> npt.NDArray[np.uint32]:
    # Multiply-shift hashing: the top 32 bits of a*x + b (mod 2^64) for each (a, b).
    values = (np.multiply.outer(a, shingles) + b[:, None]) >> np.uint64(32)
    minima: npt.NDArray[np.uint32] = values.min(axis=1).astype(np.uint32)
    return minima


def _bands(minima: npt.NDArray[np.uint32], salt: np.uint64) -> tuple[int, ...]:
    rows = minima.astype(np.uint64).reshape(-1, ROWS_PER_BAND)
    keys = (rows * BAND_MIX).sum(axis=1, dtype=np.uint64)
    keys += np.arange(len(rows), dtype=np.uint64) * salt  # band i never meets band j
    keys ^= keys >> np.uint64(29)
    return tuple(int(key) for key in keys.view(np.int64))


def title_and_body_words(title: str, body: str) -> tuple[list[str], list[str]]:
    """The folded words identity is computed from: the title without "BREAKING:" and the
    like, and the first ``MAX_WORDS`` of the text without its boilerplate."""
    return words(strip_headline_prefix(title)), words(strip_boilerplate(body))[:MAX_WORDS]


def fingerprint(title: str, body: str) -> Fingerprint | None:
    """The signatures and band keys of an item; None when it has no words at all."""
    return fingerprint_of_words(*title_and_body_words(title, body))


def fingerprint_of_words(title_words: list[str], body_words: list[str]) -> Fingerprint | None:
    """``fingerprint`` for words already folded by ``title_and_body_words``."""
    full = shingle_hashes(title_words + body_words)
    if full.size == 0:
        return None
    lead = shingle_hashes(body_words[:LEAD_WORDS] or title_words)
    full_minima = _minima(full, FULL_A, FULL_B)
    lead_minima = _minima(lead, LEAD_A, LEAD_B)
    return Fingerprint(
        full=full_minima.tobytes(),
        lead=lead_minima.tobytes(),
        full_size=int(full.size),
        lead_size=int(lead.size),
        words=len(body_words),
        title=np.unique(
            np.fromiter(map(_word_hash, title_words), dtype=np.uint64, count=len(title_words))
        )
        .astype(np.uint32)
        .tobytes(),
        bands=_bands(full_minima, FULL_SALT),
        lead_bands=_bands(lead_minima, LEAD_SALT),
    )


def _agreement(first: bytes, second: bytes) -> float:
    equal = np.frombuffer(first, dtype=np.uint32) == np.frombuffer(second, dtype=np.uint32)
    return int(np.count_nonzero(equal)) / len(equal)


def _containment(jaccard: float, smaller: int, larger: int) -> float:
    # |A ∩ B| / |A| from J = |A ∩ B| / |A ∪ B| and the two sizes.
    if jaccard <= 0 or smaller <= 0:
        return 0.0
    return min(1.0, jaccard * (smaller + larger) / ((1 + jaccard) * smaller))


def title_overlap(first: Fingerprint, second: Fingerprint) -> float:
    """Jaccard similarity of the two titles' words (1.0 when either has no title)."""
    if not first.title or not second.title:
        return 1.0
    mine = set(np.frombuffer(first.title, dtype=np.uint32).tolist())
    theirs = set(np.frombuffer(second.title, dtype=np.uint32).tolist())
    return len(mine & theirs) / len(mine | theirs)


def similarity(first: Fingerprint, second: Fingerprint) -> float:
    """How much two items are one text: estimated Jaccard similarity, or, when they open
    with the same words, how much of the shorter one the longer contains."""
    jaccard = _agreement(first.full, second.full)
    lead_sizes = sorted((first.lead_size, second.lead_size))
    lead = _containment(_agreement(first.lead, second.lead), *lead_sizes)
    if lead < LEAD_AGREEMENT:
        return jaccard
    short, long = sorted((first, second), key=lambda each: each.full_size)
    if short.words <= LEAD_WORDS:
        return max(jaccard, lead)  # the short one is all lead, and the leads agree
    return max(jaccard, _containment(jaccard, short.full_size, long.full_size))
