"""The docs' pictures of the status page and of a story's page, taken from a real daemon.

``python -m tests.support.pictures [FOLDER]`` (default: ``docs``) serves three local
feeds that carry one story (a wire report, a copy, a re-headlined repost) and a story
of their own, runs ``news-monitor run`` on them with its web side, waits for the polls,
and saves ``status-page.png``, ``story-page.png``, ``feed-page.png`` (the busiest feed)
and ``search-page.png`` (``karabakh``) through the headless Chromium the browser test
uses (``tests.support.browser``).
"""

from __future__ import annotations

import asyncio
import socket
import sys
import tempfile
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web

from testbed.builders import Entry, rss
from tests.support.browser import chromium

ROOT = Path(__file__).resolve().parents[2]
WIRE = (
    "Armenia and Azerbaijan agreed to a humanitarian ceasefire in Nagorno-Karabakh on"
    " Saturday after ten hours of talks in Moscow, the Russian foreign minister said, to"
    " exchange prisoners and the bodies of the dead. Talks on a settlement are to follow."
)
FEEDS = {
    "wire.xml": rss(
        [
            Entry("Russia brokers Karabakh ceasefire", "https://wire.example/17", "w1", WIRE),
            Entry("Markets steady before the rate decision", "https://wire.example/18", "w2"),
        ],
        title="Wire",
    ),
    "daily.xml": rss(
        [Entry("Karabakh truce agreed in Moscow", "https://daily.example/t", "d1", WIRE)],
        title="Daily",
    ),
    "reposts.xml": rss(
        [Entry("Ceasefire in Nagorno-Karabakh", "https://reposts.example/t", "r1", WIRE)],
        title="Reposts",
    ),
}


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _config(folder: Path, feeds: str, web_port: int) -> Path:
    listed = "\n".join(f"  - url: {feeds}/{name}" for name in FEEDS)
    path = folder / "monitor.yaml"
    path.write_text(
        f"""storage: sqlite:///{folder / "monitor.db"}
defaults: {{fulltext: off, interval: 1h, baseline: false}}
http: {{allow_private_networks: true}}
web: {{listen: "127.0.0.1:{web_port}"}}
feeds:
{listed}
notifiers:
  ops: {{type: webhook, url: "{feeds}/hook"}}
watchlists:
  - {{name: karabakh, any: [Karabakh, Qarabağ]}}
  - {{name: ceasefire, any: [ceasefire, truce]}}
"""
    )
    return path


async def _polled(http: aiohttp.ClientSession, base: str) -> list[dict[str, Any]]:
    """The stories, once every feed was polled (60 s at most)."""
    for _ in range(300):
        await asyncio.sleep(0.2)
        try:
            async with http.get(f"{base}/api/feeds") as answer:
                feeds = await answer.json()
        except aiohttp.ClientError:
            continue  # not listening yet
        if len(feeds) == len(FEEDS) and all(feed["last_polled_at"] for feed in feeds):
            await asyncio.sleep(1)  # the last poll's items, stored
            async with http.get(f"{base}/api/stories") as answer:
                stories: list[dict[str, Any]] = await answer.json()
                return stories
    raise SystemExit("the daemon did not poll its feeds within a minute")


async def take(target: Path, folder: Path) -> None:
    """Serve the feeds, run the daemon, save both pictures in ``target``."""
    app = web.Application()
    for name, body in FEEDS.items():

        async def feed(request: web.Request, body: str = body) -> web.Response:
            return web.Response(text=body, content_type="application/rss+xml")

        app.router.add_get(f"/{name}", feed)

    async def hook(request: web.Request) -> web.Response:
        return web.Response(text="ok")

    app.router.add_post("/hook", hook)
    runner = web.AppRunner(app)
    await runner.setup()
    feeds_port, web_port = _free_port(), _free_port()
    await web.TCPSite(runner, "127.0.0.1", feeds_port).start()
    config = _config(folder, f"http://127.0.0.1:{feeds_port}", web_port)
    daemon = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "monitor", "run", "-c", str(config)
    )
    base = f"http://127.0.0.1:{web_port}"
    try:
        async with aiohttp.ClientSession() as http:
            stories = await _polled(http, base)
        widest = max(stories, key=lambda story: len(story["items"]))
        with chromium(folder / "profile") as page:
            page.get(f"{base}/")
            page.save_screenshot(str(target / "status-page.png"))
            page.get(f"{base}/stories/{widest['id']}")
            page.save_screenshot(str(target / "story-page.png"))
            page.get(f"{base}/?sort=items")
            page.find_element("css selector", "#feeds tr:nth-child(2) a").click()
            page.save_screenshot(str(target / "feed-page.png"))
            page.get(f"{base}/search?q=karabakh")
            page.save_screenshot(str(target / "search-page.png"))
    finally:
        daemon.terminate()
        await asyncio.wait_for(daemon.wait(), 30)
        await runner.cleanup()


if __name__ == "__main__":
    with tempfile.TemporaryDirectory() as scratch:
        destination = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "docs"
        asyncio.run(take(destination, Path(scratch)))
