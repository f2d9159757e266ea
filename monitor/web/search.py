"""``/api/search?q=`` and the status page's search (``/search?q=``): a query in the
watchlist syntax over the stored items, with the matcher ``watchlists test --query``
uses, bounded so that it never holds the daemon.

The newest ``within`` items are searched (2,000 by default, at most 20,000), a slice
at a time with the event loop let through between slices, and the search stops when
its time budget (one second) is spent, saying how far it got. A query is at most
``MAX_QUERY`` characters; a bad one is answered 400 with the column that is wrong.
"""

from __future__ import annotations

import asyncio
import time
import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import Any, Protocol

from aiohttp import web

from monitor.match import Document, FeedLabels, QueryError, WatchlistSet
from monitor.models import StoredItem
from monitor.views import item_json
from monitor.web.search_page import render

MAX_QUERY = 500  # characters
WITHIN = 2_000  # items searched by default
MAX_WITHIN = 20_000
PAGE = 50
MAX_PAGE = 200
BUDGET = 1.0  # seconds of matching per request
SLICE = 200  # items matched between two turns of the event loop


class StoredItems(Protocol):
    """What the search reads of the store."""

    async def items(self, limit: int | None = None) -> list[StoredItem]:
        """Stored items, newest first."""


@dataclass(frozen=True, slots=True)
class Query:
    """A query compiled for the search, and what the configured feeds are called."""

    watchlists: WatchlistSet
    labels: Mapping[str, FeedLabels]


#: Compiles the text of a query (QueryError or ValueError when it is not valid).
QueryBuilder = Callable[[str], Query]


class SearchApi:
    """The ``/api/search`` route of one daemon."""

    def __init__(
        self,
        store: StoredItems,
        build: QueryBuilder,
        clock: Callable[[], float] = time.perf_counter,
    ) -> None:
        self.store = store
        self.build = build
        self.clock = clock

    def add_routes(self, app: web.Application) -> None:
        """Mount ``/api/search`` and ``/search``."""
        app.router.add_get("/api/search", self.api_search)
        app.router.add_get("/search", self.search_page)

    async def search(self, request: web.Request) -> dict[str, Any]:
        """The search the request asks for: ``{"query", "searched", "complete",
        "took_ms", "total", "offset", "results": [{"item", "matched": [{"term",
        "field", "spans", "found"}], "title", "summary"}]}`` (the last two: the NFC
        texts the spans are in), or ``{"error"}``."""
        text = request.query.get("q", "").strip()
        if not text:
            return {"error": "say what to search for: ?q=a query in the watchlist syntax"}
        if len(text) > MAX_QUERY:
            return {"error": f"a query is at most {MAX_QUERY} characters"}
        try:
            within = _number(request, "within", WITHIN, 1, MAX_WITHIN)
            limit = _number(request, "limit", PAGE, 1, MAX_PAGE)
            offset = _number(request, "offset", 0, 0, MAX_WITHIN)
        except ValueError as error:
            return {"error": str(error)}
        try:
            query = self.build(text)
        except (QueryError, ValueError) as error:
            return {"error": f"q: {error}"}
        started = self.clock()
        items = await self.store.items(within)
        found: list[dict[str, Any]] = []
        searched = 0
        for start in range(0, len(items), SLICE):
            if self.clock() - started > BUDGET:
                break
            for stored in items[start : start + SLICE]:
                found += _matches(query, stored)
            searched = min(len(items), start + SLICE)
            await asyncio.sleep(0)  # let the daemon's own work through
        return {
            "query": text,
            "searched": searched,
            "complete": searched == len(items),
            "took_ms": round((self.clock() - started) * 1000, 1),
            "total": len(found),
            "offset": offset,
            "limit": limit,
            "results": found[offset : offset + limit],
        }

    async def api_search(self, request: web.Request) -> web.Response:
        """The search as JSON (400 with ``error`` for a bad request)."""
        answer = await self.search(request)
        if "error" in answer:
            return web.json_response(answer, status=400)
        answer.pop("limit")
        for result in answer["results"]:
            del result["title"], result["summary"]
        return web.json_response(answer)

    async def search_page(self, request: web.Request) -> web.Response:
        """The search as a page: each item's title and summary with what matched marked,
        paged, with the time it took (``search_page.render``)."""
        answer = await self.search(request)
        return web.Response(
            text=render(request.query.get("q", ""), answer),
            content_type="text/html",
            status=400 if "error" in answer and request.query.get("q") else 200,
        )


def _matches(query: Query, stored: StoredItem) -> list[dict[str, Any]]:
    """The item's match, if any: each term with the field, the character spans (in the
    field's NFC text: ``summary`` is the entry's summary, content and article, a line
    apart) and the text found there."""
    known = query.labels.get(stored.feed_url) or FeedLabels(stored.feed_url)
    document = Document.of(stored.item, replace(known, title=stored.feed_title))
    results = []
    for match in query.watchlists.match(document):
        matched = []
        for term in match.terms:
            text = unicodedata.normalize("NFC", document.fields.get(term.field, ""))
            matched.append(
                {
                    "term": term.term,
                    "field": term.field,
                    "spans": [[start, end] for start, end in term.spans],
                    "found": [text[start:end] for start, end in term.spans],
                }
            )
        results.append(
            {
                "item": item_json(stored),
                "matched": matched,
                "title": unicodedata.normalize("NFC", document.fields["title"]),
                "summary": unicodedata.normalize("NFC", document.fields["summary"]),
            }
        )
    return results


def _number(request: web.Request, name: str, default: int, low: int, high: int) -> int:
    text = request.query.get(name)
    if text is None:
        return default
    if not text.isdigit() or not low <= int(text) <= high:
        raise ValueError(f"{name} must be a number from {low} to {high}")
    return int(text)
