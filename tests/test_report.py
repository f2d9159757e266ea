"""What the CLI prints: highlighted matches, summaries."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from monitor.match import Document
from monitor.models import Item, MatchedTerm, StoredItem
from monitor.views import highlight_match
from tests.support.matching import OneWatchlist


def stored(title: str, summary: str) -> StoredItem:
    item = Item(
        entry_key="k",
        guid="k",
        title=title,
        link="https://n.example/k",
        summary=summary,
        content="",
    )
    return StoredItem(1, 1, "https://n.example/feed", "News", item, datetime.now(UTC))


def test_matches_are_marked_in_title_and_in_an_excerpt_cut_at_words() -> None:
    words = " ".join(f"word{n}" for n in range(60))
    entry = stored("Truce in Qarabağ", f"{words} the cessation of hostilities began {words}")
    document = Document.of(entry.item)
    terms = OneWatchlist(any=["qarabag"], all=['"cessation of hostilities"']).match(document)
    assert terms is not None
    text = highlight_match("w", entry, document.fields, terms, color=False)
    title, excerpt, link, facts = text.splitlines()
    assert title == "[w] Truce in **Qarabağ**"
    assert "**cessation of hostilities**" in excerpt
    assert excerpt.startswith("  …word")
    assert excerpt.endswith("…")
    whole_words = set(f"{words} the cessation of hostilities began".split())
    assert set(excerpt.replace("**", "").strip(" …").split()) <= whole_words  # none cut
    assert link == "  https://n.example/k"
    assert facts == "  News · matched: qarabag (title), cessation of hostilities (summary)"


def test_overlapping_matches_get_one_mark() -> None:
    entry = stored("Talks on Nagorno-Karabakh", "")
    document = Document.of(entry.item)
    terms = OneWatchlist(any=["Karabakh", "Nagorno-Karabakh"]).match(document)
    assert terms == (MatchedTerm("Karabakh", "title"), MatchedTerm("Nagorno-Karabakh", "title"))
    text = highlight_match("w", entry, document.fields, terms, color=False)
    assert text.splitlines()[0] == "[w] Talks on **Nagorno-Karabakh**"


def test_color_uses_terminal_bold() -> None:
    entry = stored("Karabakh truce", "")
    document = Document.of(entry.item)
    terms = OneWatchlist(any=["truce"]).match(document)
    assert terms is not None
    text = highlight_match("w", entry, document.fields, terms, color=True)
    assert "\x1b[1;33mtruce\x1b[0m" in text


def test_a_feed_shows_how_a_hub_pushes_it_or_why_not() -> None:
    from datetime import timedelta

    from monitor.feed_views import feed_json, feed_line
    from monitor.models import FeedState, Subscription

    now = datetime(2026, 11, 29, 12, tzinfo=UTC)
    feed = FeedState(
        1, "https://n.example/feed", "N", None, timedelta(minutes=10), True, True,
        None, None, now, 0, None, last_polled_at=now, kind="feed",
    )  # fmt: skip
    denied = Subscription(
        1, feed.url, "https://hub.example/", feed.url, "tok", "sec", "denied",
        last_error="topic not allowed",
    )  # fmt: skip
    assert "push DENIED by https://hub.example/ (last: topic not allowed)" in feed_line(
        feed, denied
    )
    shown = feed_json(feed, denied)["websub"]
    assert shown == {
        "state": "denied",
        "hub": "https://hub.example/",
        "topic": feed.url,
        "lease_until": None,
        "last_error": "topic not allowed",
    }
    assert "tok" not in str(shown) and "sec" not in str(shown)  # never the credentials
    active = Subscription(
        1, feed.url, "https://hub.example/", feed.url, "tok", "sec", "active",
        lease_until=now + timedelta(days=7),
    )  # fmt: skip
    assert "pushed by https://hub.example/ until 2026-12-06T12:00:00Z" in feed_line(feed, active)
    assert feed_json(feed)["websub"] is None


def test_check_says_which_notifiers_post_to_private_addresses(tmp_path: Path) -> None:
    """Notifier URLs are the operator's own configuration: they may name a receiver on
    this network (the private-network guard is for what feeds name), and check says so."""
    from monitor.cli.summaries import check_summary
    from monitor.config import parse_settings

    settings = parse_settings(
        """
notifiers:
  local: {type: webhook, url: "http://127.0.0.1:8000/hook"}
  lan: {type: webhook, url: "http://[::127.0.0.1]/hook"}
  named: {type: webhook, url: "http://receiver.localhost/hook"}
  public: {type: slack, url: "https://hooks.slack.com/services/T0/B0/x"}
""",
        str(tmp_path / "monitor.yaml"),
        {},
    )
    lines = {
        line.split(":", 1)[0].strip(" -"): line
        for line in check_summary(settings, tmp_path / "monitor.yaml").splitlines()
        if line.startswith("  - ")
    }
    for name in ("local", "lan", "named"):
        assert lines[name].endswith("(a private or local address)"), lines[name]
    assert "private" not in lines["public"]
