"""The values a configuration spells in words: durations (``30s``, ``10m``), sizes
(``15MiB``), http(s) URLs, names, and ``off``; the strict base every section shares."""

from __future__ import annotations

import math
import re
from datetime import timedelta
from typing import Annotated
from urllib.parse import urlsplit

from pydantic import BaseModel, BeforeValidator, ConfigDict

from monitor.redact import brief, without_userinfo

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


def no_limit(value: object) -> object:
    """``off`` (which YAML reads as false) or null: no limit."""
    return None if value is False or value == "off" else value


def off(value: object) -> object:
    """``off`` as False (a feed's own ``max_alert_age: off``)."""
    return False if value == "off" else value


def positive(value: timedelta | None) -> timedelta | None:
    """A duration that must be longer than zero (None passes)."""
    if value is not None and value.total_seconds() <= 0:
        raise ValueError("must be longer than zero")
    return value


def is_http_url(value: str) -> bool:
    """An http(s) URL with a host and a valid port."""
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018 - raises ValueError for a port out of range or not a number
        return parts.scheme in ("http", "https") and bool(parts.hostname)
    except ValueError:
        return False


def http_url(value: str) -> str:
    """``value`` when it is an http(s) URL (ValueError, not echoing user info, when not)."""
    if not is_http_url(value):
        raise ValueError(f"expected an http(s) URL, got {brief(without_userinfo(value))}")
    return value


class Strict(BaseModel):
    """A section: unknown keys are errors, values are frozen."""

    model_config = ConfigDict(extra="forbid", frozen=True)
