"""Stories quality and speed: ``python -m benchmarks.stories [--items N]``.

A generated set of news-like items with known truth: original stories, copies of them
with the edits re-posts make (boilerplate added or removed, headline changed, words
swapped, "BREAKING:", lead paragraphs only, sentences reordered), and distinct look-alikes
(the same headline over a new text, a follow-up that re-uses a background paragraph, the
same topic's words). Every item goes through the real path: ``identify`` (fingerprints)
and ``SQLiteStore.save_poll`` (candidates, ``resolve_story``, insert). Reported: pairwise
precision and recall of "same story", items/s for fingerprint + lookup + insert on one
core, the store's size per 100,000 items, and the cross-feed clusters on the real corpus.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import sqlite3
import tempfile
import time
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from benchmarks import CORPUS
from monitor.dedupe import identify
from monitor.models import FeedSpec, Item, NewItem, PollRecord
from monitor.parse import ParseError, parse_feed
from monitor.store import SQLiteStore

NOW = datetime(2026, 11, 28, tzinfo=UTC)
FEEDS = 50
SYLLABLES = [
    "ka",
    "ra",
    "bakh",
    "mos",
    "cow",
    "ar",
    "me",
    "ni",
    "a",
    "zer",
    "bai",
    "jan",
    "truce",
    "lav",
    "rov",
    "pa",
    "shi",
    "nyan",
    "al",
    "i",
    "yev",
    "ste",
    "pan",
    "kert",
]
BOILERPLATE = [
    ["Source link", "Leave a Reply"],
    ["Share this:", "Click to share on Twitter (Opens in new window)", "Related"],
    ["By Staff Writer"],
    ["The post {title} appeared first on Daily Wire Copies."],
]
EDITS = ["boilerplate", "headline", "swap", "breaking", "lead", "reorder", "unboilerplate"]


@dataclass(frozen=True)
class Labelled:
    """A generated item, the story it truly belongs to, and the feed that carries it."""

    item: Item
    story: int
    feed: int
    kind: str  # original, copy:<edits>, lookalike


class Newsroom:
    """Writes articles: topical words, sentences, paragraphs, from a fixed random seed."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.vocabulary = sorted(
            {
                "".join(self.rng.choice(SYLLABLES) for _ in range(self.rng.randint(1, 3)))
                for _ in range(9000)
            }
        )
        self.common = [
            "the",
            "a",
            "of",
            "to",
            "and",
            "in",
            "said",
            "on",
            "for",
            "that",
            "with",
            "was",
            "as",
            "by",
            "at",
            "from",
            "is",
            "it",
        ]

    def topic(self) -> list[str]:
        return self.rng.sample(self.vocabulary, 40)

    def word(self, topic: list[str]) -> str:
        roll = self.rng.random()
        if roll < 0.35:
            return self.rng.choice(self.common)
        if roll < 0.65 and topic:
            return self.rng.choice(topic)
        return self.rng.choice(self.vocabulary)

    def sentence(self, topic: list[str]) -> str:
        words = [self.word(topic) for _ in range(self.rng.randint(12, 26))]
        return " ".join(words).capitalize() + "."

    def paragraph(self, topic: list[str]) -> str:
        return " ".join(self.sentence(topic) for _ in range(self.rng.randint(2, 3)))

    def article(self, topic: list[str]) -> tuple[str, list[str]]:
        title = " ".join(self.word(topic) for _ in range(self.rng.randint(6, 10))).capitalize()
        return title, [self.paragraph(topic) for _ in range(self.rng.randint(4, 8))]


