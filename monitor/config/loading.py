"""Reading a configuration: the file (bounded), its YAML with lines, the OPML files it
includes, validation, and the checks across sections."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from pydantic import ValidationError

from monitor.config.checks import cross_check, describe
from monitor.config.schema import Settings
from monitor.opml import OpmlError, read_opml
from monitor.yaml_source import (
    MAX_CONFIG_BYTES,
    ConfigError,
    KeyPath,
    YamlSource,
    compose,
    too_large,
)


def parse_settings(
    text: str, filename: str = "monitor.yaml", env: Mapping[str, str] | None = None
) -> Settings:
    """Validate configuration text; raise ConfigError naming file, line and key path."""
    source = compose(text, filename, os.environ if env is None else env)
    if not isinstance(source.data, dict):
        raise ConfigError([f"{filename}:1: the top level must be a mapping of keys"])
    _include_opml(source, Path(filename).parent)
    _read_samples(source, Path(filename).parent)
    try:
        settings = Settings.model_validate(source.data)
    except ValidationError as exc:
        raise ConfigError(
            [
                source.problem(source.path_of(error["loc"]), describe(error))
                for error in exc.errors()
            ]
        ) from None
    problems = cross_check(settings, source)
    if problems:
        raise ConfigError(problems)
    return settings


def _include_opml(source: YamlSource, base: Path) -> None:
    """Replace each ``{opml: FILE, tags: [...]}`` in ``feeds:`` by the file's feeds, in
    place; the lines of the feeds after it move with them, and a feed from a file points
    at the include's line. A URL the YAML lists itself wins over a file's."""
    feeds = source.data.get("feeds")
    if not isinstance(feeds, list) or not any(
        isinstance(entry, dict) and "opml" in entry for entry in feeds
    ):
        return
    listed = {entry.get("url") for entry in feeds if isinstance(entry, dict) and "url" in entry}
    # An OPML title is a label another reader showed, not a chosen name: two feeds may
    # share one ("News"), so a title already taken is told apart by its site.
    taken = {entry["name"] for entry in feeds if isinstance(entry, dict) and "name" in entry}
    problems: list[str] = []
    lines_of: dict[int, dict[KeyPath, int]] = {}
    for path, line in list(source.lines.items()):
        if len(path) >= 2 and path[0] == "feeds" and isinstance(path[1], int):
            lines_of.setdefault(path[1], {})[path[2:]] = line
            del source.lines[path]
    expanded: list[Any] = []
    for index, entry in enumerate(feeds):
        own = lines_of.get(index, {})
        if not isinstance(entry, dict) or "opml" not in entry:
            for rest, line in own.items():
                source.lines[("feeds", len(expanded), *rest)] = line
            expanded.append(entry)
            continue
        where: KeyPath = ("feeds", index, "opml")
        source.lines[where] = own.get(("opml",), own.get((), 1))
        tags = entry.get("tags", [])
        if set(entry) - {"opml", "tags"} or not isinstance(entry["opml"], str):
            problems.append(source.problem(where, "an include is {opml: FILE, tags: [...]}"))
            continue
        if not isinstance(tags, list):
            problems.append(source.problem(where, "tags: must be a list"))
            continue
        try:
            found = read_opml(base / entry["opml"])
        except OpmlError as error:
            problems.append(source.problem(where, str(error)))
            continue
        for feed in found:
            if feed.url in listed:
                continue
            listed.add(feed.url)
            source.lines[("feeds", len(expanded))] = own.get((), 1)
            named = {"name": _distinct_title(feed.title, feed.url, taken)} if feed.title else {}
            expanded.append(
                {"url": feed.url, "tags": list(dict.fromkeys([*tags, *feed.tags]))} | named
            )
    if problems:
        raise ConfigError(problems)
    feeds[:] = expanded


MAX_SAMPLE_BYTES = 1024**2


def _read_samples(source: YamlSource, base: Path) -> None:
    """Read each ``like: [{file: PATH}]`` sample (relative to the configuration's
    folder) into its ``text``, so the settings hold what will be compared."""
    problems = []
    watchlists = source.data.get("watchlists")
    for index, watchlist in enumerate(watchlists if isinstance(watchlists, list) else []):
        samples = watchlist.get("like") if isinstance(watchlist, dict) else None
        for position, sample in enumerate(samples if isinstance(samples, list) else []):
            if not isinstance(sample, dict) or not isinstance(sample.get("file"), str):
                continue
            where: KeyPath = ("watchlists", index, "like", position, "file")
            path = base / sample["file"]
            try:
                with path.open("rb") as file:
                    data = file.read(MAX_SAMPLE_BYTES + 1)
                if len(data) > MAX_SAMPLE_BYTES:
                    problems.append(source.problem(where, f"{path} is over 1 MiB"))
                    continue
                sample["text"] = data.decode("utf-8")
            except OSError as error:
                problems.append(source.problem(where, f"cannot read {path}: {error.strerror}"))
            except UnicodeDecodeError:
                problems.append(source.problem(where, f"{path} is not UTF-8 text"))
    if problems:
        raise ConfigError(problems)


def _distinct_title(title: str, url: str, taken: set[str]) -> str:
    """``title``, or ``title (host)``, or ``title (host) 2``…: the first not yet taken."""
    name = title
    if name in taken:
        name = f"{title} ({urlsplit(url).hostname or 'feed'})"
        base, number = name, 2
        while name in taken:
            name, number = f"{base} {number}", number + 1
    taken.add(name)
    return name


def included_opml(path: Path, env: Mapping[str, str] | None = None) -> list[Path]:
    """The OPML files a (valid) configuration file includes, in order."""
    source = compose(
        path.read_text(encoding="utf-8"), str(path), os.environ if env is None else env
    )
    feeds = source.data.get("feeds") if isinstance(source.data, dict) else None
    return [
        path.parent / entry["opml"]
        for entry in feeds or []
        if isinstance(entry, dict) and isinstance(entry.get("opml"), str)
    ]


def load_settings(path: Path, env: Mapping[str, str] | None = None) -> Settings:
    """Read and validate a configuration file (of at most ``MAX_CONFIG_BYTES``)."""
    try:
        with path.open("rb") as file:
            # Read one byte past the cap, never the whole of a huge file.
            data = file.read(MAX_CONFIG_BYTES + 1)
        if len(data) > MAX_CONFIG_BYTES:
            raise ConfigError([f"{path}: {too_large()}"])
        text = data.decode("utf-8")
    except OSError as exc:
        raise ConfigError([f"{path}: cannot read the configuration: {exc.strerror}"]) from None
    except UnicodeDecodeError:
        raise ConfigError([f"{path}: the configuration is not UTF-8 text"]) from None
    return parse_settings(text, str(path), env)


def default_config_path(env: Mapping[str, str] | None = None) -> Path:
    """``$NEWS_MONITOR_CONFIG``, then ``./monitor.yaml``, then ``config/monitor.yaml``."""
    env = os.environ if env is None else env
    if env.get("NEWS_MONITOR_CONFIG"):
        return Path(env["NEWS_MONITOR_CONFIG"])
    for candidate in (Path("monitor.yaml"), Path("config/monitor.yaml")):
        if candidate.exists():
            return candidate
    return Path("monitor.yaml")
