"""The charging station's durable queue for transaction-related messages.

Transaction-related messages (2.x TransactionEvent; 1.6 StartTransaction, StopTransaction and
MeterValues with a transactionId) must not be lost when the link is down or a CALL is not
answered. ``TransactionSender.submit`` stores each one durably (SQLite by default; any
``MessageStore`` will do) before anything is sent, and one sender task delivers them strictly
in order, one at a time:

- a CALLRESULT acknowledges the message; it moves to the store's sent log;
- a CALLERROR or a timeout counts as a failed attempt; the message is retried after
  ``interval * attempts`` seconds (2.x use case E13: MessageAttemptIntervalTransactionEvent;
  1.6: TransactionMessageRetryInterval), up to ``max_attempts`` (MessageAttemptsTransactionEvent
  / TransactionMessageAttempts); after the last attempt it goes to the dead-letter store and an
  event says so, and the next message goes;
- a lost connection is not an attempt: the message waits for the next connection.

A 2.x TransactionEvent submitted while the station is offline gets ``offline = true``.
Killing the process at any point loses nothing: a message is stored before it is sent and
acknowledged only after its CALLRESULT arrived (it may then be delivered twice, so the CSMS
deduplicates, e.g. by transactionId and seqNo; on 2.1 the retry reuses its message id and the
CSMS answers from its cache).
"""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Protocol

import msgspec

from .errors import CallErrorReceived, CallFailure, CallTimeout, ConnectionLost
from .routing import Route

__all__ = ["DeadLetter", "MessageStore", "QueuedMessage", "SqliteStore", "TransactionSender", "is_transaction_related"]


@dataclass(frozen=True)
class QueuedMessage:
    """One stored message: its place in the queue, action, payload and failed attempts."""

    seq: int
    action: str
    message_id: str
    payload: bytes
    attempts: int


@dataclass(frozen=True)
class DeadLetter:
    """A message given up on after its last attempt, and why."""

    message: QueuedMessage
    reason: str


class MessageStore(Protocol):
    """Where queued messages live; must survive a crash once ``put`` returned."""

    def put(self, action: str, message_id: str, payload: bytes) -> int: ...

    def head(self) -> QueuedMessage | None: ...

    def failed_attempt(self, seq: int) -> int: ...

    def acknowledge(self, seq: int) -> None: ...

    def bury(self, seq: int, reason: str) -> None: ...

    def counts(self) -> dict[str, int]: ...


class SqliteStore:
    """The default store: one SQLite file, every change committed before the call returns."""

    def __init__(self, path: str) -> None:
        self.db = sqlite3.connect(path, isolation_level=None)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=FULL")
        self.db.executescript(
            """
            CREATE TABLE IF NOT EXISTS queue (seq INTEGER PRIMARY KEY AUTOINCREMENT, action TEXT NOT NULL,
                message_id TEXT NOT NULL, payload BLOB NOT NULL, attempts INTEGER NOT NULL DEFAULT 0, created REAL NOT NULL);
            CREATE TABLE IF NOT EXISTS sent (seq INTEGER PRIMARY KEY, action TEXT, message_id TEXT, payload BLOB, acked REAL);
            CREATE TABLE IF NOT EXISTS dead (seq INTEGER PRIMARY KEY, action TEXT, message_id TEXT, payload BLOB,
                attempts INTEGER, reason TEXT, buried REAL);
            """
        )

    def put(self, action: str, message_id: str, payload: bytes) -> int:
        cur = self.db.execute(
            "INSERT INTO queue (action, message_id, payload, created) VALUES (?,?,?,?)", (action, message_id, payload, time.time())
        )
        return int(cur.lastrowid or 0)

    def head(self) -> QueuedMessage | None:
        row = self.db.execute("SELECT seq, action, message_id, payload, attempts FROM queue ORDER BY seq LIMIT 1").fetchone()
        return None if row is None else QueuedMessage(row[0], row[1], row[2], bytes(row[3]), row[4])

    def failed_attempt(self, seq: int) -> int:
        self.db.execute("UPDATE queue SET attempts = attempts + 1 WHERE seq = ?", (seq,))
        return int(self.db.execute("SELECT attempts FROM queue WHERE seq = ?", (seq,)).fetchone()[0])

    def acknowledge(self, seq: int) -> None:
        self.db.execute("BEGIN IMMEDIATE")
        self.db.execute("INSERT INTO sent SELECT seq, action, message_id, payload, ? FROM queue WHERE seq = ?", (time.time(), seq))
        self.db.execute("DELETE FROM queue WHERE seq = ?", (seq,))
        self.db.execute("COMMIT")

    def bury(self, seq: int, reason: str) -> None:
        self.db.execute("BEGIN IMMEDIATE")
        self.db.execute(
            "INSERT INTO dead SELECT seq, action, message_id, payload, attempts, ?, ? FROM queue WHERE seq = ?", (reason, time.time(), seq)
        )
        self.db.execute("DELETE FROM queue WHERE seq = ?", (seq,))
        self.db.execute("COMMIT")

    def counts(self) -> dict[str, int]:
        return {t: int(self.db.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0]) for t in ("queue", "sent", "dead")}


