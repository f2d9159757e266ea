"""Secrets out of what people read: URLs shown in logs, errors, summaries and alerts.

Notifier URLs are secrets whole (a Slack webhook's path is its token): they are shown as
``scheme://host/***``. Feed URLs are not secret, but their user info is
(``https://user:password@host/feed``): it is dropped wherever a feed's URL is shown.
"""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit


def mask_url(url: str) -> str:
    """Where a secret URL points, without revealing it: ``https://host/***``."""
    try:
        parts = urlsplit(url)
        host = parts.hostname
    except ValueError:
        return "***"
    if not parts.scheme or not host:
        return "***"
    return f"{parts.scheme}://{host}/***"


def without_userinfo(url: str) -> str:
    """A feed URL fit to show: the same, less any ``user:password@``."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return url.rsplit("@", 1)[-1] if "@" in url else url
    if "@" not in parts.netloc:
        return url
    return urlunsplit(parts._replace(netloc=parts.netloc.rsplit("@", 1)[1]))


def with_userinfo_of(url: str, credentials: str) -> str:
    """``url`` with the user info of ``credentials`` when both name the same origin
    (scheme, host, port) and ``url`` has none of its own: a feed's password reaches the
    sitemaps of its index on its own site, and nothing else."""
    try:
        target, source = urlsplit(url), urlsplit(credentials)
        same = (target.scheme, target.hostname, target.port) == (
            source.scheme,
            source.hostname,
            source.port,
        )
    except ValueError:
        return url
    if not same or "@" in target.netloc or "@" not in source.netloc:
        return url
    userinfo = source.netloc.rsplit("@", 1)[0]
    return urlunsplit(target._replace(netloc=f"{userinfo}@{target.netloc}"))


def database_shown(url: str) -> str:
    """A database URL fit to show: its user, host and database, without a password in
    the user info or in a ``password=`` parameter."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return without_userinfo(url)
    if "@" not in parts.netloc and "password=" not in parts.query.lower():
        return url  # nothing to hide (and sqlite:///PATH keeps its three slashes)
    netloc = parts.netloc
    if "@" in netloc:
        userinfo, host = netloc.rsplit("@", 1)
        netloc = f"{userinfo.split(':', 1)[0]}@{host}"
    query = "&".join(
        "password=***" if pair.lower().startswith("password=") else pair
        for pair in parts.query.split("&")
    )
    return urlunsplit(parts._replace(netloc=netloc, query=query))


def brief(value: object, limit: int = 60) -> str:
    """``repr`` of a configured value cut to ``limit`` characters, for error messages
    (a 50 MB value must not be echoed back)."""
    text = repr(value)
    return text if len(text) <= limit else f"{text[: limit - 5]}…{text[-3:]}"
