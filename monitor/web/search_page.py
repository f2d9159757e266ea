"""The status page's search as HTML: a box that keeps the query, then each item found
with its title and a piece of its summary, what matched marked (``<mark>``), paged, with
how many items were searched and how long it took. Every text from a feed is escaped."""

from __future__ import annotations

from html import escape
from typing import Any
from urllib.parse import urlencode

from monitor.text import merge_spans
from monitor.web.html import page

CONTEXT = 120  # characters of the summary shown before its first match


def marked(text: str, spans: list[tuple[int, int]]) -> str:
    """``text`` escaped, each span in it marked."""
    pieces, at = [], 0
    for start, end in merge_spans(spans):
        pieces.append(escape(text[at:start]))
        pieces.append(f"<mark>{escape(text[start:end])}</mark>")
        at = end
    pieces.append(escape(text[at:]))
    return "".join(pieces)


def excerpt(text: str, spans: list[tuple[int, int]], size: int = 3 * CONTEXT) -> str:
    """A piece of ``text`` around its first span, marked; its start when none."""
    first = min((start for start, _ in spans), default=0)
    begin = max(0, first - CONTEXT)
    end = min(len(text), begin + size)
    inside = [
        (max(s, begin) - begin, min(e, end) - begin) for s, e in spans if s < end and e > begin
    ]
    lead = "…" if begin else ""
    tail = "…" if end < len(text) else ""
    return lead + marked(text[begin:end], inside) + tail


def _result(result: dict[str, Any]) -> str:
    item = result["item"]
    spans: dict[str, list[tuple[int, int]]] = {}
    for term in result["matched"]:
        spans.setdefault(term["field"], []).extend((s, e) for s, e in term["spans"])
    title = marked(result["title"], spans.get("title", [])) or "(untitled)"
    link = item.get("link")
    if link and link.startswith(("http://", "https://")):
        title = f'<a href="{escape(link)}" rel="noreferrer">{title}</a>'
    summary = excerpt(result["summary"], spans.get("summary", []))
    terms = ", ".join(f"{t['term']} ({t['field']})" for t in result["matched"])
    feed = item["feed"]["title"] or item["feed"]["url"]
    facts = [feed, item["published"] or "", f"matched: {terms}"]
    shown = " · ".join(escape(fact) for fact in facts if fact)
    return f"<li>{title}<br><small>{shown}</small><br>{summary}</li>"


def render(query: str, answer: dict[str, Any]) -> str:
    """The whole page for a search's ``answer`` (see ``SearchApi.search``)."""
    box = (
        '<form id="search" method="get" action="/search">'
        f'<input type="search" name="q" size="50" value="{escape(query)}">'
        " <button>Search</button></form>"
    )
    parts = [f'<h1>Search</h1><p><small><a href="/">status</a></small></p>{box}']
    if "error" in answer:
        if query:
            parts.append(f'<p class="failing" id="error">{escape(answer["error"])}</p>')
        return page("search · news-monitor", "".join(parts))
    offset, limit, total = answer["offset"], answer["limit"], answer["total"]
    shown = answer["results"]
    stopped = "" if answer["complete"] else " (stopped: out of time)"
    parts.append(
        f'<p id="summary"><small>{total} match(es) among {answer["searched"]} stored item(s)'
        f"{stopped} in {answer['took_ms']} ms"
        + (f"; {offset + 1}–{offset + len(shown)} shown" if shown else "")
        + "</small></p>"
    )
    parts.append(
        '<ol id="results" start="{}">{}</ol>'.format(offset + 1, "".join(map(_result, shown)))
    )
    pages = []
    if offset:
        back = urlencode({"q": query, "offset": max(0, offset - limit)})
        pages.append(f'<a href="/search?{escape(back)}">previous</a>')
    if offset + limit < total:
        onward = urlencode({"q": query, "offset": offset + limit})
        pages.append(f'<a href="/search?{escape(onward)}" id="next">next</a>')
    parts.append(f"<p>{' · '.join(pages)}</p>")
    return page(f"{query} · search · news-monitor", "".join(parts))
