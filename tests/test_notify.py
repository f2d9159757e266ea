"""Channels: the webhook (verified with standardwebhooks), Slack (parsed by slack_sdk), console."""

from __future__ import annotations

import io
import json
import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import aiohttp
import pytest
from slack_sdk.models.blocks import Block, ContextBlock, HeaderBlock, SectionBlock
from standardwebhooks.webhooks import Webhook

from monitor.dedupe import identify
from monitor.match import match_items
from monitor.models import FeedSpec, Item, Message, MessageKind, PollRecord
from monitor.notify.base import DeliveryError
from monitor.notify.console import ConsoleNotifier
from monitor.notify.discord import DiscordNotifier
from monitor.notify.ntfy import NtfyNotifier
from monitor.notify.payload import marked_snippet
from monitor.notify.slack import SlackNotifier, escape, slack_message
from monitor.notify.teams import TeamsNotifier
from monitor.notify.webhook import WebhookNotifier
from monitor.views import snippet
from tests.conftest import StoreFactory
from tests.support.matching import OneWatchlist
from tests.support.servers import Receiver
from tests.support.values import queue_alerts

SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
KEY = __import__("base64").b64decode(SECRET.removeprefix("whsec_"))
HOSTILE = "<!channel> Truce & <https://evil.example|click> in Qarabağ"


def now() -> datetime:
    return datetime.now(UTC)


@pytest.fixture
async def deliveries(store_factory: StoreFactory) -> AsyncIterator[list[Message]]:
    async with store_factory() as store:
        await queue_alerts(store, [("a1", "Karabakh ceasefire agreed"), ("a2", HOSTILE)])
        yield await store.claim_due_deliveries(now(), 10, timedelta(minutes=1))


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as client:
        yield client


def verify_standard_webhook(headers: dict[str, str], body: bytes) -> dict[str, object]:
    wanted = {key.lower(): value for key, value in headers.items()}
    payload = Webhook(SECRET).verify(body, wanted)
    assert isinstance(payload, dict)
    return payload


async def test_webhook_body_and_signature(
    receiver: Receiver, session: aiohttp.ClientSession, deliveries: list[Message]
) -> None:
    notifier = WebhookNotifier(session, receiver.url(), KEY, timedelta(seconds=5), now)
    await notifier.send(deliveries[0])
    ((headers, body),) = receiver.requests
    payload = verify_standard_webhook(headers, body)
    assert headers["Content-Type"] == "application/json"
    assert headers["webhook-id"] == payload["id"] == deliveries[0].message_id
    assert payload["type"] == "alert"
    assert payload["watchlist"] == "karabakh"
    assert payload["item"] == {
        "id": "a1",
        "title": "Karabakh ceasefire agreed",
        "link": "https://news.example/a1",
        "summary": "Armenia and Azerbaijan agreed to a humanitarian ceasefire.",
        "published": "2020-10-10T09:00:00Z",
        "language": None,  # unknown: the stored item has none
        "feed": {"url": "https://news.example/feed", "title": "News"},
    }
    assert payload["story"] == {"id": str(deliveries[0].stored.story_id), "sources": 1}
    assert payload["matched"] == [
        {"term": "ceasefire", "field": "title"},
        {"term": "Karabakh", "field": "summary"},
    ]


async def test_webhook_id_is_the_same_on_every_retry(
    receiver: Receiver, session: aiohttp.ClientSession, deliveries: list[Message]
) -> None:
    notifier = WebhookNotifier(session, receiver.url(), KEY, timedelta(seconds=5), now)
    await notifier.send(deliveries[0])
    await notifier.send(deliveries[0])
    ids = {headers["webhook-id"] for headers, _ in receiver.requests}
    assert len(ids) == 1
    for headers, body in receiver.requests:
        verify_standard_webhook(headers, body)


