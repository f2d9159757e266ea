"""End to end: the real CLI in a subprocess, real feeds on a local server, a real receiver."""

from __future__ import annotations

import json
import re
import sqlite3
from collections import Counter
from datetime import timedelta
from html import escape
from pathlib import Path

import pytest
from aiohttp import web
from standardwebhooks.webhooks import Webhook

from monitor.config import Settings
from monitor.runtime import Runtime
from monitor.text import fold
from testbed.builders import Entry, rss, synthetic_feeds
from tests.support.commands import cli
from tests.support.servers import FeedServer, Receiver
from tests.support.values import make_settings

ROOT = Path(__file__).resolve().parents[1]
SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
TRUCE_ENTRY = Entry(
    title="Karabakh ceasefire agreed", guid="t1", link="https://n.example/t1", summary="Truce."
)
SEED = json.loads((ROOT / "seeds" / "karabakh-ceasefire.json").read_text())["items"][0]


def write_config(tmp_path: Path, feed_urls: list[str], hook_url: str) -> Path:
    feeds = "\n".join(f"  - {{url: '{url}', baseline: false}}" for url in feed_urls)
    path = tmp_path / "monitor.yaml"
    path.write_text(
        f"""storage: sqlite:///{tmp_path / "monitor.db"}
defaults: {{fulltext: off}}
http: {{allow_private_networks: true, timeout: 10s}}
feeds:
{feeds}
notifiers:
  ops: {{type: webhook, url: "{hook_url}", secret: "${{WEBHOOK_SECRET:-{SECRET}}}"}}
watchlists:
  - name: karabakh-ceasefire
    any: [Karabakh, Nagorno-Karabakh, Qarabağ, Karabagh, Artsakh]
    all: [ceasefire]
"""
    )
    return path


@pytest.mark.integration
async def test_a_repost_of_the_seed_is_silent_and_a_new_story_alerts_once(
    feeds: FeedServer, receiver: Receiver, tmp_path: Path
) -> None:
    paragraphs = "".join(f"<p>{escape(p)}</p>" for p in SEED["text"].split("\n\n"))
    repost = Entry(
        title=SEED["title"],
        link="https://reposts.example/2020/10/10/russia-declares-ceasefire",
        guid="repost-1",
        summary=SEED["text"].split("\n\n")[0],
        content=paragraphs,
    )
    fresh = Entry(
        title="Azerbaijan and Armenia agree a new ceasefire in Nagorno-Karabakh",
        link="https://wire.example/2020/10/18/new-ceasefire",
        guid="wire-77",
        summary="A humanitarian truce is to begin at midnight, both sides said.",
    )
    reposts = feeds.serve("/reposts.xml", rss([repost], title="Reposts"))
    wire = feeds.serve("/wire.xml", rss([fresh], title="Wire"))
    config = write_config(tmp_path, [reposts, wire], receiver.url())

    code, out, err = await cli("once", "-c", str(config), cwd=tmp_path)
    assert code == 0, err
    assert "polled 2 feed(s): 2 updated" in out
    assert "delivered 1 alert(s)" in out
    ((headers, body),) = receiver.requests
    payload = Webhook(SECRET).verify(body, {k.lower(): v for k, v in headers.items()})
    assert payload["item"]["title"] == fresh.title
    assert payload["item"]["feed"] == {"url": wire, "title": "Wire"}
    assert payload["matched"] == [
        {"term": "Karabakh", "field": "title"},
        {"term": "Nagorno-Karabakh", "field": "title"},
        {"term": "ceasefire", "field": "title"},
    ]

    code, out, err = await cli("once", "-c", str(config), cwd=tmp_path)
    assert code == 0, err
    assert "0 new item(s), 0 alert(s) queued" in out
    assert len(receiver.requests) == 1

    code, out, _ = await cli("stories", "-c", str(config), "--json", cwd=tmp_path)
    stories = [json.loads(line) for line in out.splitlines()]
    (seeded,) = [s for s in stories if any(i["link"] == repost.link for i in s["items"])]
    assert [item["feed"] for item in seeded["items"]] == ["seed:local", reposts]

    code, out, _ = await cli("watchlists", "test", "-c", str(config), "--json", cwd=tmp_path)
    found = [json.loads(line) for line in out.splitlines()]
    assert {m["item"]["title"] for m in found} == {SEED["title"], fresh.title}
    assert all(m["watchlist"] == "karabakh-ceasefire" and m["matched"] for m in found)

    code, out, _ = await cli("deliveries", "-c", str(config), "--json", cwd=tmp_path)
    (delivery,) = [json.loads(line) for line in out.splitlines()]
    assert (delivery["status"], delivery["message_id"]) == ("sent", headers["webhook-id"])


