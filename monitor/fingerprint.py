"""Near-duplicate fingerprints: bottom-k sketches of an item's 3-word shingles.

A re-post changes the headline, swaps a few words, adds or drops boilerplate, or carries
only the first paragraphs. So an item is known by the set of its 3-word shingles (title
and text, boilerplate removed), hashed to 32 bits, and keeps:

- its *sketch*: the ``SKETCH_SIZE`` smallest shingle hashes. Any two sketches estimate
  the Jaccard similarity of the two sets, and how much of one the other contains,
  over the hashes below both sketches' thresholds (threshold sampling). Because the
  sample is the hashes themselves, not minima of permutations, shingles that many
  stories share (templates, standard paragraphs; see ``monitor.dedupe``) can be taken
  out of both samples at comparison time: they carry no weight;
- its *lead*: every shingle hash of the first ``LEAD_WORDS`` words of the text, so that
  two items that open with the same words are recognised, and a lead-only copy can be
  measured by how much of it the full text contains;
- its *heading* (the shingles that start in the title) and its title's word hashes, so
  that two items under unrelated headlines can be compared by their texts alone;
- the hashes of the numbers it gives, so that two reports that differ in their figures
  (scores, prices, temperatures, counts) are not taken for one story lightly.

Hashing is native: the folded words of a whole batch of items are hashed in one pass of
numpy over their UTF-8 bytes (a polynomial hash per word from prefix sums), shingles are
combined with multiply-add, and each item's distinct hashes come from one sort of the
batch. No Python work per word or per shingle.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from monitor.models import Sketch
from monitor.text import words

SHINGLE = 3
SKETCH_SIZE = 128
LEAD_WORDS = 40
MAX_WORDS = 1200  # enough text to know a story; bounds the cost of a very long one
MAX_NUMBERS = 32  # the numbers an item gives, kept (the smallest hashes)
FULL_RANGE = 0xFFFF_FFFF

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

U64 = npt.NDArray[np.uint64]
U32 = npt.NDArray[np.uint32]
# The word hash is a polynomial in an odd base modulo 2^64, read from prefix sums of
# byte * base^position; dividing by base^start (its inverse, since the base is odd)
# makes it independent of where the word stands. Fixed constants: hashes are stored, so
# they must agree across processes, runs and versions.
_BASE = 0x100000001B3
_POWER_BLOCK = 1 << 16
_MIX_1 = np.uint64(0xBF58476D1CE4E5B9)
_MIX_2 = np.uint64(0x94D049BB133111EB)
_SHINGLE_MIX = np.array(
    [0x9E3779B97F4A7C15, 0xC2B2AE3D27D4EB4F, 0x165667B19E3779F9], dtype=np.uint64
)
_powers: U64 = np.empty(0, dtype=np.uint64)
_inverse_powers: U64 = np.empty(0, dtype=np.uint64)


def _powers_for(size: int) -> tuple[U64, U64]:
    """base^i and base^-i (mod 2^64) for i < size, grown in blocks and kept."""
    global _powers, _inverse_powers
    if _powers.size < size:
        length = -(-size // _POWER_BLOCK) * _POWER_BLOCK
        steps = np.full(length, _BASE, dtype=np.uint64)
        steps[0] = 1
        _powers = np.cumprod(steps, dtype=np.uint64)
        steps[1:] = pow(_BASE, -1, 1 << 64)
        _inverse_powers = np.cumprod(steps, dtype=np.uint64)
    return _powers, _inverse_powers


def _mixed(values: U64, shift: int = 32) -> U64:
    """A bijective scramble of 64-bit values (splitmix64's finaliser)."""
    values = values ^ (values >> np.uint64(30))
    values *= _MIX_1
    values ^= values >> np.uint64(27)
    values *= _MIX_2
    values ^= values >> np.uint64(shift)
    return values


def word_hashes(folded: Sequence[str]) -> U64:
    """One 64-bit hash per folded word, the same for the same word wherever it stands."""
    return _hashed_words(folded)[0]


def _hashed_words(folded: Sequence[str]) -> tuple[U64, npt.NDArray[np.bool_]]:
    """``word_hashes``, and which words are numbers (start with a digit)."""
    if not folded:
        return np.empty(0, dtype=np.uint64), np.empty(0, dtype=bool)
    data = np.frombuffer((" ".join(folded) + " ").encode(), dtype=np.uint8)
    powers, inverse = _powers_for(data.size)
    prefix = np.cumsum(data.astype(np.uint64) * powers[: data.size], dtype=np.uint64)
    ends = np.flatnonzero(data == 32)  # the space after each word
    starts = np.empty_like(ends)
    starts[0] = 0
    starts[1:] = ends[:-1] + 1
    before = np.zeros(ends.size, dtype=np.uint64)
    before[1:] = prefix[starts[1:] - 1]
    first = data[starts]
    numeric = (first >= ord("0")) & (first <= ord("9"))
    return _mixed((prefix[ends - 1] - before) * inverse[starts]), numeric


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


def title_and_body_words(title: str, body: str) -> tuple[list[str], list[str]]:
    """The folded words identity is computed from: the title without "BREAKING:" and the
    like, and the first ``MAX_WORDS`` of the text without its boilerplate."""
    return words(strip_headline_prefix(title)), words(strip_boilerplate(body))[:MAX_WORDS]


def sketch(title: str, body: str) -> Sketch | None:
    """The sketch of one item; None when it has no words at all."""
    return sketches([title_and_body_words(title, body)])[0]


def sketches(texts: Sequence[tuple[list[str], list[str]]]) -> list[Sketch | None]:
    """The sketches of a batch of items, each given as (title words, body words) folded
    by ``title_and_body_words``; hashed in one numpy pass over the whole batch."""
    runs = [title + body for title, body in texts]
    sizes = np.fromiter(map(len, runs), dtype=np.int64, count=len(runs))
    if not sizes.sum():
        return [None] * len(texts)
    hashes, numeric = _hashed_words([word for run in runs for word in run])
    starts = np.zeros(len(runs), dtype=np.int64)
    np.cumsum(sizes[:-1], out=starts[1:])
    owner = np.repeat(np.arange(len(runs), dtype=np.int64), sizes)
    position = np.arange(hashes.size, dtype=np.int64) - starts[owner]
    # A shingle starts at each word that has SHINGLE - 1 more words in its own item; an
    # item shorter than that is one shingle of all its words.
    combined = hashes.copy() * _SHINGLE_MIX[0]
    for offset in range(1, SHINGLE):
        shifted = np.zeros_like(hashes)
        shifted[:-offset] = hashes[offset:]
        same_item = np.zeros(hashes.size, dtype=bool)
        same_item[:-offset] = owner[offset:] == owner[:-offset]
        combined += np.where(same_item, shifted, 0) * _SHINGLE_MIX[offset]
    room = sizes[owner] - position
    starts_shingle = (room >= SHINGLE) | ((sizes[owner] < SHINGLE) & (position == 0))
    values = (_mixed(combined) >> np.uint64(32)).astype(np.uint64)
    titles = np.fromiter((len(title) for title, _ in texts), dtype=np.int64, count=len(texts))
    body_position = position - titles[owner]
    lead = starts_shingle & (body_position >= 0) & (body_position + SHINGLE <= LEAD_WORDS)
    # an item without body words has its title as its lead
    no_body = np.fromiter((not body for _, body in texts), dtype=bool, count=len(texts))
    lead |= starts_shingle & no_body[owner]
    heading = starts_shingle & (body_position < 0)
    in_title = body_position < 0
    title_values = hashes >> np.uint64(32)
    owner_key = owner.astype(np.uint64) << np.uint64(32)
    full_sets = _per_item(_distinct(owner_key[starts_shingle] | values[starts_shingle]), len(runs))
    lead_sets = _per_item(_distinct(owner_key[lead] | values[lead]), len(runs))
    heading_sets = _per_item(_distinct(owner_key[heading] | values[heading]), len(runs))
    title_sets = _per_item(_distinct(owner_key[in_title] | title_values[in_title]), len(runs))
    number_sets = _per_item(_distinct(owner_key[numeric] | title_values[numeric]), len(runs))
    found: list[Sketch | None] = []
    for index, (_, body) in enumerate(texts):
        full = full_sets[index]
        if not full.size:
            found.append(None)
            continue
        found.append(
            Sketch(
                sample=tuple(full[:SKETCH_SIZE].tolist()),
                lead=tuple(lead_sets[index].tolist()),
                shingles=int(full.size),
                words=len(body),
                heading=tuple(heading_sets[index].tolist()),
                title=tuple(title_sets[index].tolist()),
                numbers=tuple(number_sets[index][:MAX_NUMBERS].tolist()),
            )
        )
    return found


def _distinct(values: U64) -> U64:
    """Sorted distinct values (np.unique hashes first, which is slower for these sizes)."""
    ordered = np.sort(values)
    keep = np.empty(ordered.size, dtype=bool)
    keep[:1] = True
    np.not_equal(ordered[1:], ordered[:-1], out=keep[1:])
    return ordered[keep]


def _per_item(keyed: U64, count: int) -> list[U64]:
    """Sorted (item << 32 | hash) values split into each item's hashes."""
    owners = keyed >> np.uint64(32)
    bounds = np.searchsorted(owners, np.arange(count + 1, dtype=np.uint64))
    hashes = keyed & np.uint64(FULL_RANGE)
    return [hashes[bounds[i] : bounds[i + 1]] for i in range(count)]
