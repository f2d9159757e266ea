"""``python -m monitor`` is the ``news-monitor`` command."""

from monitor.cli import main

raise SystemExit(main())
