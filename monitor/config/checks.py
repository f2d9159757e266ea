"""What one key alone cannot say: errors in words (``unknown key``), and the checks
across sections (names unique, notifiers and aliases that exist, queries that parse)."""

from __future__ import annotations

from typing import Any

from monitor.config.channels import NOTIFIER_TYPES
from monitor.config.schema import Settings
from monitor.config.units import NAME
from monitor.config.watchlists import check_terms
from monitor.match.query import QueryError, parse_query, resolve_aliases
from monitor.redact import brief
from monitor.yaml_source import KeyPath, YamlSource


def describe(error: Any) -> str:
    """A pydantic error in the words a configuration's author reads."""
    kind = error["type"]
    if kind == "extra_forbidden":
        return "unknown key"
    if kind == "missing":
        return "required key is missing"
    message = str(error["msg"]).removeprefix("Value error, ")
    if kind == "union_tag_invalid":
        return f"unknown notifier type; expected one of {', '.join(NOTIFIER_TYPES)}"
    if kind == "union_tag_not_found":
        return f"type: is required ({', '.join(NOTIFIER_TYPES)})"
    return message


def cross_check(settings: Settings, source: YamlSource) -> list[str]:
    """Problems across sections, each naming its file, line and key path."""
    problems: list[str] = []

    def report(path: KeyPath, message: str) -> None:
        problems.append(source.problem(path, message))

    known = set(settings.notifiers) or {"console"}
    for name in settings.notifiers:
        if not NAME.match(name):
            report(("notifiers", name), "names use letters, digits, '_', '-' and '.'")
    seen_urls: dict[str, int] = {}
    seen_feed_names: dict[str, int] = {}
    for index, feed in enumerate(settings.feeds):
        if feed.url in seen_urls:
            report(("feeds", index, "url"), f"the same URL as feeds[{seen_urls[feed.url]}]")
        seen_urls.setdefault(feed.url, index)
        if feed.name is not None:
            # A name stands for its feed in watchlists' feeds: and in `feeds preview NAME`.
            if feed.name in seen_feed_names:
                report(
                    ("feeds", index, "name"),
                    f"the same name as feeds[{seen_feed_names[feed.name]}]; names must be unique",
                )
            seen_feed_names.setdefault(feed.name, index)
    for alias, terms in settings.aliases.items():
        if not NAME.match(alias):
            report(("aliases", alias), "names use letters, digits, '_', '-' and '.'")
        try:
            check_terms(terms)
        except ValueError as error:
            report(("aliases", alias), str(error))
        if any(term.strip().startswith("@") for term in terms):
            report(("aliases", alias), "an alias lists terms, not other aliases")
    seen_names: dict[str, int] = {}
    for index, watchlist in enumerate(settings.watchlists):
        for key in ("any", "all", "none"):
            try:
                resolve_aliases(getattr(watchlist, key), settings.aliases)
            except ValueError as error:
                report(("watchlists", index, key), str(error))
        known_feeds = {feed.url for feed in settings.feeds} | {
            feed.name for feed in settings.feeds if feed.name
        }
        for position, wanted in enumerate(watchlist.feeds or []):
            if wanted not in known_feeds:
                report(("watchlists", index, "feeds", position), f"no feed {brief(wanted)}")
        known_tags = {tag for feed in settings.feeds for tag in feed.tags}
        for position, tag in enumerate(watchlist.tags or []):
            if tag not in known_tags:
                report(("watchlists", index, "tags", position), f"no feed has tag {brief(tag)}")
        if watchlist.query is not None:
            try:
                parse_query(watchlist.query, settings.aliases)
            except QueryError as error:
                report(("watchlists", index, "query"), str(error))
        if not NAME.match(watchlist.name):
            report(("watchlists", index, "name"), "names use letters, digits, '_', '-' and '.'")
        if watchlist.name in seen_names:
            report(
                ("watchlists", index, "name"),
                f"duplicate name (also watchlists[{seen_names[watchlist.name]}])",
            )
        seen_names.setdefault(watchlist.name, index)
        for position, target in enumerate(watchlist.notify or []):
            if target not in known:
                report(
                    ("watchlists", index, "notify", position),
                    f"unknown notifier {target!r}; configured: {', '.join(sorted(known))}",
                )
    for position, target in enumerate(settings.health.notify or []):
        if target not in known:
            report(
                ("health", "notify", position),
                f"unknown notifier {target!r}; configured: {', '.join(sorted(known))}",
            )
    return problems
