"""OPML feed lists: read one (folders and categories become tags), write one.

The YAML stays the one source of truth: an OPML file counts only when the configuration
includes it (``feeds: [{opml: feeds.opml}]``); ``news-monitor feeds import`` merges a
list into that file, and ``feeds export`` writes every configured feed as OPML.
Parsed with defusedxml: a feed list from elsewhere must not expand entities or fetch
anything.
"""

from __future__ import annotations

import os
import tempfile
import xml.etree.ElementTree as ElementTree
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import defusedxml.ElementTree as SafeElementTree
from defusedxml import DefusedXmlException

MAX_OPML_BYTES = 32 * 1024 * 1024  # 100,000 outlines fit


class OpmlError(ValueError):
    """An OPML file that cannot be read or is not OPML; the message says why."""


@dataclass(frozen=True, slots=True)
class OpmlFeed:
    """One subscription: its URL, title and tags (enclosing folders and categories)."""

    url: str
    title: str | None = None
    tags: tuple[str, ...] = ()


def parse_opml(data: bytes) -> list[OpmlFeed]:
    """The subscriptions of an OPML document, in order, each URL once."""
    if len(data) > MAX_OPML_BYTES:
        raise OpmlError(f"larger than {MAX_OPML_BYTES // (1024 * 1024)} MiB")
    try:
        root = SafeElementTree.fromstring(data)
    except DefusedXmlException as error:
        raise OpmlError(f"refused: {type(error).__name__} (entities or DTDs)") from None
    except ElementTree.ParseError as error:
        raise OpmlError(f"not well-formed XML: {error}") from None
    if root.tag != "opml" or root.find("body") is None:
        raise OpmlError("not OPML: expected <opml> with a <body>")
    found: dict[str, OpmlFeed] = {}

    def walk(outline: ElementTree.Element, folders: tuple[str, ...]) -> None:
        label = (outline.get("title") or outline.get("text") or "").strip() or None
        url = (outline.get("xmlUrl") or "").strip()
        if label == url:
            label = None  # a list that names a feed by its URL gives it no name
        if url:
            categories = [
                part.strip()
                for category in (outline.get("category") or "").split(",")
                for part in category.split("/")
                if part.strip()
            ]
            tags = tuple(dict.fromkeys([*folders, *categories]))
            found.setdefault(url, OpmlFeed(url, label, tags))
        inner = (*folders, label) if label and not url else folders
        for child in outline.findall("outline"):
            walk(child, inner)

    body = root.find("body")
    assert body is not None
    for outline in body.findall("outline"):
        walk(outline, ())
    return list(found.values())


def read_opml(path: Path) -> list[OpmlFeed]:
    """``parse_opml`` of a file (at most ``MAX_OPML_BYTES``)."""
    try:
        with path.open("rb") as file:
            data = file.read(MAX_OPML_BYTES + 1)
    except OSError as error:
        raise OpmlError(f"cannot read {path}: {error.strerror}") from None
    return parse_opml(data)


def opml_document(feeds: Iterable[OpmlFeed], title: str = "news-monitor feeds") -> str:
    """An OPML 2.0 document listing the feeds (tags as ``category``)."""
    root = ElementTree.Element("opml", version="2.0")
    head = ElementTree.SubElement(root, "head")
    ElementTree.SubElement(head, "title").text = title
    body = ElementTree.SubElement(root, "body")
    for feed in feeds:
        attributes = {"type": "rss", "text": feed.title or feed.url, "xmlUrl": feed.url}
        if feed.title:
            attributes["title"] = feed.title
        if feed.tags:
            attributes["category"] = ",".join(feed.tags)
        ElementTree.SubElement(body, "outline", attributes)
    ElementTree.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ElementTree.tostring(
        root, encoding="unicode"
    )


def write_opml(path: Path, feeds: Iterable[OpmlFeed]) -> None:
    """Replace the file at once: a daemon reloading meanwhile reads the old or the new."""
    text = opml_document(feeds)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as file:
            file.write(text)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
