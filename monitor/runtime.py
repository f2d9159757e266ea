"""One configuration at work: its store, fetcher, workers, poller, relay and subscriber,
opened together and closed together, built from what ``wiring`` makes of the settings.

``run`` (the daemon), ``once`` and the CLI's read commands all open a Runtime; the
clock and the resolver are injected here so tests drive time and names themselves.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiohttp
from aiohttp.abc import AbstractResolver

from monitor.config import ConfigError, Settings, load_settings
from monitor.fetch import USER_AGENT, Fetcher
from monitor.lifecycle import AsyncResource
from monitor.models import FeedState
from monitor.notify.relay import Relay, RelayReport
from monitor.outcome import PollOutcome
from monitor.poll import Poller
from monitor.poll_days import PollDays
from monitor.progress import Steps
from monitor.seeds import default_seed_dir, load_seeds
from monitor.store import Store, StoreError
from monitor.websub import Subscriber
from monitor.wiring import feed_specs, fetch_limits, open_store, poll_settings, story_policy
from monitor.wiring.channels import build_channels
from monitor.wiring.watchlists import like_set, spread_rules, timings
from monitor.workers import WorkerPool

log = logging.getLogger(__name__)


def utc_now() -> datetime:
    """The real clock."""
    return datetime.now(UTC)


def default_instance_id() -> str:
    """``hostname:pid``: who holds a claim, in logs and in the store."""
    return f"{socket.gethostname()}:{os.getpid()}"


def configured_instance_id(settings: Settings) -> str:
    """This instance's id: ``cluster.instance_id`` when configured, else hostname:pid."""
    return settings.cluster.instance_id or default_instance_id()


@dataclass(frozen=True)
class OnceReport:
    """The result of ``once``: every poll and one relay pass."""

    polls: list[PollOutcome]
    relay: RelayReport

    @property
    def ok(self) -> bool:
        """No feed and no delivery failed."""
        return not self.relay.failed and all(poll.status != "failed" for poll in self.polls)


