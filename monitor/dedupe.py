"""Identity of a story across feeds: which stored story, if any, an item belongs to.

Each item has identity keys of several kinds: its canonical link (``link``), a hash of
its normalised title and text (``text``), its long normalised title (``title``), and the
band keys of its near-duplicate fingerprint (``band``, ``lead``; see ``fingerprint``).
The store keeps them as rows and returns the stored items that share a key with a new
one; ``resolve_story`` decides, as a pure function of those candidates:

1. the same canonical link or the same text: that story;
2. otherwise the most similar candidate from another feed whose estimated similarity
   (Jaccard, or the containment of a lead-only copy) reaches ``StoryPolicy.similarity``
   (``STRONG_SIMILARITY`` when the two headlines share almost no words);
3. otherwise, only when one of the two has too little text to compare, the same long
   title from another feed seen within ``StoryPolicy.title_window`` (a title is not
   proof: "Morning briefing" and a re-used headline head different stories).
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from monitor.fingerprint import (
    fingerprint_of_words,
    similarity,
    strip_headline_prefix,
    title_and_body_words,
    title_overlap,
)
from monitor.models import Fingerprint, Item
from monitor.text import words

# Query parameters that say how a reader arrived, not what they read.
TRACKING_PARAMS = frozenset(
    {
        "fbclid",
        "gclid",
        "dclid",
        "msclkid",
        "yclid",
        "mc_cid",
        "mc_eid",
        "igshid",
        "_hsenc",
        "_hsmi",
        "mkt_tok",
        "cmpid",
        "ito",
        "ns_mchannel",
        "ns_source",
        "ns_campaign",
        "ns_linkname",
        "ns_fee",
        "at_medium",
        "at_campaign",
        "ref_src",
        "ocid",
        "smid",
        "sr_share",
    }
)
TRACKING_PREFIXES = ("utm_", "pk_", "mtm_")
DEFAULT_PORTS = {"http": 80, "https": 443}
# Below these sizes a text or title is too generic to prove two items are one story.
MIN_CONTENT_WORDS = 8
MIN_BODY_WORDS = 5  # without a body the hash would be a title key that ignores the feed
MIN_TITLE_WORDS = 6


def canonical_link(url: str | None) -> str | None:
    """The link with case, fragment, default port and tracking parameters removed.

    ``http`` and ``https`` are treated as one scheme: sites re-post the same article
    under both, and a reader does not tell them apart. A link to a site's front page
    says nothing about which story it is, so it has no canonical form.
    """
    if not url:
        return None
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower()
    if scheme not in DEFAULT_PORTS or not host:
        return None
    if parts.path in ("", "/") and not parts.query:
        return None
    netloc = host if port in (None, DEFAULT_PORTS[scheme]) else f"{host}:{port}"
    query = [
        (key, value)
        for key, value in parse_qsl(parts.query, keep_blank_values=True)
        if key.lower() not in TRACKING_PARAMS and not key.lower().startswith(TRACKING_PREFIXES)
    ]
    return urlunsplit(("https", netloc, parts.path or "/", urlencode(sorted(query)), ""))


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]


def content_hash(title: str, body: str) -> str | None:
    """Hash of the normalised title and text (boilerplate and "BREAKING:" left out);
    None when there is too little text."""
    return _content_hash(*title_and_body_words(title, body))


def _content_hash(title_words: list[str], body_words: list[str]) -> str | None:
    if len(body_words) < MIN_BODY_WORDS or len(title_words) + len(body_words) < MIN_CONTENT_WORDS:
        return None
    return _digest(" ".join(title_words) + "\n" + " ".join(body_words))


def title_key(title: str) -> str | None:
    """Hash of a normalised title long enough to name one story; None for short titles.
    "BREAKING:" and the like are not part of it."""
    return _title_key(words(strip_headline_prefix(title)))


def _title_key(title_words: list[str]) -> str | None:
    if len(title_words) < MIN_TITLE_WORDS:
        return None
    return _digest(" ".join(title_words))


def _with_keys(item: Item, link: str | None) -> Item:
    title_words, body_words = title_and_body_words(item.title, item.body)
    return replace(
        item,
        canonical_link=link,
        content_hash=_content_hash(title_words, body_words),
        title_key=_title_key(title_words),
        fingerprint=fingerprint_of_words(title_words, body_words),
    )


def identify(items: Sequence[Item], known: Collection[str] = ()) -> list[Item]:
    """Attach the cross-feed identity keys to items of one feed, leaving out the items
    whose entry keys are ``known`` (stored already: their keys would not be used).

    A link shared by several entries of one feed (a feed that points every entry at
    the same page) cannot tell its entries apart, so it is not used as their identity;
    known entries count for that.
    """
    links = [canonical_link(item.link) for item in items]
    repeated = {link for link, count in Counter(links).items() if link and count > 1}
    return [
        _with_keys(item, None if link in repeated else link)
        for item, link in zip(items, links, strict=True)
        if item.entry_key not in known
    ]


# Below this many words of text an item cannot be compared by its text; only then may a
# title decide.
MIN_COMPARABLE_WORDS = 12
# Texts that share much but not all, under headlines that share little, are as often two
# stories under one template (a channel's long video description, a site's blurb) as a
# re-post with a new headline: they must be this alike.
UNRELATED_TITLES = 0.3
STRONG_SIMILARITY = 0.85
EXACT_KINDS = ("link", "text")
FUZZY_KINDS = ("band", "lead")


@dataclass(frozen=True, slots=True)
class StoryPolicy:
    """How stories are told apart: the ``stories:`` settings."""

    similarity: float = 0.5
    window: timedelta = timedelta(days=14)
    title_window: timedelta = timedelta(hours=48)


@dataclass(frozen=True, slots=True)
class Candidate:
    """A stored (or earlier in the batch) item that shares an identity key with a new one."""

    kind: str
    item_id: int
    story_id: int
    feed_id: int
    seen_at: datetime
    fingerprint: Fingerprint | None
    seed: bool = False


@dataclass(frozen=True, slots=True)
class StoryJoin:
    """Why an item joined a story: the key kind (link, text, near, title) and, for a near
    duplicate, the estimated similarity."""

    story_id: int
    by: str
    similarity: float | None = None


IdentityKey = tuple[str, str | int]


def identity_keys(item: Item) -> list[IdentityKey]:
    """Every (kind, key) an item is known by across feeds."""
    keys: list[IdentityKey] = []
    if item.canonical_link:
        keys.append(("link", item.canonical_link))
    if item.content_hash:
        keys.append(("text", item.content_hash))
    if item.title_key:
        keys.append(("title", item.title_key))
    if item.fingerprint is not None:
        keys += [("band", band) for band in item.fingerprint.bands]
        keys += [("lead", band) for band in item.fingerprint.lead_bands]
    return keys


def _comparable(print_: Fingerprint | None) -> bool:
    return print_ is not None and print_.words >= MIN_COMPARABLE_WORDS


def resolve_story(
    item: Item,
    feed_id: int,
    now: datetime,
    candidates: Iterable[Candidate],
    policy: StoryPolicy,
) -> StoryJoin | None:
    """The story an item belongs to, and why; None when it starts a new one."""
    by_kind: dict[str, list[Candidate]] = {}
    for candidate in candidates:
        by_kind.setdefault(candidate.kind, []).append(candidate)
    for kind in EXACT_KINDS:
        if by_kind.get(kind):
            first = min(by_kind[kind], key=lambda candidate: candidate.item_id)
            return StoryJoin(first.story_id, kind)
    best: StoryJoin | None = None
    best_score = 0.0
    if item.fingerprint is not None:
        compared: set[int] = set()
        for kind in FUZZY_KINDS:
            for candidate in by_kind.get(kind, []):
                if candidate.item_id in compared or candidate.fingerprint is None:
                    continue
                compared.add(candidate.item_id)
                if not candidate.seed and now - candidate.seen_at > policy.window:
                    continue
                if candidate.feed_id == feed_id:
                    # A feed's own entries are its own stories (same link or text aside):
                    # feeds re-use long templates, and a swallowed story is the worst miss.
                    continue
                score = similarity(item.fingerprint, candidate.fingerprint)
                needed = policy.similarity
                if title_overlap(item.fingerprint, candidate.fingerprint) < UNRELATED_TITLES:
                    needed = max(needed, STRONG_SIMILARITY)
                if score < needed:
                    continue
                # The most similar wins; between equals, the older story.
                if best is None or (score, -candidate.story_id) > (best_score, -best.story_id):
                    best, best_score = StoryJoin(candidate.story_id, "near", round(score, 3)), score
    if best is not None:
        return best
    if by_kind.get("title"):
        for candidate in sorted(by_kind["title"], key=lambda candidate: candidate.item_id):
            if candidate.feed_id == feed_id:
                continue  # one feed re-uses its headlines ("Morning briefing: …")
            if _comparable(item.fingerprint) and _comparable(candidate.fingerprint):
                continue  # both have text, and the texts differ: two stories
            if candidate.seed or now - candidate.seen_at <= policy.title_window:
                return StoryJoin(candidate.story_id, "title")
    return None


@dataclass
class BatchCandidates:
    """The candidates a store found for one batch, by key, plus the batch's own items as
    they are resolved, so that an item can join a story started earlier in the batch."""

    by_key: dict[str | int, list[Candidate]] = field(default_factory=dict)

    def add_found(self, key: str | int, candidate: Candidate) -> None:
        """A stored item that has this key."""
        self.by_key.setdefault(key, []).append(candidate)

    def for_item(self, item: Item, keys: Sequence[IdentityKey] | None = None) -> list[Candidate]:
        """Every candidate sharing a key with the item (kinds as the item has them);
        ``keys`` are the item's ``identity_keys`` when the caller has them already."""
        found: list[Candidate] = []
        for kind, key in identity_keys(item) if keys is None else keys:
            found += [candidate for candidate in self.by_key.get(key, ()) if candidate.kind == kind]
        return found

    def add_item(
        self,
        item: Item,
        item_id: int,
        story_id: int,
        feed_id: int,
        now: datetime,
        keys: Sequence[IdentityKey] | None = None,
    ) -> None:
        """Remember an item just stored, for the rest of the batch."""
        as_kind: dict[str, Candidate] = {}  # one value per kind, shared by its keys
        for kind, key in identity_keys(item) if keys is None else keys:
            candidate = as_kind.get(kind)
            if candidate is None:
                candidate = as_kind[kind] = Candidate(
                    kind, item_id, story_id, feed_id, now, item.fingerprint
                )
            self.by_key.setdefault(key, []).append(candidate)
