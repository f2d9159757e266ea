"""WebSub push (W3C WebSub): subscribe to the hubs feeds name, answer their
verifications, and read what they push at once.

A poll records the hub and topic a feed names (``feedlinks.websub_links``). With
``web.public_url`` set, the ``Subscriber`` asks each hub to push to
``{public_url}/websub/{token}``, with a secret of the subscription's own; it renews
before the lease the hub granted ends, and unsubscribes feeds that left the
configuration. The ``PushEndpoint`` on the web side answers the hub's verification
(echoing ``hub.challenge`` for what we asked, 404 for what we did not) and takes pushed
content: signed with the secret (``X-Hub-Signature: sha1|sha256|sha384|sha512=HEX``) it
goes through the same ingest path as a poll's body; unsigned or wrongly signed it is
dropped, with a 2xx all the same, as the specification asks. Polling continues at
``websub.fallback_interval``, so nothing is lost when a hub falls silent.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
from collections.abc import Awaitable, Callable, Mapping
from datetime import datetime, timedelta

from aiohttp import web

from monitor.fetch import Fetcher, FetchError
from monitor.logs import feed_ids
from monitor.models import FeedState, SubscriptionTask
from monitor.redact import without_userinfo
from monitor.store import StoreError
from monitor.store.protocols import Subscriptions

log = logging.getLogger(__name__)
SIGNATURE_HASHES: Mapping[str, Callable[..., hashlib._Hash]] = {
    "sha1": hashlib.sha1,
    "sha256": hashlib.sha256,
    "sha384": hashlib.sha384,
    "sha512": hashlib.sha512,
}
CALLBACK_PATH = "/websub/"
# A hub that took a request verifies it within moments; one that has not after this
# long is asked again.
VERIFY_WAIT = timedelta(minutes=5)
RETRY_FIRST = timedelta(minutes=1)  # after a failed request, doubling up to RETRY_MAX
RETRY_MAX = timedelta(hours=6)
DENIED_RETRY = timedelta(days=1)
ASKING_AT_ONCE = 8  # requests to hubs in flight at once
RENEW_MARGIN = timedelta(days=1)  # renew this long before a lease ends (half a short one)
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


def renew_at(now: datetime, lease: timedelta) -> datetime:
    """When to renew a lease granted at ``now``: a day before it ends, or halfway
    through one of two days or less."""
    return now + lease - min(RENEW_MARGIN, lease / 2)


def retry_delay(attempts: int) -> timedelta:
    """How long to wait after the ``attempts``-th failed request to a hub."""
    return min(RETRY_FIRST * (1 << min(max(attempts - 1, 0), 20)), RETRY_MAX)


class Subscriber:
    """Asks hubs to subscribe, renew and unsubscribe, one pass per ``maintain``."""

    def __init__(
        self,
        store: Subscriptions,
        fetcher: Fetcher,
        public_url: str,
        lease: timedelta,
        clock: Callable[[], datetime],
    ) -> None:
        self.store = store
        self.fetcher = fetcher
        self.public_url = public_url.rstrip("/")
        self.lease = lease
        self.clock = clock

    def callback(self, token: str) -> str:
        """The URL a hub calls for one subscription."""
        return f"{self.public_url}{CALLBACK_PATH}{token}"

    async def maintain(self) -> int:
        """Send the requests that are due, a few hubs at a time (a slow hub must not
        hold the others up); how many were sent."""
        tasks = await self.store.subscription_tasks(self.clock())
        slots = asyncio.Semaphore(ASKING_AT_ONCE)

        async def ask(task: SubscriptionTask) -> None:
            async with slots:
                await self.ask(task)

        await asyncio.gather(*(ask(task) for task in tasks))
        return len(tasks)

    async def ask(self, task: SubscriptionTask) -> bool:
        """One request to a hub; whether the hub took it (it verifies it afterwards)."""
        subscription = task.subscription
        form = {
            "hub.mode": task.action,
            "hub.topic": task.topic,
            "hub.callback": self.callback(subscription.token),
        }
        if task.action == "subscribe":
            form["hub.secret"] = subscription.secret
            form["hub.lease_seconds"] = str(int(self.lease.total_seconds()))
        now = self.clock()
        # Asked again if the hub never verifies: soon at first, then less and less often.
        unverified = max(VERIFY_WAIT, retry_delay(subscription.attempts + 1))
        await self.store.record_subscription_request(task, now, now + unverified)
        ids = feed_ids(subscription.feed_id, subscription.feed_url)
        hub = without_userinfo(task.hub)
        try:
            status, answer = await self.fetcher.post_form(task.hub, form)
        except FetchError as error:
            problem = str(error)
        else:
            if 200 <= status < 300:
                log.info("asked %s to %s %s", hub, task.action, task.topic, extra=ids)
                return True
            problem = f"HTTP {status}" + (f": {answer}" if answer else "")
        retry = retry_delay(subscription.attempts + 1)
        await self.store.subscription_request_failed(
            subscription.feed_id, f"{task.action}: {problem}", now + retry
        )
        log.warning(
            "hub %s refused to %s %s: %s; asking again in %s",
            hub,
            task.action,
            task.topic,
            problem,
            retry,
            extra=ids,
        )
        return False


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