def _edit(
    newsroom: Newsroom, title: str, paragraphs: list[str], edit: str
) -> tuple[str, list[str]]:
    rng = newsroom.rng
    if edit == "boilerplate":
        extra = [line.format(title=title) for line in rng.choice(BOILERPLATE)]
        return title, [*paragraphs, *extra]
    if edit == "unboilerplate":
        return title, [p for p in paragraphs if "Source link" not in p and "Leave a" not in p]
    if edit == "headline":
        return " ".join(
            newsroom.word([]) for _ in range(rng.randint(5, 9))
        ).capitalize(), paragraphs
    if edit == "swap":
        text = [p.split(" ") for p in paragraphs]
        for words in text:
            for _ in range(max(1, len(words) // 30)):
                words[rng.randrange(len(words))] = newsroom.word([])
        return title, [" ".join(words) for words in text]
    if edit == "breaking":
        return f"BREAKING: {title}", paragraphs
    if edit == "lead":
        return title, paragraphs[: rng.randint(1, 3)]
    if edit == "reorder":
        shuffled = paragraphs[:]
        rng.shuffle(shuffled)
        return title, shuffled
    raise ValueError(edit)


def generate(count: int, seed: int = 7) -> list[Labelled]:
    """About ``count`` items: 40% originals, 40% copies, 20% look-alikes, shuffled."""
    newsroom = Newsroom(seed)
    rng = newsroom.rng
    made: list[Labelled] = []
    story = 0
    while len(made) < count:
        story += 1
        topic = newsroom.topic()
        title, paragraphs = newsroom.article(topic)
        if rng.random() < 0.3:
            paragraphs = [*paragraphs, "Source link", "Leave a Reply"]  # a scraped original
        original = story
        home = rng.randrange(FEEDS)
        made.append(Labelled(_item(f"s{story}", title, paragraphs), original, home, "original"))
        for copy_number in range(rng.choice([0, 1, 1, 2])):
            edits = rng.sample(EDITS, rng.choice([1, 1, 2]))
            copy_title, copy_paragraphs = title, paragraphs
            for edit in edits:
                copy_title, copy_paragraphs = _edit(newsroom, copy_title, copy_paragraphs, edit)
            key = f"s{story}-c{copy_number}"
            made.append(
                Labelled(
                    _item(key, copy_title, copy_paragraphs),
                    original,
                    (home + 1 + rng.randrange(FEEDS - 1)) % FEEDS,  # a re-post: another site
                    "copy:" + "+".join(edits),
                )
            )
        if rng.random() < 0.5:
            story += 1
            new_title, new_paragraphs = newsroom.article(topic)
            roll = rng.random()
            if roll < 0.4:
                new_title = title  # the same headline over a new text
            if roll > 0.6:
                new_paragraphs = [*new_paragraphs[:3], rng.choice(paragraphs)]  # re-used background
            made.append(
                Labelled(
                    _item(f"s{story}", new_title, new_paragraphs),
                    story,
                    rng.randrange(FEEDS),
                    "lookalike",
                )
            )
    rng.shuffle(made)
    return made[:count]


def _item(key: str, title: str, paragraphs: list[str]) -> Item:
    html = "".join(f"<p>{paragraph}</p>" for paragraph in paragraphs)
    return Item(entry_key=key, guid=key, title=title, link=None, summary="", content=html)


def _pairs(counts: Mapping[Any, int]) -> int:
    return sum(n * (n - 1) // 2 for n in counts.values())


@dataclass
class Quality:
    precision: float
    recall: float
    fingerprint_s: float
    store_s: float
    items: int
    bytes_per_100k: float
    keys_per_item: float
    missed_by_kind: Counter[str]


async def _store_all(
    path: Path, labelled: list[Labelled], batch: int = 50
) -> tuple[float, dict[str, int]]:
    async with SQLiteStore(path) as store:
        specs = [
            FeedSpec(f"https://feed{n}.example/rss", None, timedelta(minutes=5), False)
            for n in range(50)
        ]
        await store.sync_feeds(specs, NOW)
        ids = {feed.url: feed.id for feed in await store.feeds()}
        started = time.perf_counter()
        by_feed: dict[int, list[Item]] = {}
        for entry in labelled:
            by_feed.setdefault(entry.feed, []).append(entry.item)
            if len(by_feed[entry.feed]) == batch:
                items = by_feed.pop(entry.feed)
                await store.save_poll(
                    ids[specs[entry.feed].url],
                    [NewItem(i) for i in items],
                    PollRecord(NOW, NOW, 200, None),
                    alert=False,
                )
        for feed, items in by_feed.items():
            await store.save_poll(
                ids[specs[feed].url],
                [NewItem(i) for i in items],
                PollRecord(NOW, NOW, 200, None),
                alert=False,
            )
        took = time.perf_counter() - started
    with sqlite3.connect(path) as db:
        story_of = dict(db.execute("SELECT entry_key, story_id FROM items"))
    return took, story_of


def measure(count: int) -> Quality:
    """Generate, fingerprint and store ``count`` items; score the stories found."""
    labelled = generate(count)
    started = time.perf_counter()
    identified = identify([entry.item for entry in labelled])
    fingerprint_s = time.perf_counter() - started
    labelled = [replace(entry, item=item) for entry, item in zip(labelled, identified, strict=True)]
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "stories.db"
        store_s, story_of = asyncio.run(_store_all(path, labelled))
        with sqlite3.connect(path) as db:
            db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            (keys,) = db.execute("SELECT COUNT(*) FROM identity_keys").fetchone()
        size = path.stat().st_size
    truth = Counter(entry.story for entry in labelled)
    found = Counter(story_of[entry.item.entry_key] for entry in labelled)
    both = Counter((entry.story, story_of[entry.item.entry_key]) for entry in labelled)
    true_pairs, found_pairs, agreed = _pairs(truth), _pairs(found), _pairs(both)
    # Which copies were not recognised: a copy whose story holds none of its original's.
    original_story = {
        entry.story: story_of[entry.item.entry_key]
        for entry in labelled
        if entry.kind == "original"
    }
    missed: Counter[str] = Counter()
    for entry in labelled:
        if entry.kind.startswith("copy") and story_of[entry.item.entry_key] != original_story.get(
            entry.story
        ):
            missed[entry.kind] += 1
    return Quality(
        precision=agreed / found_pairs if found_pairs else 1.0,
        recall=agreed / true_pairs if true_pairs else 1.0,
        fingerprint_s=fingerprint_s,
        store_s=store_s,
        items=len(labelled),
        bytes_per_100k=size / len(labelled) * 100_000,
        keys_per_item=keys / len(labelled),
        missed_by_kind=missed,
    )


def corpus_clusters() -> list[tuple[str, list[str]]]:
    """Stories that span several feeds of the captured corpus: (why, titles)."""
    if not CORPUS.is_dir():
        return []

    async def run(path: Path) -> list[tuple[str, list[str]]]:
        async with SQLiteStore(path) as store:
            names = [p.name for p in sorted(CORPUS.iterdir()) if p.name != "LICENSE"]
            specs = [
                FeedSpec(f"https://corpus.example/{name}", None, timedelta(minutes=5), False)
                for name in names
            ]
            await store.sync_feeds(specs, NOW)
            for feed in await store.feeds():
                name = feed.url.rsplit("/", 1)[1]
                try:
                    parsed = parse_feed((CORPUS / name).read_bytes(), {}, feed.url)
                except ParseError:
                    continue
                await store.save_poll(
                    feed.id,
                    [NewItem(i) for i in parsed.items],
                    PollRecord(NOW, NOW, 200, None),
                    alert=False,
                )
            clusters = []
            for story in await store.stories(limit=100_000):
                feeds = {member.feed_url for member in story.items}
                if len(feeds) > 1:
                    why = ",".join(sorted({m.joined_by or "" for m in story.items} - {""}))
                    clusters.append((why, [m.item.title[:60] for m in story.items]))
            return clusters

    with tempfile.TemporaryDirectory() as tmp:
        return asyncio.run(run(Path(tmp) / "corpus.db"))


def main() -> None:
    """``python -m benchmarks.stories [--items N]``: this benchmark alone."""
    options = argparse.ArgumentParser(description=__doc__)
    options.add_argument("--items", type=int, default=12_000)
    report(options.parse_args().items)


def report(items: int) -> None:
    """Print the quality table and the corpus clusters."""
    quality = measure(items)
    per_item = quality.fingerprint_s + quality.store_s
    rows = [
        ("precision of 'same story'", f"{quality.precision:.4f}", "target >= 0.99"),
        ("recall of 'same story'", f"{quality.recall:.4f}", "target >= 0.95"),
        ("fingerprint (identify)", f"{quality.items / quality.fingerprint_s:,.0f}", "items/s"),
        ("lookup + resolve + insert", f"{quality.items / quality.store_s:,.0f}", "items/s"),
        ("all three, one core", f"{quality.items / per_item:,.0f}", "items/s (target 20,000)"),
        (
            "store size per 100,000 items",
            f"{quality.bytes_per_100k / 1e6:.0f} MB",
            f"{quality.keys_per_item:.1f} identity keys per item",
        ),
    ]
    print(f"stories over {quality.items:,} generated items")
    for name, value, note in rows:
        print(f"  {name:<30} {value:>10}  {note}")
    if quality.missed_by_kind:
        missed = ", ".join(f"{k} {v}" for k, v in quality.missed_by_kind.most_common())
        print(f"  copies not recognised, by edit: {missed}")
    clusters = corpus_clusters()
    if clusters:
        print(f"corpus: {len(clusters)} stories span several feeds")
        for why, titles in clusters:
            print(f"  [{why}] " + " | ".join(titles))


if __name__ == "__main__":
    main()
