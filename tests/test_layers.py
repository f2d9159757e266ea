"""The house's shape, drawn from the imports: layers that only import downwards, no
circle, the configuration read only at the edge, and modules of a readable size.
docs/development.md draws the same layers."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1] / "monitor"

# Lowest first; a module may import its own layer and the ones before it. A module is
# placed by the longest prefix that names it.
LAYERS: list[tuple[str, tuple[str, ...]]] = [
    (
        "base",
        (
            "monitor",
            "monitor.addresses",
            "monitor.early_stop",
            "monitor.feedlinks",
            "monitor.lifecycle",
            "monitor.logs",
            "monitor.models",
            "monitor.opml",
            "monitor.pidfile",
            "monitor.progress",
            "monitor.redact",
            "monitor.schedule",
            "monitor.templates",
            "monitor.text",
            "monitor.workers",
            "monitor.yaml_source",
        ),
    ),
    (
        "domain",
        (
            "monitor.alerting",
            "monitor.dedupe",
            "monitor.feed_views",
            "monitor.fingerprint",
            "monitor.languages",
            "monitor.match",
            "monitor.notify.rules",
            "monitor.outcome",
            "monitor.parse",
            "monitor.poll_days",
            "monitor.sources",
            "monitor.spread",
            "monitor.views",
        ),
    ),
    (
        "infrastructure",
        ("monitor.fetch", "monitor.notify", "monitor.robots", "monitor.store", "monitor.websub"),
    ),
    (
        "pipeline",
        (
            "monitor.discover",
            "monitor.fulltext",
            "monitor.health",
            "monitor.ingest",
            "monitor.notify.relay",
            "monitor.poll",
            "monitor.preview",
            "monitor.seeds",
            "monitor.sources.index",
            "monitor.web.metrics",
        ),
    ),
    ("configuration", ("monitor.config",)),
    ("wiring", ("monitor.runtime", "monitor.wiring")),
    ("service", ("monitor.daemon", "monitor.jobs", "monitor.web")),
    ("command line", ("monitor.__main__", "monitor.cli")),
]
# Who may read the configuration: the command line, the wiring and the loaders.
READS_CONFIG = ("monitor.cli", "monitor.config", "monitor.runtime", "monitor.wiring")
# Over 400 lines, each one concept that reads best whole.
LONG_MODULES = {
    "monitor/dedupe.py": "story resolution: identity keys and the rules that join",
    "monitor/models.py": "the value types that flow between the stages, side by side",
    "monitor/sources/fast.py": "one reader: RSS 2.0 and Atom on lxml, as feedparser reads them",
    "monitor/store/base.py": "the storage contract, one method per operation",
    "monitor/store/stories.py": "saving one batch into its stories, step by step",
}


def module_name(path: Path) -> str:
    """``monitor/store/base.py`` → ``monitor.store.base``."""
    parts = list(path.relative_to(ROOT.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def modules() -> dict[str, Path]:
    """Every module of the package, by name."""
    return {module_name(path): path for path in sorted(ROOT.rglob("*.py"))}


def imports_of(name: str, path: Path, known: set[str]) -> set[str]:
    """The package's modules that ``name`` imports (``from monitor.store import x``
    counts as importing ``monitor.store.x`` when that is a module)."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                source = ".".join([*base, *([node.module] if node.module else [])])
            else:
                source = node.module or ""
            for alias in node.names:
                found.add(f"{source}.{alias.name}" if f"{source}.{alias.name}" in known else source)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return {each for each in found if each in known and each != name}


def layer_of(name: str) -> int:
    """The index of the layer whose longest prefix names the module."""
    best, depth = -1, -1
    for position, (_, prefixes) in enumerate(LAYERS):
        for prefix in prefixes:
            if (name == prefix or name.startswith(prefix + ".")) and len(prefix) > depth:
                best, depth = position, len(prefix)
    return best


@pytest.fixture(scope="module")
def graph() -> dict[str, set[str]]:
    found = modules()
    return {name: imports_of(name, path, set(found)) for name, path in found.items()}


def test_every_module_has_a_layer(graph: dict[str, set[str]]) -> None:
    assert [name for name in graph if layer_of(name) < 0] == []


def test_imports_only_go_down(graph: dict[str, set[str]]) -> None:
    upward = [
        f"{name} ({LAYERS[layer_of(name)][0]}) imports {target} ({LAYERS[layer_of(target)][0]})"
        for name, targets in graph.items()
        for target in sorted(targets)
        # a package's __init__ re-exporting its own modules is not an arrow up
        if layer_of(target) > layer_of(name) and not target.startswith(name + ".")
    ]
    assert upward == []


def test_no_module_imports_itself_in_a_circle(graph: dict[str, set[str]]) -> None:
    visiting: set[str] = set()
    done: set[str] = set()
    circles: list[str] = []

    def visit(name: str, trail: list[str]) -> None:
        if name in done:
            return
        if name in visiting:
            circles.append(" -> ".join([*trail[trail.index(name) :], name]))
            return
        visiting.add(name)
        for target in sorted(graph[name]):
            visit(target, [*trail, name])
        visiting.discard(name)
        done.add(name)

    for name in sorted(graph):
        visit(name, [])
    assert circles == []


def test_only_the_edge_reads_the_configuration(graph: dict[str, set[str]]) -> None:
    readers = sorted(
        name
        for name, targets in graph.items()
        if any(
            target == "monitor.config" or target.startswith("monitor.config.") for target in targets
        )
        and not any(name == edge or name.startswith(edge + ".") for edge in READS_CONFIG)
    )
    assert readers == []


def test_modules_stay_readable() -> None:
    long = {
        str(path.relative_to(ROOT.parent)): len(path.read_text(encoding="utf-8").splitlines())
        for path in ROOT.rglob("*.py")
    }
    over = sorted(name for name, lines in long.items() if lines > 400 and name not in LONG_MODULES)
    assert over == []
