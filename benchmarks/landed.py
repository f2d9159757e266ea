"""Another commit's daemon under this checkout's benchmarks: "landed against this" in one
run of one harness.

``landed(rev)`` exports that commit's ``monitor`` package (and its stored sample) from
git into a temporary folder; a benchmark run with ``environment(folder)`` imports that
package ahead of this checkout's, while ``benchmarks`` (absent from the folder) is still
this checkout's. Worker processes inherit the environment, so they run the same code.
The harness must only use what both versions offer (``Runtime``, ``parse_settings``).
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from benchmarks.server import ROOT


def describe(rev: str) -> str:
    """``rev`` as a short commit id (``HEAD`` → ``ec0b4ef``), for tables."""
    found = subprocess.run(
        ["git", "-C", str(ROOT), "rev-parse", "--short", rev],
        capture_output=True,
        text=True,
        check=True,
    )
    return found.stdout.strip()


@contextmanager
def landed(rev: str) -> Iterator[Path]:
    """A folder holding ``rev``'s ``monitor`` package and ``seeds``, for the block."""
    with tempfile.TemporaryDirectory(prefix="landed-") as folder:
        archive = subprocess.run(
            ["git", "-C", str(ROOT), "archive", "--format=tar", rev, "monitor", "seeds"],
            capture_output=True,
            check=True,
        )
        subprocess.run(["tar", "-x", "-C", folder], input=archive.stdout, check=True)
        yield Path(folder)


def environment(folder: Path) -> dict[str, str]:
    """This process's environment with ``folder``'s package first on the path. Run the
    command in ``folder`` too: ``python -m`` puts its working directory first of all,
    and in this checkout that would be this checkout's package."""
    path = os.pathsep.join(filter(None, [str(folder), str(ROOT), os.environ.get("PYTHONPATH")]))
    return {**os.environ, "PYTHONPATH": path}


def run_in(folder: Path, module: str, *args: str) -> None:
    """``python -m module args`` with ``folder``'s ``monitor`` package, after checking
    that it is the one imported (a benchmark of the wrong code would look like noise)."""
    imported = subprocess.run(
        [sys.executable, "-c", "import monitor; print(monitor.__file__)"],
        env=environment(folder),
        cwd=folder,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    if not Path(imported).is_relative_to(folder):
        raise SystemExit(f"the landed commit's package is not the one imported: {imported}")
    subprocess.run(
        [sys.executable, "-m", module, *args], env=environment(folder), cwd=folder, check=True
    )


def run_module(rev: str, module: str, *args: str) -> None:
    """``python -m module args`` on commit ``rev``'s daemon, its output printed here."""
    with landed(rev) as folder:
        run_in(folder, module, *args)
