"""The configuration file's sections and the whole of it: ``Settings``."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Annotated
from urllib.parse import urlsplit

from pydantic import BeforeValidator, Field, field_validator

from monitor.config.channels import ConsoleNotifierSettings, NotifierSettings
from monitor.config.feeds import FeedSettings, FulltextMode, fulltext_mode
from monitor.config.units import Duration, Size, Strict, http_url, no_limit, positive
from monitor.config.watchlists import WatchlistSettings
from monitor.redact import brief, without_userinfo


class Defaults(Strict):
    """Values a feed inherits when it does not set its own."""

    interval: Duration = timedelta(minutes=10)
    baseline: bool = True
    # An item first seen longer than this after its publication date is recorded, not
    # alerted: a daemon back from a week away, or a feed dumping its archive, stays quiet.
    max_alert_age: Annotated[Duration | None, BeforeValidator(no_limit)] = timedelta(hours=24)
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
    # When an item's article is read: auto (the feed's text is short), always, or off.
    fulltext: Annotated[FulltextMode, BeforeValidator(fulltext_mode)] = "auto"

    _check_interval = field_validator("interval", "max_alert_age", "max_interval", "max_backoff")(
        positive
    )


class FulltextSettings(Strict):
    """How articles are read (docs/configuration.md: Full text)."""

    # An item waits this long for its article; then it is matched on the feed's text.
    timeout: Duration = timedelta(seconds=20)
    # ``auto`` reads the article of an item whose feed text has fewer words than this.
    short_below: int = Field(default=80, ge=1, le=100_000)
    # An article's text is kept up to this many characters.
    max_text: int = Field(default=200_000, ge=1_000, le=10_000_000)
    # Article fetches ask each host's robots.txt first (the feeds themselves do not).
    robots: bool = True

    _check_timeout = field_validator("timeout")(positive)


class StoriesSettings(Strict):
    """How items are grouped into stories (see docs/stories.md)."""

    similarity: float = Field(default=0.5, gt=0, le=1)
    window: Duration = timedelta(days=14)
    title_window: Duration = timedelta(hours=48)

    _check_windows = field_validator("window", "title_window")(positive)


class HttpSettings(Strict):
    """Limits for fetching feeds."""

    timeout: Duration = timedelta(seconds=20)
    max_body: Size = 15 * 1024**2
    concurrency: int = Field(default=100, ge=1, le=10_000)
    per_host: int = Field(default=4, ge=1, le=1_000)
    allow_private_networks: bool = False
    user_agent: str | None = None
    # At least this long between the starts of two requests to one host (0s: no spacing).
    host_spacing: Duration = timedelta(0)

    _check_timeout = field_validator("timeout")(positive)

    @field_validator("host_spacing")
    @classmethod
    def _check_spacing(cls, value: timedelta) -> timedelta:
        if value.total_seconds() < 0:
            raise ValueError("cannot be negative")
        return value


class HealthSettings(Strict):
    """Where operator notices go (a notifier is gone, …)."""

    notify: list[str] | None = None  # default: every notifier
    # A feed is reported failing after this many failed polls in a row (and once more
    # when it recovers), not once per failure.
    after: int = Field(default=3, ge=1, le=1000)
    # A feed silent this long (and four of its usual gaps) is reported stale, once.
    stale_after: Annotated[Duration | None, BeforeValidator(no_limit)] = timedelta(days=3)


class WebSettings(Strict):
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
        return http_url(value).rstrip("/")

    @field_validator("token")
    @classmethod
    def _check_token(cls, value: str | None) -> str | None:
        if not value:
            return None  # "${NEWS_MONITOR_WEB_TOKEN:-}" unset: no token
        if len(value) < 16:
            raise ValueError("a token needs at least 16 characters")
        return value


class ClusterSettings(Strict):
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


class WebSubSettings(Strict):
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


class Settings(Strict):
    """The whole configuration file."""

    storage: str = "sqlite:///monitor.db"
    defaults: Defaults = Defaults()
    http: HttpSettings = HttpSettings()
    stories: StoriesSettings = StoriesSettings()
    fulltext: FulltextSettings = FulltextSettings()
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
