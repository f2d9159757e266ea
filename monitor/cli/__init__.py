"""The ``news-monitor`` command: run, once, check, seed, watchlists test, feeds,
stories, deliveries, notifiers. Each group of commands is a module here that adds its
parsers and handlers; ``main`` loads the configuration and runs the one asked for."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
from collections.abc import Callable, Sequence

from monitor import __version__
from monitor.cli import daemon, feeds, items, outbox
from monitor.cli.common import (
    EXIT_CONFIG,
    EXIT_FAILED,
    EXIT_INTERRUPTED,
    EXIT_OK,
    Command,
    config_option,
)
from monitor.config import ConfigError, default_config_path, load_settings
from monitor.early_stop import EARLY_STOP
from monitor.logs import configure
from monitor.seeds import SeedError
from monitor.store import StoreError

__all__ = ["build_parser", "event_loop_factory", "main"]
log = logging.getLogger("monitor")


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
    config_option(parser)
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for group in (daemon, items, feeds, outbox):
        group.add_commands(commands)
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
            handler: Command = args.handler
            return runner.run(handler(settings, path, args))
    except BrokenPipeError:
        # The reader went away (`| head`): not an error; keep Python from complaining
        # about the unflushed standard output on exit.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_OK
    except ConfigError as error:
        # What only the store can check (a like: sample's stored item) failed.
        print(f"configuration error:\n{error}", file=sys.stderr)
        return EXIT_CONFIG
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
