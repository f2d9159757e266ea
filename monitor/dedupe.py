"""Identity of a story across feeds: canonical link, content hash and title key.

An item whose canonical link, normalised title + text, or (from another feed) long
normalised title is already stored belongs to that item's story and is not alerted
again. Near-duplicate clustering will add a fourth, fuzzy key behind the same seam:
every stored item carries a ``story_id``.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from monitor.models import Item
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
# The start of a text identifies it as well as all of it, at a fraction of the cost.
HASHED_BODY_CHARS = 4000


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
    """Hash of the normalised title and text; None when there is too little text."""
    title_words, body_words = words(title), words(body[:HASHED_BODY_CHARS])
    if len(body_words) < MIN_BODY_WORDS or len(title_words) + len(body_words) < MIN_CONTENT_WORDS:
        return None
    return _digest(" ".join(title_words) + "\n" + " ".join(body_words))


def title_key(title: str) -> str | None:
    """Hash of a normalised title long enough to name one story; None for short titles."""
    title_words = words(title)
    if len(title_words) < MIN_TITLE_WORDS:
        return None
    return _digest(" ".join(title_words))


def identify(items: Sequence[Item]) -> list[Item]:
    """Attach the cross-feed identity keys to items of one feed.

    A link shared by several entries of one feed (a feed that points every entry at
    the same page) cannot tell its entries apart, so it is not used as their identity.
    """
    links = [canonical_link(item.link) for item in items]
    repeated = {link for link, count in Counter(links).items() if link and count > 1}
    return [
        replace(
            item,
            canonical_link=None if link in repeated else link,
            content_hash=content_hash(item.title, item.body),
            title_key=title_key(item.title),
        )
        for item, link in zip(items, links, strict=True)
    ]


@dataclass
class StoryIndex:
    """The stories already known for a batch of one feed's items, by identity key.

    A store fills it with one lookup per key kind, then resolves the batch in memory,
    in order, so that an item can also join a story started earlier in the same batch.
    Titles count only across feeds (``by_title`` holds other feeds' items): one feed
    may reuse a headline ("Morning briefing: …") for different stories.
    """

    by_link: dict[str, int] = field(default_factory=dict)
    by_hash: dict[str, int] = field(default_factory=dict)
    by_title: dict[str, int] = field(default_factory=dict)

    def story_of(self, item: Item) -> int | None:
        """The story an identical item already belongs to: by link, text, then title."""
        for key, index in (
            (item.canonical_link, self.by_link),
            (item.content_hash, self.by_hash),
            (item.title_key, self.by_title),
        ):
            if key is not None and key in index:
                return index[key]
        return None

    def add(self, item: Item, story_id: int) -> None:
        """Remember a stored item of this feed for the rest of the batch."""
        if item.canonical_link:
            self.by_link.setdefault(item.canonical_link, story_id)
        if item.content_hash:
            self.by_hash.setdefault(item.content_hash, story_id)
