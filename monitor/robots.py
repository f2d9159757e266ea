"""robots.txt for article fetches (RFC 9309): each host's rules, fetched through the
poll's fetcher (its limits, its address guard) the first time an article of the host is
wanted, kept for a day and then asked again conditionally.

A robots.txt that is missing (4xx) allows everything; one that cannot be had (5xx, a
network error) disallows everything until it is asked again, as the RFC says. Feeds
themselves are not checked: subscribing to a feed is the site's invitation.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlsplit
from urllib.robotparser import RobotFileParser

from monitor.fetch import Fetcher, FetchError

AGENT = "news-monitor"
KEEP = timedelta(hours=24)  # a host's rules are asked for again after this
RETRY_UNREACHABLE = timedelta(minutes=30)  # a robots.txt that could not be had
MAX_ROBOTS = 512 * 1024  # what a robots.txt may hold that we read


@dataclass
class HostRules:
    """One host's robots.txt as last fetched: its rules and its validators."""

    rules: RobotFileParser | None  # None: nothing may be fetched (unreachable)
    fetched_at: datetime
    keep: timedelta
    etag: str | None = None
    last_modified: str | None = None
    problem: str = ""  # why the rules could not be had


class Robots:
    """Answers whether an article URL may be fetched, host by host."""

    def __init__(self, fetcher: Fetcher, clock: Callable[[], datetime]) -> None:
        self.fetcher = fetcher
        self.clock = clock
        self._hosts: dict[str, HostRules] = {}
        self._locks: dict[str, asyncio.Lock] = {}

    async def refusal(self, url: str) -> str | None:
        """Why ``url`` may not be fetched by our agent (None: it may)."""
        parts = urlsplit(url)
        origin = f"{parts.scheme}://{parts.netloc}"
        lock = self._locks.setdefault(origin, asyncio.Lock())
        async with lock:  # one robots.txt request per host at a time
            known = self._hosts.get(origin)
            if known is None or self.clock() - known.fetched_at >= known.keep:
                known = self._hosts[origin] = await self._fetch(origin, known)
        if known.rules is None:
            return f"robots.txt could not be had ({known.problem}): nothing is fetched"
        return None if known.rules.can_fetch(AGENT, url) else "refused by robots.txt"

    async def _fetch(self, origin: str, before: HostRules | None) -> HostRules:
        now = self.clock()
        try:
            result = await self.fetcher.fetch(
                f"{origin}/robots.txt",
                etag=None if before is None else before.etag,
                last_modified=None if before is None else before.last_modified,
            )
        except FetchError as error:
            if error.status is not None and 400 <= error.status < 500:
                return HostRules(_rules(""), now, KEEP)  # no robots.txt: all allowed
            return HostRules(None, now, RETRY_UNREACHABLE, problem=str(error))
        if result.body is None and before is not None:  # 304: as it was
            return HostRules(before.rules, now, KEEP, before.etag, before.last_modified)
        text = (result.body or b"")[:MAX_ROBOTS].decode("utf-8", "replace")
        return HostRules(_rules(text), now, KEEP, result.etag, result.last_modified)


def _rules(text: str) -> RobotFileParser:
    parser = RobotFileParser()
    parser.parse(text.splitlines())
    return parser
