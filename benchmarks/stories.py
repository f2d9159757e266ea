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


# Templated news: automated match reports, market moves, weather, court and police
# listings, each family with headline templates, sentences with slots for the story's
# own actors and numbers, and standard sentences every story of the family repeats.
FAMILIES: dict[str, dict[str, list[str]]] = {
    "match": {
        "headlines": [
            "{a} beat {b} {n1}-{n2} at {place}",
            "{b} lose {n1}-{n2} to {a}",
            "{a} win {n1}-{n2} against {b}",
        ],
        "slots": [
            "{a} beat {b} {n1}-{n2} at {place} on {day}.",
            "{person} scored for {a} in the {m1}th minute after a corner.",
            "{b} replied through {other} shortly before half-time.",
            "A crowd of {big} watched the match at {place}.",
            "{a} move up to {rank}th place in the table with the win.",
            "{b} have now lost {n3} of their last {n4} matches.",
        ],
        "fixed": [
            "Both managers said they were pleased with the effort of their players.",
            "Tickets for the next home fixture go on sale on Monday at the club shop.",
            "The full fixture list is published on the competition's website.",
            "Highlights of every match are shown on the evening sports programme.",
            "The referee's report will be published by the league later this week.",
            "This report was generated automatically from the league's match data.",
        ],
    },
    "market": {
        "headlines": [
            "Shares of {a} rise {n1}.{n2} percent",
            "{a} stock climbs {n1}.{n2} percent on {day}",
            "{a} gains {n1}.{n2} percent as {b} falls",
        ],
        "slots": [
            "Shares of {a} rose {n1}.{n2} percent to {big} cents on {day}.",
            "{a} said quarterly revenue was {n3} million, above the {n4} million expected.",
            "Analysts at {b} raised their price target on {a} to {big} cents.",
            "{person}, chief executive of {a}, said demand in {place} remained strong.",
            "{a} has gained {m1} percent since the start of the year.",
        ],
        "fixed": [
            "The broader market index closed slightly higher in thin trading.",
            "Trading volume was below the average of the past thirty days.",
            "This article was generated automatically from exchange data.",
            "Investors are waiting for the central bank's decision on interest rates next week.",
            "Past performance is not a guide to future returns.",
        ],
    },
    "weather": {
        "headlines": [
            "{place} weather: {cond} with highs of {n1} degrees",
            "{cond} expected in {place} on {day}",
        ],
        "slots": [
            "{place} can expect {cond} on {day}, with highs of {n1} degrees.",
            "Overnight temperatures in {place} will fall to {n2} degrees.",
            "Winds from the {wind} will reach {m1} kilometres an hour near {other}.",
            "Rainfall of up to {n3} millimetres is forecast for the hills above {place}.",
        ],
        "fixed": [
            "Forecasts are provided by the national weather service and updated every hour.",
            "Drivers are advised to check conditions before setting out.",
            "The forecast for the weekend will be published on Friday morning.",
            "Pollen levels are expected to remain moderate across the region.",
        ],
    },
    "court": {
        "headlines": [
            "{person} sentenced to {n1} years for {crime}",
            "Court jails {person} for {crime}",
        ],
        "slots": [
            "{person}, {m1}, of {place}, was sentenced to {n1} years for {crime} on {day}.",
            "The court heard that {person} had {crime_past} in {other} last {month}.",
            "Judge {judge} said the sentence reflected the harm done to {victim}.",
            "{person} will be eligible for parole after {n2} years.",
        ],
        "fixed": [
            "The hearing at the regional court lasted two days.",
            "Court listings are published every weekday by the court service.",
            "Names are published in line with the court's reporting rules.",
            "The defendant has the right to appeal within twenty-eight days.",
        ],
    },
}
CONDITIONS = ["sunshine", "rain", "heavy showers", "snow", "fog", "thunderstorms", "clear skies"]
WINDS = ["north", "south", "east", "west", "northwest", "southeast"]
CRIMES = [
    ("burglary", "broken into homes"),
    ("fraud", "taken money from investors"),
    ("arson", "set fire to a warehouse"),
    ("theft", "stolen cars"),
    ("assault", "attacked a neighbour"),
]
DAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
MONTHS = ["January", "March", "May", "July", "September", "November"]


