"""Pages without a feed (``type: html``): articles found by CSS selectors.

``item`` selects each article on the page; inside it, ``title``, ``link``, ``summary``
and ``date`` select its parts. Without a ``link`` selector the item's own ``href`` (an
``<a>`` item) or its first ``a[href]`` is the link; without a ``title`` selector its first
heading, else the link's text. Links resolve against the page's ``<base href>`` or its
URL; an item with neither a link nor a title is skipped. A page where ``item`` matches
nothing is an error, so a redesign that breaks the selectors is reported, not silent.
Lexbor (through selectolax) parses the page as a browser would, in C.
"""

from __future__ import annotations

import codecs
from collections.abc import Mapping
from urllib.parse import urljoin, urlsplit

from selectolax.lexbor import LexborHTMLParser, LexborNode, SelectolaxError

from monitor.sources import PageSelectors, RawEntry, RawFeed, ReadError, Text, parse_date

MAX_ITEMS = 500
HEADINGS = "h1, h2, h3, h4, h5, h6"
CHARSET_PREFIX = "charset="


def read_page(
    body: bytes, headers: Mapping[str, str], url: str, selectors: PageSelectors
) -> RawFeed:
    """The articles a page lists, as entries."""
    charset = _charset(headers)
    # The HTTP charset wins over the page's own <meta>, as in a browser.
    tree = (
        LexborHTMLParser(body.decode(charset, "replace"))
        if charset
        else LexborHTMLParser(body, encoding=True)
    )
    base = url
    base_tag = tree.css_first("base[href]")
    if base_tag is not None:
        base = urljoin(url, (base_tag.attributes.get("href") or "").strip())
    try:
        items = tree.css(selectors.item)
    except SelectolaxError:
        raise ReadError(f"the item selector {selectors.item!r} is not valid CSS") from None
    if not items:
        raise ReadError(
            f"the item selector {selectors.item!r} matches nothing on the page"
            " (has the site changed its layout?)"
        )
    entries = []
    for item in items[:MAX_ITEMS]:
        entry = _entry(item, base, selectors)
        if entry is not None:
            entries.append(entry)
    title_tag = tree.css_first("title")
    title = _text(title_tag) if title_tag is not None else ""
    warning = None if entries else f"none of the {len(items)} items has a link or a title"
    return RawFeed(
        title=Text(title, "text/plain") if title else None,
        link=url,
        entries=entries,
        warning=warning,
    )


def _charset(headers: Mapping[str, str]) -> str | None:
    """The charset the Content-Type header names, when Python knows it (None: let the
    page's own declaration decide)."""
    value = next((v for k, v in headers.items() if k.lower() == "content-type"), "")
    for part in value.split(";"):
        part = part.strip().lower()
        if part.startswith(CHARSET_PREFIX):
            name = part.removeprefix(CHARSET_PREFIX).strip("\"' ")
            try:
                return codecs.lookup(name).name
            except LookupError:
                return None
    return None


def _text(node: LexborNode) -> str:
    return " ".join((node.text(deep=True) or "").split())


def _first(item: LexborNode, selector: str | None) -> LexborNode | None:
    if selector is None:
        return None
    return item.css_first(selector)


def _link(item: LexborNode, selectors: PageSelectors, base: str) -> tuple[str | None, str]:
    """The item's link, resolved, and the text of the element it came from."""
    if selectors.link is not None:
        anchor = item.css_first(selectors.link)
    elif item.attributes.get("href"):
        anchor = item
    else:
        anchor = item.css_first("a[href]")
    if anchor is None:
        return None, ""
    href = anchor.attributes.get("href")
    if not href:  # a selector that names the anchor's container
        inner = anchor.css_first("a[href]")
        href = inner.attributes.get("href") if inner is not None else None
    if not href:
        return None, _text(anchor)
    link = urljoin(base, href.strip()).split("#", 1)[0]
    if urlsplit(link).scheme not in ("http", "https"):
        return None, _text(anchor)
    return link, _text(anchor)


def _date(item: LexborNode, selector: str | None) -> str | None:
    element = item.css_first(selector or "time[datetime]")
    if element is None:
        return None
    attributes = element.attributes
    return attributes.get("datetime") or attributes.get("content") or _text(element)


def _entry(item: LexborNode, base: str, selectors: PageSelectors) -> RawEntry | None:
    link, link_text = _link(item, selectors, base)
    titled = item.css_first(selectors.title or HEADINGS)
    title = _text(titled) if titled is not None else link_text
    if not link and not title:
        return None
    summary_node = _first(item, selectors.summary)
    summary = _text(summary_node) if summary_node is not None else ""
    return RawEntry(
        link=link,
        title=Text(title, "text/plain") if title else None,
        summary=Text(summary, "text/plain") if summary else None,
        published=parse_date(_date(item, selectors.date)),
    )
