"""Parsing: the four formats, the entry-key rule, hostile and broken bodies, the corpus."""

from __future__ import annotations

import time
from datetime import timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from monitor.config import parse_settings
from monitor.match import match_items
from monitor.parse import ParseError, parse_feed
from monitor.wiring.watchlists import compile_watchlists
from testbed.builders import PUBLISHED, Entry, atom, json_feed, rdf, rss

HEADERS = {"content-type": "application/xml"}
URL = "https://example.org/feed"


def parse(body: str | bytes, headers: dict[str, str] | None = None):  # type: ignore[no-untyped-def]
    data = body.encode() if isinstance(body, str) else body
    return parse_feed(data, headers or HEADERS, URL)


ENTRY = Entry(
    title="Ceasefire in <Karabakh>",
    link="https://example.org/a?utm_source=rss",
    guid="guid-1",
    summary="<p>Armenia &amp; Azerbaijan agree</p>",
    content="<p>Full text: <b>Qarabağ</b> talks resume in Moscow.</p><script>x()</script>",
)


@pytest.mark.parametrize("build", [rss, atom, json_feed])
def test_formats_give_the_same_item(build) -> None:  # type: ignore[no-untyped-def]
    parsed = parse(build([ENTRY]))
    (item,) = parsed.items
    assert item.title == "Ceasefire in <Karabakh>"
    assert item.link == "https://example.org/a?utm_source=rss"
    assert item.canonical_link == "https://example.org/a"
    assert "Armenia & Azerbaijan agree" in item.summary
    assert "<" not in item.summary
    assert item.content == "Full text: Qarabağ talks resume in Moscow."
    assert item.published == PUBLISHED
    assert item.content_hash is not None


def test_rss_1_0() -> None:
    parsed = parse(rdf([Entry(title="Truce", link="https://example.org/t", summary="s")]))
    (item,) = parsed.items
    assert (item.title, item.link, item.entry_key) == ("Truce", "https://example.org/t", item.link)
    assert parsed.title == "Test RSS 1.0 feed"


def test_entry_key_rule() -> None:
    entries = [
        Entry(title="unique guid", guid="g1", link="https://example.org/1"),
        Entry(title="repeated a", guid="same", link="https://example.org/2"),
        Entry(title="repeated b", guid="same", link="https://example.org/3"),
        Entry(title="no guid", link="https://example.org/4"),
        Entry(title="nothing", summary="only text"),
    ]
    keys = [item.entry_key for item in parse(rss(entries)).items]
    assert keys[0] == "g1"
    assert keys[1] == "same https://example.org/2"
    assert keys[2] == "same https://example.org/3"
    assert keys[3] == "https://example.org/4"
    assert keys[4].startswith("sha256:")


def test_exact_repeats_inside_a_feed_become_one_item() -> None:
    entry = Entry(title="twice", guid="g", link="https://example.org/x")
    assert len(parse(rss([entry, entry])).items) == 1


def test_charset_from_http_headers() -> None:
    body = rss([Entry(title="Карабах перемирие", guid="1")]).replace(
        '<?xml version="1.0" encoding="UTF-8"?>\n', ""
    )
    parsed = parse(body.encode("windows-1251"), {"content-type": "text/xml; charset=windows-1251"})
    assert parsed.items[0].title == "Карабах перемирие"


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"", "empty"),
        (b"   \n", "empty"),
        (b"<!DOCTYPE html><html><body>Not here</body></html>", "HTML page"),
        (b"<html lang='en'><head></head></html>", "HTML page"),
        (b"\x00\x01\x02garbage\xff", "not an RSS, Atom or JSON feed"),
        (b"just some words", "not an RSS, Atom or JSON feed"),
        (b'{"version": 2}', "not a JSON Feed"),
        (b"{broken json", "not valid JSON"),
        (b'{"version": "https://jsonfeed.org/version/1.1", "items": 3}', "no items list"),
    ],
)
def test_bodies_that_are_not_feeds(body: bytes, message: str) -> None:
    with pytest.raises(ParseError, match=message):
        parse(body)


def test_not_well_formed_feed_still_yields_items_with_a_warning() -> None:
    body = rss([Entry(title="Truce holds", guid="1")]).replace("</channel>", "<br></channel>")
    parsed = parse(body)
    assert [item.title for item in parsed.items] == ["Truce holds"]
    assert parsed.warning and "not well-formed" in parsed.warning


