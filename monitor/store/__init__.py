"""Storage: one abstract ``Store`` contract and its backends."""

from __future__ import annotations

from monitor.config import Settings
from monitor.store.base import Store, StoreError
from monitor.store.sqlite import SQLiteStore

__all__ = ["SQLiteStore", "Store", "StoreError", "open_store"]


def open_store(settings: Settings) -> Store:
    """The backend that ``storage:`` names (not yet opened)."""
    return SQLiteStore(settings.sqlite_path())