@pytest.mark.integration
async def test_a_story_three_feeds_carry_alerts_a_spread_watchlist_once(
    feeds: FeedServer, receiver: Receiver, tmp_path: Path
) -> None:
    link = "https://wire.example/2026/12/07/ceasefire-spreads"
    titles = ["Ceasefire agreed", "Armenia, Azerbaijan agree ceasefire", "Truce in Moscow"]
    urls = [
        feeds.serve(
            f"/outlet{n}.xml", rss([Entry(title=t, guid=f"o{n}", link=link)], title=f"Outlet {n}")
        )
        for n, t in enumerate(titles)
    ]
    urls.append(
        feeds.serve(
            "/other.xml", rss([Entry(title="Markets", guid="m", link="https://m.example/1")])
        )
    )
    config = tmp_path / "monitor.yaml"
    feed_lines = "\n".join(f"  - url: {url}" for url in urls)
    config.write_text(
        f"""storage: sqlite:///{tmp_path / "monitor.db"}
defaults: {{fulltext: off, baseline: false}}
http: {{allow_private_networks: true, timeout: 10s}}
feeds:
{feed_lines}
notifiers:
  ops: {{type: webhook, url: "{receiver.url()}", secret: "{SECRET}"}}
watchlists:
  - name: ceasefire-spreading
    query: ceasefire OR truce
    spread: {{sources: 3, within: 2h}}
"""
    )
    code, out, err = await cli("check", "-c", str(config), cwd=tmp_path)
    assert code == 0, err
    assert "ceasefire-spreading: spread: 3 sources within 2h; query: ceasefire OR truce" in out
    code, out, err = await cli("once", "-c", str(config), cwd=tmp_path)
    assert code == 0, err
    assert "delivered 1 alert(s)" in out
    ((headers, body),) = receiver.requests
    payload = Webhook(SECRET).verify(body, {k.lower(): v for k, v in headers.items()})
    assert (payload["type"], payload["watchlist"]) == ("spread", "ceasefire-spreading")
    sources = payload["spread"]["sources"]
    assert sorted(source["item"]["feed"]["url"] for source in sources) == sorted(urls[:3])
    code, out, _ = await cli("once", "-c", str(config), cwd=tmp_path)
    assert code == 0 and len(receiver.requests) == 1
    code, out, _ = await cli("deliveries", "-c", str(config), cwd=tmp_path)
    assert "spreading: " in out and "(spread)" in out


