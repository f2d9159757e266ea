"""Stories on the status page: the newest ones as a table on ``/``, and a page per story
(``/stories/{id}``) with every member, when it was seen, how it joined, and what each
watchlist decided. Every text that came from a feed is escaped."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from html import escape

from aiohttp import web

from monitor.models import Story
from monitor.store.protocols import StatusReads
from monitor.views import iso_utc, join_reason, mute_span, source_name
from monitor.web.html import linked_title, page, table

SHOWN = 20  # stories on the status page


class StoryPages:
    """The stories section of ``/`` and the page of each story."""

    def __init__(self, store: StatusReads, clock: Callable[[], datetime]) -> None:
        self.store = store
        self.clock = clock

    def add_routes(self, app: web.Application) -> None:
        """Mount ``/stories/{id}``."""
        app.router.add_get("/stories/{id}", self.story_page)

    async def section(self) -> str:
        """The newest stories: title (to its page), sources, what alerted, muted."""
        stories = await self.store.stories(SHOWN)
        rows = [
            [
                f'<a href="/stories/{story.id}">{escape(_title(story))}</a>'
                + _muted(story, self.clock()),
                str(len({source_name(member) for member in story.items})),
                escape(", ".join(d.watchlist for d in story.decisions if d.state == "alerted")),
                escape(iso_utc(story.created_at) or ""),
            ]
            for story in stories
        ]
        return "<h2>Stories</h2>" + table(
            ["Story", "Sources", "Alerted", "First seen"], rows, "stories"
        )

    async def story_page(self, request: web.Request) -> web.Response:
        """Every member of one story, in the order they were seen, and the decisions."""
        text = request.match_info["id"]
        story = await self.store.story(int(text)) if text.isdigit() else None
        if story is None:
            return web.Response(
                text=page(
                    "no such story · news-monitor", f"<p>No story {escape(text)} is stored.</p>"
                ),
                content_type="text/html",
                status=404,
            )
        names = {member.id: source_name(member) for member in story.items}
        members = table(
            ["Source", "Item", "Seen", "Joined"],
            [
                [
                    escape(source_name(member)),
                    linked_title(member.item),
                    escape(iso_utc(member.first_seen_at) or ""),
                    escape(join_reason(member, names)),
                ]
                for member in story.items
            ],
            "members",
        )
        decisions = table(
            ["Watchlist", "Decided", "By", "Why"],
            [
                [
                    escape(decision.watchlist),
                    escape(decision.state),
                    escape(names.get(decision.item_id, f"item {decision.item_id}")),
                    escape(decision.reason or ""),
                ]
                for decision in story.decisions
            ],
            "decisions",
        )
        heading = f"story {story.id}: {_title(story)}"
        body = (
            f"<h1>{escape(heading)}</h1><p><small>{len(story.items)} item(s), first seen "
            f"{escape(iso_utc(story.created_at) or '')}{_muted(story, self.clock())}"
            f' · <a href="/">status</a></small></p>'
            f"<h2>Members</h2>{members}<h2>Watchlists</h2>{decisions}"
        )
        return web.Response(text=page(f"{heading} · news-monitor", body), content_type="text/html")


def _title(story: Story) -> str:
    return (story.items[0].item.title if story.items else "") or "(untitled)"


def _muted(story: Story, now: datetime) -> str:
    if story.muted is None or not story.muted.holds(now):
        return ""
    return f' <small class="stale">muted {escape(mute_span(story.muted))}</small>'
