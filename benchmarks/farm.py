"""A farm of generated news feeds: cold, warm and partly changed passes against a floor.

``python -m benchmarks.farm [--feeds 1000] [--items 50]`` serves the farm from its own
process (ETags and 304s as well-behaved news sites do) and measures, in one run:

- the floor: plain aiohttp fetching every feed and feedparser parsing each, no storage;
- ``once`` cold (storage, identity, stories, matching, outbox and delivery included),
  warm (nothing new: every feed answers 304) and after 10% of the feeds gained 5 items;
- for each: wall time, CPU time and peak RSS of the whole process tree (the workers
  included, the farm's server not), and the seconds each stage took summed over polls.

Entries are news-sized (a title, a lead, three paragraphs of HTML with links and inline
tags; about 1.2 KB of XML each), half RSS 2.0 with ``content:encoded``, half Atom, and
2% carry a watched word, so the number of alerts is known in advance.
"""

from __future__ import annotations

import argparse
import asyncio
import html
import json
import os
import random
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from itertools import accumulate
from pathlib import Path

import aiohttp
import feedparser
from aiohttp import web

from benchmarks.cluster import postgres_schema_sync
from benchmarks.landed import describe, landed, run_in
from benchmarks.matching import vocabulary
from benchmarks.server import add_sink, serve_forever, served
from monitor.config import parse_settings
from monitor.runtime import Runtime

WATCHED = "Karabakh"
WIRE_EVERY = 5  # with shared stories: every 5th entry is a wire story …
WIRE_GROUP = 10  # … that each group of 10 feeds carries
NEW_PER_CHANGE = 5  # entries a changed feed gains (and drops at its end)
EPOCH = datetime(2026, 11, 1, tzinfo=UTC)
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
PAGE_SIZE = os.sysconf("SC_PAGE_SIZE")


TEMPLATE_VERBS = ["wins", "loses", "buys", "sells", "opens", "closes", "signs", "ends"]
DAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]


def watched(feed: int, entry: int) -> bool:
    """Whether an entry carries the watched word: 2% of them, spread over the feeds."""
    return (feed * 31 + entry * 17) % 50 == 0


