"""Identity of a story across feeds: which stored story, if any, an item belongs to.

Each item has identity keys of several kinds: its canonical link (``link``), a hash of
its normalised title and text (``text``), its long normalised title (``title``), and a
few *anchors* from its near-duplicate sketch (``near``: its smallest distinctive shingle
hashes; ``lead``: those of its lead; see ``fingerprint``). The store keeps them as rows
and returns the stored items that share a key with a new one, and each of their stories'
*representative* (the story's first item); ``resolve_story`` decides, as a pure function
of those candidates:

1. the same canonical link or the same text: that story;
2. otherwise the story whose representative, from another feed, is most like the item:
   its estimated similarity (Jaccard, or the containment of a lead-only copy) over the
   *distinctive* shingles reaches ``StoryPolicy.similarity`` (under unrelated headlines,
   the texts alone must reach ``STRONG_SIMILARITY``). Shingles that many recent
   stories share (templates, standard paragraphs: ``CommonShingles``) carry no weight
   and are never anchors. Comparing with the representative, not with whichever member
   shares a key, keeps joins from chaining (A like B, B like C, A unlike C);
3. otherwise, only when one of the two has too little text to compare, the same long
   title from another feed seen within ``StoryPolicy.title_window`` (a title is not
   proof: "Morning briefing" and a re-used headline head different stories).
"""

from __future__ import annotations

import hashlib
from bisect import bisect_right
from collections import Counter
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from monitor.fingerprint import FULL_RANGE, sketches, strip_headline_prefix, title_and_body_words
from monitor.models import Item, Sketch
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
# Anchors per item: its smallest distinctive shingle hashes, and those of its lead. Two
# items whose distinctive shingle sets have Jaccard similarity J share one of their
# first ``NEAR_ANCHORS`` with probability about 1 - (1 - J)^NEAR_ANCHORS (0.98 at 0.5).
NEAR_ANCHORS = 6
LEAD_ANCHORS = 2
LEAD_FLAG = 1 << 32  # a lead anchor's key: never equal to a near anchor's


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


def key_of(text: str) -> int:
    """An exact key (a canonical link, a text or title hash) as the store keeps it: a
    signed 64-bit integer, the first 8 bytes of its MD5 (PostgreSQL computes the same
    in SQL, which the migration from text keys relies on)."""
    digest = hashlib.md5(text.encode("utf-8"), usedforsecurity=False).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


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


def identify(items: Sequence[Item], known: Collection[str] = ()) -> list[Item]:
    """Attach the cross-feed identity keys to items of one feed, leaving out the items
    whose entry keys are ``known`` (stored already: their keys would not be used).

    A link shared by several entries of one feed (a feed that points every entry at
    the same page) cannot tell its entries apart, so it is not used as their identity;
    known entries count for that. The sketches of the whole batch are hashed at once.
    """
    links = [canonical_link(item.link) for item in items]
    repeated = {link for link, count in Counter(links).items() if link and count > 1}
    wanted = [
        (item, None if link in repeated else link)
        for item, link in zip(items, links, strict=True)
        if item.entry_key not in known
    ]
    texts = [title_and_body_words(item.title, item.body) for item, _ in wanted]
    return [
        replace(
            item,
            canonical_link=link,
            content_hash=_content_hash(*text),
            title_key=_title_key(text[0]),
            sketch=found,
        )
        for (item, link), text, found in zip(wanted, texts, sketches(texts), strict=True)
    ]


# Below this many words of text an item cannot be compared by its text; only then may a
# title decide.
MIN_COMPARABLE_WORDS = 12
# Fewer distinctive shingles than this in the two sketches' common range: the texts
# cannot tell (they are all template); the title rule decides.
MIN_EVIDENCE = 4
# Two items "open with the same words" when this much of the shorter lead is in the
# other: only then is how much of the shorter text the longer contains trusted.
LEAD_AGREEMENT = 0.8
# Under headlines that share under this share of their words, two items are compared by
# their texts alone, and those must be this alike: texts that share much but not all
# under unrelated headlines are as often two stories told with one template (match
# reports, market moves, a site's blurb) as one story re-headlined, and a re-headlined
# copy keeps its text.
UNRELATED_TITLES = 0.3
STRONG_SIMILARITY = 0.85
# Two items that each give at least this many numbers and share under this share of
# the fewer must be strongly similar too: match reports, market moves and forecasts of
# one team, company or town differ in their figures; copies of one story keep them.
MIN_FIGURES = 2
SHARED_FIGURES = 0.5
# At most this many stories are compared with an item: those sharing the most anchors.
MAX_COMPARED = 4
EXACT_KINDS = ("link", "text")
FUZZY_KINDS = ("near", "lead")
KINDS = (*EXACT_KINDS, "title", *FUZZY_KINDS)


