"""What only the shared backend does: several live instances on one PostgreSQL database,
claiming without overlap, taking over a dead instance's work when its lease runs out,
refusing a stale owner's late writes, and resolving one story once when two instances
store copies of it at the same moment."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack, suppress
from datetime import timedelta
from pathlib import Path

import asyncpg
import pytest

from monitor.models import NewItem
from monitor.store import LeaseLost, PostgresStore, StoreError
from tests.support import upgrades
from tests.test_store import MINUTE, NOW, feed_ids, item, matched, record, spec

Start = Callable[[int], Awaitable[list[PostgresStore]]]


@pytest.fixture
async def instances(
    postgres_dsn: str,
) -> AsyncIterator[Callable[[int], Awaitable[list[PostgresStore]]]]:
    """``await instances(n)``: n open stores on one database, started as host:1 … host:n,
    each with its own connection pool, as separate processes would be."""
    async with AsyncExitStack() as stack:

        async def start(count: int) -> list[PostgresStore]:
            stores = []
            for number in range(1, count + 1):
                store = await stack.enter_async_context(PostgresStore(postgres_dsn))
                await store.start_instance(f"host:{number}", NOW)
                stores.append(store)
            return stores

        yield start


async def test_instances_claim_due_feeds_without_overlap(instances: Start) -> None:
    a, b, c = await instances(3)
    await feed_ids(a, *(f"https://{n}.example/feed" for n in range(30)))
    claims = await asyncio.gather(
        *(store.claim_due_feeds(NOW, 12, MINUTE) for store in (a, b, c) for _ in range(2))
    )
    claimed = [feed.id for batch in claims for feed in batch]
    assert len(claimed) == len(set(claimed)) == 30  # each feed once, none left behind
    owners = {feed.claimed_by for feed in await a.feeds()}
    assert owners <= {"host:1", "host:2", "host:3"}
    assert len(owners) > 1


async def test_a_dead_instances_feed_is_taken_over_after_its_lease(
    instances: Start,
) -> None:
    a, b = await instances(2)
    (feed,) = await feed_ids(a, "https://a.example/feed")
    assert await a.claim_due_feeds(NOW, 10, MINUTE)
    # a dies. While its lease lasts, no one takes the feed; then b does.
    assert await b.claim_due_feeds(NOW + 0.9 * MINUTE, 10, MINUTE) == []
    (taken,) = await b.claim_due_feeds(NOW + 1.1 * MINUTE, 10, MINUTE)
    assert taken.id == feed
    (state,) = await b.feeds()
    assert state.claimed_by == "host:2"


async def test_a_live_instance_keeps_its_work_by_renewing(instances: Start) -> None:
    a, b = await instances(2)
    await feed_ids(a, "https://a.example/feed")
    await a.save_poll(1, [matched(item("1"))], record(), alert=True)
    assert await a.claim_due_feeds(NOW + 10 * MINUTE, 10, MINUTE)
    assert await a.claim_due_deliveries(NOW + 10 * MINUTE, 10, MINUTE)
    for second in range(20, 300, 20):  # renewing every 20 s, a 60 s lease never lapses
        now = NOW + 10 * MINUTE + timedelta(seconds=second)
        assert await a.extend_leases(now, MINUTE) == 2
        assert await b.claim_due_feeds(now, 10, MINUTE) == []
        assert await b.claim_due_deliveries(now, 10, MINUTE) == []


async def test_a_stale_owners_late_writes_are_refused(instances: Start) -> None:
    a, b = await instances(2)
    (feed,) = await feed_ids(a, "https://a.example/feed")
    await a.save_poll(feed, [matched(item("1"), "hook")], record(), alert=True)
    assert await a.claim_due_feeds(NOW + 10 * MINUTE, 10, MINUTE)
    (message,) = await a.claim_due_deliveries(NOW + 10 * MINUTE, 10, MINUTE)
    # a stalls past its leases; b takes both over.
    later = NOW + 12 * MINUTE
    assert await b.claim_due_feeds(later, 10, MINUTE)
    (again,) = await b.claim_due_deliveries(later, 10, MINUTE)
    assert again.message_id == message.message_id
    # a wakes up: everything it tries to finish is refused, and nothing of it lands.
    with pytest.raises(LeaseLost, match="held by host:2"):
        await a.save_poll(feed, [matched(item("2"), "hook")], record(later), alert=True)
    with pytest.raises(LeaseLost, match="held by host:2"):
        await a.record_poll(feed, record(later, error="HTTP 500", status=500))
    with pytest.raises(LeaseLost):
        await a.mark_sent(message.id, later)
    with pytest.raises(LeaseLost):
        await a.mark_failed(message.id, "HTTP 500", None)
    await a.release_deliveries([message.id], later)  # not a's to release: ignored
    assert [stored.item.entry_key for stored in await b.items()] == ["1"]
    (state,) = await b.feeds()
    assert (state.claimed_by, state.error_count) == ("host:2", 0)
    (held,) = await b.deliveries()
    assert (held.status.value, held.claimed_by) == ("pending", "host:2")
    # b, the holder, finishes normally.
    await b.mark_sent(again.id, later)
    await b.save_poll(feed, [matched(item("2"), "hook")], record(later), alert=True)
    assert len(await b.items()) == 2


async def test_a_late_poll_is_refused_even_when_the_takeover_has_finished(
    instances: Start,
) -> None:
    """The worst case of a lapsed lease: a stale poll that still thinks the feed is new
    (no baseline yet) must not store a story published since, silently, as baseline."""
    a, b = await instances(2)
    (feed,) = await feed_ids(a, "https://a.example/feed")
    (stale,) = await a.claim_due_feeds(NOW, 10, MINUTE)
    later = NOW + 2 * MINUTE
    (taken,) = await b.claim_due_feeds(later, 10, MINUTE)
    assert taken.claim == stale.claim + 1
    await b.save_poll(feed, [NewItem(item("old"))], record(later, claim=taken.claim), alert=False)
    (state,) = await a.feeds()
    assert state.claimed_by is None  # b is done: no one holds the feed now
    with pytest.raises(LeaseLost, match="was claimed again since"):
        await a.save_poll(
            feed,
            [matched(item("news"), "hook")],
            record(later + MINUTE, claim=stale.claim),
            alert=False,
        )
    assert [stored.item.entry_key for stored in await a.items()] == ["old"]


async def test_two_instances_storing_one_story_at_once_queue_one_alert(
    instances: Start,
) -> None:
    stores = await instances(4)
    urls = [f"https://{n}.example/feed" for n in range(4)]
    feeds = await feed_ids(stores[0], *urls)
    link = "https://wire.example/truce"
    for attempt in range(5):  # each round, four copies of a new story arrive together
        copies = [
            matched(item(f"{attempt}-{feed}", f"Truce {attempt} agreed", link + str(attempt)))
            for feed in feeds
        ]
        results = await asyncio.gather(
            *(
                store.save_poll(feed, [copy], record(), alert=True)
                for store, feed, copy in zip(stores, feeds, copies, strict=True)
            )
        )
        assert sorted(result.new_stories for result in results) == [0, 0, 0, 1]
        assert sum(result.deliveries for result in results) == 1
    stories = await stores[0].stories()
    assert len(stories) == 5
    assert all(len(story.items) == 4 for story in stories)


async def test_instances_opening_a_new_database_together_migrate_it_once(
    postgres_dsn: str,
) -> None:
    stores = [PostgresStore(postgres_dsn) for _ in range(4)]
    await asyncio.gather(*(store.open() for store in stores))
    try:
        connection = await asyncpg.connect(postgres_dsn)
        try:
            versions = await connection.fetch("SELECT version FROM schema_migrations")
        finally:
            await connection.close()
        folder = Path(__file__).parents[1] / "monitor" / "store" / "migrations" / "postgresql"
        every = sorted(int(script.name.split("_")[0]) for script in folder.glob("*.sql"))
        assert sorted(row[0] for row in versions) == every
        await stores[0].sync_feeds([spec("https://a.example/feed")], NOW)
        assert len(await stores[3].feeds()) == 1
    finally:
        for store in stores:
            await store.close()


async def test_a_database_that_cannot_be_reached_is_a_clear_error_without_the_password() -> None:
    # Nothing listens on port 9 of the loopback; the password must not be shown.
    store = PostgresStore("postgresql://monitor:s3cret-pw@127.0.0.1:9/news")
    with pytest.raises(StoreError) as raised:
        await store.open()
    message = str(raised.value)
    assert message.startswith("cannot open the database postgresql://monitor@127.0.0.1:9/news: ")
    assert "s3cret" not in message
    await store.close()  # safe after a failed open


async def test_a_database_that_goes_away_is_a_store_error(postgres_dsn: str) -> None:
    async with PostgresStore(postgres_dsn) as store:
        await store.check_health()
        connection = await asyncpg.connect(postgres_dsn)
        try:
            # Another session ends this store's connections, as a server restart would.
            await connection.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                " WHERE pid <> pg_backend_pid() AND datname = current_database()"
                " AND application_name = '' AND query NOT ILIKE '%pg_stat_activity%'"
                " AND backend_type = 'client backend' AND state = 'idle'"
            )
        finally:
            await connection.close()
        # The pool replaces a dead connection, or the error is a StoreError: never a
        # driver's exception.
        with suppress(StoreError):
            await store.feeds()
        assert await store.feeds() == []


async def test_a_renewal_never_waits_for_a_row_being_written(
    instances: Start, postgres_dsn: str
) -> None:
    """A renewal that queued behind a write in flight would let the other leases lapse
    (and, crossing that write's locks, deadlock): rows locked now are skipped."""
    (a,) = await instances(1)
    await feed_ids(a, "https://a.example/feed", "https://b.example/feed")
    first, second = await a.claim_due_feeds(NOW, 10, MINUTE)
    writer = await asyncpg.connect(postgres_dsn)
    try:
        async with writer.transaction():
            # A poll's record of the first feed, not yet committed.
            await writer.execute("UPDATE feeds SET title = 'x' WHERE id = $1", first.id)
            renewed = await asyncio.wait_for(a.extend_leases(NOW + 0.5 * MINUTE, MINUTE), 5)
        assert renewed == 1
        states = {feed.id: feed for feed in await a.feeds()}
        assert states[second.id].lease_until == NOW + 1.5 * MINUTE
        assert states[first.id].lease_until == NOW + MINUTE  # its write finishes it
    finally:
        await writer.close()


async def test_instances_asking_for_due_subscriptions_at_once_get_each_once(
    instances: Start,
) -> None:
    stores = await instances(4)
    urls = [f"https://{n}.example/feed" for n in range(20)]
    await feed_ids(stores[0], *urls)
    claimed = await stores[0].claim_due_feeds(NOW, 100, MINUTE)
    for feed in claimed:
        polled = record(claim=feed.claim, hub="https://hub.example/", topic=feed.url)
        await stores[0].save_poll(feed.id, [], polled, alert=False)
    first = await asyncio.gather(*(store.subscription_tasks(NOW) for store in stores))
    asked = [task.subscription.feed_id for tasks in first for task in tasks]
    assert len(asked) == len(set(asked)) == 20  # each one asked by one instance
    # Renewals fall due together later: again one instance each.
    later = NOW + timedelta(minutes=10)
    again = await asyncio.gather(*(store.subscription_tasks(later) for store in stores))
    renewed = [task.subscription.feed_id for tasks in again for task in tasks]
    assert len(renewed) == len(set(renewed)) == 20


async def test_a_database_of_the_previous_release_takes_the_new_story_rules(
    postgres_dsn: str,
) -> None:
    connection = await asyncpg.connect(postgres_dsn)
    try:
        for script in upgrades.previous_schema("postgresql"):
            await connection.execute(script)
        await connection.execute(
            "CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL,"
            " applied_at DOUBLE PRECISION NOT NULL)"
        )
        for version in range(1, upgrades.LAST_VERSION["postgresql"] + 1):
            await connection.execute("INSERT INTO schema_migrations VALUES ($1, '', 0)", version)
        for statement in upgrades.previous_data(upgrades.SEEN):
            if "?" in statement:
                await connection.execute(statement.replace("?", "$1"), upgrades.OLD_FINGERPRINT)
            else:
                await connection.execute(statement)
        await connection.executemany(
            "INSERT INTO identity_keys (exact_key, band_key, kind, item_id, story_id, feed_id,"
            " seen_at) VALUES ($1, $2, $3, 1, 1, 1, $4)",
            [
                (upgrades.CANONICAL, None, "link", upgrades.SEEN),
                (upgrades.TEXT_KEY, None, "text", upgrades.SEEN),
                (None, 123456789, "band", upgrades.SEEN),
            ],
        )
        for table in ("feeds", "stories", "items", "deliveries"):
            await connection.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), 10)")
    finally:
        await connection.close()
    await upgrades.upgraded_store_keeps_its_stories(PostgresStore(postgres_dsn))


async def test_instances_learn_one_table_of_common_shingles(instances: Start) -> None:
    """What one instance learns from the stories it stores, the others learn from its
    log: a template sentence it saw in many stories carries no weight for them either."""
    first, second = await instances(2)
    sports, other = await feed_ids(first, "https://sports.example/feed", "https://b.example/f")
    template = (
        " Both managers said they were pleased with the effort of their players, and"
        " tickets for the next home fixture go on sale on Monday at the club shop."
    )
    # A site's automated match reports: one feed's entries are its own stories.
    reports = [
        NewItem(item(f"r{number}", f"Team{number} win", None, f"Team{number} won." + template))
        for number in range(8)
    ]
    await first.save_poll(sports, reports, record(), alert=True)
    learned = set(first.common.values)
    assert learned  # the template's shingles, seen in eight stories
    assert not learned & second.common.values
    # The second instance counts what the first logged before its next resolution.
    late = item("late", "Team99 win", None, "Team99 won." + template)
    await second.save_poll(other, [NewItem(late)], record(), alert=True)
    assert learned <= second.common.values