def test_billion_laughs_is_not_expanded() -> None:
    entities = '<!ENTITY a0 "lol">' + "".join(
        f'<!ENTITY a{n} "{f"&a{n - 1};" * 10}">' for n in range(1, 10)
    )
    body = (
        f'<?xml version="1.0"?><!DOCTYPE rss [{entities}]>'
        '<rss version="2.0"><channel><title>t</title>'
        "<item><title>&a9;</title><guid>1</guid></item></channel></rss>"
    )
    started = time.perf_counter()
    try:
        parsed = parse(body)
    except ParseError:
        return
    assert time.perf_counter() - started < 5
    assert all(len(item.title) < 10_000 for item in parsed.items)


def test_external_entities_are_not_read(tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("TOPSECRET")
    body = (
        f'<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY xxe SYSTEM "file://{secret}">]>'
        '<rss version="2.0"><channel><title>t</title>'
        "<item><title>x &xxe; y</title><guid>1</guid></item></channel></rss>"
    )
    try:
        parsed = parse(body)
    except ParseError:
        return
    assert all("TOPSECRET" not in item.title for item in parsed.items)


def test_json_feed_details() -> None:
    body = (
        '{"version": "https://jsonfeed.org/version/1", "title": "J", "language": "en",'
        ' "items": [{"id": 7, "content_text": "plain truce", "author": {"name": "A"},'
        ' "date_published": "2020-10-10T12:00:00+03:00"}, "not an object"]}'
    )
    (item,) = parse(body, {"content-type": "application/feed+json"}).items
    assert item.entry_key == "7"
    assert item.content == "plain truce"
    assert item.author == "A"
    assert item.language == "en"
    assert item.published is not None and item.published.hour == 9


@pytest.mark.slow
def test_every_corpus_feed_parses_or_is_refused_clearly(corpus: Path) -> None:
    entries = no_guid = parsed_feeds = 0
    for path in sorted(corpus.iterdir()):
        if path.name == "LICENSE":
            continue
        try:
            parsed = parse_feed(path.read_bytes(), {}, f"https://corpus.example/{path.name}")
        except ParseError as error:
            assert str(error), path.name
            continue
        parsed_feeds += 1
        keys = [item.entry_key for item in parsed.items]
        assert len(keys) == len(set(keys)), path.name
        for item in parsed.items:
            entries += 1
            no_guid += item.guid is None
            assert item.title or item.link or item.summary, path.name
    assert parsed_feeds >= 105
    assert no_guid < entries
    assert entries > 2500


def _declared(encoding: str, title: str) -> bytes:
    body = rss([Entry(title=title, guid="1", summary="Talks in Genève")])
    return body.replace('encoding="UTF-8"', f'encoding="{encoding}"').encode(encoding)


@pytest.mark.parametrize(
    ("body", "headers", "title"),
    [
        # The XML declaration names the charset; no HTTP charset.
        (_declared("ISO-8859-1", "Cessez-le-feu à Genève"), {}, None),
        (_declared("windows-1252", "“Ceasefire” holds — Genève talks €"), {}, None),
        # UTF-16 with a byte-order mark, declared or not.
        (
            b"\xff\xfe"
            + rss([Entry(title="Qarabağ ateşkes", guid="1")])
            .replace('encoding="UTF-8"', 'encoding="UTF-16"')
            .encode("utf-16-le"),
            {},
            None,
        ),
        # HTTP says Latin-1 and the document says nothing: the header wins.
        (
            rss([Entry(title="Genève: trêve", guid="1")])
            .replace('<?xml version="1.0" encoding="UTF-8"?>\n', "")
            .encode("latin-1"),
            {"content-type": "application/rss+xml; charset=ISO-8859-1"},
            "Genève: trêve",
        ),
    ],
    ids=["latin-1 declared", "windows-1252 declared", "utf-16 bom", "latin-1 from http"],
)
def test_charsets_decode_and_accented_terms_still_match(
    body: bytes, headers: dict[str, str], title: str | None
) -> None:
    parsed = parse(body, headers)
    (item,) = parsed.items
    if title is not None:
        assert item.title == title
    assert "\ufffd" not in item.title + item.summary  # nothing lost to a wrong guess
    text = "watchlists:\n  - {name: w, any: [Genève, qarabag, ateşkes]}\n"
    settings = parse_settings(text, "test.yaml", {})
    ((new,),) = [match_items([item], compile_watchlists(settings))]
    assert new.matches, item


# -- property: mutated real feeds never raise anything but ParseError --------------------

CORPUS_FEEDS = Path(__file__).resolve().parents[2] / "shared" / "corpus" / "feeds"
# The smaller half of the corpus keeps each example fast; the mutations do the rest.
SMALL_FEEDS = (
    sorted(
        (path for path in CORPUS_FEEDS.iterdir() if path.name != "LICENSE"),
        key=lambda path: path.stat().st_size,
    )[:56]
    if CORPUS_FEEDS.is_dir()
    else []
)


@st.composite
def mutated_feeds(draw: st.DrawFn) -> bytes:
    """A real feed, cut, spliced, doubled or sprinkled with hostile bytes."""
    body = draw(st.sampled_from(SMALL_FEEDS)).read_bytes()
    for _ in range(draw(st.integers(1, 4))):
        at = draw(st.integers(0, len(body)))
        mutation = draw(st.sampled_from(["cut", "insert", "delete", "repeat", "flip"]))
        if mutation == "cut":
            body = body[:at]
        elif mutation == "insert":
            noise = draw(
                st.sampled_from(
                    [
                        b"<",
                        b"]]>",
                        b"&",
                        b"&#0;",
                        b"<!ENTITY x 'y'>",
                        b"\x00",
                        b"\xff\xfe",
                        b"<item><title>",
                        b"</channel>",
                        b'"',
                        b"\xe2\x80",
                    ]
                )
                | st.binary(max_size=16)
            )
            body = body[:at] + noise + body[at:]
        elif mutation == "delete":
            body = body[:at] + body[at + draw(st.integers(1, 200)) :]
        elif mutation == "repeat":
            body = body[:at] + body[at : at + 500] * 2 + body[at + 500 :]
        else:
            body = body[:at] + bytes([body[at] ^ 0xFF]) + body[at + 1 :] if at < len(body) else body
    return body


@pytest.mark.skipif(not SMALL_FEEDS, reason="the shared feed corpus is not present")
# Derandomized: CI runs the same examples every time; run with a seed to explore more.
@settings(
    max_examples=60,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(body=mutated_feeds())
def test_mutated_corpus_feeds_parse_or_raise_parse_error(body: bytes) -> None:
    # It found one: a non-UTF-8 byte in the XML declaration's encoding name made
    # feedparser raise UnicodeDecodeError, which reached the poller as an internal error.
    try:
        parsed = parse_feed(body, {"content-type": "application/xml"}, "https://example.org/feed")
    except ParseError:
        return
    for item in parsed.items:
        assert item.entry_key and isinstance(item.title, str)


def test_a_broken_encoding_name_is_a_parse_error() -> None:
    body = b'<?xml version="1.0" encoding="\x8atf-8"?><rss version="2.0"><channel></channel></rss>'
    with pytest.raises(ParseError, match="cannot be read: UnicodeDecodeError"):
        parse(body)


def test_the_learned_interval_is_half_the_median_gap_between_recent_entries() -> None:
    hourly = [
        Entry(title=f"Story {n}", guid=str(n), published=f"Sat, 28 Nov 2026 {10 + n:02d}:00:00 GMT")
        for n in range(6)
    ]
    assert parse(rss(hourly)).learned_interval == timedelta(minutes=30)
    assert parse(rss(hourly[:2])).learned_interval is None  # too few to tell


@pytest.mark.slow
def test_known_entries_skip_their_text_and_nothing_else_changes(corpus: Path) -> None:
    """Leaving the text of known, unchanged entries unread gives the same new items, the
    same count and the same learned interval, on every corpus feed, for any known half;
    and with another version stored, they are read whole."""
    import random

    from monitor.parse import identified, text_of
    from monitor.sources.registry import read_feed

    rng = random.Random(5)
    for path in sorted(corpus.iterdir()):
        try:
            raw = read_feed(path.read_bytes(), HEADERS, f"https://corpus.example/{path.name}")
        except ParseError:
            continue
        full = text_of(raw)
        known = {item.entry_key: item.digest for item in full.items if rng.random() < 0.5}
        skipped = text_of(raw, known)
        assert len(skipped.items) == len(full.items), path.name
        assert [item.entry_key for item in skipped.items] == [i.entry_key for i in full.items]
        assert identified(skipped, known) == identified(full, known), path.name
        edited = {key: None if digest is None else digest + 1 for key, digest in known.items()}
        assert text_of(raw, edited) == full, path.name
