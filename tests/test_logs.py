"""Logs: JSON lines with feed and message ids, and no secret ever written."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from aiohttp import web

from testbed.builders import Entry, rss
from tests.support.daemons import Launcher
from tests.support.servers import FeedServer, Receiver

SECRETS = ("hunter2pass", "T0KENpath", "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "MfKQ9r8GKYqr")


@pytest.mark.integration
async def test_json_logs_carry_ids_and_never_a_secret(
    feeds: FeedServer, receiver: Receiver, tmp_path: Path, launcher: Launcher
) -> None:
    feeds.serve("/good.xml", rss([Entry(title="Karabakh truce", guid="t1", link="https://n/1")]))
    feeds.serve("/broken.xml", "server trouble", status=500)
    for _ in range(3):
        receiver.answers.append(web.Response(status=500, text="receiver down"))
    good = feeds.url("/good.xml").replace("http://", "http://reader:hunter2pass@")
    config = tmp_path / "monitor.yaml"
    config.write_text(
        f"""storage: sqlite:///{tmp_path / "monitor.db"}
defaults: {{fulltext: off, interval: 1h, baseline: false}}
http: {{allow_private_networks: true}}
feeds:
  - url: {good}
  - url: {feeds.url("/broken.xml")}
notifiers:
  ops:
    type: webhook
    url: "{receiver.url("/hook/T0KENpath")}"
    secret: whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw
    retry: [0s, 1s, 1s]
watchlists:
  - {{name: karabakh, any: [Karabakh]}}
cluster: {{instance_id: newsroom-1}}
"""
    )
    daemon = await launcher.start(config, "--log-format", "json", "--log-level", "DEBUG")
    await daemon.wait_for(lambda: len(receiver.requests) >= 3 and "failed:" in daemon.log)
    await daemon.stop()
    lines = [json.loads(line) for line in daemon.log.splitlines() if line.startswith("{")]
    assert lines and all({"time", "level", "logger", "message"} <= set(line) for line in lines)
    assert len(lines) == len(daemon.log.splitlines())  # nothing but JSON
    failed_feed = [line for line in lines if "failed:" in line["message"]]
    assert failed_feed and all(line["feed_url"].endswith("/broken.xml") for line in failed_feed)
    assert any(line.get("feed_url", "").endswith("/good.xml") for line in lines)
    assert all(isinstance(line["feed_id"], int) for line in failed_feed)
    failed_sends = [line for line in lines if line["message"].startswith("delivery ")]
    assert failed_sends and {line["notifier"] for line in failed_sends} == {"ops"}
    assert all(line["message_id"].startswith("msg_") for line in failed_sends)
    for secret in SECRETS:
        assert secret not in daemon.log, secret
    # Which instance wrote each line (several may share one database).
    ours = [line for line in lines if line["logger"].startswith("monitor.")]
    assert ours and all(line["instance"] == "newsroom-1" for line in ours)


@pytest.mark.integration
async def test_text_logs_name_the_instance(tmp_path: Path, launcher: Launcher) -> None:
    config = tmp_path / "monitor.yaml"
    config.write_text(
        f"storage: sqlite:///{tmp_path / 'monitor.db'}\ncluster: {{instance_id: newsroom-2}}\n"
    )
    daemon = await launcher.start(config)
    await daemon.wait_for(lambda: "running:" in daemon.log)
    await daemon.stop()
    running = [line for line in daemon.log.splitlines() if "running:" in line]
    assert running and " INFO [newsroom-2] monitor.daemon: running: 0 feed(s)" in running[0]
