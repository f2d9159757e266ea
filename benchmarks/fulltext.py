"""Full text: how fast articles are extracted, how well, and what reading them adds to
the time from a feed's body arriving to its alert.

``python -m benchmarks.fulltext [--feeds N] [--delay SECONDS]``

Extraction runs in this process over the 200 real pages of ``../shared/articles``
(skipped when absent): pages per second on one core, and the share of the phrases a good
extraction keeps (``with``) and drops (``without``) that it did. Poll to alert runs a
daemon in this process subscribed through a local hub (``testbed.hub``) to ``N`` local
feeds, as ``benchmarks.push`` does: each pushed item has a watched title and a one-line
summary, so it alerts in every mode, and its article (a local page, answered after
``--delay`` seconds to stand for a distant site) is read with ``fulltext: auto``.
Latency runs from the hub's POST to the webhook; the extra time is auto's minus off's.
"""

from __future__ import annotations

import argparse
import asyncio
import gzip
import json
import logging
import statistics
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from aiohttp import web

from benchmarks.push import Sink, feed_body, pushed_daemon_settings, subscribed
from benchmarks.stories import Newsroom
from monitor.sources.article import extract_article
from testbed.builders import Entry, article_page
from testbed.hub import in_process_daemon, start_hub

ARTICLES = Path(__file__).resolve().parents[2] / "shared" / "articles"


@dataclass(frozen=True)
class Extraction:
    """One pass over the real pages."""

    pages: int
    seconds: float
    megabytes: float
    kept: tuple[int, int]
    dropped: tuple[int, int]


def extraction() -> Extraction | None:
    """Extract every real page once, in this process."""
    if not (ARTICLES / "expected.json").is_file():
        return None
    expected = json.loads((ARTICLES / "expected.json").read_text(encoding="utf-8"))
    pages = [
        (url, gzip.decompress((ARTICLES / "pages" / case["file"]).read_bytes()), case)
        for url, case in expected.items()
    ]
    kept = wanted = dropped = unwanted = 0
    started = time.process_time()
    texts = [extract_article(body, {}, url, "").text for url, body, _ in pages]
    seconds = time.process_time() - started
    for (_, _, case), text in zip(pages, texts, strict=True):
        flat = " ".join(text.split())
        wanted += len(case["with"])
        kept += sum(" ".join(phrase.split()) in flat for phrase in case["with"])
        unwanted += len(case["without"])
        dropped += sum(" ".join(phrase.split()) not in flat for phrase in case["without"])
    size = sum(len(body) for _, body, _ in pages) / 1e6
    return Extraction(len(pages), seconds, size, (kept, wanted), (dropped, unwanted))


async def latencies(mode: str, feeds: int, delay: float, folder: Path) -> list[float]:
    """Seconds from each push to its alert, one push at a time."""
    sink = Sink()
    newsroom = Newsroom(seed=7)  # every article its own story

    async def article(request: web.Request) -> web.Response:
        await asyncio.sleep(delay)
        topic = newsroom.topic()
        paragraphs = [newsroom.paragraph(topic) for _ in range(8)]
        page = article_page(request.match_info["name"], paragraphs)
        return web.Response(text=page, content_type="text/html")

    sink.server.app.router.add_get("/articles/{name}", article)
    await sink.server.start_server()
    hub = await start_hub(3600)
    topics = [sink.url(f"/feeds/f{number}") for number in range(feeds)]
    old = Entry(title="Markets rally", guid="old", link=sink.url("/articles/old"))
    for number, topic in enumerate(topics):
        sink.bodies[f"f{number}"] = feed_body(hub, topic, [old])
    storage = f"sqlite:///{folder / f'{mode}-{delay}.db'}"
    settings = pushed_daemon_settings(storage, topics, sink.url("/hook"), folder, mode)
    waited = []
    try:
        async with in_process_daemon(settings):
            await subscribed(hub, topics)
            for number in range(feeds):
                link = sink.url(f"/articles/n{number}")
                entry = Entry(title=f"Karabakh news {number}", guid=link, link=link)
                entry.summary = "Delegations met again on Monday."
                started = time.perf_counter()
                await hub.publish(topics[number], feed_body(hub, topics[number], [entry, old]))
                await sink.wait_for({link})
                waited.append(sink.arrived[link] - started)
    finally:
        await hub.close()
        await sink.server.close()
    return waited


def quantiles(values: list[float]) -> tuple[float, float]:
    ordered = sorted(values)
    return statistics.median(ordered), ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))]


async def poll_to_alert(feeds: int, delay: float) -> list[tuple[str, float, float]]:
    """(mode, p50, p95) for off, and auto with local and ``delay``-slow articles."""
    rows = []
    with tempfile.TemporaryDirectory() as folder:
        for mode, wait in (("off", 0.0), ("auto", 0.0), ("auto", delay)):
            p50, p95 = quantiles(await latencies(mode, feeds, wait, Path(folder)))
            label = mode if mode == "off" else f"auto, article after {wait * 1000:.0f} ms"
            rows.append((label, p50, p95))
    return rows


def table(found: Extraction | None, rows: list[tuple[str, float, float]]) -> str:
    lines = []
    if found is None:
        lines.append("extraction: ../shared/articles is absent")
    else:
        kept, wanted = found.kept
        dropped, unwanted = found.dropped
        lines += [
            f"{'extraction':<34} {'pages':>6} {'pages/s/core':>13} {'MB/s':>6}"
            f" {'kept':>13} {'dropped':>13}",
            f"{'trafilatura (as configured)':<34} {found.pages:>6}"
            f" {found.pages / found.seconds:>13.1f} {found.megabytes / found.seconds:>6.2f}"
            f" {kept:>4}/{wanted:<4}{kept / wanted:>5.3f} {dropped:>4}/{unwanted:<4}"
            f"{dropped / unwanted:>5.3f}",
            "",
        ]
    base50, base95 = rows[0][1], rows[0][2]
    lines.append(f"{'push to alert':<34} {'p50':>8} {'p95':>8} {'extra p50':>10} {'extra p95':>10}")
    for label, p50, p95 in rows:
        lines.append(
            f"{label:<34} {p50 * 1000:>6.0f}ms {p95 * 1000:>6.0f}ms"
            f" {(p50 - base50) * 1000:>8.0f}ms {(p95 - base95) * 1000:>8.0f}ms"
        )
    return "\n".join(lines)


def main() -> None:
    logging.getLogger("apscheduler").setLevel(logging.ERROR)
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--feeds", type=int, default=30)
    parser.add_argument("--delay", type=float, default=0.2, help="a distant site's answer time")
    args = parser.parse_args()
    found = extraction()
    print(table(found, asyncio.run(poll_to_alert(args.feeds, args.delay))))


if __name__ == "__main__":
    main()
