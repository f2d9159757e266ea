"""SQL written once for both backends: ``?`` placeholders and what both dialects read
(``TRUE``, ``ON CONFLICT``). Each backend hands these queries a ``Db`` over a connection
of its own (in a transaction for writes), numbering the placeholders where its driver
wants that, and a ``Dialect`` for the few things the two spell differently (a list
parameter, a capped lookup per key, bulk inserts, ids, the story lock). The items and
stories, the subscriptions and the parts of sitemap indexes are kept this way.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from monitor.store.rows import Row


class Db(Protocol):
    """What the portable queries need of one backend's connection."""

    @property
    def dialect(self) -> str:
        """``sqlite`` or ``postgresql``."""

    async def fetch(self, sql: str, *args: object) -> Sequence[Row]:
        """Rows of a query."""

    async def execute(self, sql: str, *args: object) -> int:
        """Run a statement; how many rows it changed."""

    async def execute_each(self, sql: str, rows: Sequence[Sequence[object]]) -> int:
        """Run a statement once per row of parameters; how many rows it changed in all."""

    async def insert_rows(
        self, table: str, columns: Sequence[str], rows: Sequence[Sequence[object]]
    ) -> None:
        """Insert many rows at once (COPY where the backend has it)."""

    async def reserve_ids(self, table: str, count: int) -> list[int]:
        """``count`` fresh ids for a table's rows (unused ones may leave gaps)."""

    async def lock_stories(self) -> None:
        """Hold story resolution for this transaction: whoever resolves next sees what it
        writes (SQLite's one writer holds it already)."""

    def any_of(self, column: str) -> str:
        """``column`` equal to any value of one list parameter (see ``as_list``)."""

    def as_list(self, values: Sequence[int] | Sequence[str]) -> object:
        """A list of values as the parameter ``any_of`` reads."""
