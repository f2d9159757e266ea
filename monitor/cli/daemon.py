"""The daemon's commands: ``run`` (until SIGTERM/SIGINT), ``reload``, ``once`` and
``check``."""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import sys
from pathlib import Path

from monitor.cli.common import EXIT_FAILED, EXIT_OK, command
from monitor.cli.summaries import check_summary, once_summary
from monitor.config import Settings
from monitor.daemon import Daemon
from monitor.early_stop import EARLY_STOP, STOP_SIGNALS
from monitor.logs import tag_instance
from monitor.pidfile import NoDaemon, holding_pid_file, running_daemon
from monitor.progress import Steps
from monitor.runtime import Runtime, configured_instance_id


def add_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """``run``, ``reload``, ``once``, ``check``."""
    for name, text, handler in (
        ("run", "run the daemon until SIGTERM/SIGINT (SIGHUP reloads the configuration)", run),
        ("reload", "check the configuration, then make the running daemon re-read it", reload),
        ("once", "poll every enabled feed once, deliver what is due, exit 0/1/2", once),
        ("check", "validate the configuration and print a summary (secrets masked)", check),
    ):
        command(commands.add_parser(name, help=text, description=text), handler)


def pid_anchor(settings: Settings, config_path: Path) -> Path:
    """What the pid file sits beside: the SQLite file (one daemon per database), or the
    configuration file when the database is shared (one daemon per host and file)."""
    return config_path if settings.uses_postgresql else settings.sqlite_path()


async def run(settings: Settings, path: Path, args: argparse.Namespace) -> int:
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


async def reload(settings: Settings, path: Path, args: argparse.Namespace) -> int:
    """The file is valid (main loaded it): tell the running daemon to read it again."""
    try:
        pid = running_daemon(pid_anchor(settings, path))
    except NoDaemon as error:
        print(str(error), file=sys.stderr)
        return EXIT_FAILED
    os.kill(pid, signal.SIGHUP)
    print(f"sent SIGHUP to the daemon (pid {pid}); it logs what it reloaded")
    return EXIT_OK


async def once(settings: Settings, path: Path, args: argparse.Namespace) -> int:
    tag_instance(configured_instance_id(settings))
    async with Runtime(settings) as runtime:
        with Steps("polled") as progress:
            report = await runtime.once(progress)
    print(once_summary(report))
    return EXIT_OK if report.ok else EXIT_FAILED


async def check(settings: Settings, path: Path, args: argparse.Namespace) -> int:
    print(check_summary(settings, path))
    return EXIT_OK
