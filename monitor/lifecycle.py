"""``async with`` for things that are opened and closed: the store, the fetcher, the runtime."""

from __future__ import annotations

from types import TracebackType
from typing import Self


class AsyncResource:
    """Opens on ``async with`` entry and closes on exit, whatever happened inside."""

    async def open(self) -> None:
        """Acquire what the resource needs; nothing by default."""

    async def close(self) -> None:
        """Release it; safe to call twice."""

    async def __aenter__(self) -> Self:
        await self.open()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.close()
