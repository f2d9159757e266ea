"""The command line as a user runs it, and filesystems a test mounts."""

from __future__ import annotations

import asyncio
import contextlib
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@contextlib.contextmanager
def mounted_tmpfs(folder: Path, size: str, *, read_only: bool = False) -> Iterator[Path]:
    """A real, small filesystem at ``folder`` (needs root; the test skips without it)."""
    folder.mkdir(parents=True, exist_ok=True)
    options = f"size={size}" + (",ro" if read_only else "")
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(folder)],
        capture_output=True,
        check=False,
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.decode().strip()}")
    try:
        yield folder
    finally:
        subprocess.run(["umount", "-l", str(folder)], check=False)


async def cli(*args: str, cwd: Path) -> tuple[int, str, str]:
    """Run ``python -m monitor`` as a user would, without blocking the test's servers;
    a command that does not exit within two minutes fails the test as hung."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "monitor",
        *args,
        cwd=cwd,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    try:
        out, err = await asyncio.wait_for(process.communicate(), timeout=120)
    except TimeoutError:
        process.kill()
        await process.wait()
        raise AssertionError(f"news-monitor {' '.join(args)} hung") from None
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()