async def test_unsigned_webhook_has_no_signature(
    receiver: Receiver, session: aiohttp.ClientSession, deliveries: list[Message]
) -> None:
    await WebhookNotifier(session, receiver.url(), None, timedelta(seconds=5), now).send(
        deliveries[0]
    )
    ((headers, body),) = receiver.requests
    assert "webhook-signature" not in headers
    assert json.loads(body)["id"] == headers["webhook-id"]


async def test_webhook_errors_never_show_the_url(
    receiver: Receiver, session: aiohttp.ClientSession, deliveries: list[Message]
) -> None:
    secret_url = receiver.url("/hook/T0KEN-SECRET")
    receiver.answers.append(aiohttp.web.Response(status=500, text="boom"))
    notifier = WebhookNotifier(session, secret_url, KEY, timedelta(seconds=5), now)
    with pytest.raises(DeliveryError) as caught:
        await notifier.send(deliveries[0])
    assert str(caught.value) == "HTTP 500: boom"
    assert not caught.value.permanent
    bad = WebhookNotifier(
        session, "http://127.0.0.1:1/T0KEN-SECRET", KEY, timedelta(seconds=5), now
    )
    with pytest.raises(DeliveryError) as refused:
        await bad.send(deliveries[0])
    assert "T0KEN-SECRET" not in str(refused.value)


def parse_blocks(message: dict[str, object]) -> list[Block]:
    blocks = []
    for raw in message["blocks"]:  # type: ignore[attr-defined]
        block = Block.parse(raw)
        assert block is not None, raw
        block.validate_json()
        assert block.to_dict() == raw
        blocks.append(block)
    return blocks


async def test_slack_message_is_valid_block_kit(deliveries: list[Message]) -> None:
    header, section, context = parse_blocks(slack_message(deliveries[0]))
    assert isinstance(header, HeaderBlock) and header.text is not None
    assert header.text.text == "Karabakh ceasefire agreed"
    assert isinstance(section, SectionBlock) and section.text is not None
    assert "<https://news.example/a1|Read the story>" in section.text.text
    assert isinstance(context, ContextBlock)
    line = context.elements[0].text  # type: ignore[union-attr]
    assert "*News*" in line and "ceasefire (title), Karabakh (summary)" in line
    assert "<!date^1602320400^" in line


async def test_slack_message_escapes_hostile_titles(deliveries: list[Message]) -> None:
    message = slack_message(deliveries[1])
    parse_blocks(message)
    assert "<!channel>" not in message["text"]
    assert message["text"] == f"[karabakh] {escape(HOSTILE)}"
    assert escape(HOSTILE) == (
        "&lt;!channel&gt; Truce &amp; &lt;https://evil.example|click&gt; in Qarabağ"
    )
    assert json.dumps(message["blocks"]).count("<!channel>") == 0


async def test_long_texts_are_clipped_to_slack_limits(deliveries: list[Message]) -> None:
    from dataclasses import replace

    long = deliveries[0]
    stored = replace(long.stored, item=replace(long.stored.item, title="a&b " * 100))
    header = parse_blocks(slack_message(replace(long, stored=stored)))[0]
    assert isinstance(header, HeaderBlock) and header.text is not None
    text = header.text.text
    assert len(text) <= 150 and text.endswith("…")
    assert re.search(r"&[a-z]{0,3}…$", text) is None  # no entity cut in half


async def test_slack_notifier_posts_and_reads_errors(
    receiver: Receiver, session: aiohttp.ClientSession, deliveries: list[Message]
) -> None:
    notifier = SlackNotifier(session, receiver.url("/services/T/B/C"), timedelta(seconds=5), now)
    await notifier.send(deliveries[0])
    parse_blocks(json.loads(receiver.bodies[0]))
    receiver.answers.append(aiohttp.web.Response(status=400, text="invalid_blocks"))
    with pytest.raises(DeliveryError, match="HTTP 400: invalid_blocks") as caught:
        await notifier.send(deliveries[0])
    assert caught.value.permanent
    receiver.answers.append(
        aiohttp.web.Response(status=429, text="rate_limited", headers={"Retry-After": "30"})
    )
    with pytest.raises(DeliveryError) as limited:
        await notifier.send(deliveries[0])
    assert limited.value.retry_after == timedelta(seconds=30)
    assert not limited.value.permanent


