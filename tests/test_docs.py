"""Every example in the README and docs/ is checked: YAML blocks load as configurations
(or as the compose file, or the discovery output they show), JSON blocks are JSON, and
every ``news-monitor`` command line parses, its ``--query`` included."""

from __future__ import annotations

import json
import re
import shlex
from pathlib import Path

import pytest
import yaml

from monitor.cli import build_parser
from monitor.config import parse_settings
from monitor.match import parse_query

ROOT = Path(__file__).resolve().parents[1]
PAGES = sorted([ROOT / "README.md", *(ROOT / "docs").glob("*.md")])
FENCE = re.compile(r"^```(\w*)\n(.*?)^```", re.MULTILINE | re.DOTALL)
# What the examples' ${VARIABLES} stand for.
ENVIRONMENT = {
    "SLACK_WEBHOOK_URL": "https://hooks.slack.com/services/T000/B000/XXXX",
    "WEBHOOK_SECRET": "whsec_" + "MDEyMzQ1Njc4OWFiY2RlZg==",
    "NEWS_MONITOR_PUBLIC_URL": "https://news.example.org",
    "NEWS_MONITOR_WEB_TOKEN": "a-token-of-sixteen-chars",
    "NTFY_TOKEN": "tk_example",
    "DATABASE_URL": "postgresql://news@db.example/news",
    "PGPASSWORD": "a-password",
}
SETTINGS_KEYS = {
    "aliases",
    "cluster",
    "defaults",
    "feeds",
    "fulltext",
    "health",
    "http",
    "notifiers",
    "storage",
    "stories",
    "watchlists",
    "web",
    "websub",
}


def blocks(kind: str) -> list[tuple[str, str]]:
    """(where, text) of every fenced block of ``kind`` ("" for a bare fence)."""
    found = []
    for page in PAGES:
        text = page.read_text(encoding="utf-8")
        for match in FENCE.finditer(text):
            if match.group(1) == kind:
                line = text.count("\n", 0, match.start()) + 1
                found.append((f"{page.relative_to(ROOT)}:{line}", match.group(2)))
    return found


def words_of(line: str) -> list[list[str]]:
    """The words of each command of a shell line (split at ``&&``, ``|``, ``;``)."""
    lexer = shlex.shlex(line, posix=True, punctuation_chars=True)
    lexer.whitespace_split = True
    commands: list[list[str]] = [[]]
    for word in lexer:
        if word and set(word) <= set("&|;"):
            commands.append([])
        else:
            commands[-1].append(word)
    return [words for words in commands if words]


def command_lines() -> list[tuple[str, list[str]]]:
    """Every ``news-monitor …`` command: each line of a shell block, and each line after
    a ``$`` prompt in a block of output."""
    lines = [
        (where, line)
        for where, text in blocks("sh")
        for line in text.replace("\\\n", " ").splitlines()
        if line.strip() and not line.lstrip().startswith("#")
    ]
    lines += [
        (where, line.removeprefix("$ "))
        for where, text in blocks("") + blocks("console")
        for line in text.splitlines()
        if line.startswith("$ ")
    ]
    found = []
    for where, line in lines:
        for words in words_of(line):
            for index, word in enumerate(words):
                if word.endswith("news-monitor"):
                    found.append((where, words[index + 1 :]))
                    break
                if words[index : index + 3] == ["python", "-m", "monitor"]:
                    found.append((where, words[index + 3 :]))
                    break
    return found


@pytest.mark.parametrize(("where", "text"), blocks("yaml"), ids=lambda value: str(value)[:40])
def test_yaml_examples_are_valid(where: str, text: str, tmp_path: Path) -> None:
    data = yaml.safe_load(text)
    assert isinstance(data, dict | list), where
    if isinstance(data, dict) and "services" in data:
        return  # the compose file: .ci/run checks it with docker-compose config
    if isinstance(data, list) or not set(data) & SETTINGS_KEYS:
        return  # a fragment shown on its own (discovery output, a notifier's keys)
    # Secret files an example names are made here, with something of the right shape.
    for path in re.findall(r"_file: (/\S+)", text):
        target = tmp_path / Path(path).name
        target.write_text(
            ENVIRONMENT["WEBHOOK_SECRET"] if "secret" in path else ENVIRONMENT["SLACK_WEBHOOK_URL"]
        )
        text = text.replace(path, str(target))
    for path in re.findall(r"opml: (\S+)", text):
        (tmp_path / path).write_text('<opml version="2.0"><body/></opml>')
    parse_settings(text, str(tmp_path / "monitor.yaml"), ENVIRONMENT)


def test_the_example_configuration_file_is_valid() -> None:
    path = ROOT / "config" / "monitor.yaml"
    parse_settings(path.read_text(encoding="utf-8"), str(path), ENVIRONMENT)


@pytest.mark.parametrize(("where", "text"), blocks("json"), ids=lambda value: str(value)[:40])
def test_json_examples_are_json(where: str, text: str) -> None:
    json.loads(text)


@pytest.mark.parametrize(("where", "words"), command_lines(), ids=lambda value: str(value)[:60])
def test_command_lines_parse(where: str, words: list[str]) -> None:
    try:
        args = build_parser().parse_args(words)
    except SystemExit as exit:
        raise AssertionError(f"{where}: news-monitor {shlex.join(words)} does not parse") from exit
    if getattr(args, "query", None):
        parse_query(args.query, {"karabakh": ["Karabakh"]})


def test_the_docs_show_commands_and_configurations() -> None:
    """The checks above find what they check (a fence the pattern missed checks nothing)."""
    assert len(blocks("yaml")) >= 10
    assert len(command_lines()) >= 8
