"""The running daemon's pid, in a file next to its database, so that ``news-monitor
reload`` can find it and send SIGHUP."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path


class NoDaemon(Exception):
    """No daemon runs for this database; the message says how we know."""


def pid_path(database: Path) -> Path:
    """``monitor.db`` → ``monitor.db.pid``."""
    return database.with_name(database.name + ".pid")


@contextlib.contextmanager
def holding_pid_file(database: Path) -> Iterator[Path]:
    """Write this process's pid next to the database for as long as it runs."""
    path = pid_path(database)
    path.write_text(f"{os.getpid()}\n")
    try:
        yield path
    finally:
        # Only our own: a second daemon refused by the store must not remove the first's.
        with contextlib.suppress(OSError, ValueError):
            if int(path.read_text()) == os.getpid():
                path.unlink()


def running_daemon(database: Path) -> int:
    """The pid of the daemon running on this database (NoDaemon when there is none)."""
    path = pid_path(database)
    try:
        pid = int(path.read_text())
    except FileNotFoundError:
        raise NoDaemon(f"no daemon is running: {path} does not exist") from None
    except ValueError:
        raise NoDaemon(f"{path} does not hold a pid") from None
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        raise NoDaemon(f"no daemon is running: pid {pid} in {path} has exited") from None
    except PermissionError:
        pass  # alive, another user's: the signal will say so
    # A pid is reused after its process exits: make sure this one is ours.
    cmdline = Path(f"/proc/{pid}/cmdline")
    if cmdline.exists() and b"monitor" not in cmdline.read_bytes():
        raise NoDaemon(f"pid {pid} in {path} is not news-monitor (a stale file)")
    return pid
