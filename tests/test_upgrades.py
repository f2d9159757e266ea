"""Every database this project has written upgrades in place, on both backends.

``tests/fixtures/upgrades`` holds a database written by each schema the project has
had (made once by ``make.py`` from the history, with that version's own code, and
kept): today's code opens each one, migrates it, and finds its feed, its items, their
stories and their alert; the old item's link still joins a copy, and the watchlist it
alerted stays alerted. And no migration is edited once committed: each file's digest
is pinned here.
"""

from __future__ import annotations

import hashlib
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg
import pytest

from monitor.dedupe import identify
from monitor.models import FeedSpec, Item, Match, MatchedTerm, NewItem, PollRecord
from monitor.store import PostgresStore, SQLiteStore, Store

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "upgrades"
MIGRATIONS = Path(__file__).resolve().parents[1] / "monitor" / "store" / "migrations"
NOW = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)
# Once committed, a migration is never edited: a database that applied it would be
# marked migrated and differ from one made later. A new migration adds its line here.
PINNED = {
    "postgresql/0001_initial.sql": "e1008275539055f9",
    "postgresql/0002_sources.sql": "31febc3b2ee3cfc9",
    "postgresql/0003_story_rules.sql": "b2ab5981cbfd555c",
    "postgresql/0004_fulltext.sql": "87b57f8a7c13d68c",
    "postgresql/0005_muted_stories.sql": "5dd72a8bd3952b81",
    "postgresql/0006_spread_alerts.sql": "c9ba5a0653732d0f",
    "postgresql/0007_items_seen_index.sql": "a029cee8aa1234de",
    "postgresql/0008_poll_days.sql": "0f48280072768851",
    "sqlite/0001_initial.sql": "eefb321ed444ac0e",
    "sqlite/0002_claim_owners.sql": "0dd04c6f1cb402fd",
    "sqlite/0003_identity_keys.sql": "56021f4061278491",
    "sqlite/0004_delivery_kinds.sql": "1dcca2c96e780466",
    "sqlite/0005_messages.sql": "42d25162e9b2446b",
    "sqlite/0006_feed_etiquette.sql": "e9c613f5b02c00b2",
    "sqlite/0007_items_recent.sql": "8c0cee9b942cdb6c",
    "sqlite/0008_leases.sql": "f15fbad4a9cea9fd",
    "sqlite/0009_sources.sql": "ead1573d7bde231e",
    "sqlite/0010_story_rules.sql": "e591189af6620080",
    "sqlite/0011_fulltext.sql": "4af6307849210403",
    "sqlite/0012_muted_stories.sql": "0c9fe959e2ad7b41",
    "sqlite/0013_spread_alerts.sql": "34d246d1e9ab208d",
    "sqlite/0014_items_seen_index.sql": "6de30b3212691edb",
    "sqlite/0015_poll_days.sql": "daad9d01a38f5ea1",
}


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()[:16]


def test_no_migration_is_edited_once_committed() -> None:
    found = {f"{path.parent.name}/{path.name}": digest(path) for path in MIGRATIONS.glob("*/*.sql")}
    assert found == PINNED


async def takes_over(store: Store) -> None:
    """The old data is there, and the new rules take it over."""
    async with store:
        await store.start_instance("upgrade:1", NOW)
        await store.rekey(NOW)
        (feed,) = [feed for feed in await store.feeds() if feed.url.endswith("/feed.xml")]
        stored = {item.item.link for item in await store.items()}
        assert {"https://upgrade.example/truce", "https://upgrade.example/markets"} <= stored
        sent = [d for d in await store.deliveries() if d.watchlist == "karabakh"]
        assert len(sent) == 1 and sent[0].item.item.link == "https://upgrade.example/truce"
        await store.sync_feeds(
            [
                FeedSpec(feed.url, None, timedelta(minutes=10), False),
                FeedSpec("https://copies.example/feed", None, timedelta(minutes=10), False),
            ],
            NOW,
        )
        (other,) = [f for f in await store.feeds() if f.url.startswith("https://copies")]
        (copy,) = identify(
            [Item("c1", None, "A copy", "https://upgrade.example/truce?utm_source=x", "", "")]
        )
        terms = (MatchedTerm("Karabakh", "title"),)
        saved = await store.save_poll(
            other.id,
            [NewItem(copy, (Match("karabakh", ("hook",), terms),))],
            PollRecord(NOW, NOW, 200, None),
            alert=True,
        )
        # The old item's link key still joins, and its alert is still the watchlist's one.
        assert (saved.stored, saved.new_stories, saved.deliveries) == (1, 0, 0)
        assert await store.stories(limit=10)


SQLITE = sorted(FIXTURES.glob("sqlite-*.db"))
POSTGRESQL = sorted(FIXTURES.glob("postgresql-*.sql"))


@pytest.mark.parametrize("fixture", SQLITE, ids=[path.stem for path in SQLITE])
async def test_an_sqlite_database_of_each_schema_upgrades(fixture: Path, tmp_path: Path) -> None:
    copy = tmp_path / "monitor.db"
    shutil.copy(fixture, copy)
    await takes_over(SQLiteStore(copy))


@pytest.mark.parametrize("fixture", POSTGRESQL, ids=[path.stem for path in POSTGRESQL])
async def test_a_postgresql_database_of_each_schema_upgrades(
    fixture: Path, postgres_dsn: str
) -> None:
    schema = postgres_dsn.rsplit("search_path=", 1)[1]
    dump = fixture.read_text().replace("upgrade_schema", schema)
    connection = await asyncpg.connect(postgres_dsn)
    try:
        await connection.execute(f"DROP SCHEMA {schema} CASCADE")
        # pg_dump's own settings first (it empties search_path), then its statements.
        await connection.execute(dump)
    finally:
        await connection.close()
    await takes_over(PostgresStore(postgres_dsn))
