"""The value types that flow between stages: fetch → parse → identify → match → outbox."""

from __future__ import annotations

import dataclasses
import enum
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from monitor.redact import without_userinfo


@dataclass(frozen=True, slots=True)
class Sketch:
    """An item's near-duplicate sketch (see ``monitor.fingerprint``).

    ``sample`` holds the item's smallest 32-bit shingle hashes, sorted (all of them
    when it has few enough); ``lead`` every hash of its lead; ``heading`` the hashes of
    the shingles that start in its title; ``title`` the hashes of its title's words;
    ``numbers`` those of the numbers it gives (title and text); ``shingles`` how many
    distinct shingles the item has; ``words`` how many words its text has (its title
    not counted).
    """

    sample: tuple[int, ...]
    lead: tuple[int, ...]
    shingles: int
    words: int
    heading: tuple[int, ...] = ()
    title: tuple[int, ...] = ()
    numbers: tuple[int, ...] = ()

    @property
    def threshold(self) -> int:
        """Every shingle hash of the item up to this value is in ``sample``."""
        if self.shingles > len(self.sample) and self.sample:
            return self.sample[-1]
        return 0xFFFF_FFFF  # every hash of the item is in the sample


@dataclass(frozen=True, slots=True)
class Item:
    """One feed entry, normalised to text, with the keys that identify it.

    ``entry_key`` identifies the entry inside its feed, and ``digest`` the version of
    the entry as read (an entry edited in place keeps its key, not its digest);
    ``canonical_link``, ``content_hash``, ``title_key`` and ``sketch`` identify the same
    story across feeds.
    """

    entry_key: str
    guid: str | None
    title: str
    link: str | None
    summary: str
    content: str
    author: str | None = None
    published: datetime | None = None
    language: str | None = None
    canonical_link: str | None = None
    content_hash: str | None = None
    title_key: str | None = None
    sketch: Sketch | None = None
    digest: int | None = None
    # The article's main text, when its page was read (see sources.article), and what
    # became of the attempt (None: not tried).
    fulltext: str = ""
    fulltext_note: str | None = None

    @property
    def body(self) -> str:
        """The longest text the entry carries: its article, else its content, else its
        summary."""
        return self.fulltext or self.content or self.summary

    @property
    def searched_summary(self) -> str:
        """What watchlists search as ``summary``: the entry's summary, its content and
        its article's text, a line apart (spans of matched terms index into this)."""
        text = f"{self.summary}\n{self.content}" if self.content else self.summary
        return f"{text}\n{self.fulltext}" if self.fulltext else text


@dataclass(frozen=True, slots=True)
class ParsedFeed:
    """What a feed body holds."""

    title: str | None
    link: str | None
    items: list[Item]
    warning: str | None = None
    declared_interval: timedelta | None = None  # <ttl>, sy:updatePeriod
    learned_interval: timedelta | None = None  # half the median gap between recent entries


@dataclass(frozen=True, slots=True)
class FeedSpec:
    """A feed as the configuration asks for it."""

    url: str
    name: str | None
    interval: timedelta
    baseline: bool
    max_alert_age: timedelta | None = None  # None: alert whatever an item's age
    kind: str = "feed"  # how its body is read: feed, sitemap or html


@dataclass(frozen=True, slots=True)
class FeedState:
    """A feed as the store knows it: its validators, its schedule and its health."""

    id: int
    url: str
    name: str | None
    title: str | None
    interval: timedelta
    baseline: bool
    baselined: bool
    etag: str | None
    last_modified: str | None
    next_poll_at: datetime
    error_count: int
    last_error: str | None
    enabled: bool = True
    body_digest: str | None = None
    max_alert_age: timedelta | None = None
    last_polled_at: datetime | None = None
    last_status: int | None = None
    fetch_url: str | None = None  # where a permanent redirect moved the feed
    gone: bool = False  # the server said 410: not polled any more
    declared_interval: timedelta | None = None
    learned_interval: timedelta | None = None
    poll_reason: str | None = None  # what set next_poll_at: interval, ttl, backoff, …
    last_new_item_at: datetime | None = None
    stale_since: datetime | None = None  # silent far longer than usual, reported then
    claimed_by: str | None = None  # the instance polling it now
    lease_until: datetime | None = None  # until when that instance holds it
    # Counts the feed's claims: a claimed FeedState carries its own, and a poll's record
    # is refused when the feed was claimed again since (its lease ran out meanwhile).
    claim: int = 0
    kind: str = "feed"  # how its body is read: feed, sitemap or html
    hub: str | None = None  # the WebSub hub the feed names, and its topic (self URL)
    topic: str | None = None
    push_until: datetime | None = None  # a hub pushes it to us until then

    def pushed(self, now: datetime) -> bool:
        """A hub has confirmed it pushes this feed to us, and that has not run out."""
        return self.push_until is not None and self.push_until > now

    @property
    def poll_url(self) -> str:
        """The URL to request: where the feed moved, else the configured one."""
        return self.fetch_url or self.url

    @property
    def shown_url(self) -> str:
        """The URL as logs and summaries show it: without user info (a password)."""
        return without_userinfo(self.url)

    @property
    def display_name(self) -> str:
        """The configured name, else the feed's own title, else its URL."""
        return self.name or self.title or self.shown_url


