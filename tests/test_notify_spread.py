"""Spread alerts on every channel: the webhook's ``type: spread`` (verified with
standardwebhooks), Slack (parsed by slack_sdk), and the console, Discord, Teams, ntfy and
Apprise bodies, each within its channel's limits, with hostile titles made inert."""

from __future__ import annotations

import io
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import aiohttp
import pytest
from slack_sdk.models.blocks import ContextBlock, HeaderBlock, SectionBlock

from monitor.models import Message, MessageKind
from monitor.notify.apprise_notifier import apprise_body
from monitor.notify.console import ConsoleNotifier
from monitor.notify.discord import CONTENT_LIMIT, discord_message
from monitor.notify.ntfy import MESSAGE_LIMIT, ntfy_message
from monitor.notify.slack import slack_message
from monitor.notify.teams import MAX_LIST_ENTRIES, teams_message
from monitor.notify.webhook import WebhookNotifier
from monitor.spread import SpreadRule
from tests.conftest import StoreFactory
from tests.support.servers import Receiver
from tests.test_notify import KEY, parse_blocks, verify_standard_webhook
from tests.test_store_spread import STORY_LINK, feeds_of, polled, report

NOW = datetime.now(UTC).replace(microsecond=0)
HOSTILE = "<!channel> Ceasefire & <b>talks</b> @everyone"


async def spread_message(store_factory: StoreFactory, sites: int, link: str) -> Message:
    """The spread alert the store queued when ``sites`` sites carried one story (one
    database per test: each story its own link and keys)."""
    async with store_factory() as store:
        store.spread_rules = (SpreadRule("spreading", sites, timedelta(hours=2), ("hook",)),)
        urls = [f"https://feeds.site{n}.example/rss" for n in range(sites)]
        feeds = await feeds_of(store, *urls)
        for n, feed in enumerate(feeds):
            at = NOW - timedelta(seconds=sites - n)
            title = HOSTILE if n == 0 else f"Ceasefire report {n}"
            entry = report(f"r{n}" if sites < 100 else f"h{n}", link, title=title)
            await store.save_poll(feed, [entry], polled(at), alert=True)
        (message,) = await store.claim_due_deliveries(NOW, 10, timedelta(minutes=1))
        assert message.kind is MessageKind.SPREAD
        return message


@pytest.fixture
async def small(store_factory: StoreFactory) -> Message:
    return await spread_message(store_factory, 3, STORY_LINK)


@pytest.fixture
async def huge(store_factory: StoreFactory) -> Message:
    return await spread_message(store_factory, 150, STORY_LINK + "/huge")


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as client:
        yield client


async def test_the_webhook_says_spread_with_the_sources_in_order(
    small: Message, receiver: Receiver, session: aiohttp.ClientSession
) -> None:
    notifier = WebhookNotifier(
        session, receiver.url(), KEY, timedelta(seconds=5), lambda: datetime.now(UTC)
    )
    await notifier.send(small)
    await notifier.send(small)  # a retry: the same id and the same body
    (first, second) = receiver.requests
    payload = verify_standard_webhook(*first)
    assert first[1] == second[1] and first[0]["webhook-id"] == second[0]["webhook-id"]
    assert (payload["type"], payload["watchlist"]) == ("spread", "spreading")
    assert payload["item"]["title"] == HOSTILE  # type: ignore[index]
    assert payload["story"] == {"id": str(small.item.story_id), "sources": 3}
    spread = payload["spread"]
    assert isinstance(spread, dict)
    assert (spread["threshold"], spread["within"], spread["more"]) == (3, "2h", 0)
    assert [(s["site"], s["item"]["id"], s["reported"]) for s in spread["sources"]] == [
        (
            f"site{n}.example",
            f"r{n}",
            (NOW - timedelta(seconds=3 - n)).strftime("%Y-%m-%dT%H:%M:%SZ"),
        )
        for n in range(3)
    ]
    assert spread["sources"][1]["item"]["feed"]["url"] == "https://feeds.site1.example/rss"


async def test_slack_lists_the_sources_escaped_within_its_limits(
    small: Message, huge: Message
) -> None:
    header, section, context = parse_blocks(slack_message(small))
    assert isinstance(header, HeaderBlock) and header.text is not None
    assert header.text.text.startswith("[spreading] spreading: &lt;!channel&gt; Ceasefire")
    assert header.text.text.endswith("(3 sources within 2h)")
    assert isinstance(section, SectionBlock) and section.text is not None
    lines = section.text.text.splitlines()
    assert len(lines) == 3 and "<!channel>" not in section.text.text
    assert lines[1].startswith("• <https://wire.example/2026/12/07/ceasefire|")
    assert lines[1].endswith("feeds.site1.example/rss: Ceasefire report 1>")  # feed, title
    assert isinstance(context, ContextBlock)
    message = slack_message(huge)
    blocks = parse_blocks(message)
    assert len(blocks) <= 50 and len(message["text"]) <= 3000
    for block in blocks[1:-1]:
        assert isinstance(block, SectionBlock) and block.text is not None
        assert len(block.text.text) <= 3000
    assert huge.spread is not None and len(huge.spread.sources) == 100
    assert huge.spread.more == 50
    assert "150 sources within 2h" in blocks[0].text.text  # type: ignore[attr-defined]


async def test_every_other_channel_lists_the_sources_within_its_limits(huge: Message) -> None:
    stream = io.StringIO()
    await ConsoleNotifier(stream).send(huge)
    printed = stream.getvalue().splitlines()
    assert printed[0].startswith("[spreading] spreading: <!channel> Ceasefire")
    assert printed[1].startswith("  - ") and "feeds.site0.example" in printed[1]
    assert printed[2] == f"    {STORY_LINK}/huge"
    discord = discord_message(huge)
    assert len(discord["content"]) <= CONTENT_LIMIT and "more" in discord["content"]
    assert discord["allowed_mentions"] == {"parse": []}
    ntfy = ntfy_message(huge, "topic", 3)
    assert len(ntfy["message"]) <= MESSAGE_LIMIT
    card = teams_message(huge)["attachments"][0]["content"]
    assert len(card["body"]) == 1 + MAX_LIST_ENTRIES + 1  # headline, lines, "and N more"
    assert apprise_body(huge).count("\n") == 99
    json.dumps(card)  # serialisable as sent
