"""YAML composition: lines for every key path, env expansion, duplicate keys."""

from __future__ import annotations

import pytest

from monitor.yaml_source import ConfigError, compose, dotted, expand_env

TEXT = """\
feeds:
  - url: https://a.example/feed
    tags: [x, y]
notifiers:
  ops: {type: webhook, url: "${URL:-https://h.example/}"}
"""


def test_every_key_path_has_its_line() -> None:
    source = compose(TEXT, "m.yaml", {})
    assert source.lines[("feeds", 0, "url")] == 2
    assert source.lines[("feeds", 0, "tags", 1)] == 3
    assert source.data["notifiers"]["ops"]["url"] == "https://h.example/"
    assert source.problem(("feeds", 0, "tags", 1), "bad") == "m.yaml:3 feeds[0].tags[1]: bad"
    assert source.problem(("feeds", 0, "absent"), "x") == "m.yaml:2 feeds[0].absent: x"


def test_pydantic_locations_lose_their_union_tags() -> None:
    source = compose(TEXT, "m.yaml", {})
    assert source.path_of(("notifiers", "ops", "webhook", "url")) == ("notifiers", "ops", "url")
    assert source.path_of(("feeds", 0, "name")) == ("feeds", 0, "name")


def test_duplicate_keys_are_errors() -> None:
    with pytest.raises(ConfigError) as caught:
        compose("storage: a\nstorage: b\n", "m.yaml", {})
    assert caught.value.problems == ["m.yaml:2 storage: duplicate key"]


def test_anchors_and_merge_keys_work() -> None:
    text = "base: &base {interval: 5m}\nfeed:\n  <<: *base\n  url: u\n"
    assert compose(text, "m.yaml", {}).data["feed"] == {"interval": "5m", "url": "u"}


def test_expand_env() -> None:
    env = {"A": "1"}
    assert expand_env("${A}-${B:-2}-$$-${C:-}", env) == "1-2-$-"
    with pytest.raises(KeyError):
        expand_env("${MISSING}", env)


def test_dotted() -> None:
    assert dotted(("watchlists", 1, "notify", 0)) == "watchlists[1].notify[0]"
    assert dotted(()) == "(top level)"