# Shingle hashes that many recent stories share: no evidence of identity (the store's
# learned table, ``templates.CommonShingles.values``).
CommonShingles = AbstractSet[int]
NOTHING_COMMON: frozenset[int] = frozenset()


@dataclass(frozen=True, slots=True)
class StoryPolicy:
    """How stories are told apart: the ``stories:`` settings."""

    similarity: float = 0.5
    window: timedelta = timedelta(days=14)
    title_window: timedelta = timedelta(hours=48)


@dataclass(frozen=True, slots=True)
class FirstItem:
    """What a story is compared by, as far as who may join it goes: its first item's
    feed, when that was seen, and whether the stored sample holds it."""

    feed_id: int
    seen_at: datetime
    seed: bool = False

    def takes(self, feed_id: int, now: datetime, policy: StoryPolicy) -> bool:
        """Whether the story may take a near duplicate from ``feed_id`` at ``now``:
        never from its own feed (a feed's own entries are its own stories, same link or
        text aside: feeds re-use long templates, and a swallowed story is the worst
        miss); from another, a seed's story at any time, else within ``policy.window``."""
        if self.feed_id == feed_id:
            return False
        return self.seed or now - self.seen_at <= policy.window


@dataclass(frozen=True, slots=True)
class Candidate:
    """A stored (or earlier in the batch) item that shares an identity key with a new
    one; ``words``: how many words of text it has (for the title rule); ``story``: its
    story's first item (None: not known)."""

    kind: str
    item_id: int
    story_id: int
    feed_id: int
    seen_at: datetime
    words: int = 0
    seed: bool = False
    story: FirstItem | None = None


@dataclass(frozen=True, slots=True)
class Representative:
    """The item a story is compared by (its first), with its sketch."""

    story_id: int
    item_id: int
    feed_id: int
    seen_at: datetime
    sketch: Sketch | None
    seed: bool = False

    @property
    def first(self) -> FirstItem:
        """The representative as who may join its story goes."""
        return FirstItem(self.feed_id, self.seen_at, self.seed)


@dataclass(frozen=True, slots=True)
class StoryJoin:
    """Why an item joined a story: the key kind (link, text, near, title), the item it
    was found by or compared with, and for a near duplicate the estimated similarity."""

    story_id: int
    by: str
    similarity: float | None = None
    compared_with: int | None = None


@dataclass(frozen=True, slots=True)
class Likeness:
    """How alike two sketches are: ``score`` (Jaccard, or containment when they open
    alike, whichever is higher) and ``jaccard`` over ``evidence`` distinctive shingles."""

    score: float
    evidence: int
    jaccard: float = 0.0


IdentityKey = tuple[str, int]


def anchors(print_: Sketch, common: CommonShingles = NOTHING_COMMON) -> list[IdentityKey]:
    """The near-duplicate keys of a sketch: its smallest distinctive shingle hashes."""
    near = _first_distinct(print_.sample, common, NEAR_ANCHORS)
    lead = _first_distinct(print_.lead, common, LEAD_ANCHORS)
    return [("near", value) for value in near] + [("lead", value | LEAD_FLAG) for value in lead]


def _first_distinct(values: Iterable[int], common: CommonShingles, count: int) -> list[int]:
    """The first ``count`` values that are not common."""
    found: list[int] = []
    for value in values:
        if value not in common:
            found.append(value)
            if len(found) == count:
                break
    return found


def identity_keys(item: Item, common: CommonShingles = NOTHING_COMMON) -> list[IdentityKey]:
    """Every (kind, key) an item is known by across feeds, keys as the store keeps them."""
    keys: list[IdentityKey] = []
    if item.canonical_link:
        keys.append(("link", key_of(item.canonical_link)))
    if item.content_hash:
        keys.append(("text", key_of(item.content_hash)))
    if item.title_key:
        keys.append(("title", key_of(item.title_key)))
    if item.sketch is not None:
        keys += anchors(item.sketch, common)
    return keys


def keys_for_own_batch(keys: Sequence[IdentityKey], *, started: bool) -> list[IdentityKey]:
    """The keys of an item just resolved that can place a later item of the same feed's
    batch, as ``resolve_story`` reads them: its link and text always (one feed's copies
    of an entry are one story); never its title (a feed's own headlines never join);
    its anchors only when it joined a story, whose first item may be another feed's (a
    story it started is compared by the item itself, one of the feed's own: never).
    The rest would be held and looked through for nothing, item after item."""
    return [
        (kind, key)
        for kind, key in keys
        if kind in EXACT_KINDS or (not started and kind in FUZZY_KINDS)
    ]


