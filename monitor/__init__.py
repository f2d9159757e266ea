"""news-monitor: watches news feeds and alerts once when a watched story appears."""

__version__ = "0.1.0"