@dataclass(frozen=True, slots=True)
class MatchedTerm:
    """A watchlist term, the field it was found in, and where: character spans in the
    field's text (for highlighting; two explanations of the same term are equal)."""

    term: str
    field: str
    # dataclasses.field: the name ``field`` above is this class's own attribute.
    spans: tuple[tuple[int, int], ...] = dataclasses.field(default=(), compare=False)


@dataclass(frozen=True, slots=True)
class Match:
    """An item satisfied a watchlist; these notifiers are to hear about it."""

    watchlist: str
    notifiers: tuple[str, ...]
    terms: tuple[MatchedTerm, ...]
    follow_ups: bool = False  # another source of an alerted story sends a short note
    # Why this match may not alert (the watchlist does not watch the feed, the item is
    # too old): it is recorded, and a later item of the story may still alert.
    silenced: str | None = None


class Revision(enum.StrEnum):
    """How an entry the feed had already given comes back."""

    EDITED = "edited"  # its text changed: a watchlist it newly matches hears of it once
    # stored before entries were versioned: its version and matches are recorded, quietly
    REREAD = "reread"


@dataclass(frozen=True, slots=True)
class NewItem:
    """An item not yet stored for its feed (or a new version of a stored one, with
    ``revision``), with the watchlists it matched."""

    item: Item
    matches: tuple[Match, ...] = ()
    revision: Revision | None = None


@dataclass(frozen=True, slots=True)
class PollRecord:
    """What one poll of a feed leaves in the store besides items."""

    polled_at: datetime
    next_poll_at: datetime
    status: int | None
    error: str | None
    etag: str | None = None
    last_modified: str | None = None
    title: str | None = None
    body_digest: str | None = None
    reason: str | None = None  # what set next_poll_at
    moved_to: str | None = None  # a permanent redirect: request this URL from now on
    gone: bool = False  # 410: stop polling, keep the history
    host_hold_until: datetime | None = None  # 429/503: every feed of the host waits
    declared_interval: timedelta | None = None
    learned_interval: timedelta | None = None
    claim: int | None = None  # the claim the poll ran under (FeedState.claim); None: unclaimed
    # The WebSub hub and topic the parsed body (or its Link header) named; both None when
    # it named none. Only a save of a parsed body writes them.
    hub: str | None = None
    topic: str | None = None


@dataclass(frozen=True, slots=True)
class SaveResult:
    """What a save did: items stored, of which new stories, and alerts queued."""

    stored: int
    new_stories: int
    deliveries: int
    joins: tuple[str, ...] = ()  # for each item that joined a story: the key kind
    matched: tuple[str, ...] = ()  # the watchlists the new items matched, once per match


@dataclass(frozen=True, slots=True)
class OutboxSummary:
    """The outbox at a glance: pending and dead messages, the oldest pending one's age."""

    pending: int
    dead: int
    oldest_pending_at: datetime | None


class DeliveryStatus(enum.StrEnum):
    """Where a message stands in the outbox."""

    PENDING = "pending"
    SENT = "sent"
    DEAD = "dead"
    FOLDED = "folded"  # carried by a rollup or digest (its ``parent_id``)


class MessageKind(enum.StrEnum):
    """What a message says."""

    ALERT = "alert"  # a new story matched a watchlist
    FOLLOW_UP = "follow_up"  # an alerted story has another source
    ROLLUP = "rollup"  # the surplus of a burst, as one message
    DIGEST = "digest"  # a watchlist's matches, collected on its schedule
    NOTICE = "notice"  # for the operator: a notifier is gone, a feed is failing
    SPREAD = "spread"  # a story enough sources carried within a time (``spread:``)

    @property
    def foldable(self) -> bool:
        """Alerts and follow-ups can be carried by a rollup or a digest."""
        return self in (MessageKind.ALERT, MessageKind.FOLLOW_UP)

    @property
    def lists(self) -> bool:
        """Channels show it as a list of lines: a rollup's or digest's items, a
        spreading story's sources."""
        return self in (MessageKind.ROLLUP, MessageKind.DIGEST, MessageKind.SPREAD)