@pytest.mark.integration
async def test_a_like_watchlist_alerts_a_report_like_the_stored_sample(
    feeds: FeedServer, receiver: Receiver, tmp_path: Path
) -> None:
    near = Entry(
        title="Ceasefire agreed after overnight talks hosted by Russia",
        guid="near-1",
        link="https://wire.example/2026/12/07/overnight-talks",
        summary="After overnight talks hosted by Russia, Armenian and Azerbaijani foreign"
        " ministers agreed a ceasefire from 12:00 on Saturday to exchange prisoners and the"
        " dead, and to start substantive negotiations on Nagorno Karabakh, Lavrov said.",
    )
    far = Entry(
        title="Qarabağ reach the Europa League group stage",
        guid="far-1",
        link="https://sport.example/qarabag",
        summary="Qarabağ beat Ferencváros 2-1 in Baku on Thursday; the Azerbaijani champions"
        " scored twice in the second half.",
    )
    url = feeds.serve("/wire.xml", rss([near, far], title="Wire"))
    config = tmp_path / "monitor.yaml"
    base = f"""storage: sqlite:///{tmp_path / "monitor.db"}
defaults: {{fulltext: off, baseline: false}}
http: {{allow_private_networks: true, timeout: 10s}}
feeds:
  - url: {url}
notifiers:
  ops: {{type: webhook, url: "{receiver.url()}", secret: "{SECRET}"}}
watchlists:
  - name: like-the-seed
"""
    config.write_text(base + "    like: [{item: 'seed:nothing-stored'}]\n")
    code, _, err = await cli("once", "-c", str(config), cwd=tmp_path)
    assert code == 2
    assert "watchlists[0].like[0].item: no stored item 'seed:nothing-stored'" in err
    config.write_text(base + f"    like: [{{item: '{SEED['id']}'}}]\n")
    code, out, err = await cli("once", "-c", str(config), cwd=tmp_path)
    assert code == 0, err
    ((headers, body),) = receiver.requests
    payload = Webhook(SECRET).verify(body, {k.lower(): v for k, v in headers.items()})
    assert (payload["watchlist"], payload["item"]["title"]) == ("like-the-seed", near.title)
    (term,) = payload["matched"]
    assert term["term"].startswith(f"like item {SEED['id']} (0.")
    code, out, _ = await cli(
        "watchlists", "test", "-c", str(config), "--name", "like-the-seed", cwd=tmp_path
    )
    assert code == 0
    assert f"≥ 0.30 (matches, like item {SEED['id']}): {near.title} — Wire" in out
    assert far.title not in out  # not even a candidate
    code, out, _ = await cli("watchlists", "test", "-c", str(config), "--json", cwd=tmp_path)
    scores = {r["item"]["title"]: r["score"] for r in map(json.loads, out.splitlines())}
    assert scores[SEED["title"]] == 1.0 and 0.3 <= scores[near.title] < 1.0


@pytest.mark.integration
async def test_once_exits_1_when_a_feed_or_delivery_fails(
    feeds: FeedServer, receiver: Receiver, tmp_path: Path
) -> None:
    good = feeds.serve(
        "/good.xml", rss([Entry(title="Karabakh ceasefire", guid="1", link="https://a.example/1")])
    )
    config = write_config(tmp_path, [good, feeds.url("/missing.xml")], receiver.url())
    # The default schedule retries once at once (0s), then waits 5s: two answers fail.
    receiver.answers += [web.Response(status=503, text="maintenance") for _ in range(2)]
    code, out, _ = await cli("once", "-c", str(config), cwd=tmp_path)
    assert code == 1
    assert f"feed {feeds.url('/missing.xml')}: HTTP 404 Not Found" in out
    assert "delivery 1 to ops: HTTP 503: maintenance" in out
    code, out, _ = await cli("deliveries", "-c", str(config), "--status", "pending", cwd=tmp_path)
    assert "last error: HTTP 503: maintenance" in out
    code, out, _ = await cli("feeds", "-c", str(config), "--json", cwd=tmp_path)
    health = {record["url"]: record for record in map(json.loads, out.splitlines())}
    assert (health[good]["error_count"], health[good]["last_status"]) == (0, 200)
    missing = health[feeds.url("/missing.xml")]
    assert (missing["error_count"], missing["last_error"]) == (1, "HTTP 404 Not Found")
    code, out, _ = await cli("feeds", "-c", str(config), cwd=tmp_path)
    assert "FAILING x1" in out
    assert "last error: HTTP 404 Not Found" in out


def many_feeds_settings(tmp_path: Path, urls: list[str], hook: str, terms: str) -> Settings:
    """Feeds without a baseline or an age limit (the corpus was captured long ago), one
    webhook, one watchlist of ``terms``."""
    feed_lines = "\n".join(f"  - url: {url}" for url in urls)
    return make_settings(
        tmp_path,
        f"""
defaults: {{fulltext: off, baseline: false, max_alert_age: off}}
http: {{allow_private_networks: true, per_host: 50}}
feeds:
{feed_lines}
notifiers:
  ops: {{type: webhook, url: "{hook}"}}
watchlists:
  - name: watched
    any: [{terms}]
""",
    )


