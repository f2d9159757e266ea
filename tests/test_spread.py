"""Spreading stories (``monitor/spread.py``): sites, report times and the window; the
``spread:`` key of a watchlist; and what ``wiring`` makes of it."""

from __future__ import annotations

from datetime import timedelta

import pytest

from monitor.config import ConfigError, parse_settings
from monitor.spread import Report, SpreadRule, reported_at, site_of, spread_of
from monitor.wiring.watchlists import compile_watchlists, spread_rules

HOUR = 3600.0
RULE = SpreadRule("spreading", 3, timedelta(hours=2), ("console",))


@pytest.mark.parametrize(
    ("url", "site"),
    [
        ("https://feeds.bbci.co.uk/news/world/rss.xml", "bbci.co.uk"),
        ("https://www.bbci.co.uk/news/rss.xml", "bbci.co.uk"),
        ("https://rss.cnn.com/rss/edition.rss", "cnn.com"),
        ("https://news.google.com/rss", "google.com"),
        ("https://someone.blogspot.com/feeds/posts/default", "someone.blogspot.com"),
        ("https://EXAMPLE.org./feed", "example.org"),
        ("http://127.0.0.1:8080/a.xml", "http://127.0.0.1:8080/a.xml"),
        ("http://[::1]:8080/a.xml", "http://[::1]:8080/a.xml"),
        ("http://localhost/feed", "http://localhost/feed"),
        ("seed:local", "seed:local"),
    ],
)
def test_a_site_is_a_registrable_domain_or_the_feed_itself(url: str, site: str) -> None:
    assert site_of(url) == site


def test_a_report_is_dated_by_its_publication_unless_absent_or_in_the_future() -> None:
    assert reported_at(None, 100.0) == 100.0
    assert reported_at(40.0, 100.0) == 40.0
    assert reported_at(500.0, 100.0) == 100.0


def reports(*times: tuple[str, float]) -> list[Report]:
    return [Report(n, url, at) for n, (url, at) in enumerate(times)]


def test_enough_sites_within_the_window_spread_in_the_order_they_reported() -> None:
    found = spread_of(
        RULE,
        reports(
            ("https://c.example/f", 2.0), ("https://a.example/f", 0.0), ("https://b.example/f", 1.0)
        ),
        now=3.0,
    )
    assert found is not None
    assert found.sites == ("a.example", "b.example", "c.example")
    assert [report.item_id for report in found.reports] == [1, 2, 0]


def test_the_window_ends_now() -> None:
    spread = reports(
        ("https://a.example/f", 0.0),
        ("https://b.example/f", HOUR),
        ("https://c.example/f", 2.5 * HOUR),
    )
    assert spread_of(RULE, spread, now=2.5 * HOUR) is None  # a is 2.5 hours old
    assert spread_of(RULE, spread, now=1.5 * HOUR) is not None  # c is later; as if absent…


def test_one_site_counts_once_and_a_rule_counts_only_what_it_watches() -> None:
    same = reports(
        ("https://feeds.a.example/1", 0.0),
        ("https://www.a.example/2", 0.0),
        ("https://b.example/f", 0.0),
    )
    assert spread_of(RULE, same, now=1.0) is None
    three = [*same, Report(9, "https://c.example/f", 0.5)]
    assert spread_of(RULE, three, now=1.0) is not None
    scoped = SpreadRule(
        "s", 3, timedelta(hours=2), (), feed_urls=frozenset({"https://c.example/f"})
    )
    assert spread_of(scoped, three, now=1.0) is None


def test_a_rule_with_terms_wants_one_matching_report_in_the_window() -> None:
    rule = SpreadRule("k", 2, timedelta(hours=2), (), needs_match=True)
    plain = reports(("https://a.example/f", 0.0), ("https://b.example/f", 0.0))
    assert spread_of(rule, plain, now=1.0) is None
    matched = [Report(5, "https://c.example/f", 0.0, frozenset({"k"})), *plain]
    assert spread_of(rule, matched, now=1.0) is not None
    old_match = [Report(5, "https://c.example/f", -3 * HOUR, frozenset({"k"})), *plain]
    assert spread_of(rule, old_match, now=1.0) is None


# -- the configuration ------------------------------------------------------------------

SPREAD_CONFIG = """\
feeds:
  - {url: https://a.example/feed, tags: [caucasus]}
  - {url: https://b.example/feed}
notifiers:
  hook: {type: webhook, url: https://hooks.example/x}
watchlists:
  - name: anything-spreading
    spread: {sources: 5, within: 2h}
  - name: karabakh-spreading
    query: karabakh OR artsakh
    spread: {sources: 3, within: 90m}
    tags: [caucasus]
  - name: karabakh
    any: [karabakh]
"""


def test_spread_watchlists_are_counted_by_the_store_and_matched_only_with_terms() -> None:
    settings = parse_settings(SPREAD_CONFIG, "monitor.yaml", {})
    rules = spread_rules(settings)
    assert rules == (
        SpreadRule("anything-spreading", 5, timedelta(hours=2), ("hook",)),
        SpreadRule(
            "karabakh-spreading",
            3,
            timedelta(minutes=90),
            ("hook",),
            feed_urls=frozenset({"https://a.example/feed"}),
            needs_match=True,
        ),
    )
    assert [spec.name for spec in compile_watchlists(settings).specs] == [
        "karabakh-spreading",
        "karabakh",
    ]


@pytest.mark.parametrize(
    ("spread", "problem"),
    [
        ("{sources: 1, within: 2h}", "spread.sources: Input should be greater than or equal to 2"),
        ("{sources: 5}", "spread.within: required key is missing"),
        ("{sources: 5, within: 0s}", "spread.within:"),
        ("{sources: 5, within: 2h, by: site}", "spread.by:"),
        ("{sources: 5, within: 2h}\n    follow_ups: message", "follow_ups: does not apply"),
        ("{sources: 5, within: 2h}\n    digest: '0 8 * * *'", "digest: does not apply"),
        ("{sources: 5, within: 2h}\n    none: [football]", "none: needs terms in any: or all:"),
    ],
)
def test_a_bad_spread_is_named(spread: str, problem: str) -> None:
    text = f"watchlists:\n  - name: w\n    spread: {spread}\n"
    with pytest.raises(ConfigError) as caught:
        parse_settings(text, "monitor.yaml", {})
    assert any(problem in line for line in caught.value.problems), caught.value.problems
