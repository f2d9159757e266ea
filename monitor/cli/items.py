"""The commands about what is stored: ``seed``, ``watchlists test``, ``stories`` (and
``stories mute``/``unmute``)."""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from monitor.cli.common import EXIT_CONFIG, EXIT_FAILED, EXIT_OK, command, emit, with_store
from monitor.config import ConfigError, Settings
from monitor.config.units import parse_duration
from monitor.match import Document, FeedLabels, QueryError, WatchlistSet
from monitor.match.like import Likeness, LikeSet
from monitor.models import Mute, StoredItem
from monitor.progress import Steps
from monitor.seeds import SEED_SOURCE, default_seed_dir, load_seeds, read_seed_file
from monitor.store import Store
from monitor.views import (
    highlight_match,
    item_json,
    matched_json,
    mute_span,
    source_name,
    story_json,
    story_lines,
)
from monitor.wiring.watchlists import compile_watchlists, feed_labels, like_set, query_watchlist


def add_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """``seed``, ``watchlists test``, ``stories``."""
    seeding = command(
        commands.add_parser("seed", help="load stored sample items as already known"), seed
    )
    seeding.add_argument("paths", nargs="*", type=Path, help="seed files or folders")

    watching = command(commands.add_parser("watchlists", help="work with watchlists"), watchlists)
    watchlist_commands = watching.add_subparsers(dest="action", required=True)
    test = command(
        watchlist_commands.add_parser("test", help="run watchlists over the stored items"),
        watchlists,
    )
    which = test.add_mutually_exclusive_group()
    which.add_argument("--name", help="only this watchlist")
    which.add_argument("--query", help="try a query (with the configured @aliases) instead")
    test.add_argument("--json", action="store_true", help="one JSON object per line")
    test.add_argument("--limit", type=int, default=None, help="newest N items only")

    showing = command(
        commands.add_parser("stories", help="stories (items that are one story)"), stories
    )
    showing.add_argument("--json", action="store_true", help="one JSON object per line")
    showing.add_argument("--limit", type=int, default=50)
    story_actions = showing.add_subparsers(dest="action")
    muting = command(
        story_actions.add_parser(
            "mute", help="no more alerts or follow-ups for a story (on every instance)"
        ),
        stories,
    )
    muting.add_argument("id", type=int, help="story id (as `stories` shows it)")
    muting.add_argument(
        "--for",
        dest="duration",
        type=_mute_duration,
        help="for how long (30m, 12h, 7d; at most 366d); without it, until unmuted",
    )
    unmuting = command(
        story_actions.add_parser("unmute", help="let a muted story alert again"), stories
    )
    unmuting.add_argument("id", type=int, help="story id")