class Runtime(AsyncResource):
    """Everything one configuration needs, opened together and closed together."""

    def __init__(
        self,
        settings: Settings,
        *,
        clock: Callable[[], datetime] = utc_now,
        resolver: AbstractResolver | None = None,
        seed_dir: Path | None = None,
        instance_id: str | None = None,
    ) -> None:
        self.settings = settings
        self.clock = clock
        self.instance_id = instance_id or configured_instance_id(settings)
        self.store: Store = open_store(settings)
        self.fetcher = Fetcher(fetch_limits(settings.http), resolver)
        self.workers = WorkerPool()
        self.poller = Poller(self.store, self.fetcher, clock, self.workers)
        self.seed_dir = seed_dir if seed_dir is not None else default_seed_dir()
        self._notify_session: aiohttp.ClientSession | None = None
        self.relay = Relay(self.store, {}, clock, lease=settings.cluster.lease)
        # WebSub: on when web.public_url is set (fixed for the life of the process).
        push_url = settings.push_url
        self.subscriber = (
            None
            if push_url is None
            else Subscriber(self.store, self.fetcher, push_url, settings.websub.lease, clock)
        )
        self._resources: AsyncExitStack | None = None

    async def open(self) -> None:
        """Migrate the store, take the instance's place, load the seeds, sync the feeds,
        build the channels, start the workers.

        Each part is opened on one exit stack: when a step fails, what the earlier steps
        opened is closed again before the error propagates, so a failed start never
        leaves a thread or a worker process behind to hang the exit.
        """
        async with AsyncExitStack() as stack:
            await stack.enter_async_context(self.store)
            await self.store.start_instance(self.instance_id, self.clock())
            rekeyed = await self.store.rekey(self.clock())
            if rekeyed:
                log.info("%s stored item(s) re-keyed for the current story rules", rekeyed)
            spread = await self.store.spread_overdue_feeds(self.clock())
            if spread:
                log.info("%s overdue feed(s) spread over their intervals", spread)
            stack.push_async_callback(self.fetcher.close)
            stack.push_async_callback(self.workers.close)
            if self.seed_dir is not None:
                loaded = await load_seeds(self.store, self.seed_dir, self.clock())
                if loaded:
                    log.info("loaded %s seed item(s) from %s", loaded, self.seed_dir)
            self._notify_session = await stack.enter_async_context(
                aiohttp.ClientSession(headers={"User-Agent": USER_AGENT})
            )
            stack.push_async_callback(self._close_notifiers)
            await self.apply(self.settings)
            await self.workers.start()
            self._resources = stack.pop_all()

    async def apply(self, settings: Settings) -> None:
        """Take a (re)loaded configuration: feeds, watchlists and notifiers.

        HTTP limits and storage are fixed for the life of the process.
        """
        if settings.http != self.settings.http or settings.storage != self.settings.storage:
            log.warning("http: and storage: changes take effect after a restart")
        if settings.web != self.settings.web or settings.push_url != self.settings.push_url:
            log.warning("web: changes (public_url included) take effect after a restart")
        if self.subscriber is not None:
            self.subscriber.lease = settings.websub.lease
        assert self._notify_session is not None
        # First, as it may refuse the configuration (a like: sample not stored).
        likes = await like_set(settings, self.store)
        old_channels = self.relay.channels
        await self.store.sync_feeds(feed_specs(settings), self.clock())
        self.store.story_policy = story_policy(settings)
        self.store.spread_rules = spread_rules(settings)
        self.poller.configure(poll_settings(settings, likes))
        channels = build_channels(settings.active_notifiers(), self._notify_session, self.clock)
        # A notifier disabled by a 410 comes back when its settings (its URL) change.
        keys = {name: channel.settings_key for name, channel in channels.items()}
        for name in await self.store.sync_notifiers(keys):
            log.warning("notifier %s is enabled again: its settings changed", name)
        self.relay.configure(channels, timings(settings), settings.health.notify)
        for channel in old_channels.values():
            await channel.notifier.close()
        self.settings = settings.model_copy(
            update={
                "http": self.settings.http,
                "storage": self.settings.storage,
                "web": self.settings.web,
            }
        )

    async def reload(self, path: Path) -> bool:
        """Re-read the configuration file and apply it; keep the running one (and say
        why) when the new one is invalid."""
        try:
            settings = load_settings(path)
            await self.apply(settings)
        except ConfigError as error:
            log.error("reload refused, keeping the running configuration:\n%s", error)
            return False
        log.info(
            "configuration reloaded: %s feed(s), %s watchlist(s)",
            len(settings.feeds),
            len(settings.watchlists),
        )
        return True

    async def relearn_likes(self) -> None:
        """Weigh the ``like:`` watchlists' words by the items stored now (the store
        grows after the first polls; housekeeping calls this every hour)."""
        if not any(watchlist.like for watchlist in self.settings.watchlists):
            return
        try:
            likes = await like_set(self.settings, self.store)
        except ConfigError as error:
            log.error("like: watchlists keep their weights: %s", error)
            return
        self.poller.configure(poll_settings(self.settings, likes))

    async def _close_notifiers(self) -> None:
        for channel in self.relay.channels.values():
            await channel.notifier.close()

    async def close(self) -> None:
        """Close channels, the fetcher and the store; stop the worker processes."""
        resources, self._resources = self._resources, None
        if resources is not None:
            await resources.aclose()

    @property
    def lease(self) -> timedelta:
        """How long a claimed feed or message stays claimed without a renewal."""
        return self.settings.cluster.lease

    @property
    def renew_every(self) -> timedelta:
        """How often a live instance renews its leases: three times per lease, so one
        slow renewal never lets a lease lapse."""
        return self.lease / 3

    async def renew_leases(self) -> int:
        """Hold this instance's unfinished claims for another lease; how many."""
        return await self.store.extend_leases(self.clock(), self.lease)

    @contextlib.asynccontextmanager
    async def renewing_leases(self) -> AsyncIterator[None]:
        """Renew leases in the background while the body runs (for ``once``; the
        daemon renews them as one of its jobs)."""

        async def renew() -> None:
            while True:
                await asyncio.sleep(self.renew_every.total_seconds())
                try:
                    await self.renew_leases()
                except StoreError as error:
                    log.error("cannot renew leases: %s", error)

        task = asyncio.create_task(renew(), name="renew-leases")
        try:
            yield
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def poll_all(self, progress: Steps | None = None) -> list[PollOutcome]:
        """Poll every enabled feed now, whatever its schedule (the ``once`` command)."""
        feeds = await self.store.claim_due_feeds(
            self.clock(), 1_000_000, self.lease, all_feeds=True
        )
        if progress is not None:
            progress.start(len(feeds))

        async def poll(feed: FeedState) -> PollOutcome:
            outcome = await self.poller.poll(feed)
            if progress is not None:
                progress.step(f"{feed.shown_url} {outcome.status}")
            return outcome

        # All at once: the fetcher's limits and the worker pool pace them.
        return list(await asyncio.gather(*(poll(feed) for feed in feeds)))

    async def once(self, progress: Steps | None = None) -> OnceReport:
        """Poll every feed once, then deliver what is due."""
        async with self.renewing_leases():
            polls = await self.poll_all(progress)
            # Each feed's health over the days (the status page's strip): one write.
            counted = PollDays(self.clock)
            for outcome in polls:
                counted.add(outcome)
            try:
                await self.store.add_poll_days(counted.take())
            except StoreError as error:  # counts only: each feed's own state is stored
                log.warning("this pass's polls per day are not stored: %s", error)
            relay = await self.relay.deliver_due()
        return OnceReport(polls, relay)
