"""``news-monitor feeds preview URL``: what one source gives now, read as the daemon
reads it (its type, its selectors, a sitemap index through its sitemaps), without
storing anything: for trying selectors on a page, or a feed before adding it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from monitor.feedlinks import WebSubLinks, websub_links
from monitor.fetch import Fetcher
from monitor.fulltext import ArticleReader, ArticleRule, FulltextLimits, NothingStored
from monitor.models import Item, NewItem
from monitor.parse import text_of
from monitor.redact import without_userinfo
from monitor.sources import Source
from monitor.sources.index import fetch_sitemaps, merged
from monitor.sources.registry import read_source
from monitor.views import iso_utc, snippet
from monitor.workers import WorkerPool

PREVIEW_TEXT_CHARS = 300  # of an article's text, in ``feeds preview --fulltext``


@dataclass(frozen=True)
class Preview:
    """A source's entries as items (no identity keys), and what came with them."""

    url: str
    source: Source
    title: str | None
    items: list[Item]
    warnings: list[str]
    websub: WebSubLinks | None


async def preview(fetcher: Fetcher, url: str, source: Source, now: datetime) -> Preview:
    """Fetch ``url`` and read it as ``source``; FetchError or ReadError say why not."""
    result = await fetcher.fetch(url)
    body = result.body or b""
    base = without_userinfo(url)  # relative links never carry a password (see prepare)
    raw = read_source(body, result.headers, base, source, now)
    warnings = []
    if raw.children:
        sitemaps = await fetch_sitemaps(fetcher, raw.children, index_url=url)
        warnings += sitemaps.errors
        raw = merged(
            [read_source(child, headers, base, source, now) for child, headers in sitemaps.bodies]
        )
    parsed = text_of(raw)
    if parsed.warning:
        warnings.append(parsed.warning)
    links = websub_links(body, result.headers, base) if source.kind == "feed" else None
    return Preview(base, source, parsed.title, parsed.items, warnings, links)


async def with_articles(
    fetcher: Fetcher,
    items: list[Item],
    rule: ArticleRule,
    limits: FulltextLimits,
    clock: Callable[[], datetime],
) -> list[Item]:
    """The items with their articles read as the daemon would read them by ``rule`` (its
    selector; every item, however long its feed text), remembering nothing."""
    workers = WorkerPool(1)
    try:
        reader = ArticleReader(fetcher, NothingStored(), workers, clock)
        reader.configure({}, rule, limits)
        every = replace(rule, mode="always")
        read, _ = await reader.read([NewItem(item) for item in items], every)
    finally:
        await workers.close()
    return [new.item for new in read]


def item_preview_json(item: Item) -> dict[str, Any]:
    """One entry as ``feeds preview --json`` prints it (its article's text and how
    reading it went, when it was read)."""
    shown: dict[str, Any] = {
        "title": item.title,
        "link": item.link,
        "published": iso_utc(item.published),
        "summary": item.summary,
        "key": item.entry_key,
    }
    if item.fulltext_note is not None:
        shown["fulltext"] = {"text": item.fulltext, "note": item.fulltext_note}
    return shown


def preview_text(shown: Preview, limit: int) -> str:
    """The entries for a person: date, title, link, the start of the summary."""
    kind = "" if shown.source.kind == "feed" else f" (type: {shown.source.kind})"
    count = len(shown.items)
    lines = [f"# {count} {'entry' if count == 1 else 'entries'} from {shown.url}{kind}"]
    if shown.title:
        lines.append(f"# title: {shown.title}")
    if shown.websub is not None:
        lines.append(f"# WebSub hub: {shown.websub.hub} (topic {shown.websub.topic})")
    lines += [f"# warning: {warning}" for warning in shown.warnings]
    for item in shown.items[:limit]:
        lines.append(f"{iso_utc(item.published) or '(no date)':<21} {item.title or '(no title)'}")
        lines.append(f"{'':<21} {item.link or '(no link)'}")
        if item.summary:
            summary = item.summary if len(item.summary) <= 100 else item.summary[:99] + "…"
            lines.append(f"{'':<21} {summary}")
        if item.fulltext_note is not None:
            lines.append(f"{'':<21} full text ({len(item.fulltext):,} chars): {item.fulltext_note}")
            if item.fulltext:
                lines.append(f"{'':<21} {snippet(item.fulltext, PREVIEW_TEXT_CHARS)}")
    if len(shown.items) > limit:
        lines.append(f"# … and {len(shown.items) - limit} more (--limit)")
    return "\n".join(lines)


def configured_source(sources: Mapping[str, Source], names: Mapping[str, str], key: str) -> str:
    """The configured URL that ``key`` names (a URL or a name), else ``key`` itself."""
    if key in sources:
        return key
    return names.get(key, key)
