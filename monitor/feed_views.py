"""Feeds as people and programs read them: a line or a few for ``feeds``, JSON for
``feeds --json`` and the status page's API."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from monitor.models import FeedState, Subscription
from monitor.redact import without_userinfo
from monitor.views import SHOWN_CHARS, iso_utc, shortened

ARTICLE_DAYS = 7  # how far back ``feeds`` counts the articles read and not read


@dataclass(frozen=True, slots=True)
class ArticleCounts:
    """Of a feed's items first seen in the last ``ARTICLE_DAYS`` days: how many had their
    article tried, and how many of those could not be read (teasers and paywalls are
    read: the page said all it had)."""

    tried: int
    failed: int


def feed_state(feed: FeedState) -> str:
    """new, ok, failing, stale, gone or moved."""
    if feed.gone:
        return "gone"
    if feed.last_polled_at is None:
        return "new"
    if feed.error_count:
        return "failing"
    if feed.stale_since is not None:
        return "stale"
    return "moved" if feed.fetch_url else "ok"


def subscription_json(subscription: Subscription | None) -> dict[str, Any] | None:
    """A feed's WebSub subscription: its state, hub, lease and last error."""
    if subscription is None:
        return None
    return {
        "state": subscription.state,
        "hub": without_userinfo(subscription.hub),
        "topic": without_userinfo(subscription.topic),
        "lease_until": iso_utc(subscription.lease_until),
        "last_error": subscription.last_error,
    }


def subscription_line(subscription: Subscription) -> str:
    """A feed's WebSub subscription for a person."""
    hub = without_userinfo(subscription.hub)
    line = {
        "active": f"pushed by {hub} until {iso_utc(subscription.lease_until)}",
        "requested": f"push asked of {hub}, not verified yet",
        "denied": f"push DENIED by {hub}",
        "unsubscribing": f"push being cancelled at {hub}",
    }.get(subscription.state, f"push {subscription.state} at {hub}")
    if subscription.last_error:
        line += f" (last: {subscription.last_error})"
    return line


def feed_json(
    feed: FeedState,
    subscription: Subscription | None = None,
    articles: ArticleCounts | None = None,
) -> dict[str, Any]:
    """A feed's schedule and health (and its WebSub subscription and how reading its
    articles went, when given)."""
    shown = {
        "url": feed.shown_url,
        "name": feed.name,
        "title": feed.title,
        "state": feed_state(feed),
        "polled_url": without_userinfo(feed.poll_url),
        "baselined": feed.baselined,
        "last_polled_at": iso_utc(feed.last_polled_at),
        "last_status": feed.last_status,
        "next_poll_at": iso_utc(feed.next_poll_at),
        "next_poll_reason": feed.poll_reason,
        "error_count": feed.error_count,
        "last_error": feed.last_error,
        "last_new_item_at": iso_utc(feed.last_new_item_at),
        "claimed_by": feed.claimed_by,
        "lease_until": iso_utc(feed.lease_until),
        "type": feed.kind,
        "hub": None if feed.hub is None else without_userinfo(feed.hub),
        "pushed_until": iso_utc(feed.push_until),
        "websub": subscription_json(subscription),
    }
    if articles is not None:
        shown["fulltext"] = {
            "days": ARTICLE_DAYS,
            "tried": articles.tried,
            "failed": articles.failed,
        }
    return shown


def feed_line(
    feed: FeedState,
    subscription: Subscription | None = None,
    articles: ArticleCounts | None = None,
) -> str:
    """One feed for a person: health first, then when it was and will be polled, and why
    (and how a hub pushes it, and how reading its articles went, when given)."""
    state = feed_state(feed)
    # Quiet words for the usual states, capitals for the ones that need a look.
    if state == "failing":
        health = f"FAILING x{feed.error_count}"
    else:
        health = state if state in ("ok", "new") else state.upper()
    why = f" ({feed.poll_reason})" if feed.poll_reason else ""
    next_poll = "never (410 Gone)" if feed.gone else f"{iso_utc(feed.next_poll_at)}{why}"
    name = shortened(feed.display_name, SHOWN_CHARS)
    polled = iso_utc(feed.last_polled_at) or "never"
    line = f"{health:<12} {name}  (polled {polled}, next {next_poll})"
    if feed.name or feed.title:
        line += f"\n             {feed.shown_url}"
    if feed.fetch_url:
        line += f"\n             moved to {without_userinfo(feed.fetch_url)}"
    if feed.last_error:
        line += f"\n             last error: {feed.last_error}"
    if feed.claimed_by:
        line += f"\n             being polled by {feed.claimed_by}"
    if feed.kind != "feed":
        line += f"\n             read as {'a sitemap' if feed.kind == 'sitemap' else 'a page'}"
    if subscription is not None:
        line += f"\n             {subscription_line(subscription)}"
    elif feed.push_until is not None:
        line += f"\n             pushed by {feed.hub} until {iso_utc(feed.push_until)}"
    if articles is not None and articles.tried:
        failed = f"{articles.failed} of {articles.tried}"
        line += f"\n             full text: {failed} article(s) not read in {ARTICLE_DAYS} days"
    return line
