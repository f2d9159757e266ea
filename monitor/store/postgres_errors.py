"""What a PostgreSQL store method may let out: only StoreError, naming the database
(its URL without the password) and why."""

from __future__ import annotations

import functools
from collections.abc import Callable, Coroutine
from typing import Any, Concatenate, ParamSpec, Protocol, TypeVar

import asyncpg

from monitor.store.base import StoreError, reason_of


class _Named(Protocol):
    name: str


Store_ = TypeVar("Store_", bound=_Named)
Params = ParamSpec("Params")
Result = TypeVar("Result")
# asyncpg's own errors are not all under one base: InternalClientError (a connection
# left mid-operation, e.g. when the server ended it) stands apart.
DRIVER_ERRORS = (
    asyncpg.PostgresError,
    asyncpg.InterfaceError,
    asyncpg.InternalClientError,
    OSError,
    TimeoutError,
)


def translated(
    method: Callable[Concatenate[Store_, Params], Coroutine[Any, Any, Result]],
) -> Callable[Concatenate[Store_, Params], Coroutine[Any, Any, Result]]:
    """Let only StoreError leave a store method, naming the database and the reason."""

    @functools.wraps(method)
    async def wrapper(store: Store_, /, *args: Params.args, **kwargs: Params.kwargs) -> Result:
        try:
            return await method(store, *args, **kwargs)
        except DRIVER_ERRORS as error:
            raise StoreError(f"database {store.name}: {reason_of(error)}") from error

    return wrapper


def rows_changed(status: str) -> int:
    """The row count of a command status such as ``UPDATE 3`` or ``INSERT 0 1``."""
    return int(status.rsplit(" ", 1)[-1])