class Farm:
    """Feed bodies generated from one seed: feed ``n`` at generation ``g`` holds
    entries ``g*5 … g*5+items-1``, newest first."""

    def __init__(
        self,
        feeds: int,
        items: int,
        seed: int = 3,
        *,
        templated: bool = False,
        shared: bool = False,
    ) -> None:
        self.feeds = feeds
        self.items = items
        self.templated = templated
        # Wire stories: every 5th entry is one story that a group of 10 feeds (10 sites)
        # carry with the same link and text, so identity joins them across feeds.
        self.shared = shared
        rng = random.Random(seed)
        self.words = [word for word in vocabulary(rng, 20_000) if word != WATCHED.lower()]
        self.weights = list(accumulate(1 / (rank + 10) for rank in range(len(self.words))))
        self.generations = [0] * feeds
        # Templated news: a small set of sentences every entry draws its text from.
        self.sentences = [
            self._text(rng, rng.randint(12, 20)).capitalize() + "." for _ in range(40)
        ]

    def _text(self, rng: random.Random, size: int) -> str:
        return " ".join(rng.choices(self.words, cum_weights=self.weights, k=size))

    def _entry(self, feed: int, entry: int) -> tuple[str, str, str, str]:
        """Title, lead, HTML body and link of one entry."""
        if self.templated:
            return self._templated_entry(feed, entry)
        wire = self.shared and entry % WIRE_EVERY == 0
        group = feed // WIRE_GROUP
        rng = random.Random(
            (group * 1_000_003 + entry) * 7 + 1 if wire else feed * 1_000_003 + entry
        )
        title = self._text(rng, rng.randint(7, 12)).capitalize()
        lead = self._text(rng, rng.randint(25, 40)).capitalize() + "."
        paragraphs = []
        for _ in range(3):
            words = self._text(rng, rng.randint(20, 32)).split()
            cut = rng.randint(3, len(words) - 6)
            reference = f"https://ref.example/{rng.randint(1, 9999)}"
            paragraphs.append(
                f'<p>{" ".join(words[:cut])} <a href="{reference}">'
                f"{' '.join(words[cut : cut + 3])}</a> {' '.join(words[cut + 3 : -2])},"
                f" <b>{words[-2]}</b> {words[-1]}.</p>"
            )
        if watched(feed, entry):
            if entry % 2:
                title = f"{title} {WATCHED}"
            else:
                paragraphs.insert(1, f"<p>Talks on {WATCHED} resumed.</p>")
        body = "".join(paragraphs)
        if wire:
            return title, lead, body, f"https://wire.example/{group}/{entry}"
        return title, lead, body, f"https://site{feed % 97}.example/{feed}/{entry}"

    def _templated_entry(self, feed: int, entry: int) -> tuple[str, str, str, str]:
        """An entry told with the farm's template: a headline of the same shape with its
        own actor, object and place, and a text of shared sentences around a few of its
        own (automated sports, market and weather items read like this)."""
        rng = random.Random(feed * 1_000_003 + entry)
        actor, thing, place = (self._text(rng, 1).capitalize() for _ in range(3))
        verb = rng.choice(TEMPLATE_VERBS)
        number = rng.randint(2, 999)
        title = f"{actor} {verb} {thing} in {place}"
        lead = f"{actor} {verb} {thing} on {rng.choice(DAYS)}, officials in {place} said."
        own = [
            f"The {thing.lower()} cost {number} million, {actor} said.",
            f"{place} has seen {number % 17 + 2} such cases this year.",
            f"A spokesman for {actor} declined to comment on the {thing.lower()}.",
        ]
        paragraphs = [
            f"<p>{rng.choice(self.sentences)} <b>{line}</b> {rng.choice(self.sentences)}</p>"
            for line in own
        ]
        if watched(feed, entry):
            if entry % 2:
                title = f"{title} {WATCHED}"
            else:
                paragraphs.insert(1, f"<p>Talks on {WATCHED} resumed.</p>")
        body = "".join(paragraphs)
        return title, lead, body, f"https://site{feed % 97}.example/{feed}/{entry}"

    def entries(self, feed: int, generation: int) -> range:
        """The entry numbers a feed holds at a generation, oldest first."""
        first = generation * NEW_PER_CHANGE
        return range(first, first + self.items)

    def body(self, feed: int) -> bytes:
        """The feed's XML at its current generation."""
        generation = self.generations[feed]
        numbers = list(reversed(self.entries(feed, generation)))
        build = _rss if feed % 2 == 0 else _atom
        return build(feed, [(n, *self._entry(feed, n)) for n in numbers]).encode()

    def expected_alerts(self, feed: int, generation: int, since: int | None = None) -> int:
        """Watched entries at a generation that were not there at generation ``since``."""
        old = set(self.entries(feed, since)) if since is not None else set()
        return sum(1 for n in self.entries(feed, generation) if n not in old and watched(feed, n))


def _when(entry: int) -> datetime:
    return EPOCH + timedelta(minutes=7 * entry)


def _rss(feed: int, entries: list[tuple[int, str, str, str, str]]) -> str:
    items = "".join(
        f"<item><title>{html.escape(title)}</title><link>{link}</link>"
        f'<guid isPermaLink="true">{link}</guid>'
        f"<pubDate>{format_datetime(_when(n))}</pubDate>"
        f"<description><![CDATA[<p>{lead}</p>]]></description>"
        f"<content:encoded><![CDATA[{body}]]></content:encoded></item>\n"
        for n, title, lead, body, link in entries
    )
    return (
        '<?xml version="1.0" encoding="utf-8"?>\n<rss version="2.0"'
        ' xmlns:content="http://purl.org/rss/1.0/modules/content/">'
        f"<channel><title>Farm feed {feed}</title><link>https://site{feed % 97}.example/</link>"
        f"<description>Generated</description>\n{items}</channel></rss>"
    )


def _atom(feed: int, entries: list[tuple[int, str, str, str, str]]) -> str:
    items = "".join(
        f'<entry><title>{html.escape(title)}</title><link href="{link}"/>'
        f"<id>{link}</id><updated>{_when(n).isoformat()}</updated>"
        f'<summary type="html">{html.escape(lead)}</summary>'
        f'<content type="html">{html.escape(body)}</content></entry>\n'
        for n, title, lead, body, link in entries
    )
    return (
        '<?xml version="1.0" encoding="utf-8"?>\n<feed xmlns="http://www.w3.org/2005/Atom">'
        f"<title>Farm feed {feed}</title><id>urn:farm:{feed}</id>"
        f"<updated>{EPOCH.isoformat()}</updated>\n{items}</feed>"
    )


