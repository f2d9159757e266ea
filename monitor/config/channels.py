"""The notifiers' settings: one class per channel, each with its retry schedule and
rate limit, and the secrets (URLs, tokens, signing keys) read from the file or beside it.
Nothing here sends: ``wiring.channels`` builds the notifiers from these."""

from __future__ import annotations

import base64
import binascii
import hashlib
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from pydantic import BeforeValidator, Field, SecretStr, field_validator, model_validator

from monitor.config.units import Duration, Strict, is_http_url, no_limit, positive
from monitor.notify.rules import DEFAULT_RETRY
from monitor.redact import mask_url


def _read_secret_file(path: Path | None) -> SecretStr | None:
    if path is None:
        return None
    try:
        return SecretStr(path.read_text(encoding="utf-8").strip())
    except OSError as exc:
        raise ValueError(f"cannot read {path}: {exc.strerror}") from None


class RateLimit(Strict):
    """At most ``messages`` per ``per``, in bursts of up to ``burst``."""

    messages: int = Field(default=1, ge=1, le=10_000)
    per: Duration = timedelta(seconds=1)
    burst: int = Field(default=1, ge=1, le=10_000)

    _check_per = field_validator("per")(positive)


def _retry_delays(value: list[timedelta]) -> list[timedelta]:
    if not value:
        raise ValueError("list at least one delay, such as [0s, 5s, 5m]")
    if len(value) > 100:
        raise ValueError("at most 100 delays; max_attempts repeats the last one")
    if any(delay.total_seconds() < 0 for delay in value):
        raise ValueError("delays cannot be negative")
    return value


class _Channel(Strict):
    """What every notifier may set: its retry schedule and its rate limit."""

    # Delays before each retry; the last repeats until max_attempts (when set).
    retry: list[Duration] = list(DEFAULT_RETRY)
    max_attempts: int | None = Field(default=None, ge=1, le=10_000)
    rate_limit: Annotated[RateLimit | None, BeforeValidator(no_limit)] = None

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
        if not is_http_url(url):
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
    rate_limit: Annotated[RateLimit | None, BeforeValidator(no_limit)] = RateLimit(burst=3)


class DiscordNotifierSettings(_UrlNotifier):
    """A Discord channel webhook; mentions are never parsed."""

    type: Literal["discord"]
    # Discord's webhook limit is about 30 messages a minute per channel.
    rate_limit: Annotated[RateLimit | None, BeforeValidator(no_limit)] = RateLimit(
        messages=1, per=timedelta(seconds=2), burst=5
    )


class TeamsNotifierSettings(_UrlNotifier):
    """A Microsoft Teams workflow ("Post to a channel when a webhook request is received")."""

    type: Literal["teams"]
    rate_limit: Annotated[RateLimit | None, BeforeValidator(no_limit)] = RateLimit(burst=3)


class NtfyNotifierSettings(_UrlNotifier):
    """An ntfy topic URL (``https://ntfy.sh/my-topic``), with an optional access token."""

    type: Literal["ntfy"]
    token: SecretStr | None = None
    token_file: Path | None = None
    priority: int = Field(default=3, ge=1, le=5)
    # ntfy.sh refills a visitor's 60-message burst at one message per 5 seconds.
    rate_limit: Annotated[RateLimit | None, BeforeValidator(no_limit)] = RateLimit(
        messages=1, per=timedelta(seconds=5), burst=20
    )

    def url_problem(self, url: str) -> str | None:
        """An http(s) URL whose path ends in the topic."""
        if not is_http_url(url):
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
