"""The notifier registry: for each ``type:``, how to build its channel and describe it.

The configuration validates the settings, the runtime builds channels from here, and
``check`` describes them from here, so a new channel is one entry, not three edits.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import aiohttp

from monitor.config import (
    AppriseNotifierSettings,
    ConsoleNotifierSettings,
    DiscordNotifierSettings,
    NotifierSettings,
    NtfyNotifierSettings,
    SlackNotifierSettings,
    TeamsNotifierSettings,
    WebhookNotifierSettings,
)
from monitor.notify.base import Notifier
from monitor.notify.console import ConsoleNotifier
from monitor.notify.discord import DiscordNotifier
from monitor.notify.ntfy import NtfyNotifier
from monitor.notify.rules import RetrySchedule, TokenBucket
from monitor.notify.slack import SlackNotifier
from monitor.notify.teams import TeamsNotifier
from monitor.notify.webhook import WebhookNotifier

Clock = Callable[[], datetime]


@dataclass
class Channel:
    """One notifier as the relay drives it: where to send, how to retry, how fast."""

    notifier: Notifier
    retry: RetrySchedule = field(default_factory=RetrySchedule)
    bucket: TokenBucket | None = None
    settings_key: str = ""


def build_notifier(
    spec: NotifierSettings, session: aiohttp.ClientSession, clock: Clock
) -> Notifier:
    """The channel implementation a notifier's settings describe."""
    if isinstance(spec, ConsoleNotifierSettings):
        return ConsoleNotifier()
    url = spec.resolved_url()
    if isinstance(spec, SlackNotifierSettings):
        return SlackNotifier(session, url, spec.timeout, clock)
    if isinstance(spec, WebhookNotifierSettings):
        return WebhookNotifier(session, url, spec.signing_key(), spec.timeout, clock)
    if isinstance(spec, DiscordNotifierSettings):
        return DiscordNotifier(session, url, spec.timeout, clock)
    if isinstance(spec, TeamsNotifierSettings):
        return TeamsNotifier(session, url, spec.timeout, clock)
    if isinstance(spec, AppriseNotifierSettings):
        from monitor.notify.apprise_notifier import AppriseNotifier  # an optional extra

        return AppriseNotifier(url, spec.timeout)
    if isinstance(spec, NtfyNotifierSettings):
        return NtfyNotifier(session, url, spec.timeout, clock, spec.access_token(), spec.priority)
    raise TypeError(f"no notifier for {type(spec).__name__}")


def build_channel(spec: NotifierSettings, session: aiohttp.ClientSession, clock: Clock) -> Channel:
    """The notifier with its retry schedule and rate limit."""
    limit = spec.rate_limit
    bucket = None if limit is None else TokenBucket(limit.messages, limit.per, limit.burst)
    return Channel(
        notifier=build_notifier(spec, session, clock),
        retry=RetrySchedule(tuple(spec.retry), spec.max_attempts),
        bucket=bucket,
        settings_key=spec.settings_key(),
    )


def describe_policy(spec: NotifierSettings) -> str:
    """``retry 8 attempts over 17h35m · 1/1s, burst 3``: what ``check`` prints."""
    schedule = RetrySchedule(tuple(spec.retry), spec.max_attempts)
    span = sum(
        (schedule.delays[min(n, len(schedule.delays) - 1)] for n in range(schedule.attempts - 1)),
        start=timedelta(0),
    )
    hours, rest = divmod(int(span.total_seconds()), 3600)
    text = f"{schedule.attempts} attempt(s) over {hours}h{rest // 60:02d}m"
    limit = spec.rate_limit
    if limit is None:
        return text + " · no rate limit"
    return (
        text
        + f" · at most {limit.messages} per {limit.per.total_seconds():g}s, burst {limit.burst}"
    )
