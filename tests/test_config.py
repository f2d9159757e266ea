"""Configuration: parsing, defaults, env expansion, secrets, and errors with file:line."""

from __future__ import annotations

import time
from datetime import timedelta
from pathlib import Path

import pytest

from monitor.cli import main
from monitor.config import (
    ConfigError,
    SlackNotifierSettings,
    WebhookNotifierSettings,
    default_config_path,
    load_settings,
    parse_duration,
    parse_settings,
    parse_size,
)
from monitor.redact import database_shown, mask_url
from monitor.wiring.watchlists import digest_schedule, quiet_hours

EXAMPLE = Path(__file__).resolve().parents[1] / "config" / "monitor.yaml"


def errors_of(text: str, **env: str) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        parse_settings(text, "monitor.yaml", env)
    return caught.value.problems


def test_example_config_is_valid_without_any_environment() -> None:
    settings = load_settings(EXAMPLE, env={})
    assert settings.feeds
    assert {watchlist.name for watchlist in settings.watchlists} >= {"karabakh", "ceasefire"}
    assert list(settings.active_notifiers()) == ["console"]


def test_example_config_turns_slack_on_with_its_variable() -> None:
    env = {"SLACK_WEBHOOK_URL": "https://hooks.slack.com/services/T/B/secret"}
    settings = load_settings(EXAMPLE, env=env)
    assert set(settings.active_notifiers()) == {"console", "newsroom"}


def test_empty_file_gives_defaults_and_console() -> None:
    settings = parse_settings("", "m.yaml", {})
    assert settings.storage == "sqlite:///monitor.db"
    assert settings.defaults.interval == timedelta(minutes=10)
    assert settings.defaults.baseline is True
    assert settings.http.max_body == 15 * 1024 * 1024
    assert list(settings.active_notifiers()) == ["console"]


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("30s", 30), ("10m", 600), ("2h", 7200), ("1d", 86400), (45, 45), ("1.5m", 90)],
)
def test_durations(text: object, seconds: float) -> None:
    assert parse_duration(text).total_seconds() == seconds


@pytest.mark.parametrize(
    ("text", "size"), [("15MiB", 15 * 1024**2), ("512KiB", 524288), ("1MB", 10**6), (10, 10)]
)
def test_sizes(text: object, size: int) -> None:
    assert parse_size(text) == size


def test_yaml_syntax_error_names_file_and_line() -> None:
    problems = errors_of("feeds:\n  - url: https://a.example/feed\n    name: [unclosed\n")
    assert len(problems) == 1
    assert problems[0].startswith("monitor.yaml:")
    assert "YAML syntax error" in problems[0]


def test_unknown_key_names_line_and_path() -> None:
    text = "feeds:\n  - url: https://a.example/feed\n    intervall: 5m\n"
    assert errors_of(text) == ["monitor.yaml:3 feeds[0].intervall: unknown key"]


def test_unknown_top_level_key() -> None:
    assert errors_of("storge: sqlite:///x.db\n") == ["monitor.yaml:1 storge: unknown key"]


def test_unknown_notifier_in_watchlist() -> None:
    text = """\
notifiers:
  slack: {type: slack, url: "https://hooks.slack.com/services/x"}
watchlists:
  - name: a
    any: [x]
  - name: b
    any: [y]
    notify: [slak]
"""
    assert errors_of(text) == [
        "monitor.yaml:8 watchlists[1].notify[0]: unknown notifier 'slak'; configured: slack"
    ]


def test_unknown_notifier_type() -> None:
    problems = errors_of("notifiers:\n  x: {type: pager}\n")
    assert problems == [
        "monitor.yaml:2 notifiers.x: unknown notifier type;"
        " expected one of console, slack, webhook, discord, teams, ntfy, apprise"
    ]


def test_missing_env_var_is_an_error_with_a_hint() -> None:
    text = 'notifiers:\n  ops: {type: webhook, url: "${HOOK_URL}"}\n'
    (problem,) = errors_of(text)
    assert problem.startswith("monitor.yaml:2 notifiers.ops.url: environment variable HOOK_URL")
    assert "${HOOK_URL:-}" in problem


def test_env_default_and_dollar_escape() -> None:
    text = 'notifiers:\n  ops: {type: webhook, url: "https://h.example/${P:-a}$$b"}\n'
    settings = parse_settings(text, "m.yaml", {})
    spec = settings.notifiers["ops"]
    assert isinstance(spec, WebhookNotifierSettings)
    assert spec.resolved_url() == "https://h.example/a$b"


