"""The daemon as a real process: polls on schedule, delivers, reloads, stops on signals."""

from __future__ import annotations

import asyncio
import signal
import sqlite3
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest
from aiohttp import web

from testbed.builders import Entry, rss
from tests.support.commands import cli
from tests.support.daemons import Daemon, Launcher
from tests.support.servers import FeedServer, Receiver

ROOT = Path(__file__).resolve().parents[1]
TRUCE = Entry(title="Karabakh ceasefire agreed", guid="t1", link="https://n.example/t1")


def write_config(path: Path, feed_url: str, hook_url: str, extra: str = "") -> None:
    path.write_text(
        f"""storage: sqlite:///{path.parent / "monitor.db"}
defaults: {{fulltext: off, interval: 1h, baseline: false}}
http: {{allow_private_networks: true, timeout: 30s}}
feeds:
  - url: {feed_url}
notifiers:
  ops: {{type: webhook, url: "{hook_url}"}}
watchlists:
  - {{name: karabakh, any: [Karabakh]}}
{extra}"""
    )


async def deliver_once(
    launcher: Launcher, feeds: FeedServer, receiver: Receiver, tmp_path: Path
) -> tuple[Path, Daemon]:
    """A daemon on one feed with one matching entry, once it has sent its alert."""
    feeds.serve("/feed.xml", rss([TRUCE]))
    config = tmp_path / "monitor.yaml"
    write_config(config, feeds.url("/feed.xml"), receiver.url())
    daemon = await launcher.start(config)
    await daemon.wait_for(lambda: len(receiver.requests) == 1)
    return config, daemon


@pytest.mark.integration
async def test_run_delivers_then_stops_cleanly_on_sigterm(
    feeds: FeedServer, receiver: Receiver, tmp_path: Path, launcher: Launcher
) -> None:
    _, daemon = await deliver_once(launcher, feeds, receiver, tmp_path)
    code, took = await daemon.stop()
    assert code == 0
    assert took < 10
    assert "stopping" in daemon.log
    assert len(feeds.hits["/feed.xml"]) == 1


@pytest.mark.slow
@pytest.mark.integration
async def test_a_restart_neither_repolls_early_nor_realerts(
    feeds: FeedServer, receiver: Receiver, tmp_path: Path, launcher: Launcher
) -> None:
    config, first = await deliver_once(launcher, feeds, receiver, tmp_path)
    assert (await first.stop(signal.SIGINT))[0] == 0
    second = await launcher.start(config)
    await second.wait_for(lambda: "running: 1 feed(s)" in second.log)
    await asyncio.sleep(6)  # longer than a dispatch tick
    assert (await second.stop())[0] == 0
    assert len(feeds.hits["/feed.xml"]) == 1
    assert len(receiver.requests) == 1


@pytest.mark.integration
async def test_sighup_reloads_and_an_invalid_file_keeps_the_running_config(
    feeds: FeedServer, receiver: Receiver, tmp_path: Path, launcher: Launcher
) -> None:
    config, daemon = await deliver_once(launcher, feeds, receiver, tmp_path)
    config.write_text(config.read_text() + "  - {name: broken, any: [x], notify: [nope]}\n")
    daemon.process.send_signal(signal.SIGHUP)
    await daemon.wait_for(lambda: "reload refused" in daemon.log)
    assert "unknown notifier 'nope'" in daemon.log
    secret_slack = "  newsroom: {type: slack, url: hooks.slack.com/services/T0/B0/SECRETtoken}\n"
    config.write_text(config.read_text().replace("notifiers:\n", "notifiers:\n" + secret_slack))
    refusals = daemon.log.count("reload refused")
    daemon.process.send_signal(signal.SIGHUP)
    await daemon.wait_for(lambda: daemon.log.count("reload refused") > refusals)
    assert "expected an http(s) URL" in daemon.log
    assert "SECRETtoken" not in daemon.log
    write_config(config, feeds.url("/feed.xml"), receiver.url(), "  - {name: b, any: [y]}\n")
    daemon.process.send_signal(signal.SIGHUP)
    await daemon.wait_for(lambda: "configuration reloaded: 1 feed(s), 2 watchlist(s)" in daemon.log)
    assert daemon.process.returncode is None
    assert (await daemon.stop())[0] == 0