async def test_hundreds_of_feeds_alert_every_watched_item_once_and_nothing_else(
    feeds: FeedServer, receiver: Receiver, tmp_path: Path
) -> None:
    generated = synthetic_feeds(count=300, per_feed=10)
    for feed in generated:
        feeds.serve(feed.path, feed.body, content_type=feed.content_type)
    expected = set().union(*(feed.watched for feed in generated))
    urls = [feeds.url(feed.path) for feed in generated]
    terms = "Karabakh, Nagorno-Karabakh, Qarabağ, Karabagh, Artsakh"
    settings = many_feeds_settings(tmp_path, urls, receiver.url(), terms)
    async with Runtime(settings) as runtime:
        report = await runtime.once()
        assert report.ok
        alerted = [json.loads(body)["item"]["link"].rsplit("/", 1)[1] for body in receiver.bodies]
        assert sorted(alerted) == sorted(expected)
        again = await runtime.once()
        assert again.ok and again.relay.sent == 0
        # Each pass counts a poll of each feed for its health per day, in one write.
        polls: Counter[int] = Counter()
        for day in await runtime.store.poll_days(runtime.clock() - timedelta(days=1)):
            polls[day.feed_id] += day.polls - day.failures  # two passes may span midnight
        assert len(polls) == 300 and set(polls.values()) == {2}
    assert len(receiver.requests) == len(expected)


@pytest.mark.slow
async def test_the_real_corpus_alerts_exactly_the_stories_that_carry_a_term(
    feeds: FeedServer, receiver: Receiver, tmp_path: Path, corpus: Path
) -> None:
    paths = sorted(path for path in corpus.iterdir() if path.name != "LICENSE")
    for path in paths:
        feeds.serve(f"/corpus/{path.name}", path.read_bytes(), content_type="application/xml")
    urls = [feeds.url(f"/corpus/{path.name}") for path in paths]
    terms = "Karabakh, Israel, Ukraine, ceasefire, AI, Python"
    settings = many_feeds_settings(tmp_path, urls, receiver.url(), terms)
    async with Runtime(settings) as runtime:
        report = await runtime.once()
        assert sum(poll.status == "updated" for poll in report.polls) >= 105
        stories = await runtime.store.stories(limit=100_000)
    # An oracle apart from the matcher: a regex over the folded text of each story's
    # items; the first item of a story that carries a term alerts it (the watchlist
    # alerts each story once), and a story of the stored sample never alerts.
    oracle = re.compile(r"(?<!\w)(karabakh|israel|ukraine|ceasefire|ai|python)(?!\w)")
    expected = set()
    for story in stories:
        if any(member.feed_url.startswith("seed:") for member in story.items):
            continue
        for member in story.items:
            text = fold(f"{member.item.title}\n{member.item.summary}\n{member.item.content}")
            closed = re.sub(r"(?<=\w)[-\u2010\u2011](?=\w)", "", text)  # cease-fire = ceasefire
            if oracle.search(text) or oracle.search(closed):
                expected.add((member.feed_url, member.item.guid or member.item.entry_key))
                break
    alerted = {
        (payload["item"]["feed"]["url"], payload["item"]["id"])
        for payload in (json.loads(body) for body in receiver.bodies)
    }
    assert len(expected) > 50
    assert alerted == expected
    assert len(receiver.bodies) == len(alerted)


