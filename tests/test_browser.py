"""The status page in a real browser: rows shown, feed text inert, a screenshot kept."""

from __future__ import annotations

import asyncio
from pathlib import Path

import aiohttp
import pytest
from selenium.webdriver.support.wait import WebDriverWait

from testbed.builders import Entry, rss
from tests.support import browser
from tests.support.daemons import Launcher
from tests.support.servers import FeedServer, Receiver
from tests.test_web import free_port

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not browser.available(), reason="needs Debian's chromium and chromium-driver"
    ),
]
HOSTILE_TITLE = "Desk <script>document.title='pwned'</script>"


@pytest.mark.integration
async def test_the_status_page_in_headless_chromium(
    feeds: FeedServer, receiver: Receiver, tmp_path: Path, launcher: Launcher
) -> None:
    truce = Entry(title="Karabakh ceasefire agreed", guid="t1", link="https://n.example/t1")
    feeds.serve("/desk.xml", rss([truce], title=HOSTILE_TITLE))
    feeds.serve("/quiet.xml", rss([Entry(title="Markets", guid="m", link="https://n/m")]))
    port = free_port()
    config = tmp_path / "monitor.yaml"
    config.write_text(
        f"""storage: sqlite:///{tmp_path / "monitor.db"}
defaults: {{fulltext: off, interval: 1h, baseline: false}}
http: {{allow_private_networks: true}}
web: {{listen: "127.0.0.1:{port}"}}
feeds:
  - url: {feeds.url("/desk.xml")}
  - url: {feeds.url("/quiet.xml")}
    name: Quiet wire
notifiers:
  ops: {{type: webhook, url: "{receiver.url()}"}}
watchlists:
  - {{name: karabakh, any: [Karabakh]}}
"""
    )
    daemon = await launcher.start(config)
    await daemon.wait_for(lambda: len(receiver.requests) == 1)
    polled: list[object] = []
    async with aiohttp.ClientSession() as http:
        while len(polled) < 2:
            async with http.get(f"http://127.0.0.1:{port}/api/feeds") as answer:
                polled = [feed for feed in await answer.json() if feed["last_polled_at"]]
            await asyncio.sleep(0.1)
    picture = tmp_path / "status-page.png"
    with browser.chromium(tmp_path / "profile") as page:
        page.get(f"http://127.0.0.1:{port}/")
        assert page.title == "news-monitor"  # the feed's <script> never ran
        feed_rows = page.find_elements("css selector", "#feeds tr")[1:]
        names = [row.find_elements("css selector", "td")[0].text for row in feed_rows]
        assert any(name.startswith(HOSTILE_TITLE) for name in names)  # shown as text
        assert any(name.startswith("Quiet wire") for name in names)
        (alert,) = page.find_elements("css selector", "#alerts tr")[1:]
        assert "Karabakh ceasefire agreed" in alert.text and "Karabakh (title)" in alert.text
        assert page.find_element("css selector", "#watchlists").text.endswith("karabakh 1")
        # The trends chart draws the store's count: one story alerted today.
        chart = page.find_element("css selector", "#trends svg.chart")
        assert chart.get_attribute("data-counts").split(",")[-1] == "1"  # type: ignore[union-attr]
        page.save_screenshot(str(picture))
        stories = page.find_elements("css selector", "#stories tr")[1:]
        (alerted,) = [row for row in stories if "Karabakh ceasefire agreed" in row.text]
        assert "karabakh" in alerted.text  # the watchlist it alerted
        alerted.find_element("css selector", "a").click()
        assert page.title.startswith("story ")  # its own page; the feed's <script> inert
        (member,) = page.find_elements("css selector", "#members tr")[1:]
        assert member.text.startswith(HOSTILE_TITLE)  # the source, shown as text
        assert "Karabakh ceasefire agreed" in member.text and member.text.endswith("first")
        (decision,) = page.find_elements("css selector", "#decisions tr")[1:]
        assert decision.text.startswith("karabakh alerted")
        page.save_screenshot(str(tmp_path / "story-page.png"))
        # The page's own form mutes the story (for 7 days, its default) and comes back;
        # the browser follows the 303 on its own time, so the test waits for the form.
        page.find_element("css selector", "#mute button").click()
        unmute = WebDriverWait(page, 20).until(
            lambda driver: driver.find_elements("css selector", "#unmute button")
        )
        assert "muted until" in page.find_element("css selector", "p small").text
        unmute[0].click()
        WebDriverWait(page, 20).until(
            lambda driver: driver.find_elements("css selector", "#mute button")
        )
        assert "muted" not in page.find_element("css selector", "p small").text
        # The search box finds what the watchlist found, the term marked.
        page.get(f"http://127.0.0.1:{port}/")
        box = page.find_element("css selector", "#search input[name=q]")
        box.send_keys("karabakh")
        box.submit()
        WebDriverWait(page, 20).until(
            lambda driver: driver.find_elements("css selector", "#results li")
        )
        results = page.find_elements("css selector", "#results li")
        (found,) = [li for li in results if "Karabakh ceasefire agreed" in li.text]
        assert found.find_element("css selector", "mark").text == "Karabakh"
        assert len(results) == 2  # and the stored sample, which names Karabakh too
        # A feed's page, from the feeds table: its hostile title shown as text.
        page.get(f"http://127.0.0.1:{port}/?sort=items")
        page.find_element("css selector", "#feeds tr:nth-child(2) a").click()
        assert page.title.startswith(HOSTILE_TITLE)
        assert page.find_element("css selector", "svg.chart").get_attribute("data-counts")
        # Its polls by this daemon: each a green square, the first answered 200; today a
        # green square of its health per day (counted here, not yet saved), the rest grey.
        strip = page.find_element("css selector", "#poll-strip").get_attribute("data-states")
        assert strip and set(strip.split(",")) == {"ok"}
        days = page.find_element("css selector", "#health-strip").get_attribute("data-states")
        assert days and days.split(",")[-1] == "ok" and set(days.split(",")[:-1]) == {"unpolled"}
        (*_, first) = page.find_elements("css selector", "#polls tr")[1:]
        assert " 200 " in f" {first.text} "
        page.save_screenshot(str(tmp_path / "feed-page.png"))
    assert picture.stat().st_size > 10_000
    assert (tmp_path / "story-page.png").stat().st_size > 10_000
    assert (await daemon.stop())[0] == 0
