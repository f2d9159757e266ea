"""What only the SQLite backend does: files that are not databases, full and read-only
disks, a database deleted while in use, one instance per file."""

from __future__ import annotations

import asyncio
import os
import sqlite3
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from monitor.dedupe import identify
from monitor.models import FeedSpec, Item, NewItem, PollRecord
from monitor.store import SQLiteStore, StoreError
from tests.support import upgrades
from tests.support.commands import mounted_tmpfs

NOW = datetime(2026, 1, 5, 12, 0, tzinfo=UTC)
ROOT = Path(__file__).resolve().parents[1]


async def threads_settle_at(count: int) -> bool:
    """Whether the process is back to ``count`` threads within a second (a connection
    thread that is told to stop takes a moment to go)."""
    for _ in range(100):
        if threading.active_count() <= count:
            return True
        await asyncio.sleep(0.01)
    return False


@pytest.mark.parametrize(
    "content",
    [os.urandom(20_000), b"SQLite format 3\x00" + os.urandom(4_000)],
    ids=["random-bytes", "damaged-header"],
)
async def test_a_file_that_is_not_a_database_is_refused_and_nothing_stays_open(
    tmp_path: Path, content: bytes
) -> None:
    path = tmp_path / "bad.db"
    path.write_bytes(content)
    before = threading.active_count()
    with pytest.raises(StoreError, match=r"cannot open the database .*bad\.db: "):
        async with SQLiteStore(path):
            pass
    assert await threads_settle_at(before)  # no connection thread left to hang the exit


def test_a_refused_open_has_no_thread_left_when_its_loop_closes(tmp_path: Path) -> None:
    """aiosqlite stops a failed connection's thread without waiting; a CLI that exits
    at once then printed "Event loop is closed" from that thread (seen under load)."""
    (tmp_path / "monitor.db").mkdir()

    async def refused_open() -> None:
        with pytest.raises(StoreError):
            async with SQLiteStore(tmp_path / "monitor.db"):
                pass

    errors: list[BaseException | None] = []

    def record(raised: threading.ExceptHookArgs) -> None:
        errors.append(raised.exc_value)

    previous = threading.excepthook
    threading.excepthook = record
    try:
        for _ in range(50):  # a new loop each time, closed the moment the open fails
            asyncio.run(refused_open())
        threading.Event().wait(0.2)
    finally:
        threading.excepthook = previous
    assert errors == []


async def test_a_new_database_on_a_read_only_disk_is_refused(tmp_path: Path) -> None:
    with mounted_tmpfs(tmp_path / "ro", "1m", read_only=True) as folder:
        before = threading.active_count()
        with pytest.raises(StoreError, match=r"unable to open database file|Read-only"):
            async with SQLiteStore(folder / "monitor.db"):
                pass
        assert await threads_settle_at(before)


async def test_a_full_disk_is_reported_as_a_full_disk(tmp_path: Path) -> None:
    # A new database's migrations leave about 430 KB in the WAL file (the outbox table
    # is copied once): 1 MB leaves room for a few polls before the disk fills.
    with mounted_tmpfs(tmp_path / "disk", "1m") as folder:
        async with SQLiteStore(folder / "monitor.db") as store:
            feed_url = "https://a.example/feed"
            await store.sync_feeds([FeedSpec(feed_url, None, timedelta(minutes=5), False)], NOW)
            (feed,) = await store.feeds()
            text = "ceasefire " * 5_000  # 50 KB per item: the disk fills within a few polls

            async def fill_the_disk() -> None:
                for poll in range(100):
                    items = [
                        NewItem(Item(f"{poll}-{n}", None, f"t{poll}-{n}", None, text, ""))
                        for n in range(2)
                    ]
                    record = PollRecord(NOW, NOW, 200, None)
                    await store.save_poll(feed.id, items, record, alert=False)

            with pytest.raises(StoreError) as raised:
                await fill_the_disk()
            message = str(raised.value)
            assert "database or disk is full" in message
            assert "rollback" not in message
            # What was committed before the disk filled is still there and readable.
            assert await store.items(limit=1)


async def test_a_database_deleted_while_open_is_noticed(tmp_path: Path) -> None:
    path = tmp_path / "monitor.db"
    async with SQLiteStore(path) as store:
        await store.check_health()
        path.unlink()
        with pytest.raises(StoreError, match="deleted or replaced"):
            await store.check_health()
        path.write_bytes(b"")  # a new file under the same name is not ours either
        with pytest.raises(StoreError, match="deleted or replaced"):
            await store.check_health()