@pytest.mark.integration
async def test_no_output_or_stored_error_ever_contains_a_secret(
    feeds: FeedServer, receiver: Receiver, tmp_path: Path
) -> None:
    """Failing feeds and failing receivers, with secrets everywhere they can be: none
    of them in the logs, the summary, `feeds`, `deliveries` or the database's errors."""
    slack_path = "/services/T0SECRET/B0SECRET/slackTOKENvalue"
    hook_path = "/hooks/hookPATHsecret"
    # Receivers that echo the path they were sent to (whichever notifier sends first).
    receiver.answers += [
        lambda request: web.Response(status=500, text=f"no route for {request.path}"),
        lambda request: web.Response(status=502, text=f"bad gateway at {request.path}"),
    ] * 5
    feed_url = feeds.serve(
        "/feed.xml",
        rss([TRUCE_ENTRY]),
    ).replace("http://", "http://reader:feedPASSWORD@")
    broken_url = feeds.url("/missing.xml").replace("http://", "http://reader:feedPASSWORD@")
    config = tmp_path / "monitor.yaml"
    config.write_text(
        f"""storage: sqlite:///{tmp_path / "monitor.db"}
defaults: {{fulltext: off, baseline: false}}
http: {{allow_private_networks: true, timeout: 5s}}
feeds:
  - {{url: "{feed_url}"}}
  - {{url: "{broken_url}"}}
  - {{url: "gopher://reader:feedPASSWORD@{tmp_path.name}.example/x"}}
notifiers:
  newsroom: {{type: slack, url: "{receiver.url(slack_path)}"}}
  ops: {{type: webhook, url: "{receiver.url(hook_path)}", secret: "{SECRET}"}}
watchlists:
  - {{name: karabakh, any: [Karabakh]}}
"""
    )
    outputs = []
    for command in (["check"], ["once"], ["feeds"], ["deliveries"], ["feeds", "--json"]):
        code, out, err = await cli(
            "--log-level", "DEBUG", *command, "-c", str(config), cwd=tmp_path
        )
        outputs.append(out + err)
        if command == ["check"]:
            assert code == 2  # the gopher URL
            config.write_text(config.read_text().replace("gopher://", "https://"))
            code, out, err = await cli(*command, "-c", str(config), cwd=tmp_path)
            outputs.append(out + err)
            assert code == 0
    assert (tmp_path / "monitor.db").exists(), "\n".join(outputs)
    with sqlite3.connect(tmp_path / "monitor.db") as db:
        stored = db.execute(
            "SELECT group_concat(last_error, ' | ') FROM feeds"
            " UNION ALL SELECT group_concat(last_error, ' | ') FROM deliveries"
        ).fetchall()
    outputs += [str(row[0]) for row in stored]
    text = "\n".join(outputs)
    assert "HTTP 500" in text and "HTTP 404" in text  # the failures did happen and are shown
    for secret in ("slackTOKENvalue", "hookPATHsecret", "feedPASSWORD", SECRET, SECRET[6:]):
        assert secret not in text, secret


def _html(paragraphs: list[str]) -> str:
    return "".join(f"<p>{escape(paragraph)}</p>" for paragraph in paragraphs)


