"""``python -m monitor`` and the ``news-monitor`` command."""

from __future__ import annotations

from monitor.early_stop import EARLY_STOP


def entry() -> int:
    """Catch stop signals first, then import the (slow to import) command line."""
    EARLY_STOP.install()
    from monitor.cli import main

    return main()


# The guard matters: worker processes are spawned, and a spawned child imports the
# parent's main module.
if __name__ == "__main__":
    raise SystemExit(entry())
