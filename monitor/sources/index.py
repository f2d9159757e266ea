"""Sitemap indexes: a source whose body names other sitemaps is read through them. The
sitemaps are fetched one after the other through the poll's fetcher (its limits, its
politeness), conditionally where the last poll kept their validators, and their bodies
read as one. The poller and ``feeds preview`` both fetch them here.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

from monitor.fetch import Fetcher, FetchError
from monitor.logs import feed_ids
from monitor.models import FeedState, PartState
from monitor.redact import with_userinfo_of, without_userinfo
from monitor.sources import Body, RawFeed

log = logging.getLogger(__name__)


def merged(raws: Sequence[RawFeed]) -> RawFeed:
    """One source's bodies as one: the first one's fields, every body's entries."""
    if len(raws) == 1:
        return raws[0]
    warnings = [raw.warning for raw in raws if raw.warning]
    if any(raw.children for raw in raws):
        warnings.append("a sitemap index inside a sitemap index is not followed")
    return replace(
        raws[0],
        entries=[entry for raw in raws for entry in raw.entries],
        warning="; ".join(warnings) or None,
        children=(),
    )


@dataclass(frozen=True, slots=True)
class Sitemaps:
    """The sitemaps of an index: the bodies that changed, the state of every one that
    answered (for the next poll's conditional requests), and why the others failed."""

    bodies: list[Body]
    parts: list[PartState]
    errors: list[str]


async def fetch_sitemaps(
    fetcher: Fetcher,
    urls: Sequence[str],
    known: Mapping[str, PartState] | None = None,
    index_url: str = "",
) -> Sitemaps:
    """The sitemaps an index names, one after the other through the same fetcher (its
    limits, its politeness), conditionally where ``known`` has validators; a sitemap
    that answers 304 or with the same body as before brings no body. Those on the
    index's own site are asked with its user info (``index_url``). FetchError when
    every one failed."""
    known = known or {}
    found = Sitemaps([], [], [])
    for url in urls:
        before = known.get(url) or PartState(url)
        try:
            child = await fetcher.fetch(
                with_userinfo_of(url, index_url),
                etag=before.etag,
                last_modified=before.last_modified,
            )
        except FetchError as error:
            found.errors.append(f"{without_userinfo(url)}: {error}")
            continue
        if child.body is None or child.digest == before.digest:
            found.parts.append(before)
            continue
        found.bodies.append((child.body, child.headers))
        found.parts.append(PartState(url, child.etag, child.last_modified, child.digest))
    if not found.parts:
        raise FetchError(
            f"none of the index's {len(urls)} sitemap(s) could be fetched"
            + (f" ({found.errors[0]})" if found.errors else "")
        )
    return found


async def fetch_index(
    fetcher: Fetcher, feed: FeedState, children: Sequence[str], known: Mapping[str, PartState]
) -> Sitemaps:
    """The sitemaps a feed's index names, asked for conditionally (``known``: as last
    fetched); one that fails is skipped and logged."""
    sitemaps = await fetch_sitemaps(fetcher, children, known, feed.poll_url)
    if sitemaps.errors:
        log.warning(
            "sitemap index %s: %s of %s sitemap(s) failed: %s",
            feed.shown_url,
            len(sitemaps.errors),
            len(children),
            "; ".join(sitemaps.errors),
            extra=feed_ids(feed.id, feed.url),
        )
    return sitemaps