@pytest.mark.integration
async def test_reload_command_signals_the_daemon_through_its_pid_file(
    feeds: FeedServer, receiver: Receiver, tmp_path: Path, launcher: Launcher
) -> None:
    code, _, err = await cli("reload", "-c", str(tmp_path / "none.yaml"), cwd=tmp_path)
    assert code == 2  # no such file: a configuration error, nothing signalled
    config, daemon = await deliver_once(launcher, feeds, receiver, tmp_path)
    pid_file = tmp_path / "monitor.db.pid"
    assert pid_file.read_text().strip() == str(daemon.process.pid)
    good = config.read_text()
    config.write_text(good + "  - {name: broken, any: [x], notify: [nope]}\n")
    code, _, err = await cli("reload", "-c", str(config), cwd=tmp_path)
    assert code == 2 and "unknown notifier 'nope'" in err  # refused before any signal
    assert "reload" not in daemon.log
    config.write_text(good + "  - {name: second, any: [y]}\n")
    code, out, _ = await cli("reload", "-c", str(config), cwd=tmp_path)
    assert code == 0 and f"pid {daemon.process.pid}" in out
    await daemon.wait_for(lambda: "configuration reloaded: 1 feed(s), 2 watchlist(s)" in daemon.log)
    assert (await daemon.stop())[0] == 0
    assert not pid_file.exists()
    code, _, err = await cli("reload", "-c", str(config), cwd=tmp_path)
    assert code == 1 and "no daemon is running" in err


@pytest.mark.slow
@pytest.mark.integration
async def test_sigterm_during_a_hanging_poll_exits_within_ten_seconds(
    feeds: FeedServer, receiver: Receiver, tmp_path: Path, launcher: Launcher
) -> None:
    arrived = asyncio.Event()

    async def hang(request: web.Request) -> web.Response:
        arrived.set()
        await asyncio.sleep(60)
        return web.Response(text="late")

    feeds.handle("/feed.xml", hang)
    config = tmp_path / "monitor.yaml"
    write_config(config, feeds.url("/feed.xml"), receiver.url())
    daemon = await launcher.start(config)
    await asyncio.wait_for(arrived.wait(), timeout=20)
    code, took = await daemon.stop()
    assert code == 0
    assert took < 10
    with sqlite3.connect(tmp_path / "monitor.db") as db:
        (count,) = db.execute("SELECT COUNT(*) FROM feeds WHERE kind = 'feed'").fetchone()
    assert count == 1


@pytest.mark.integration
async def test_a_send_in_flight_at_a_crash_is_sent_again_promptly_with_the_same_id(
    feeds: FeedServer, receiver: Receiver, tmp_path: Path, launcher: Launcher
) -> None:
    receiver.answers.append(120.0)  # the first request hangs: the send is in flight
    feeds.serve("/feed.xml", rss([TRUCE]))
    config = tmp_path / "monitor.yaml"
    write_config(config, feeds.url("/feed.xml"), receiver.url())
    crashed = await launcher.start(config)
    await crashed.wait_for(lambda: len(receiver.requests) == 1)
    crashed.process.kill()  # SIGKILL mid-send
    await crashed.process.wait()
    restarted_at = time.monotonic()
    restarted = await launcher.start(config)
    await restarted.wait_for(lambda: len(receiver.requests) == 2)
    # Taken back at start, not after the ten-minute lease.
    assert time.monotonic() - restarted_at < 20
    first, second = (headers for headers, _ in receiver.requests)
    assert first["webhook-id"] == second["webhook-id"]
    assert (await restarted.stop())[0] == 0
    assert len(feeds.hits["/feed.xml"]) == 1  # the feed itself was not polled again