@pytest.mark.integration
async def test_copies_of_the_seed_stay_silent_and_look_alike_new_stories_alert_once_each(
    feeds: FeedServer, receiver: Receiver, tmp_path: Path
) -> None:
    """The forms re-posts take in the wild, on three sites, against new stories that look
    like the seed (same headline, same words) but are other events."""
    paragraphs = SEED["text"].split("\n\n")
    swapped = [
        p.replace("announced", "said").replace("battles", "clashes").replace("immediate", "urgent")
        for p in paragraphs
    ]
    copies = [
        Entry(SEED["title"], "https://a.example/1", "a1", content=_html(paragraphs)),
        Entry(
            SEED["title"],
            "https://b.example/1",
            "b1",
            content=_html([*paragraphs, "Source link", "Leave a Reply"]),
        ),
        Entry(
            "Moscow brokers Karabakh ceasefire between Armenia and Azerbaijan",
            "https://c.example/1",
            "c1",
            content=_html(swapped),
        ),
        Entry("BREAKING: " + SEED["title"], "https://d.example/1", "d1", summary=paragraphs[0]),
        Entry(SEED["title"], "https://e.example/1", "e1", content=_html(paragraphs[:2])),
        Entry(SEED["title"], "https://f.example/1", "f1", content=_html(paragraphs[::-1])),
    ]
    new_event = (
        "Fighting resumed on Sunday near Stepanakert in Karabakh, local officials said, a day"
        " after both sides accused each other of breaking the ceasefire by shelling villages."
        " Hospitals in the region asked for blood donations."
    )
    second_truce = (
        "Armenia and Azerbaijan agreed to a new humanitarian ceasefire in Karabakh starting at"
        " midnight on Sunday, a week after the Russian-brokered truce collapsed, the foreign"
        " ministries of both countries said in a joint statement released in the evening."
    )
    fresh = [
        Entry(SEED["title"], "https://g.example/2", "g2", summary=new_event),
        Entry(
            "Armenia and Azerbaijan agree new ceasefire in Karabakh from midnight",
            "https://h.example/3",
            "h3",
            summary=second_truce,
        ),
    ]
    fresh_copy = Entry(
        "New Karabakh ceasefire from midnight",
        "https://i.example/3",
        "i3",
        content=_html([second_truce, "The post New Karabakh ceasefire appeared first on I."]),
    )
    urls = [
        feeds.serve("/copies-1.xml", rss(copies[:3], title="Copies 1")),
        feeds.serve("/copies-2.xml", rss(copies[3:], title="Copies 2")),
        feeds.serve("/fresh.xml", rss(fresh, title="Fresh")),
    ]
    config = write_config(tmp_path, urls, receiver.url())
    code, out, err = await cli("once", "-c", str(config), cwd=tmp_path)
    assert code == 0, err
    titles = sorted(json.loads(body)["item"]["link"] for body in receiver.bodies)
    assert titles == ["https://g.example/2", "https://h.example/3"]
    # The new story re-posted with boilerplate on a later poll: still one alert.
    urls.append(feeds.serve("/late.xml", rss([fresh_copy], title="Late")))
    config = write_config(tmp_path, urls, receiver.url())
    code, out, err = await cli("once", "-c", str(config), cwd=tmp_path)
    assert code == 0, err
    assert len(receiver.requests) == 2
    code, out, _ = await cli("stories", "-c", str(config), "--json", cwd=tmp_path)
    stories = [json.loads(line) for line in out.splitlines()]
    (seeded,) = [s for s in stories if s["items"][0]["feed"] == "seed:local"]
    assert len(seeded["items"]) == 1 + len(copies)
    assert {member["joined"]["by"] for member in seeded["items"][1:]} <= {"near", "text"}


async def test_shared_headlines_over_new_texts_never_swallow_a_watched_item(
    feeds: FeedServer, receiver: Receiver, tmp_path: Path
) -> None:
    """Hundreds of feeds whose entries re-use a few long headlines over texts of their
    own (briefings, columns, live pages): every watched item alerts, once."""
    import random

    rng = random.Random(6)
    headlines = [f"Morning briefing number {n}: what you need to know" for n in range(12)]
    vocabulary = [f"w{n}" for n in range(3000)]
    expected = set()
    urls = []
    for number in range(200):
        entries = []
        for index in range(10):
            key = f"f{number}-e{index}"
            text = " ".join(rng.choices(vocabulary, k=60))
            if rng.random() < 0.03:
                text += " Talks on Karabakh resumed."
                expected.add(key)
            link = f"https://site{number}.example/{key}"
            entries.append(Entry(rng.choice(headlines), link, key, summary=text))
        urls.append(feeds.serve(f"/briefings/{number}", rss(entries)))
    settings = many_feeds_settings(tmp_path, urls, receiver.url(), "Karabakh")
    async with Runtime(settings) as runtime:
        report = await runtime.once()
        assert report.ok
    alerted = [json.loads(body)["item"]["link"].rsplit("/", 1)[1] for body in receiver.bodies]
    assert len(expected) > 30
    assert sorted(alerted) == sorted(expected)