def likeness(
    first: Sketch,
    second: Sketch,
    common: CommonShingles = NOTHING_COMMON,
    *,
    texts_only: bool = False,
) -> Likeness:
    """How much two items are one text, common shingles left out (and with
    ``texts_only``, the shingles of their headlines too).

    Both samples hold every hash of their item up to their threshold, so below the
    lower threshold they are two exact samples of the same hash range: their overlap
    estimates the Jaccard similarity of the two shingle sets, and, when the two open
    with the same words, how much of the shorter the longer contains (a copy of the
    first paragraphs is contained in the full text).
    """
    limit = min(first.threshold, second.threshold)
    mine = _distinctive(first.sample, limit, common)
    theirs = _distinctive(second.sample, limit, common)
    if texts_only:
        mine.difference_update(first.heading)
        theirs.difference_update(second.heading)
    shared = len(mine & theirs)
    evidence = len(mine) + len(theirs) - shared
    if not evidence:
        return Likeness(0.0, 0)
    jaccard = score = shared / evidence
    if shared and _open_alike(first, second, common):
        score = max(score, shared / min(len(mine), len(theirs)))
    return Likeness(score, evidence, jaccard)


def _distinctive(values: Sequence[int], limit: int, common: CommonShingles) -> set[int]:
    """The sorted ``values`` up to ``limit``, less the common ones (in C: a set op that
    walks the smaller set)."""
    kept = set(values[: bisect_right(values, limit)])
    kept.difference_update(kept & common)
    return kept


def _open_alike(first: Sketch, second: Sketch, common: CommonShingles) -> bool:
    mine = _distinctive(first.lead, FULL_RANGE, common)
    theirs = _distinctive(second.lead, FULL_RANGE, common)
    if len(mine) < MIN_EVIDENCE or len(theirs) < MIN_EVIDENCE:
        return False
    return len(mine & theirs) >= LEAD_AGREEMENT * min(len(mine), len(theirs))


def similarity(first: Sketch, second: Sketch, common: CommonShingles = NOTHING_COMMON) -> float:
    """``likeness``'s score alone."""
    return likeness(first, second, common).score


def figures_differ(first: Sketch, second: Sketch) -> bool:
    """Both give several numbers, and they share few of them: two reports of different
    figures (a score, a price, a temperature), not one story told twice."""
    mine, theirs = set(first.numbers), set(second.numbers)
    if len(mine) < MIN_FIGURES or len(theirs) < MIN_FIGURES:
        return False
    return len(mine & theirs) < SHARED_FIGURES * min(len(mine), len(theirs))


def title_overlap(first: Sketch, second: Sketch) -> float:
    """Jaccard similarity of the two titles' words, numbers left out (a score or a price
    in two headlines does not make them one subject); 1.0 when either has none."""
    mine = set(first.title).difference(first.numbers)
    theirs = set(second.title).difference(second.numbers)
    if not mine or not theirs:
        return 1.0
    return len(mine & theirs) / len(mine | theirs)


def _comparable_words(words_of_text: int) -> bool:
    return words_of_text >= MIN_COMPARABLE_WORDS


def resolve_story(
    item: Item,
    feed_id: int,
    now: datetime,
    candidates: Iterable[Candidate],
    representatives: Mapping[int, Representative],
    policy: StoryPolicy,
    common: CommonShingles = NOTHING_COMMON,
) -> StoryJoin | None:
    """The story an item belongs to, and why; None when it starts a new one."""
    by_kind: dict[str, list[Candidate]] = {}
    for candidate in candidates:
        by_kind.setdefault(candidate.kind, []).append(candidate)
    for kind in EXACT_KINDS:
        if by_kind.get(kind):
            first = min(by_kind[kind], key=lambda candidate: candidate.item_id)
            return StoryJoin(first.story_id, kind, compared_with=first.item_id)
    best = _nearest(item, feed_id, now, by_kind, representatives, policy, common)
    if best is not None:
        return best
    words_of_item = item.sketch.words if item.sketch else 0
    for candidate in sorted(by_kind.get("title", ()), key=lambda candidate: candidate.item_id):
        if candidate.feed_id == feed_id:
            continue  # one feed re-uses its headlines ("Morning briefing: …")
        if _comparable_words(words_of_item) and _comparable_words(candidate.words):
            continue  # both have text, and the texts differ: two stories
        if candidate.seed or now - candidate.seen_at <= policy.title_window:
            return StoryJoin(candidate.story_id, "title", compared_with=candidate.item_id)
    return None


