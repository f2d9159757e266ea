"""YAML text → plain data that remembers the line of every key path.

The configuration is composed node by node (safe loading only), so that a problem found
later, by pydantic or by a cross-check, can still be reported as
``file:line key.path: message``. Environment variables are expanded here, in scalars.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import yaml

from monitor.redact import brief

ENV_VAR = re.compile(r"\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")
KeyPath = tuple[str | int, ...]
# A configuration may list 100,000 feeds, but not much more. These bounds turn a hostile
# file (a "billion laughs" of aliases, a 50 MB blob) into a quick, clear error instead of
# minutes of work and gigabytes of memory.
# Room for 100,000 feeds with names and tags (about 15 MB); far below what hurts.
MAX_CONFIG_BYTES = 32 * 1024 * 1024
# Keys, items and scalars that aliases may add once expanded: what is written counts
# once, so a configuration of 100,000 feeds is fine and an alias bomb is not.
MAX_VALUES = 200_000


def too_large() -> str:
    """The message for a file over ``MAX_CONFIG_BYTES``."""
    return f"the configuration is larger than {MAX_CONFIG_BYTES // 1024 // 1024} MiB"


class ConfigError(Exception):
    """The configuration cannot be used; each problem names file, line and key path."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


def dotted(path: KeyPath) -> str:
    """``watchlists[1].notify[0]``."""
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or "(top level)"


@dataclass(frozen=True)
class YamlSource:
    """Parsed YAML data, the file it came from, and the line of every key path."""

    filename: str
    data: Any
    lines: dict[KeyPath, int]

    def problem(self, path: KeyPath, message: str) -> str:
        """``file:line key.path: message``, with the nearest line the path has."""
        line = next(
            (
                self.lines[path[:end]]
                for end in range(len(path), -1, -1)
                if path[:end] in self.lines
            ),
            None,
        )
        where = f"{self.filename}:{line}" if line else self.filename
        return f"{where} {dotted(path)}: {message}"

    def path_of(self, loc: tuple[int | str, ...]) -> KeyPath:
        """Map a pydantic error location onto the data, dropping the union tags it adds."""
        path: list[str | int] = []
        current = self.data
        for part in loc:
            if (isinstance(current, dict) and part in current) or (
                isinstance(current, list) and isinstance(part, int) and part < len(current)
            ):
                current = current[part]  # type: ignore[index]
                path.append(part)
            elif isinstance(current, dict) and isinstance(part, str):
                # Either the discriminator tag pydantic adds to the location, or a
                # missing key, which is where the problem is.
                if part == current.get("type"):
                    continue
                path.append(part)
                current = None
        return tuple(path)


def expand_env(text: str, env: Mapping[str, str]) -> str:
    """``${VAR}`` (KeyError when unset), ``${VAR:-default}``, and ``$$`` for a ``$``."""

    def substitute(match: re.Match[str]) -> str:
        if match.group(0) == "$$":
            return "$"
        name, default = match.group(1), match.group(2)
        if name in env:
            return env[name]
        if default is not None:
            return default
        raise KeyError(name)

    return ENV_VAR.sub(substitute, text)


def alias_growth(root: yaml.Node, filename: str) -> int:
    """How many values expanding every alias adds to the document as written.

    Computed on the node graph, where an alias is a shared node, so it costs one visit
    per distinct node however large the expansion; a recursive alias is an error.
    """
    sizes: dict[int, int] = {}
    in_progress: set[int] = set()

    def size(node: yaml.Node) -> int:
        key = id(node)
        if key in sizes:
            return sizes[key]
        if key in in_progress:
            line = node.start_mark.line + 1
            raise ConfigError([f"{filename}:{line}: a YAML alias refers to itself"])
        in_progress.add(key)
        total = 1
        if isinstance(node, yaml.MappingNode):
            total += sum(size(k) + size(v) for k, v in node.value)
        elif isinstance(node, yaml.SequenceNode):
            total += sum(size(child) for child in node.value)
        in_progress.discard(key)
        sizes[key] = total
        return total

    return size(root) - len(sizes)


# libyaml's parser when PyYAML was built with it: ten times faster on a configuration of
# 100,000 feeds; the same nodes, marks and safe constructors.
SAFE_LOADER: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _node_tree(text: str, filename: str) -> tuple[yaml.SafeLoader, yaml.Node | None]:
    if len(text) > MAX_CONFIG_BYTES:
        raise ConfigError([f"{filename}: {too_large()}"])
    loader = SAFE_LOADER(text)
    try:
        return loader, loader.get_single_node()
    except yaml.MarkedYAMLError as exc:
        if "nesting depth" in str(exc.problem):  # libyaml's limit, before Python's
            raise ConfigError([f"{filename}: the YAML is nested too deeply"]) from None
        mark = exc.problem_mark or exc.context_mark
        line = f":{mark.line + 1}" if mark else ""
        raise ConfigError([f"{filename}{line}: YAML syntax error: {exc.problem}"]) from None
    except yaml.YAMLError as exc:
        raise ConfigError([f"{filename}: YAML error: {brief(str(exc), 200)}"]) from None
    except RecursionError:
        raise ConfigError([f"{filename}: the YAML is nested too deeply"]) from None
    finally:
        loader.dispose()


def compose(text: str, filename: str, env: Mapping[str, str]) -> YamlSource:
    """Parse YAML safely into data with lines; raise ConfigError on syntax errors,
    duplicate keys, unset environment variables, and documents too large to be a
    configuration (aliases included)."""
    loader, root = _node_tree(text, filename)
    lines: dict[KeyPath, int] = {}
    source = YamlSource(filename, {}, lines)
    if root is None:
        return source
    problems: list[str] = []

    def build(node: yaml.Node, path: KeyPath) -> Any:
        lines[path] = node.start_mark.line + 1
        if isinstance(node, yaml.MappingNode):
            loader.flatten_mapping(node)
            mapping: dict[Any, Any] = {}
            for key_node, value_node in node.value:
                key = loader.construct_object(key_node, deep=True)
                if key in mapping:
                    lines[(*path, key)] = key_node.start_mark.line + 1
                    problems.append(source.problem((*path, key), "duplicate key"))
                mapping[key] = build(value_node, (*path, key))
            return mapping
        if isinstance(node, yaml.SequenceNode):
            return [build(child, (*path, index)) for index, child in enumerate(node.value)]
        value = loader.construct_object(node, deep=True)
        if isinstance(value, str) and "$" in value:
            try:
                return expand_env(value, env)
            except KeyError as missing:
                name = missing.args[0]
                problems.append(
                    source.problem(
                        path,
                        f"environment variable {name} is not set "
                        f"(write ${{{name}:-}} to make it optional)",
                    )
                )
        return value

    if alias_growth(root, filename) > MAX_VALUES:
        raise ConfigError(
            [
                f"{filename}: the configuration expands to more than {MAX_VALUES:,} values"
                " (YAML aliases repeating one another?)"
            ]
        )
    try:
        data = build(root, ())
    except yaml.MarkedYAMLError as exc:  # a tag such as !!python/object, a bad timestamp
        mark = exc.problem_mark or exc.context_mark
        line = f":{mark.line + 1}" if mark else ""
        raise ConfigError([f"{filename}{line}: YAML error: {exc.problem}"]) from None
    except (ValueError, OverflowError, RecursionError) as exc:
        raise ConfigError([f"{filename}: cannot read a value: {brief(str(exc), 200)}"]) from None
    if problems:
        raise ConfigError(problems)
    return YamlSource(filename, data, lines)