def test_empty_url_turns_a_notifier_off() -> None:
    text = 'notifiers:\n  newsroom: {type: slack, url: "${SLACK:-}"}\n'
    settings = parse_settings(text, "m.yaml", {})
    assert settings.active_notifiers() == {}
    assert not settings.notifiers["newsroom"].enabled


def test_url_and_secret_files(tmp_path: Path) -> None:
    (tmp_path / "url").write_text("https://hooks.slack.com/services/T/B/C\n")
    (tmp_path / "secret").write_text("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw\n")
    text = f"""\
notifiers:
  slack: {{type: slack, url_file: {tmp_path / "url"}}}
  hook: {{type: webhook, url: "https://h.example/x", secret_file: {tmp_path / "secret"}}}
"""
    settings = parse_settings(text, "m.yaml", {})
    slack = settings.notifiers["slack"]
    hook = settings.notifiers["hook"]
    assert isinstance(slack, SlackNotifierSettings)
    assert isinstance(hook, WebhookNotifierSettings)
    assert slack.resolved_url() == "https://hooks.slack.com/services/T/B/C"
    assert hook.signing_key() is not None


def test_missing_secret_file_is_reported(tmp_path: Path) -> None:
    text = f"notifiers:\n  s: {{type: slack, url_file: {tmp_path / 'nope'}}}\n"
    (problem,) = errors_of(text)
    assert problem.startswith("monitor.yaml:2 notifiers.s: cannot read")


def test_malformed_webhook_secret() -> None:
    text = 'notifiers:\n  h: {type: webhook, url: "https://h.example/", secret: "not base64!"}\n'
    (problem,) = errors_of(text)
    assert "whsec_<base64>" in problem
    assert "not base64" not in problem  # the value itself is never echoed


def test_bad_values_name_their_keys() -> None:
    text = """\
defaults: {interval: soon}
http: {max_body: huge, concurrency: 0}
feeds:
  - url: ftp://files.example/feed
watchlists:
  - name: empty
    none: [x]
  - name: badfield
    any: [x]
    fields: [body]
"""
    problems = errors_of(text)
    assert any(
        p.startswith("monitor.yaml:1 defaults.interval: expected a duration") for p in problems
    )
    assert any(p.startswith("monitor.yaml:2 http.max_body: expected a size") for p in problems)
    assert any(p.startswith("monitor.yaml:2 http.concurrency:") for p in problems)
    assert any(
        p.startswith("monitor.yaml:4 feeds[0].url: expected an http(s) URL") for p in problems
    )
    assert any(
        "watchlists[0]: a watchlist needs a query: or terms in any: or all:" in p for p in problems
    )
    assert any(p.startswith("monitor.yaml:10 watchlists[1].fields[0]:") for p in problems)


def test_duplicates_are_reported() -> None:
    text = """\
feeds:
  - url: https://a.example/feed
  - url: https://a.example/feed
watchlists:
  - {name: w, any: [x]}
  - {name: w, any: [y]}
"""
    problems = errors_of(text)
    assert "monitor.yaml:3 feeds[1].url: the same URL as feeds[0]" in problems
    assert "monitor.yaml:6 watchlists[1].name: duplicate name (also watchlists[0])" in problems


def test_terms_without_letters_are_rejected() -> None:
    (problem,) = errors_of("watchlists:\n  - {name: w, any: ['!!!']}\n")
    assert "has no letters or digits" in problem


def test_postgres_storage_and_cluster_settings() -> None:
    settings = parse_settings(
        "storage: postgresql://monitor:pw@db.internal/news\n"
        "cluster: {lease: 30s, instance_id: worker-1}\n",
        "monitor.yaml",
        {},
    )
    assert settings.uses_postgresql
    assert settings.cluster.lease == timedelta(seconds=30)
    assert settings.cluster.instance_id == "worker-1"
    assert parse_settings("", "monitor.yaml", {}).cluster.lease == timedelta(seconds=60)
    unset = parse_settings(
        "cluster: {instance_id: '${NEWS_MONITOR_INSTANCE:-}'}\n", "monitor.yaml", {}
    )
    assert unset.cluster.instance_id is None  # the default, hostname:pid


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("storage: postgresql:///news\n", "storage: expected postgresql://USER@HOST/DATABASE"),
        ("storage: mysql://u:pw@h/db\n", "storage: expected sqlite:///PATH or postgresql://"),
        ("cluster: {lease: 0s}\n", "cluster.lease: a lease is between 1s and 1h"),
        ("cluster: {lease: 2h}\n", "cluster.lease: a lease is between 1s and 1h"),
        ("cluster: {leases: 60s}\n", "cluster.leases: unknown key"),
    ],
)
def test_bad_storage_and_cluster_settings_are_named(text: str, expected: str) -> None:
    (problem,) = errors_of(text)
    assert problem.startswith(f"monitor.yaml:1 {expected}")
    assert "pw" not in problem


