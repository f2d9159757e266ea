"""The claim rule of both backends: work an instance claimed (a feed to poll, a message
to send) is finished only by the instance that holds the claim.

A write that finishes claimed work checks the claim first (so a stale instance learns
it lost the work before it writes anything), and its own UPDATE checks it again in its
WHERE clause: a claim that slipped in between changes no row, and ``finish`` then says
why. No lock is taken, so a stale writer never waits for a row another instance holds.
"""

from __future__ import annotations

from monitor.store.dialect import Db
from monitor.store.errors import LeaseLost

#: A delivery this instance may finish (the parameter is the owner): unclaimed, or its own.
DELIVERY_HELD = "(claimed_by IS NULL OR claimed_by = ?)"
#: A feed whose claim is the one the poll ran under (the parameter is that claim, or
#: None for a poll that ran unclaimed: ``once`` on a feed given by hand).
FEED_CLAIM_HOLDS = "claims = COALESCE(?, claims)"


def lease_lost_message(table: str, row_id: int, holder: str | None, owner: str | None) -> str:
    """Why a late write of claimed work is refused."""
    what = "feed" if table == "feeds" else "delivery"
    now_with = f"is held by {holder} now" if holder else "was claimed again since"
    return (
        f"{what} {row_id} {now_with}; the late result of {owner or 'this instance'}"
        " is dropped (its lease ran out)"
    )


def claim_refusal(
    table: str,
    row_id: int,
    current: tuple[str | None, int] | None,
    owner: str | None,
    claim: int | None = None,
) -> str | None:
    """Why a write finishing claimed work must be refused, or None when it may land.

    ``current`` is the row's (claimed_by, claims). With the ``claim`` the work ran
    under, any later claim refuses it (even one finished since); without, only a claim
    that another instance holds now does.
    """
    if current is None:
        return None
    holder, claims = current
    if claim is not None:
        if claims != claim:
            return lease_lost_message(table, row_id, holder, owner)
        return None
    if holder is not None and holder != owner:
        return lease_lost_message(table, row_id, holder, owner)
    return None


async def check_claim(
    db: Db, table: str, row_id: int, owner: str | None, claim: int | None = None
) -> None:
    """Refuse (LeaseLost) a write finishing work that was claimed again since."""
    claims = "claims" if table == "feeds" else "0"
    rows = await db.fetch(
        f"SELECT claimed_by, {claims} AS claims FROM {table} WHERE id = ?", row_id
    )
    current = None if not rows else (rows[0]["claimed_by"], rows[0]["claims"])
    refusal = claim_refusal(table, row_id, current, owner, claim)
    if refusal is not None:
        raise LeaseLost(refusal)


async def finish(
    db: Db, table: str, row_id: int, owner: str | None, claim: int | None, changed: int
) -> None:
    """After an UPDATE that finishes claimed work only where the claim still holds:
    when it changed no row, say why (LeaseLost), unless there was nothing to do."""
    if changed == 0:
        await check_claim(db, table, row_id, owner, claim)
