"""Progress of long commands (``once``, ``seed``, ``feeds import``): a bar on a terminal,
plain lines otherwise (a log file or a pipe gets one line per step, never control codes)."""

from __future__ import annotations

import sys
from types import TracebackType
from typing import TextIO

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)


class Steps:
    """Counts steps of a known total on standard error; a context manager."""

    def __init__(self, label: str, stream: TextIO | None = None) -> None:
        self.label = label
        self.stream = stream or sys.stderr
        self.total = 0
        self.done = 0
        self._bar: Progress | None = None
        self._task: TaskID | None = None

    def __enter__(self) -> Steps:
        if self.stream.isatty():
            self._bar = Progress(
                TextColumn("{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
                console=Console(file=self.stream),
                transient=True,  # the summary that follows says what happened
            )
            self._bar.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        if self._bar is not None:
            self._bar.stop()

    def start(self, total: int) -> None:
        """Say how many steps there are."""
        self.total = total
        if self._bar is not None:
            self._task = self._bar.add_task(self.label, total=total)

    def step(self, what: str) -> None:
        """One step done: ``what`` names it on the plain lines."""
        self.done += 1
        if self._bar is not None and self._task is not None:
            self._bar.advance(self._task)
        else:
            print(f"{self.label} {self.done}/{self.total}: {what}", file=self.stream, flush=True)