def stories_to_compare(
    candidates: Iterable[Candidate], may_take: Callable[[FirstItem], bool] | None = None
) -> list[int]:
    """Bounded work per item: the stories its near-duplicate candidates belong to, at
    most ``MAX_COMPARED``, those sharing the most anchors with it first (a copy shares
    most of its anchors, a look-alike one or two), newer first between equals.

    The stories that could not take the item (``may_take``, asked of their first item:
    ``FirstItem.takes``) are left out before the places are counted. Compared, they
    would be turned away anyway; counted, a feed's own posts with its standard
    paragraph, or stories past the window with fresh members, would take every place
    from the story a copy belongs to."""
    shared = Counter(
        c.story_id
        for c in candidates
        if c.kind in FUZZY_KINDS and (may_take is None or c.story is None or may_take(c.story))
    )
    return sorted(shared, key=lambda story: (-shared[story], -story))[:MAX_COMPARED]


def _nearest(
    item: Item,
    feed_id: int,
    now: datetime,
    by_kind: Mapping[str, Sequence[Candidate]],
    representatives: Mapping[int, Representative],
    policy: StoryPolicy,
    common: CommonShingles,
) -> StoryJoin | None:
    """The story whose representative is most like the item, if like enough."""
    if item.sketch is None:
        return None
    fuzzy = [c for kind in FUZZY_KINDS for c in by_kind.get(kind, ())]

    def may_take(first: FirstItem) -> bool:
        return first.takes(feed_id, now, policy)

    stories = sorted(stories_to_compare(fuzzy, may_take))
    best: StoryJoin | None = None
    best_score = (0.0, 0.0)
    for story_id in stories:
        found = representatives.get(story_id)
        if found is None or found.sketch is None or not may_take(found.first):
            continue
        needed = policy.similarity
        if title_overlap(item.sketch, found.sketch) < UNRELATED_TITLES:
            alike = likeness(item.sketch, found.sketch, common, texts_only=True)
            needed = max(needed, STRONG_SIMILARITY)
        else:
            alike = likeness(item.sketch, found.sketch, common)
        if figures_differ(item.sketch, found.sketch):
            needed = max(needed, STRONG_SIMILARITY)
        if alike.evidence < MIN_EVIDENCE or alike.score < needed:
            continue
        # The most similar wins (a text that contains two shorter ones is more like the one
        # it shares more with); between equals, the older story (ids ascend).
        if best is None or (alike.score, alike.jaccard) > best_score:
            best = StoryJoin(story_id, "near", round(alike.score, 3), found.item_id)
            best_score = (alike.score, alike.jaccard)
    return best


@dataclass
class BatchCandidates:
    """The candidates and representatives a store found for one batch, plus the batch's
    own items as they are resolved, so that an item can join a story started earlier in
    the batch."""

    by_key: dict[int, list[Candidate]] = field(default_factory=dict)
    representatives: dict[int, Representative] = field(default_factory=dict)
    first_items: dict[int, FirstItem] = field(default_factory=dict)  # by story, as found

    def add_found(self, key: int, candidate: Candidate) -> None:
        """A stored item that has this key."""
        self.by_key.setdefault(key, []).append(candidate)
        if candidate.story is not None:
            self.first_items[candidate.story_id] = candidate.story

    def for_item(self, keys: Sequence[IdentityKey]) -> list[Candidate]:
        """Every candidate sharing one of these keys (of the same kind)."""
        found: list[Candidate] = []
        for kind, key in keys:
            found += [candidate for candidate in self.by_key.get(key, ()) if candidate.kind == kind]
        return found

    def add_item(
        self,
        item: Item,
        item_id: int,
        story_id: int,
        feed_id: int,
        now: datetime,
        keys: Sequence[IdentityKey],
        *,
        started: bool,
        seed: bool = False,
    ) -> None:
        """Remember an item just stored, for the rest of the batch (as its story's
        representative when it ``started`` it)."""
        words_of_item = item.sketch.words if item.sketch else 0
        if started:
            self.representatives[story_id] = Representative(
                story_id, item_id, feed_id, now, item.sketch, seed
            )
        # Its story's first item: the representative when it is here, else as the
        # stored candidates gave it.
        held = self.representatives.get(story_id)
        story = held.first if held is not None else self.first_items.get(story_id)
        as_kind: dict[str, Candidate] = {}  # one value per kind, shared by its keys
        for kind, key in keys:
            candidate = as_kind.get(kind)
            if candidate is None:
                candidate = as_kind[kind] = Candidate(
                    kind, item_id, story_id, feed_id, now, words_of_item, seed, story
                )
            self.by_key.setdefault(key, []).append(candidate)
