"""Stop signals that arrive while the program is still starting.

Importing the daemon's libraries takes a second or more; a SIGTERM in that window would
otherwise kill ``run`` by signal instead of stopping it gracefully with exit 0. This
module imports nothing heavy, so the command installs it first.
"""

from __future__ import annotations

import os
import signal

STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)


class EarlyStop:
    """Remembers a stop signal until someone acts on it."""

    def __init__(self) -> None:
        self.requested: int | None = None

    def remember(self, signum: int = signal.SIGTERM, *_: object) -> None:
        """A signal handler (plain or asyncio) that only takes note."""
        self.requested = signum

    def install(self) -> None:
        """Catch the stop signals from now on."""
        for signum in STOP_SIGNALS:
            signal.signal(signum, self.remember)

    def release(self) -> None:
        """Back to the default handlers, for commands that do not stop gracefully; a
        signal that came meanwhile takes effect now."""
        for signum in STOP_SIGNALS:
            signal.signal(
                signum, signal.default_int_handler if signum == signal.SIGINT else signal.SIG_DFL
            )
        if self.requested is not None:
            os.kill(os.getpid(), self.requested)


EARLY_STOP = EarlyStop()
