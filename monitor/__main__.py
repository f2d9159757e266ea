"""``python -m monitor`` is the ``news-monitor`` command."""

from monitor.cli import main

# The guard matters: worker processes are spawned, and a spawned child imports the
# parent's main module.
if __name__ == "__main__":
    raise SystemExit(main())
