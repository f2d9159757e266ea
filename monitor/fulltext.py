"""Reading the articles behind new items, politely, within a deadline: a stage of the
poll between reading a feed and storing what it found.

An item's article is read when its feed's rule says so (``auto``: the feed's text is
short; ``always``; ``off``), only for new items of a poll that may alert (never a
baseline, never an entry already known), and once per story: an item with the same
canonical link as a stored item whose article was read takes that text. Articles go
through the poll's fetcher (its limits per host and in all, its spacing, its address
guard), ask each host's robots.txt first, and wait while a host's Retry-After holds (a
429 or 503 on an article holds the host's feeds too). Extraction runs in a worker. What
does not come within ``timeout`` is matched on the feed's text, and each item says why.
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from monitor.dedupe import canonical_link, key_of
from monitor.fetch import Fetcher, FetchError
from monitor.ingest import MatchRequest, with_articles
from monitor.logs import feed_ids
from monitor.models import FeedState, Item, NewItem
from monitor.redact import without_userinfo
from monitor.robots import Robots
from monitor.schedule import parse_retry_after
from monitor.sources.article import READ, Extracted, extract_article
from monitor.store.protocols import ArticleStore
from monitor.store.rows import host_of
from monitor.text import words
from monitor.workers import WorkerCrashed, WorkerPool

log = logging.getLogger(__name__)
# A pushed item waits at most this long for its article: the hub waits for its answer.
PUSH_WAIT = timedelta(seconds=5)
ACCEPT_HTML = "text/html, application/xhtml+xml;q=0.9, */*;q=0.1"
HOLD_STATUSES = frozenset({429, 503})
TIMEOUT = "timeout: the article did not come in time"
NOTE_CHARS = 300  # of why an article was not read: an error may quote a whole page


@dataclass(frozen=True, slots=True)
class ArticleRule:
    """When a feed's articles are read, and where on the page (None: the extractor)."""

    mode: str = "auto"  # auto, always, off
    selector: str | None = None


@dataclass(frozen=True, slots=True)
class FulltextLimits:
    """How articles are read: the deadline, what counts as short, the text kept, and
    whether robots.txt is asked."""

    timeout: timedelta = timedelta(seconds=20)
    short_below: int = 80
    max_text: int = 200_000
    robots: bool = True


