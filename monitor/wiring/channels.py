"""Notifier settings → the channels the relay sends through: for each ``type:``, how
its notifier is built, its retry schedule and rate limit, and how ``check`` describes
them. A new channel is one entry here and one settings class in ``config.channels``."""

from __future__ import annotations

from collections.abc import Callable, Mapping
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
from monitor.notify.base import Channel, Notifier
from monitor.notify.console import ConsoleNotifier
from monitor.notify.discord import DiscordNotifier
from monitor.notify.ntfy import NtfyNotifier
from monitor.notify.rules import RetrySchedule, TokenBucket
from monitor.notify.slack import SlackNotifier
from monitor.notify.teams import TeamsNotifier
from monitor.notify.webhook import WebhookNotifier

Clock = Callable[[], datetime]


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


def retry_schedule(spec: NotifierSettings) -> RetrySchedule:
    """The notifier's retry schedule."""
    return RetrySchedule(tuple(spec.retry), spec.max_attempts)


def build_channel(spec: NotifierSettings, session: aiohttp.ClientSession, clock: Clock) -> Channel:
    """The notifier with its retry schedule and rate limit."""
    limit = spec.rate_limit
    bucket = None if limit is None else TokenBucket(limit.messages, limit.per, limit.burst)
    return Channel(
        notifier=build_notifier(spec, session, clock),
        retry=retry_schedule(spec),
        bucket=bucket,
        settings_key=spec.settings_key(),
    )


def build_channels(
    notifiers: Mapping[str, NotifierSettings], session: aiohttp.ClientSession, clock: Clock
) -> dict[str, Channel]:
    """Every notifier by name, with its retry schedule and rate limit."""
    return {name: build_channel(spec, session, clock) for name, spec in notifiers.items()}


def describe_policy(spec: NotifierSettings) -> str:
    """``retry 8 attempts over 17h35m · 1/1s, burst 3``: what ``check`` prints."""
    schedule = retry_schedule(spec)
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