class TemplateDesk:
    """Writes templated stories: a family's sentences around one story's own actors."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)

    def name(self) -> str:
        syllables = self.rng.sample(SYLLABLES, self.rng.randint(2, 3))
        return "".join(syllables).capitalize()

    def values(self) -> dict[str, str]:
        rng = self.rng
        crime, crime_past = rng.choice(CRIMES)
        return {
            "a": self.name(),
            "b": self.name(),
            "person": f"{self.name()} {self.name()}",
            "other": self.name(),
            "judge": self.name(),
            "victim": f"{self.name()} {self.name()}",
            "place": f"{self.name()}{rng.choice(['', ' Park', 'ton', 'burg', ' Bay'])}",
            "n1": str(rng.randint(1, 9)),
            "n2": str(rng.randint(0, 9)),
            "n3": str(rng.randint(2, 90)),
            "n4": str(rng.randint(3, 99)),
            "m1": str(rng.randint(10, 89)),
            "big": f"{rng.randint(1, 60)},{rng.randint(100, 999)}",
            "rank": str(rng.randint(2, 19)),
            "day": rng.choice(DAYS),
            "month": rng.choice(MONTHS),
            "cond": rng.choice(CONDITIONS),
            "wind": rng.choice(WINDS),
            "crime": crime,
            "crime_past": crime_past,
        }

    def story(self, family: str, values: dict[str, str]) -> tuple[str, list[str], int]:
        """A headline (and which template), and paragraphs of slot and fixed sentences."""
        rng = self.rng
        parts = FAMILIES[family]
        which = rng.randrange(len(parts["headlines"]))
        slots = [line.format(**values) for line in parts["slots"]]
        fixed = rng.sample(parts["fixed"], rng.randint(2, len(parts["fixed"])))
        sentences = slots[: rng.randint(3, len(slots))] + fixed
        paragraphs = [" ".join(sentences[i : i + 2]) for i in range(0, len(sentences), 2)]
        return parts["headlines"][which].format(**values), paragraphs, which


def _templated_edit(
    desk: TemplateDesk,
    family: str,
    values: dict[str, str],
    title: str,
    which: int,
    paragraphs: list[str],
    edit: str,
) -> tuple[str, list[str]]:
    rng = desk.rng
    if edit == "headline":
        headlines = FAMILIES[family]["headlines"]
        other = (which + 1 + rng.randrange(len(headlines) - 1)) % len(headlines)
        return headlines[other].format(**values), paragraphs
    if edit == "swap":
        text = [p.split(" ") for p in paragraphs]
        for words in text:
            for _ in range(max(1, len(words) // 30)):
                words[rng.randrange(len(words))] = rng.choice(SYLLABLES)
        return title, [" ".join(words) for words in text]
    if edit == "boilerplate":
        extra = [line.format(title=title) for line in rng.choice(BOILERPLATE)]
        return title, [*paragraphs, *extra]
    if edit == "breaking":
        return f"BREAKING: {title}", paragraphs
    if edit == "lead":
        return title, paragraphs[: rng.randint(1, 2)]
    if edit == "reorder":
        shuffled = paragraphs[:]
        rng.shuffle(shuffled)
        return title, shuffled
    return title, paragraphs  # unboilerplate: nothing to remove


def generate_templated(count: int, seed: int = 11) -> list[Labelled]:
    """About ``count`` templated items (90% stories of four families, each carried by
    one feed, 10% copies of them on other feeds with re-post edits), shuffled."""
    desk = TemplateDesk(seed)
    rng = desk.rng
    made: list[Labelled] = []
    story = 0
    while len(made) < count:
        story += 1
        family = rng.choice(list(FAMILIES))
        values = desk.values()
        title, paragraphs, which = desk.story(family, values)
        home = rng.randrange(FEEDS)
        made.append(Labelled(_item(f"t{story}", title, paragraphs), story, home, "original"))
        if rng.random() < 0.1:
            edits = rng.sample(EDITS, rng.choice([1, 1, 2]))
            copy_title, copy_paragraphs = title, paragraphs
            for edit in edits:
                copy_title, copy_paragraphs = _templated_edit(
                    desk, family, values, copy_title, which, copy_paragraphs, edit
                )
            made.append(
                Labelled(
                    _item(f"t{story}-c", copy_title, copy_paragraphs),
                    story,
                    (home + 1 + rng.randrange(FEEDS - 1)) % FEEDS,
                    "copy:" + "+".join(edits),
                )
            )
    rng.shuffle(made)
    return made[:count]


def generate_short_retitled(count: int, seed: int = 13) -> list[Labelled]:
    """``count`` short items (about 60 words) and, for each, a copy of the same text
    under a new headline on another feed."""
    newsroom = Newsroom(seed)
    rng = newsroom.rng
    made: list[Labelled] = []
    for story in range(1, count + 1):
        topic = newsroom.topic()
        text = " ".join(newsroom.sentence(topic) for _ in range(3))
        words = text.split(" ")[:60]
        body = [" ".join(words)]
        title, _ = newsroom.article(topic)
        new_title, _ = newsroom.article(topic)
        home = rng.randrange(FEEDS)
        made.append(Labelled(_item(f"r{story}", title, body), story, home, "original"))
        other = (home + 1 + rng.randrange(FEEDS - 1)) % FEEDS
        made.append(Labelled(_item(f"r{story}-c", new_title, body), story, other, "copy:retitled"))
    return made


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
    largest: int = 0  # items in the largest story found


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


def measure(labelled: list[Labelled]) -> Quality:
    """Fingerprint and store generated items, a feed's poll of 50 at a time, through
    the real path (``identify``, ``SQLiteStore.save_poll``); score the stories found."""
    started = time.perf_counter()
    identified = []
    for start in range(0, len(labelled), 50):
        identified += identify([entry.item for entry in labelled[start : start + 50]])
    fingerprint_s = time.perf_counter() - started
    labelled = [replace(entry, item=item) for entry, item in zip(labelled, identified, strict=True)]
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "stories.db"
        store_s, story_of = asyncio.run(_store_all(path, labelled))
        with sqlite3.connect(path) as db:
            db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            (keys,) = db.execute("SELECT COUNT(*) FROM story_keys").fetchone()
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
        largest=max(found.values()),
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
    """Print the quality table for each generator and the corpus clusters."""
    runs = [
        ("prose", measure(generate(items))),
        ("templated", measure(generate_templated(items))),
    ]
    short = measure(generate_short_retitled(500))
    print(f"stories over {items:,} generated items per generator (one core)")
    print(f"  {'':<32} " + " ".join(f"{name:>12}" for name, _ in runs) + "  target")
    rows: list[tuple[str, list[str], str]] = [
        ("precision of 'same story'", [f"{q.precision:.4f}" for _, q in runs], ">= 0.99"),
        ("recall of 'same story'", [f"{q.recall:.4f}" for _, q in runs], ">= 0.95"),
        ("largest story (items)", [f"{q.largest}" for _, q in runs], ""),
        (
            "fingerprint (identify), items/s",
            [f"{q.items / q.fingerprint_s:,.0f}" for _, q in runs],
            "",
        ),
        (
            "lookup + resolve + insert, items/s",
            [f"{q.items / q.store_s:,.0f}" for _, q in runs],
            "",
        ),
        (
            "all three, items/s",
            [f"{q.items / (q.fingerprint_s + q.store_s):,.0f}" for _, q in runs],
            ">= 12,000",
        ),
        ("store size per 100,000 items", [f"{q.bytes_per_100k / 1e6:.0f} MB" for _, q in runs], ""),
        ("identity keys per item", [f"{q.keys_per_item:.1f}" for _, q in runs], ""),
    ]
    for name, values, target in rows:
        print(f"  {name:<32} " + " ".join(f"{value:>12}" for value in values) + f"  {target}")
    print(
        f"  re-headlined short copies joined: {1 - short.missed_by_kind['copy:retitled'] / 500:.3f}"
        " (500 texts of 60 words, each copied under a new headline)"
    )
    for name, quality in runs:
        if quality.missed_by_kind:
            missed = ", ".join(f"{k} {v}" for k, v in quality.missed_by_kind.most_common())
            print(f"  {name}: copies not recognised, by edit: {missed}")
    clusters = corpus_clusters()
    if clusters:
        print(f"corpus: {len(clusters)} stories span several feeds")
        for why, titles in clusters:
            print(f"  [{why}] " + " | ".join(titles))


if __name__ == "__main__":
    main()
