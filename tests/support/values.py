"""Values tests build on: settings from YAML on a fresh SQLite file, alerts queued in
a store, and a clock the test moves by hand."""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

from monitor.config import Settings, parse_settings

# The captured real feeds (tests that read them skip when they are absent).
CORPUS = Path(__file__).resolve().parents[3] / "shared" / "corpus" / "feeds"


def make_settings(tmp_path: Path, yaml_text: str, **env: str) -> Settings:
    """Settings from YAML, stored in a fresh SQLite file under tmp_path.

    Articles are not read unless the YAML says ``fulltext``: most tests' items link to
    made-up hosts, and looking those up waits on a resolver that may never answer; the
    tests of full text serve their articles and say so."""
    text = textwrap.dedent(yaml_text)
    if "storage:" not in text:
        text = f"storage: sqlite:///{tmp_path / 'monitor.db'}\n" + text
    settings = parse_settings(text, "test.yaml", env)
    if "fulltext" in text:
        return settings
    defaults = settings.defaults.model_copy(update={"fulltext": "off"})
    return settings.model_copy(update={"defaults": defaults})


async def queue_alerts(
    store: Any,
    entries: list[tuple[str, str]],
    notifiers: tuple[str, ...] = ("hook",),
    feed_url: str = "https://news.example/feed",
    summary: str = "Armenia and Azerbaijan agreed to a humanitarian ceasefire.",
    now: Any = None,
    watchlist: str = "karabakh",
) -> None:
    """Store one item per (key, title) on a feed and queue an alert for each notifier,
    at ``now`` (the real time unless given)."""
    from datetime import UTC, datetime, timedelta

    from monitor.dedupe import identify
    from monitor.models import FeedSpec, Item, Match, MatchedTerm, NewItem, PollRecord

    now = now or datetime.now(UTC)
    await store.sync_feeds([FeedSpec(feed_url, "News", timedelta(minutes=10), False)], now)
    (feed,) = [feed for feed in await store.feeds() if feed.url == feed_url]
    items = identify(
        [
            Item(
                entry_key=key,
                guid=key,
                title=title,
                link=f"https://news.example/{key}",
                summary=summary,
                content="",
                published=datetime(2020, 10, 10, 9, 0, tzinfo=UTC),
            )
            for key, title in entries
        ]
    )
    terms = (MatchedTerm("ceasefire", "title"), MatchedTerm("Karabakh", "summary"))
    new = [NewItem(item, (Match(watchlist, notifiers, terms),)) for item in items]
    record = PollRecord(now, now + timedelta(minutes=10), 200, None)
    await store.save_poll(feed.id, new, record, alert=True)


class FakeClock:
    """A clock the test moves by hand.

    It starts half a minute after the real time: close enough for signatures to verify
    (receivers allow five minutes), and late enough that what the test queues with the
    real clock after making it is already due, even on a machine so loaded that opening
    a store takes seconds (a second's lead was not: a relay found nothing due and the
    test waited forever for its receiver).
    """

    def __init__(self, start: Any = None) -> None:
        from datetime import UTC, datetime, timedelta

        self.now = start or datetime.now(UTC) + timedelta(seconds=30)

    def __call__(self) -> Any:
        return self.now

    def advance(self, **delta: float) -> None:
        from datetime import timedelta

        self.now += timedelta(**delta)

    async def sleep(self, seconds: float) -> None:
        """A sleep that moves this clock instead of waiting."""
        self.advance(seconds=seconds)
