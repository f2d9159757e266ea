"""Storage: one ``Store`` written once over each backend's ``Db``, its narrow views
(``protocols``), and the two backends."""

from __future__ import annotations

from monitor.store.base import Store
from monitor.store.errors import LeaseLost, StoreError
from monitor.store.postgres import PostgresStore
from monitor.store.sqlite import SQLiteStore

__all__ = [
    "LeaseLost",
    "PostgresStore",
    "SQLiteStore",
    "Store",
    "StoreError",
]
