"""The Store contract. Every backend runs this same suite (SQLite and PostgreSQL)."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from monitor.alerting import MUTED
from monitor.dedupe import identify
from monitor.models import (
    DeliveryStatus,
    FeedSpec,
    FeedState,
    Item,
    Match,
    MatchedTerm,
    Mute,
    NewItem,
    PollRecord,
    Revision,
    SubscriptionTask,
)
from monitor.store import LeaseLost, Store, StoreError
from tests.conftest import StoreFactory

NOW = datetime(2026, 1, 5, 12, 0, tzinfo=UTC)
MINUTE = timedelta(minutes=1)


def spec(url: str, interval: timedelta = 10 * MINUTE, baseline: bool = True) -> FeedSpec:
    return FeedSpec(url=url, name=None, interval=interval, baseline=baseline)


def item(key: str, title: str = "", link: str | None = None, body: str = "") -> Item:
    (identified,) = identify(
        [
            Item(
                entry_key=key,
                guid=key,
                title=title or f"Title {key}",
                link=link,
                summary=body,
                content="",
            )
        ]
    )
    return identified


def matched(entry: Item, *notifiers: str, watchlist: str = "w") -> NewItem:
    terms = (MatchedTerm("truce", "title"),)
    return NewItem(entry, (Match(watchlist, notifiers or ("console",), terms),))


def record(at: datetime = NOW, **fields: object) -> PollRecord:
    values: dict[str, object] = {
        "polled_at": at,
        "next_poll_at": at + 10 * MINUTE,
        "status": 200,
        "error": None,
    }
    values.update(fields)
    return PollRecord(**values)  # type: ignore[arg-type]


async def feed_ids(store: Store, *urls: str) -> list[int]:
    await store.sync_feeds([spec(url) for url in urls], NOW)
    by_url = {feed.url: feed.id for feed in await store.feeds()}
    return [by_url[url] for url in urls]


async def test_reopening_migrates_once_and_keeps_data(store_factory: StoreFactory) -> None:
    async with store_factory() as store:
        (feed,) = await feed_ids(store, "https://a.example/feed")
        await store.save_poll(feed, [NewItem(item("1"))], record(), alert=False)
    async with store_factory() as store:
        assert [stored.item.entry_key for stored in await store.items()] == ["1"]


async def test_sync_feeds_adds_keeps_and_disables(store: Store) -> None:
    a, b = await feed_ids(store, "https://a.example/feed", "https://b.example/feed")
    await store.record_poll(a, record(etag='W/"x"', next_poll_at=NOW + timedelta(hours=1)))
    await store.sync_feeds([spec("https://a.example/feed", interval=5 * MINUTE)], NOW)
    (feed,) = await store.feeds()
    assert feed.id == a
    assert feed.etag == 'W/"x"'
    assert feed.next_poll_at == NOW + timedelta(hours=1)
    assert feed.interval == 5 * MINUTE
    await store.sync_feeds([spec("https://a.example/feed"), spec("https://b.example/feed")], NOW)
    assert [feed.id for feed in await store.feeds()] == [a, b]


async def test_claims_take_due_feeds_once(store: Store) -> None:
    await feed_ids(store, "https://a.example/feed", "https://b.example/feed")
    first = await store.claim_due_feeds(NOW, 1, 5 * MINUTE)
    second = await store.claim_due_feeds(NOW, 10, 5 * MINUTE)
    assert len(first) == len(second) == 1
    assert first[0].id != second[0].id
    assert await store.claim_due_feeds(NOW, 10, 5 * MINUTE) == []
    later = await store.claim_due_feeds(NOW + 6 * MINUTE, 10, 5 * MINUTE)
    assert len(later) == 2
    assert len(await store.claim_due_feeds(NOW, 10, MINUTE, all_feeds=True)) == 2


async def test_claims_take_the_feeds_most_overdue_in_their_own_intervals_first(
    store: Store,
) -> None:
    due = {  # url: (interval, how long overdue)
        "https://fast.example/feed": (timedelta(seconds=2), timedelta(seconds=6)),  # 3x
        "https://farm.example/feed": (timedelta(seconds=30), timedelta(seconds=60)),  # 2x
        # Counted as 10 minutes, however long its interval: 6x.
        "https://daily.example/feed": (timedelta(days=1), timedelta(hours=1)),
        "https://hourly.example/feed": (timedelta(hours=1), timedelta(minutes=5)),  # 0.5x
    }
    await store.sync_feeds([spec(url, interval) for url, (interval, _) in due.items()], NOW)
    by_url = {feed.url: feed.id for feed in await store.feeds()}
    for url, (_, late) in due.items():
        await store.record_poll(by_url[url], record(next_poll_at=NOW - late))
    order = [(await store.claim_due_feeds(NOW, 1, MINUTE))[0].url for _ in due]
    # Earliest deadline first would have put the 2-second feed last but one: its deadline
    # (due + interval) is the latest but the hourly one's, though it is 3 intervals late.
    assert order == [
        "https://daily.example/feed",
        "https://fast.example/feed",
        "https://farm.example/feed",
        "https://hourly.example/feed",
    ]


async def test_validators_are_kept_byte_exact_and_failures_counted(store: Store) -> None:
    (feed,) = await feed_ids(store, "https://a.example/feed")
    etag, modified = 'W/"5f2-\u00e9 x"', "Sat, 10 Oct 2020 09:00:00 GMT"
    await store.record_poll(feed, record(etag=etag, last_modified=modified))
    await store.record_poll(feed, record(error="HTTP 500", status=500))
    await store.record_poll(feed, record(error="HTTP 500", status=500))
    (state,) = await store.feeds()
    assert (state.etag, state.last_modified) == (etag, modified)
    assert (state.error_count, state.last_error) == (2, "HTTP 500")
    await store.record_poll(feed, record())
    (state,) = await store.feeds()
    assert (state.error_count, state.last_error, state.etag) == (0, None, etag)


async def test_save_poll_stores_once_and_queues_only_when_alerting(store: Store) -> None:
    (feed,) = await feed_ids(store, "https://a.example/feed")
    baseline = await store.save_poll(feed, [matched(item("1"))], record(), alert=False)
    assert (baseline.stored, baseline.deliveries) == (1, 0)
    (state,) = await store.feeds()
    assert state.baselined
    result = await store.save_poll(
        feed, [matched(item("1")), matched(item("2"), "console", "ops")], record(), alert=True
    )
    assert (result.stored, result.new_stories, result.deliveries) == (1, 1, 2)
    stored = {s.item.entry_key for s in await store.items()}
    assert stored == {"1", "2"}


async def test_one_alert_per_story_across_feeds(store: Store) -> None:
    a, b, c = await feed_ids(
        store, "https://a.example/feed", "https://b.example/feed", "https://c.example/feed"
    )
    body = "Armenia and Azerbaijan agreed to a ceasefire starting at noon on Saturday."
    first = item("a1", "Truce agreed", "https://news.example/truce?utm_source=a", body)
    same_link = item("b1", "Different title", "http://NEWS.example/truce#x")
    same_text = item("c1", "Truce agreed", "https://other.example/copy", body)
    await store.save_poll(a, [matched(first)], record(), alert=True)
    for feed, entry in ((b, same_link), (c, same_text)):
        result = await store.save_poll(feed, [matched(entry)], record(), alert=True)
        assert (result.stored, result.new_stories, result.deliveries) == (1, 0, 0)
    (story,) = await store.stories()
    assert len(story.items) == 3
    (delivery,) = await store.deliveries()
    assert delivery.story_sources == 3


async def test_title_key_joins_other_feeds_but_not_the_same_feed(store: Store) -> None:
    a, b = await feed_ids(store, "https://a.example/feed", "https://b.example/feed")
    title = "Morning briefing: everything you need to know today"
    await store.save_poll(a, [NewItem(item("1", title))], record(), alert=True)
    await store.save_poll(a, [NewItem(item("2", title))], record(), alert=True)
    await store.save_poll(b, [NewItem(item("3", title))], record(), alert=True)
    assert sorted(len(story.items) for story in await store.stories()) == [1, 2]


async def test_concurrent_saves_of_one_story_queue_one_alert(store: Store) -> None:
    urls = [f"https://f{n}.example/feed" for n in range(6)]
    ids = await feed_ids(store, *urls)
    link = "https://news.example/one-story"
    await asyncio.gather(
        *(
            store.save_poll(feed, [matched(item(f"k{feed}", link=link))], record(), alert=True)
            for feed in ids
        )
    )
    assert len(await store.deliveries()) == 1
    assert len(await store.stories()) == 1


async def test_a_failed_save_leaves_nothing_behind(store: Store) -> None:
    (feed,) = await feed_ids(store, "https://a.example/feed")
    broken = replace(item("2"), title=None)  # type: ignore[arg-type]
    with pytest.raises(StoreError, match=r"(?i)not[ -]null"):  # only StoreError leaves a store
        await store.save_poll(feed, [matched(item("1")), matched(broken)], record(), alert=True)
    assert await store.items() == []
    assert await store.deliveries() == []
    (state,) = await store.feeds()
    assert not state.baselined
    ok = await store.save_poll(feed, [matched(item("1"))], record(), alert=True)
    assert ok.deliveries == 1


async def test_delivery_lifecycle(store: Store) -> None:
    (feed,) = await feed_ids(store, "https://a.example/feed")
    await store.save_poll(feed, [matched(item("1"), "a", "b")], record(), alert=True)
    claimed = await store.claim_due_deliveries(NOW, 10, 2 * MINUTE)
    assert [(d.notifier, d.attempts) for d in claimed] == [("a", 1), ("b", 1)]
    assert claimed[0].message_id.startswith("msg_")
    assert claimed[0].message_id != claimed[1].message_id
    assert claimed[0].matched == (MatchedTerm("truce", "title"),)
    assert await store.claim_due_deliveries(NOW, 10, 2 * MINUTE) == []
    sent, failing = claimed
    await store.mark_sent(sent.id, NOW)
    await store.mark_failed(failing.id, "HTTP 500", NOW + 5 * MINUTE)
    assert await store.claim_due_deliveries(NOW + 4 * MINUTE, 10, MINUTE) == []
    (again,) = await store.claim_due_deliveries(NOW + 5 * MINUTE, 10, MINUTE)
    assert (again.message_id, again.attempts, again.last_error) == (
        failing.message_id,
        2,
        "HTTP 500",
    )
    await store.mark_failed(again.id, "HTTP 410", None)
    (dead,) = await store.deliveries(DeliveryStatus.DEAD)
    (done,) = await store.deliveries(DeliveryStatus.SENT)
    assert (dead.id, done.id) == (failing.id, sent.id)
    assert done.sent_at == NOW
    await store.release_deliveries([failing.id], NOW)  # already dead: unchanged
    assert await store.retry_deliveries(NOW, delivery_id=sent.id) == 0
    assert await store.retry_deliveries(NOW, dead=True) == 1
    (requeued,) = await store.claim_due_deliveries(NOW, 10, MINUTE)
    assert requeued.message_id == failing.message_id


async def test_seeds_are_known_and_never_alert(store: Store) -> None:
    body = "Russian Foreign Minister Sergey Lavrov announced a ceasefire between the two."
    seed = item("seed:1", "Russia declares ceasefire between Armenia and Azerbaijan", None, body)
    assert await store.load_seed("seed:local", [seed], NOW) == 1
    assert await store.load_seed("seed:local", [seed], NOW) == 0
    assert await store.feeds() == []  # the seed source is never polled
    (feed,) = await feed_ids(store, "https://a.example/feed")
    repost = item("r1", seed.title, "https://reposts.example/a", body)
    result = await store.save_poll(feed, [matched(repost)], record(), alert=True)
    assert (result.stored, result.new_stories, result.deliveries) == (1, 0, 0)


async def test_items_and_stories_newest_first(store: Store) -> None:
    (feed,) = await feed_ids(store, "https://a.example/feed")
    await store.save_poll(feed, [NewItem(item("old"))], record(NOW), alert=True)
    await store.save_poll(feed, [NewItem(item("new"))], record(NOW + MINUTE), alert=True)
    assert [s.item.entry_key for s in await store.items()] == ["new", "old"]
    assert [s.item.entry_key for s in await store.items(limit=1)] == ["new"]
    assert [story.items[0].item.entry_key for story in await store.stories()] == ["new", "old"]


async def test_housekeeping_runs_any_time(store: Store) -> None:
    await store.housekeeping(NOW)


async def test_released_deliveries_wait_and_keep_their_attempt_count(store: Store) -> None:
    (feed,) = await feed_ids(store, "https://a.example/feed")
    await store.save_poll(feed, [matched(item("1"))], record(), alert=True)
    (claimed,) = await store.claim_due_deliveries(NOW, 10, MINUTE)
    await store.release_deliveries([claimed.id], NOW + 5 * MINUTE)
    assert await store.claim_due_deliveries(NOW + 4 * MINUTE, 10, MINUTE) == []
    (again,) = await store.claim_due_deliveries(NOW + 5 * MINUTE, 10, MINUTE)
    assert again.attempts == 1


async def test_items_of_one_batch_join_stories_started_in_it(store: Store) -> None:
    (feed,) = await feed_ids(store, "https://a.example/feed")
    body = "Armenia and Azerbaijan agreed to a ceasefire starting at noon on Saturday."
    first = item("1", "Truce agreed", None, body)
    same_text = item("2", "Truce agreed", None, body)
    result = await store.save_poll(
        feed,
        [matched(first), matched(same_text), matched(first)],  # the last: a repeated key
        record(),
        alert=True,
    )
    assert (result.stored, result.new_stories, result.deliveries) == (2, 1, 1)
    (story,) = await store.stories()
    assert [member.item.entry_key for member in story.items] == ["1", "2"]


def lettered(start: int, count: int) -> str:
    """``count`` distinct made-up words without figures (figures are a rule of their own)."""
    letters = "bcdfghjklmnprstv"
    words = []
    for number in range(start, start + count):
        word = ""
        while True:
            number, digit = divmod(number, len(letters))
            word += letters[digit] + "a"
            if not number:
                break
        words.append(word + "n")
    return " ".join(words)


@pytest.mark.parametrize("own_posts_came", ["in an earlier poll", "in the same poll"])
async def test_a_feeds_own_template_posts_do_not_crowd_out_the_story_a_copy_belongs_to(
    store: Store, own_posts_came: str
) -> None:
    # A wire story, then a feed that posts it with its long standard paragraph after
    # it, beside four posts of its own with the same paragraph: the copy shares more
    # anchors with those four than with the wire story, but they are the feed's own
    # stories, never compared; the wire story must still be (it was not: the four took
    # every place, and the copy started a story of its own, to be alerted twice).
    wire, site = await feed_ids(store, "https://wire.example/feed", "https://site.example/feed")
    story = lettered(0, 40)
    standard = lettered(10_000, 400)
    wire_copy = NewItem(item("w", "Talks resume", None, story))
    await store.save_poll(wire, [wire_copy], record(), alert=False)
    own = [
        NewItem(
            item(
                f"s{n}",
                f"Local notice {lettered(500 + n, 1)}",
                None,
                f"{lettered(1000 + 100 * n, 40)} {standard}",
            )
        )
        for n in range(4)
    ]
    copy = NewItem(item("copy", "Talks resume", None, f"{story} {standard}"))
    if own_posts_came == "in an earlier poll":
        await store.save_poll(site, own, record(), alert=False)
        result = await store.save_poll(site, [copy], record(NOW + MINUTE), alert=False)
        assert (result.stored, result.new_stories, result.joins) == (1, 0, ("near",))
    else:
        result = await store.save_poll(site, [*own, copy], record(), alert=False)
        assert (result.stored, result.new_stories, result.joins) == (5, 4, ("near",))
    joined = [story for story in await store.stories() if len(story.items) > 1]
    assert [[member.item.entry_key for member in s.items] for s in joined] == [["w", "copy"]]


async def test_stories_past_the_window_do_not_crowd_out_the_story_a_copy_belongs_to(
    store: Store,
) -> None:
    # Four stories of another site, first seen three weeks ago (past the 14-day
    # window) and still looked up by their keys (housekeeping has not pruned them yet,
    # or a member joined lately), carry the same standard paragraph as a copy of
    # today's wire story: they could not take the copy, and must not keep it from the
    # wire story.
    wire, site, old_site = await feed_ids(
        store, "https://wire.example/feed", "https://site.example/feed", "https://old.example/feed"
    )
    story = lettered(0, 40)
    standard = lettered(10_000, 400)
    weeks_ago = NOW - timedelta(days=21)
    old = [
        NewItem(
            item(
                f"o{n}",
                f"Archive {lettered(500 + n, 1)}",
                None,
                f"{lettered(1000 + 100 * n, 40)} {standard}",
            )
        )
        for n in range(4)
    ]
    await store.save_poll(old_site, old, record(weeks_ago), alert=False)
    await store.save_poll(
        wire, [NewItem(item("w", "Talks resume", None, story))], record(), alert=False
    )
    copy = NewItem(item("copy", "Talks resume", None, f"{story} {standard}"))
    result = await store.save_poll(site, [copy], record(), alert=False)
    assert (result.stored, result.new_stories, result.joins) == (1, 0, ("near",))


async def test_a_dead_instances_claims_come_back_when_their_lease_runs_out(
    store_factory: StoreFactory,
) -> None:
    async with store_factory() as crashed:
        await crashed.start_instance("host:1", NOW)
        (feed,) = await feed_ids(crashed, "https://a.example/feed")
        await crashed.save_poll(feed, [matched(item("1"))], record(), alert=True)
        (in_flight,) = await crashed.claim_due_deliveries(NOW, 10, 10 * MINUTE)
        assert await crashed.claim_due_feeds(NOW + 20 * MINUTE, 10, 10 * MINUTE)
        # … and the process dies here: neither mark_sent nor record_poll happens.
    async with store_factory() as restarted:
        assert await restarted.claim_due_deliveries(NOW + 2 * MINUTE, 10, MINUTE) == []
        await restarted.start_instance("host:2", NOW + 2 * MINUTE)
        later = NOW + 31 * MINUTE  # both leases have run out
        (again,) = await restarted.claim_due_deliveries(later, 10, MINUTE)
        assert again.message_id == in_flight.message_id  # the same idempotency key
        assert again.attempts == 2
        assert again.claimed_by == "host:2"
        assert [f.url for f in await restarted.claim_due_feeds(later, 10, MINUTE)] == [
            "https://a.example/feed"
        ]


async def test_a_polls_record_is_refused_once_the_feed_was_claimed_again(store: Store) -> None:
    await store.start_instance("host:1", NOW)
    (feed,) = await feed_ids(store, "https://a.example/feed")
    (first,) = await store.claim_due_feeds(NOW, 10, MINUTE)
    # The lease lapsed (the poll stalled) and the feed was claimed and polled again.
    (second,) = await store.claim_due_feeds(NOW + 2 * MINUTE, 10, MINUTE)
    assert second.claim == first.claim + 1
    await store.record_poll(feed, record(NOW + 2 * MINUTE, claim=second.claim))
    with pytest.raises(LeaseLost, match=r"feed .* was claimed again since"):
        await store.save_poll(
            feed, [matched(item("1"))], record(NOW + 3 * MINUTE, claim=first.claim), alert=True
        )
    with pytest.raises(LeaseLost):
        await store.record_poll(feed, record(NOW + 3 * MINUTE, claim=first.claim))
    assert await store.items() == []
    (state,) = await store.feeds()
    assert state.last_polled_at == NOW + 2 * MINUTE


async def test_feeds_overdue_after_downtime_are_spread_and_just_due_ones_kept(
    store: Store,
) -> None:
    urls = [f"https://{n}.example/feed" for n in range(6)]
    ids = await feed_ids(store, *urls, "https://new.example/feed")
    for feed in ids[:6]:
        await store.record_poll(feed, record())  # next poll at NOW + 10 minutes
    await store.record_poll(ids[5], record(NOW + 50 * MINUTE))  # due at 13:00
    # Down until 13:00: five feeds are long overdue, one is due just now.
    now = NOW + 60 * MINUTE
    assert await store.spread_overdue_feeds(now) == 5
    by_url = {feed.url: feed for feed in await store.feeds()}
    waits = sorted(by_url[url].next_poll_at - now for url in urls[:5])
    assert all(timedelta(0) <= wait < 10 * MINUTE for wait in waits)
    assert len(set(waits)) == 5
    assert by_url[urls[5]].next_poll_at == now  # about to be claimed: left alone
    assert by_url["https://new.example/feed"].next_poll_at == NOW  # never polled


async def test_claims_record_their_owner_and_live_instances_extend_them(store: Store) -> None:
    await store.start_instance("host:1", NOW)
    (feed,) = await feed_ids(store, "https://a.example/feed")
    await store.save_poll(feed, [matched(item("1"))], record(), alert=True)
    assert await store.claim_due_feeds(NOW + 10 * MINUTE, 10, MINUTE)
    (delivery,) = await store.claim_due_deliveries(NOW + 10 * MINUTE, 10, MINUTE)
    (state,) = await store.feeds()
    assert (state.claimed_by, state.lease_until) == ("host:1", NOW + 11 * MINUTE)
    assert (await store.deliveries())[0].claimed_by == "host:1"
    # Still working at 10:50: both are held for another minute from then.
    assert await store.extend_leases(NOW + 10.5 * MINUTE, MINUTE) == 2
    assert await store.claim_due_feeds(NOW + 11.2 * MINUTE, 10, MINUTE) == []
    assert await store.claim_due_deliveries(NOW + 11.2 * MINUTE, 10, MINUTE) == []
    (state,) = await store.feeds()
    assert state.lease_until == NOW + 11.5 * MINUTE
    # Finishing releases the claim: nothing is left to extend.
    await store.record_poll(feed, record(NOW + 11 * MINUTE))
    await store.mark_sent(delivery.id, NOW + 11 * MINUTE)
    assert await store.extend_leases(NOW + 12 * MINUTE, MINUTE) == 0
    (state,) = await store.feeds()
    assert (state.claimed_by, state.lease_until) == (None, None)
    assert (await store.deliveries())[0].claimed_by is None


WIRE = (
    "Armenia and Azerbaijan agreed to a humanitarian ceasefire in Nagorno-Karabakh on"
    " Saturday after ten hours of talks in Moscow, the Russian foreign minister said, to"
    " exchange prisoners and the bodies of the dead. Talks on a settlement are to follow."
)


async def test_stories_say_why_each_item_joined(store: Store) -> None:
    a, b, c = await feed_ids(
        store, "https://a.example/feed", "https://b.example/feed", "https://c.example/feed"
    )
    await store.save_poll(
        a, [matched(item("1", "Truce agreed in Moscow", None, WIRE))], record(), alert=True
    )
    copy = item(
        "2", "Moscow brokers truce", None, WIRE.replace("Saturday", "Sunday") + "\nSource link"
    )
    saved = await store.save_poll(b, [matched(copy)], record(), alert=True)
    assert (saved.stored, saved.new_stories, saved.deliveries) == (1, 0, 0)
    same_link = (
        item("3", "A", "https://a.example/x", ""),
        item("4", "B", "https://a.example/x?utm_medium=rss", ""),
    )
    await store.save_poll(c, [NewItem(same_link[0])], record(), alert=True)
    await store.save_poll(a, [NewItem(same_link[1])], record(), alert=True)
    by_story = {story.items[0].item.entry_key: story.items for story in await store.stories()}
    first, second = by_story["1"]
    assert (first.joined_by, first.similarity) == (None, None)
    assert second.joined_by == "near"
    assert second.similarity is not None and 0.5 <= second.similarity < 1
    assert [member.joined_by for member in by_story["3"]] == [None, "link"]
    (delivery,) = await store.deliveries()
    assert delivery.story_sources == 2


async def test_a_same_title_over_a_new_text_is_a_new_story(store: Store) -> None:
    a, b = await feed_ids(store, "https://a.example/feed", "https://b.example/feed")
    title = "Russia declares ceasefire between Armenia and Azerbaijan"
    await store.save_poll(a, [matched(item("1", title, None, WIRE))], record(), alert=True)
    other = (
        "Fighting resumed on Sunday near Stepanakert, officials said, a day after both sides"
        " accused each other of shelling villages, and hospitals asked for blood donations."
    )
    saved = await store.save_poll(b, [matched(item("2", title, None, other))], record(), alert=True)
    assert (saved.new_stories, saved.deliveries) == (1, 1)


async def test_an_edited_entry_stays_the_same_item_and_story(store: Store) -> None:
    (feed,) = await feed_ids(store, "https://a.example/feed")
    await store.save_poll(
        feed, [matched(item("1", "Truce agreed", None, WIRE))], record(), alert=True
    )
    edited = item("1", "Truce agreed, talks to follow", None, WIRE + " Updated at 14:00.")
    saved = await store.save_poll(feed, [matched(edited)], record(), alert=True)
    assert (saved.stored, saved.deliveries) == (0, 0)
    (story,) = await store.stories()
    assert [member.item.title for member in story.items] == ["Truce agreed"]


async def test_seed_keys_never_expire_and_feed_fuzzy_keys_do(store: Store) -> None:
    seed = item("seed:1", "Russia declares ceasefire", None, WIRE)
    await store.load_seed("seed:local", [seed], NOW)
    a, b = await feed_ids(store, "https://a.example/feed", "https://b.example/feed")
    other = (
        "Delegations met in Minsk on Monday to discuss grain exports through the Black Sea"
        " ports, and agreed to meet again next month after inspectors report on the ships."
    )
    await store.save_poll(a, [NewItem(item("1", "Minsk talks", None, other))], record(), alert=True)
    await store.housekeeping(NOW + timedelta(days=15))  # past the 14-day window
    later = record(NOW + timedelta(days=30))
    repost = item("2", "Ceasefire declared", None, WIRE + "\nLeave a Reply")
    minsk_copy = item("3", "Minsk talks end", None, other + " More soon.")
    saved = await store.save_poll(b, [matched(repost), matched(minsk_copy)], later, alert=True)
    # The seed's copy joins the seed; the old feed item's fuzzy keys are gone.
    assert (saved.stored, saved.new_stories, saved.deliveries) == (2, 1, 1)
    (delivery,) = await store.deliveries()
    assert delivery.stored.item.entry_key == "3"


def follows(entry: Item, *notifiers: str) -> NewItem:
    terms = (MatchedTerm("truce", "title"),)
    return NewItem(entry, (Match("w", notifiers or ("console",), terms, follow_ups=True),))


async def test_follow_ups_at_most_once_per_story_and_hour_and_only_after_an_alert(
    store: Store,
) -> None:
    a, b, c = await feed_ids(
        store, "https://a.example/feed", "https://b.example/feed", "https://c.example/feed"
    )
    seed_text = (
        "Delegations met in Geneva on Monday to discuss the exchange of prisoners, and agreed"
        " to meet again next month after the Red Cross reports on the camps it visited."
    )
    await store.load_seed("seed:local", [item("seed:1", "Geneva talks", None, seed_text)], NOW)
    await store.save_poll(a, [follows(item("1", "Truce agreed", None, WIRE))], record(), alert=True)
    copy = item("2", "Moscow truce", None, WIRE + "\nSource link")
    saved = await store.save_poll(b, [follows(copy)], record(), alert=True)
    assert (saved.new_stories, saved.deliveries) == (0, 1)  # the follow-up
    again = item("3", "Truce in Moscow", None, WIRE + "\nLeave a Reply")
    saved = await store.save_poll(c, [follows(again)], record(NOW + MINUTE), alert=True)
    assert saved.deliveries == 0  # within the hour
    later = item("4", "Moscow truce holds", None, WIRE + "\nShare this:")
    saved = await store.save_poll(c, [follows(later)], record(NOW + 61 * MINUTE), alert=True)
    assert saved.deliveries == 1
    # A copy of the seed never speaks up: the seed's story was never alerted.
    seed_copy = item("5", "Geneva talks again", None, seed_text + "\nSource link")
    saved = await store.save_poll(b, [follows(seed_copy)], record(), alert=True)
    assert (saved.stored, saved.new_stories, saved.deliveries) == (1, 0, 0)
    kinds = sorted((d.kind, d.stored.item.entry_key) for d in await store.deliveries())
    assert kinds == [("alert", "1"), ("follow_up", "2"), ("follow_up", "4")]
    # Without follow_ups, a new source is stored and counted, and nothing is sent.
    quiet = item("6", "Truce agreed, again", None, WIRE + "\nRelated Posts")
    saved = await store.save_poll(c, [matched(quiet)], record(NOW + 3 * 60 * MINUTE), alert=True)
    assert (saved.stored, saved.deliveries) == (1, 0)


# -- muting a story ----------------------------------------------------------------------


def both(entry: Item, watchlist: str = "other") -> NewItem:
    """A follow-up for ``w`` and a first alert for ``watchlist``."""
    terms = (MatchedTerm("truce", "title"),)
    return NewItem(
        entry,
        (
            Match("w", ("console",), terms, follow_ups=True),
            Match(watchlist, ("console",), terms),
        ),
    )


async def test_a_muted_story_alerts_no_further_watchlist_and_sends_no_follow_up(
    store: Store,
) -> None:
    a, b, c = await feed_ids(
        store, "https://a.example/feed", "https://b.example/feed", "https://c.example/feed"
    )
    await store.save_poll(a, [follows(item("1", "Truce agreed", None, WIRE))], record(), alert=True)
    (story,) = await store.stories()
    assert story.muted is None
    assert await store.mute_story(story.id, NOW, None)
    copy = item("2", "Moscow truce", None, WIRE + "\nSource link")
    saved = await store.save_poll(b, [both(copy)], record(NOW + MINUTE), alert=True)
    assert (saved.stored, saved.new_stories, saved.deliveries) == (1, 0, 0)
    (story,) = await store.stories()
    assert story.muted == Mute(NOW, None)
    decided = {d.watchlist: (d.state, d.reason) for d in story.decisions}
    assert decided["other"] == ("silent", MUTED)
    # Unmuted, the story speaks again: a watchlist that has not alerted it does.
    assert await store.unmute_story(story.id)
    again = item("3", "Truce in Moscow", None, WIRE + "\nLeave a Reply")
    saved = await store.save_poll(c, [both(again)], record(NOW + 2 * MINUTE), alert=True)
    assert saved.deliveries == 2  # the follow-up for w, the alert for other
    (story,) = await store.stories()
    assert story.muted is None
    kinds = sorted((d.kind, d.watchlist) for d in await store.deliveries())
    assert kinds == [("alert", "other"), ("alert", "w"), ("follow_up", "w")]


async def test_a_mute_for_a_while_runs_out(store: Store) -> None:
    a, b = await feed_ids(store, "https://a.example/feed", "https://b.example/feed")
    await store.save_poll(a, [matched(item("1", "Truce agreed", None, WIRE))], record(), alert=True)
    (story,) = await store.stories()
    assert await store.mute_story(story.id, NOW, NOW + 60 * MINUTE)
    copy = item("2", "Moscow truce", None, WIRE + "\nSource link")
    saved = await store.save_poll(
        b, [matched(copy, watchlist="other")], record(NOW + 30 * MINUTE), alert=True
    )
    assert saved.deliveries == 0  # still muted
    later = item("3", "Truce in Moscow", None, WIRE + "\nLeave a Reply")
    saved = await store.save_poll(
        b, [matched(later, watchlist="other")], record(NOW + 61 * MINUTE), alert=True
    )
    assert saved.deliveries == 1  # the mute ran out; the record of it stays
    (story,) = await store.stories()
    assert story.muted == Mute(NOW, NOW + 60 * MINUTE)
    assert not story.muted.holds(NOW + 61 * MINUTE)


async def test_muting_an_unknown_story_says_so(store: Store) -> None:
    assert not await store.mute_story(424242, NOW, None)
    assert not await store.unmute_story(424242)


async def test_a_mute_survives_a_restart_and_holds_on_another_instance(
    store_factory: StoreFactory,
) -> None:
    async with store_factory() as first:
        a, b = await feed_ids(first, "https://a.example/feed", "https://b.example/feed")
        await first.save_poll(a, [matched(item("1", "Truce", None, WIRE))], record(), alert=True)
        (story,) = await first.stories()
        assert await first.mute_story(story.id, NOW, NOW + 7 * 24 * 60 * MINUTE)
    async with store_factory() as second, store_factory() as third:
        (story,) = await third.stories()
        assert story.muted == Mute(NOW, NOW + 7 * 24 * 60 * MINUTE)
        copy = item("2", "Moscow truce", None, WIRE + "\nSource link")
        saved = await second.save_poll(
            b, [matched(copy, watchlist="other")], record(NOW + MINUTE), alert=True
        )
        assert (saved.stored, saved.deliveries) == (1, 0)


# -- WebSub subscriptions ---------------------------------------------------------------


async def test_a_feed_naming_a_hub_gets_one_subscription_and_it_is_renewed_in_time(
    store: Store,
) -> None:
    await store.sync_feeds([spec("https://a.example/feed"), spec("https://b.example/feed")], NOW)
    feeds = {feed.url: feed for feed in await store.feeds()}
    hubbed = feeds["https://a.example/feed"]
    (claimed,) = [f for f in await store.claim_due_feeds(NOW, 10, MINUTE) if f.id == hubbed.id]
    hub, topic = "https://hub.example/", "https://a.example/feed?self"
    await store.save_poll(
        hubbed.id, [], record(claim=claimed.claim, hub=hub, topic=topic), alert=False
    )
    (task,) = await store.subscription_tasks(NOW)
    assert (task.action, task.hub, task.topic) == ("subscribe", hub, topic)
    subscription = task.subscription
    assert subscription.state == "requested" and len(subscription.secret) >= 32
    assert await store.subscription_tasks(NOW) == []  # held while one instance asks
    await store.record_subscription_request(task, NOW, NOW + 5 * MINUTE)
    found = await store.subscribed_feed(subscription.token)
    assert found is not None and found[1].url == hubbed.url
    assert await store.subscribed_feed("no-such-token") is None

    await store.subscription_verified(hubbed.id, NOW + timedelta(days=7), NOW + timedelta(days=6))
    (state,) = [f for f in await store.feeds() if f.id == hubbed.id]
    assert state.push_until == NOW + timedelta(days=7) and state.pushed(NOW)
    assert await store.subscription_tasks(NOW + timedelta(days=5)) == []
    (renewal,) = await store.subscription_tasks(NOW + timedelta(days=6))
    assert renewal.action == "subscribe" and renewal.subscription.state == "active"
    await store.record_subscription_request(renewal, NOW, NOW + 5 * MINUTE)
    await store.subscription_request_failed(hubbed.id, "subscribe: HTTP 500", NOW + MINUTE)
    found = await store.subscribed_feed(subscription.token)
    assert found is not None
    assert (found[0].state, found[0].last_error) == ("active", "subscribe: HTTP 500")
    assert found[1].pushed(NOW)  # still pushed until the granted lease ends


async def requested(
    store: Store,
    url: str = "https://a.example/feed",
    hub: str = "https://h.example/",
    **polled: object,
) -> tuple[FeedState, SubscriptionTask]:
    """One feed, polled once naming ``hub``, its subscription asked for."""
    await store.sync_feeds([spec(url)], NOW)
    (feed,) = await store.claim_due_feeds(NOW, 10, MINUTE)
    await store.save_poll(
        feed.id, [], record(claim=feed.claim, hub=hub, topic=url, **polled), alert=False
    )
    (task,) = await store.subscription_tasks(NOW)
    await store.record_subscription_request(task, NOW, NOW + 5 * MINUTE)
    return feed, task


async def test_a_subscription_follows_its_feed_out_of_the_configuration_or_to_a_new_hub(
    store: Store,
) -> None:
    url = topic = "https://a.example/feed"
    old_hub = "https://hub-1.example/"
    feed, _ = await requested(store, url, old_hub)
    await store.subscription_verified(feed.id, NOW + timedelta(days=7), NOW + timedelta(days=6))

    # The feed names another hub now: subscribe there at once.
    (again,) = await store.claim_due_feeds(NOW + timedelta(hours=1), 10, MINUTE, all_feeds=True)
    new_hub = "https://hub-2.example/"
    later = record(at=NOW + timedelta(hours=1), claim=again.claim, hub=new_hub, topic=topic)
    await store.save_poll(feed.id, [], later, alert=False)
    (moved,) = await store.subscription_tasks(NOW + timedelta(hours=1))
    assert (moved.action, moved.hub, moved.subscription.hub) == ("subscribe", new_hub, old_hub)
    await store.record_subscription_request(moved, NOW, NOW + 5 * MINUTE)

    # Out of the configuration: unsubscribe from the hub it was subscribed at.
    await store.sync_feeds([], NOW)
    (leaving,) = await store.subscription_tasks(NOW + timedelta(hours=1))
    assert (leaving.action, leaving.hub) == ("unsubscribe", new_hub)
    await store.record_subscription_request(leaving, NOW, NOW + timedelta(hours=1))
    assert await store.subscription_tasks(NOW + timedelta(minutes=50)) == []
    token = leaving.subscription.token
    found = await store.subscribed_feed(token)
    assert found is not None and found[0].state == "unsubscribing"
    await store.subscription_ended(feed.id)
    assert await store.subscribed_feed(token) is None


async def test_a_denied_subscription_stops_push_and_unanswered_unsubscriptions_are_dropped(
    store: Store,
) -> None:
    feed, _ = await requested(store)
    await store.subscription_verified(feed.id, NOW + timedelta(days=7), NOW + timedelta(days=6))
    await store.subscription_denied(feed.id, "not allowed", NOW + timedelta(days=1))
    (state,) = await store.feeds()
    assert state.push_until is None
    (listed,) = await store.subscriptions()
    assert (listed.feed_id, listed.state, listed.last_error) == (feed.id, "denied", "not allowed")
    assert await store.subscription_tasks(NOW + timedelta(hours=23)) == []
    (retry,) = await store.subscription_tasks(NOW + timedelta(days=1))
    assert retry.action == "subscribe" and retry.subscription.last_error == "not allowed"

    await store.sync_feeds([], NOW)
    moment = NOW + timedelta(days=1)
    for _ in range(3):  # the hub never confirms
        (leaving,) = await store.subscription_tasks(moment)
        assert leaving.action == "unsubscribe"
        await store.record_subscription_request(leaving, moment, moment + timedelta(hours=1))
        moment += timedelta(hours=1)
    assert await store.subscription_tasks(moment) == []
    assert await store.subscribed_feed(leaving.subscription.token) is None


async def test_pushed_items_are_stored_and_alerted_without_touching_the_schedule(
    store: Store,
) -> None:
    url = "https://a.example/feed"
    await store.sync_feeds([spec(url)], NOW)
    (feed,) = await store.claim_due_feeds(NOW, 10, MINUTE)
    await store.save_poll(feed.id, [], record(claim=feed.claim), alert=False)
    (before,) = await store.feeds()
    pushed = matched(item("p1", "Truce agreed", "https://a.example/p1"))
    saved = await store.save_pushed(feed.id, [pushed], NOW + MINUTE, alert=True)
    assert (saved.stored, saved.deliveries) == (1, 1)
    again = await store.save_pushed(feed.id, [pushed], NOW + 2 * MINUTE, alert=True)
    assert (again.stored, again.deliveries) == (0, 0)
    (after,) = await store.feeds()
    assert (after.next_poll_at, after.last_polled_at) == (
        before.next_poll_at,
        before.last_polled_at,
    )
    assert after.last_new_item_at == NOW + MINUTE


async def test_a_feed_read_another_way_now_is_unsubscribed_and_read_afresh(
    store: Store,
) -> None:
    url = "https://a.example/feed"
    await requested(store, url, etag='"v1"', body_digest="d1")
    await store.sync_feeds([replace(spec(url), kind="html")], NOW)
    (state,) = await store.feeds()
    assert (state.kind, state.etag, state.body_digest) == ("html", None, None)
    (leaving,) = await store.subscription_tasks(NOW)
    assert leaving.action == "unsubscribe"


async def test_the_sitemaps_of_an_index_are_remembered_as_fetched(store: Store) -> None:
    from monitor.models import PartState

    (feed_id,) = await feed_ids(store, "https://a.example/index.xml")
    assert await store.sitemap_parts(feed_id) == {}
    first = [
        PartState("https://a.example/1.xml", '"e1"', None, "d1"),
        PartState("https://a.example/2.xml"),
    ]
    await store.save_sitemap_parts(feed_id, first, NOW)
    assert await store.sitemap_parts(feed_id) == {part.url: part for part in first}
    later = [PartState("https://a.example/3.xml", None, "Sun, 29 Nov 2026 10:00:00 GMT", "d3")]
    await store.save_sitemap_parts(feed_id, later, NOW + MINUTE)
    assert list((await store.sitemap_parts(feed_id)).values()) == later


# -- the alert decision: one alert per watchlist and story ------------------------------

LEAD = (
    "A humanitarian truce between Armenia and Azerbaijan took effect at noon on Saturday,"
    " after ten hours of talks in Moscow that ended shortly before dawn, the Russian"
    " foreign minister told reporters outside the ministry."
)
REPORT = (
    LEAD + "\n\nThe truce is meant to allow the two sides to exchange prisoners and the bodies of"
    " the dead in Nagorno-Karabakh, where fighting that began on September 27 has killed"
    " hundreds of people and driven thousands from their homes."
    "\n\nBoth countries accused each other within hours of breaking the agreement, and"
    " officials in Stepanakert reported shelling near the town of Martuni in the evening."
    "\n\nTalks on a lasting settlement are to follow under the mediation of the Minsk Group,"
    " which France, Russia and the United States lead, the minister said."
)


def watching(entry: Item, *watchlists: str, silenced: str | None = None, **kind: object) -> NewItem:
    """An item that matched these watchlists (each telling the console), as the poller
    hands it to the store."""
    terms = (MatchedTerm("truce", "summary"),)
    matches = tuple(Match(name, ("console",), terms, silenced=silenced) for name in watchlists)
    return NewItem(entry, matches, **kind)  # type: ignore[arg-type]


async def alerted(store: Store) -> list[tuple[str, str, bool]]:
    """(watchlist, entry key, update) of every alert queued, oldest first."""
    found = [
        (d.watchlist, d.item.item.entry_key, d.update)
        for d in await store.deliveries()
        if d.kind == "alert"
    ]
    return sorted(found, key=lambda each: each[1])


async def test_a_known_story_alerts_a_watchlist_that_has_not_alerted_it(store: Store) -> None:
    a, b, c = await feed_ids(
        store, "https://a.example/feed", "https://b.example/feed", "https://c.example/feed"
    )
    # Feed A carries the lead: it says "truce", not "Karabakh".
    lead = item("a1", "Truce takes effect at noon", None, LEAD)
    saved = await store.save_poll(a, [watching(lead, "truce")], record(), alert=True)
    assert saved.deliveries == 1
    # Feed B carries the whole report: it joins A's story, and names Nagorno-Karabakh.
    full = item("b1", "Truce takes effect at noon", None, REPORT)
    saved = await store.save_poll(b, [watching(full, "truce", "karabakh")], record(), alert=True)
    assert (saved.new_stories, saved.joins, saved.deliveries) == (0, ("near",), 1)
    assert await alerted(store) == [("truce", "a1", False), ("karabakh", "b1", False)]
    (story,) = await store.stories()
    decided = {(d.watchlist, d.state, d.item_id) for d in story.decisions}
    first, second = story.items
    assert decided == {("truce", "alerted", first.id), ("karabakh", "alerted", second.id)}
    assert second.compared_with == first.id
    # A third copy tells neither again.
    again = item("c1", "Moscow truce holds", None, REPORT + "\n\nSource link")
    saved = await store.save_poll(c, [watching(again, "truce", "karabakh")], record(), alert=True)
    assert (saved.new_stories, saved.deliveries) == (0, 0)


async def test_a_story_first_seen_out_of_scope_alerts_when_seen_in_scope(store: Store) -> None:
    a, b = await feed_ids(store, "https://a.example/feed", "https://b.example/feed")
    why = "out of scope: the watchlist does not watch this feed"
    first = watching(item("a1", "Truce agreed", None, WIRE), "w", silenced=why)
    saved = await store.save_poll(a, [first], record(), alert=True)
    assert saved.deliveries == 0
    (story,) = await store.stories()
    ((watchlist, state, reason),) = [(d.watchlist, d.state, d.reason) for d in story.decisions]
    assert (watchlist, state, reason) == ("w", "silent", why)
    copy = watching(item("b1", "Moscow brokers truce", None, WIRE + "\nSource link"), "w")
    saved = await store.save_poll(b, [copy], record(), alert=True)
    assert (saved.new_stories, saved.deliveries) == (0, 1)
    (story,) = await store.stories()
    assert [(d.state, d.reason) for d in story.decisions] == [("alerted", None)]


async def test_an_edited_entry_alerts_a_watchlist_it_newly_matches_once(store: Store) -> None:
    (feed,) = await feed_ids(store, "https://a.example/feed")
    first = item("1", "Talks in Moscow", None, WIRE.replace("ceasefire", "meeting"))
    await store.save_poll(feed, [watching(first, "talks")], record(), alert=True)
    edited = replace(item("1", "Talks in Moscow end in a ceasefire", None, WIRE), digest=2)
    revision = watching(edited, "talks", "ceasefire", revision=Revision.EDITED)
    saved = await store.save_poll(feed, [revision], record(), alert=True)
    assert (saved.stored, saved.deliveries) == (0, 1)
    assert await alerted(store) == [("ceasefire", "1", True), ("talks", "1", False)]
    # The item and its story stay what they were; the item reads as edited.
    (story,) = await store.stories()
    (member,) = story.items
    assert member.item.title == "Talks in Moscow end in a ceasefire"
    # Edited again, still matching: no news to either watchlist.
    again = replace(edited, title="Talks in Moscow end in a ceasefire, officials say", digest=3)
    revision = watching(again, "talks", "ceasefire", revision=Revision.EDITED)
    saved = await store.save_poll(feed, [revision], record(), alert=True)
    assert saved.deliveries == 0


async def test_a_reread_entry_records_its_version_quietly(store: Store) -> None:
    (feed,) = await feed_ids(store, "https://a.example/feed")
    await store.save_poll(
        feed, [NewItem(item("1", "Truce agreed", None, WIRE))], record(), alert=True
    )
    assert await store.recent_entries(feed, 10) == {"1": None}
    reread = replace(item("1", "Truce agreed", None, WIRE), digest=7)
    saved = await store.save_poll(
        feed, [watching(reread, "w", revision=Revision.REREAD)], record(), alert=True
    )
    assert saved.deliveries == 0
    assert await store.recent_entries(feed, 10) == {"1": 7}
    # … and an edit after that alerts a watchlist the recorded version did not match.
    edited = replace(reread, digest=8)
    revision = watching(edited, "w", "other", revision=Revision.EDITED)
    saved = await store.save_poll(feed, [revision], record(), alert=True)
    assert await alerted(store) == [("other", "1", True)]


async def test_a_baseline_alerts_nothing_but_a_later_copy_on_a_live_feed_does(
    store: Store,
) -> None:
    a, b = await feed_ids(store, "https://a.example/feed", "https://b.example/feed")
    saved = await store.save_poll(
        a, [watching(item("a1", "Truce agreed", None, WIRE), "w")], record(), alert=False
    )
    assert saved.deliveries == 0
    (story,) = await store.stories()
    assert [(d.state, d.reason) for d in story.decisions] == [
        ("silent", "baseline: found by the feed's first poll")
    ]
    copy = watching(item("b1", "Moscow brokers truce", None, WIRE + "\nSource link"), "w")
    saved = await store.save_poll(b, [copy], record(), alert=True)
    assert (saved.new_stories, saved.deliveries) == (0, 1)


async def test_a_copy_of_the_stored_sample_never_alerts_any_watchlist(store: Store) -> None:
    (feed,) = await feed_ids(store, "https://a.example/feed")
    await store.load_seed(
        "seed:local", [item("seed:1", "Russia declares ceasefire", None, WIRE)], NOW
    )
    copy = watching(item("1", "Moscow brokers truce", None, WIRE + "\nShare this:"), "w", "x")
    saved = await store.save_poll(feed, [copy], record(), alert=True)
    assert (saved.new_stories, saved.deliveries) == (0, 0)
    (story,) = [story for story in await store.stories() if len(story.items) == 2]
    assert {d.reason for d in story.decisions} == {"known story: the stored sample holds it"}


SHORT_REPORT = (
    "The two sides agreed to exchange prisoners and the bodies of the dead on Monday under"
    " the supervision of the Red Cross, officials in Baku and Yerevan said, adding that the"
    " first exchange would take place at a crossing near the town of Lachin before noon and"
    " that mediators from Moscow would attend it."
)


async def test_a_short_text_under_a_new_headline_on_another_feed_is_one_story(
    store: Store,
) -> None:
    a, b = await feed_ids(store, "https://a.example/feed", "https://b.example/feed")
    first = item("a1", "Prisoner exchange agreed", None, SHORT_REPORT)
    await store.save_poll(a, [watching(first, "w")], record(), alert=True)
    retitled = item("b1", "Baku and Yerevan to swap captives at Lachin", None, SHORT_REPORT)
    saved = await store.save_poll(b, [watching(retitled, "w")], record(), alert=True)
    assert (saved.new_stories, saved.joins, saved.deliveries) == (0, ("near",), 0)


TEMPLATE = (
    "The match was played in front of a crowd of {crowd} at the {ground}."
    " Both managers said they were pleased with the effort of their players."
    " Tickets for the next home fixture go on sale on Monday at the club shop."
    " The league table and the full fixture list are on the competition's website."
    " {home} next play away on Saturday, while {away} host their rivals on Sunday."
    " Highlights of every match are shown on the evening sports programme."
)


async def test_templated_items_of_many_feeds_do_not_chain_into_one_story(store: Store) -> None:
    """Automated match reports: the same sentences around different teams and numbers.
    Once a sentence is seen in several stories it is template, and proves nothing."""
    teams = [f"Team{chr(65 + n)}" for n in range(26)]
    urls = [f"https://f{n}.example/feed" for n in range(20)]
    ids = await feed_ids(store, *urls)
    for number, feed in enumerate(ids):
        home, away = teams[number], teams[(number + 7) % 26]
        body = TEMPLATE.format(
            crowd=1000 + 37 * number, ground=f"{home} Park", home=home, away=away
        )
        report = item(f"r{number}", f"{home} beat {away} {number % 4 + 1}-0", None, body)
        await store.save_poll(feed, [watching(report, "football")], record(), alert=True)
    stories = await store.stories(limit=100)
    assert len(stories) == 20  # no two reports are one story
    assert len(await alerted(store)) == 20


def chunks(*names: str) -> str:
    """Text made of 20-word chunks, each of words no other chunk has."""
    return " ".join(f"{name}{n}" for name in names for n in range(20))


async def test_an_item_like_a_member_but_not_like_the_story_starts_its_own(store: Store) -> None:
    a, b, c = await feed_ids(
        store, "https://a.example/feed", "https://b.example/feed", "https://c.example/feed"
    )
    first = item("a1", "Daily report", None, chunks("x", "y", "z", "w"))
    await store.save_poll(a, [watching(first, "w")], record(), alert=True)
    # B shares three of A's four chunks: it joins A's story.
    second = item("b1", "Daily report", None, chunks("y", "z", "w", "v"))
    saved = await store.save_poll(b, [NewItem(second)], record(), alert=True)
    assert saved.joins == ("near",)
    # C shares three of B's chunks but only two of A's: compared with the story (A),
    # not with its nearest member (B), it is a story of its own.
    third = item("c1", "Daily report", None, chunks("z", "w", "v", "u"))
    saved = await store.save_poll(c, [watching(third, "w")], record(), alert=True)
    assert (saved.new_stories, saved.deliveries) == (1, 1)


async def test_items_are_found_by_the_ids_people_see_or_their_number(store: Store) -> None:
    (feed,) = await feed_ids(store, "https://a.example/feed")
    (entry,) = identify([Item("key-1", "urn:wire:1", "Truce", None, "", "")])
    await store.save_poll(feed, [NewItem(entry)], record(), alert=False)
    (stored,) = await store.items()
    found = await store.find_items(["urn:wire:1", "key-1", str(stored.id), "nothing"])
    assert {ref: item.id for ref, item in found.items()} == {
        "urn:wire:1": stored.id,
        "key-1": stored.id,
        str(stored.id): stored.id,
    }


async def test_polls_per_day_add_up_and_are_pruned(store: Store) -> None:
    from monitor.poll_days import PollDay, day_health

    await store.sync_feeds([spec("https://a.example/feed"), spec("https://b.example/feed")], NOW)
    a, b = (feed.id for feed in await store.feeds())
    today = int(NOW.timestamp() // 86_400)
    await store.add_poll_days([])  # nothing counted: nothing written
    await store.add_poll_days(
        [
            PollDay(a, today, 10, 0, False),
            PollDay(b, today, 4, 4, False),
            PollDay(a, today - 1, 3, 1, False),
            PollDay(b, today - 40, 2, 0, True),
            PollDay(424242, today, 1, 0, False),  # a feed that is gone
        ]
    )
    # A second instance's batch adds to the same rows; stale stays once set.
    await store.add_poll_days([PollDay(a, today, 2, 0, True), PollDay(b, today - 40, 1, 0, False)])
    days = {(day.feed_id, day.day): day for day in await store.poll_days(NOW - timedelta(days=60))}
    assert days[(a, today)] == PollDay(a, today, 12, 0, True)
    assert days[(b, today - 40)] == PollDay(b, today - 40, 3, 0, True)
    assert [day.day for day in await store.poll_days(NOW, a)] == [today]
    # The status page's counts of feeds per health agree with how each day is named.
    health = await store.feed_health_per_day(NOW - timedelta(days=60))
    named: dict[str, dict[int, int]] = {}
    for (_, number), day in days.items():
        counts = named.setdefault(day_health(day), {})
        counts[number] = counts.get(number, 0) + 1
    assert health == {name: named.get(name, {}) for name in ("failing", "flaky", "stale")}
    assert health["failing"] == {today: 1} and health["flaky"] == {today - 1: 1}
    # Housekeeping keeps 90 days, and only the days of feeds that exist.
    await store.housekeeping(NOW + timedelta(days=55))
    kept = {(day.feed_id, day.day) for day in await store.poll_days(NOW - timedelta(days=60))}
    assert kept == {(a, today), (b, today), (a, today - 1)}