async def test_console_prints_a_readable_alert(deliveries: list[Message]) -> None:
    stream = io.StringIO()
    await ConsoleNotifier(stream).send(deliveries[0])
    text = stream.getvalue()
    assert text.startswith("[karabakh] Karabakh ceasefire agreed\n  https://news.example/a1\n")
    assert "matched: ceasefire (title), Karabakh (summary)" in text


@pytest.mark.parametrize(
    "answer", ['{"ok": true}', "ok", "", '{"status": "OK"}', "accepted", "<html>thanks</html>"]
)
async def test_any_2xx_from_a_slack_compatible_receiver_is_delivered(
    receiver: Receiver, session: aiohttp.ClientSession, deliveries: list[Message], answer: str
) -> None:
    # Mattermost, Rocket.Chat and Zulip take Slack payloads and answer 200 with JSON.
    notifier = SlackNotifier(session, receiver.url("/hooks/x"), timedelta(seconds=5), now)
    receiver.answers.append(aiohttp.web.Response(status=200, text=answer))
    await notifier.send(deliveries[0])  # no DeliveryError: delivered


async def test_follow_ups_render_on_every_channel(
    receiver: Receiver, session: aiohttp.ClientSession, deliveries: list[Message]
) -> None:
    from dataclasses import replace

    stored = replace(deliveries[0].stored, feed_title="Other <Wire>")
    follow_up = replace(deliveries[0], kind=MessageKind.FOLLOW_UP, stored=stored, story_sources=2)
    webhook = WebhookNotifier(session, receiver.url(), KEY, timedelta(seconds=5), now)
    await webhook.send(follow_up)
    headers, body = receiver.requests[-1]
    payload = verify_standard_webhook(headers, body)
    assert payload["type"] == "follow_up"
    assert payload["story"] == {"id": str(stored.story_id), "sources": 2}
    message = slack_message(follow_up)
    section, context = parse_blocks(message)
    assert isinstance(context, ContextBlock)
    assert isinstance(section, SectionBlock) and section.text is not None
    assert section.text.text.startswith("Also reported by *Other &lt;Wire&gt;*: <https://")
    assert message["text"] == "[karabakh] also reported: Karabakh ceasefire agreed"
    stream = io.StringIO()
    await ConsoleNotifier(stream).send(follow_up)
    assert stream.getvalue() == (
        "[karabakh] also reported by Other <Wire>: Karabakh ceasefire agreed\n"
        "  https://news.example/a1\n"
    )


# -- rollups, digests and notices on every channel; Discord, Teams, ntfy --------------------


@pytest.fixture
async def rollup(store_factory: StoreFactory) -> AsyncIterator[Message]:
    """A rollup of 500 alerts, made by the store as the relay makes one."""
    async with store_factory() as store:
        padding = "x" * 300  # 500 long lines: more than 48 sections of 3,000 can hold
        titles = [(f"k{n}", f"Karabakh <report> & story {n} {padding}") for n in range(500)]
        await queue_alerts(store, titles)
        claimed = await store.claim_due_deliveries(now(), 10, timedelta(minutes=1))
        yield await store.fold_deliveries(
            MessageKind.ROLLUP,
            "hook",
            "karabakh",
            [m.id for m in claimed],
            now(),
            timedelta(minutes=1),
        )


