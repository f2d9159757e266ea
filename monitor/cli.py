"""The ``news-monitor`` command: run, once, check, seed, watchlists test, feeds, stories,
deliveries."""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import signal
import sys
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

from pydantic import ValidationError

from monitor import __version__
from monitor.config import (
    ConfigError,
    FeedSettings,
    Settings,
    WatchlistSettings,
    default_config_path,
    included_opml,
    load_settings,
)
from monitor.daemon import Daemon
from monitor.discover import DiscoveryError, discover, feeds_yaml
from monitor.early_stop import EARLY_STOP, STOP_SIGNALS
from monitor.fetch import Fetcher, FetchError
from monitor.logs import configure, tag_instance
from monitor.match import Document, FeedLabels, WatchlistSet
from monitor.match.query import QueryError
from monitor.models import DeliveryStatus
from monitor.opml import OpmlError, OpmlFeed, opml_document, read_opml, write_opml
from monitor.parse import ParseError
from monitor.pidfile import NoDaemon, holding_pid_file, running_daemon
from monitor.preview import configured_source, item_preview_json, preview, preview_text
from monitor.progress import Steps
from monitor.readers import Source
from monitor.redact import without_userinfo
from monitor.report import check_summary, notifier_lines, once_summary
from monitor.runtime import Runtime, configured_instance_id
from monitor.seeds import SEED_SOURCE, SeedError, default_seed_dir, load_seeds, read_seed_file
from monitor.store import Store, StoreError
from monitor.views import (
    delivery_json,
    delivery_line,
    feed_json,
    feed_line,
    highlight_match,
    item_json,
    matched_json,
    story_json,
    story_lines,
)
from monitor.wiring import fetch_limits, open_store, source_of
from monitor.wiring.watchlists import compile_watchlists, watchlist_spec

Record = TypeVar("Record")
EXIT_OK, EXIT_FAILED, EXIT_CONFIG, EXIT_INTERRUPTED = 0, 1, 2, 130
log = logging.getLogger("monitor")


def _config_option(parser: argparse.ArgumentParser) -> None:
    # SUPPRESS: a nested parser must not reset a -c given before its command word.
    parser.add_argument(
        "-c",
        "--config",
        type=Path,
        default=argparse.SUPPRESS,
        help="configuration file (default: $NEWS_MONITOR_CONFIG, ./monitor.yaml, "
        "config/monitor.yaml)",
    )


