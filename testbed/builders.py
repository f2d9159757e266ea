"""Feed documents written for the tests: RSS 2.0, Atom, RSS 1.0 and JSON Feed."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from html import escape

# Entries are an hour old by default: fresh enough to alert (max_alert_age is 24 h).
PUBLISHED = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=1)
PUBLISHED_ISO = PUBLISHED.strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass
class Entry:
    """One entry to put in a feed; None leaves the element out."""

    title: str | None = "An entry"
    link: str | None = None
    guid: str | None = None
    summary: str | None = None
    content: str | None = None
    published: str | None = format_datetime(PUBLISHED, usegmt=True)
    extra: dict[str, str] = field(default_factory=dict)


def rss(
    entries: list[Entry],
    title: str = "Test feed",
    link: str = "https://example.org/",
    head: str = "",
) -> str:
    """An RSS 2.0 document; ``head``: more channel elements (``atom:`` is declared)."""
    items = []
    for entry in entries:
        parts = []
        if entry.title is not None:
            parts.append(f"<title>{escape(entry.title)}</title>")
        if entry.link is not None:
            parts.append(f"<link>{escape(entry.link)}</link>")
        if entry.guid is not None:
            parts.append(f'<guid isPermaLink="false">{escape(entry.guid)}</guid>')
        if entry.summary is not None:
            parts.append(f"<description>{escape(entry.summary)}</description>")
        if entry.content is not None:
            parts.append(f"<content:encoded><![CDATA[{entry.content}]]></content:encoded>")
        if entry.published is not None:
            parts.append(f"<pubDate>{entry.published}</pubDate>")
        items.append("<item>" + "".join(parts) + "</item>")
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/"'
        + (' xmlns:atom="http://www.w3.org/2005/Atom">' if head else ">")
        + f"<channel><title>{escape(title)}</title><link>{escape(link)}</link>"
        f"<description>test</description>{head}{''.join(items)}</channel></rss>"
    )


def atom(entries: list[Entry], title: str = "Test Atom feed") -> str:
    """An Atom 1.0 document."""
    parts = []
    for number, entry in enumerate(entries):
        inner = [f"<id>{escape(entry.guid or f'urn:test:{number}')}</id>"]
        if entry.title is not None:
            inner.append(f"<title>{escape(entry.title)}</title>")
        if entry.link is not None:
            inner.append(f'<link rel="alternate" href="{escape(entry.link)}"/>')
        if entry.summary is not None:
            inner.append(f'<summary type="html">{escape(entry.summary)}</summary>')
        if entry.content is not None:
            inner.append(f'<content type="html">{escape(entry.content)}</content>')
        inner.append(f"<updated>{PUBLISHED_ISO}</updated>")
        parts.append("<entry>" + "".join(inner) + "</entry>")
    return (
        '<?xml version="1.0" encoding="utf-8"?>\n'
        '<feed xmlns="http://www.w3.org/2005/Atom">'
        f"<title>{escape(title)}</title><id>urn:test:feed</id>"
        f"<updated>{PUBLISHED_ISO}</updated>{''.join(parts)}</feed>"
    )


def rdf(entries: list[Entry], title: str = "Test RSS 1.0 feed") -> str:
    """An RSS 1.0 (RDF) document."""
    items = []
    for entry in entries:
        about = entry.link or "https://example.org/none"
        inner = [f"<title>{escape(entry.title or '')}</title>", f"<link>{escape(about)}</link>"]
        if entry.summary is not None:
            inner.append(f"<description>{escape(entry.summary)}</description>")
        inner.append(f"<dc:date>{PUBLISHED_ISO}</dc:date>")
        items.append(f'<item rdf:about="{escape(about)}">{"".join(inner)}</item>')
    return (
        '<?xml version="1.0" encoding="utf-8"?>\n'
        '<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"'
        ' xmlns="http://purl.org/rss/1.0/" xmlns:dc="http://purl.org/dc/elements/1.1/">'
        f'<channel rdf:about="https://example.org/"><title>{escape(title)}</title>'
        "<link>https://example.org/</link><description>t</description></channel>"
        f"{''.join(items)}</rdf:RDF>"
    )


def json_feed(entries: list[Entry], title: str = "Test JSON feed") -> str:
    """A JSON Feed 1.1 document."""
    items = []
    for number, entry in enumerate(entries):
        item: dict[str, object] = {"id": entry.guid or f"json-{number}"}
        if entry.title is not None:
            item["title"] = entry.title
        if entry.link is not None:
            item["url"] = entry.link
        if entry.summary is not None:
            item["summary"] = entry.summary
        item["content_html"] = entry.content or entry.summary or ""
        item["date_published"] = PUBLISHED_ISO
        items.append(item)
    return json.dumps(
        {"version": "https://jsonfeed.org/version/1.1", "title": title, "items": items}
    )


# Spellings a reader means when they watch "Karabakh", and near misses they do not mean.
WATCHED = ["Karabakh", "Nagorno-Karabakh", "Qarabağ", "QARABAG", "Karabagh", "ARTSAKH", "qarabağ"]
NEAR_MISSES = ["Karabakhs", "Artsakhian", "Qarabagli", "Kara bakh", "karabakhi", "Karabağlar"]
FILLER = [
    "officials",
    "said",
    "talks",
    "would",
    "continue",
    "next",
    "week",
    "while",
    "markets",
    "watched",
    "the",
    "capital",
    "and",
    "residents",
    "reported",
    "calm",
    "streets",
    "after",
    "the",
    "weekend",
]


@dataclass
class SyntheticFeed:
    """A generated feed and which of its entries carry a watched term."""

    path: str
    body: str
    content_type: str
    watched: set[str]


def synthetic_feeds(count: int, per_feed: int, seed: int = 1) -> list[SyntheticFeed]:
    """Feeds in all four formats; every entry is its own story, some carry a watched
    spelling (in the title, the summary or only the full content), some a near miss or
    the term only inside markup, which must not match."""
    import random

    rng = random.Random(seed)
    builders = [(rss, "application/rss+xml"), (atom, "application/atom+xml")]
    builders += [(rdf, "application/rdf+xml"), (json_feed, "application/feed+json")]
    feeds = []
    for number in range(count):
        entries, watched = [], set()
        for index in range(per_feed):
            key = f"f{number}-e{index}"
            words = rng.sample(FILLER, 8)
            title = f"Report {key}: " + " ".join(words[:4])
            summary = " ".join(words[4:]) + f" ({key})"
            content: str | None = None
            roll = rng.random()
            term = rng.choice(WATCHED)
            if roll < 0.15:
                title = f"{title} {term}"
                watched.add(key)
            elif roll < 0.30:
                summary = f"{summary}, near {term}."
                watched.add(key)
            elif roll < 0.38:
                content = f"<p>{summary}</p><p>Later: {term} quiet.</p>"
                watched.add(key)
            elif roll < 0.50:
                title = f"{title} {rng.choice(NEAR_MISSES)}"
            elif roll < 0.58:
                content = (
                    f'<p>{summary} <a href="https://x.example/{term}" title="{term}">x</a></p>'
                )
            build, content_type = builders[number % len(builders)]
            if build is rdf and content is not None:
                # RSS 1.0 has no content element: put it in the description.
                summary, content = content, None
            entries.append(
                Entry(
                    title=title,
                    link=f"https://site{number}.example/news/{key}",
                    guid=key,
                    summary=summary,
                    content=content,
                )
            )
        build, content_type = builders[number % len(builders)]
        feeds.append(SyntheticFeed(f"/synthetic/{number}", build(entries), content_type, watched))
    return feeds
