"""Feeds and their schedule, the same SQL on both backends (see ``dialect``): the
configured feeds, claims of due polls with their leases, each poll's record (validators,
health, the next poll), hosts that asked us to wait, and feeds that went silent or gone.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime, timedelta

from monitor.models import FeedSpec, FeedState, PollRecord
from monitor.store.claims import FEED_CLAIM_HOLDS, check_claim, finish
from monitor.store.dialect import Db
from monitor.store.rows import feed_from_row, from_epoch, host_of, to_epoch

# A feed due longer ago than this fell due while no instance ran (see spread_overdue).
OVERDUE_AFTER = timedelta(minutes=1)
# Polled feeds: configured, not the seeds' pseudo-feed.
POLLED = "enabled = TRUE AND kind <> 'seed'"
INTERVAL_CAP = 600.0  # seconds of a feed's interval that count in the order of claims


async def sync(db: Db, specs: Sequence[FeedSpec], now: datetime) -> None:
    """Upsert the configured feeds; disable the ones no longer configured (their items
    stay known). A new feed is due now; a known one keeps its schedule and validators,
    unless it is read another way now (its last body must then be read again)."""
    await db.hold("feeds")
    await db.execute(
        f"UPDATE feeds SET enabled = FALSE WHERE kind <> 'seed' AND NOT {db.any_of('url')}",
        db.as_list([spec.url for spec in specs]),
    )
    at = to_epoch(now)
    await db.execute_each(
        """
        INSERT INTO feeds (url, name, interval_s, baseline, max_alert_age_s,
            next_poll_at, created_at, host, kind)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
        ON CONFLICT (url) DO UPDATE SET
            name = excluded.name, interval_s = excluded.interval_s,
            body_digest = CASE WHEN feeds.kind = excluded.kind THEN feeds.body_digest END,
            etag = CASE WHEN feeds.kind = excluded.kind THEN feeds.etag END,
            last_modified = CASE WHEN feeds.kind = excluded.kind
                            THEN feeds.last_modified END,
            kind = excluded.kind,
            baseline = excluded.baseline,
            max_alert_age_s = excluded.max_alert_age_s, enabled = TRUE,
            -- a moved feed keeps the host it moved to
            host = CASE WHEN feeds.fetch_url IS NULL THEN excluded.host ELSE feeds.host END
        """,
        [
            (
                spec.url,
                spec.name,
                spec.interval.total_seconds(),
                spec.baseline,
                None if spec.max_alert_age is None else spec.max_alert_age.total_seconds(),
                at,
                at,
                host_of(spec.url),
                spec.kind,
            )
            for spec in specs
        ],
    )


async def enabled(db: Db) -> list[FeedState]:
    """Polled feeds in configuration order."""
    rows = await db.fetch(f"SELECT * FROM feeds WHERE {POLLED} ORDER BY id")
    return [feed_from_row(row) for row in rows]


async def claim_due(
    db: Db,
    now: datetime,
    limit: int,
    until: datetime,
    owner: str | None,
    *,
    all_feeds: bool = False,
) -> list[FeedState]:
    """Take up to ``limit`` due feeds no other instance holds, leased to ``owner``
    until ``until``; each as it was before the claim, carrying the claim itself.

    ``all_feeds`` takes every feed no other instance's live lease holds, due or not.
    Gone feeds are never taken, nor (even with ``all_feeds``) feeds of a host that
    asked us to wait with Retry-After. Rows another transaction holds are skipped.
    """
    at = to_epoch(now)
    due, parameters = (
        (
            "(lease_until IS NULL OR lease_until <= ? OR COALESCE(claimed_by, '') = ?)",
            (at, owner or ""),
        )
        if all_feeds
        else ("next_poll_at <= ?", (at,))
    )
    rows = await db.fetch(
        f"SELECT * FROM feeds WHERE {POLLED} AND gone_at IS NULL AND {due}"
        " AND COALESCE(host, '') NOT IN (SELECT host FROM host_holds WHERE hold_until > ?)"
        # Most overdue first, counted in the feed's own intervals: when more are due
        # than can be polled at once (a start, a cold pass, a pause), a feed polled
        # every few seconds or minutes goes before the hourly ones rather than after
        # them all, and while the backlog lasts every feed falls behind by the same
        # share of its interval (earliest deadline first starved the fast ones as
        # soon as the slow ones passed their deadlines). The interval counts at most
        # ``INTERVAL_CAP``: a daily feed is not left a day behind the hourly ones.
        " ORDER BY (next_poll_at - ?) / CASE WHEN interval_s < 1 THEN 1"
        " WHEN interval_s < ? THEN interval_s ELSE ? END, id"
        f" LIMIT ?{db.skip_locked}",
        *parameters,
        at,
        at,
        INTERVAL_CAP,
        INTERVAL_CAP,
        limit,
    )
    if not rows:
        return []
    leased = to_epoch(until)
    await db.execute(
        "UPDATE feeds SET next_poll_at = ?, lease_until = ?, claimed_by = ?,"
        f" claims = claims + 1 WHERE {db.any_of('id')}",
        leased,
        leased,
        owner,
        db.as_list([row["id"] for row in rows]),
    )
    return [replace(feed_from_row(row), claim=row["claims"] + 1) for row in rows]


async def record_poll(db: Db, feed_id: int, record: PollRecord, owner: str | None) -> None:
    """The poll's validators, health and next poll time, releasing its claim
    (LeaseLost: the feed was claimed again since)."""
    polled, next_poll = to_epoch(record.polled_at), to_epoch(record.next_poll_at)
    if record.error is None:
        changed = await db.execute(
            f"""
            UPDATE feeds SET last_polled_at = ?, next_poll_at = ?, last_status = ?,
                last_error = NULL, error_count = 0, claimed_by = NULL, lease_until = NULL,
                poll_reason = ?, etag = COALESCE(?, etag),
                last_modified = COALESCE(?, last_modified), title = COALESCE(?, title),
                body_digest = COALESCE(?, body_digest),
                declared_interval_s = COALESCE(?, declared_interval_s),
                learned_interval_s = COALESCE(?, learned_interval_s),
                fetch_url = COALESCE(?, fetch_url), host = COALESCE(?, host)
            WHERE id = ? AND {FEED_CLAIM_HOLDS}
            """,
            polled,
            next_poll,
            record.status,
            record.reason,
            record.etag,
            record.last_modified,
            record.title,
            record.body_digest,
            _seconds(record.declared_interval),
            _seconds(record.learned_interval),
            record.moved_to,
            None if record.moved_to is None else host_of(record.moved_to),
            feed_id,
            record.claim,
        )
    else:
        changed = await db.execute(
            f"""
            UPDATE feeds SET last_polled_at = ?, next_poll_at = ?, last_status = ?,
                last_error = ?, error_count = error_count + 1, claimed_by = NULL,
                lease_until = NULL, poll_reason = ?,
                gone_at = CASE WHEN ? THEN ? ELSE gone_at END
            WHERE id = ? AND {FEED_CLAIM_HOLDS}
            """,
            polled,
            next_poll,
            record.status,
            record.error,
            record.reason,
            record.gone,
            polled,
            feed_id,
            record.claim,
        )
    await finish(db, "feeds", feed_id, owner, record.claim, changed)
    if record.host_hold_until is not None:
        # The server asked its whole host to wait: no instance claims its feeds before
        # then (see claim_due).
        await db.execute(
            f"""
            INSERT INTO host_holds (host, hold_until)
            SELECT host, ? FROM feeds WHERE id = ? AND host IS NOT NULL
            ON CONFLICT (host) DO UPDATE SET
                hold_until = {db.greatest("host_holds.hold_until", "excluded.hold_until")}
            """,
            to_epoch(record.host_hold_until),
            feed_id,
        )


async def check_poll_claim(db: Db, feed_id: int, record: PollRecord, owner: str | None) -> None:
    """Refuse (LeaseLost) a poll's save before anything is written, when the feed was
    claimed again since the poll began."""
    await check_claim(db, "feeds", feed_id, owner, record.claim)


async def note_saved(db: Db, feed_id: int, record: PollRecord, stored: int) -> None:
    """After a poll's items were saved: the first poll is the baseline, a poll that
    stored items is the feed's newest news, and the hub it names is kept."""
    polled = to_epoch(record.polled_at)
    await db.execute(
        "UPDATE feeds SET baselined_at = COALESCE(baselined_at, ?),"
        " last_new_item_at = CASE WHEN ? THEN ? ELSE last_new_item_at END,"
        " hub = ?, topic = ? WHERE id = ?",
        polled,
        stored > 0,
        polled,
        record.hub,
        record.topic,
        feed_id,
    )


