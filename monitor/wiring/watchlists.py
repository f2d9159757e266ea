"""Watchlist settings → what matching and sending run on: one compiled matcher, each
watchlist's scope (feeds, tags, age) and its timing (quiet hours, digests)."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence

from monitor.config import ConfigError, FeedSettings, Settings, WatchlistSettings
from monitor.ingest import WatchlistScope
from monitor.match import FeedLabels, WatchlistSet, WatchlistSpec, keyword_rule, parse_query
from monitor.match.like import DEFAULT_THRESHOLD, LikeSet, LikeSpec, Sample, WordWeights
from monitor.notify.relay import WatchlistTiming
from monitor.notify.rules import DigestSchedule, QuietHours, parse_timezone
from monitor.spread import SpreadRule
from monitor.store import Store

LEARN_FROM = 5000  # stored items whose words weigh the like: watchlists' words


def watchlist_spec(
    settings: WatchlistSettings,
    notifiers: Sequence[str],
    aliases: Mapping[str, Sequence[str]] | None = None,
) -> WatchlistSpec:
    """The spec of a configured watchlist (QueryError or ValueError when its rule is bad)."""
    if settings.query is not None:
        rule = parse_query(settings.query, aliases or {})
    else:
        rule = keyword_rule(settings.any, settings.all, settings.none, aliases)
    return WatchlistSpec(
        name=settings.name,
        rule=rule,
        fields=tuple(settings.fields),
        notifiers=tuple(notifiers),
        follow_ups=settings.follow_ups == "message",
        stem=settings.stemmed_languages(),
        transliterate=settings.transliterate,
    )


def query_watchlist(settings: Settings, query: str) -> WatchlistSet:
    """A one-off watchlist named ``query`` from a query in the watchlist syntax, with the
    configuration's aliases (QueryError or ValueError when it is not valid)."""
    spec = watchlist_spec(WatchlistSettings(name="query", query=query), (), settings.aliases)
    return WatchlistSet([spec])


def feed_labels(settings: Settings) -> dict[str, FeedLabels]:
    """What each configured feed is called, by URL, for ``feed:`` and ``tag:``."""
    return {
        feed.url: FeedLabels(feed.url, feed.name, None, tuple(feed.tags)) for feed in settings.feeds
    }


def compile_watchlists(settings: Settings, likes: LikeSet | None = None) -> WatchlistSet:
    """Every watchlist of a configuration with terms or a query in one matcher, each
    aimed at its active notifiers, and the ``like:`` ones (``like_set``: their samples
    and word weights come from the store). A spread watchlist without terms matches
    nothing: the store counts its stories' sources."""
    specs = [
        watchlist_spec(watchlist, targets(settings, watchlist), settings.aliases)
        for watchlist in settings.watchlists
        if watchlist.has_terms
    ]
    return WatchlistSet(specs, likes)


async def like_set(settings: Settings, store: Store) -> LikeSet | None:
    """The ``like:`` watchlists with their samples' texts (a stored item's read from the
    store: ConfigError when one is not stored) and word weights learned from the
    ``LEARN_FROM`` newest stored items; None when there are none."""
    liked = [(index, w) for index, w in enumerate(settings.watchlists) if w.like]
    if not liked:
        return None
    refs = sorted({s.item for _, w in liked for s in w.like or () if s.item is not None})
    found = await store.find_items(refs) if refs else {}
    problems = [
        f"watchlists[{index}].like[{position}].item: no stored item {sample.item!r}"
        " (news-monitor stories --json shows items' ids)"
        for index, watchlist in liked
        for position, sample in enumerate(watchlist.like or ())
        if sample.item is not None and sample.item not in found
    ]
    if problems:
        raise ConfigError(problems)
    recent = await store.items(LEARN_FROM)
    texts = [f"{stored.item.title}\n{stored.item.searched_summary}" for stored in recent]
    weights = await asyncio.to_thread(WordWeights.learn, texts)
    specs = []
    for _, watchlist in liked:
        samples = []
        for sample in watchlist.like or ():
            if sample.item is not None:
                item = found[sample.item].item
                text = f"{item.title}\n{item.searched_summary}"
            else:
                text = sample.text or ""
            samples.append(Sample(sample.label, text))
        specs.append(
            LikeSpec(
                watchlist.name,
                tuple(samples),
                tuple(targets(settings, watchlist)),
                watchlist.threshold or DEFAULT_THRESHOLD,
                tuple(watchlist.fields),
            )
        )
    return LikeSet(specs, weights)


def targets(settings: Settings, watchlist: WatchlistSettings) -> list[str]:
    """The active notifiers a watchlist sends to."""
    active = list(settings.active_notifiers())
    wanted = active if watchlist.notify is None else watchlist.notify
    return [name for name in wanted if name in active]


def spread_rules(settings: Settings) -> tuple[SpreadRule, ...]:
    """The ``spread:`` watchlists, as the store counts their stories' sources."""
    return tuple(
        SpreadRule(
            watchlist=watchlist.name,
            sources=watchlist.spread.sources,
            within=watchlist.spread.within,
            notifiers=tuple(targets(settings, watchlist)),
            feed_urls=watched_feeds(watchlist, settings.feeds),
            needs_match=watchlist.has_terms,
        )
        for watchlist in settings.watchlists
        if watchlist.spread is not None
    )


def watched_feeds(
    watchlist: WatchlistSettings, feeds: Sequence[FeedSettings]
) -> frozenset[str] | None:
    """The URLs of the feeds a watchlist watches (by URL, name or tag); None: every feed."""
    if watchlist.feeds is None and watchlist.tags is None:
        return None
    named = set(watchlist.feeds or [])
    tags = set(watchlist.tags or [])
    return frozenset(
        feed.url
        for feed in feeds
        if feed.url in named or feed.name in named or tags & set(feed.tags)
    )


def scopes(settings: Settings) -> dict[str, WatchlistScope]:
    """The watchlists limited to some feeds or to recent items, by name."""
    return {
        watchlist.name: WatchlistScope(watched_feeds(watchlist, settings.feeds), watchlist.max_age)
        for watchlist in settings.watchlists
        if watchlist.feeds is not None
        or watchlist.tags is not None
        or watchlist.max_age is not None
    }


def quiet_hours(watchlist: WatchlistSettings) -> QuietHours | None:
    """The ``quiet:`` window, if any."""
    if not watchlist.quiet:
        return None
    return QuietHours.parse(watchlist.quiet, parse_timezone(watchlist.timezone))


def digest_schedule(watchlist: WatchlistSettings) -> DigestSchedule | None:
    """The ``digest:`` schedule, if any."""
    if not watchlist.digest:
        return None
    return DigestSchedule.parse(watchlist.digest, parse_timezone(watchlist.timezone))


def timings(settings: Settings) -> dict[str, WatchlistTiming]:
    """Quiet hours and digest schedules, for the watchlists that have them."""
    return {
        watchlist.name: WatchlistTiming(quiet_hours(watchlist), digest_schedule(watchlist))
        for watchlist in settings.watchlists
        if watchlist.quiet or watchlist.digest
    }
