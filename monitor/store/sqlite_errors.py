"""What a SQLite store method may let out: only StoreError, naming the file and why."""

from __future__ import annotations

import functools
import sqlite3
from collections.abc import Callable, Coroutine
from typing import Any, Concatenate, ParamSpec, Protocol, TypeVar

from monitor.store.base import StoreError, reason_of


class _OnAFile(Protocol):
    path: str


Store_ = TypeVar("Store_", bound=_OnAFile)
Params = ParamSpec("Params")
Result = TypeVar("Result")


def translated(
    method: Callable[Concatenate[Store_, Params], Coroutine[Any, Any, Result]],
) -> Callable[Concatenate[Store_, Params], Coroutine[Any, Any, Result]]:
    """Let only StoreError leave a store method, naming the database and SQLite's reason."""

    @functools.wraps(method)
    async def wrapper(store: Store_, /, *args: Params.args, **kwargs: Params.kwargs) -> Result:
        try:
            return await method(store, *args, **kwargs)
        except (sqlite3.Error, OSError, ValueError) as error:
            # ValueError: aiosqlite's "no active connection" after a failed close.
            raise StoreError(f"database {store.path}: {reason_of(error)}") from error

    return wrapper
