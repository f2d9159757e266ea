"""The callback URLs WebSub hubs call (``/websub/{token}``): ``GET`` verifies what we
asked for (the challenge back, 404 for anything else), ``POST`` pushes content. Signed
with the subscription's secret (``X-Hub-Signature: sha1|sha256|sha384|sha512=HEX``),
pushed content goes through the same ingest path as a poll's body; unsigned or wrongly
signed it is dropped, with a 2xx all the same, as the specification asks. The
subscriptions themselves are ``websub.Subscriber``'s.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
from collections.abc import Awaitable, Callable, Mapping
from datetime import datetime, timedelta

from aiohttp import web

from monitor.logs import feed_ids
from monitor.models import FeedState
from monitor.redact import without_userinfo
from monitor.store import StoreError
from monitor.store.protocols import Subscriptions
from monitor.websub import CALLBACK_PATH, DENIED_RETRY, renew_at

log = logging.getLogger(__name__)
SIGNATURE_HASHES: Mapping[str, Callable[..., hashlib._Hash]] = {
    "sha1": hashlib.sha1,
    "sha256": hashlib.sha256,
    "sha384": hashlib.sha384,
    "sha512": hashlib.sha512,
}
# What a push may carry at most when the configuration sets no smaller http.max_body.
PUSH_BODY_MAX = 15 * 1024 * 1024

# Takes pushed content for a feed; False: not now (shutting down), the hub should retry.
Ingest = Callable[[FeedState, bytes, Mapping[str, str]], Awaitable[bool]]


def signature_valid(secret: str, header: str | None, body: bytes) -> bool:
    """Whether ``X-Hub-Signature`` (``method=hex``) is the body's HMAC with ``secret``
    by one of the methods WebSub names."""
    if not header or "=" not in header:
        return False
    method, _, given = header.strip().partition("=")
    digest = SIGNATURE_HASHES.get(method.strip().lower())
    if digest is None:
        return False
    expected = hmac.new(secret.encode(), body, digest).hexdigest()
    return hmac.compare_digest(expected, given.strip().lower())


class PushEndpoint:
    """The callback URLs hubs call: ``GET`` verifies intent, ``POST`` pushes content."""

    def __init__(
        self,
        store: Subscriptions,
        clock: Callable[[], datetime],
        ingest: Ingest,
        default_lease: timedelta,
        max_body: int = PUSH_BODY_MAX,
    ) -> None:
        self.store = store
        self.clock = clock
        self.ingest = ingest
        self.default_lease = default_lease
        self.max_body = max_body

    def add_routes(self, app: web.Application) -> None:
        """Mount the callback under ``/websub/{token}``."""
        app.router.add_get(CALLBACK_PATH + "{token}", _store_guarded(self.verify))
        app.router.add_post(CALLBACK_PATH + "{token}", _store_guarded(self.receive))

    async def verify(self, request: web.Request) -> web.Response:
        """Confirm what we asked for (the challenge back), deny anything else (404)."""
        found = await self.store.subscribed_feed(request.match_info["token"])
        query = request.query
        mode, topic = query.get("hub.mode", ""), query.get("hub.topic", "")
        if found is None:
            return web.Response(status=404, text="no such subscription\n")
        subscription, feed = found
        ids = feed_ids(feed.id, feed.url)
        if topic != subscription.topic:
            log.warning("hub verification for an unknown topic %s refused", topic, extra=ids)
            return web.Response(status=404, text="unknown topic\n")
        now = self.clock()
        if mode == "denied":
            reason = query.get("hub.reason") or "no reason given"
            log.warning(
                "hub %s denied the subscription to %s: %s; polling it",
                without_userinfo(subscription.hub),
                topic,
                reason,
                extra=ids,
            )
            await self.store.subscription_denied(feed.id, reason, now + DENIED_RETRY)
            return web.Response(text="ok\n")
        challenge = query.get("hub.challenge")
        if not challenge:
            return web.Response(status=400, text="hub.challenge is missing\n")
        if mode == "subscribe" and subscription.state in ("requested", "active"):
            lease = _lease(query.get("hub.lease_seconds"), self.default_lease)
            await self.store.subscription_verified(feed.id, now + lease, renew_at(now, lease))
            log.info("%s is pushed by its hub for %s", feed.shown_url, lease, extra=ids)
            return web.Response(text=challenge)
        if mode == "unsubscribe" and subscription.state == "unsubscribing":
            await self.store.subscription_ended(feed.id)
            log.info("%s is no longer pushed by its hub", feed.shown_url, extra=ids)
            return web.Response(text=challenge)
        return web.Response(status=404, text=f"not asked to {mode or 'do that'}\n")

    async def receive(self, request: web.Request) -> web.Response:
        """Content a hub pushes: read at once when signed with the subscription's secret;
        dropped otherwise, answered 2xx all the same (so a forger learns nothing)."""
        found = await self.store.subscribed_feed(request.match_info["token"])
        if found is None:
            return web.Response(status=410, text="no such subscription\n")
        subscription, feed = found
        if subscription.state == "unsubscribing" or not feed.enabled:
            return web.Response(status=410, text="unsubscribed\n")
        ids = feed_ids(feed.id, feed.url)
        body = await self._body(request)
        if body is None:
            log.warning(
                "content pushed for %s is over %s bytes (http.max_body): dropped",
                feed.shown_url,
                self.max_body,
                extra=ids,
            )
            return web.Response(status=413, text="too large\n")
        signature = request.headers.get("X-Hub-Signature")
        if not signature_valid(subscription.secret, signature, body):
            log.warning(
                "content pushed for %s dropped: %s",
                feed.shown_url,
                "it is not signed" if not signature else "its signature is wrong",
                extra=ids,
            )
            return web.Response(status=202, text="ignored\n")
        headers = {key.lower(): value for key, value in request.headers.items()}
        if not await self.ingest(feed, body, headers):
            return web.Response(status=503, text="shutting down; try again\n")
        return web.Response(status=202, text="accepted\n")

    async def _body(self, request: web.Request) -> bytes | None:
        """The pushed body, read chunk by chunk up to ``max_body`` (None: over it)."""
        if (request.content_length or 0) > self.max_body:
            return None
        chunks: list[bytes] = []
        size = 0
        async for chunk in request.content.iter_chunked(64 * 1024):
            size += len(chunk)
            if size > self.max_body:
                return None
            chunks.append(chunk)
        return b"".join(chunks)


def _store_guarded(
    handler: Callable[[web.Request], Awaitable[web.Response]],
) -> Callable[[web.Request], Awaitable[web.Response]]:
    """A hub's call the store cannot answer now gets a 503: the hub tries again later."""

    async def guarded(request: web.Request) -> web.Response:
        try:
            return await handler(request)
        except StoreError as error:
            log.error("a hub's call could not be answered: %s", error)
            return web.Response(status=503, text="try again later\n")

    return guarded


def _lease(value: str | None, default: timedelta) -> timedelta:
    try:
        seconds = int(value or "")
    except ValueError:
        return default
    return timedelta(seconds=seconds) if seconds > 0 else default
