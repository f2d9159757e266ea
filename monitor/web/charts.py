"""Small inline SVG charts for the status pages, drawn from stored counts: no plotting
service, no script, no external asset. Each bar carries a ``<title>`` (the browser's
tooltip: the day and its count) and the chart an ``aria-label`` with its total, so it
reads without sight as well."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from html import escape

DAYS = 30
BAR = 6  # pixels per bar
GAP = 2
HEIGHT = 32


def day_labels(today: int, days: int = DAYS) -> list[tuple[int, str]]:
    """The last ``days`` UTC days up to ``today`` (days since the epoch), oldest first,
    each with its date as ``2026-12-07``."""
    epoch = datetime(1970, 1, 1, tzinfo=UTC)
    return [
        (day, (epoch + timedelta(days=day)).strftime("%Y-%m-%d"))
        for day in range(today - days + 1, today + 1)
    ]


def bar_chart(counts: Mapping[int, int], days: Sequence[tuple[int, str]], name: str) -> str:
    """One bar per day, scaled to the busiest; ``data-counts`` lists the numbers drawn."""
    values = [counts.get(day, 0) for day, _ in days]
    top = max(values, default=0) or 1
    width = len(values) * (BAR + GAP)
    bars = []
    for position, ((_, label), value) in enumerate(zip(days, values, strict=True)):
        tall = max(1, round(value / top * HEIGHT)) if value else 1
        shade = "#3a6ea5" if value else "#ddd"
        bars.append(
            f'<rect x="{position * (BAR + GAP)}" y="{HEIGHT - tall}" width="{BAR}"'
            f' height="{tall}" fill="{shade}"><title>{label}: {value}</title></rect>'
        )
    most = max(values, default=0)
    label = f"{escape(name)}: {sum(values)} in {len(values)} days, at most {most} a day"
    return (
        f'<svg class="chart" width="{width}" height="{HEIGHT}" viewBox="0 0 {width} {HEIGHT}"'
        f' role="img" aria-label="{label}" data-counts="{",".join(map(str, values))}">'
        f"{''.join(bars)}</svg>"
    )


STRIP_COLOURS = {
    "ok": "#2e8b57",
    "failing": "#c0392b",
    "flaky": "#e67e22",
    "stale": "#b8860b",
    "unpolled": "#ddd",
}


def strip(squares: Sequence[tuple[str, str]], label: str, name: str) -> str:
    """One square per (state, tooltip), oldest first, coloured by state (green ok, red
    failing, orange flaky, amber stale, grey unpolled); ``data-states`` lists them and
    ``name`` is its id."""
    drawn = "".join(
        f'<rect x="{position * (BAR + GAP)}" y="0" width="{BAR}" height="{BAR * 2}"'
        f' fill="{STRIP_COLOURS.get(state, "#999")}"><title>{escape(tip)}</title></rect>'
        for position, (state, tip) in enumerate(squares)
    )
    width = max(1, len(squares) * (BAR + GAP))
    states = ",".join(state for state, _ in squares)
    return (
        f'<svg class="strip" id="{name}" width="{width}" height="{BAR * 2}" role="img"'
        f' aria-label="{escape(label)}" data-states="{states}">{drawn}</svg>'
    )


def poll_strip(states: Sequence[str]) -> str:
    """One square a poll, oldest first, green when it worked and red when it failed."""
    failed = sum(state != "ok" for state in states)
    label = f"{len(states)} polls, {failed} failed"
    return strip([(state, state) for state in states], label, "poll-strip")
