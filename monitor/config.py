"""YAML configuration → typed settings (pydantic v2), with errors as ``file:line key.path``.

``yaml_source`` turns the text into data that remembers its lines (and expands
``${VAR}``); the models here validate it; ``url_file``/``secret_file`` read secrets.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import math
import os
import re
from collections.abc import Mapping
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)
from selectolax.lexbor import LexborHTMLParser, SelectolaxError

from monitor.match.query import QueryError, parse_query, resolve_aliases
from monitor.notify.rules import DEFAULT_RETRY, DigestSchedule, QuietHours, parse_timezone
from monitor.opml import OpmlError, read_opml
from monitor.redact import brief, mask_url, without_userinfo
from monitor.text import tokenize
from monitor.yaml_source import (
    MAX_CONFIG_BYTES,
    ConfigError,
    KeyPath,
    YamlSource,
    compose,
    too_large,
)

__all__ = ["ConfigError", "Settings", "load_settings", "mask_url", "parse_settings"]

DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?\s*$")
SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(B|KB|KiB|MB|MiB|GB|GiB)?\s*$", re.IGNORECASE)
NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
DURATION_UNITS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400}
SIZE_UNITS = {
    "b": 1,
    "kb": 1000,
    "kib": 1024,
    "mb": 1000**2,
    "mib": 1024**2,
    "gb": 1000**3,
    "gib": 1024**3,
}
SearchField = Literal["title", "summary"]
# Bounds that keep every duration and size a sane number (and the arithmetic on them
# free of overflow): nothing here needs to wait longer than a year or hold a terabyte.
MAX_DURATION = timedelta(days=366)
MAX_SIZE = 1024**4


def parse_duration(value: object) -> timedelta:
    """``30s``, ``10m``, ``2h``, ``1d`` (a bare number is seconds) → timedelta, at most
    ``MAX_DURATION``."""
    if isinstance(value, timedelta):
        seconds = value.total_seconds()
    elif isinstance(value, bool):
        raise ValueError("expected a duration such as 30s, 10m, 2h or 1d")
    elif isinstance(value, int | float):
        seconds = float(value)
    else:
        match = DURATION.match(str(value))
        if not match:
            raise ValueError(f"expected a duration such as 30s, 10m, 2h or 1d, got {brief(value)}")
        number, unit = match.groups()
        seconds = float(number) * DURATION_UNITS[unit or "s"]
    if not math.isfinite(seconds) or abs(seconds) > MAX_DURATION.total_seconds():
        raise ValueError(f"a duration must be at most {MAX_DURATION.days}d")
    return timedelta(seconds=seconds)


def parse_size(value: object) -> int:
    """``15MiB``, ``512KiB``, ``1MB`` (a bare number is bytes) → bytes, at most 1 TiB."""
    if isinstance(value, bool):
        raise ValueError("expected a size such as 512KiB or 15MiB")
    if isinstance(value, int):
        size = float(value)
    elif isinstance(value, float):
        size = value
    else:
        match = SIZE.match(str(value))
        if not match:
            raise ValueError(f"expected a size such as 512KiB or 15MiB, got {brief(value)}")
        number, unit = match.groups()
        size = float(number) * SIZE_UNITS[(unit or "b").lower()]
    if not math.isfinite(size) or abs(size) > MAX_SIZE:
        raise ValueError("a size must be at most 1TiB")
    return int(size)


Duration = Annotated[timedelta, BeforeValidator(parse_duration)]
Size = Annotated[int, BeforeValidator(parse_size)]


def _no_limit(value: object) -> object:
    # ``off`` (which YAML reads as false) or null: no limit.
    return None if value is False or value == "off" else value


def _off(value: object) -> object:
    return False if value == "off" else value


def _positive(value: timedelta | None) -> timedelta | None:
    if value is not None and value.total_seconds() <= 0:
        raise ValueError("must be longer than zero")
    return value


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Defaults(_Strict):
    """Values a feed inherits when it does not set its own."""

    interval: Duration = timedelta(minutes=10)
    baseline: bool = True
    # An item first seen longer than this after its publication date is recorded, not
    # alerted: a daemon back from a week away, or a feed dumping its archive, stays quiet.
    max_alert_age: Annotated[Duration | None, BeforeValidator(_no_limit)] = timedelta(hours=24)
    # Whatever a feed or its server asks for, it is polled at least this often.
    max_interval: Duration = timedelta(hours=24)
    # A failing feed's backoff (its interval, doubled per failure) stops growing here.
    max_backoff: Duration = timedelta(hours=6)
    # Poll each feed at the cadence it publishes (half its median gap between recent
    # entries), never more often than its interval nor less than max_interval.
    adaptive: bool = False
    # A body's newest entries read per poll; a feed that lists more (an archive of a
    # hundred thousand) is read up to here, and the poll says so.
    max_entries: int = Field(default=1000, ge=1, le=100_000)

    _check_interval = field_validator("interval", "max_alert_age", "max_interval", "max_backoff")(
        _positive
    )


class StoriesSettings(_Strict):
    """How items are grouped into stories (see the README's "Stories")."""

    similarity: float = Field(default=0.5, gt=0, le=1)
    window: Duration = timedelta(days=14)
    title_window: Duration = timedelta(hours=48)

    _check_windows = field_validator("window", "title_window")(_positive)


class HttpSettings(_Strict):
    """Limits for fetching feeds."""

    timeout: Duration = timedelta(seconds=20)
    max_body: Size = 15 * 1024**2
    concurrency: int = Field(default=100, ge=1, le=10_000)
    per_host: int = Field(default=4, ge=1, le=1_000)
    allow_private_networks: bool = False
    user_agent: str | None = None
    # At least this long between the starts of two requests to one host (0s: no spacing).
    host_spacing: Duration = timedelta(0)

    _check_timeout = field_validator("timeout")(_positive)

    @field_validator("host_spacing")
    @classmethod
    def _check_spacing(cls, value: timedelta) -> timedelta:
        if value.total_seconds() < 0:
            raise ValueError("cannot be negative")
        return value


def _is_http_url(value: str) -> bool:
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018 - raises ValueError for a port out of range or not a number
        return parts.scheme in ("http", "https") and bool(parts.hostname)
    except ValueError:
        return False


def _http_url(value: str) -> str:
    if not _is_http_url(value):
        raise ValueError(f"expected an http(s) URL, got {brief(without_userinfo(value))}")
    return value


def _css_selector(value: str | None) -> str | None:
    if value is None:
        return None
    try:
        LexborHTMLParser("<p></p>").css(value)
    except SelectolaxError:
        raise ValueError(f"not a CSS selector: {brief(value)}") from None
    return value


class HtmlSelectors(_Strict):
    """Where a page without a feed keeps its articles (``type: html``): CSS selectors,
    ``item`` on the page, the others inside each item."""

    item: str
    title: str | None = None  # default: the item's first heading, else its link's text
    link: str | None = None  # default: the item's first a[href] (the item itself if a link)
    summary: str | None = None
    date: str | None = None  # a <time datetime>, a content= or the text, ISO 8601 or RFC 822

    _check_selectors = field_validator("item", "title", "link", "summary", "date")(_css_selector)


class FeedSettings(_Strict):
    """One source to poll."""

    url: str
    # How the body is read: an RSS/Atom/JSON feed, a (Google News) sitemap, or a page.
    type: Literal["feed", "sitemap", "html"] = "feed"
    selectors: HtmlSelectors | None = None  # type: html only
    # type: sitemap only: entries published (or modified) longer ago are not read.
    recent: Duration | None = None
    name: str | None = None
    interval: Duration | None = None
    tags: list[str] = []  # accepted now; filters and digests by tag come later
    baseline: bool | None = None
    enabled: bool = True
    # None: the default's; "off": this feed alerts whatever an item's age.
    max_alert_age: Annotated[Duration | Literal[False] | None, BeforeValidator(_off)] = None
    max_entries: int | None = Field(default=None, ge=1, le=100_000)  # None: the default's

    _check_url = field_validator("url")(_http_url)

    @field_validator("interval", "max_alert_age")
    @classmethod
    def _check_interval(cls, value: timedelta | bool | None) -> timedelta | bool | None:
        return value if not isinstance(value, timedelta) else _positive(value)

    @model_validator(mode="after")
    def _check_type(self) -> FeedSettings:
        if self.type == "html" and self.selectors is None:
            raise ValueError("type: html needs selectors: (at least item:)")
        if self.type != "html" and self.selectors is not None:
            raise ValueError("selectors: are for type: html only")
        if self.type != "sitemap" and self.recent is not None:
            raise ValueError("recent: is for type: sitemap only")
        return self

    @field_validator("recent")
    @classmethod
    def _check_recent(cls, value: timedelta | None) -> timedelta | None:
        return _positive(value)


def _read_secret_file(path: Path | None) -> SecretStr | None:
    if path is None:
        return None
    try:
        return SecretStr(path.read_text(encoding="utf-8").strip())
    except OSError as exc:
        raise ValueError(f"cannot read {path}: {exc.strerror}") from None


class RateLimit(_Strict):
    """At most ``messages`` per ``per``, in bursts of up to ``burst``."""

    messages: int = Field(default=1, ge=1, le=10_000)
    per: Duration = timedelta(seconds=1)
    burst: int = Field(default=1, ge=1, le=10_000)

    _check_per = field_validator("per")(_positive)


def _retry_delays(value: list[timedelta]) -> list[timedelta]:
    if not value:
        raise ValueError("list at least one delay, such as [0s, 5s, 5m]")
    if len(value) > 100:
        raise ValueError("at most 100 delays; max_attempts repeats the last one")
    if any(delay.total_seconds() < 0 for delay in value):
        raise ValueError("delays cannot be negative")
    return value


class _Channel(_Strict):
    """What every notifier may set: its retry schedule and its rate limit."""

    # Delays before each retry; the last repeats until max_attempts (when set).
    retry: list[Duration] = list(DEFAULT_RETRY)
    max_attempts: int | None = Field(default=None, ge=1, le=10_000)
    rate_limit: Annotated[RateLimit | None, BeforeValidator(_no_limit)] = None

    _check_retry = field_validator("retry")(_retry_delays)

    def settings_key(self) -> str:
        """A digest of where this notifier sends (a changed URL re-enables it)."""
        return ""


class _UrlNotifier(_Channel):
    url: SecretStr | None = None
    url_file: Path | None = None
    timeout: Duration = timedelta(seconds=10)

    @model_validator(mode="after")
    def _check_url(self) -> Any:
        if self.url is not None and self.url_file is not None:
            raise ValueError("set url or url_file, not both")
        if self.url is None and self.url_file is None:
            raise ValueError("url is required (an empty value turns this notifier off)")
        url = self.resolved_url()
        problem = self.url_problem(url) if url else None
        if problem:
            # The URL is a secret (a Slack webhook's path is its token): never echo it.
            raise ValueError(f"{problem} (not shown: secret)")
        return self

    def url_problem(self, url: str) -> str | None:
        """What is wrong with the URL, in words that do not repeat it; None if fine."""
        if not _is_http_url(url):
            return "expected an http(s) URL such as https://host/path"
        return None

    def shown_url(self) -> str:
        """The URL as ``check`` shows it: scheme and host, the rest masked."""
        return mask_url(self.resolved_url())

    def resolved_url(self) -> str:
        """The endpoint, read from ``url`` or ``url_file``; empty means the notifier is off."""
        source = self.url if self.url is not None else _read_secret_file(self.url_file)
        return source.get_secret_value() if source is not None else ""

    @property
    def enabled(self) -> bool:
        """A notifier whose URL expanded to nothing is configured but off."""
        return bool(self.resolved_url())

    def settings_key(self) -> str:
        """A digest of the URL: never the URL itself, which is a secret."""
        return hashlib.sha256(self.resolved_url().encode()).hexdigest()[:16]


class ConsoleNotifierSettings(_Channel):
    """Prints alerts to standard output."""

    type: Literal["console"]

    @property
    def enabled(self) -> bool:
        """The console is always available."""
        return True


class SlackNotifierSettings(_UrlNotifier):
    """A Slack incoming webhook (or a Slack-compatible one: Mattermost, Rocket.Chat)."""

    type: Literal["slack"]
    # Slack allows about one message per second per webhook, with short bursts.
    rate_limit: Annotated[RateLimit | None, BeforeValidator(_no_limit)] = RateLimit(burst=3)


class DiscordNotifierSettings(_UrlNotifier):
    """A Discord channel webhook; mentions are never parsed."""

    type: Literal["discord"]
    # Discord's webhook limit is about 30 messages a minute per channel.
    rate_limit: Annotated[RateLimit | None, BeforeValidator(_no_limit)] = RateLimit(
        messages=1, per=timedelta(seconds=2), burst=5
    )


class TeamsNotifierSettings(_UrlNotifier):
    """A Microsoft Teams workflow ("Post to a channel when a webhook request is received")."""

    type: Literal["teams"]
    rate_limit: Annotated[RateLimit | None, BeforeValidator(_no_limit)] = RateLimit(burst=3)


class NtfyNotifierSettings(_UrlNotifier):
    """An ntfy topic URL (``https://ntfy.sh/my-topic``), with an optional access token."""

    type: Literal["ntfy"]
    token: SecretStr | None = None
    token_file: Path | None = None
    priority: int = Field(default=3, ge=1, le=5)
    # ntfy.sh refills a visitor's 60-message burst at one message per 5 seconds.
    rate_limit: Annotated[RateLimit | None, BeforeValidator(_no_limit)] = RateLimit(
        messages=1, per=timedelta(seconds=5), burst=20
    )

    def url_problem(self, url: str) -> str | None:
        """An http(s) URL whose path ends in the topic."""
        if not _is_http_url(url):
            return "expected a topic URL such as https://ntfy.sh/my-topic"
        if not urlsplit(url).path.strip("/"):
            return "the URL names no topic: use https://server/TOPIC"
        return None

    @model_validator(mode="after")
    def _check_token(self) -> Any:
        if self.token is not None and self.token_file is not None:
            raise ValueError("set token or token_file, not both")
        self.access_token()
        return self

    def access_token(self) -> str | None:
        """The bearer token, read from ``token`` or ``token_file``; None when unset."""
        source = self.token if self.token is not None else _read_secret_file(self.token_file)
        return (source.get_secret_value() or None) if source is not None else None


class WebhookNotifierSettings(_UrlNotifier):
    """A generic JSON webhook, signed per Standard Webhooks when a secret is set."""

    type: Literal["webhook"]
    secret: SecretStr | None = None
    secret_file: Path | None = None

    @model_validator(mode="after")
    def _check_secret(self) -> Any:
        if self.secret is not None and self.secret_file is not None:
            raise ValueError("set secret or secret_file, not both")
        self.signing_key()  # raises on a malformed secret, so it is a config error
        return self

    def signing_key(self) -> bytes | None:
        """The HMAC key decoded from ``whsec_<base64>``; None when unsigned."""
        source = self.secret if self.secret is not None else _read_secret_file(self.secret_file)
        raw = source.get_secret_value() if source is not None else ""
        if not raw:
            return None
        encoded = raw.removeprefix("whsec_")
        try:
            key = base64.b64decode(encoded, validate=True)
        except (binascii.Error, ValueError):
            raise ValueError("secret must look like whsec_<base64>") from None
        if len(key) < 16:
            raise ValueError("secret is too short: use at least 16 random bytes")
        return key


class AppriseNotifierSettings(_UrlNotifier):
    """Any service Apprise knows (``tgram://``, ``mailto://``, ``matrix://``, …); needs
    the ``apprise`` extra: ``pip install 'news-monitor[apprise]'``."""

    type: Literal["apprise"]

    def url_problem(self, url: str) -> str | None:
        """Apprise must be installed and must know the URL's scheme."""
        try:
            import apprise  # an optional extra: imported only when configured
        except ImportError:
            return "the apprise notifier needs: pip install 'news-monitor[apprise]'"
        if not apprise.Apprise().add(url):
            return "apprise does not recognise this URL"
        return None

    def shown_url(self) -> str:
        """Only the scheme: an Apprise URL's host part is often its token."""
        scheme = self.resolved_url().split("://", 1)[0]
        return f"{scheme}://***"


NotifierSettings = Annotated[
    ConsoleNotifierSettings
    | SlackNotifierSettings
    | WebhookNotifierSettings
    | DiscordNotifierSettings
    | TeamsNotifierSettings
    | NtfyNotifierSettings
    | AppriseNotifierSettings,
    Field(discriminator="type"),
]
NOTIFIER_TYPES = ("console", "slack", "webhook", "discord", "teams", "ntfy", "apprise")


def _terms(values: list[str]) -> list[str]:
    for term in values:
        if term.strip().startswith("@"):
            continue  # an alias: checked against aliases: once the whole file is read
        if not tokenize(term.strip().strip('"')):
            raise ValueError(f"term {term!r} has no letters or digits to match")
    return values


class WatchlistSettings(_Strict):
    """Keyword rules: any of, all of, none of, over some fields."""

    name: str
    any: list[str] = []
    all: list[str] = []
    none: list[str] = []
    # Instead of any/all/none: one boolean query (see the README's "Queries").
    query: str | None = None
    fields: list[SearchField] = ["title", "summary"]
    # Watch only these feeds (URLs or names) and feeds with these tags; default: all.
    feeds: list[str] | None = None
    tags: list[str] | None = None
    # Ignore items published longer ago than this.
    max_age: Duration | None = None
    notify: list[str] | None = None
    # "message": one short "also reported by …" note when another source carries an
    # alerted story, at most once per story and notifier per hour. "off": silent.
    follow_ups: Literal["off", "message"] = "off"
    # Collect matches into one message on a cron schedule, in ``timezone``.
    digest: str | None = None
    # Hold messages during a daily window, such as "22:00-07:00", in ``timezone``.
    quiet: str | None = None
    timezone: str = "UTC"

    _check_terms = field_validator("any", "all", "none")(_terms)
    _check_max_age = field_validator("max_age")(_positive)

    def watched_feeds(self, feeds: list[FeedSettings]) -> frozenset[str] | None:
        """The URLs of the feeds this watchlist watches; None: every feed."""
        if self.feeds is None and self.tags is None:
            return None
        named = set(self.feeds or [])
        tags = set(self.tags or [])
        return frozenset(
            feed.url
            for feed in feeds
            if feed.url in named or feed.name in named or tags & set(feed.tags)
        )

    @field_validator("timezone")
    @classmethod
    def _check_timezone(cls, value: str) -> str:
        parse_timezone(value)
        return value

    @model_validator(mode="after")
    def _check_times(self) -> Any:
        self.quiet_hours()
        self.digest_schedule()
        return self

    def quiet_hours(self) -> QuietHours | None:
        """The parsed ``quiet:`` window, if any."""
        if not self.quiet:
            return None
        return QuietHours.parse(self.quiet, parse_timezone(self.timezone))

    def digest_schedule(self) -> DigestSchedule | None:
        """The parsed ``digest:`` schedule, if any."""
        if not self.digest:
            return None
        return DigestSchedule.parse(self.digest, parse_timezone(self.timezone))

    @model_validator(mode="after")
    def _check_rules(self) -> Any:
        if self.query is not None and (self.any or self.all or self.none):
            raise ValueError("use query: or any:/all:/none:, not both")
        if self.query is None and not self.any and not self.all:
            raise ValueError("a watchlist needs a query: or terms in any: or all:")
        if not self.fields:
            raise ValueError("fields must name at least one of: title, summary")
        return self


class HealthSettings(_Strict):
    """Where operator notices go (a notifier is gone, …)."""

    notify: list[str] | None = None  # default: every notifier
    # A feed is reported failing after this many failed polls in a row (and once more
    # when it recovers), not once per failure.
    after: int = Field(default=3, ge=1, le=1000)
    # A feed silent this long (and four of its usual gaps) is reported stale, once.
    stale_after: Annotated[Duration | None, BeforeValidator(_no_limit)] = timedelta(days=3)


class WebSettings(_Strict):
    """The optional HTTP side: probes, metrics, status page, JSON."""

    enabled: bool = True  # false: as if absent (lets an environment variable decide)
    listen: str = "127.0.0.1:8080"  # loopback unless asked otherwise
    token: str | None = None  # when set, every path but /healthz wants "Bearer TOKEN"
    # How WebSub hubs reach this side (https://news.example.org); set, feeds that name a
    # hub are subscribed to, and what hubs push is read at once.
    public_url: str | None = None

    @field_validator("listen")
    @classmethod
    def _check_listen(cls, value: str) -> str:
        _, colon, port = value.rpartition(":")
        if not colon or not port.isdigit() or not 0 < int(port) < 65536:
            raise ValueError(f"expected HOST:PORT such as 127.0.0.1:8080, got {brief(value)}")
        return value

    @field_validator("public_url")
    @classmethod
    def _check_public_url(cls, value: str | None) -> str | None:
        if not value:
            return None  # "${NEWS_MONITOR_PUBLIC_URL:-}" unset: no push
        return _http_url(value).rstrip("/")

    @field_validator("token")
    @classmethod
    def _check_token(cls, value: str | None) -> str | None:
        if not value:
            return None  # "${NEWS_MONITOR_WEB_TOKEN:-}" unset: no token
        if len(value) < 16:
            raise ValueError("a token needs at least 16 characters")
        return value


class ClusterSettings(_Strict):
    """How instances sharing one PostgreSQL hold their work."""

    # A claimed feed or delivery is held this long; a live instance renews its leases
    # every third of it, so only a dead instance's work becomes claimable again.
    lease: Duration = Field(default=timedelta(seconds=60))
    # Who holds a claim, in logs, `feeds` and `deliveries` (default: hostname:pid).
    instance_id: str | None = Field(default=None, max_length=200)

    @field_validator("instance_id")
    @classmethod
    def _check_instance_id(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None  # "${NEWS_MONITOR_INSTANCE:-}" unset: the default id
        return value.strip()

    @field_validator("lease")
    @classmethod
    def _check_lease(cls, value: timedelta) -> timedelta:
        if not timedelta(seconds=1) <= value <= timedelta(hours=1):
            raise ValueError("a lease is between 1s and 1h")
        return value


class WebSubSettings(_Strict):
    """WebSub push (on when ``web.public_url`` is set)."""

    enabled: bool = True
    # A feed a hub pushes is still polled, this often (or at its own interval when
    # longer), so nothing is lost when a hub falls silent.
    fallback_interval: Duration = Field(default=timedelta(hours=1))
    lease: Duration = Field(default=timedelta(days=7))  # asked of hubs; they decide

    @field_validator("fallback_interval", "lease")
    @classmethod
    def _check_durations(cls, value: timedelta) -> timedelta:
        if value < timedelta(seconds=1):
            raise ValueError("must be at least 1s")
        return value


class Settings(_Strict):
    """The whole configuration file."""

    storage: str = "sqlite:///monitor.db"
    defaults: Defaults = Defaults()
    http: HttpSettings = HttpSettings()
    stories: StoriesSettings = StoriesSettings()
    feeds: list[FeedSettings] = []
    notifiers: dict[str, NotifierSettings] = {}
    # Named term groups, used as @name in queries and in any/all/none lists.
    aliases: dict[str, list[str]] = {}
    watchlists: list[WatchlistSettings] = []
    health: HealthSettings = HealthSettings()
    web: WebSettings | None = None  # off unless configured
    cluster: ClusterSettings = ClusterSettings()
    websub: WebSubSettings = WebSubSettings()

    @field_validator("storage")
    @classmethod
    def _check_storage(cls, value: str) -> str:
        if value.startswith("sqlite:///") and len(value) > len("sqlite:///"):
            return value
        if value.startswith(("postgresql://", "postgres://")):
            shown = brief(without_userinfo(value))
            try:
                parts = urlsplit(value)
                parts.port  # noqa: B018 - raises ValueError for a bad port
            except ValueError:
                raise ValueError(f"the port is not a number from 1 to 65535: {shown}") from None
            if not parts.hostname and "host=" not in value:
                raise ValueError(f"expected postgresql://USER@HOST/DATABASE, got {shown}")
            return value
        raise ValueError(
            "expected sqlite:///PATH or postgresql://USER@HOST/DATABASE,"
            f" got {brief(without_userinfo(value))}"
        )

    @property
    def push_url(self) -> str | None:
        """Where hubs call back (``web.public_url``), when WebSub push is on."""
        web = self.web
        if web is None or not web.enabled or not self.websub.enabled:
            return None
        return web.public_url

    @property
    def uses_postgresql(self) -> bool:
        """``storage`` names a PostgreSQL database (several instances may share it)."""
        return self.storage.startswith(("postgresql://", "postgres://"))

    def active_notifiers(self) -> dict[str, NotifierSettings]:
        """Notifiers that are on; a console one when the file configures none."""
        if not self.notifiers:
            return {"console": ConsoleNotifierSettings(type="console")}
        return {name: spec for name, spec in self.notifiers.items() if spec.enabled}

    def sqlite_path(self) -> Path:
        """The database file named by ``storage`` (relative to the working directory)."""
        return Path(self.storage.removeprefix("sqlite:///"))


def _describe(error: Any) -> str:
    kind = error["type"]
    if kind == "extra_forbidden":
        return "unknown key"
    if kind == "missing":
        return "required key is missing"
    message = str(error["msg"]).removeprefix("Value error, ")
    if kind == "union_tag_invalid":
        return f"unknown notifier type; expected one of {', '.join(NOTIFIER_TYPES)}"
    if kind == "union_tag_not_found":
        return f"type: is required ({', '.join(NOTIFIER_TYPES)})"
    return message


def _cross_check(settings: Settings, source: YamlSource) -> list[str]:
    problems: list[str] = []

    def report(path: KeyPath, message: str) -> None:
        problems.append(source.problem(path, message))

    known = set(settings.notifiers) or {"console"}
    for name in settings.notifiers:
        if not NAME.match(name):
            report(("notifiers", name), "names use letters, digits, '_', '-' and '.'")
    seen_urls: dict[str, int] = {}
    seen_feed_names: dict[str, int] = {}
    for index, feed in enumerate(settings.feeds):
        if feed.url in seen_urls:
            report(("feeds", index, "url"), f"the same URL as feeds[{seen_urls[feed.url]}]")
        seen_urls.setdefault(feed.url, index)
        if feed.name is not None:
            # A name stands for its feed in watchlists' feeds: and in `feeds preview NAME`.
            if feed.name in seen_feed_names:
                report(
                    ("feeds", index, "name"),
                    f"the same name as feeds[{seen_feed_names[feed.name]}]; names must be unique",
                )
            seen_feed_names.setdefault(feed.name, index)
    for alias, terms in settings.aliases.items():
        if not NAME.match(alias):
            report(("aliases", alias), "names use letters, digits, '_', '-' and '.'")
        try:
            _terms(terms)
        except ValueError as error:
            report(("aliases", alias), str(error))
        if any(term.strip().startswith("@") for term in terms):
            report(("aliases", alias), "an alias lists terms, not other aliases")
    seen_names: dict[str, int] = {}
    for index, watchlist in enumerate(settings.watchlists):
        for key in ("any", "all", "none"):
            try:
                resolve_aliases(getattr(watchlist, key), settings.aliases)
            except ValueError as error:
                report(("watchlists", index, key), str(error))
        known_feeds = {feed.url for feed in settings.feeds} | {
            feed.name for feed in settings.feeds if feed.name
        }
        for position, wanted in enumerate(watchlist.feeds or []):
            if wanted not in known_feeds:
                report(("watchlists", index, "feeds", position), f"no feed {brief(wanted)}")
        known_tags = {tag for feed in settings.feeds for tag in feed.tags}
        for position, tag in enumerate(watchlist.tags or []):
            if tag not in known_tags:
                report(("watchlists", index, "tags", position), f"no feed has tag {brief(tag)}")
        if watchlist.query is not None:
            try:
                parse_query(watchlist.query, settings.aliases)
            except QueryError as error:
                report(("watchlists", index, "query"), str(error))
        if not NAME.match(watchlist.name):
            report(("watchlists", index, "name"), "names use letters, digits, '_', '-' and '.'")
        if watchlist.name in seen_names:
            report(
                ("watchlists", index, "name"),
                f"duplicate name (also watchlists[{seen_names[watchlist.name]}])",
            )
        seen_names.setdefault(watchlist.name, index)
        for position, target in enumerate(watchlist.notify or []):
            if target not in known:
                report(
                    ("watchlists", index, "notify", position),
                    f"unknown notifier {target!r}; configured: {', '.join(sorted(known))}",
                )
    for position, target in enumerate(settings.health.notify or []):
        if target not in known:
            report(
                ("health", "notify", position),
                f"unknown notifier {target!r}; configured: {', '.join(sorted(known))}",
            )
    return problems


def parse_settings(
    text: str, filename: str = "monitor.yaml", env: Mapping[str, str] | None = None
) -> Settings:
    """Validate configuration text; raise ConfigError naming file, line and key path."""
    source = compose(text, filename, os.environ if env is None else env)
    if not isinstance(source.data, dict):
        raise ConfigError([f"{filename}:1: the top level must be a mapping of keys"])
    _include_opml(source, Path(filename).parent)
    try:
        settings = Settings.model_validate(source.data)
    except ValidationError as exc:
        raise ConfigError(
            [
                source.problem(source.path_of(error["loc"]), _describe(error))
                for error in exc.errors()
            ]
        ) from None
    problems = _cross_check(settings, source)
    if problems:
        raise ConfigError(problems)
    return settings


def _include_opml(source: YamlSource, base: Path) -> None:
    """Replace each ``{opml: FILE, tags: [...]}`` in ``feeds:`` by the file's feeds, in
    place; the lines of the feeds after it move with them, and a feed from a file points
    at the include's line. A URL the YAML lists itself wins over a file's."""
    feeds = source.data.get("feeds")
    if not isinstance(feeds, list) or not any(
        isinstance(entry, dict) and "opml" in entry for entry in feeds
    ):
        return
    listed = {entry.get("url") for entry in feeds if isinstance(entry, dict) and "url" in entry}
    # An OPML title is a label another reader showed, not a chosen name: two feeds may
    # share one ("News"), so a title already taken is told apart by its site.
    taken = {entry["name"] for entry in feeds if isinstance(entry, dict) and "name" in entry}
    problems: list[str] = []
    lines_of: dict[int, dict[KeyPath, int]] = {}
    for path, line in list(source.lines.items()):
        if len(path) >= 2 and path[0] == "feeds" and isinstance(path[1], int):
            lines_of.setdefault(path[1], {})[path[2:]] = line
            del source.lines[path]
    expanded: list[Any] = []
    for index, entry in enumerate(feeds):
        own = lines_of.get(index, {})
        if not isinstance(entry, dict) or "opml" not in entry:
            for rest, line in own.items():
                source.lines[("feeds", len(expanded), *rest)] = line
            expanded.append(entry)
            continue
        where: KeyPath = ("feeds", index, "opml")
        source.lines[where] = own.get(("opml",), own.get((), 1))
        tags = entry.get("tags", [])
        if set(entry) - {"opml", "tags"} or not isinstance(entry["opml"], str):
            problems.append(source.problem(where, "an include is {opml: FILE, tags: [...]}"))
            continue
        if not isinstance(tags, list):
            problems.append(source.problem(where, "tags: must be a list"))
            continue
        try:
            found = read_opml(base / entry["opml"])
        except OpmlError as error:
            problems.append(source.problem(where, str(error)))
            continue
        for feed in found:
            if feed.url in listed:
                continue
            listed.add(feed.url)
            source.lines[("feeds", len(expanded))] = own.get((), 1)
            named = {"name": _distinct_title(feed.title, feed.url, taken)} if feed.title else {}
            expanded.append(
                {"url": feed.url, "tags": list(dict.fromkeys([*tags, *feed.tags]))} | named
            )
    if problems:
        raise ConfigError(problems)
    feeds[:] = expanded


def _distinct_title(title: str, url: str, taken: set[str]) -> str:
    """``title``, or ``title (host)``, or ``title (host) 2``…: the first not yet taken."""
    name = title
    if name in taken:
        name = f"{title} ({urlsplit(url).hostname or 'feed'})"
        base, number = name, 2
        while name in taken:
            name, number = f"{base} {number}", number + 1
    taken.add(name)
    return name


def included_opml(path: Path, env: Mapping[str, str] | None = None) -> list[Path]:
    """The OPML files a (valid) configuration file includes, in order."""
    source = compose(
        path.read_text(encoding="utf-8"), str(path), os.environ if env is None else env
    )
    feeds = source.data.get("feeds") if isinstance(source.data, dict) else None
    return [
        path.parent / entry["opml"]
        for entry in feeds or []
        if isinstance(entry, dict) and isinstance(entry.get("opml"), str)
    ]


def load_settings(path: Path, env: Mapping[str, str] | None = None) -> Settings:
    """Read and validate a configuration file (of at most ``MAX_CONFIG_BYTES``)."""
    try:
        with path.open("rb") as file:
            # Read one byte past the cap, never the whole of a huge file.
            data = file.read(MAX_CONFIG_BYTES + 1)
        if len(data) > MAX_CONFIG_BYTES:
            raise ConfigError([f"{path}: {too_large()}"])
        text = data.decode("utf-8")
    except OSError as exc:
        raise ConfigError([f"{path}: cannot read the configuration: {exc.strerror}"]) from None
    except UnicodeDecodeError:
        raise ConfigError([f"{path}: the configuration is not UTF-8 text"]) from None
    return parse_settings(text, str(path), env)


def default_config_path(env: Mapping[str, str] | None = None) -> Path:
    """``$NEWS_MONITOR_CONFIG``, then ``./monitor.yaml``, then ``config/monitor.yaml``."""
    env = os.environ if env is None else env
    if env.get("NEWS_MONITOR_CONFIG"):
        return Path(env["NEWS_MONITOR_CONFIG"])
    for candidate in (Path("monitor.yaml"), Path("config/monitor.yaml")):
        if candidate.exists():
            return candidate
    return Path("monitor.yaml")
