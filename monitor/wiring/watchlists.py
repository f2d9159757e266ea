"""Watchlist settings → what matching and sending run on: one compiled matcher, each
watchlist's scope (feeds, tags, age) and its timing (quiet hours, digests)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from monitor.config import FeedSettings, Settings, WatchlistSettings
from monitor.ingest import WatchlistScope
from monitor.match import FeedLabels, WatchlistSet, WatchlistSpec, keyword_rule, parse_query
from monitor.notify.relay import WatchlistTiming
from monitor.notify.rules import DigestSchedule, QuietHours, parse_timezone
from monitor.spread import SpreadRule


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


def compile_watchlists(settings: Settings) -> WatchlistSet:
    """Every watchlist of a configuration with terms or a query in one matcher, each
    aimed at its active notifiers (a spread watchlist without terms matches nothing:
    the store counts its stories' sources)."""
    specs = [
        watchlist_spec(watchlist, targets(settings, watchlist), settings.aliases)
        for watchlist in settings.watchlists
        if watchlist.has_terms
    ]
    return WatchlistSet(specs)


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