def _mute_duration(text: str) -> timedelta:
    try:
        duration = parse_duration(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None
    if duration <= timedelta(0):
        raise argparse.ArgumentTypeError(f"a mute lasts some time, not {text}")
    return duration


async def seed(settings: Settings, path: Path, args: argparse.Namespace) -> int:
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

    return await with_store(settings, load)


def _command_line_watchlist(settings: Settings, query: str) -> WatchlistSet | None:
    """A watchlist from ``--query``, with the configuration's aliases; None (after saying
    why, with the column) when the query is not valid."""
    try:
        return query_watchlist(settings, query)
    except (QueryError, ValueError) as error:
        print(f"--query {error}", file=sys.stderr)
        return None


async def _configured_watchlists(
    settings: Settings, name: str | None, store: Store
) -> WatchlistSet | None:
    """Every configured watchlist, or the one named (a ``like:`` one with its samples
    and word weights from the store); None (after saying so) if absent."""
    try:
        watchlists = compile_watchlists(settings, await like_set(settings, store))
    except ConfigError as error:
        print(f"configuration error:\n{error}", file=sys.stderr)
        return None
    if name is None:
        return watchlists
    chosen = [spec for spec in watchlists.specs if spec.name == name]
    likes = watchlists.likes
    liked = [spec for spec in likes.specs if spec.name == name] if likes is not None else []
    if not chosen and not liked:
        if any(w.name == name and w.spread is not None for w in settings.watchlists):
            # Nothing to match: the store counts its stories' sources as they come.
            print(
                f"{name!r} is a spread watchlist without terms: it matches no item by"
                " itself; `news-monitor stories` shows the stories it alerted",
                file=sys.stderr,
            )
            return WatchlistSet([])
        print(f"no watchlist named {name!r}", file=sys.stderr)
        return None
    if liked and likes is not None:
        return WatchlistSet([], LikeSet(liked, likes.weights))
    return WatchlistSet(chosen)


def _like_line(likeness: Likeness, stored: StoredItem) -> str:
    verdict = "≥" if likeness.close else "<"
    alerts = "matches" if likeness.close else "below the threshold"
    title = stored.item.title or "(untitled)"
    return (
        f"[{likeness.watchlist}] {likeness.score:.2f} {verdict} {likeness.threshold:.2f}"
        f" ({alerts}, like {likeness.sample}): {title} — {source_name(stored)}"
    )


async def watchlists(settings: Settings, path: Path, args: argparse.Namespace) -> int:
    labels = feed_labels(settings)
    # A bad --query is answered before the store is opened (or a database made).
    given = None if args.query is None else _command_line_watchlist(settings, args.query)
    if args.query is not None and given is None:
        return EXIT_CONFIG

    async def test(store: Store) -> int:
        # (Not ``given or …``: a compiled set is falsy when it holds no watchlist.)
        if given is not None:
            watchlists: WatchlistSet | None = given
        else:
            watchlists = await _configured_watchlists(settings, args.name, store)
        if watchlists is None:
            return EXIT_CONFIG
        likes = watchlists.likes
        liked = {spec.name for spec in likes.specs} if likes is not None else set()
        items = await store.items(args.limit)
        counts = dict.fromkeys(watchlists.names, 0)
        color = sys.stdout.isatty() and not args.json
        for stored in items:
            known = labels.get(stored.feed_url) or FeedLabels(stored.feed_url)
            document = Document.of(stored.item, replace(known, title=stored.feed_title))
            # A like: watchlist's candidates, with their scores, close or not: a
            # threshold is tuned on what the store holds before it goes live.
            for likeness in likes.scores(document) if likes is not None else ():
                if likeness.score < likeness.threshold / 2:
                    continue
                counts[likeness.watchlist] += likeness.close
                if args.json:
                    term = f"like {likeness.sample} ({likeness.score:.2f})"
                    shown: dict[str, Any] = {
                        "watchlist": likeness.watchlist,
                        "item": item_json(stored),
                        "matched": [{"term": term, "field": "like"}] if likeness.close else [],
                        "score": likeness.score,
                        "threshold": likeness.threshold,
                        "close": likeness.close,
                        "sample": likeness.sample,
                    }
                    print(json.dumps(shown, ensure_ascii=False))
                else:
                    print(_like_line(likeness, stored))
            for match in watchlists.match(document):
                if match.watchlist in liked:
                    continue  # shown above, with its score
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

    return await with_store(settings, test)


async def stories(settings: Settings, path: Path, args: argparse.Namespace) -> int:
    async def show(store: Store) -> int:
        if args.action == "mute":
            now = datetime.now(UTC)
            until = None if args.duration is None else now + args.duration
            if not await store.mute_story(args.id, now, until):
                print(f"no story {args.id} is stored", file=sys.stderr)
                return EXIT_FAILED
            print(f"story {args.id} muted {mute_span(Mute(now, until))}")
            return EXIT_OK
        if args.action == "unmute":
            if not await store.unmute_story(args.id):
                print(f"no story {args.id} is stored", file=sys.stderr)
                return EXIT_FAILED
            print(f"story {args.id} is no longer muted")
            return EXIT_OK
        stories = await store.stories(args.limit + 1)
        emit(stories, args.json, story_json, story_lines, args.limit)
        return EXIT_OK

    return await with_store(settings, show)
