"""The fast reader against feedparser: the same items wherever it reads a feed, and a
clean fall back to feedparser wherever it declines one."""

from __future__ import annotations

from pathlib import Path

import pytest

from monitor.parse import parse_feed, text_of
from monitor.sources.fast import decline_reason, read_fast
from monitor.sources.universal import read_with_feedparser

URL = "https://example.org/news/feed"
XML = {"content-type": "application/xml"}


def both(body: bytes, headers: dict[str, str] | None = None):  # type: ignore[no-untyped-def]
    """The fast reader's and feedparser's feeds, with text and entry keys."""
    fast = read_fast(body, headers or XML, URL)
    assert fast is not None, decline_reason(body, headers or XML, URL)
    return text_of(fast), text_of(read_with_feedparser(body, headers or XML, URL))


@pytest.mark.slow
def test_every_corpus_feed_it_reads_gives_feedparsers_items(corpus: Path) -> None:
    read = declined = 0
    for path in sorted(corpus.iterdir()):
        body = path.read_bytes()
        if path.name == "LICENSE" or body.lstrip()[:1] in (b"{", b"["):
            continue
        url = f"https://corpus.example/{path.name}"
        for headers in (XML, {"content-type": "application/rss+xml; charset=UTF-8"}):
            fast = read_fast(body, headers, url)
            if fast is None:
                declined += 1
                continue
            read += 1
            # ids, titles, links, dates, text, authors, languages, and the feed's own
            slow = text_of(read_with_feedparser(body, headers, url))
            assert text_of(fast) == slow, path.name
    # It must carry the bulk, or it is not worth having (92 of 110 feeds today).
    assert read >= 0.75 * (read + declined), (read, declined)


RSS_RULES = """<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/"
     xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:media="http://search.yahoo.com/mrss/">
<channel><title>T &amp;amp; co</title><link>/news/</link><language>en_GB</language>
<ttl>30</ttl><image><title>Logo</title><url>https://example.org/l.png</url></image>
<item><title>AT&amp;T &lt;b&gt;wins&lt;/b&gt;</title><guid>relative/1</guid>
  <content:encoded><![CDATA[<p>Body <b>one</b></p>]]></content:encoded>
  <pubDate>Tue, 10 Jun 2025 09:00:00 GMT</pubDate><dc:creator>Ann</dc:creator></item>
<item><title>Second</title><guid isPermaLink="false">id-2</guid><link>a?x=1&amp;amp;y=2</link>
  <description>Lead</description><dc:date>2025-06-11T10:00:00Z</dc:date>
  <media:content url="https://example.org/p.jpg"><media:title>Photo</media:title></media:content>
</item>
<item><title>Caf\u00c3\u00a9</title><link>https://example.org/3</link>
  <description>\u0093quoted\u0094</description>
  <author>jo@example.org (Jo)</author><pubDate>not a date</pubDate></item>
</channel></rss>"""

ATOM_RULES = """<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom" xml:lang="de_AT">
<title type="html">A &lt;i&gt;B&lt;/i&gt;</title>
<link href="/" rel="alternate"/><link href="/feed" rel="self"/>
<author><name>Feed owner</name></author>
<entry><id>tag:example.org,2025:1</id><title>Plain &lt;b&gt;</title>
  <link rel="enclosure" href="/a.mp3"/><updated>2025-06-10T09:00:00+02:00</updated>
  <content type="html" xml:base="https://other.example/">&lt;p&gt;Only content&lt;/p&gt;</content>
  <author><name>Bo</name><email>bo@example.org</email></author></entry>
<entry><id>/2</id><link href="/2.html"/><link href="/2.pdf" rel="alternate" type="application/pdf"/>
  <summary>Short</summary><content type="text">Long</content>
  <published>2025-06-09T08:00:00Z</published><updated>2025-06-10T08:00:00Z</updated></entry>
</feed>"""


@pytest.mark.parametrize("body", [RSS_RULES, ATOM_RULES], ids=["rss", "atom"])
def test_feedparsers_rules_hold(body: str) -> None:
    """Relative guids and links, a guid as the link, titles that look like HTML, a
    content copied into the summary, authors with e-mail, dates of every kind, UTF-8 read
    as Latin-1, Windows-1252 quotes, languages: each the way feedparser has it."""
    fast, slow = both(body.encode())
    assert fast == slow
    assert fast.items and all(item.entry_key for item in fast.items)


def test_the_rules_are_the_ones_we_meant() -> None:
    fast, _ = both(RSS_RULES.encode())
    first, second, third = fast.items
    assert first.guid == first.link == "https://example.org/news/relative/1"
    assert first.title == "AT&T wins" and first.summary == "Body one"
    assert second.guid == "id-2" and second.link == "https://example.org/news/a?x=1&y=2"
    assert second.published is not None and second.published.day == 11
    assert third.title == "Café" and third.summary == "“quoted”" and third.published is None
    assert first.language == "en_GB" and fast.title == "T & co"  # as written, like feedparser


DECLINED = {
    "a DOCTYPE": b'<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY e "x">]>'
    b'<rss version="2.0"><channel><title>T</title><item><title>&e;</title>'
    b"<link>https://example.org/1</link></item></channel></rss>",
    "xml:base": b'<rss version="2.0" xml:base="https://b.example/"><channel><item>'
    b"<title>T</title><link>1</link></item></channel></rss>",
    "RSS 1.0": b'<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"'
    b' xmlns="http://purl.org/rss/1.0/"><item rdf:about="https://example.org/1">'
    b"<title>T</title><link>https://example.org/1</link></item></rdf:RDF>",
    "XHTML content": b'<feed xmlns="http://www.w3.org/2005/Atom"><entry><id>x:1</id>'
    b'<title>T</title><content type="xhtml"><div xmlns="http://www.w3.org/1999/xhtml">'
    b"<p>Hi</p></div></content></entry></feed>",
    "not well-formed": b'<rss version="2.0"><channel><item><title>A & B</title>'
    b"<link>https://example.org/1</link></item></channel></rss>",
    "a media:description": b'<rss version="2.0" xmlns:media="http://search.yahoo.com/mrss/">'
    b"<channel><item><title>T</title><media:description>D</media:description>"
    b"<link>https://example.org/1</link></item></channel></rss>",
}


@pytest.mark.parametrize("case", sorted(DECLINED))
def test_what_it_declines_feedparser_reads(case: str) -> None:
    body = DECLINED[case]
    assert decline_reason(body, XML, URL) is not None
    parsed = parse_feed(body, XML, URL)  # through feedparser
    assert parsed.items and parsed.items[0].title


@pytest.mark.parametrize(
    "headers",
    [{}, {"content-type": "text/html"}, {"content-type": "application/xml; charset=latin-1"}],
    ids=["no content type", "html content type", "charset against the document's"],
)
def test_header_questions_go_to_feedparser(headers: dict[str, str]) -> None:
    body = (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><item>'
        "<title>Qarabağ</title><link>https://example.org/1</link></item></channel></rss>"
    )
    assert read_fast(body.encode(), headers, URL) is None


def test_entity_expansion_is_never_attempted() -> None:
    laughs = (
        b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
        + b"".join(
            b'<!ENTITY lol%d "%s">' % (n, b"&lol%d;" % (n - 1) * 10 if n > 1 else b"&lol;" * 10)
            for n in range(1, 10)
        )
        + b']><rss version="2.0"><channel><item><title>&lol9;</title></item></channel></rss>'
    )
    assert read_fast(laughs, XML, URL) is None  # declined, not expanded
    (item,) = parse_feed(laughs, XML, URL).items  # feedparser refuses to expand it too
    assert len(item.title) < 100
