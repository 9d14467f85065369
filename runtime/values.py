"""Where a station keeps its configuration values: SQLite by default, or memory.

The device model (2.0.1, 2.1) and the configuration keys (1.6) persist the values the CSMS or
the station's own code set, so they survive a restart; their definitions (data type,
mutability, limits) come from the station's code, not from the store. Keys are opaque strings
chosen by the caller. Writes are committed at once (one small transaction each): a value the
station answered Accepted for is on disk before the answer goes out.
"""

from __future__ import annotations

import sqlite3
import threading
from typing import Protocol

__all__ = ["MemoryValues", "SqliteValues", "ValueStore"]


class ValueStore(Protocol):
    """Durable key -> value storage of configuration values."""

    def load(self) -> dict[str, str]:
        """Every stored value."""
        ...

    def save(self, key: str, value: str) -> None:
        """Store ``value`` under ``key`` durably before returning."""
        ...

    def delete(self, key: str) -> None:
        """Forget ``key`` (no error when absent)."""
        ...


class MemoryValues:
    """Values kept in memory only (tests, stations with no writable storage)."""

    def __init__(self) -> None:
        self._values: dict[str, str] = {}

    def load(self) -> dict[str, str]:
        return dict(self._values)

    def save(self, key: str, value: str) -> None:
        """Keep ``value`` under ``key`` (until the process ends)."""
        self._values[key] = value

    def delete(self, key: str) -> None:
        """Forget ``key`` (no error when absent)."""
        self._values.pop(key, None)


class SqliteValues:
    """Values in one table of a SQLite file (created on first use); the file may be shared
    with the station's message queue.

    Args:
        path: The SQLite file (created when absent; opened in WAL mode).
        table: The table holding the values, created when absent; must be a Python
            identifier (ValueError otherwise), so two stores can share one file.
    """

    def __init__(self, path: str, *, table: str = "ocpp_configuration") -> None:
        if not table.isidentifier():
            raise ValueError(f"table name {table!r} is not an identifier")
        self.path = path
        self.table = table
        self._lock = threading.Lock()
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute(f"CREATE TABLE IF NOT EXISTS {table} (key TEXT PRIMARY KEY, value TEXT NOT NULL)")

    def load(self) -> dict[str, str]:
        with self._lock:
            return {str(k): str(v) for k, v in self._db.execute(f"SELECT key, value FROM {self.table}")}

    def save(self, key: str, value: str) -> None:
        """Store ``value`` under ``key``, committed before returning."""
        with self._lock:
            self._db.execute(f"INSERT OR REPLACE INTO {self.table} (key, value) VALUES (?, ?)", (key, value))

    def delete(self, key: str) -> None:
        """Forget ``key`` (no error when absent), committed before returning."""
        with self._lock:
            self._db.execute(f"DELETE FROM {self.table} WHERE key = ?", (key,))

    def close(self) -> None:
        with self._lock:
            self._db.close()