async def test_one_instance_per_database_file(tmp_path: Path) -> None:
    path = tmp_path / "monitor.db"
    async with SQLiteStore(path) as first:
        await first.start_instance("box:100", NOW)
        async with SQLiteStore(path) as second:
            await second.feeds()  # reading alongside the daemon is fine
            with pytest.raises(StoreError, match=r"another news-monitor \(box:100\)"):
                await second.start_instance("box:200", NOW)
    async with SQLiteStore(path) as after:
        await after.start_instance("box:300", NOW)  # the lock went with the first store


async def test_a_database_of_the_first_schema_migrates_with_its_data(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    first = ROOT / "monitor" / "store" / "migrations" / "sqlite" / "0001_initial.sql"
    with sqlite3.connect(path) as db:
        db.executescript(first.read_text())
        db.executescript(
            """
            CREATE TABLE schema_migrations
                (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at REAL NOT NULL);
            INSERT INTO schema_migrations VALUES (1, '0001_initial.sql', 0);
            INSERT INTO feeds (id, url, interval_s, next_poll_at, created_at)
                VALUES (1, 'https://a.example/feed', 600, 0, 0);
            INSERT INTO stories VALUES (1, 0);
            INSERT INTO items (id, feed_id, story_id, entry_key, link, canonical_link,
                    content_hash, title_key, title, summary, content, first_seen_at)
                VALUES (1, 1, 1, 'k1', 'https://a.example/1', 'https://a.example/1',
                    'abc', 'def', 'Truce agreed', 'Text.', '', 0);
            INSERT INTO deliveries (id, message_id, watchlist, story_id, item_id, notifier,
                    matched, next_attempt_at, created_at)
                VALUES (1, 'msg_old', 'w', 1, 1, 'console', '[]', 0, 0);
            """
        )
    async with SQLiteStore(path) as store:
        (delivery,) = await store.deliveries()
        assert (delivery.message_id, delivery.kind, delivery.stored.item.title) == (
            "msg_old",
            "alert",
            "Truce agreed",
        )
        await store.sync_feeds(
            [FeedSpec("https://b.example/feed", None, timedelta(hours=1), False)], NOW
        )
        (other,) = [feed for feed in await store.feeds() if feed.url.startswith("https://b")]
        (same_link,) = identify(
            [Item("k2", None, "Another title", "http://a.example/1?utm_source=x", "", "")]
        )
        saved = await store.save_poll(
            other.id, [NewItem(same_link)], PollRecord(NOW, NOW, 200, None), alert=True
        )
        assert (saved.stored, saved.new_stories) == (1, 0)  # the old item's link key was kept


async def test_a_restart_takes_back_what_the_dead_run_left_claimed_at_once(
    tmp_path: Path,
) -> None:
    """One instance per file: holding the lock, a new run knows the last one is gone."""
    spec = FeedSpec("https://a.example/feed", None, timedelta(minutes=10), False)
    async with SQLiteStore(tmp_path / "m.db") as crashed:
        await crashed.start_instance("host:1", NOW)
        await crashed.sync_feeds([spec], NOW)
        assert await crashed.claim_due_feeds(NOW, 10, timedelta(minutes=10))
    later = NOW + timedelta(minutes=2)  # well inside the lease
    async with SQLiteStore(tmp_path / "m.db") as restarted:
        await restarted.start_instance("host:2", later)
        (again,) = await restarted.claim_due_feeds(later, 10, timedelta(minutes=1))
        assert again.url == spec.url


async def test_a_database_of_the_previous_release_takes_the_new_story_rules(
    tmp_path: Path,
) -> None:
    """Its link key still joins, its alert still counts as the watchlist's one, and its
    item within the story window is re-keyed so that a near copy finds it."""
    path = tmp_path / "previous.db"
    seen = (NOW - timedelta(days=1)).timestamp()
    with sqlite3.connect(path) as db:
        for script in upgrades.previous_schema("sqlite"):
            db.executescript(script)
        db.execute(
            "CREATE TABLE schema_migrations"
            " (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at REAL NOT NULL)"
        )
        for version in range(1, upgrades.LAST_VERSION["sqlite"] + 1):
            db.execute("INSERT INTO schema_migrations VALUES (?, '', 0)", (version,))
        for statement in upgrades.previous_data(seen):
            db.execute(statement, (upgrades.OLD_FINGERPRINT,) if "?" in statement else ())
        db.executemany(
            "INSERT INTO identity_keys (key, item_id, kind, story_id, feed_id, seen_at)"
            " VALUES (?, 1, ?, 1, 1, ?)",
            [
                (upgrades.CANONICAL, "link", seen),
                (upgrades.TEXT_KEY, "text", seen),
                (123456789, "band", seen),
            ],
        )
    await upgrades.upgraded_store_keeps_its_stories(SQLiteStore(path))