async def test_a_huge_rollup_stays_within_slack_limits_cut_the_same_way_each_time(
    rollup: Message,
) -> None:
    assert len(rollup.members) == 500
    message = slack_message(rollup)
    blocks = parse_blocks(message)
    assert len(blocks) <= 50
    header, *sections, context = blocks
    assert isinstance(header, HeaderBlock) and header.text is not None
    assert header.text.text == "[karabakh] +500 more for karabakh"
    for section in sections:
        assert isinstance(section, SectionBlock) and section.text is not None
        assert len(section.text.text) <= 3000
        assert "<report>" not in section.text.text  # escaped
    shown = sum(s.text.text.count("\n") + 1 for s in sections)  # type: ignore[union-attr]
    note = context.elements[0].text  # type: ignore[union-attr]
    assert 0 < shown < 500 and f"{500 - shown} more not shown" in note
    assert slack_message(rollup) == message  # deterministic


async def test_rollups_and_notices_render_on_every_channel(
    rollup: Message, receiver: Receiver, session: aiohttp.ClientSession
) -> None:
    from dataclasses import replace

    webhook = WebhookNotifier(session, receiver.url(), KEY, timedelta(seconds=5), now)
    await webhook.send(rollup)
    payload = verify_standard_webhook(*receiver.requests[-1])
    assert (payload["type"], payload["count"], payload["more"]) == ("rollup", 500, 400)
    assert len(payload["items"]) == 100  # type: ignore[arg-type]
    notice = replace(rollup, kind=MessageKind.NOTICE, members=(), text="Notifier 'x' is gone")
    await webhook.send(notice)
    assert verify_standard_webhook(*receiver.requests[-1])["text"] == "Notifier 'x' is gone"
    parse_blocks(slack_message(notice))
    stream = io.StringIO()
    await ConsoleNotifier(stream).send(notice)
    assert stream.getvalue() == "[notice] Notifier 'x' is gone\n"
    await ConsoleNotifier(stream).send(replace(rollup, members=rollup.members[:2]))
    assert "[karabakh] +2 more for karabakh\n  - Karabakh <report>" in stream.getvalue()


async def test_discord_gets_an_embed_with_mentions_off_and_reads_its_429(
    receiver: Receiver, session: aiohttp.ClientSession, deliveries: list[Message], rollup: Message
) -> None:
    discord = DiscordNotifier(
        session, receiver.url("/api/webhooks/1/TOKEN"), timedelta(seconds=5), now
    )
    await discord.send(deliveries[1])
    body = json.loads(receiver.bodies[-1])
    assert body["allowed_mentions"] == {"parse": []}
    (embed,) = body["embeds"]
    assert embed["title"] == HOSTILE and embed["url"] == "https://news.example/a2"
    await discord.send(rollup)
    content = json.loads(receiver.bodies[-1])["content"]
    assert len(content) <= 2000 and content.endswith("more")
    receiver.answers.append(
        aiohttp.web.json_response({"retry_after": 1.5, "global": False}, status=429)
    )
    with pytest.raises(DeliveryError) as caught:
        await discord.send(deliveries[0])
    assert caught.value.throttled and caught.value.retry_after == timedelta(seconds=1.5)


async def test_teams_gets_an_adaptive_card(
    receiver: Receiver, session: aiohttp.ClientSession, deliveries: list[Message]
) -> None:
    teams = TeamsNotifier(session, receiver.url("/workflows/x"), timedelta(seconds=5), now)
    receiver.answers.append(aiohttp.web.Response(status=202))
    await teams.send(deliveries[0])
    body = json.loads(receiver.bodies[-1])
    (attachment,) = body["attachments"]
    assert attachment["contentType"] == "application/vnd.microsoft.card.adaptive"
    card = attachment["content"]
    assert card["type"] == "AdaptiveCard" and card["body"][0]["text"].endswith("agreed")
    assert card["actions"][0]["url"] == "https://news.example/a1"


