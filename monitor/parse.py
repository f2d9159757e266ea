"""A source's entries → items, in stages that can be timed apart: text → identify
(reading the body is ``sources.registry``'s). Every entry becomes
one ``Item`` with plain text and an entry key (the Miniflux rule: the guid; a guid
repeated inside the feed → guid + link; no guid → the link; neither → a hash of title +
content). These functions are CPU work: callers run them in a worker process.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import replace
from functools import partial
from typing import Any

from monitor.dedupe import identify
from monitor.languages import item_language
from monitor.models import Item, ParsedFeed, Revision
from monitor.schedule import cadence
from monitor.sources import RawEntry, RawFeed, ReadError, Text
from monitor.sources.registry import read_feed
from monitor.text import html_to_text, tidy

HTML_TYPES = ("text/html", "application/xhtml+xml")
# The body is not a feed we can read; the message says what it is instead.
ParseError = ReadError


def parse_feed(body: bytes, headers: Mapping[str, str], url: str) -> ParsedFeed:
    """Parse a fetched body into items with entry keys and identity keys."""
    return identified(text_of(read_feed(body, headers, url)))


def text_of(raw: RawFeed, known: Mapping[str, int | None] | None = None) -> ParsedFeed:
    """Plain text for every entry, its entry key and the digest of its version; no
    identity keys yet.

    An entry whose key its guid or link gives, and whose key and version are ``known``
    (keys of stored entries, each with its stored version's digest), keeps no text: it
    goes no further than its key (``identified`` leaves it out) and its date.
    """
    known = known or {}
    keys = _keys_without_text(raw.entries) if known else [None] * len(raw.entries)
    fields = []
    for entry, key in zip(raw.entries, keys, strict=True):
        digest = entry_digest(entry)
        unchanged = key is not None and key in known and known[key] == digest
        fields.append({**(_bare_fields(entry) if unchanged else _fields(entry)), "digest": digest})
    return ParsedFeed(
        title=_text(raw.title) or None,
        link=raw.link,
        items=_keyed(fields),
        warning=raw.warning,
        declared_interval=raw.declared_interval,
    )


def entry_digest(entry: RawEntry) -> int:
    """The version of an entry as written (its title, link, summary and content): an
    entry edited in place keeps its key and changes this. A signed 64-bit integer."""
    hashed = hashlib.blake2b(digest_size=8)
    for part in (entry.title, entry.summary, *entry.contents):
        hashed.update(b"\x00" + (part.value.encode("utf-8", "replace") if part else b""))
    hashed.update(b"\x00" + (entry.link or "").encode("utf-8", "replace"))
    return int.from_bytes(hashed.digest(), "big", signed=True)


def identified(parsed: ParsedFeed, known: Collection[str] = ()) -> ParsedFeed:
    """The feed with its learned interval, and its items with their cross-feed identity
    keys, less the items whose entry keys are ``known``."""
    return replace(
        parsed,
        items=identify(parsed.items, known),
        learned_interval=cadence(item.published for item in parsed.items),
    )


def revisions(
    items: Sequence[Item], known: Mapping[str, int | None]
) -> list[tuple[Item, Revision]]:
    """The stored entries that come back in another version: edited (their digest
    changed), or stored before versions were kept (to be read again quietly)."""
    found = []
    for item in items:
        if item.entry_key not in known:
            continue
        stored = known[item.entry_key]
        if stored is None:
            found.append((item, Revision.REREAD))
        elif stored != item.digest:
            found.append((item, Revision.EDITED))
    return found


def _text(text: Text | None) -> str:
    if text is None or not text.value:
        return ""
    return html_to_text(text.value) if text.type in HTML_TYPES else tidy(text.value)


def _fields(entry: RawEntry) -> dict[str, Any]:
    summary = _text(entry.summary)
    title = _text(entry.title)
    contents = (_text(part) for part in entry.contents)
    content = "\n".join(dict.fromkeys(text for text in contents if text))
    return {
        "guid": entry.guid,
        "title": title,
        "link": entry.link,
        "summary": summary,
        "content": "" if content == summary else content,
        "author": entry.author,
        "published": entry.published,
        # Detected here, once: matching and identity both read the item's language.
        "language": item_language(entry.language, title, summary or content),
    }


def _keys_without_text(entries: Sequence[RawEntry]) -> list[str | None]:
    """Each entry's key where ``_keyed`` would take it from the guid or the link alone
    (None where it needs the text): an entry with a guid is never dropped as empty."""
    guid_counts = Counter(entry.guid for entry in entries if entry.guid)
    return [
        _entry_key(entry.guid, entry.link, guid_counts[entry.guid or ""], None) for entry in entries
    ]


def _entry_key(
    guid: str | None, link: str | None, guid_count: int, content_key: Callable[[], str] | None
) -> str | None:
    """The Miniflux rule: the guid; a guid repeated inside the feed → guid + link (or
    + content); no guid → the link; neither → the content. None when the content is
    needed and ``content_key`` is not given."""
    if guid and guid_count == 1:
        return guid
    tail = link or (content_key() if content_key else None)
    if guid:
        return f"{guid} {tail}" if tail else None
    return tail


def _bare_fields(entry: RawEntry) -> dict[str, Any]:
    return {**_fields(RawEntry(guid=entry.guid, link=entry.link)), **_dated(entry)}


def _dated(entry: RawEntry) -> dict[str, Any]:
    return {"author": entry.author, "published": entry.published, "language": entry.language}


def _keyed(entries: Iterable[dict[str, Any]]) -> list[Item]:
    """Give each entry its key by the Miniflux rule; drop empty and repeated entries."""
    entries = [e for e in entries if e["guid"] or e["link"] or e["title"] or e["summary"]]
    guid_counts = Counter(entry["guid"] for entry in entries if entry["guid"])
    items: dict[str, Item] = {}
    for fields in entries:
        guid = fields["guid"]
        count = guid_counts[guid] if guid else 0
        key = _entry_key(guid, fields["link"], count, partial(_content_key, fields))
        assert key is not None  # with a content key there is always one
        items.setdefault(key, Item(entry_key=key, **fields))
    return list(items.values())


def _content_key(fields: Mapping[str, Any]) -> str:
    text = f"{fields['title']}\n{fields['content'] or fields['summary']}"
    return "sha256:" + hashlib.sha256(text.encode("utf-8")).hexdigest()
