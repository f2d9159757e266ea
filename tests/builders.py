"""Feed documents written for the tests: RSS 2.0, Atom, RSS 1.0 and JSON Feed."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from html import escape


@dataclass
class Entry:
    """One entry to put in a feed; None leaves the element out."""

    title: str | None = "An entry"
    link: str | None = None
    guid: str | None = None
    summary: str | None = None
    content: str | None = None
    published: str | None = "Sat, 10 Oct 2020 09:00:00 GMT"
    extra: dict[str, str] = field(default_factory=dict)


def rss(entries: list[Entry], title: str = "Test feed", link: str = "https://example.org/") -> str:
    """An RSS 2.0 document."""
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
        '<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/">'
        f"<channel><title>{escape(title)}</title><link>{escape(link)}</link>"
        f"<description>test</description>{''.join(items)}</channel></rss>"
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
        inner.append("<updated>2020-10-10T09:00:00Z</updated>")
        parts.append("<entry>" + "".join(inner) + "</entry>")
    return (
        '<?xml version="1.0" encoding="utf-8"?>\n'
        '<feed xmlns="http://www.w3.org/2005/Atom">'
        f"<title>{escape(title)}</title><id>urn:test:feed</id>"
        f"<updated>2020-10-10T09:00:00Z</updated>{''.join(parts)}</feed>"
    )


def rdf(entries: list[Entry], title: str = "Test RSS 1.0 feed") -> str:
    """An RSS 1.0 (RDF) document."""
    items = []
    for entry in entries:
        about = entry.link or "https://example.org/none"
        inner = [f"<title>{escape(entry.title or '')}</title>", f"<link>{escape(about)}</link>"]
        if entry.summary is not None:
            inner.append(f"<description>{escape(entry.summary)}</description>")
        inner.append("<dc:date>2020-10-10T09:00:00Z</dc:date>")
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
        item["date_published"] = "2020-10-10T09:00:00Z"
        items.append(item)
    return json.dumps(
        {"version": "https://jsonfeed.org/version/1.1", "title": title, "items": items}
    )
