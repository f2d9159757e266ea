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


# Sentences of an ordinary report, none of them watched: article bodies are built of these.
REPORT_SENTENCES = (
    "The talks lasted late into the night and ended without a joint statement.",
    "Officials on both sides said the meeting had been useful but difficult.",
    "A spokesman declined to say when the delegations would meet again.",
    "Residents of the border villages said the last week had been quiet.",
    "Aid groups asked for safe passage for convoys carrying food and medicine.",
    "Diplomats from several countries attended as observers, the ministry said.",
    "Markets in the capital opened as usual and traffic was light in the morning.",
    "The agreement, if signed, would be the first of its kind in three years.",
)


SPEAKERS = ("A mayor", "The ministry", "A witness", "An envoy", "The governor", "A doctor")
THINGS = ("houses", "trucks", "families", "tonnes of grain", "schools", "bridges", "clinics")
DONE = ("repaired", "counted", "moved", "registered", "inspected", "closed", "reopened")
PLACES = ("Lachin", "Goris", "Agdam", "Shusha", "Tavush", "Ganja", "Stepanakert", "Kapan")
DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "the weekend", "March")


def article_page(
    title: str,
    body: list[str],
    *,
    navigation: str = "Home World Politics Business Sport Culture",
    related: list[str] | None = None,
    comments: list[str] | None = None,
    head: str = "",
) -> str:
    """An article page as news sites write them: navigation, the article's paragraphs,
    a block of related stories, reader comments and a footer, each its own element,
    so an extractor has to tell the article from the rest."""
    paragraphs = "".join(f"<p>{escape(paragraph)}</p>" for paragraph in body)
    related_links = "".join(
        f'<li><a href="/related/{index}">{escape(text)}</a></li>'
        for index, text in enumerate(related or [])
    )
    comment_blocks = "".join(
        f'<div class="comment"><p>{escape(text)}</p></div>' for text in comments or []
    )
    return (
        f"<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
        f"<title>{escape(title)}</title>{head}</head><body>"
        f"<header><nav>{escape(navigation)}</nav></header>"
        f"<main><article><h1>{escape(title)}</h1>"
        f"<p class='byline'>By a staff reporter</p>{paragraphs}</article>"
        f"<aside class='related'><h2>Related stories</h2><ul>{related_links}</ul></aside>"
        f"<section id='comments'><h2>Comments</h2>{comment_blocks}</section></main>"
        "<footer>Copyright The Test Herald. All rights reserved.</footer></body></html>"
    )


def report_paragraphs(count: int, seed: int, inserted: dict[int, str] | None = None) -> list[str]:
    """``count`` paragraphs of three report sentences each (one the article's own), with
    ``inserted`` sentences put at the end of the paragraphs they name (paragraph five:
    index 4)."""
    import random

    rng = random.Random(seed)
    paragraphs = []
    for index in range(count):
        # Shared sentences around one of the article's own, so no two articles are alike.
        own = (
            f"{rng.choice(SPEAKERS)} said {rng.randint(2, 9999)} {rng.choice(THINGS)}"
            f" had been {rng.choice(DONE)} in {rng.choice(PLACES)} since {rng.choice(DAYS)}."
        )
        sentences = [*rng.sample(REPORT_SENTENCES, 2), own]
        if inserted and index in inserted:
            sentences.append(inserted[index])
        paragraphs.append(" ".join(sentences))
    return paragraphs
