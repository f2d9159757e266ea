"""WebSub push (W3C WebSub): subscribe to the hubs feeds name, answer their
verifications, and read what they push at once.

A poll records the hub and topic a feed names (``feedlinks.websub_links``). With
``web.public_url`` set, the ``Subscriber`` asks each hub to push to
``{public_url}/websub/{token}``, with a secret of the subscription's own; it renews
before the lease the hub granted ends, and unsubscribes feeds that left the
configuration. The web side's ``push`` module answers the hubs' verifications and takes
what they push. Polling continues at
``websub.fallback_interval``, so nothing is lost when a hub falls silent.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import datetime, timedelta

from monitor.fetch import Fetcher, FetchError
from monitor.logs import feed_ids
from monitor.models import SubscriptionTask
from monitor.redact import without_userinfo
from monitor.store.protocols import Subscriptions

log = logging.getLogger(__name__)
CALLBACK_PATH = "/websub/"
# A hub that took a request verifies it within moments; one that has not after this
# long is asked again.
VERIFY_WAIT = timedelta(minutes=5)
RETRY_FIRST = timedelta(minutes=1)  # after a failed request, doubling up to RETRY_MAX
RETRY_MAX = timedelta(hours=6)
DENIED_RETRY = timedelta(days=1)
ASKING_AT_ONCE = 8  # requests to hubs in flight at once
RENEW_MARGIN = timedelta(days=1)  # renew this long before a lease ends (half a short one)


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