async def serve(feeds: int, items: int, templated: bool, shared: bool = False) -> None:
    """Serve the farm on 127.0.0.1 at a free port; print the port once bodies are built."""
    farm = Farm(feeds, items, templated=templated, shared=shared)
    bodies = [farm.body(n) for n in range(feeds)]

    async def feed(request: web.Request) -> web.Response:
        number = int(request.match_info["number"])
        etag = f'"{number}-{farm.generations[number]}"'
        if request.headers.get("If-None-Match") == etag:
            return web.Response(status=304, headers={"ETag": etag})
        return web.Response(
            body=bodies[number], content_type="application/xml", headers={"ETag": etag}
        )

    async def bump(request: web.Request) -> web.Response:
        every = int(request.query["every"])
        for number in range(0, feeds, every):
            farm.generations[number] += 1
            bodies[number] = farm.body(number)
        return web.Response(text="ok")

    app = web.Application()
    app.router.add_get("/feeds/{number}", feed)
    app.router.add_post("/bump", bump)
    add_sink(app)
    await serve_forever(app, sum(map(len, bodies)))


def _tree(root: int, skip: int) -> Iterator[int]:
    yield root
    try:
        tasks = os.listdir(f"/proc/{root}/task")
    except OSError:
        return
    for task in tasks:
        try:
            children = Path(f"/proc/{root}/task/{task}/children").read_text().split()
        except OSError:
            continue
        for child in map(int, children):
            if child != skip:
                yield from _tree(child, skip)


def _cpu_and_rss(pid: int) -> tuple[float, int]:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        resident = int(Path(f"/proc/{pid}/statm").read_text().split()[1])
    except (OSError, IndexError, ValueError):
        return 0.0, 0
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS, resident * PAGE_SIZE


