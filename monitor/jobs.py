"""What the daemon's periodic jobs say when they fail: once per change, not per tick."""

from __future__ import annotations

import logging

from monitor.store import StoreError

log = logging.getLogger("monitor.daemon")  # said as the daemon's, where operators look


class JobFailures:
    """What the periodic jobs' failures say in the log: one line when a job starts
    failing (or fails differently), one when it works again, nothing in between. A job
    that fails every second through a disk-full or database outage would otherwise
    write a traceback every second. An error that is not the store's (a bug) is logged
    with its traceback, once."""

    def __init__(self) -> None:
        self.failing: dict[str, tuple[str, int]] = {}  # job → (its error, failures since)

    def failed(self, job: str, error: Exception) -> None:
        """A tick of ``job`` raised ``error``."""
        said = f"{type(error).__name__}: {error}"
        before = self.failing.get(job)
        self.failing[job] = (said, 1 if before is None else before[1] + 1)
        if before is not None and before[0] == said:
            return
        if isinstance(error, StoreError):
            log.error("%s: the store cannot be used: %s (said once until it changes)", job, error)
        else:
            log.error("%s failed (said once until it changes)", job, exc_info=error)

    def succeeded(self, job: str) -> None:
        """A tick of ``job`` ran through."""
        before = self.failing.pop(job, None)
        if before is not None:
            log.warning("%s works again, after %s failed run(s)", job, before[1])
