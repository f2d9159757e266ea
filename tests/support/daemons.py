"""Real ``news-monitor run`` processes for tests: start, watch the log, signal, clean up."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


class Daemon:
    """A running ``news-monitor run`` with its stderr collected as it comes."""

    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self.process = process
        self.log = ""
        self._reader = asyncio.create_task(self._read())

    async def _read(self) -> None:
        assert self.process.stderr is not None
        async for line in self.process.stderr:
            self.log += line.decode()

    async def wait_for(self, condition: Callable[[], bool], seconds: float = 20) -> None:
        deadline = time.monotonic() + seconds
        while not condition():
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out; daemon log:\n{self.log}")
            await asyncio.sleep(0.05)

    async def stop(self, signum: int = signal.SIGTERM) -> tuple[int, float]:
        started = time.monotonic()
        self.process.send_signal(signum)
        code = await asyncio.wait_for(self.process.wait(), timeout=15)
        await self._reader
        return code, time.monotonic() - started


@dataclass
class Launcher:
    """Starts ``news-monitor run`` processes and kills any a test leaves behind."""

    cwd: Path
    running: list[Daemon] = field(default_factory=list)

    async def start(self, config: Path, *options: str) -> Daemon:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "monitor",
            *options,
            "run",
            "-c",
            str(config),
            cwd=self.cwd,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
        )
        daemon = Daemon(process)
        self.running.append(daemon)
        return daemon


@pytest.fixture
async def launcher(tmp_path: Path) -> AsyncIterator[Launcher]:
    started = Launcher(tmp_path)
    yield started
    for daemon in started.running:
        if daemon.process.returncode is None:
            daemon.process.kill()
            await daemon.process.wait()
