"""The command line in-process: exit codes, summaries, masking, outbox commands."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import subprocess
import sys
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from monitor.cli import main
from monitor.models import MessageKind
from monitor.store import SQLiteStore
from tests.support.commands import cli, mounted_tmpfs
from tests.support.values import queue_alerts

SLACK = "https://hooks.slack.com/services/T000/B000/XXXXSECRETXXXX"
ROOT = Path(__file__).resolve().parents[1]


def now() -> datetime:
    return datetime.now(UTC)


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "monitor.yaml"
    path.write_text(f"storage: sqlite:///{tmp_path / 'm.db'}\n{text}")
    return path


def test_check_prints_a_masked_summary(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SLACK_URL", SLACK)
    config = write(
        tmp_path,
        """
feeds:
  - {url: "https://feeds.example/world.xml", name: World, interval: 5m}
notifiers:
  newsroom: {type: slack, url: "${SLACK_URL}"}
  ops: {type: webhook, url: "${HOOK:-}"}
watchlists:
  - {name: truce, any: [ceasefire, truce], notify: [newsroom, ops]}
""",
    )
    assert main(["check", "-c", str(config)]) == 0
    out = capsys.readouterr().out
    assert "XXXXSECRETXXXX" not in out
    assert "newsroom: slack → https://hooks.slack.com/***" in out
    assert "ops: webhook, OFF (its url is empty)" in out
    assert "World: https://feeds.example/world.xml (every 5m, baseline)" in out
    assert "in title, summary → newsroom, ops (off)" in out


def test_bad_config_exits_2_with_the_problem(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = write(tmp_path, "watchlists:\n  - {name: w, any: [x], notify: [slak]}\n")
    for command in (["check"], ["once"], ["run"], ["stories"]):
        assert main([*command, "-c", str(config)]) == 2
        err = capsys.readouterr().err
        assert f"{config}:3 watchlists[0].notify[0]: unknown notifier 'slak'" in err


def test_missing_config_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", "-c", str(tmp_path / "nope.yaml")]) == 2
    assert "cannot read the configuration" in capsys.readouterr().err


def test_config_option_may_follow_the_command_word(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = write(tmp_path, "")
    assert main(["-c", str(config), "deliveries", "--json"]) == 0
    assert main(["deliveries", "-c", str(config), "retry", "--dead"]) == 0
    assert "0 delivery(ies) queued again" in capsys.readouterr().out


def test_seed_and_watchlists_test(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = write(
        tmp_path,
        "watchlists:\n  - {name: karabakh, any: [Qarabağ, Karabakh], all: [ceasefire]}\n",
    )
    assert main(["seed", "-c", str(config)]) == 0
    assert "loaded 1 new seed item(s)" in capsys.readouterr().out
    assert main(["seed", "-c", str(config)]) == 0
    assert "loaded 0 new seed item(s)" in capsys.readouterr().out
    assert main(["watchlists", "test", "-c", str(config)]) == 0
    out = capsys.readouterr().out
    assert "[karabakh] **Karabakh** conflict .. Russia declares **ceasefire**" in out
    assert "matches per watchlist: karabakh: 1" in out
    assert main(["watchlists", "test", "-c", str(config), "--name", "other"]) == 2


def test_watchlists_test_says_what_a_spread_watchlist_without_terms_is(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = write(
        tmp_path, "watchlists:\n  - {name: spreading, spread: {sources: 3, within: 2h}}\n"
    )
    assert main(["watchlists", "test", "-c", str(config), "--name", "spreading"]) == 0
    said = capsys.readouterr()
    assert "'spreading' is a spread watchlist without terms" in said.err
    assert "stored item(s) searched" in said.out


def test_seed_reports_a_broken_seed_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = write(tmp_path, "")
    broken = tmp_path / "broken.json"
    broken.write_text('{"items": [{"title": "no id"}]}')
    assert main(["seed", "-c", str(config), str(broken)]) == 1
    assert f"{broken}: not a seed file" in capsys.readouterr().err


def test_deliveries_list_and_retry(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = write(tmp_path, "")

    async def prepare() -> int:
        async with SQLiteStore(tmp_path / "m.db") as store:
            await queue_alerts(store, [("a", "Karabakh truce")], notifiers=("console",))
            (delivery,) = await store.deliveries()
            await store.mark_failed(delivery.id, "HTTP 500", None)
            return delivery.id

    delivery_id = asyncio.run(prepare())
    assert main(["deliveries", "-c", str(config), "--status", "dead"]) == 0
    out = capsys.readouterr().out
    assert "dead" in out
    assert "last error: HTTP 500" in out
    assert main(["deliveries", "retry", str(delivery_id), "-c", str(config)]) == 0
    assert main(["deliveries", "-c", str(config), "--json"]) == 0
    lines = capsys.readouterr().out.splitlines()
    record = json.loads(lines[-1])
    assert (record["status"], record["attempts"]) == ("pending", 0)
    assert record["item"]["title"] == "Karabakh truce"
    assert main(["deliveries", "retry", "999", "-c", str(config)]) == 1
    assert main(["deliveries", "retry", "-c", str(config)]) == 2


def test_stories_text_output(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = write(tmp_path, "")
    main(["seed", "-c", str(config)])
    capsys.readouterr()
    assert main(["stories", "-c", str(config)]) == 0
    out = capsys.readouterr().out
    assert out.startswith("story 1: Karabakh conflict .. Russia declares ceasefire")
    assert "(1 item(s), 1 source(s))" in out


def test_stories_mute_and_unmute(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = write(tmp_path, "")
    main(["seed", "-c", str(config)])
    capsys.readouterr()
    assert main(["stories", "mute", "1", "--for", "7d", "-c", str(config)]) == 0
    said = capsys.readouterr().out
    assert said.startswith("story 1 muted until ") and said.rstrip().endswith(" UTC")
    assert main(["stories", "--json", "-c", str(config)]) == 0
    (story,) = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    since = datetime.fromisoformat(story["muted"]["since"])
    until = datetime.fromisoformat(story["muted"]["until"])
    assert abs(until - since - timedelta(days=7)) < timedelta(seconds=1)
    assert main(["stories", "mute", "1", "-c", str(config)]) == 0  # for good, now
    assert "story 1 muted until unmuted" in capsys.readouterr().out
    assert main(["stories", "-c", str(config)]) == 0
    assert "1 source(s), muted until unmuted)" in capsys.readouterr().out
    assert main(["stories", "unmute", "1", "-c", str(config)]) == 0
    assert main(["stories", "--json", "-c", str(config)]) == 0
    assert json.loads(capsys.readouterr().out.splitlines()[-1])["muted"] is None


def test_muting_an_unknown_story_or_for_no_time_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = write(tmp_path, "")
    assert main(["stories", "mute", "77", "-c", str(config)]) == 1
    assert "no story 77 is stored" in capsys.readouterr().err
    assert main(["stories", "unmute", "77", "-c", str(config)]) == 1
    for wrong, said in (("soon", "expected a duration"), ("0s", "a mute lasts some time")):
        with pytest.raises(SystemExit) as exit_code:
            main(["stories", "mute", "1", "--for", wrong, "-c", str(config)])
        assert exit_code.value.code == 2
        assert said in capsys.readouterr().err


def test_unwritable_storage_is_a_clear_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    config = tmp_path / "c.yaml"
    config.write_text(f"storage: sqlite:///{blocker / 'sub' / 'm.db'}\n")
    assert main(["stories", "-c", str(config)]) == 1
    assert f"error: cannot open the database {blocker}/sub/m.db: Not a directory" in (
        capsys.readouterr().err
    )


def test_a_closed_pipe_is_not_an_error(tmp_path: Path) -> None:
    config = write(tmp_path, "")

    async def prepare() -> None:
        async with SQLiteStore(tmp_path / "m.db") as store:
            entries = [(f"k{n}", f"Karabakh report number {n}") for n in range(1500)]
            await queue_alerts(store, entries, notifiers=("console",))

    asyncio.run(prepare())  # far more output than a pipe holds
    shell = f"{sys.executable} -m monitor deliveries -c {config} --json --limit 2000 | head -c 1"
    result = subprocess.run(shell, shell=True, capture_output=True, text=True, check=False)
    assert result.returncode == 0
    assert result.stderr == ""


def test_python_dash_m_and_version() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "monitor", "--version"], capture_output=True, text=True, check=True
    )
    assert result.stdout.startswith("news-monitor ")


# -- start-up failures: one line on stderr and an exit, never a hang -------------------


@pytest.mark.integration
@pytest.mark.parametrize(
    "command",
    [["once"], ["run"], ["feeds"], ["deliveries"], ["stories"], ["seed"], ["watchlists", "test"]],
    ids=lambda command: "-".join(command),
)
async def test_a_database_that_cannot_be_opened_is_one_line_and_an_exit(
    tmp_path: Path, command: list[str]
) -> None:
    (tmp_path / "m.db").write_bytes(os.urandom(20_000))
    config = write(tmp_path, "watchlists:\n  - {name: w, any: [ceasefire]}\n")
    code, _, err = await cli(*command, "-c", str(config), cwd=tmp_path)
    assert code == 1
    assert err.strip() == f"error: cannot open the database {tmp_path}/m.db: file is not a database"


async def test_a_broken_seed_file_stops_the_start_with_one_line(tmp_path: Path) -> None:
    from monitor.config import parse_settings
    from monitor.runtime import Runtime
    from monitor.seeds import SeedError

    seeds = tmp_path / "seeds"
    seeds.mkdir()
    (seeds / "broken.json").write_text("{not json")
    settings = parse_settings(f"storage: sqlite:///{tmp_path / 'm.db'}\n", "t.yaml", {})

    def own_threads() -> set[str]:
        # asyncio's default executor is asyncio.run's to stop; any other thread is ours.
        return {t.name for t in threading.enumerate() if not t.name.startswith("asyncio_")}

    threads = own_threads()
    with pytest.raises(SeedError, match=r"broken\.json: not a seed file"):
        async with Runtime(settings, seed_dir=seeds):
            pass
    # The store's connection threads are gone: nothing keeps the exit waiting.
    for _ in range(100):
        if own_threads() <= threads:
            break
        await asyncio.sleep(0.01)
    assert own_threads() <= threads


def test_notifiers_show_policy_and_a_disabled_one_can_be_enabled(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = write(
        tmp_path,
        f"""
