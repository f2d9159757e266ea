"""Identity keys (canonical links, content hashes, title keys) and story resolution."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from monitor.dedupe import (
    BatchCandidates,
    Candidate,
    FirstItem,
    StoryJoin,
    StoryPolicy,
    canonical_link,
    content_hash,
    identify,
    identity_keys,
    keys_for_own_batch,
    resolve_story,
    stories_to_compare,
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
    assert new.sketch is not None


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


def stored_as(
    stored: Item, *, story: int = 7, feed: int = 2, age: timedelta = timedelta(), item_id: int = 1
) -> BatchCandidates:
    found = BatchCandidates()
    found.add_item(stored, item_id, story, feed, NOW - age, identity_keys(stored), started=True)
    return found


def resolve(
    item: Item,
    found: BatchCandidates,
    feed: int = 1,
    candidates: list[Candidate] | None = None,
) -> StoryJoin | None:
    if candidates is None:
        candidates = found.for_item(identity_keys(item))
    return resolve_story(item, feed, NOW, candidates, found.representatives, POLICY)


def join_of(
    item: Item, stored: Item, *, on_feed: int = 1, age: timedelta = timedelta()
) -> StoryJoin | None:
    """How ``item``, new on feed ``on_feed``, joins ``stored`` (story 7, on feed 2)."""
    return resolve(item, stored_as(stored, age=age), on_feed)


def test_the_same_link_or_text_is_the_same_story() -> None:
    stored = full("a", "Ceasefire agreed in Moscow", TEXT, "https://a.example/x?utm_source=rss")
    by_link = full("b", "Other words entirely here", "Different.", "http://A.example/x")
    assert join_of(by_link, stored) == StoryJoin(7, "link", compared_with=1)
    by_text = full("c", "Ceasefire agreed in Moscow", TEXT)
    assert join_of(by_text, stored) == StoryJoin(7, "text", compared_with=1)


def test_a_near_copy_joins_with_its_similarity() -> None:
    stored = full("a", "Ceasefire agreed in Moscow", TEXT)
    copy = full("b", "Moscow talks bring a truce", TEXT.replace("announced", "said"))
    join = join_of(copy, stored)
    assert join is not None
    assert (join.story_id, join.by, join.compared_with) == (7, "near", 1)
    assert join.similarity is not None and 0.5 <= join.similarity < 1


def test_a_title_is_not_proof() -> None:
    stored = full("a", "Russia declares ceasefire between Armenia and Azerbaijan", TEXT)
    new_text = (
        "Fighting resumed on Sunday near Stepanakert, officials said, a day after both sides"
        " accused each other of shelling villages, and hospitals asked for blood donations."
    )
    other = full("b", stored.title, new_text)
    assert join_of(other, stored) is None
    # Without text to compare, the same long title from another feed joins, for 48 h.
    bare = full("c", stored.title, "")
    assert join_of(bare, stored) == StoryJoin(7, "title", compared_with=1)
    assert join_of(bare, stored, age=timedelta(hours=49)) is None
    # … but never within one feed, which may re-use a headline for another story.
    assert join_of(bare, stored, on_feed=2) is None


def test_fuzzy_keys_older_than_the_window_do_not_join_but_seeds_always_do() -> None:
    stored = full("a", "Ceasefire agreed in Moscow", TEXT)
    copy = full("b", "Moscow talks bring a truce", TEXT.replace("announced", "said"))
    old = stored_as(stored, age=timedelta(days=15))
    assert resolve(copy, old) is None
    seeded = BatchCandidates()
    keys = identity_keys(stored)
    seeded.add_item(stored, 1, 7, 2, NOW - timedelta(days=15), keys, started=True, seed=True)
    assert resolve(copy, seeded) is not None


def test_the_most_similar_story_wins() -> None:
    stored = full("a", "Ceasefire agreed in Moscow", TEXT)
    closer = full("b", "Ceasefire agreed in Moscow", TEXT + " Talks resume Monday.")
    found = BatchCandidates()
    found.add_item(stored, 1, 7, 2, NOW, identity_keys(stored), started=True)
    found.add_item(closer, 2, 9, 3, NOW, identity_keys(closer), started=True)
    probe = full("c", "Moscow: talks resume", TEXT + " Talks resume Monday!")
    join = resolve(probe, found)
    assert join is not None and join.by == "near" and join.story_id == 9


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
    assert join_of(second, first, on_feed=2) is None


WEBCAM = full(
    "v1",
    "ESP32-S3 webcam with an infrared camera",
    "This week I build a webcam from an ESP32-S3 board and add an infrared camera to"
    " see in the dark, then test it in the garden at night. " + CHANNEL_BLURB,
)
TRAIN = full(
    "v2",
    "Christmas tree train",
    "A small train now runs around the Christmas tree, driven by a motor controller"
    " that I wrote firmware for, with lights that blink as it passes. " + CHANNEL_BLURB,
)


def test_a_template_on_another_feed_is_not_one_story_and_a_new_headline_is() -> None:
    # The same template on another feed (a site's second category feed): not one story.
    assert join_of(TRAIN, WEBCAM) is None
    # A re-post under a new headline is nearly the same text: it joins.
    stored = full("a", "Ceasefire agreed in Moscow", TEXT)
    retitled = full("b", "Lavrov: prisoners to be exchanged", TEXT)
    join = join_of(retitled, stored)
    assert join is not None and join.by == "near"


SHORT_TEXT = (
    "The two sides agreed to exchange prisoners and the bodies of the dead on Monday under"
    " the supervision of the Red Cross, officials in Baku and Yerevan said, adding that the"
    " first exchange would take place at a crossing near the town of Lachin before noon and"
    " that mediators from Moscow would attend it."
)


def test_a_short_text_under_a_new_headline_joins() -> None:
    # 60 words under two different headlines: the text decides, not the headline.
    first = full("a", "Prisoner exchange agreed", SHORT_TEXT)
    retitled = full("b", "Baku and Yerevan to swap captives at Lachin", SHORT_TEXT)
    join = join_of(retitled, first)
    assert join is not None and join.by == "near"


def test_what_many_stories_share_carries_no_weight() -> None:
    # Two stories that share the channel's blurb and little else: alike enough to join
    # while the blurb counts, never once it is known to be common.
    first = full("a", "Webcam build", "A webcam. " + CHANNEL_BLURB)
    second = full("b", "Train build", "A train. " + CHANNEL_BLURB)
    found = stored_as(first)
    assert resolve(second, found) is not None
    assert first.sketch is not None
    common = frozenset(first.sketch.sample) & frozenset(second.sketch.sample)  # type: ignore[union-attr]
    candidates = found.for_item(identity_keys(second))
    assert resolve_story(second, 1, NOW, candidates, found.representatives, POLICY, common) is None


def test_an_item_is_compared_with_the_story_not_with_its_nearest_member() -> None:
    # A ≈ B and B ≈ C, but A and C share little: C must not join A's story through B.
    words_a = " ".join(f"alpha{n}" for n in range(60))
    words_b = (
        " ".join(f"alpha{n}" for n in range(30, 60)) + " " + " ".join(f"beta{n}" for n in range(30))
    )
    words_c = (
        " ".join(f"beta{n}" for n in range(30)) + " " + " ".join(f"gamma{n}" for n in range(30))
    )
    a, b, c = full("a", "A", words_a), full("b", "B", words_b), full("c", "C", words_c)
    found = stored_as(a)  # story 7, its representative
    found.add_item(b, 2, 7, 3, NOW, identity_keys(b), started=False)  # B joined it
    assert resolve(c, found) is None


def test_a_story_takes_a_near_duplicate_from_another_feed_within_the_window() -> None:
    first = FirstItem(feed_id=5, seen_at=NOW - timedelta(days=20))
    assert not first.takes(5, NOW - timedelta(days=19), POLICY)  # its own feed: never
    assert first.takes(6, NOW - timedelta(days=19), POLICY)
    assert not first.takes(6, NOW, POLICY)  # past the window
    assert replace(first, seed=True).takes(6, NOW, POLICY)  # the stored sample's: always


def test_stories_that_could_not_take_the_item_take_no_place_among_those_compared() -> None:
    def anchor(story: int, first: FirstItem | None) -> Candidate:
        return Candidate("near", story * 10, story, 1, NOW, story=first)

    own, old = FirstItem(5, NOW), FirstItem(6, NOW - timedelta(days=30))
    # Stories 1-4 (feed 5's own, or past the window) share more anchors with the item
    # than story 9 (feed 6's, recent) and 8 (first item unknown).
    crowd = [anchor(story, own if story % 2 else old) for story in (1, 2, 3, 4) for _ in range(3)]
    others = [anchor(9, FirstItem(6, NOW)), anchor(9, FirstItem(6, NOW)), anchor(8, None)]
    candidates = [*crowd, *others]

    def from_feed_5(first: FirstItem) -> bool:
        return first.takes(5, NOW, POLICY)

    assert stories_to_compare(candidates, from_feed_5) == [9, 8]
    assert stories_to_compare(candidates) == [4, 3, 2, 1]  # nothing asked: none left out


def test_an_item_offers_the_rest_of_its_batch_only_the_keys_that_can_place_them() -> None:
    keys = [("link", 1), ("text", 2), ("title", 3), ("near", 4), ("lead", 5)]
    assert keys_for_own_batch(keys, started=True) == [("link", 1), ("text", 2)]
    assert keys_for_own_batch(keys, started=False) == [
        ("link", 1),
        ("text", 2),
        ("near", 4),
        ("lead", 5),
    ]
