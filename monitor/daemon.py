"""The daemon: periodic jobs on APScheduler 3, signals, graceful shutdown, reload.

Jobs: *dispatch* claims due feeds (their ``next_poll_at`` lives in the store, so a
restart neither re-polls early nor forgets) and polls them as tasks; *relay* sends due
deliveries; *store-health* makes sure the database is still the one we opened;
*housekeeping* tidies the store; *poll-days* stores each feed's polls per day (its
health over time, counted in memory); *leases* renews the claims of work in flight;
*websub* (with ``web.public_url``) subscribes to hubs and renews the subscriptions. Each
job runs with ``coalesce`` and ``max_instances=1``: a slow tick is never stacked behind
another.
"""

from __future__ import annotations

import asyncio
import logging
import signal
import time
from collections.abc import Awaitable, Callable, Coroutine, Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from monitor.jobs import JobFailures
from monitor.logs import feed_ids
from monitor.models import FeedState
from monitor.outcome import RecentPolls
from monitor.poll_days import PollDays
from monitor.runtime import Runtime
from monitor.store import StoreError
from monitor.web import WebSide
from monitor.web.metrics import Metrics
from monitor.web.push import PushEndpoint
from monitor.web.search import Query
from monitor.wiring.watchlists import feed_labels, query_watchlist

log = logging.getLogger(__name__)
# A due feed waits at most a second; each tick is one indexed query.
DISPATCH_EVERY = timedelta(seconds=1)
SHARED_DISPATCH_EVERY = timedelta(seconds=0.25)
DISPATCH_JITTER = timedelta(seconds=0.2)
RELAY_EVERY = timedelta(seconds=2)
HOUSEKEEPING_EVERY = timedelta(hours=1)
# Polls counted per feed and day are stored this often (a crash loses at most this).
POLL_DAYS_EVERY = timedelta(minutes=5)
PUSH_DEADLINE = timedelta(seconds=8)
STORE_HEALTH_EVERY = timedelta(seconds=30)
WEBSUB_EVERY = timedelta(seconds=10)  # one indexed query when nothing is due
SHUTDOWN_GRACE = timedelta(seconds=8)  # inside the 10 s that SIGTERM promises