def test_load_settings_reports_unreadable_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read the configuration"):
        load_settings(tmp_path / "absent.yaml")


def test_default_config_path_order(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert default_config_path({"NEWS_MONITOR_CONFIG": "/etc/x.yaml"}) == Path("/etc/x.yaml")
    (tmp_path / "config").mkdir()
    (tmp_path / "config" / "monitor.yaml").write_text("")
    assert default_config_path({}) == Path("config/monitor.yaml")
    (tmp_path / "monitor.yaml").write_text("")
    assert default_config_path({}) == Path("monitor.yaml")


def test_mask_url_hides_path_and_credentials() -> None:
    assert (
        mask_url("https://user:pw@hooks.slack.com/services/T/B/C") == "https://hooks.slack.com/***"
    )
    assert mask_url("nonsense") == "***"


# -- hostile and absurd files: one clear line, fast, in bounded memory ----------------

ALIAS_BOMB = "\n".join(
    ["a0: &a0 [x, x, x, x, x, x, x, x, x]"]
    + [f"a{n}: &a{n} [{', '.join([f'*a{n - 1}'] * 9)}]" for n in range(1, 10)]
)


def test_a_large_configuration_as_written_is_not_taken_for_an_alias_bomb() -> None:
    """What is written counts once: 100,000 feeds must load (seen refused before)."""
    feeds = "".join(f"  - url: https://site{n}.example/feed\n" for n in range(70_000))
    settings = parse_settings(f"feeds:\n{feeds}", "monitor.yaml", {})
    assert len(settings.feeds) == 70_000


def test_an_alias_bomb_is_refused_at_once() -> None:
    started = time.monotonic()
    (problem,) = errors_of(ALIAS_BOMB)
    assert "expands to more than 200,000 values" in problem
    assert time.monotonic() - started < 2


def test_a_merge_key_bomb_is_refused_too() -> None:
    text = "m0: &m0 {k: v}\n" + "\n".join(
        f"m{n}: &m{n} {{<<: [{', '.join([f'*m{n - 1}'] * 9)}], k{n}: v}}" for n in range(1, 10)
    )
    # Merges are small once flattened (keys override), but the expansion is still bounded.
    started = time.monotonic()
    with pytest.raises(ConfigError):
        parse_settings(text, "monitor.yaml", {})
    assert time.monotonic() - started < 2


def test_a_few_aliases_are_fine() -> None:
    settings = parse_settings(
        "watchlists:\n  - {name: a, any: &k [Karabakh, Qarabağ]}\n  - {name: b, any: *k}\n",
        "monitor.yaml",
        {},
    )
    assert settings.watchlists[1].any == ["Karabakh", "Qarabağ"]


def test_a_recursive_alias_is_refused() -> None:
    (problem,) = errors_of("feeds: &loop [*loop]\n")
    assert "alias refers to itself" in problem


def test_a_huge_file_is_refused_without_reading_it_all(tmp_path: Path) -> None:
    path = tmp_path / "big.yaml"
    with path.open("w") as file:
        file.write("feeds:\n")
        file.write("  - {url: 'https://example.org/feed'}\n" * 1_500_000)  # about 55 MB
    started = time.monotonic()
    with pytest.raises(ConfigError) as caught:
        load_settings(path)
    (problem,) = caught.value.problems
    assert problem == f"{path}: the configuration is larger than 32 MiB"
    assert time.monotonic() - started < 2


def test_a_huge_value_is_not_echoed_back() -> None:
    (problem,) = errors_of(f"defaults: {{interval: '{'9' * 100_000}x'}}\n")
    assert "expected a duration" in problem
    assert len(problem) < 200


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("defaults: {interval: 99999999999d}", "a duration must be at most 366d"),
        ("defaults: {interval: .inf}", "a duration must be at most 366d"),
        ("defaults: {interval: .nan}", "a duration must be at most 366d"),
        ("http: {timeout: 1.0e+300}", "a duration must be at most 366d"),
        ("http: {max_body: 99999999999GiB}", "a size must be at most 1TiB"),
        ("http: {max_body: .inf}", "a size must be at most 1TiB"),
        (f"http: {{concurrency: {'9' * 5000}}}", "cannot read a value"),
        ("feeds: !!python/name:os.system x", "could not determine a constructor"),
        ("feeds: " + "[" * 5000 + "]" * 5000, "nested too deeply"),
    ],
)
def test_absurd_values_are_one_line_errors(text: str, message: str) -> None:
    (problem,) = errors_of(text + "\n")
    assert message in problem
    assert "\n" not in problem


