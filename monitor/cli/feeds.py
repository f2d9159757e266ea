"""``feeds``: list them with their schedule and health, revive one that was gone,
import and export OPML, discover a site's feeds, preview what a source gives now."""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

from pydantic import ValidationError

from monitor.cli.common import EXIT_CONFIG, EXIT_FAILED, EXIT_OK, command, emit, with_store
from monitor.config import FeedSettings, Settings, included_opml
from monitor.discover import DiscoveryError, discover, feeds_yaml
from monitor.feed_views import ARTICLE_DAYS, ArticleCounts, feed_json, feed_line
from monitor.fetch import Fetcher, FetchError
from monitor.opml import OpmlError, OpmlFeed, opml_document, read_opml, write_opml
from monitor.parse import ParseError
from monitor.preview import (
    configured_source,
    item_preview_json,
    preview,
    preview_text,
    with_articles,
)
from monitor.progress import Steps
from monitor.redact import without_userinfo
from monitor.runtime import utc_now
from monitor.sources import Source
from monitor.store import Store
from monitor.wiring import article_rule, fetch_limits, fulltext_limits, source_of


def add_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """``feeds`` and its actions."""
    listing = command(
        commands.add_parser("feeds", help="every enabled feed with its schedule and health"),
        feeds,
    )
    listing.add_argument("--json", action="store_true", help="one JSON object per line")
    actions = listing.add_subparsers(dest="action")
    revive = command(
        actions.add_parser("revive", help="poll a feed that answered 410 again"), feeds
    )
    revive.add_argument("url", help="the feed's URL as configured")
    importing = command(
        actions.add_parser(
            "import", help="merge an OPML file into the OPML file the configuration includes"
        ),
        feeds,
    )
    importing.add_argument("file", type=Path, help="an OPML file")
    command(actions.add_parser("export", help="every configured feed as OPML"), feeds)
    discovering = command(
        actions.add_parser(
            "discover", help="find the feeds a site publishes; prints YAML for feeds:"
        ),
        feeds,
    )
    discovering.add_argument("url", help="a page of the site (or a feed)")
    previewing = command(
        actions.add_parser(
            "preview", help="what a source gives now, read as configured; nothing is stored"
        ),
        feeds,
    )
    previewing.add_argument("url", help="a configured source's URL or name, or any feed URL")
    previewing.add_argument("--limit", type=int, default=20, help="entries shown (default 20)")
    previewing.add_argument("--json", action="store_true", help="one JSON object per line")
    previewing.add_argument(
        "--fulltext",
        action="store_true",
        help="also read each entry's article as configured (its selector) and show its text",
    )


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


async def feeds(settings: Settings, path: Path, args: argparse.Namespace) -> int:
    action = getattr(args, "action", None)
    if action == "export":
        return _export_feeds(settings)
    if action == "discover":
        return await _discover_feeds(settings, args.url)
    if action == "import":
        return _import_feeds(settings, path, args.file)
    if action == "preview":
        return await _preview_feed(settings, args.url, args.limit, args.json, args.fulltext)

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
        since = datetime.now(UTC) - timedelta(days=ARTICLE_DAYS)
        articles = {
            feed_id: ArticleCounts(*counts)
            for feed_id, counts in (await store.fulltext_counts(since)).items()
        }
        none = ArticleCounts(0, 0)
        emit(
            await store.feeds(),
            args.json,
            lambda feed: feed_json(feed, pushes.get(feed.id), articles.get(feed.id, none)),
            lambda feed: feed_line(feed, pushes.get(feed.id), articles.get(feed.id, none)),
        )
        return EXIT_OK

    return await with_store(settings, show)


async def _preview_feed(
    settings: Settings, key: str, limit: int, as_json: bool, fulltext: bool
) -> int:
    """Print what one source gives now, read as the daemon would read it (and its
    entries' articles, with ``fulltext``)."""
    sources = {feed.url: source_of(feed, settings.defaults) for feed in settings.feeds}
    names = {feed.name: feed.url for feed in settings.feeds if feed.name}
    url = configured_source(sources, names, key)
    async with Fetcher(fetch_limits(settings.http)) as fetcher:
        try:
            shown = await preview(fetcher, url, sources.get(url, Source()), datetime.now(UTC))
        except (FetchError, ParseError) as error:
            print(f"{without_userinfo(url)}: {error}", file=sys.stderr)
            return EXIT_FAILED
        if fulltext:
            configured = next((feed for feed in settings.feeds if feed.url == url), None)
            rule = article_rule(configured, settings.defaults)
            read = await with_articles(
                fetcher, shown.items[:limit], rule, fulltext_limits(settings), utc_now
            )
            shown = replace(shown, items=read + shown.items[limit:])
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