@dataclass
class TreeMeter:
    """CPU seconds and peak RSS of this process and its descendants, less one subtree
    (the farm's server): sampled every ``every`` seconds by a thread.

    The thread shares the measured process's interpreter: walking /proc every 20 ms
    took 12% of the event loop's busy time in a cold pass (py-spy), slowing what it
    measured; every 100 ms it is a fifth of that, and a pass's peak RSS is a plateau."""

    skip: int
    peak_rss: int = 0
    every: float = 0.1
    _stop: threading.Event = field(default_factory=threading.Event)

    def cpu(self) -> float:
        """CPU seconds used so far by the living tree."""
        return sum(_cpu_and_rss(pid)[0] for pid in _tree(os.getpid(), self.skip))

    def _sample(self) -> None:
        while not self._stop.wait(self.every):
            rss = sum(_cpu_and_rss(pid)[1] for pid in _tree(os.getpid(), self.skip))
            self.peak_rss = max(self.peak_rss, rss)

    def __enter__(self) -> TreeMeter:
        threading.Thread(target=self._sample, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()


@dataclass
class Pass:
    """One measured pass."""

    name: str
    wall: float
    cpu: float
    peak_rss: int
    stages: dict[str, float]
    alerts: int | None = None
    expected: int | None = None


async def floor(base: str, feeds: int, meter: TreeMeter) -> Pass:
    """aiohttp fetching every feed, feedparser parsing each in this process."""
    cpu, started = meter.cpu(), time.perf_counter()
    connector = aiohttp.TCPConnector(limit=100)
    async with aiohttp.ClientSession(connector=connector) as session:

        async def one(number: int) -> None:
            async with session.get(f"{base}/feeds/{number}") as answer:
                body = await answer.read()
            feedparser.parse(body, sanitize_html=False, resolve_relative_uris=False)

        await asyncio.gather(*(one(n) for n in range(feeds)))
    return Pass(
        "floor: aiohttp + feedparser",
        time.perf_counter() - started,
        meter.cpu() - cpu,
        meter.peak_rss,
        {},
    )


async def delivered(session: aiohttp.ClientSession, base: str) -> int:
    """Alerts the farm's webhook sink received so far."""
    async with session.get(f"{base}/count") as answer:
        return int(await answer.text())


async def passes(
    base: str,
    farm: Farm,
    folder: Path,
    meter: TreeMeter,
    storage: str | None = None,
    *,
    watchlists: str = "",
    cold_only: bool = False,
) -> list[Pass]:
    """Cold, warm and 10%-changed ``once`` passes of the daemon over the farm (on a
    fresh SQLite file unless ``storage`` names a database); ``watchlists``: YAML list
    entries added to the farm's one watchlist; ``cold_only``: the first pass alone."""
    feeds = "\n".join(f"  - url: {base}/feeds/{n}" for n in range(farm.feeds))
    storage = storage or f"sqlite:///{folder / 'farm.db'}"
    text = (
        f"storage: {storage}\n"
        "defaults: {baseline: false, max_alert_age: off, fulltext: off}\n"
        "http: {allow_private_networks: true, per_host: 100}\n"
        f"feeds:\n{feeds}\n"
        f'notifiers:\n  sink: {{type: webhook, url: "{base}/hook"}}\n'
        f"watchlists:\n  - name: karabakh\n    any: [{WATCHED}, Qarabağ]\n{watchlists}"
    )
    settings = parse_settings(text, "farm.yaml", {})
    results = []
    async with Runtime(settings) as runtime, aiohttp.ClientSession() as session:
        plan = [
            ("once, cold", None),
            ("once, warm (nothing new, 304s)", None),
            ("once, 10% of feeds changed", 10),
        ]
        if cold_only:
            del plan[1:]
        for generation_before, (name, bump_every) in enumerate(plan):
            if bump_every:
                async with session.post(f"{base}/bump?every={bump_every}"):
                    pass
            before = await delivered(session, base)
            meter.peak_rss = 0
            cpu, started = meter.cpu(), time.perf_counter()
            polls = await runtime.poll_all()
            relay_started = time.perf_counter()
            await runtime.relay.deliver_due()
            now = time.perf_counter()
            stages: dict[str, float] = {}
            for poll in polls:
                for stage, seconds in poll.stages.items():
                    stages[stage] = stages.get(stage, 0.0) + seconds
            stages["deliver"] = now - relay_started
            failed = [poll.error for poll in polls if poll.status == "failed"]
            if failed:
                raise SystemExit(f"{len(failed)} polls failed, e.g. {failed[0]}")
            alerts = await delivered(session, base) - before
            if generation_before == 0:
                expected = sum(farm.expected_alerts(n, 0) for n in range(farm.feeds))
            elif bump_every:
                expected = sum(
                    farm.expected_alerts(n, 1, since=0) for n in range(0, farm.feeds, bump_every)
                )
            else:
                expected = 0
            results.append(
                Pass(
                    name, now - started, meter.cpu() - cpu, meter.peak_rss, stages, alerts, expected
                )
            )
    return results


def run(
    feeds: int,
    items: int,
    storage: str | None = None,
    *,
    templated: bool = False,
    with_floor: bool = True,
) -> tuple[int, list[Pass]]:
    """Start the farm's server, measure the floor and the passes; the body size too."""
    farm_args = ["--serve", "--feeds", str(feeds), "--items", str(items)]
    if templated:
        farm_args.append("--templated")
    farm = Farm(feeds, items, templated=templated)
    with (
        served("benchmarks.farm", *farm_args) as server,
        TreeMeter(skip=server.pid) as meter,
        tempfile.TemporaryDirectory() as tmp,
    ):
        results = [asyncio.run(floor(server.base, feeds, meter))] if with_floor else []
        results += asyncio.run(passes(server.base, farm, Path(tmp), meter, storage))
        return int(server.announced[0]), results


def run_landed(
    rev: str, feeds: int, items: int, dsn: str | None, *, templated: bool = False
) -> list[Pass]:
    """The passes of commit ``rev``'s daemon over the same farm, measured by this
    harness in a process of its own (``benchmarks.landed``)."""
    command = ["benchmarks.farm", "--feeds", str(feeds), "--items", str(items), "--passes-only"]
    command += ["--templated"] if templated else []
    command += ["--dsn", dsn] if dsn else []
    with landed(rev) as folder, tempfile.TemporaryDirectory() as out:
        found = Path(out) / "passes.json"
        run_in(folder, *command, "--json", str(found))
        return [Pass(**row) for row in json.loads(found.read_text())]


STAGES = ("fetch", "read", "text", "identify", "match", "store", "deliver")


def report(
    feeds: int,
    items: int,
    dsn: str | None = None,
    *,
    templated: bool = False,
    against: str | None = None,
) -> None:
    """Run the farm (on SQLite, or on PostgreSQL in a schema of its own) and print its
    table; with ``templated``, the templated farm of the same size right after; with
    ``against``, that commit's passes first, side by side with this checkout's."""
    if templated:
        report(feeds, items, dsn, against=against)
    before = run_landed(against, feeds, items, dsn, templated=templated) if against else []
    if dsn:
        with postgres_schema_sync(dsn) as storage:
            size, results = run(feeds, items, storage, templated=templated)
    else:
        size, results = run(feeds, items, templated=templated)
    floor_wall = results[0].wall
    backend = "PostgreSQL" if dsn else "SQLite"
    kind = "templated " if templated else ""
    print(
        f"{kind}farm: {feeds} feeds x {items} entries ({size / 1e6:.0f} MB of XML), {backend},"
        " one run"
    )
    if before:
        print(f"landed: {describe(against or 'HEAD')}, measured just before this checkout")
        print(
            f"{'pass':<32} {'landed':>8} {'this':>8} {'this/landed':>11} {'x floor':>8}"
            f" {'cpu':>7} {'(landed)':>8} {'peak rss':>9}  alerts"
        )
    else:
        print(f"{'pass':<32} {'wall':>8} {'x floor':>8} {'cpu':>8} {'peak rss':>9}  alerts")
    landed_by_name = {result.name: result for result in before}
    for result in results:
        alerts = "" if result.alerts is None else f"{result.alerts} (expected {result.expected})"
        old = landed_by_name.get(result.name)
        if before:
            then = f"{old.wall:>7.2f}s" if old else f"{'':>8}"
            ratio = f"{result.wall / old.wall:>11.2f}" if old else f"{'':>11}"
            old_cpu = f"{old.cpu:>7.1f}s" if old else f"{'':>8}"
            old_alerts = f"; landed {old.alerts}" if old and old.alerts is not None else ""
            print(
                f"{result.name:<32} {then} {result.wall:>7.2f}s {ratio}"
                f" {result.wall / floor_wall:>8.2f} {result.cpu:>6.1f}s {old_cpu}"
                f" {result.peak_rss / 2**20:>7.0f}MB  {alerts}{old_alerts}"
            )
        else:
            print(
                f"{result.name:<32} {result.wall:>7.2f}s {result.wall / floor_wall:>8.2f}"
                f" {result.cpu:>7.1f}s {result.peak_rss / 2**20:>7.0f}MB  {alerts}"
            )
    print("seconds per stage, summed over polls (fetch and store include waiting):")
    print(f"{'pass':<40} " + " ".join(f"{stage:>8}" for stage in STAGES))
    for result in [*(replace(old, name=f"{old.name} (landed)") for old in before), *results[1:]]:
        print(
            f"{result.name:<40} "
            + " ".join(f"{result.stages.get(stage, 0.0):>8.2f}" for stage in STAGES)
        )


def main() -> None:
    """``python -m benchmarks.farm``: run the farm scenario (or serve it, for the runner)."""
    options = argparse.ArgumentParser(description=__doc__)
    options.add_argument("--feeds", type=int, default=1000)
    options.add_argument("--items", type=int, default=50)
    options.add_argument("--dsn", help="store on this PostgreSQL (postgresql://…) instead")
    options.add_argument(
        "--templated",
        action="store_true",
        help="then the same farm told with one template (shared sentences, templated titles)",
    )
    options.add_argument(
        "--against",
        metavar="REV",
        help="also measure that commit's daemon (e.g. HEAD, the last commit) and compare",
    )
    options.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    options.add_argument("--shared", action="store_true", help=argparse.SUPPRESS)
    # For --against: the passes alone (no floor), written as JSON.
    options.add_argument("--passes-only", action="store_true", help=argparse.SUPPRESS)
    options.add_argument("--json", type=Path, help=argparse.SUPPRESS)
    args = options.parse_args()
    if args.serve:
        asyncio.run(serve(args.feeds, args.items, args.templated, args.shared))
    elif args.passes_only:
        if args.dsn:
            with postgres_schema_sync(args.dsn) as storage:
                _, results = run(
                    args.feeds, args.items, storage, templated=args.templated, with_floor=False
                )
        else:
            _, results = run(args.feeds, args.items, templated=args.templated, with_floor=False)
        args.json.write_text(json.dumps([asdict(result) for result in results]))
    else:
        report(args.feeds, args.items, args.dsn, templated=args.templated, against=args.against)


if __name__ == "__main__":
    main()