class ArticleReader:
    """Reads the articles of a poll's new items (``read``)."""

    def __init__(
        self,
        fetcher: Fetcher,
        store: ArticleStore,
        workers: WorkerPool,
        clock: Callable[[], datetime],
    ) -> None:
        self.fetcher = fetcher
        self.store = store
        self.workers = workers
        self.clock = clock
        self.limits = FulltextLimits()
        self.rules: Mapping[str, ArticleRule] = {}
        self.default = ArticleRule()
        self.robots = Robots(fetcher, clock)
        self.reading = 0  # polls waiting for their articles now

    def configure(
        self, rules: Mapping[str, ArticleRule], default: ArticleRule, limits: FulltextLimits
    ) -> None:
        """Read articles by these rules (by feed URL; ``default`` for the others)."""
        self.rules, self.default, self.limits = rules, default, limits

    async def for_feed(
        self,
        feed: FeedState,
        items: list[NewItem],
        request: MatchRequest | None,
        title: str | None,
        *,
        pushed: bool,
    ) -> tuple[list[NewItem], Counter[str]]:
        """``read_and_match`` by the feed's rule; a push waits less, for the hub is
        waiting for its answer. A worker that dies leaves the feed's text in use."""
        rule = self.rules.get(feed.url, self.default)
        if request is None:  # no watchlist: nothing would read the text
            return items, Counter()
        within = min(self.limits.timeout, PUSH_WAIT) if pushed else None
        # An item too old to alert is not worth a request.
        oldest = None if feed.max_alert_age is None else self.clock() - feed.max_alert_age
        try:
            return await self.read_and_match(items, rule, request, title, within, oldest)
        except WorkerCrashed as error:
            log.warning(
                "feed %s: articles read but not matched (%s): the feed's text is used",
                feed.shown_url,
                error,
                extra=feed_ids(feed.id, feed.url),
            )
            return items, Counter(failed=1)

    def wanted(self, new: NewItem, rule: ArticleRule, oldest: datetime | None = None) -> bool:
        """Whether this item's article is to be read by ``rule`` (not when it was
        published before ``oldest``)."""
        item = new.item
        if rule.mode == "off" or new.revision is not None or item.fulltext_note is not None:
            return False
        if oldest is not None and item.published is not None and item.published < oldest:
            return False
        if not item.link or not item.link.startswith(("http://", "https://")):
            return False
        return rule.mode == "always" or len(words(feed_text(item))) < self.limits.short_below

    async def read(
        self,
        items: Sequence[NewItem],
        rule: ArticleRule,
        within: timedelta | None = None,
        oldest: datetime | None = None,
    ) -> tuple[list[NewItem], Counter[str]]:
        """The items, those whose article was to be read now carrying its text (or why
        not), and how each attempt ended (read, teaser, paywalled, reused, refused,
        held, failed, timeout). The articles are waited for ``within`` (default: the
        limits' timeout); none published before ``oldest``."""
        chosen = [index for index, new in enumerate(items) if self.wanted(new, rule, oldest)]
        results: list[NewItem] = list(items)
        counts: Counter[str] = Counter()
        if not chosen:
            return results, counts
        self.reading += 1
        try:
            found = await self._read_all([items[index].item for index in chosen], rule, within)
        finally:
            self.reading -= 1
        for index, (text, note, outcome) in zip(chosen, found, strict=True):
            counts[outcome] += 1
            item = replace(items[index].item, fulltext=text, fulltext_note=note[:NOTE_CHARS])
            results[index] = replace(items[index], item=item)
        return results, counts

    async def read_and_match(
        self,
        items: Sequence[NewItem],
        rule: ArticleRule,
        request: MatchRequest | None,
        title: str | None,
        within: timedelta | None = None,
        oldest: datetime | None = None,
    ) -> tuple[list[NewItem], Counter[str]]:
        """``read``, then the items that gained their article's text identified and
        matched again on it, in a worker (WorkerCrashed when that worker died)."""
        read, counts = await self.read(items, rule, within, oldest)
        changed = [index for index, new in enumerate(read) if new.item.fulltext]
        if changed:
            again = await self.workers.run(
                with_articles,
                [read[index] for index in changed],
                request,
                title,
                cost=sum(len(read[index].item.fulltext or "") for index in changed),
            )
            for index, new in zip(changed, again, strict=True):
                read[index] = new
        return read, counts

    async def _read_all(
        self, items: Sequence[Item], rule: ArticleRule, within: timedelta | None
    ) -> list[tuple[str, str, str]]:
        reused = await self._known(items)
        now = self.clock()
        hosts = {
            host_of(item.link or "")
            for item, known in zip(items, reused, strict=True)
            if known is None
        }
        holds = {host: await self.store.host_hold(host, now) for host in sorted(hosts)}
        # One request per article, however many of the poll's items link to it.
        by_link: dict[str, asyncio.Task[tuple[str, str, str]]] = {}
        tasks: list[asyncio.Task[tuple[str, str, str]] | None] = []
        for item, known in zip(items, reused, strict=True):
            link = item.link or ""
            if known is None and link not in by_link:
                by_link[link] = asyncio.create_task(self._read_one(item, rule, holds))
            tasks.append(by_link[link] if known is None else None)
        running = list(by_link.values())
        if running:
            limit = (within or self.limits.timeout).total_seconds()
            _, late = await asyncio.wait(running, timeout=limit)
            for straggler in late:
                straggler.cancel()
            if late:
                await asyncio.wait(late)
        return [
            (*known, "reused") if known is not None else _ended(task)
            for task, known in zip(tasks, reused, strict=True)
        ]

    async def _known(self, items: Sequence[Item]) -> list[tuple[str, str] | None]:
        """An article read before for the same story: by the same canonical link. (A
        stored item's text key hashes its article, not its teaser, so a teaser copied
        under another link cannot be looked up; its own link is read.)"""
        keys = [[key_of(link)] if (link := canonical_link(item.link)) else [] for item in items]
        stored = await self.store.stored_fulltext([key for each in keys for key in each])
        return [next((stored[key] for key in each if key in stored), None) for each in keys]

    async def _read_one(
        self, item: Item, rule: ArticleRule, holds: dict[str, datetime | None]
    ) -> tuple[str, str, str]:
        """(text, note, outcome) of one article (``holds``: each host's Retry-After, which
        a 429 met here extends for the other articles of the batch)."""
        assert item.link is not None
        url, host = item.link, host_of(item.link)
        if (held := holds.get(host)) is not None:
            return "", f"held: {host} asked us to wait until {held:%H:%M:%S} UTC", "held"
        refusal = await self.robots.refusal(url) if self.limits.robots else None
        if refusal is not None:
            return "", refusal, "refused"
        try:
            fetched = await self.fetcher.fetch(url, accept=ACCEPT_HTML)
        except FetchError as error:
            if (until := await self._hold_if_asked(host, error)) is not None:
                holds[host] = until
            return "", f"failed: {error}", "failed"
        try:
            extracted: Extracted = await self.workers.run(
                extract_article,
                fetched.body or b"",
                dict(fetched.headers),
                without_userinfo(fetched.url),
                feed_text(item),
                rule.selector,
                self.limits.max_text,
                cost=len(fetched.body or b""),
            )
        except WorkerCrashed as error:
            return "", f"failed: {error}", "failed"
        outcome = "read" if extracted.note == READ else extracted.note.split(":", 1)[0]
        return extracted.text, extracted.note, outcome

    async def _hold_if_asked(self, host: str, error: FetchError) -> datetime | None:
        """A 429 or 503 holds the host, for its feeds and its articles, as long as its
        Retry-After says (five minutes when it does not say); until when."""
        if error.status not in HOLD_STATUSES:
            return None
        now = self.clock()
        until = now + (parse_retry_after(error.retry_after, now) or timedelta(minutes=5))
        await self.store.hold_host(host, until)
        return until


def _ended(task: asyncio.Task[tuple[str, str, str]] | None) -> tuple[str, str, str]:
    """(text, note, outcome) of a finished, cancelled or failed article task."""
    if task is None or task.cancelled():
        return "", TIMEOUT, "timeout"
    if (error := task.exception()) is not None:  # a bug must not cost the alert
        return "", f"failed: {type(error).__name__}: {error}", "failed"
    return task.result()


def feed_text(item: Item) -> str:
    """What the feed itself says of an item: its summary and its content."""
    return f"{item.summary}\n{item.content}" if item.content else item.summary


class NothingStored:
    """An article store that remembers nothing (no holds, no articles read before): for
    ``feeds preview --fulltext``, which stores nothing."""

    async def host_hold(self, host: str, now: datetime) -> datetime | None:
        """No host is held."""
        return None

    async def hold_host(self, host: str, until: datetime) -> None:
        """Forgotten at once."""

    async def stored_fulltext(self, keys: Sequence[int]) -> dict[int, tuple[str, str]]:
        """No article was read before."""
        return {}
