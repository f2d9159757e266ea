"""The CPU part of ingesting a body (run in a worker): read by the source's kind, text,
identity for the unknown entries only, and the hub a feed names."""

from __future__ import annotations

from datetime import UTC, datetime

from monitor.ingest import prepare
from monitor.readers import Source
from tests.builders import Entry, rss

TRUCE = Entry(title="Karabakh truce holds", guid="t1", link="https://n.example/t1")
OTHER = Entry(title="Markets rally", guid="o1", link="https://n.example/o1")
NOW = datetime(2026, 11, 29, tzinfo=UTC)


def test_prepare_reads_every_entry_and_identifies_only_the_unknown_ones() -> None:
    body = rss([TRUCE, OTHER]).encode()
    headers = {"content-type": "application/rss+xml"}
    url = "https://n.example/feed"
    prepared = prepare([(body, headers)], url, None, frozenset({"t1"}), Source(), NOW)
    assert prepared.entries == 2
    assert [new.item.entry_key for new in prepared.items] == ["o1"]
    assert prepared.items[0].item.fingerprint is not None
    assert set(prepared.stages) == {"read", "text", "identify"}


def test_prepare_gives_the_hub_a_feed_names_and_a_lone_index_as_its_sitemaps() -> None:
    head = '<atom:link rel="hub" href="https://hub.example/"/><atom:link rel="self" href="/f"/>'
    body = rss([TRUCE], head=head).encode()
    prepared = prepare([(body, {})], "https://n.example/feed", None, frozenset(), Source(), NOW)
    assert prepared.websub is not None
    assert (prepared.websub.hub, prepared.websub.topic) == (
        "https://hub.example/",
        "https://n.example/f",
    )
    index = b"<sitemapindex><sitemap><loc>https://n.example/s1.xml</loc></sitemap></sitemapindex>"
    sitemap = Source("sitemap")
    lone = prepare([(index, {})], "https://n.example/i.xml", None, frozenset(), sitemap, NOW)
    assert (lone.children, lone.items, lone.websub) == (("https://n.example/s1.xml",), [], None)
