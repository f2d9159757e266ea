"""OPML: read with folders and categories as tags, include from the YAML, import, export."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from monitor.config import ConfigError, load_settings
from monitor.opml import OpmlError, OpmlFeed, opml_document, parse_opml
from tests.support.commands import cli

SUBSCRIPTIONS = """<?xml version="1.0" encoding="UTF-8"?>
<opml version="2.0"><head><title>mine</title></head><body>
  <outline text="World">
    <outline type="rss" text="BBC World" xmlUrl="https://feeds.bbci.co.uk/news/world/rss.xml"/>
    <outline text="Caucasus">
      <outline type="rss" title="OC Media" text="oc" xmlUrl="https://oc-media.org/feed/"
               category="/regional/south-caucasus,english"/>
    </outline>
  </outline>
  <outline type="rss" text="Duplicate" xmlUrl="https://feeds.bbci.co.uk/news/world/rss.xml"/>
  <outline type="rss" xmlUrl="https://example.org/untitled.xml"/>
</body></opml>
"""
BILLION_LAUGHS = """<?xml version="1.0"?>
<!DOCTYPE opml [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>
<opml version="2.0"><body><outline text="&b;" xmlUrl="https://x.example/f"/></body></opml>
"""


def test_folders_and_categories_become_tags_and_each_url_counts_once() -> None:
    assert parse_opml(SUBSCRIPTIONS.encode()) == [
        OpmlFeed("https://feeds.bbci.co.uk/news/world/rss.xml", "BBC World", ("World",)),
        OpmlFeed(
            "https://oc-media.org/feed/",
            "OC Media",
            ("World", "Caucasus", "regional", "south-caucasus", "english"),
        ),
        OpmlFeed("https://example.org/untitled.xml", None, ()),
    ]


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (BILLION_LAUGHS, "refused: EntitiesForbidden"),
        ("<opml><body>", "not well-formed XML"),
        ("<rss><channel/></rss>", "not OPML"),
        ("x" * (32 * 1024 * 1024 + 1), "larger than 32 MiB"),
    ],
)
def test_bad_opml_gets_an_answer(body: str, message: str) -> None:
    with pytest.raises(OpmlError, match=message):
        parse_opml(body.encode())


def test_export_reads_back_the_same() -> None:
    feeds = parse_opml(SUBSCRIPTIONS.encode())
    assert parse_opml(opml_document(feeds).encode()) == feeds


def write(folder: Path, feeds: str) -> Path:
    config = folder / "monitor.yaml"
    config.write_text(
        f"storage: sqlite:///{folder / 'm.db'}\nfeeds:\n{feeds}"
        "watchlists:\n  - {name: w, any: [Karabakh]}\n"
    )
    return config


def test_the_yaml_includes_an_opml_file_in_place_and_its_own_entries_win(
    tmp_path: Path,
) -> None:
    (tmp_path / "subs.opml").write_text(SUBSCRIPTIONS)
    config = write(
        tmp_path,
        "  - {url: 'https://feeds.bbci.co.uk/news/world/rss.xml', name: BBC (mine)}\n"
        "  - {opml: subs.opml, tags: [imported]}\n"
        "  - {url: 'https://last.example/feed'}\n",
    )
    settings = load_settings(config)
    assert [(feed.url, feed.name, feed.tags) for feed in settings.feeds] == [
        ("https://feeds.bbci.co.uk/news/world/rss.xml", "BBC (mine)", []),  # the YAML wins
        (
            "https://oc-media.org/feed/",
            "OC Media",
            ["imported", "World", "Caucasus", "regional", "south-caucasus", "english"],
        ),
        ("https://example.org/untitled.xml", None, ["imported"]),
        ("https://last.example/feed", None, []),
    ]
    (tmp_path / "empty.opml").write_text("<opml version='2.0'><body/></opml>")
    config.write_text(config.read_text().replace("subs.opml", "empty.opml"))
    assert len(load_settings(config).feeds) == 2  # an empty list includes nothing


def test_a_yaml_feed_after_an_include_keeps_its_line(tmp_path: Path) -> None:
    (tmp_path / "subs.opml").write_text(SUBSCRIPTIONS)
    config = write(tmp_path, "  - {opml: subs.opml}\n  - {url: 'gopher://x/y'}\n")
    with pytest.raises(ConfigError, match=re.escape("monitor.yaml:4 feeds[3].url: expected")):
        load_settings(config)


@pytest.mark.parametrize(
    ("include", "opml", "message"),
    [
        ("{opml: nowhere.opml}", None, "monitor.yaml:3 feeds[0].opml: cannot read"),
        ("{opml: subs.opml}", "<opml><body>", "monitor.yaml:3 feeds[0].opml: not well-formed"),
        ("{opml: subs.opml, interval: 5m}", SUBSCRIPTIONS, "an include is {opml: FILE"),
        ("{opml: subs.opml, tags: x}", SUBSCRIPTIONS, "tags: must be a list"),
        (
            "{opml: subs.opml}",
            SUBSCRIPTIONS.replace("https://example.org/untitled.xml", "ftp://x/y"),
            "monitor.yaml:3 feeds[2].url: expected an http(s) URL",  # at the include's line
        ),
    ],
)
def test_include_errors_name_the_include(
    tmp_path: Path, include: str, opml: str | None, message: str
) -> None:
    if opml is not None:
        (tmp_path / "subs.opml").write_text(opml)
    config = write(tmp_path, f"  - {include}\n")
    with pytest.raises(ConfigError, match=re.escape(message)):
        load_settings(config)


def test_titles_other_readers_repeat_become_distinct_names(tmp_path: Path) -> None:
    """Two feeds titled "News" in an OPML file are a config that loads, not an error."""
    (tmp_path / "feeds.opml").write_text(
        opml_document(
            [
                OpmlFeed("https://a.example/rss", "News", ()),
                OpmlFeed("https://b.example/rss", "News", ()),
                OpmlFeed("https://b.example/world", "News", ()),
                OpmlFeed("https://c.example/rss", "Mine", ()),
            ]
        )
    )
    config = write(
        tmp_path, "  - {url: 'https://d.example/rss', name: Mine}\n  - opml: feeds.opml\n"
    )
    assert [feed.name for feed in load_settings(config).feeds] == [
        "Mine",  # the YAML's own name keeps its spelling
        "News",
        "News (b.example)",
        "News (b.example) 2",
        "Mine (c.example)",
    ]


@pytest.mark.integration
async def test_import_merges_into_the_included_file_and_export_lists_everything(
    tmp_path: Path,
) -> None:
    (tmp_path / "more.opml").write_text(SUBSCRIPTIONS)
    config = write(tmp_path, "  - {url: 'https://feeds.bbci.co.uk/news/world/rss.xml'}\n")
    code, out, _ = await cli("feeds", "import", "-c", str(config), "more.opml", cwd=tmp_path)
    assert code == 0
    assert "2 feed(s) added" in out and "opml: feeds.opml" in out  # how to include it
    assert load_settings(config).feeds[1:] == []  # not polled until included
    config.write_text(config.read_text().replace("feeds:\n", "feeds:\n  - opml: feeds.opml\n"))
    assert len(load_settings(config).feeds) == 3
    code, out, _ = await cli("feeds", "import", "-c", str(config), "more.opml", cwd=tmp_path)
    assert code == 0 and "0 feed(s) added" in out and "reload" in out
    sitemap = "  - {url: 'https://oc-media.org/news-sitemap.xml', type: sitemap}\n"
    config.write_text(config.read_text().replace("feeds:\n", f"feeds:\n{sitemap}"))
    code, out, err = await cli("feeds", "export", "-c", str(config), cwd=tmp_path)
    assert code == 0
    assert "left out 1 source(s) that are not feeds" in err
    assert [feed.url for feed in parse_opml(out.encode())] == [
        "https://oc-media.org/feed/",  # the include's feeds, where the include stands
        "https://example.org/untitled.xml",
        "https://feeds.bbci.co.uk/news/world/rss.xml",
    ]
    code, _, err = await cli("feeds", "import", "-c", str(config), "missing.opml", cwd=tmp_path)
    assert code == 2 and "cannot read" in err
    bad = SUBSCRIPTIONS.replace("https://example.org/untitled.xml", "ftp://x.example/y")
    (tmp_path / "bad.opml").write_text(bad.replace("oc-media.org", "oc-media.example"))
    code, out, err = await cli("feeds", "import", "-c", str(config), "bad.opml", cwd=tmp_path)
    assert code == 0 and "1 feed(s) added" in out and "1 refused" in out
    assert "skipped ftp://x.example/y: expected an http(s) URL" in err
    assert "checked 3/3" in err  # plain progress lines: not a terminal
    assert len(load_settings(config).feeds) == 5  # the refused one never entered
