"""The monitor's durable state: one schema for SQLite and PostgreSQL (``schema.MIGRATIONS``)."""

from malhug.monitor.store.db import Database, default_store_path, open_store
from malhug.monitor.store.ops import Store

__all__ = ["Database", "Store", "default_store_path", "open_store"]
