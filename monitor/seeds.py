"""The stored sample: news items loaded as already known, so re-posts never alert.

A seed file is JSON: ``{"items": [{"id", "title", "text", "link"?, "published"?}]}``.
"""

from __future__ import annotations

import asyncio
import json
from datetime import datetime
from pathlib import Path

from monitor.dedupe import identify
from monitor.models import Item
from monitor.store.protocols import Seeds

SEED_SOURCE = "seed:local"


class SeedError(Exception):
    """A seed file that cannot be read; the message names the file."""


def default_seed_dir() -> Path | None:
    """Seeds shipped in the wheel, else the ``seeds/`` folder of a source checkout."""
    package = Path(__file__).resolve().parent
    for candidate in (package / "_seeds", package.parent / "seeds"):
        if candidate.is_dir():
            return candidate
    return None


def read_seed_file(path: Path) -> list[Item]:
    """Items of one seed file, with their identity keys."""
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
        entries = document["items"]
        items = [
            Item(
                entry_key=str(entry["id"]),
                guid=None,
                title=str(entry["title"]),
                link=entry.get("link"),
                summary="",
                content=str(entry["text"]),
                published=(
                    datetime.fromisoformat(entry["published"]) if entry.get("published") else None
                ),
                language=entry.get("language"),
            )
            for entry in entries
        ]
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise SeedError(f"{path}: not a seed file ({type(error).__name__}: {error})") from None
    return identify(items)


def read_seed_folder(folder: Path) -> list[Item]:
    """Items of every ``*.json`` seed file in a folder, in name order."""
    return [item for path in sorted(folder.glob("*.json")) for item in read_seed_file(path)]


async def load_seeds(store: Seeds, folder: Path, now: datetime) -> int:
    """Load a seed folder as already-known items; how many were new."""
    items = await asyncio.to_thread(read_seed_folder, folder)
    return await store.load_seed(SEED_SOURCE, items, now)
