"""Spreading stories: a watchlist with ``spread: {sources: 5, within: 2h}`` alerts a
story once, when that many distinct sources have carried it within the time, even if
no single item said a watched word. Pure functions: the store hands over the story's
recent reports and writes what ``spread_of`` finds.

- A *source* is a site: feeds that share a registrable domain (``feeds.bbci.co.uk`` and
  ``www.bbci.co.uk``) count once, by the Public Suffix List. A feed on an IP address or
  a one-label host (``localhost``) is a site of its own, since nothing says which
  feeds share it.
- A source *reported* the story at its entry's publication time, or when the daemon
  first saw it when the entry has no date or one in the future: a feed polled every
  hour still reports when it published, and a date cannot claim tomorrow.
- The window ends now: a story spreads when enough sources reported it in the last
  ``within``. So old reports found late never make a burst, and a story that gathers
  its sources slowly never alerts.
- With terms or a query, the watchlist watches only stories one of whose reports in
  the window matched them; the other reports count all the same.
"""

from __future__ import annotations

import functools
import ipaddress
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta
from urllib.parse import urlsplit

from publicsuffixlist import PublicSuffixList

MAX_SHOWN = 100  # sources a spread alert keeps and lists; ``more`` counts the rest


@dataclass(frozen=True, slots=True)
class SpreadRule:
    """A watchlist's ``spread:``: how many sites within how long, who hears, which
    feeds count (None: all), and whether a report must match its terms."""

    watchlist: str
    sources: int
    within: timedelta
    notifiers: tuple[str, ...]
    feed_urls: frozenset[str] | None = None
    needs_match: bool = False

    def watches(self, feed_url: str) -> bool:
        """Reports from this feed count."""
        return self.feed_urls is None or feed_url in self.feed_urls


@dataclass(frozen=True, slots=True)
class Report:
    """One item of a story as spreading sees it (times in epoch seconds)."""

    item_id: int
    feed_url: str
    reported_at: float
    watchlists: frozenset[str] = frozenset()  # the watchlists the item matched


@dataclass(frozen=True, slots=True)
class Reached:
    """A spread that happened: each site's first report in the window, first first."""

    rule: SpreadRule
    reports: tuple[Report, ...]
    sites: tuple[str, ...]


def reported_at(published: float | None, first_seen: float) -> float:
    """When a source reported an item: its publication, unless absent or later than
    when it was first seen."""
    return first_seen if published is None else min(published, first_seen)


@functools.cache
def _suffixes() -> PublicSuffixList:
    return PublicSuffixList()  # the list ships in the wheel; read once, on first use


@functools.lru_cache(maxsize=8192)
def site_of(feed_url: str) -> str:
    """The site a feed belongs to: its host's registrable domain, or the feed's own URL
    when its host is an address or has one label."""
    host = (urlsplit(feed_url).hostname or "").rstrip(".")
    if "." not in host:
        return feed_url
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return _suffixes().privatesuffix(host) or host
    return feed_url


def spread_of(rule: SpreadRule, reports: Iterable[Report], now: float) -> Reached | None:
    """Whether the story these reports make has spread for ``rule`` at ``now``."""
    cutoff = now - rule.within.total_seconds()
    recent = sorted(
        (
            report
            for report in reports
            if report.reported_at >= cutoff and rule.watches(report.feed_url)
        ),
        key=lambda report: (report.reported_at, report.item_id),
    )
    if rule.needs_match and not any(rule.watchlist in report.watchlists for report in recent):
        return None
    first: dict[str, Report] = {}
    for report in recent:
        first.setdefault(site_of(report.feed_url), report)
    if len(first) < rule.sources:
        return None
    return Reached(rule, tuple(first.values()), tuple(first))