def test_absurd_values_exit_2_from_the_command_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "monitor.yaml"
    config.write_text("feeds:\n  - {url: 'https://example.org/feed', interval: 99999999999d}\n")
    assert main(["check", "-c", str(config)]) == 2
    err = capsys.readouterr().err
    assert "monitor.yaml:2 feeds[0].interval: a duration must be at most 366d" in err
    assert "Traceback" not in err


SECRET_PATH = "T0SECRET/B0SECRET/XyZsecretTOKEN"


@pytest.mark.parametrize(
    "url",
    [
        f"hooks.slack.com/services/{SECRET_PATH}",
        f"ftp://hooks.slack.com/services/{SECRET_PATH}",
        f"https://[hooks.slack.com/services/{SECRET_PATH}",
    ],
)
def test_a_malformed_notifier_url_is_reported_without_the_url(url: str) -> None:
    (problem,) = errors_of(f"notifiers:\n  newsroom: {{type: slack, url: '{url}'}}\n")
    assert "expected an http(s) URL" in problem
    assert "SECRET" not in problem and "TOKEN" not in problem


def test_storage_errors_do_not_echo_a_password() -> None:
    (problem,) = errors_of("storage: 'mysql://admin:hunter2@db.example/news'\n")
    assert "hunter2" not in problem


def test_delivery_rules_have_documented_defaults_and_take_overrides() -> None:
    settings = parse_settings(
        """
notifiers:
  slack: {type: slack, url: "https://hooks.slack.com/services/T/B/C"}
  hook:
    type: webhook
    url: https://example.org/hook
    retry: [0s, 1m]
    max_attempts: 20
    rate_limit: {messages: 10, per: 1m, burst: 20}
  quiet: {type: discord, url: "https://discord.com/api/webhooks/1/x", rate_limit: off}
watchlists:
  - name: morning
    any: [Karabakh]
    digest: "0 8 * * mon-fri"
    quiet: "22:00-07:00"
    timezone: Asia/Baku
health: {notify: [hook]}
""",
        "monitor.yaml",
        {},
    )
    slack, hook, discord = settings.notifiers.values()
    assert slack.retry[:3] == [timedelta(0), timedelta(seconds=5), timedelta(minutes=5)]
    assert slack.rate_limit is not None and (slack.rate_limit.burst, slack.max_attempts) == (
        3,
        None,
    )
    assert (hook.retry, hook.max_attempts) == ([timedelta(0), timedelta(minutes=1)], 20)
    assert hook.rate_limit is not None and hook.rate_limit.per == timedelta(minutes=1)
    assert discord.rate_limit is None
    (watchlist,) = settings.watchlists
    assert quiet_hours(watchlist) is not None and digest_schedule(watchlist) is not None
    assert settings.defaults.max_alert_age == timedelta(hours=24)
    assert settings.health.notify == ["hook"]


