"""SQL written once for both backends: ``?`` placeholders and what both dialects read
(``TRUE``, ``ON CONFLICT``). Each backend hands these queries a ``Db`` over a connection
of its own (in a transaction for writes), numbering the placeholders where its driver
wants that. The subscriptions and the parts of sitemap indexes are kept this way.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from monitor.store.rows import Row


class Db(Protocol):
    """The two calls these queries need, on one backend's connection."""

    async def fetch(self, sql: str, *args: object) -> Sequence[Row]:
        """Rows of a query."""

    async def execute(self, sql: str, *args: object) -> int:
        """Run a statement; how many rows it changed."""
