"""Spread alerts as the store counts them (``monitor/store/spreads.py``), on every
backend: a story that enough sites carry within the time alerts once, at the moment it
does, and not before; two instances sharing a database count one story together."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from monitor.dedupe import identify
from monitor.models import (
    DeliveryStatus,
    FeedSpec,
    Item,
    Match,
    MatchedTerm,
    Message,
    MessageKind,
    NewItem,
    PollRecord,
)
from monitor.spread import SpreadRule
from monitor.store import Store
from tests.conftest import StoreFactory

NOW = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)
MINUTE = timedelta(minutes=1)
STORY_LINK = "https://wire.example/2026/12/07/ceasefire"
SPREADING = SpreadRule("spreading", 3, timedelta(hours=2), ("console", "hook"))
SITES = [f"https://feeds.site{n}.example/rss" for n in range(8)]


def report(
    key: str,
    link: str = STORY_LINK,
    published: datetime | None = None,
    title: str = "Ceasefire agreed in Moscow talks",
    watchlists: tuple[str, ...] = (),
) -> NewItem:
    """An entry carrying the story (its link is the story's), matched by ``watchlists``."""
    (item,) = identify([Item(key, key, title, link, "", "", published=published)])
    terms = (MatchedTerm("ceasefire", "title"),)
    return NewItem(item, tuple(Match(name, ("console",), terms) for name in watchlists))


def polled(at: datetime) -> PollRecord:
    return PollRecord(polled_at=at, next_poll_at=at + 10 * MINUTE, status=200, error=None)


async def feeds_of(store: Store, *urls: str) -> list[int]:
    specs = [FeedSpec(url, None, 10 * MINUTE, False) for url in urls]
    await store.sync_feeds(specs, NOW)
    by_url = {feed.url: feed.id for feed in await store.feeds()}
    return [by_url[url] for url in urls]


async def carry(
    store: Store, feed: int, entry: NewItem, at: datetime, *, alert: bool = True
) -> int:
    """Save one poll's entry; how many messages it queued."""
    saved = await store.save_poll(feed, [entry], polled(at), alert=alert)
    return saved.deliveries


async def spread_messages(store: Store) -> list[Message]:
    return [d for d in await store.deliveries() if d.kind is MessageKind.SPREAD]


async def test_a_burst_alerts_once_when_the_third_site_carries_it(store: Store) -> None:
    store.spread_rules = (SPREADING,)
    a, b, c, d = await feeds_of(store, *SITES[:4])
    assert await carry(store, a, report("a1"), NOW) == 0
    assert await carry(store, b, report("b1"), NOW + 10 * MINUTE) == 0
    assert await spread_messages(store) == []
    # The third site within two hours: one message per notifier, at this save.
    assert await carry(store, c, report("c1"), NOW + 25 * MINUTE) == 2
    assert await carry(store, d, report("d1"), NOW + 30 * MINUTE) == 0  # once per story
    messages = await spread_messages(store)
    assert sorted(m.notifier for m in messages) == ["console", "hook"]
    message = messages[0]
    assert message.watchlist == "spreading" and message.status is DeliveryStatus.PENDING
    assert message.item.item.entry_key == "a1"  # the story's first report
    assert message.spread is not None
    assert (message.spread.threshold, message.spread.within) == (3, timedelta(hours=2))
    sources = [(s.site, s.stored.item.entry_key, s.reported_at) for s in message.spread.sources]
    assert sources == [
        ("site0.example", "a1", NOW),
        ("site1.example", "b1", NOW + 10 * MINUTE),
        ("site2.example", "c1", NOW + 25 * MINUTE),
    ]
    (story,) = await store.stories()
    decided = {w.watchlist: w.state for w in story.decisions}
    assert decided == {"spreading": "alerted"}


async def test_a_story_that_spreads_slowly_alerts_only_when_enough_fall_in_the_window(
    store: Store,
) -> None:
    store.spread_rules = (SPREADING,)
    a, b, c, d = await feeds_of(store, *SITES[:4])
    assert await carry(store, a, report("a1"), NOW) == 0
    assert await carry(store, b, report("b1"), NOW + 90 * MINUTE) == 0
    # Three sites, but the first reported three hours ago: two within the last two.
    assert await carry(store, c, report("c1"), NOW + 180 * MINUTE) == 0
    assert await spread_messages(store) == []
    # A fourth: b, c and d fall within two hours of now.
    assert await carry(store, d, report("d1"), NOW + 200 * MINUTE) == 2
    (message, _) = await spread_messages(store)
    assert message.spread is not None
    assert [s.stored.item.entry_key for s in message.spread.sources] == ["b1", "c1", "d1"]


async def test_under_the_threshold_nothing_is_sent_and_feeds_of_one_site_count_once(
    store: Store,
) -> None:
    store.spread_rules = (SPREADING,)
    urls = [
        "https://feeds.bbci.example.co.uk/news/rss.xml",
        "https://www.bbci.example.co.uk/world/rss.xml",
        "https://rss.other.example/feed",
    ]
    a, b, c = await feeds_of(store, *urls)
    for feed, key in ((a, "a1"), (b, "b1"), (c, "c1")):
        assert await carry(store, feed, report(key), NOW) == 0
    assert await spread_messages(store) == []  # three feeds, two sites
    assert len((await store.stories())[0].items) == 3


async def test_every_feed_on_an_address_is_a_site_of_its_own(store: Store) -> None:
    store.spread_rules = (SPREADING,)
    urls = [f"http://127.0.0.1:8080/feed{n}.xml" for n in range(3)]
    a, b, c = await feeds_of(store, *urls)
    assert await carry(store, a, report("a1"), NOW) == 0
    assert await carry(store, b, report("b1"), NOW) == 0
    assert await carry(store, c, report("c1"), NOW) == 2


async def test_old_reports_found_late_make_no_burst(store: Store) -> None:
    store.spread_rules = (SPREADING,)
    a, b, c, d = await feeds_of(store, *SITES[:4])
    long_ago = NOW - timedelta(hours=6)
    assert await carry(store, a, report("a1", published=long_ago), NOW) == 0
    assert await carry(store, b, report("b1", published=long_ago), NOW) == 0
    assert await carry(store, c, report("c1"), NOW) == 0  # a and b reported six hours ago
    # A date in the future counts as the moment it was seen: c and d are two.
    tomorrow = NOW + timedelta(days=1)
    assert await carry(store, d, report("d1", published=tomorrow), NOW + MINUTE) == 0
    (story,) = await store.stories()
    assert len(story.items) == 4


async def test_with_terms_only_stories_that_matched_them_count(store: Store) -> None:
    rule = SpreadRule("karabakh-spread", 3, timedelta(hours=2), ("console",), needs_match=True)
    store.spread_rules = (rule,)
    a, b, c, d, e, f = await feeds_of(store, *SITES[:6])
    other = "https://wire.example/markets"
    for feed, key in ((a, "m1"), (b, "m2"), (c, "m3")):
        assert await carry(store, feed, report(key, other, title="Markets"), NOW) == 0
    assert await spread_messages(store) == []  # spread, but nothing matched the terms
    # The story: its first report matches; the match alone sends nothing (no alert kind).
    first = report("k1", watchlists=("karabakh-spread",))
    assert await carry(store, d, first, NOW) == 0
    assert await carry(store, e, report("k2"), NOW + MINUTE) == 0
    # The third site does not say the words itself: the story does.
    assert await carry(store, f, report("k3"), NOW + 2 * MINUTE) == 1
    assert [(m.kind, m.watchlist) for m in await store.deliveries()] == [
        (MessageKind.SPREAD, "karabakh-spread")
    ]


async def test_a_rule_counts_only_the_feeds_it_watches(store: Store) -> None:
    rule = SpreadRule(
        "caucasus", 2, timedelta(hours=2), ("console",), feed_urls=frozenset(SITES[1:3])
    )
    store.spread_rules = (rule,)
    a, b, c = await feeds_of(store, *SITES[:3])
    assert await carry(store, a, report("a1"), NOW) == 0
    assert await carry(store, b, report("b1"), NOW) == 0  # a is not watched
    assert await carry(store, c, report("c1"), NOW) == 1


async def test_a_baseline_poll_counts_but_never_alerts(store: Store) -> None:
    store.spread_rules = (SPREADING,)
    a, b, c, d = await feeds_of(store, *SITES[:4])
    assert await carry(store, a, report("a1"), NOW) == 0
    assert await carry(store, b, report("b1"), NOW) == 0
    assert await carry(store, c, report("c1"), NOW, alert=False) == 0  # a first poll
    assert await carry(store, d, report("d1"), NOW + MINUTE) == 2


async def test_muted_and_seeded_stories_never_spread(store: Store) -> None:
    store.spread_rules = (SPREADING,)
    feeds = await feeds_of(store, *SITES[:6])
    for feed, key in zip(feeds[:2], ("a1", "b1"), strict=True):
        await carry(store, feed, report(key), NOW)
    (story,) = await store.stories()
    assert await store.mute_story(story.id, NOW, None)
    assert await carry(store, feeds[2], report("c1"), NOW + MINUTE) == 0
    seeded = "https://wire.example/known"
    (seed,) = identify([Item("seed:1", None, "Known", seeded, "", "")])
    await store.load_seed("seed:local", [seed], NOW)
    for feed, key in zip(feeds[3:], ("d1", "e1", "f1"), strict=True):
        assert await carry(store, feed, report(key, seeded), NOW + MINUTE) == 0
    assert await spread_messages(store) == []


async def test_two_instances_count_one_story_and_alert_it_once(
    store_factory: StoreFactory,
) -> None:
    async with store_factory() as first, store_factory() as second:
        first.spread_rules = second.spread_rules = (SPREADING,)
        feeds = await feeds_of(first, *SITES[:5])
        sent = 0
        for position, (feed, store) in enumerate(zip(feeds, [first, second] * 3, strict=False)):
            sent += await carry(store, feed, report(f"r{position}"), NOW + position * MINUTE)
        assert sent == 2  # console and hook, from whichever saved the third report
        assert len(await spread_messages(first)) == 2
        assert len(await spread_messages(second)) == 2
