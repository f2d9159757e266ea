"""The sitemaps of a sitemap index as last fetched: each one's validators and digest,
so the next poll asks for it conditionally and reads only those that changed. The
same SQL on both backends (see ``dialect``)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from monitor.models import PartState
from monitor.store.dialect import Db
from monitor.store.rows import to_epoch


async def parts_of(db: Db, feed_id: int) -> dict[str, PartState]:
    """A source's parts by URL."""
    rows = await db.fetch(
        "SELECT url, etag, last_modified, digest FROM sitemap_parts WHERE feed_id = ?", feed_id
    )
    return {
        row["url"]: PartState(row["url"], row["etag"], row["last_modified"], row["digest"])
        for row in rows
    }


async def replace_parts(db: Db, feed_id: int, parts: Sequence[PartState], now: datetime) -> None:
    """The source's parts are these now (the others are forgotten)."""
    await db.execute("DELETE FROM sitemap_parts WHERE feed_id = ?", feed_id)
    for part in parts:
        await db.execute(
            "INSERT INTO sitemap_parts (feed_id, url, etag, last_modified, digest, fetched_at)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            feed_id,
            part.url,
            part.etag,
            part.last_modified,
            part.digest,
            to_epoch(now),
        )
