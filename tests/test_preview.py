"""``feeds preview``: a source read as configured (a page by its selectors, a sitemap
index through its sitemaps, any feed URL), printed, nothing stored."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from testbed.builders import Entry, rss
from tests.support.commands import cli
from tests.support.servers import FeedServer
from tests.test_sources import LISTING, news_sitemap, news_url, sitemap_index


def config(tmp_path: Path, feeds: str) -> Path:
    path = tmp_path / "monitor.yaml"
    path.write_text(
        f"storage: sqlite:///{tmp_path / 'monitor.db'}\n"
        f"http: {{allow_private_networks: true}}\nfeeds:\n{feeds}"
    )
    return path


@pytest.mark.integration
async def test_a_page_is_previewed_by_its_selectors_and_nothing_is_stored(
    feeds: FeedServer, tmp_path: Path
) -> None:
    url = feeds.serve("/latest", LISTING, content_type="text/html")
    path = config(
        tmp_path,
        f"  - url: {url}\n    name: Daily\n    type: html\n"
        "    selectors: {item: article.story, summary: p.dek}\n",
    )
    code, out, err = await cli("feeds", "preview", "Daily", "-c", str(path), cwd=tmp_path)
    assert code == 0, err
    lines = out.splitlines()
    assert lines[0] == f"# 3 entries from {url} (type: html)"
    assert "# title: Caucasus Daily — latest" in lines
    assert "2026-11-29T09:30:00Z  Karabakh ceasefire talks resume" in lines
    assert "                      https://daily.example/news/karabakh-ceasefire-talks" in lines
    assert "                      Negotiators meet again in Geneva." in lines
    assert not (tmp_path / "monitor.db").exists()
    code, out, _ = await cli(
        "feeds", "preview", url, "--json", "--limit", "1", "-c", str(path), cwd=tmp_path
    )
    (line,) = out.splitlines()
    assert json.loads(line)["link"] == "https://daily.example/news/karabakh-ceasefire-talks"

    feeds.serve("/latest", "<html><body><p>redesigned</p></body></html>", content_type="text/html")
    code, out, err = await cli("feeds", "preview", "Daily", "-c", str(path), cwd=tmp_path)
    assert (code, out) == (1, "")
    assert "matches nothing on the page" in err


@pytest.mark.integration
async def test_a_sitemap_index_and_an_unconfigured_feed_are_previewed(
    feeds: FeedServer, tmp_path: Path
) -> None:
    now = datetime.now(UTC)
    child = feeds.serve(
        "/s1.xml", news_sitemap(news_url("https://d.example/1", "One", now - timedelta(hours=1)))
    )
    index = feeds.serve("/index.xml", sitemap_index((child, now), (feeds.url("/gone.xml"), now)))
    head = '<atom:link rel="hub" href="https://hub.example/"/><atom:link rel="self" href="/f"/>'
    feed = feeds.serve(
        "/feed.xml",
        rss([Entry(title="Plain", guid="p", link="https://n/p", published=None)], head=head),
    )
    path = config(tmp_path, f"  - {{url: {index}, type: sitemap}}\n")
    code, out, err = await cli("feeds", "preview", index, "-c", str(path), cwd=tmp_path)
    assert code == 0, err
    assert f"# 1 entry from {index} (type: sitemap)" in out
    assert "gone.xml: HTTP 404" in out  # the sitemap that failed, as a warning
    assert "One" in out
    code, out, err = await cli("feeds", "preview", feed, "-c", str(path), cwd=tmp_path)
    assert code == 0, err
    assert f"# WebSub hub: https://hub.example/ (topic {feeds.url('/f')})" in out
    assert "(no date)             Plain" in out


@pytest.mark.integration
async def test_fulltext_shows_each_articles_text_as_configured(
    feeds: FeedServer, tmp_path: Path
) -> None:
    from testbed.builders import article_page, report_paragraphs

    body = report_paragraphs(5, seed=1, inserted={4: "Karabakh was named."})
    link = feeds.serve("/a", article_page("Talks", body), content_type="text/html")
    boxed = article_page("Box", body).replace(
        "<footer>", "<div class='box'>Only this.</div><footer>"
    )
    box = feeds.serve("/box", boxed, content_type="text/html")
    entries = [Entry(title="Talks", link=link, guid="a"), Entry(title="Box", link=box, guid="b")]
    url = feeds.serve("/feed.xml", rss(entries))
    path = config(tmp_path, f"  - url: {url}\n")
    code, out, err = await cli("feeds", "preview", url, "--fulltext", "-c", str(path), cwd=tmp_path)
    assert code == 0, err
    assert out.count(" chars): read") == 2  # each with the start of its text
    code, out, _ = await cli(
        "feeds", "preview", url, "--fulltext", "--json", "-c", str(path), cwd=tmp_path
    )
    shown = [json.loads(line) for line in out.splitlines()]
    assert [entry["fulltext"]["note"] for entry in shown] == ["read", "read"]
    assert "Karabakh was named." in shown[0]["fulltext"]["text"]
    # A selector that finds nothing says so; one that finds too little, a teaser.
    path = config(tmp_path, f"  - url: {url}\n    fulltext: {{mode: auto, selector: '.box'}}\n")
    code, out, _ = await cli(
        "feeds", "preview", url, "--fulltext", "--json", "-c", str(path), cwd=tmp_path
    )
    notes = [json.loads(line)["fulltext"]["note"] for line in out.splitlines()]
    assert notes == [
        "failed: the selector '.box' matches nothing",
        "teaser: the page gives no more text than the feed",
    ]
    assert not (tmp_path / "monitor.db").exists()