@pytest.mark.parametrize(
    ("fragment", "problem"),
    [
        (
            "notifiers:\n  h: {type: webhook, url: 'https://e.org/h', retry: []}\n",
            "monitor.yaml:2 notifiers.h.retry: list at least one delay",
        ),
        (
            "notifiers:\n  h: {type: webhook, url: 'https://e.org/h', retry: [5s, -1s]}\n",
            "monitor.yaml:2 notifiers.h.retry[1]: expected a duration such as 30s",
        ),
        (
            "notifiers:\n  h: {type: webhook, url: 'https://e.org/h', max_attempts: 0}\n",
            "monitor.yaml:2 notifiers.h.max_attempts: Input should be greater than or equal to 1",
        ),
        (
            "notifiers:\n  h: {type: slack, url: 'https://e.org/h', rate_limit: {per: 0s}}\n",
            "monitor.yaml:2 notifiers.h.rate_limit.per: must be longer than zero",
        ),
        (
            "watchlists:\n  - {name: w, any: [x], quiet: '22-7'}\n",
            "monitor.yaml:2 watchlists[0]: expected quiet hours such as 22:00-07:00, got '22-7'",
        ),
        (
            "watchlists:\n  - {name: w, any: [x], digest: 'daily'}\n",
            "monitor.yaml:2 watchlists[0]: invalid cron expression 'daily'",
        ),
        (
            "watchlists:\n  - {name: w, any: [x], timezone: Mars/Base}\n",
            "monitor.yaml:2 watchlists[0].timezone: unknown time zone 'Mars/Base'",
        ),
        (
            "health: {notify: [pager]}\n",
            "monitor.yaml:1 health.notify[0]: unknown notifier 'pager'",
        ),
        (
            "defaults: {max_alert_age: 0s}\n",
            "monitor.yaml:1 defaults.max_alert_age: must be longer than zero",
        ),
    ],
)
def test_bad_delivery_rules_are_named_with_their_line(fragment: str, problem: str) -> None:
    (found,) = errors_of(fragment)
    assert found.startswith(problem), found


def test_apprise_urls_are_checked_and_shown_by_scheme_only() -> None:
    pytest.importorskip("apprise")
    settings = parse_settings(
        "notifiers:\n  tg: {type: apprise, url: 'tgram://123456:SECRETTOKEN/987654'}\n",
        "monitor.yaml",
        {},
    )
    (tg,) = settings.notifiers.values()
    assert tg.shown_url() == "tgram://***"  # type: ignore[union-attr]
    (problem,) = errors_of("notifiers:\n  x: {type: apprise, url: 'nosuch://SECRET/x'}\n")
    assert "apprise does not recognise this URL" in problem and "SECRET" not in problem
    (problem,) = errors_of("notifiers:\n  n: {type: ntfy, url: 'https://ntfy.sh/'}\n")
    assert "names no topic" in problem


def test_queries_and_aliases_are_checked_with_their_line_and_column() -> None:
    text = """
aliases:
  karabakh: [Karabakh, Qarabağ]
watchlists:
  - name: ok
    query: '@karabakh AND (ceasefire OR truc*)'
  - name: broken
    query: '(@karabakh OR truce'
  - name: lists
    any: ['@karabakh', '@nowhere']
  - name: both
    any: [x]
    query: y
"""
    # Model errors come first (nothing else is checked until the file is well-formed).
    assert errors_of(text) == [
        "monitor.yaml:11 watchlists[3]: use query: or any:/all:/none:, not both",
    ]
    problems = errors_of(text.rsplit("  - name: both", 1)[0])
    assert problems == [
        "monitor.yaml:8 watchlists[1].query: 1:20: expected ')'",
        "monitor.yaml:10 watchlists[2].any: unknown alias @nowhere; defined: @karabakh",
    ]


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("postgresql://news:s3cret@db:5432/news", "postgresql://news@db:5432/news"),
        (
            "postgresql://db/news?password=s3cret&sslmode=require",
            "postgresql://db/news?password=***&sslmode=require",
        ),
        ("postgresql://news@db/news", "postgresql://news@db/news"),
        ("sqlite:///monitor.db", "sqlite:///monitor.db"),
    ],
)
def test_database_urls_are_shown_without_passwords(url: str, shown: str) -> None:
    assert database_shown(url) == shown


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "feeds:\n  - {url: 'https://example.org:99999/feed'}",
            "feeds[0].url: expected an http(s) URL",
        ),
        (
            "storage: 'postgresql://news:pw@db.example:port/monitor'",
            "storage: the port is not a number from 1 to 65535",
        ),
        (
            "feeds:\n  - {url: 'https://a.example/f', name: World}\n"
            "  - {url: 'https://b.example/f', name: World}",
            "feeds[1].name: the same name as feeds[0]; names must be unique",
        ),
        (
            "watchlists:\n  - {name: w, query: 'withdraw NEAR weapons'}",
            "NEAR needs a distance in words",
        ),
    ],
)
def test_mistakes_that_passed_check_are_errors(text: str, message: str) -> None:
    (problem,) = errors_of(text + "\n")
    assert message in problem, problem
    assert "pw" not in problem