async def test_ntfy_publishes_json_to_the_topic_with_its_token(
    receiver: Receiver, session: aiohttp.ClientSession, deliveries: list[Message]
) -> None:
    url = receiver.url("/karabakh-news")
    ntfy = NtfyNotifier(session, url, timedelta(seconds=5), now, token="tk_secret", priority=4)
    await ntfy.send(deliveries[1])
    headers, raw = receiver.requests[-1]
    body = json.loads(raw)
    assert body["topic"] == "karabakh-news" and body["priority"] == 4
    assert body["title"] == f"[karabakh] {HOSTILE}"  # JSON keeps Qarabağ intact
    assert body["click"] == "https://news.example/a2"
    assert headers["Authorization"] == "Bearer tk_secret"


@pytest.mark.parametrize("status", [301, 302, 307, 308])
async def test_webhooks_do_not_follow_redirects(
    receiver: Receiver, session: aiohttp.ClientSession, deliveries: list[Message], status: int
) -> None:
    receiver.answers.append(
        aiohttp.web.Response(status=status, headers={"Location": "http://127.0.0.1:1/x"})
    )
    notifier = WebhookNotifier(session, receiver.url(), KEY, timedelta(seconds=5), now)
    with pytest.raises(DeliveryError, match="redirect: fix the notifier's URL") as caught:
        await notifier.send(deliveries[0])
    assert caught.value.permanent and len(receiver.requests) == 1


async def test_apprise_reaches_a_service_and_reports_its_failures(
    receiver: Receiver, deliveries: list[Message]
) -> None:
    pytest.importorskip("apprise")
    from monitor.notify.apprise_notifier import AppriseNotifier

    url = receiver.url("/apprise").replace("http://", "json://")
    notifier = AppriseNotifier(url, timedelta(seconds=5))
    await notifier.send(deliveries[1])
    body = json.loads(receiver.bodies[-1])
    assert body["title"] == f"[karabakh] {HOSTILE}"  # Qarabağ intact
    assert "https://news.example/a2" in body["message"]
    receiver.answers.append(aiohttp.web.Response(status=500))
    with pytest.raises(DeliveryError, match="apprise reported a failure"):
        await notifier.send(deliveries[0])


async def test_slack_sets_the_matched_terms_in_bold(store_factory: StoreFactory) -> None:
    """Spans found by the matcher survive the outbox and mark the snippet."""
    summary = "Armenia & Azerbaijan agree to a cease-fire\n\nin  Nagorno-Karabakh, officials said."
    item = Item(
        entry_key="b1",
        guid="b1",
        title="Talks end",
        link="https://news.example/b1",
        summary=summary,
        content="",
    )
    watchlists = OneWatchlist(any=["ceasefire", '"officials said"']).watchlists
    new = match_items(identify([item]), watchlists)
    async with store_factory() as store:
        spec = FeedSpec("https://news.example/feed", "News", timedelta(minutes=10), False)
        await store.sync_feeds([spec], now())
        (feed,) = await store.feeds()
        record = PollRecord(now(), now() + timedelta(minutes=10), 200, None)
        await store.save_poll(feed.id, new, record, alert=True)
        (message,) = await store.claim_due_deliveries(now(), 10, timedelta(minutes=1))
    _, section, _ = parse_blocks(slack_message(message))
    assert isinstance(section, SectionBlock) and section.text is not None
    assert section.text.text.splitlines()[0] == (
        "Armenia &amp; Azerbaijan agree to a *cease-fire* in Nagorno-Karabakh, *officials said*."
    )


def test_marked_snippets_follow_the_snippet_cut() -> None:
    text = "A truce  was agreed.\nThe truce holds " + "and holds " * 80
    spans = [(2, 7), (25, 30), (len(text) - 5, len(text))]
    pieces = marked_snippet(text, spans, 60)
    assert "".join(piece for piece, _ in pieces) == snippet(text, 60)
    assert [piece for piece, marked in pieces if marked] == ["truce", "truce"]
    assert marked_snippet("", [], 60) == []
    huge = "truce " + "word " * 2_000_000  # 10 MB of content: cut, not walked
    assert "".join(piece for piece, _ in marked_snippet(huge, [(0, 5)], 60)) == snippet(huge, 60)
