"""What every command shares: exit codes, the ``-c`` option, the store opened for a
read command, and printing records as text or JSON lines."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from pathlib import Path
from typing import Any, TypeVar

from monitor.config import Settings
from monitor.store import Store
from monitor.wiring import open_store

Record = TypeVar("Record")
EXIT_OK, EXIT_FAILED, EXIT_CONFIG, EXIT_INTERRUPTED = 0, 1, 2, 130
# A command: the settings, the configuration file's path and the parsed arguments.
Command = Callable[[Settings, Path, argparse.Namespace], Coroutine[Any, Any, int]]


def config_option(parser: argparse.ArgumentParser) -> None:
    """``-c FILE`` on a parser (a nested parser must not reset a -c given before its
    command word, hence SUPPRESS)."""
    parser.add_argument(
        "-c",
        "--config",
        type=Path,
        default=argparse.SUPPRESS,
        help="configuration file (default: $NEWS_MONITOR_CONFIG, ./monitor.yaml, "
        "config/monitor.yaml)",
    )


def command(parser: argparse.ArgumentParser, handler: Command) -> argparse.ArgumentParser:
    """Give ``parser`` the ``-c`` option and the handler its command runs."""
    config_option(parser)
    parser.set_defaults(handler=handler)
    return parser


async def with_store(settings: Settings, work: Callable[[Store], Awaitable[int]]) -> int:
    """Open the store for one read command, run ``work`` on it, and close it."""
    async with open_store(settings) as store:
        return await work(store)


def emit(
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
