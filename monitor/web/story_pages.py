"""Stories on the status page: the newest ones as a table on ``/``, and a page per story
(``/stories/{id}``) with every member, when it was seen, how it joined, and what each
watchlist decided. Every text that came from a feed is escaped.

A story's page can mute it (``stories mute``) or lift its mute, by a form that POSTs
back. Browsers send a page's cookies and forms to a loopback daemon from any site, and
a proxy that adds the bearer token adds it to those too, so a form carries a token of
its own (an HMAC of the action and story under a secret of this process), and a POST
another site started (``Sec-Fetch-Site``, ``Origin``) is refused."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Callable
from datetime import datetime, timedelta
from html import escape
from urllib.parse import urlsplit

from aiohttp import web

from monitor.models import Story
from monitor.store.protocols import StatusReads
from monitor.views import iso_utc, join_reason, mute_span, source_name
from monitor.web.html import linked_title, message_page, page, table

SHOWN = 20  # stories on the status page
# What the mute form offers; "" mutes until unmuted.
MUTE_SPANS = {"1d": timedelta(days=1), "7d": timedelta(days=7), "30d": timedelta(days=30), "": None}
MUTE_CHOICES = (("1d", "1 day"), ("7d", "7 days"), ("30d", "30 days"), ("", "until unmuted"))


class StoryPages:
    """The stories section of ``/`` and the page of each story."""

    def __init__(
        self, store: StatusReads, clock: Callable[[], datetime], secret: bytes | None = None
    ) -> None:
        self.store = store
        self.clock = clock
        self.secret = secret or secrets.token_bytes(32)  # forms last as long as the process

    def add_routes(self, app: web.Application) -> None:
        """Mount ``/stories/{id}`` and its ``mute``/``unmute`` forms' targets."""
        app.router.add_get("/stories/{id}", self.story_page)
        app.router.add_post("/stories/{id}/mute", self.mute)
        app.router.add_post("/stories/{id}/unmute", self.unmute)

    def form_token(self, action: str, story_id: int) -> str:
        """What a form to ``action`` a story carries, so no other site can forge it."""
        message = f"{action}:{story_id}".encode()
        return hmac.new(self.secret, message, hashlib.sha256).hexdigest()[:32]

    def _form(self, story: Story) -> str:
        muted = story.muted is not None and story.muted.holds(self.clock())
        action = "unmute" if muted else "mute"
        token = self.form_token(action, story.id)
        choices = "".join(
            f'<option value="{value}"{" selected" if value == "7d" else ""}>{label}</option>'
            for value, label in MUTE_CHOICES
        )
        fields = (
            '<button type="submit">Unmute</button>'
            if muted
            else f'<label>Mute for <select name="for">{choices}</select></label>'
            ' <button type="submit">Mute</button>'
        )
        return (
            f'<form id="{action}" method="post" action="/stories/{story.id}/{action}">'
            f'<input type="hidden" name="token" value="{token}">{fields}</form>'
        )

    async def mute(self, request: web.Request) -> web.StreamResponse:
        """Mute a story (for the form's span), then back to its page."""
        return await self._act(request, "mute")

    async def unmute(self, request: web.Request) -> web.StreamResponse:
        """Lift a story's mute, then back to its page."""
        return await self._act(request, "unmute")

    async def _act(self, request: web.Request, action: str) -> web.StreamResponse:
        text = request.match_info["id"]
        if not text.isdigit():
            return message_page("no such story", f"No story {escape(text)} is stored.", 404)
        story_id = int(text)
        if not _same_site(request):
            return message_page("refused", "Another site sent this form: nothing was changed.", 403)
        form = await request.post()
        given = form.get("token")
        wanted = self.form_token(action, story_id)
        if not isinstance(given, str) or not hmac.compare_digest(given, wanted):
            stale = "This form is stale or forged: reload the story's page and try again."
            return message_page("refused", stale, 403)
        if action == "unmute":
            done = await self.store.unmute_story(story_id)
        else:
            span = form.get("for", "")
            if not isinstance(span, str) or span not in MUTE_SPANS:
                return message_page("refused", "Mute for 1d, 7d, 30d, or until unmuted.", 400)
            now = self.clock()
            length = MUTE_SPANS[span]
            done = await self.store.mute_story(
                story_id, now, None if length is None else now + length
            )
        if not done:
            return message_page("no such story", f"No story {story_id} is stored.", 404)
        raise web.HTTPSeeOther(f"/stories/{story_id}")

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
            return message_page("no such story", f"No story {escape(text)} is stored.", 404)
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
            f' · <a href="/">status</a></small></p>{self._form(story)}'
            f"<h2>Members</h2>{members}<h2>Watchlists</h2>{decisions}"
        )
        return web.Response(text=page(f"{heading} · news-monitor", body), content_type="text/html")


def _title(story: Story) -> str:
    return (story.items[0].item.title if story.items else "") or "(untitled)"


def _muted(story: Story, now: datetime) -> str:
    if story.muted is None or not story.muted.holds(now):
        return ""
    return f' <small class="stale">muted {escape(mute_span(story.muted))}</small>'


def _same_site(request: web.Request) -> bool:
    """The request came from this side's own pages (or from no page at all, such as
    curl): browsers say where a form was sent from."""
    fetched_from = request.headers.get("Sec-Fetch-Site")
    if fetched_from is not None and fetched_from not in ("same-origin", "none"):
        return False
    origin = request.headers.get("Origin")
    if origin is None or origin == "null":
        return origin is None
    return urlsplit(origin).netloc == request.host
