"""The outbox's commands: ``deliveries`` (list, retry) and ``notifiers`` (list,
enable one a receiver disabled)."""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime
from pathlib import Path

from monitor.cli.common import EXIT_CONFIG, EXIT_FAILED, EXIT_OK, command, emit, with_store
from monitor.cli.summaries import notifier_lines
from monitor.config import Settings
from monitor.models import DeliveryStatus
from monitor.store import Store
from monitor.views import delivery_json, delivery_line


def add_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """``deliveries`` and ``notifiers``."""
    listing = command(
        commands.add_parser("deliveries", help="the outbox: list or retry alerts"), deliveries
    )
    listing.add_argument("--status", choices=[status.value for status in DeliveryStatus])
    listing.add_argument("--json", action="store_true", help="one JSON object per line")
    listing.add_argument("--limit", type=int, default=100)
    actions = listing.add_subparsers(dest="action")
    retry = command(
        actions.add_parser("retry", help="send a delivery (or every dead one) again"), deliveries
    )
    retry.add_argument("id", nargs="?", type=int, help="delivery id")
    retry.add_argument("--dead", action="store_true", help="every dead delivery")

    states = command(
        commands.add_parser(
            "notifiers", help="notifiers with their state; enable one a receiver disabled"
        ),
        notifiers,
    )
    notifier_actions = states.add_subparsers(dest="action")
    enable = command(
        notifier_actions.add_parser("enable", help="send to a disabled notifier again"), notifiers
    )
    enable.add_argument("name", help="notifier name")


async def deliveries(settings: Settings, path: Path, args: argparse.Namespace) -> int:
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
        emit(found, args.json, delivery_json, delivery_line, args.limit)
        return EXIT_OK

    return await with_store(settings, act)


async def notifiers(settings: Settings, path: Path, args: argparse.Namespace) -> int:
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

    return await with_store(settings, act)