notifiers:
  newsroom: {{type: slack, url: "{SLACK}"}}
  ops: {{type: webhook, url: "https://hooks.example/x", retry: [0s, 1m], max_attempts: 4,
         rate_limit: off}}
""",
    )

    async def gone() -> None:
        async with SQLiteStore(tmp_path / "m.db") as store:
            await store.disable_notifier("newsroom", "the receiver answered HTTP 410", "k", now())

    asyncio.run(gone())
    assert main(["notifiers", "-c", str(config)]) == 0
    out = capsys.readouterr().out
    assert "newsroom: slack → https://hooks.slack.com/***" in out
    assert "8 attempt(s) over 17h35m · at most 1 per 1s, burst 3" in out
    assert "DISABLED since" in out and "the receiver answered HTTP 410" in out
    assert "4 attempt(s) over 0h02m · no rate limit" in out
    assert "XXXXSECRETXXXX" not in out
    assert main(["notifiers", "enable", "newsroom", "-c", str(config)]) == 0
    assert main(["notifiers", "enable", "newsroom", "-c", str(config)]) == 1
    assert main(["notifiers", "-c", str(config)]) == 0
    assert "DISABLED" not in capsys.readouterr().out


def test_deliveries_show_rollups_and_their_folded_alerts(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = write(tmp_path, "")

    async def roll_up() -> None:
        async with SQLiteStore(tmp_path / "m.db") as store:
            await queue_alerts(store, [("a", "Karabakh one"), ("b", "Karabakh two")], ("console",))
            ids = [m.id for m in await store.deliveries()]
            await store.fold_deliveries(
                MessageKind.ROLLUP, "console", "karabakh", ids, now(), timedelta(minutes=1)
            )

    asyncio.run(roll_up())
    assert main(["deliveries", "-c", str(config), "--json"]) == 0
    records = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    rollup, *alerts = records
    assert (rollup["kind"], rollup["members"], "item" not in rollup) == ("rollup", [1, 2], True)
    assert [(a["status"], a["folded_into"]) for a in alerts] == [("folded", 3)] * 2
    assert main(["deliveries", "-c", str(config), "--status", "folded"]) == 0
    out = capsys.readouterr().out
    assert "console ← [karabakh] Karabakh one (in 3)" in out


def test_watchlists_test_tries_a_query_from_the_command_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = write(tmp_path, "aliases:\n  karabakh: [Qarabağ, Karabakh]\n")
    assert main(["seed", "-c", str(config)]) == 0
    capsys.readouterr()
    query = "@karabakh AND (ceasefir* OR truce) -football"
    assert main(["watchlists", "test", "-c", str(config), "--query", query, "--json"]) == 0
    (record,) = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert record["watchlist"] == "query"
    assert {term["term"] for term in record["matched"]} >= {"Karabakh", "ceasefir*"}
    assert (
        main(["watchlists", "test", "-c", str(config), "--query", "ceasefir* NEAR/5 Russia"]) == 0
    )
    # prefixes and both sides of a NEAR are highlighted, not only plain terms
    assert "**Russia** declares **ceasefire**" in capsys.readouterr().out
    assert main(["watchlists", "test", "-c", str(config), "--query", "Karabakh -ceasefire"]) == 0
    assert "matches per watchlist: query: 0" in capsys.readouterr().out
    assert main(["watchlists", "test", "-c", str(config), "--query", "(Karabakh"]) == 2
    assert "--query 1:10: expected ')'" in capsys.readouterr().err


def test_progress_is_a_bar_on_a_terminal_and_lines_otherwise() -> None:
    import io

    from monitor.progress import Steps

    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    plain = io.StringIO()
    with Steps("polled", plain) as steps:
        steps.start(2)
        steps.step("https://a.example/feed updated")
        steps.step("https://b.example/feed failed")
    assert plain.getvalue().splitlines() == [
        "polled 1/2: https://a.example/feed updated",
        "polled 2/2: https://b.example/feed failed",
    ]
    terminal = Terminal()
    with Steps("polled", terminal) as steps:
        steps.start(2)
        steps.step("a")
    assert "polled 1/2:" not in terminal.getvalue()  # drawn as a bar, then cleared
    assert steps.done == 1


def test_uvloop_is_used_when_installed_unless_asked_not_to(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    uvloop = pytest.importorskip("uvloop")  # the test extra installs it
    from monitor.cli import event_loop_factory

    assert event_loop_factory() is uvloop.new_event_loop
    monkeypatch.setenv("NEWS_MONITOR_LOOP", "asyncio")
    assert event_loop_factory() is None


@pytest.mark.integration
@pytest.mark.parametrize("where", ["a directory", "a read-only disk"])
async def test_a_database_that_cannot_be_made_is_one_line_and_no_traceback(
    tmp_path: Path, where: str
) -> None:
    config = tmp_path / "monitor.yaml"
    with contextlib.ExitStack() as stack:
        if where == "a directory":
            path = tmp_path / "monitor.db"
            path.mkdir()
        else:
            path = stack.enter_context(mounted_tmpfs(tmp_path / "ro", "1m", read_only=True))
            path = path / "monitor.db"
        config.write_text(f"storage: sqlite:///{path}\n")
        for command in (["once"], ["run"], ["feeds"]):
            code, _, err = await cli(*command, "-c", str(config), cwd=tmp_path)
            assert code == 1, (command, err)
            assert err.startswith("error: cannot open the database"), err
            assert "Traceback" not in err and "Event loop is closed" not in err, err
            assert len(err.strip().splitlines()) == 1, err


@pytest.mark.integration
async def test_long_lists_say_they_were_cut_and_long_titles_are_cut(tmp_path: Path) -> None:
    from monitor.config import parse_settings
    from monitor.store import SQLiteStore

    config = tmp_path / "monitor.yaml"
    huge = "Karabakh " + "x" * 5_000_000
    opml = tmp_path / "feeds.opml"
    opml.write_text(
        '<?xml version="1.0"?><opml version="2.0"><body>'
        f'<outline type="rss" text="{huge}" xmlUrl="https://n.example/feed"/></body></opml>'
    )
    config.write_text(
        f"storage: sqlite:///{tmp_path / 'monitor.db'}\nfeeds:\n  - opml: feeds.opml\n"
    )
    settings = parse_settings(config.read_text(), str(config), {})
    async with SQLiteStore(settings.sqlite_path()) as store:
        await queue_alerts(store, [(f"k{n}", f"Karabakh truce {n}") for n in range(12)])
    code, out, err = await cli("deliveries", "--limit", "10", "-c", str(config), cwd=tmp_path)
    assert code == 0 and len(out.splitlines()) == 10
    assert "only the first 10 are shown: --limit N shows more" in err
    code, out, err = await cli("check", "-c", str(config), cwd=tmp_path)
    assert code == 0 and len(out + err) < 10_000
    assert "[cut: 5,000,009 characters]" in out


def test_a_webhook_carries_a_huge_title_cut_with_a_marker() -> None:
    from datetime import UTC, datetime

    from monitor.models import Item, StoredItem
    from monitor.views import item_json

    title = "Karabakh " + "x" * 5_000_000
    item = Item("k", "k", title, "https://n.example/1", "", "")
    shown = item_json(StoredItem(1, 1, "https://n.example/feed", None, item, datetime.now(UTC)))
    assert len(shown["title"]) <= 1_000 and shown["title"].endswith("[cut: 5,000,009 characters]")