@pytest.mark.integration
async def test_a_feeds_password_never_reaches_receivers_or_any_output(
    feeds: FeedServer, receiver: Receiver, tmp_path: Path
) -> None:
    """Relative links and guids of a feed whose URL carries user info are resolved
    without it: the password stays with the fetcher."""
    relative = [
        Entry(title="Karabakh truce holds", guid="/guid/1", link="/articles/1"),
        Entry(title="Karabakh talks resume", guid="/guid/2", link="articles/2"),
    ]
    rss_url = feeds.serve("/rss.xml", rss(relative)).replace("http://", "http://u:feedPASSWORD@")
    atom_body = (
        '<?xml version="1.0"?><feed xmlns="http://www.w3.org/2005/Atom"><title>A</title>'
        "<id>urn:a</id><updated>2026-01-01T00:00:00Z</updated><entry><id>/atom/3</id>"
        '<title>Karabakh ceasefire signed</title><link href="/atom/3"/>'
        "<updated>2026-01-01T00:00:00Z</updated></entry></feed>"
    )
    atom_url = feeds.serve("/atom.xml", atom_body).replace("http://", "http://u:feedPASSWORD@")
    config = tmp_path / "monitor.yaml"
    config.write_text(
        f"""storage: sqlite:///{tmp_path / "monitor.db"}
defaults: {{fulltext: off, baseline: false, max_alert_age: off}}
http: {{allow_private_networks: true, timeout: 5s}}
feeds:
  - {{url: "{rss_url}"}}
  - {{url: "{atom_url}"}}
notifiers:
  ops: {{type: webhook, url: "{receiver.url()}"}}
watchlists:
  - {{name: karabakh, any: [Karabakh]}}
"""
    )
    outputs = []
    for command in (
        ["once"],
        ["stories", "--json"],
        ["deliveries", "--json"],
        ["watchlists", "test", "--json"],
        ["feeds", "--json"],
    ):
        code, out, err = await cli(*command, "-c", str(config), cwd=tmp_path)
        assert code == 0, (command, err)
        outputs.append(out + err)
    payloads = [json.loads(body) for body in receiver.bodies]
    assert len(payloads) == 3
    links = sorted(payload["item"]["link"] for payload in payloads)
    host = feeds.url("/").rstrip("/")
    assert links == [f"{host}/articles/1", f"{host}/articles/2", f"{host}/atom/3"]
    text = "\n".join(outputs) + "\n".join(body.decode() for body in receiver.bodies)
    with sqlite3.connect(tmp_path / "monitor.db") as db:
        text += "\n".join(str(row) for row in db.execute("SELECT link, guid, entry_key FROM items"))
    assert "feedPASSWORD" not in text


@pytest.mark.integration
async def test_discovery_never_echoes_a_password(feeds: FeedServer, tmp_path: Path) -> None:
    page = feeds.serve("/page", "<html><body>no feeds here</body></html>", content_type="text/html")
    config = tmp_path / "monitor.yaml"
    config.write_text("http: {allow_private_networks: true, timeout: 5s}\n")
    secret_url = page.replace("http://", "http://u:feedPASSWORD@")
    code, out, err = await cli("feeds", "discover", secret_url, "-c", str(config), cwd=tmp_path)
    assert code == 1 and "feedPASSWORD" not in out + err, out + err
    missing = feeds.url("/nothing").replace("http://", "http://u:feedPASSWORD@")
    code, out, err = await cli("feeds", "discover", missing, "-c", str(config), cwd=tmp_path)
    assert code == 1 and "feedPASSWORD" not in out + err, out + err


async def test_a_notifier_on_this_network_is_posted_to_whatever_feeds_may_reach(
    receiver: Receiver, tmp_path: Path
) -> None:
    """The private-network guard is for what feeds and redirects name; a notifier's URL
    is the operator's own, and may name a receiver beside the daemon."""
    from tests.support.values import queue_alerts

    settings = make_settings(
        tmp_path,
        f"""
http: {{allow_private_networks: false}}
notifiers:
  hook: {{type: webhook, url: "{receiver.url()}"}}
""",
    )
    async with Runtime(settings) as runtime:
        await queue_alerts(runtime.store, [("a1", "Karabakh truce")])
        report = await runtime.relay.deliver_due()
    assert report.sent == 1 and len(receiver.requests) == 1
