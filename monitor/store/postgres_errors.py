"""What PostgreSQL's driver raises, and what its command statuses say."""

from __future__ import annotations

import asyncpg

# asyncpg's own errors are not all under one base: InternalClientError (a connection
# left mid-operation, e.g. when the server ended it) stands apart.
DRIVER_ERRORS = (
    asyncpg.PostgresError,
    asyncpg.InterfaceError,
    asyncpg.InternalClientError,
    OSError,
    TimeoutError,
)


def rows_changed(status: str) -> int:
    """The row count of a command status such as ``UPDATE 3`` or ``INSERT 0 1`` (0 for
    one that counts none, such as ``SAVEPOINT``)."""
    count = status.rsplit(" ", 1)[-1]
    return int(count) if count.isdigit() else 0
