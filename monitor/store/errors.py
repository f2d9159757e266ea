"""Only StoreError leaves a store: each backend names its driver's errors and how its
database is shown, and one decorator (or one context manager) translates the rest into
a StoreError that says which database and why."""

from __future__ import annotations

import functools
from collections.abc import Callable, Coroutine, Iterator
from contextlib import contextmanager
from typing import Any, ClassVar, Concatenate, ParamSpec, Protocol, TypeVar


class StoreError(Exception):
    """The store cannot be opened or used; the message says which and why.

    It is the only exception that leaves a store: callers never see a driver's own.
    """


class LeaseLost(StoreError):
    """A write that finishes claimed work came from an instance that no longer holds the
    claim (its lease ran out and another instance took the work): it is refused."""


def reason_of(error: BaseException) -> str:
    """A driver's or the system's error as a store message says it (an OSError by its
    strerror: "No space left on device", not "[Errno 28] …")."""
    if isinstance(error, OSError):
        return error.strerror or str(error)
    return str(error) or type(error).__name__


class Translating(Protocol):
    """A store as the translation sees it."""

    # What the driver raises (and what else a failing database shows up as).
    driver_errors: ClassVar[tuple[type[BaseException], ...]]

    @property
    def shown(self) -> str:
        """The database as errors name it (a path, or a URL without its password)."""


Store_ = TypeVar("Store_", bound=Translating)
Params = ParamSpec("Params")
Result = TypeVar("Result")


@contextmanager
def translated_errors(store: Translating) -> Iterator[None]:
    """Let only StoreError leave the block."""
    try:
        yield
    except store.driver_errors as error:
        raise StoreError(f"database {store.shown}: {reason_of(error)}") from error


def translated(
    method: Callable[Concatenate[Store_, Params], Coroutine[Any, Any, Result]],
) -> Callable[Concatenate[Store_, Params], Coroutine[Any, Any, Result]]:
    """Let only StoreError leave a store method."""

    @functools.wraps(method)
    async def wrapper(store: Store_, /, *args: Params.args, **kwargs: Params.kwargs) -> Result:
        with translated_errors(store):
            return await method(store, *args, **kwargs)

    return wrapper
