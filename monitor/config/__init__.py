"""YAML configuration → typed settings (pydantic v2), with errors as ``file:line key.path``.

``yaml_source`` turns the text into data that remembers its lines (and expands
``${VAR}``); ``units`` reads durations, sizes and URLs; ``schema``, ``feeds``,
``watchlists`` and ``channels`` are the sections; ``checks`` looks across them;
``loading`` reads files and their OPML includes. The settings build nothing:
``monitor.wiring`` turns them into what the daemon runs on.
"""

from __future__ import annotations

from monitor.config.channels import (
    NOTIFIER_TYPES,
    AppriseNotifierSettings,
    ConsoleNotifierSettings,
    DiscordNotifierSettings,
    NotifierSettings,
    NtfyNotifierSettings,
    RateLimit,
    SlackNotifierSettings,
    TeamsNotifierSettings,
    WebhookNotifierSettings,
)
from monitor.config.feeds import FeedFulltext, FeedSettings, HtmlSelectors
from monitor.config.loading import (
    default_config_path,
    included_opml,
    load_settings,
    parse_settings,
)
from monitor.config.schema import (
    ClusterSettings,
    Defaults,
    FulltextSettings,
    HealthSettings,
    HttpSettings,
    Settings,
    StoriesSettings,
    WebSettings,
    WebSubSettings,
)
from monitor.config.units import parse_duration, parse_size
from monitor.config.watchlists import SpreadSettings, WatchlistSettings
from monitor.yaml_source import ConfigError

__all__ = [
    "NOTIFIER_TYPES",
    "AppriseNotifierSettings",
    "ClusterSettings",
    "ConfigError",
    "ConsoleNotifierSettings",
    "Defaults",
    "DiscordNotifierSettings",
    "FeedFulltext",
    "FeedSettings",
    "FulltextSettings",
    "HealthSettings",
    "HtmlSelectors",
    "HttpSettings",
    "NotifierSettings",
    "NtfyNotifierSettings",
    "RateLimit",
    "Settings",
    "SlackNotifierSettings",
    "SpreadSettings",
    "StoriesSettings",
    "TeamsNotifierSettings",
    "WatchlistSettings",
    "WebSettings",
    "WebSubSettings",
    "WebhookNotifierSettings",
    "default_config_path",
    "included_opml",
    "load_settings",
    "parse_duration",
    "parse_settings",
    "parse_size",
]