class Daemon:
    """Runs a Runtime until told to stop."""

    def __init__(self, runtime: Runtime, config_path: Path | None = None) -> None:
        self.runtime = runtime
        self.config_path = config_path
        self.stopping = asyncio.Event()
        self.in_flight: set[asyncio.Task[object]] = set()
        self.lanes: set[str] = set()  # notifiers whose lane is sending now
        self.scheduler = AsyncIOScheduler(timezone=UTC)
        self.store_problem: str | None = None
        self.metrics = Metrics()
        self.recent_polls = RecentPolls(self.runtime.clock)  # for each feed's page
        self.poll_days = PollDays(self.runtime.clock)  # each feed's health over the days
        self.web: WebSide | None = None
        # Claim at most this fraction of the poll slots per tick (1: all free ones).
        self.claim_share = 1
        self.websub_every = WEBSUB_EVERY
        # How long a hub's push may wait for the store before it is asked to retry (hubs
        # give up on a callback after some seconds).
        self.push_deadline = PUSH_DEADLINE.total_seconds()
        # How long shutdown waits for work in flight before cancelling it.
        self.grace = SHUTDOWN_GRACE.total_seconds()
        self.failures = JobFailures()

    @property
    def ready(self) -> bool:
        """Running, not shutting down, and the store is sound (for a readiness probe)."""
        return self.scheduler.running and not self.stopping.is_set() and not self.store_problem

    async def dispatch(self) -> None:
        """Claim as many due feeds as there are free slots (a share of them when the
        database is shared), and poll each in a task."""
        if self.stopping.is_set():
            return
        concurrency = self.runtime.settings.http.concurrency
        # A poll waiting for its articles gives its slot back (their requests still go
        # through the fetcher's limits), so articles never delay other feeds' polls; at
        # most as many again wait so.
        waiting = min(self.runtime.poller.articles.reading, concurrency)
        busy = len(self.in_flight) - waiting
        free = min(concurrency - busy, max(1, concurrency // self.claim_share))
        if free <= 0:
            return
        now = self.runtime.clock()
        feeds = await self.runtime.store.claim_due_feeds(now, free, self.runtime.lease)
        for feed in feeds:
            self.metrics.dispatched((now - feed.next_poll_at).total_seconds())
            self._start(self._poll(feed))

    async def _poll(self, feed: FeedState) -> None:
        started = time.perf_counter()
        outcome = await self.runtime.poller.poll(feed)
        spent = time.perf_counter() - started
        self.metrics.polled(outcome, spent)
        self.recent_polls.add(outcome, spent)
        self.poll_days.add(outcome)
        log.debug(
            "polled %s: %s", feed.shown_url, outcome.status, extra=feed_ids(feed.id, feed.url)
        )
        if outcome.deliveries and not self.stopping.is_set():
            self._wake_relay()
        if outcome.new_hub and not self.stopping.is_set():
            self._wake("websub")  # subscribe now, not at the job's next turn

    async def pushed(self, feed: FeedState, body: bytes, headers: Mapping[str, str]) -> bool:
        """A hub pushed content: store it before the hub has its answer (hubs do not send
        a 2xx'd push again), then send what it alerts at once. False (the hub is told to
        try again) once shutdown has begun, or when the store cannot take it within
        ``push_deadline``: the content is not lost with this process."""
        if self.stopping.is_set():
            return False
        started = time.perf_counter()
        try:
            async with asyncio.timeout(self.push_deadline):
                outcome = await self.runtime.poller.push(feed, body, headers)
        except TimeoutError:
            log.warning(
                "content pushed for %s not stored within %ss: the hub is asked to retry",
                feed.shown_url,
                self.push_deadline,
            )
            return False
        except StoreError as error:
            log.error("content pushed for %s not stored: %s", feed.shown_url, error)
            return False
        except Exception:  # a bug on one push must not pass unseen; the poll still comes
            log.exception("internal error while reading content pushed for %s", feed.shown_url)
            return False
        spent = time.perf_counter() - started
        self.metrics.polled(outcome, spent)
        self.recent_polls.add(outcome, spent)
        self.poll_days.add(outcome)
        if outcome.deliveries and not self.stopping.is_set():
            self._wake_relay()
        return True

    async def websub(self) -> None:
        """Subscribe to hubs, renew subscriptions, unsubscribe removed feeds."""
        subscriber = self.runtime.subscriber
        if subscriber is None:
            return
        try:
            await subscriber.maintain()
        except StoreError as error:
            log.error("cannot maintain WebSub subscriptions: %s", error)

    def _start(self, work: Coroutine[object, object, object]) -> None:
        task = asyncio.create_task(work)
        self.in_flight.add(task)
        task.add_done_callback(self.in_flight.discard)

    def _wake_relay(self) -> None:
        # The job only starts the lanes that are not running (a lane under way claims
        # new deliveries itself): waking it is cheap.
        self._wake("relay")

    def _wake(self, name: str) -> None:
        """Run a job now rather than at its next turn."""
        job = self.scheduler.get_job(name)
        if job is not None:
            job.modify(next_run_time=datetime.now(UTC))

    async def relay(self) -> None:
        """Start a lane for each notifier that has messages due and none running: the
        lanes send apart (a slow receiver never holds a fast one) and stop between
        batches once shutdown begins."""
        if self.stopping.is_set():
            return
        for name in await self.runtime.store.due_notifiers(self.runtime.clock()):
            if name not in self.lanes:
                self.lanes.add(name)
                self._start(self._lane(name))

    async def _lane(self, name: str) -> None:
        job = f"relay to {name}"
        try:
            report = await self.runtime.relay.drain(name, self.stopping.is_set)
        except Exception as error:  # said once per change (JobFailures); retried next tick
            self.failures.failed(job, error)
        else:
            self.failures.succeeded(job)
            self.metrics.relayed(report)
        finally:
            self.lanes.discard(name)

    async def check_store(self) -> bool:
        """Check that the store is still usable; say so loudly, every time, when not."""
        try:
            await self.runtime.store.check_health()
        except StoreError as error:
            self.store_problem = str(error)
            log.critical("%s", error)
            return False
        if self.store_problem:
            log.warning("the store is sound again")
        self.store_problem = None
        return True

    async def renew_leases(self) -> None:
        """Hold the feeds and messages this instance is working on for another lease,
        so that no other instance takes them while it lives."""
        try:
            await self.runtime.renew_leases()
        except StoreError as error:
            log.error("cannot renew leases: %s", error)

    async def housekeeping(self) -> None:
        """Keep the store compact (when it is still the store we opened), and weigh the
        like: watchlists' words by what it holds now."""
        if await self.check_store():
            await self.runtime.store.housekeeping(self.runtime.clock())
            await self.runtime.relearn_likes()

    async def save_poll_days(self) -> None:
        """Hand the polls counted since the last turn to the store; when it cannot take
        them, they are kept for the next turn."""
        days = self.poll_days.take()
        try:
            await self.runtime.store.add_poll_days(days)
        except BaseException:
            self.poll_days.give_back(days)
            raise

    async def reload(self) -> None:
        """Re-read the configuration; keep the running one when the new one is invalid."""
        if self.config_path is not None:
            await self.runtime.reload(self.config_path)

    def _add_job(
        self,
        name: str,
        job: Callable[[], Awaitable[None]],
        every: timedelta,
        jitter: timedelta | None = None,
        *,
        start_now: bool = True,
    ) -> None:
        async def tracked() -> None:
            # Counted as in flight, so shutdown waits for a tick that is under way.
            task = asyncio.current_task()
            assert task is not None
            self.in_flight.add(task)
            try:
                await job()
            except asyncio.CancelledError:
                if not self.stopping.is_set():
                    raise
                # Cut off at the end of the grace period: _drain says so in one line,
                # where APScheduler would log a traceback for each job.
            except Exception as error:  # said once per change (JobFailures), not per tick
                self.failures.failed(name, error)
            else:
                self.failures.succeeded(name)
            finally:
                self.in_flight.discard(task)

        self.scheduler.add_job(
            tracked,
            "interval",
            seconds=every.total_seconds(),
            id=name,
            name=name,
            coalesce=True,
            max_instances=1,
            misfire_grace_time=None,
            jitter=None if jitter is None else jitter.total_seconds(),
            # Most jobs run at once; a job that saves what others gathered waits a turn.
            next_run_time=datetime.now(UTC) if start_now else datetime.now(UTC) + every,
        )

    async def _check_store_job(self) -> None:
        await self.check_store()

    def install_signal_handlers(self) -> None:
        """SIGTERM/SIGINT stop; SIGHUP reloads."""
        loop = asyncio.get_running_loop()
        loop.add_signal_handler(signal.SIGTERM, self.stop)
        loop.add_signal_handler(signal.SIGINT, self.stop)
        loop.add_signal_handler(signal.SIGHUP, lambda: self._start(self.reload()))

    def stop(self) -> None:
        """Stop claiming work; what is in flight gets the grace period to finish."""
        if not self.stopping.is_set():
            log.info("stopping: finishing work in flight")
        self.stopping.set()

    async def run(self) -> None:
        """Run the jobs until ``stop``; then drain in-flight work and return."""
        if self.runtime.settings.uses_postgresql:
            # Instances sharing a database would otherwise tick together, and the first
            # to tick would take every feed that fell due (feeds fall due in bursts: all
            # of them at the first start). Short ticks, a random delay on each, and a
            # quarter of the slots per tick make each burst a draw between instances.
            self.claim_share = 4
            self._add_job("dispatch", self.dispatch, SHARED_DISPATCH_EVERY, DISPATCH_JITTER)
        else:
            self._add_job("dispatch", self.dispatch, DISPATCH_EVERY)
        self._add_job("relay", self.relay, RELAY_EVERY)
        self._add_job("store-health", self._check_store_job, STORE_HEALTH_EVERY)
        self._add_job("housekeeping", self.housekeeping, HOUSEKEEPING_EVERY)
        self._add_job("poll-days", self.save_poll_days, POLL_DAYS_EVERY, start_now=False)
        self._add_job("leases", self.renew_leases, self.runtime.renew_every)
        if self.runtime.subscriber is not None:
            self._add_job("websub", self.websub, self.websub_every)
        if self.stopping.is_set():  # asked to stop while starting: nothing to run
            return
        # The web side first: a port already taken stops the start before any work.
        await self._start_web()
        self.scheduler.start()
        log.info("running: %s feed(s)", len(await self.runtime.store.feeds()))
        try:
            await self.stopping.wait()
        finally:
            if self.web is not None:
                await self.web.stop()
        # Pause, drain, and only then shut down: APScheduler 3's asyncio executor cancels
        # the jobs still running when it shuts down, which would cut a send in half and
        # send it again after the restart.
        self.scheduler.pause()
        await self._drain()
        self.scheduler.shutdown(wait=False)
        try:
            await self.save_poll_days()
        except StoreError as error:  # counts only: the feeds' own state is stored
            log.warning("polls counted since the last save are lost: %s", error)

    async def _start_web(self) -> None:
        settings = self.runtime.settings.web
        if settings is None or not settings.enabled:
            return
        self.web = WebSide(
            self.runtime.store,
            self.metrics,
            lambda: self.ready,
            self.runtime.clock,
            lambda: [watchlist.name for watchlist in self.runtime.settings.watchlists],
            settings.token,
            self._push_endpoint(),
            self._query,
            self.recent_polls,
            self.poll_days,
        )
        await self.web.start(settings.listen)
        log.info("status page and metrics on http://%s/", settings.listen)

    def _query(self, text: str) -> Query:
        """A search of the status page's API, read with the running configuration."""
        settings = self.runtime.settings
        return Query(query_watchlist(settings, text), feed_labels(settings))

    def _push_endpoint(self) -> PushEndpoint | None:
        if self.runtime.subscriber is None:
            return None
        settings = self.runtime.settings
        return PushEndpoint(
            self.runtime.store,
            self.runtime.clock,
            self.pushed,
            settings.websub.lease,
            settings.http.max_body,
        )

    async def _drain(self) -> None:
        if not self.in_flight:
            return
        _, pending = await asyncio.wait(set(self.in_flight), timeout=self.grace)
        for task in pending:
            task.cancel()
        if pending:
            # Cancelled polls and sends keep their lease; they are retried once it ends.
            log.warning("stopped %s unfinished task(s); they will be retried", len(pending))
            await asyncio.wait(pending, timeout=1)
