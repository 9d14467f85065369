"""Sessions in PostgreSQL (``pip install 'ocppgen[postgresql]'``): the ``SessionStore`` that
several CSMS processes share, beside or instead of Redis (decision 0013).

    store = await PostgresSessionStore.connect("postgresql://127.0.0.1:5432/csms")
    server = CsmsServer(ServerOptions(session_store=store))

One table (``table``, created if missing): key, msgpack ``SessionState``, time of the last save.
psycopg 3 is imported when the store connects.
"""

from __future__ import annotations

import re
import time
from typing import TYPE_CHECKING

import msgspec

from .session import SessionState

if TYPE_CHECKING:
    from psycopg import AsyncConnection

__all__ = ["PostgresSessionStore"]

_TABLE = re.compile(r"[a-z_][a-z0-9_]{0,62}\Z")
_state = msgspec.msgpack.Decoder(SessionState)


class PostgresSessionStore:
    """A ``SessionStore`` on one PostgreSQL connection (autocommit; one statement per call)."""

    def __init__(self, connection: AsyncConnection[tuple[object, ...]], table: str = "ocpp_sessions") -> None:
        """A store on ``connection``; ``connect`` opens one and creates the table.

        Args:
            connection: an open psycopg ``AsyncConnection`` in autocommit mode.
            table: the table holding the sessions (created by ``connect``).
        """
        if not _TABLE.match(table):
            raise ValueError(f"{table!r} is not a plain lower-case table name")
        self.connection = connection
        self.table = table

    @classmethod
    async def connect(cls, url: str, table: str = "ocpp_sessions") -> PostgresSessionStore:
        """Connect to ``url`` (``postgresql://host:port/db``) and create the table if missing."""
        from psycopg import AsyncConnection

        connection = await AsyncConnection.connect(url, autocommit=True)
        store = cls(connection, table)
        await connection.execute(
            f"CREATE TABLE IF NOT EXISTS {table} (key TEXT PRIMARY KEY, state BYTEA NOT NULL, updated DOUBLE PRECISION NOT NULL)"
        )
        return store

    async def load(self, key: str) -> SessionState | None:
        """The saved state of a station, or None.

        Args:
            key: the station's canonical identity.
        """
        cursor = await self.connection.execute(f"SELECT state FROM {self.table} WHERE key = %s", (key,))
        row = await cursor.fetchone()
        if row is None:
            return None
        data = row[0]
        assert isinstance(data, bytes | memoryview), type(data)
        return _state.decode(bytes(data))

    async def save(self, key: str, state: SessionState) -> None:
        """Insert or replace a station's state.

        Args:
            key: the station's canonical identity.
            state: its session state.
        """
        await self.connection.execute(
            f"INSERT INTO {self.table} (key, state, updated) VALUES (%s, %s, %s) "
            "ON CONFLICT (key) DO UPDATE SET state = excluded.state, updated = excluded.updated",
            (key, msgspec.msgpack.encode(state), time.time()),
        )

    async def delete(self, key: str) -> None:
        """Forget a station's state.

        Args:
            key: the station's canonical identity.
        """
        await self.connection.execute(f"DELETE FROM {self.table} WHERE key = %s", (key,))

    async def close(self) -> None:
        await self.connection.close()
