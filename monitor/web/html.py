"""What the status pages share: the page around a body, its style sheet, tables of
escaped cells, and an item's title linked to its article."""

from __future__ import annotations

from html import escape

from aiohttp import web

from monitor.models import Item

STYLE = """
body{font:15px/1.4 system-ui,sans-serif;margin:1rem auto;max-width:70rem;padding:0 .8rem;color:#222}
h1{font-size:1.3rem}h2{font-size:1.1rem;margin-top:1.6rem}
table{border-collapse:collapse;width:100%}td,th{padding:.3rem .4rem;border-bottom:1px solid #ddd;
text-align:left;vertical-align:top}th{font-weight:600}.scroll{overflow-x:auto}
.ok{color:#176a2a}.failing,.gone,.dead{color:#a11}.stale,.moved,.pending{color:#8a5a00}
small{color:#666}
"""


def table(headers: list[str], rows: list[list[str]], name: str) -> str:
    """A table of cells that are already escaped HTML; "none" when there are no rows."""
    if not rows:
        return f'<p id="{name}"><small>none</small></p>'
    head = "".join(f"<th>{escape(header)}</th>" for header in headers)
    body = "".join("<tr>" + "".join(f"<td>{cell}</td>" for cell in row) + "</tr>" for row in rows)
    return f'<div class=scroll><table id="{name}"><tr>{head}</tr>{body}</table></div>'


def page(title: str, body: str) -> str:
    """A whole page around ``body`` (already escaped HTML); ``title`` is escaped here."""
    return (
        "<!doctype html><html lang=en><head><meta charset=utf-8>"
        '<meta name=viewport content="width=device-width,initial-scale=1">'
        f"<title>{escape(title)}</title><style>{STYLE}</style></head>"
        f"<body>{body}</body></html>"
    )


def linked_title(item: Item) -> str:
    """An item's title, escaped, linked to its article when the link is a web one."""
    title = escape(item.title or "(untitled)")
    if item.link and item.link.startswith(("http://", "https://")):
        title = f'<a href="{escape(item.link)}" rel="noreferrer">{title}</a>'
    return title


def message_page(title: str, message: str, status: int) -> web.Response:
    """A short page saying one thing (``message``: escaped HTML), with its status: a
    story or feed that is not stored, a form refused."""
    return web.Response(
        text=page(f"{title} · news-monitor", f"<p>{message}</p>"),
        content_type="text/html",
        status=status,
    )
