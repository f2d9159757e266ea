"""Sitemaps as sources (``type: sitemap``): Google News sitemaps and sitemap indexes.

A news sitemap is a ``<urlset>`` whose ``<url>`` entries carry ``<news:news>`` (title,
publication date, keywords, language); a plain sitemap's entries carry a ``<loc>`` and
perhaps a ``<lastmod>``, and get a title from their URL's slug. Only recent entries are
read: a news sitemap lists the last two days, a plain one can list a site's whole past.
An index (``<sitemapindex>``) has no entries of its own: it names the sitemaps to read,
the most recently modified first. A ``.xml.gz`` sitemap is inflated, up to 50 MB.
Elements are found by local name, so a sitemap with a wrong or missing namespace is
read all the same.
"""

from __future__ import annotations

import re
import zlib
from datetime import datetime, timedelta
from urllib.parse import unquote, urljoin, urlsplit

from lxml import etree

from monitor.sources import RawEntry, RawFeed, ReadError, Source, Text, parse_date

# Google News sitemaps list the articles of the last two days.
DEFAULT_RECENT = timedelta(days=2)
MAX_ENTRIES = 5_000
MAX_CHILDREN = 5  # of an index: the most recently modified sitemaps are read
MAX_INFLATED = 50 * 1000 * 1000  # the sitemap protocol's limit for one sitemap
GZIP_MAGIC = b"\x1f\x8b"
_PARSER = etree.XMLParser(
    resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False, recover=False
)
SLUG_PARTS = re.compile(r"[-_+.\s]+")
SLUG_SUFFIX = re.compile(r"\.(s?html?|php|aspx?|jsp)$", re.IGNORECASE)


def read_sitemap(body: bytes, url: str, source: Source, now: datetime) -> RawFeed:
    """The recent entries of a sitemap, or the sitemaps an index names."""
    if body[:2] == GZIP_MAGIC:
        body = gunzipped(body)
    try:
        root = etree.fromstring(body, _PARSER)
    except (etree.XMLSyntaxError, ValueError) as error:
        raise ReadError(f"the sitemap is not well-formed XML: {error}") from None
    kind = _local(root)
    cutoff = now - (source.recent or DEFAULT_RECENT)
    if kind == "sitemapindex":
        return RawFeed(children=_children(root, url, cutoff))
    if kind != "urlset":
        raise ReadError(f"the body is not a sitemap: its root element is <{kind}>")
    entries = []
    older = 0
    for element in root:
        if _local(element) != "url":
            continue
        entry = _entry(element, url)
        if entry is None:
            continue
        if entry.published is not None and entry.published < cutoff:
            older += 1
            continue
        entries.append(entry)
        if len(entries) == MAX_ENTRIES:
            break
    warning = None
    if not entries and older:
        warning = f"all {older} entries are older than {cutoff:%Y-%m-%d %H:%M} UTC"
    return RawFeed(entries=entries, warning=warning)


def gunzipped(body: bytes) -> bytes:
    """A ``.xml.gz`` sitemap (gzip as the file's own format, not as the transfer's),
    inflated up to the protocol's 50 MB, so a small bomb cannot fill the memory."""
    inflater = zlib.decompressobj(wbits=zlib.MAX_WBITS | 16)
    try:
        inflated = inflater.decompress(body, MAX_INFLATED + 1)
    except zlib.error as error:
        raise ReadError(f"the gzipped sitemap is corrupt: {error}") from None
    if len(inflated) > MAX_INFLATED:
        raise ReadError(f"the gzipped sitemap inflates to more than {MAX_INFLATED} bytes")
    return inflated


def _local(element: etree._Element) -> str:
    tag = element.tag
    return etree.QName(tag).localname if isinstance(tag, str) else ""


def _child_text(element: etree._Element, name: str) -> str | None:
    for child in element:
        if _local(child) == name:
            return (child.text or "").strip() or None
    return None


def _child(element: etree._Element, name: str) -> etree._Element | None:
    for child in element:
        if _local(child) == name:
            return child
    return None


def _entry(element: etree._Element, base: str) -> RawEntry | None:
    loc = _child_text(element, "loc")
    if loc is None:
        return None
    link = urljoin(base, loc)
    if urlsplit(link).scheme not in ("http", "https"):
        return None
    news = _child(element, "news")
    published = parse_date(_child_text(element, "lastmod"))
    title = None
    keywords = None
    language = None
    if news is not None:
        published = parse_date(_child_text(news, "publication_date")) or published
        title = _child_text(news, "title")
        keywords = _child_text(news, "keywords")
        publication = _child(news, "publication")
        if publication is not None:
            language = _child_text(publication, "language")
    return RawEntry(
        guid=link,
        link=link,
        title=Text(title or title_from_url(link), "text/plain"),
        # The keywords a newsroom tags an article with are worth matching: they stand in
        # for the summary a sitemap does not have.
        summary=Text(keywords, "text/plain") if keywords else None,
        published=published,
        language=language,
    )


def title_from_url(url: str) -> str:
    """A title from a URL's last path segment: ``/2026/11/karabakh-ceasefire-holds.html``
    → "Karabakh ceasefire holds" (empty when the segment has no words)."""
    segments = [part for part in urlsplit(url).path.split("/") if part]
    if not segments:
        return ""
    slug = SLUG_SUFFIX.sub("", unquote(segments[-1]))
    words = [word for word in SLUG_PARTS.split(slug) if word]
    if not any(any(char.isalpha() for char in word) for word in words):
        return ""
    text = " ".join(words)
    return text[:1].upper() + text[1:]


def _children(root: etree._Element, base: str, cutoff: datetime) -> tuple[str, ...]:
    """The index's sitemaps modified since ``cutoff`` (undated ones too), newest first,
    at most ``MAX_CHILDREN``."""
    found: list[tuple[datetime | None, int, str]] = []
    for position, element in enumerate(root):
        if _local(element) != "sitemap":
            continue
        loc = _child_text(element, "loc")
        if loc is None:
            continue
        link = urljoin(base, loc)
        modified = parse_date(_child_text(element, "lastmod"))
        if urlsplit(link).scheme in ("http", "https") and (modified is None or modified >= cutoff):
            found.append((modified, position, link))
    dated = sorted((entry for entry in found if entry[0] is not None), key=lambda e: e[:2])
    dated.reverse()
    undated = [entry for entry in found if entry[0] is None]
    return tuple(link for _, _, link in [*dated, *undated][:MAX_CHILDREN])