@dataclass(frozen=True, slots=True)
class StoredItem:
    """An item as stored, with its feed and story."""

    id: int
    story_id: int
    feed_url: str
    feed_title: str | None
    item: Item
    first_seen_at: datetime
    joined_by: str | None = None  # why it joined its story; None for the story's first
    similarity: float | None = None  # for a near duplicate: the estimated similarity
    compared_with: int | None = None  # the item it was found like (near, title)


@dataclass(frozen=True, slots=True)
class SpreadSource:
    """One source of a spreading story: its site, when it reported the story (its
    entry's publication, or when it was first seen), and the item it carried."""

    site: str
    reported_at: datetime
    stored: StoredItem


@dataclass(frozen=True, slots=True)
class Spread:
    """What a spread alert tells: the sources that carried the story within the time,
    first first (``more`` counts those past the 100 kept), and the rule they met."""

    sources: tuple[SpreadSource, ...]
    threshold: int
    within: timedelta
    more: int = 0


@dataclass(frozen=True, slots=True)
class Message:
    """One row of the outbox: what to say to one notifier, and how its delivery stands.

    An alert or follow-up carries one item (``stored``, ``matched``); a rollup or digest
    carries the alerts it folded (``members``, oldest first); a notice carries ``text``;
    a spread alert carries the story's first item and its sources (``spread``).
    """

    id: int
    message_id: str  # the idempotency key (``webhook-id``), the same on every retry
    watchlist: str  # empty for a notice
    notifier: str
    status: DeliveryStatus
    attempts: int
    next_attempt_at: datetime
    last_error: str | None
    created_at: datetime
    sent_at: datetime | None
    matched: tuple[MatchedTerm, ...] = ()
    stored: StoredItem | None = None
    story_sources: int = 1
    kind: MessageKind = MessageKind.ALERT
    members: tuple[Message, ...] = ()
    text: str = ""
    parent_id: int | None = None
    claimed_by: str | None = None  # the instance sending it now
    update: bool = False  # an alert about an entry edited to match its watchlist
    spread: Spread | None = None

    @property
    def item(self) -> StoredItem:
        """The item of an alert or follow-up (a programming error for other kinds)."""
        if self.stored is None:
            raise ValueError(f"a {self.kind} message carries no single item")
        return self.stored

    @property
    def entries(self) -> tuple[Message, ...]:
        """The alerts and follow-ups this message tells about: itself, or its members."""
        if self.kind in (MessageKind.ROLLUP, MessageKind.DIGEST):
            return self.members
        return (self,) if self.stored is not None else ()


@dataclass(frozen=True, slots=True)
class NotifierState:
    """A notifier the relay stopped sending to, and why (a receiver said it is gone)."""

    name: str
    disabled_at: datetime
    reason: str


@dataclass(frozen=True, slots=True)
class WatchDecision:
    """What a watchlist decided about a story: ``alerted`` (by ``item_id``, an update
    when that entry was edited to match) or ``silent`` (``reason`` says why)."""

    watchlist: str
    state: str
    item_id: int
    reason: str | None
    decided_at: datetime


@dataclass(frozen=True, slots=True)
class Mute:
    """A story muted at ``since`` until ``until`` (None: until it is unmuted)."""

    since: datetime
    until: datetime | None = None

    def holds(self, now: datetime) -> bool:
        """Whether the story is still muted at ``now``."""
        return self.until is None or self.until > now


@dataclass(frozen=True, slots=True)
class Story:
    """Items that are one story, first-seen first, and what each watchlist that met
    one of them decided; ``muted`` when someone muted it (even if that has run out)."""

    id: int
    created_at: datetime
    items: list[StoredItem] = field(default_factory=list)
    decisions: list[WatchDecision] = field(default_factory=list)
    muted: Mute | None = None


@dataclass(frozen=True, slots=True)
class Subscription:
    """A WebSub subscription as the store keeps it: one per feed.

    ``token`` names its callback URL, ``secret`` signs what the hub pushes; ``state`` is
    ``requested`` (the hub has not verified it yet), ``active`` (until ``lease_until``),
    ``denied`` or ``unsubscribing``.
    """

    feed_id: int
    feed_url: str
    hub: str
    topic: str
    token: str
    secret: str
    state: str
    lease_until: datetime | None = None
    attempts: int = 0
    last_error: str | None = None


@dataclass(frozen=True, slots=True)
class SubscriptionTask:
    """What to ask a hub now: ``subscribe`` (again, to renew) or ``unsubscribe``; the
    hub and topic to name (for a subscription, the ones the feed names now)."""

    action: str
    subscription: Subscription
    hub: str
    topic: str


@dataclass(frozen=True, slots=True)
class PartState:
    """One sitemap of a sitemap index as last fetched: what to ask for it conditionally,
    and its body's digest (an unchanged body is not read again)."""

    url: str
    etag: str | None = None
    last_modified: str | None = None
    digest: str | None = None