def build_parser() -> argparse.ArgumentParser:
    """The command line, one sub-command per DESIGN.md contract."""
    parser = argparse.ArgumentParser(
        prog="news-monitor", description="Watch news feeds; alert once per story."
    )
    parser.add_argument("--version", action="version", version=f"news-monitor {__version__}")
    parser.add_argument(
        "--log-level", default=None, help="DEBUG, INFO, WARNING… (run: INFO; others: WARNING)"
    )
    parser.add_argument(
        "--log-format",
        choices=["text", "json"],
        default="text",
        help="text for people (default), json: one object per line with feed and message ids",
    )
    _config_option(parser)
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    for name, text in (
        ("run", "run the daemon until SIGTERM/SIGINT (SIGHUP reloads the configuration)"),
        ("reload", "check the configuration, then make the running daemon re-read it"),
        ("once", "poll every enabled feed once, deliver what is due, exit 0/1/2"),
        ("check", "validate the configuration and print a summary (secrets masked)"),
    ):
        _config_option(commands.add_parser(name, help=text, description=text))

    seed = commands.add_parser("seed", help="load stored sample items as already known")
    _config_option(seed)
    seed.add_argument("paths", nargs="*", type=Path, help="seed files or folders")

    watchlists = commands.add_parser("watchlists", help="work with watchlists")
    _config_option(watchlists)
    watchlist_commands = watchlists.add_subparsers(dest="action", required=True)
    test = watchlist_commands.add_parser("test", help="run watchlists over the stored items")
    _config_option(test)
    which = test.add_mutually_exclusive_group()
    which.add_argument("--name", help="only this watchlist")
    which.add_argument("--query", help="try a query (with the configured @aliases) instead")
    test.add_argument("--json", action="store_true", help="one JSON object per line")
    test.add_argument("--limit", type=int, default=None, help="newest N items only")

    feeds = commands.add_parser("feeds", help="every enabled feed with its schedule and health")
    _config_option(feeds)
    feeds.add_argument("--json", action="store_true", help="one JSON object per line")
    feed_commands = feeds.add_subparsers(dest="action")
    revive = feed_commands.add_parser("revive", help="poll a feed that answered 410 again")
    _config_option(revive)
    revive.add_argument("url", help="the feed's URL as configured")
    importing = feed_commands.add_parser(
        "import", help="merge an OPML file into the OPML file the configuration includes"
    )
    _config_option(importing)
    importing.add_argument("file", type=Path, help="an OPML file")
    exporting = feed_commands.add_parser("export", help="every configured feed as OPML")
    _config_option(exporting)
    discovering = feed_commands.add_parser(
        "discover", help="find the feeds a site publishes; prints YAML for feeds:"
    )
    _config_option(discovering)
    discovering.add_argument("url", help="a page of the site (or a feed)")
    previewing = feed_commands.add_parser(
        "preview", help="what a source gives now, read as configured; nothing is stored"
    )
    _config_option(previewing)
    previewing.add_argument("url", help="a configured source's URL or name, or any feed URL")
    previewing.add_argument("--limit", type=int, default=20, help="entries shown (default 20)")
    previewing.add_argument("--json", action="store_true", help="one JSON object per line")

    stories = commands.add_parser("stories", help="stories (items that are one story)")
    _config_option(stories)
    stories.add_argument("--json", action="store_true", help="one JSON object per line")
    stories.add_argument("--limit", type=int, default=50)

    deliveries = commands.add_parser("deliveries", help="the outbox: list or retry alerts")
    _config_option(deliveries)
    deliveries.add_argument("--status", choices=[status.value for status in DeliveryStatus])
    deliveries.add_argument("--json", action="store_true", help="one JSON object per line")
    deliveries.add_argument("--limit", type=int, default=100)
    delivery_commands = deliveries.add_subparsers(dest="action")
    retry = delivery_commands.add_parser("retry", help="send a delivery (or every dead one) again")
    _config_option(retry)
    retry.add_argument("id", nargs="?", type=int, help="delivery id")
    retry.add_argument("--dead", action="store_true", help="every dead delivery")

    notifiers = commands.add_parser(
        "notifiers", help="notifiers with their state; enable one a receiver disabled"
    )
    _config_option(notifiers)
    notifier_commands = notifiers.add_subparsers(dest="action")
    enable = notifier_commands.add_parser("enable", help="send to a disabled notifier again")
    _config_option(enable)
    enable.add_argument("name", help="notifier name")
    return parser


def event_loop_factory() -> Callable[[], asyncio.AbstractEventLoop] | None:
    """uvloop's event loop when it is installed (``pip install news-monitor[fast]``), and
    asyncio's own otherwise; ``NEWS_MONITOR_LOOP=asyncio`` keeps asyncio's."""
    if os.environ.get("NEWS_MONITOR_LOOP", "").lower() == "asyncio":
        return None
    try:
        import uvloop
    except ImportError:
        return None
    return uvloop.new_event_loop


