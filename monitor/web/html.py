"""What the status pages share: their style sheet and their tables of escaped cells."""

from __future__ import annotations

from html import escape

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