async def note_pushed(db: Db, feed_id: int, at: datetime) -> None:
    """A hub pushed news of the feed at ``at``."""
    await db.execute("UPDATE feeds SET last_new_item_at = ? WHERE id = ?", to_epoch(at), feed_id)


async def mark_stale(db: Db, feed_id: int, since: datetime | None) -> None:
    """The feed went silent at ``since`` (None: it publishes again)."""
    await db.execute(
        "UPDATE feeds SET stale_since = ? WHERE id = ?",
        None if since is None else to_epoch(since),
        feed_id,
    )


async def revive(db: Db, url: str, now: datetime) -> bool:
    """Poll a gone feed again, now; False when it was not gone."""
    changed = await db.execute(
        "UPDATE feeds SET gone_at = NULL, error_count = 0, next_poll_at = ?,"
        " poll_reason = 'revived' WHERE url = ? AND gone_at IS NOT NULL",
        to_epoch(now),
        url,
    )
    return changed > 0


async def spread_overdue(db: Db, now: datetime) -> int:
    """Spread the polls of known feeds that fell due while no instance ran over their
    interval, so a start does not burst every publisher at once; how many moved.

    A feed never polled stays due now, and so does one due only moments ago (with other
    instances running, about to be claimed); feeds someone holds are left alone. A fixed
    fraction per feed (the golden ratio's multiples mod 1) spreads them evenly and the
    same way on every start.
    """
    offset = db.fraction("id * 0.6180339887")
    return await db.execute(
        f"""
        UPDATE feeds SET poll_reason = 'spread after restart',
            next_poll_at = ? + interval_s * {offset}
        WHERE {POLLED} AND gone_at IS NULL AND claimed_by IS NULL
            AND last_polled_at IS NOT NULL AND next_poll_at <= ?
        """,
        to_epoch(now),
        to_epoch(now - OVERDUE_AFTER),
    )


