"""Identity keys: canonical links, content hashes, title keys."""

from __future__ import annotations

from monitor.dedupe import canonical_link, content_hash, identify, title_key
from monitor.models import Item


def test_canonical_link_removes_noise() -> None:
    assert (
        canonical_link("HTTP://WWW.Example.COM:80/News/a?utm_source=x&id=2&fbclid=y&a=1#top")
        == "https://www.example.com/News/a?a=1&id=2"
    )
    assert canonical_link("https://example.com:8443/a") == "https://example.com:8443/a"


def test_canonical_link_refuses_front_pages_and_non_http() -> None:
    assert canonical_link("https://example.com/") is None
    assert canonical_link("https://example.com") is None
    assert canonical_link("mailto:a@example.com") is None
    assert canonical_link(None) is None
    assert canonical_link("http://[bad") is None


def test_content_hash_ignores_markup_case_and_spacing() -> None:
    body = "Armenia and Azerbaijan agreed to a ceasefire starting at noon."
    assert content_hash("Ceasefire agreed", body) == content_hash(
        "CEASEFIRE  agreed", "armenia and azerbaijan agreed to a ceasefire, starting at noon"
    )
    assert content_hash("Short", "too short") is None


def test_title_key_needs_a_distinctive_title() -> None:
    assert title_key("Live updates") is None
    assert title_key("Russia declares ceasefire between Armenia and Azerbaijan") == title_key(
        "russia declares CEASEFIRE: between Armenia and Azerbaijan."
    )


def _item(key: str, link: str | None) -> Item:
    return Item(entry_key=key, guid=key, title=f"t {key}", link=link, summary="", content="")


def test_identify_drops_links_shared_by_several_entries() -> None:
    items = identify(
        [
            _item("1", "https://example.com/all"),
            _item("2", "https://example.com/all"),
            _item("3", "https://example.com/three?utm_medium=rss"),
        ]
    )
    assert [item.canonical_link for item in items] == [
        None,
        None,
        "https://example.com/three",
    ]
