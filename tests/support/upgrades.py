"""A database as the previous release left it, for the upgrade tests of both backends:
its schema (every migration up to ``LAST_VERSION``) and a little data that the new
story rules must take over: a feed item with its text, exact identity keys, old band
keys and fingerprint, and the alert it sent."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from monitor.dedupe import identify
from monitor.models import FeedSpec, Item, Match, MatchedTerm, NewItem, PollRecord
from monitor.store import Store

MIGRATIONS = Path(__file__).resolve().parents[2] / "monitor" / "store" / "migrations"
LAST_VERSION = {"sqlite": 9, "postgresql": 2}
TEXT = (
    "Armenia and Azerbaijan agreed to a humanitarian ceasefire in Nagorno-Karabakh on"
    " Saturday after ten hours of talks in Moscow, the Russian foreign minister said, to"
    " exchange prisoners and the bodies of the dead. Talks on a settlement are to follow."
)
LINK = "https://a.example/truce"
# What the previous release stored for that item (its keys as it wrote them).
CANONICAL = "https://a.example/truce"
TEXT_KEY = "5d4b0f0f7e4c1b0a9d8e7f6a5b4c3d2e"
OLD_FINGERPRINT = b"\x00" * 400
NOW = datetime(2026, 1, 5, 12, 0, tzinfo=UTC)
SEEN = (NOW - timedelta(days=1)).timestamp()


def previous_schema(dialect: str) -> list[str]:
    """The migration scripts of the previous release, in order."""
    folder = MIGRATIONS / dialect
    scripts = sorted(folder.glob("*.sql"))
    return [
        script.read_text()
        for script in scripts
        if int(script.name.split("_")[0]) <= LAST_VERSION[dialect]
    ]


def previous_data(seen_at: float) -> list[str]:
    """Statements (portable SQL) that put the previous release's rows in place."""
    return [
        "INSERT INTO feeds (id, url, interval_s, next_poll_at, created_at)"
        " VALUES (1, 'https://a.example/feed', 600, 0, 0)",
        f"INSERT INTO stories (id, created_at) VALUES (1, {seen_at})",
        "INSERT INTO items (id, feed_id, story_id, entry_key, link, title, summary, content,"
        " fingerprint, first_seen_at)"
        f" VALUES (1, 1, 1, 'k1', '{LINK}', 'Truce agreed in Moscow', '{TEXT}', '', ?,"
        f" {seen_at})",
        "INSERT INTO deliveries (id, message_id, watchlist, story_id, item_id, notifier,"
        " matched, status, next_attempt_at, created_at)"
        f" VALUES (1, 'msg_old', 'w', 1, 1, 'console', '[]', 'sent', 0, {seen_at})",
    ]


async def upgraded_store_keeps_its_stories(store: Store) -> None:
    """Open the previous release's database and check the new rules take it over: its
    link key still joins, its alert still counts as the watchlist's one, and its item
    within the story window is re-keyed so that a near copy finds it."""
    async with store:
        assert await store.rekey(NOW) == 1
        assert await store.rekey(NOW) == 0  # done once
        await store.sync_feeds(
            [
                FeedSpec(url, None, timedelta(hours=1), False)
                for url in (
                    "https://a.example/feed",
                    "https://b.example/feed",
                    "https://c.example/feed",
                )
            ],
            NOW,
        )
        feeds = {feed.url[8:9]: feed.id for feed in await store.feeds()}
        terms = (MatchedTerm("ceasefire", "summary"),)
        (same_link,) = identify([Item("k2", None, "Another title", LINK + "?utm_source=x", "", "")])
        saved = await store.save_poll(
            feeds["b"],
            [NewItem(same_link, (Match("w", ("console",), terms),))],
            PollRecord(NOW, NOW, 200, None),
            alert=True,
        )
        # The old item's link key joins, and its old alert is the watchlist's one.
        assert (saved.stored, saved.new_stories, saved.joins, saved.deliveries) == (
            1,
            0,
            ("link",),
            0,
        )
        (copy,) = identify([Item("k3", None, "Moscow brokers a truce", None, TEXT, "")])
        saved = await store.save_poll(
            feeds["c"],
            [NewItem(copy, (Match("w", ("console",), terms), Match("x", ("console",), terms)))],
            PollRecord(NOW, NOW, 200, None),
            alert=True,
        )
        # Re-keyed from its text, the old item is found by a near copy, which alerts the
        # watchlist that had not heard of the story.
        assert (saved.new_stories, saved.joins, saved.deliveries) == (0, ("near",), 1)
        alerts = {(d.watchlist, d.message_id == "msg_old") for d in await store.deliveries()}
        assert alerts == {("w", True), ("x", False)}