async def take_back_claims(db: Db, now: datetime) -> None:
    """Every claimed feed is due now (its instance is known to be gone)."""
    await db.execute(
        "UPDATE feeds SET next_poll_at = ?, claimed_by = NULL, lease_until = NULL"
        " WHERE claimed_by IS NOT NULL",
        to_epoch(now),
    )


async def extend_leases(db: Db, owner: str | None, until: datetime) -> int:
    """Hold the feeds ``owner`` has claimed and not finished until ``until``; how many.

    A row locked now is being finished (its claim released) by a write in flight:
    skipped, not waited for, so a renewal never queues behind the writes (nor they
    behind it, in a deadlock) and the leases keep their rhythm.
    """
    held = to_epoch(until)
    return await db.execute(
        "UPDATE feeds SET next_poll_at = ?, lease_until = ? WHERE id IN ("
        " SELECT id FROM feeds WHERE claimed_by = ? AND lease_until IS NOT NULL"
        f"{db.skip_locked})",
        held,
        held,
        owner,
    )


async def host_hold(db: Db, host: str, now: datetime) -> datetime | None:
    """Until when ``host`` asked us to wait (Retry-After), if it still does."""
    rows = await db.fetch(
        "SELECT hold_until FROM host_holds WHERE host = ? AND hold_until > ?", host, to_epoch(now)
    )
    return from_epoch(rows[0]["hold_until"]) if rows else None


async def hold_host(db: Db, host: str, until: datetime) -> None:
    """No feed of ``host`` is claimed, and no article of it fetched, before ``until``."""
    await db.execute(
        "INSERT INTO host_holds (host, hold_until) VALUES (?, ?) ON CONFLICT (host) DO UPDATE"
        f" SET hold_until = {db.greatest('host_holds.hold_until', 'excluded.hold_until')}",
        host,
        to_epoch(until),
    )


def _seconds(span: timedelta | None) -> float | None:
    return None if span is None else span.total_seconds()