def pid_anchor(settings: Settings, config_path: Path) -> Path:
    """What the pid file sits beside: the SQLite file (one daemon per database), or the
    configuration file when the database is shared (one daemon per host and file)."""
    return config_path if settings.uses_postgresql else settings.sqlite_path()


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the console script; returns the exit code."""
    args = build_parser().parse_args(argv)
    if args.command == "run":
        EARLY_STOP.install()  # (again, for callers that did not come through entry())
    else:
        EARLY_STOP.release()
    default_level = "INFO" if args.command == "run" else "WARNING"
    configure(args.log_level or default_level, args.log_format)
    # APScheduler logs every tick at INFO; our own lines say what happened.
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
    # aiosqlite logs every statement with its parameters at DEBUG: feed URLs with their
    # passwords, whole item texts. Our own DEBUG lines say what matters.
    logging.getLogger("aiosqlite").setLevel(logging.INFO)
    path = getattr(args, "config", None) or default_config_path()
    try:
        settings = load_settings(path)
    except ConfigError as error:
        print(f"configuration error:\n{error}", file=sys.stderr)
        return EXIT_CONFIG
    try:
        with asyncio.Runner(loop_factory=event_loop_factory()) as runner:
            return runner.run(COMMANDS[args.command](settings, path, args))
    except BrokenPipeError:
        # The reader went away (`| head`): not an error; keep Python from complaining
        # about the unflushed standard output on exit.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_OK
    except (StoreError, SeedError) as error:
        # Start-up failures are one line; the runtime has closed what it opened.
        print(f"error: {error}", file=sys.stderr)
        return EXIT_FAILED
    except OSError as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_FAILED
    except KeyboardInterrupt:
        # `run` handles SIGINT itself and exits 0; any other command was cut short.
        return EXIT_INTERRUPTED


async def _run(settings: Settings, path: Path, args: argparse.Namespace) -> int:
    loop = asyncio.get_running_loop()
    for signum in STOP_SIGNALS:
        loop.add_signal_handler(signum, EARLY_STOP.remember, signum)
    tag_instance(configured_instance_id(settings))
    async with Runtime(settings) as runtime:
        daemon = Daemon(runtime, path)
        daemon.install_signal_handlers()
        if EARLY_STOP.requested is not None:
            daemon.stop()
        # After the store is open: a second daemon on this database stops before this.
        with holding_pid_file(pid_anchor(settings, path)):
            await daemon.run()
    return EXIT_OK


async def _reload(settings: Settings, path: Path, args: argparse.Namespace) -> int:
    """The file is valid (main loaded it): tell the running daemon to read it again."""
    try:
        pid = running_daemon(pid_anchor(settings, path))
    except NoDaemon as error:
        print(str(error), file=sys.stderr)
        return EXIT_FAILED
    os.kill(pid, signal.SIGHUP)
    print(f"sent SIGHUP to the daemon (pid {pid}); it logs what it reloaded")
    return EXIT_OK


async def _once(settings: Settings, path: Path, args: argparse.Namespace) -> int:
    tag_instance(configured_instance_id(settings))
    async with Runtime(settings) as runtime:
        with Steps("polled") as progress:
            report = await runtime.once(progress)
    print(once_summary(report))
    return EXIT_OK if report.ok else EXIT_FAILED


async def _check(settings: Settings, path: Path, args: argparse.Namespace) -> int:
    print(check_summary(settings, path))
    return EXIT_OK


async def _with_store(settings: Settings, work: Callable[[Store], Awaitable[int]]) -> int:
    async with open_store(settings) as store:
        return await work(store)


async def _seed(settings: Settings, path: Path, args: argparse.Namespace) -> int:
    targets: list[Path] = list(args.paths)
    if not targets:
        folder = default_seed_dir()
        if folder is None:
            print("no seeds/ folder found; name seed files or folders", file=sys.stderr)
            return EXIT_FAILED
        targets = [folder]

    async def load(store: Store) -> int:
        now = datetime.now(UTC)
        loaded = 0
        with Steps("seeded") as progress:
            progress.start(len(targets))
            for target in targets:
                if target.is_dir():
                    loaded += await load_seeds(store, target, now)
                else:
                    loaded += await store.load_seed(SEED_SOURCE, read_seed_file(target), now)
                progress.step(str(target))
        print(f"loaded {loaded} new seed item(s)")
        return EXIT_OK

    return await _with_store(settings, load)


def _command_line_watchlist(settings: Settings, query: str) -> WatchlistSet | None:
    """A watchlist from ``--query``, with the configuration's aliases; None (after saying
    why, with the column) when the query is not valid."""
    try:
        spec = watchlist_spec(WatchlistSettings(name="query", query=query), (), settings.aliases)
        return WatchlistSet([spec])
    except (QueryError, ValueError) as error:
        print(f"--query {error}", file=sys.stderr)
        return None


def _configured_watchlists(settings: Settings, name: str | None) -> WatchlistSet | None:
    """Every configured watchlist, or the one named; None (after saying so) if absent."""
    watchlists = compile_watchlists(settings)
    if name is None:
        return watchlists
    chosen = [spec for spec in watchlists.specs if spec.name == name]
    if not chosen:
        print(f"no watchlist named {name!r}", file=sys.stderr)
        return None
    return WatchlistSet(chosen)


async def _watchlists(settings: Settings, path: Path, args: argparse.Namespace) -> int:
    if args.query is not None:
        watchlists = _command_line_watchlist(settings, args.query)
    else:
        watchlists = _configured_watchlists(settings, args.name)
    if watchlists is None:
        return EXIT_CONFIG
    labels = {
        feed.url: FeedLabels(feed.url, feed.name, None, tuple(feed.tags)) for feed in settings.feeds
    }

    async def test(store: Store) -> int:
        items = await store.items(args.limit)
        counts = dict.fromkeys(watchlists.names, 0)
        color = sys.stdout.isatty() and not args.json
        for stored in items:
            known = labels.get(stored.feed_url) or FeedLabels(stored.feed_url)
            document = Document.of(stored.item, replace(known, title=stored.feed_title))
            for match in watchlists.match(document):
                counts[match.watchlist] += 1
                if args.json:
                    record: dict[str, Any] = {
                        "watchlist": match.watchlist,
                        "item": item_json(stored),
                        "matched": matched_json(match.terms),
                    }
                    print(json.dumps(record, ensure_ascii=False))
                else:
                    print(
                        highlight_match(
                            match.watchlist, stored, document.fields, match.terms, color
                        )
                    )
        if not args.json:
            tally = ", ".join(f"{name}: {count}" for name, count in counts.items())
            print(f"{len(items)} stored item(s) searched; matches per watchlist: {tally}")
        return EXIT_OK

    return await _with_store(settings, test)


def _emit(
    records: Sequence[Record],
    as_json: bool,
    to_json: Callable[[Record], dict[str, Any]],
    to_text: Callable[[Record], str],
    limit: int | None = None,
) -> None:
    """One JSON object per line for programs, or text for people; when ``records``
    holds more than ``limit`` (it was read with one more), the list says it was cut,
    on standard error (standard output stays one record per line)."""
    shown = records if limit is None else records[:limit]
    for record in shown:
        print(json.dumps(to_json(record), ensure_ascii=False) if as_json else to_text(record))
    if limit is not None and len(records) > limit:
        print(f"# only the first {limit} are shown: --limit N shows more", file=sys.stderr)


def _export_feeds(settings: Settings) -> int:
    # OPML lists feeds for feed readers: a sitemap or a page read by selectors is none.
    feeds = [
        OpmlFeed(feed.url, feed.name, tuple(feed.tags))
        for feed in settings.feeds
        if feed.type == "feed"
    ]
    print(opml_document(feeds))
    others = len(settings.feeds) - len(feeds)
    if others:
        print(
            f"left out {others} source(s) that are not feeds (type: sitemap, html)", file=sys.stderr
        )
    return EXIT_OK


def _import_feeds(settings: Settings, path: Path, source: Path) -> int:
    """Merge an OPML list into the OPML file the configuration includes (or feeds.opml
    beside it, then say how to include it): the YAML stays the one source of truth."""
    try:
        incoming = read_opml(source)
    except OpmlError as error:
        print(f"{source}: {error}", file=sys.stderr)
        return EXIT_CONFIG
    includes = included_opml(path)
    target = includes[0] if includes else path.parent / "feeds.opml"
    try:
        current = read_opml(target) if target.exists() else []
    except OpmlError as error:
        print(f"{target}: {error}", file=sys.stderr)
        return EXIT_CONFIG
    known = {feed.url for feed in settings.feeds} | {feed.url for feed in current}
    added: list[OpmlFeed] = []
    refused = 0
    with Steps("checked") as progress:
        progress.start(len(incoming))
        for feed in incoming:
            try:  # what the configuration would refuse never enters the included file
                FeedSettings(url=feed.url, name=feed.title, tags=list(feed.tags))
            except ValidationError as error:
                refused += 1
                reason = error.errors()[0]["msg"].removeprefix("Value error, ")
                print(f"skipped {without_userinfo(feed.url)}: {reason}", file=sys.stderr)
            else:
                if feed.url not in known:
                    known.add(feed.url)
                    added.append(feed)
            progress.step(without_userinfo(feed.url))
    write_opml(target, [*current, *added])
    print(
        f"{len(added)} feed(s) added to {target}; "
        f"{len(incoming) - len(added) - refused} were already configured, {refused} refused"
    )
    if not includes:
        print(f"to poll them, add under feeds: in {path}:\n  - opml: {target.name}")
    else:
        print(f"`news-monitor reload -c {path}` starts polling them")
    return EXIT_OK


async def _feeds(settings: Settings, path: Path, args: argparse.Namespace) -> int:
    action = getattr(args, "action", None)
    if action == "export":
        return _export_feeds(settings)
    if action == "discover":
        return await _discover_feeds(settings, args.url)
    if action == "import":
        return _import_feeds(settings, path, args.file)
    if action == "preview":
        return await _preview_feed(settings, args.url, args.limit, args.json)

    async def show(store: Store) -> int:
        if getattr(args, "action", None) == "revive":
            if await store.revive_feed(args.url, datetime.now(UTC)):
                print(f"{args.url} is polled again")
                return EXIT_OK
            print(f"{args.url} is not a gone feed", file=sys.stderr)
            return EXIT_FAILED
        pushes = {
            subscription.feed_id: subscription for subscription in await store.subscriptions()
        }
        _emit(
            await store.feeds(),
            args.json,
            lambda feed: feed_json(feed, pushes.get(feed.id)),
            lambda feed: feed_line(feed, pushes.get(feed.id)),
        )
        return EXIT_OK

    return await _with_store(settings, show)


async def _preview_feed(settings: Settings, key: str, limit: int, as_json: bool) -> int:
    """Print what one source gives now, read as the daemon would read it."""
    sources = {feed.url: source_of(feed, settings.defaults) for feed in settings.feeds}
    names = {feed.name: feed.url for feed in settings.feeds if feed.name}
    url = configured_source(sources, names, key)
    async with Fetcher(fetch_limits(settings.http)) as fetcher:
        try:
            shown = await preview(fetcher, url, sources.get(url, Source()), datetime.now(UTC))
        except (FetchError, ParseError) as error:
            print(f"{without_userinfo(url)}: {error}", file=sys.stderr)
            return EXIT_FAILED
    if as_json:
        for item in shown.items[:limit]:
            print(json.dumps(item_preview_json(item), ensure_ascii=False))
    else:
        print(preview_text(shown, limit))
    return EXIT_OK


async def _discover_feeds(settings: Settings, url: str) -> int:
    """Print the feeds behind ``url`` as YAML (with the configured HTTP limits, the
    private-network guard included)."""
    async with Fetcher(fetch_limits(settings.http)) as fetcher:
        try:
            found = await discover(fetcher, url)
        except DiscoveryError as error:
            print(str(error), file=sys.stderr)
            return EXIT_FAILED
    print(f"# {len(found)} feed(s) found from {without_userinfo(url)}")
    if without_userinfo(url) != url:
        print("# the URLs below are shown without the user info you gave: add it where needed")
    print(feeds_yaml(found), end="")
    return EXIT_OK


async def _stories(settings: Settings, path: Path, args: argparse.Namespace) -> int:
    async def show(store: Store) -> int:
        stories = await store.stories(args.limit + 1)
        _emit(stories, args.json, story_json, story_lines, args.limit)
        return EXIT_OK

    return await _with_store(settings, show)


async def _deliveries(settings: Settings, path: Path, args: argparse.Namespace) -> int:
    async def act(store: Store) -> int:
        if args.action == "retry":
            if (args.id is None) == (not args.dead):
                print("say which: a delivery ID, or --dead", file=sys.stderr)
                return EXIT_CONFIG
            changed = await store.retry_deliveries(
                datetime.now(UTC), delivery_id=args.id, dead=args.dead
            )
            print(f"{changed} delivery(ies) queued again")
            return EXIT_OK if changed or args.dead else EXIT_FAILED
        status = DeliveryStatus(args.status) if args.status else None
        found = await store.deliveries(status, args.limit + 1)
        _emit(found, args.json, delivery_json, delivery_line, args.limit)
        return EXIT_OK

    return await _with_store(settings, act)


async def _notifiers(settings: Settings, path: Path, args: argparse.Namespace) -> int:
    async def act(store: Store) -> int:
        if args.action == "enable":
            if await store.enable_notifier(args.name):
                print(f"notifier {args.name} is enabled again; its queue goes out now")
                return EXIT_OK
            print(f"notifier {args.name} was not disabled", file=sys.stderr)
            return EXIT_FAILED
        disabled = {state.name: state for state in await store.disabled_notifiers()}
        print(notifier_lines(settings, disabled))
        return EXIT_OK

    return await _with_store(settings, act)


Command = Callable[[Settings, Path, argparse.Namespace], Coroutine[Any, Any, int]]
COMMANDS: dict[str, Command] = {
    "run": _run,
    "reload": _reload,
    "once": _once,
    "check": _check,
    "seed": _seed,
    "watchlists": _watchlists,
    "feeds": _feeds,
    "stories": _stories,
    "deliveries": _deliveries,
    "notifiers": _notifiers,
}
