"""Log output: lines for people (the default) or one JSON object per line for machines.

Lines about a feed carry ``feed_id`` and ``feed_url``, lines about a message carry
``delivery_id``, ``message_id`` and ``notifier`` (passed as ``extra``); the text format
shows them in the message already, the JSON format as fields of their own.
"""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime
from typing import Any

from monitor.redact import without_userinfo

#: The ids a log call may pass as ``extra``, as they appear in JSON lines.
FIELDS = (
    "instance",
    "feed_id",
    "feed_url",
    "delivery_id",
    "message_id",
    "notifier",
    "watchlist",
)
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
# With several instances on one database, each line says which one wrote it.
INSTANCE_TEXT_FORMAT = "%(asctime)s %(levelname)s [%(instance)s] %(name)s: %(message)s"


def feed_ids(feed_id: int, url: str) -> dict[str, Any]:
    """``extra`` for a line about a feed (its URL without user info)."""
    return {"feed_id": feed_id, "feed_url": without_userinfo(url)}


def message_ids(delivery_id: int, message_id: str, notifier: str) -> dict[str, Any]:
    """``extra`` for a line about an outbox message."""
    return {"delivery_id": delivery_id, "message_id": message_id, "notifier": notifier}


class JsonFormatter(logging.Formatter):
    """``{"time", "level", "logger", "message", …ids, "error"}`` on one line."""

    def format(self, record: logging.LogRecord) -> str:
        """One JSON object; an exception's traceback goes in ``error``."""
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for name in FIELDS:
            value = getattr(record, name, None)
            if value is not None:
                line[name] = value
        if record.exc_info:
            line["error"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False)


class _InstanceTag(logging.Filter):
    """Puts the instance id on every record that passes the handler."""

    def __init__(self, instance: str) -> None:
        super().__init__()
        self.instance = instance

    def filter(self, record: logging.LogRecord) -> bool:
        record.instance = self.instance
        return True


def tag_instance(instance: str) -> None:
    """Name this instance on every line from now on (``[host:pid]`` in text, an
    ``instance`` field in JSON)."""
    for handler in logging.getLogger().handlers:
        handler.addFilter(_InstanceTag(instance))
        if not isinstance(handler.formatter, JsonFormatter):
            handler.setFormatter(logging.Formatter(INSTANCE_TEXT_FORMAT))


class _ExpectedSkips(logging.Filter):
    """APScheduler warns each time a tick finds the previous one still running; for the
    daemon's one-second jobs that is expected under load (the dispatch lag metric shows
    it), not a warning per second."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "maximum number of running instances reached" not in record.getMessage()


def configure(level: str, log_format: str) -> None:
    """Send logs to standard error in the chosen format."""
    handler = logging.StreamHandler(sys.stderr)
    if log_format == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter(TEXT_FORMAT))
    handler.addFilter(_ExpectedSkips())
    logging.basicConfig(level=level.upper(), handlers=[handler], force=True)