def is_transaction_related(action: str, request: Any) -> bool:
    """Whether a station message goes through the durable queue."""
    if action in ("TransactionEvent", "StartTransaction", "StopTransaction"):
        return True
    return action == "MeterValues" and isinstance(getattr(request, "transaction_id", None), int)


class TransactionSender:
    """Delivers stored transaction-related messages in order over whatever connection is up.

    ``connection`` returns the current connection's ``call`` (or None while offline);
    ``routes`` are the version's routes. Call ``wake()`` when a connection comes up.
    """

    def __init__(
        self,
        store: MessageStore,
        routes: Any,
        connection: Callable[[], Any],
        *,
        max_attempts: int = 3,
        interval: float = 60.0,
        call_timeout: float | None = None,
        sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep,
        on_dead_letter: Callable[[DeadLetter], None] | None = None,
        id_factory: Callable[[], str] | None = None,
    ) -> None:
        import uuid

        self.store = store
        self.routes = routes
        self.connection = connection
        self.max_attempts = max_attempts
        self.interval = interval
        self.call_timeout = call_timeout
        self._sleep = sleep
        self.on_dead_letter = on_dead_letter
        self._ids = id_factory or (lambda: str(uuid.uuid4()))
        self._wake = asyncio.Event()
        self.delivered: list[QueuedMessage] = []

    def submit(self, route: Route[Any, Any], request: Any) -> int:
        """Store a message durably (offline 2.x TransactionEvents marked so) and wake the sender."""
        if route.action == "TransactionEvent" and self.connection() is None and hasattr(request, "offline"):
            request = msgspec.structs.replace(request, offline=True)
        payload = route.request_codec.encode(request)
        route.request_codec.decode(payload)  # outbound is validated strictly before it is stored
        seq = self.store.put(route.action, self._ids(), payload)
        self._wake.set()
        return seq

    def wake(self) -> None:
        self._wake.set()

    async def run(self) -> None:
        """Deliver until cancelled."""
        while True:
            self._wake.clear()  # before looking: a submit() after this point wakes the wait below
            item = self.store.head()
            connection = self.connection()
            if item is None or connection is None:
                await self._wake.wait()
                continue
            route = self.routes[item.action]
            request = route.request_codec.decode(item.payload)
            try:
                await connection.call(route, request, self.call_timeout)
            except ConnectionLost:
                continue  # not an attempt: wait for the next connection
            except (CallErrorReceived, CallTimeout, CallFailure) as exc:
                attempts = self.store.failed_attempt(item.seq)
                if attempts >= self.max_attempts:
                    self.store.bury(item.seq, str(exc))
                    if self.on_dead_letter is not None:
                        self.on_dead_letter(DeadLetter(item, str(exc)))
                else:
                    await self._sleep(self.interval * attempts)
                continue
            except ConnectionError:
                await self._wake.wait()  # the connection closed under us; wait for the next one
                continue
            self.store.acknowledge(item.seq)
            self.delivered.append(item)
