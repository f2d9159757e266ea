"""Identity keys (canonical links, content hashes, title keys) and story resolution."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from monitor.dedupe import (
    BatchCandidates,
    Candidate,
    StoryJoin,
    StoryPolicy,
    canonical_link,
    content_hash,
    identify,
    resolve_story,
    title_key,
)
from monitor.models import Item

POLICY = StoryPolicy()


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


def test_identify_leaves_known_entries_out_but_counts_their_links() -> None:
    items = [_item("1", "https://example.com/all"), _item("2", "https://example.com/all")]
    (new,) = identify([*items, _item("3", "https://example.com/three")], known={"1", "3"})
    assert new.entry_key == "2" and new.canonical_link is None  # shared with known "1"
    assert new.fingerprint is not None


# -- story resolution: a pure function of the candidates --------------------------------

NOW = datetime(2026, 1, 5, 12, 0, tzinfo=UTC)
TEXT = (
    "Russian Foreign Minister Sergey Lavrov announced that Armenia and Azerbaijan have"
    " agreed to a ceasefire, starting at noon today, to exchange prisoners and bodies of"
    " the dead, after ten hours of talks in Moscow with his two counterparts."
)


def full(key: str, title: str, text: str, link: str | None = None) -> Item:
    (identified,) = identify(
        [Item(entry_key=key, guid=key, title=title, link=link, summary=text, content="")]
    )
    return identified


def candidates_of(
    item: Item, stored: Item, *, story: int = 7, feed: int = 2, age: timedelta = timedelta()
) -> list[Candidate]:
    found = BatchCandidates()
    found.add_item(stored, 1, story, feed, NOW - age)
    return found.for_item(item)


def test_the_same_link_or_text_is_the_same_story() -> None:
    stored = full("a", "Ceasefire agreed in Moscow", TEXT, "https://a.example/x?utm_source=rss")
    by_link = full("b", "Other words entirely here", "Different.", "http://A.example/x")
    assert resolve_story(by_link, 1, NOW, candidates_of(by_link, stored), POLICY) == StoryJoin(
        7, "link"
    )
    by_text = full("c", "Ceasefire agreed in Moscow", TEXT)
    assert resolve_story(by_text, 1, NOW, candidates_of(by_text, stored), POLICY) == StoryJoin(
        7, "text"
    )


def test_a_near_copy_joins_with_its_similarity() -> None:
    stored = full("a", "Ceasefire agreed in Moscow", TEXT)
    copy = full("b", "Moscow talks bring a truce", TEXT.replace("announced", "said"))
    join = resolve_story(copy, 1, NOW, candidates_of(copy, stored), POLICY)
    assert join is not None
    assert (join.story_id, join.by) == (7, "near")
    assert join.similarity is not None and 0.5 <= join.similarity < 1


def test_a_title_is_not_proof() -> None:
    stored = full("a", "Russia declares ceasefire between Armenia and Azerbaijan", TEXT)
    new_text = (
        "Fighting resumed on Sunday near Stepanakert, officials said, a day after both sides"
        " accused each other of shelling villages, and hospitals asked for blood donations."
    )
    other = full("b", stored.title, new_text)
    assert resolve_story(other, 1, NOW, candidates_of(other, stored), POLICY) is None
    # Without text to compare, the same long title from another feed joins, for 48 h.
    bare = full("c", stored.title, "")
    assert resolve_story(bare, 1, NOW, candidates_of(bare, stored), POLICY) == StoryJoin(7, "title")
    late = candidates_of(bare, stored, age=timedelta(hours=49))
    assert resolve_story(bare, 1, NOW, late, POLICY) is None
    # … but never within one feed, which may re-use a headline for another story.
    assert resolve_story(bare, 2, NOW, candidates_of(bare, stored, feed=2), POLICY) is None


def test_fuzzy_keys_older_than_the_window_do_not_join_but_seeds_always_do() -> None:
    stored = full("a", "Ceasefire agreed in Moscow", TEXT)
    copy = full("b", "Moscow talks bring a truce", TEXT.replace("announced", "said"))
    old = candidates_of(copy, stored, age=timedelta(days=15))
    assert resolve_story(copy, 1, NOW, old, POLICY) is None
    seeded = [replace(candidate, seed=True) for candidate in old]
    assert resolve_story(copy, 1, NOW, seeded, POLICY) is not None


def test_the_most_similar_story_wins() -> None:
    stored = full("a", "Ceasefire agreed in Moscow", TEXT)
    closer = full("b", "Ceasefire agreed in Moscow", TEXT + " Talks resume Monday.")
    found = BatchCandidates()
    found.add_item(stored, 1, 7, 2, NOW)
    found.add_item(closer, 2, 9, 3, NOW)
    probe = full("c", "Ceasefire agreed in Moscow", TEXT + " Talks resume Monday!")
    join = resolve_story(probe, 1, NOW, found.for_item(probe), POLICY)
    assert join is not None and join.by == "text" and join.story_id == 9


CHANNEL_BLURB = (
    "Support the channel on Patreon and get early access to every video. Parts used in"
    " this build are linked below, along with the schematics, the source code on GitHub,"
    " and the discount codes our sponsors give to viewers. Follow along on Mastodon and"
    " join the Discord server to ask questions about the projects in these videos."
)


def test_one_feeds_template_does_not_make_its_entries_one_story() -> None:
    # Two videos of one channel: different titles, the same long description.
    first = full("v1", "ESP32-S3 webcam with an infrared camera", "A webcam. " + CHANNEL_BLURB)
    second = full("v2", "Christmas tree train", "A train. " + CHANNEL_BLURB)
    assert resolve_story(second, 2, NOW, candidates_of(second, first, feed=2), POLICY) is None


def test_unrelated_headlines_need_strongly_similar_texts() -> None:
    # The same template on another feed (a site's second category feed): not one story.
    first = full(
        "v1",
        "ESP32-S3 webcam with an infrared camera",
        "This week I build a webcam from an ESP32-S3 board and add an infrared camera to"
        " see in the dark, then test it in the garden at night. " + CHANNEL_BLURB,
    )
    second = full(
        "v2",
        "Christmas tree train",
        "A small train now runs around the Christmas tree, driven by a motor controller"
        " that I wrote firmware for, with lights that blink as it passes. " + CHANNEL_BLURB,
    )
    assert resolve_story(second, 1, NOW, candidates_of(second, first), POLICY) is None
    # A re-post under a new headline is nearly the same text: it joins.
    stored = full("a", "Ceasefire agreed in Moscow", TEXT)
    retitled = full("b", "Lavrov: prisoners to be exchanged", TEXT)
    join = resolve_story(retitled, 1, NOW, candidates_of(retitled, stored), POLICY)
    assert join is not None and join.by == "near"
