"""What the captured corpus alerts: ``python -m benchmarks.corpus [--json PATH]``.

Serves the 112 real feeds of ``../shared/corpus/feeds`` from another process, runs one
``once`` pass over them (no baseline, no age limit: the corpus was captured long ago) with
the example watchlists and one broad watchlist, and prints every alert (watchlist, feed,
title) and every story that spans several feeds. ``--json`` writes the same as JSON, so
that two versions of the code can be compared alert by alert (run it on each, then
``python -m benchmarks.corpus --diff BEFORE.json AFTER.json``).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
from collections import Counter
from pathlib import Path
from typing import Any

from aiohttp import web

from benchmarks import CORPUS, corpus_bodies
from benchmarks.server import served
from monitor.config import parse_settings
from monitor.runtime import Runtime

WATCHLISTS = """
watchlists:
  - name: karabakh
    any: [Karabakh, Nagorno-Karabakh, Qarabağ, Karabagh, Artsakh]
  - name: karabakh-ceasefire
    any: [Karabakh, Qarabağ, Karabagh, Artsakh]
    all: [ceasefire]
  - name: ceasefire
    any: [ceasefire, truce, armistice, "cessation of hostilities"]
  - name: broad
    any: [Israel, Ukraine, AI, Python, Gaza, Trump, China]
"""


async def _run(base: str, names: list[str], folder: Path) -> dict[str, Any]:
    received: list[dict[str, Any]] = []

    async def hook(request: web.Request) -> web.Response:
        received.append(json.loads(await request.read()))
        return web.Response(text="ok")

    app = web.Application()
    app.router.add_post("/hook", hook)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    feeds = "\n".join(f"  - url: {base}/feeds/{name}" for name in names)
    text = (
        f"storage: sqlite:///{folder / 'corpus.db'}\n"
        "defaults: {baseline: false, max_alert_age: off, fulltext: off}\n"
        "http: {allow_private_networks: true, per_host: 100}\n"
        f"feeds:\n{feeds}\n"
        f'notifiers:\n  ops: {{type: webhook, url: "http://127.0.0.1:{port}/hook"}}\n'
        f"{WATCHLISTS}"
    )
    try:
        async with Runtime(parse_settings(text, "corpus.yaml", {})) as runtime:
            await runtime.once()
            stories = await runtime.store.stories(limit=1_000_000)
    finally:
        await runner.cleanup()
    alerts = sorted(
        (
            payload["watchlist"],
            payload["item"]["feed"]["url"].rsplit("/", 1)[1],
            payload["item"]["title"],
        )
        for payload in received
        if payload.get("type", "alert") == "alert"
    )
    spanning = []
    for story in stories:
        feeds_of = {member.feed_url for member in story.items}
        if len(feeds_of) > 1:
            spanning.append(
                [
                    [member.feed_url.rsplit("/", 1)[1], member.item.title, member.joined_by]
                    for member in story.items
                ]
            )
    return {"alerts": [list(alert) for alert in alerts], "stories": spanning}


def collect() -> dict[str, Any]:
    """Alerts and cross-feed stories of one pass over the corpus."""
    bodies = corpus_bodies()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        for name, body in bodies.items():
            (folder / name).write_bytes(body)
        with served("benchmarks.server", str(folder)) as server:
            return asyncio.run(_run(server.base, list(bodies), folder))


def show(found: dict[str, Any]) -> None:
    """Print alerts per watchlist, every alert, and the cross-feed stories."""
    counts = Counter(alert[0] for alert in found["alerts"])
    per_watchlist = ", ".join(f"{name} {count}" for name, count in sorted(counts.items()))
    print(f"corpus: {len(found['alerts'])} alerts ({per_watchlist})")
    for watchlist, feed, title in found["alerts"]:
        print(f"  {watchlist:<20} {feed:<28} {title[:70]}")
    print(f"corpus: {len(found['stories'])} stories span several feeds")
    for members in found["stories"]:
        print(
            "  "
            + " | ".join(f"{feed}: {title[:50]} [{by or 'first'}]" for feed, title, by in members)
        )


def diff(before_path: Path, after_path: Path) -> None:
    """The alerts only one of two runs sent."""
    before = json.loads(before_path.read_text())
    after = json.loads(after_path.read_text())
    old = {tuple(alert) for alert in before["alerts"]}
    new = {tuple(alert) for alert in after["alerts"]}
    print(f"before {len(old)} alerts, after {len(new)}")
    for alert in sorted(old - new):
        print("  lost:   ", " | ".join(alert))
    for alert in sorted(new - old):
        print("  gained: ", " | ".join(alert))
    print(f"cross-feed stories: before {len(before['stories'])}, after {len(after['stories'])}")


def main() -> None:
    """``python -m benchmarks.corpus [--json PATH] [--diff BEFORE AFTER]``."""
    options = argparse.ArgumentParser(description=__doc__)
    options.add_argument("--json", type=Path, help="also write the result here")
    options.add_argument("--diff", type=Path, nargs=2, metavar=("BEFORE", "AFTER"))
    args = options.parse_args()
    if args.diff:
        diff(*args.diff)
        return
    if not CORPUS.is_dir():
        sys.exit(f"{CORPUS} is absent")
    found = collect()
    show(found)
    if args.json:
        args.json.write_text(json.dumps(found, indent=1, ensure_ascii=False))


if __name__ == "__main__":
    main()
