"""``async with`` for things that are opened and closed: the store, the fetcher, the runtime."""

from __future__ import annotations

from types import TracebackType
from typing import Self


class AsyncResource:
    """Opens on ``async with`` entry and closes on exit, whatever happened inside.

    When ``open`` itself fails, ``close`` still runs before the error propagates: a
    resource that opened half its parts (a connection, a thread) must not keep the
    process alive after the caller has given up on it.
    """

    async def open(self) -> None:
        """Acquire what the resource needs; nothing by default."""

    async def close(self) -> None:
        """Release it; safe to call twice, and after a failed ``open``."""

    async def __aenter__(self) -> Self:
        try:
            await self.open()
        except BaseException:
            await self.close()
            raise
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.close()
