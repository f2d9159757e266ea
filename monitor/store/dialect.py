"""The small dialect every domain's SQL is written in, once for both backends.

Queries use ``?`` placeholders and what both SQLite and PostgreSQL read (``TRUE``,
``ON CONFLICT``, ``RETURNING``, ``count(*) FILTER``). Each backend hands them a ``Db``
over a connection of its own (in a transaction for writes), numbering the placeholders
where its driver wants that, and spelling the few things the two write differently: a
list parameter, the larger of two values, a claim that skips rows other instances hold,
bulk inserts, fresh ids, and the transaction locks.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal, Protocol

from monitor.store.rows import Row

#: What a transaction may hold while it writes: story resolution (whoever resolves next
#: sees what it writes) and the configuration sync (instances starting together take
#: turns). SQLite's one writer holds both already.
Lock = Literal["stories", "feeds"]


class Db(Protocol):
    """What the domains' queries need of one backend's connection."""

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

    async def hold(self, lock: Lock) -> None:
        """Hold ``lock`` until this transaction ends."""

    def any_of(self, column: str) -> str:
        """``column`` equal to any value of one list parameter (see ``as_list``)."""

    def as_list(self, values: Sequence[int] | Sequence[str]) -> object:
        """A list of values as the parameter ``any_of`` reads."""

    def greatest(self, first: str, second: str) -> str:
        """The larger of two SQL expressions."""

    def fraction(self, expression: str) -> str:
        """The fractional part of a non-negative SQL expression."""

    @property
    def skip_locked(self) -> str:
        """What a claim's SELECT ends with so that it skips, and does not wait for, rows
        another transaction holds (nothing where one writer holds the whole database)."""