async def test_a_database_deleted_under_the_daemon_is_reported_and_not_ready(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    from monitor.config import parse_settings
    from monitor.daemon import Daemon as RealDaemon
    from monitor.runtime import Runtime

    path = tmp_path / "monitor.db"
    settings = parse_settings(f"storage: sqlite:///{path}\n", "t.yaml", {})
    async with Runtime(settings) as runtime:
        daemon = RealDaemon(runtime)
        daemon.scheduler.start(paused=True)
        try:
            assert await daemon.check_store()
            assert daemon.ready
            path.unlink()
            await daemon.housekeeping()
            assert not daemon.ready
            assert any(
                record.levelname == "CRITICAL" and "was deleted or replaced" in record.message
                for record in caplog.records
            )
        finally:
            daemon.scheduler.shutdown(wait=False)


@pytest.mark.integration
async def test_a_second_daemon_on_the_same_database_exits_with_the_reason(
    feeds: FeedServer, receiver: Receiver, tmp_path: Path, launcher: Launcher
) -> None:
    # It fails after opening the store: it must still close it and exit, with the
    # reason, and leave the first one running.
    _, first = await deliver_once(launcher, feeds, receiver, tmp_path)
    code, _, err = await cli("once", "-c", str(tmp_path / "monitor.yaml"), cwd=tmp_path)
    assert code == 1
    assert err.startswith("error: another news-monitor (")
    assert "is already running on" in err and "Traceback" not in err
    assert first.process.returncode is None
    assert (await first.stop())[0] == 0


def test_a_job_that_keeps_failing_is_said_once_until_it_changes(
    caplog: pytest.LogCaptureFixture,
) -> None:
    from monitor.jobs import JobFailures
    from monitor.store import StoreError

    failures = JobFailures()
    for _ in range(50):
        failures.failed("dispatch", StoreError("database monitor.db: disk I/O error"))
    failures.failed("dispatch", StoreError("database monitor.db: database or disk is full"))
    failures.failed("relay", ValueError("a bug"))
    failures.failed("relay", ValueError("a bug"))
    failures.succeeded("dispatch")
    failures.succeeded("dispatch")
    said = [(record.levelname, record.getMessage()) for record in caplog.records]
    assert said == [
        (
            "ERROR",
            "dispatch: the store cannot be used: database monitor.db: disk I/O error"
            " (said once until it changes)",
        ),
        (
            "ERROR",
            "dispatch: the store cannot be used: database monitor.db: database or disk"
            " is full (said once until it changes)",
        ),
        ("ERROR", "relay failed (said once until it changes)"),
        ("WARNING", "dispatch works again, after 51 failed run(s)"),
    ]
    assert caplog.records[2].exc_info is not None  # a bug keeps its traceback, once


async def test_an_outage_of_the_store_is_one_line_per_job_not_one_per_tick(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    from monitor.config import parse_settings
    from monitor.daemon import Daemon as RealDaemon
    from monitor.runtime import Runtime

    settings = parse_settings(f"storage: sqlite:///{tmp_path / 'm.db'}\n", "t.yaml", {})
    async with Runtime(settings) as runtime:
        daemon = RealDaemon(runtime)
        running = asyncio.create_task(daemon.run())
        await asyncio.sleep(0.3)
        await runtime.store.close()  # every use of the store fails from here on
        caplog.clear()
        await asyncio.sleep(4.5)  # dispatch ticks every second, the relay every two
        daemon.stop()
        await asyncio.wait_for(running, 15)
    lines = [record for record in caplog.records if record.levelno >= 40]
    jobs = {record.getMessage().split(":", 1)[0] for record in lines}
    assert len(lines) == len(jobs) <= 4, [record.getMessage() for record in lines]
    assert not any(record.exc_info for record in lines)


async def test_polls_counted_per_day_are_stored_by_the_job_and_at_shutdown(
    feeds: FeedServer, tmp_path: Path
) -> None:
    from monitor.config import parse_settings
    from monitor.daemon import Daemon as RealDaemon
    from monitor.runtime import Runtime

    feeds.serve("/feed.xml", rss([TRUCE]))
    config = tmp_path / "monitor.yaml"
    write_config(config, feeds.url("/feed.xml"), "http://127.0.0.1:9/hook")
    settings = parse_settings(config.read_text(), str(config), {})
    async with Runtime(settings) as runtime:
        daemon = RealDaemon(runtime)
        running = asyncio.create_task(daemon.run())
        await until(lambda: len(feeds.hits.get("/feed.xml", ())) == 1, 15)
        await until(lambda: bool(daemon.poll_days.pending), 5)
        await daemon.save_poll_days()  # the job's turn
        (day,) = await runtime.store.poll_days(runtime.clock())
        assert (day.polls, day.failures) == (1, 0)
        # A push counts as a poll too; what is counted after the job's last turn is
        # stored at shutdown.
        (feed,) = await runtime.store.feeds()
        assert await daemon.pushed(feed, rss([TRUCE]).encode(), {})
        daemon.stop()
        await asyncio.wait_for(running, 15)
        (day,) = await runtime.store.poll_days(runtime.clock())
        assert (day.polls, day.failures) == (2, 0) and not daemon.poll_days.pending


async def test_a_job_cut_off_at_shutdown_is_one_warning_not_a_traceback(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    from monitor.config import parse_settings
    from monitor.daemon import Daemon as RealDaemon
    from monitor.runtime import Runtime

    settings = parse_settings(f"storage: sqlite:///{tmp_path / 'm.db'}\n", "t.yaml", {})
    stuck = asyncio.Event()
    async with Runtime(settings) as runtime:
        daemon = RealDaemon(runtime)
        daemon.grace = 0.5

        async def hang() -> None:
            stuck.set()
            await asyncio.sleep(60)

        daemon._add_job("stuck", hang, timedelta(hours=1))
        running = asyncio.create_task(daemon.run())
        await asyncio.wait_for(stuck.wait(), 10)
        caplog.clear()
        daemon.stop()
        await asyncio.wait_for(running, 10)
    said = [(record.levelname, record.getMessage()) for record in caplog.records]
    assert ("WARNING", "stopped 1 unfinished task(s); they will be retried") in said, said
    assert not any(record.exc_info for record in caplog.records), said
    assert not any(level == "ERROR" for level, _ in said), said


async def until(condition: Callable[[], bool], within: float) -> None:
    """Wait for ``condition``, at most ``within`` seconds (then fail, saying so)."""
    deadline = time.monotonic() + within
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"not reached within {within} s")
        await asyncio.sleep(0.05)


async def test_a_slow_receiver_never_holds_a_fast_one(feeds: FeedServer, tmp_path: Path) -> None:
    """Receivers are independent: while one takes 3 s an alert, the other gets each new
    alert at once, not after the slow one's queue has drained."""
    from aiohttp.test_utils import TestServer

    from monitor.config import parse_settings
    from monitor.daemon import Daemon as RealDaemon
    from monitor.runtime import Runtime

    arrived: dict[str, list[tuple[str, float]]] = {"fast": [], "slow": []}

    def receiver(name: str, delay: float) -> web.Application:
        async def hook(request: web.Request) -> web.Response:
            guid = (await request.json())["item"]["id"]
            await asyncio.sleep(delay)
            arrived[name].append((guid, time.monotonic()))
            return web.Response(text="ok")

        app = web.Application()
        app.router.add_post("/hook", hook)
        return app

    fast, slow = TestServer(receiver("fast", 0.0)), TestServer(receiver("slow", 3.0))
    await fast.start_server()
    await slow.start_server()
    entries = [Entry(title=f"Karabakh report {n}", guid=f"r{n}") for n in range(3)]
    feeds.serve("/feed.xml", rss(entries))
    settings = parse_settings(
        f"""storage: sqlite:///{tmp_path / "monitor.db"}
defaults: {{fulltext: off, interval: 1s, baseline: false}}
http: {{allow_private_networks: true, timeout: 30s}}
feeds:
  - url: {feeds.url("/feed.xml")}
notifiers:
  fast: {{type: webhook, url: "{fast.make_url("/hook")}"}}
  slow: {{type: webhook, url: "{slow.make_url("/hook")}", timeout: 20s}}
watchlists:
  - {{name: karabakh, any: [Karabakh]}}
""",
        "monitor.yaml",
        {},
    )
    try:
        async with Runtime(settings) as runtime:
            daemon = RealDaemon(runtime)
            running = asyncio.create_task(daemon.run())
            await until(lambda: len(arrived["fast"]) == 3, within=10)
            # The slow receiver is busy for about 9 s; a new alert comes now.
            entries.insert(0, Entry(title="Karabakh report 3", guid="r3"))
            feeds.serve("/feed.xml", rss(entries))
            published = time.monotonic()
            await until(lambda: len(arrived["fast"]) == 4, within=8)
            daemon.stop()
            await asyncio.wait_for(running, 30)
    finally:
        await fast.close()
        await slow.close()
    assert [guid for guid, _ in arrived["fast"]] == ["r0", "r1", "r2", "r3"]
    assert arrived["fast"][3][1] - published < 4  # not behind the slow one's 9 s
