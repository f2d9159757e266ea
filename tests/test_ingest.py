"""The CPU part of ingesting a body (run in a worker): read by the source's kind, text,
identity for the unknown entries only, and the hub a feed names."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

from monitor.ingest import prepare
from monitor.models import Revision
from monitor.sources import Source
from testbed.builders import PUBLISHED, Entry, rss

TRUCE = Entry(title="Karabakh truce holds", guid="t1", link="https://n.example/t1")
OTHER = Entry(title="Markets rally", guid="o1", link="https://n.example/o1")
NOW = datetime(2026, 11, 29, tzinfo=UTC)


HEADERS = {"content-type": "application/rss+xml"}
URL = "https://n.example/feed"


def versions(*entries: Entry) -> dict[str, int | None]:
    """The entries' keys and digests, as the store gives them once it has them."""
    body = rss(list(entries)).encode()
    prepared = prepare([(body, HEADERS)], URL, None, {}, Source(), NOW)
    return {new.item.entry_key: new.item.digest for new in prepared.items}


def test_prepare_reads_every_entry_and_identifies_only_the_unknown_ones() -> None:
    body = rss([TRUCE, OTHER]).encode()
    prepared = prepare([(body, HEADERS)], URL, None, versions(TRUCE), Source(), NOW)
    assert prepared.entries == 2
    assert [new.item.entry_key for new in prepared.items] == ["o1"]
    assert prepared.items[0].item.sketch is not None
    assert set(prepared.stages) == {"read", "text", "identify"}


def test_an_entry_edited_in_place_comes_back_as_a_revision_without_new_identity() -> None:
    edited = replace(TRUCE, summary="Talks on a ceasefire resume in Moscow.")
    body = rss([edited, OTHER]).encode()
    prepared = prepare([(body, HEADERS)], URL, None, versions(TRUCE, OTHER), Source(), NOW)
    (revised,) = prepared.items
    assert (revised.item.entry_key, revised.revision) == ("t1", Revision.EDITED)
    assert revised.item.summary == "Talks on a ceasefire resume in Moscow."
    assert revised.item.sketch is None  # it stays the item and story it was
    # Stored before versions were kept: read again, quietly.
    legacy = prepare([(body, HEADERS)], URL, None, {"t1": None, "o1": None}, Source(), NOW)
    assert [(new.item.entry_key, new.revision) for new in legacy.items] == [
        ("t1", Revision.REREAD),
        ("o1", Revision.REREAD),
    ]


def test_prepare_gives_the_hub_a_feed_names_and_a_lone_index_as_its_sitemaps() -> None:
    head = '<atom:link rel="hub" href="https://hub.example/"/><atom:link rel="self" href="/f"/>'
    body = rss([TRUCE], head=head).encode()
    prepared = prepare([(body, {})], "https://n.example/feed", None, {}, Source(), NOW)
    assert prepared.websub is not None
    assert (prepared.websub.hub, prepared.websub.topic) == (
        "https://hub.example/",
        "https://n.example/f",
    )
    index = b"<sitemapindex><sitemap><loc>https://n.example/s1.xml</loc></sitemap></sitemapindex>"
    sitemap = Source("sitemap")
    lone = prepare([(index, {})], "https://n.example/i.xml", None, {}, sitemap, NOW)
    assert (lone.children, lone.items, lone.websub) == (("https://n.example/s1.xml",), [], None)


def test_a_long_feed_is_read_up_to_its_newest_max_entries_and_says_so() -> None:

    # Oldest first, as some archives list them: the newest are the last.
    entries = [
        Entry(
            title=f"Entry {number}",
            guid=f"e{number}",
            link=f"https://n.example/{number}",
            published=format_datetime(PUBLISHED + timedelta(minutes=number), usegmt=True),
        )
        for number in range(300)
    ]
    body = rss(entries).encode()
    capped = prepare([(body, HEADERS)], URL, None, {}, Source(max_entries=100), NOW)
    assert [new.item.entry_key for new in capped.items] == [f"e{n}" for n in range(200, 300)]
    assert (
        capped.feed.warning == "the body lists 300 entries; the newest 100 were read (max_entries)"
    )
    # Without dates, the first ones (feeds list their newest first).
    undated = rss([replace(entry, published=None) for entry in entries]).encode()
    first = prepare([(undated, HEADERS)], URL, None, {}, Source(max_entries=10), NOW)
    assert [new.item.entry_key for new in first.items] == [f"e{n}" for n in range(10)]
