"""The charging station's durable queue for transaction-related messages.

Transaction-related messages (2.x TransactionEvent; 1.6 StartTransaction, StopTransaction and
MeterValues with a transactionId) must not be lost when the link is down or a CALL is not
answered. ``TransactionSender.submit`` stores each one durably (SQLite by default; any
``MessageStore`` will do) before anything is sent, and the sender delivers them strictly
in order, one at a time, once the station is connected and its BootNotification Accepted
(2.x B01.FR.08, B02.FR.02; 1.6 section 4.2: no cached message goes out before that).
Other messages a station must not lose (critical SecurityEventNotifications, A04.FR.02) are
stored the same way but go in a lane of their own (``Lane``): each lane is in order, and a
message being retried in one lane never holds back the other.

- a CALLRESULT acknowledges the message; it moves to the store's sent log;
- a CALLERROR, a timeout or an invalid answer counts as a failed attempt; the message is
  retried after ``interval * attempts`` seconds (2.x use case E13:
  MessageAttemptIntervalTransactionEvent; 1.6: TransactionMessageRetryInterval), up to
  ``max_attempts`` (MessageAttemptsTransactionEvent / TransactionMessageAttempts); after the
  last attempt it goes to the dead-letter store and ``on_dead_letter`` says so, and the next
  message goes;
- a lost connection is not an attempt: the message waits for the next connection;
- a local hindrance (the connection's CALL queue full, the connection closing under it) is
  retried shortly; nothing ends the sender while the station runs.

Message ids: on 2.1 every attempt of a message reuses the id it got when it was stored, so a
CSMS that handled it before answers from its cache (Part 4 2.1 section 4.1.4); 2.0.1 and 1.6
forbid reusing an id (2.0.1 section 4.1.4), so each attempt gets a new one.

1.6 transaction ids: the CSMS assigns a transaction's id in StartTransaction.conf (OCPP 1.6
edition 2 sections 3.7, 4.8, 4.10). A MeterValues or StopTransaction submitted before that
answer arrived names its StartTransaction (``submit(..., start=seq)``, the number ``submit``
returned for the StartTransaction); when it is delivered it carries the id the CSMS assigned,
also after a restart (the assignment is stored).

A 2.x TransactionEvent submitted while the station is offline gets ``offline = true``.
Killing the process at any point loses nothing: a message is stored before it is sent and
acknowledged only after its CALLRESULT arrived (it may then be delivered twice, so the CSMS
deduplicates, e.g. by transactionId and seqNo; on 2.1 the retry reuses its message id and the
CSMS answers from its cache).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sqlite3
import time
import uuid
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Generic, Literal, Protocol, TypeVar

import msgspec

from .errors import CallFailure, ConnectionLost, DeadLettered, InvalidMessage, LocalError, NotAllowed, NotConnected, QueueFull
from .protocol import encode_payload
from .routing import Role, Route

if TYPE_CHECKING:
    from .connection import Connection

log = logging.getLogger("ocppgen")

__all__ = ["LANES", "TRANSACTION_ACTIONS", "DeadLetter", "Delivered", "Lane", "MessageStore", "Queued", "QueuedMessage", "SqliteStore", "TransactionSender", "is_transaction_related"]


Lane = Literal["transactions", "other"]
"""The queue's two lanes, each delivered in order and independently of the other: the transaction
messages (2.x E, 1.6 §4.7/4.8/4.10: their order matters and their retries follow
TransactionMessageAttempts/Interval), and everything else a station queues durably (critical
SecurityEventNotifications, A04.FR.02). A message of one lane never waits behind the other's retries."""

TRANSACTION_ACTIONS: tuple[str, ...] = ("TransactionEvent", "StartTransaction", "StopTransaction", "MeterValues")
LANES: tuple[Lane, ...] = ("transactions", "other")
OUTCOMES = 1024  # resolved delivery outcomes kept for a late waiter (TransactionSender.outcome)


@dataclass(frozen=True)
class QueuedMessage:
    """One stored message.

    Attributes:
        seq: Its sequence number: its place in the queue, returned by ``submit``.
        action: Its action (``TransactionEvent``).
        message_id: The message id it got when stored (reused by every attempt on 2.1).
        payload: The encoded request, validated before it was stored.
        attempts: Failed attempts so far.
        start: 1.6: the sequence number of the StartTransaction this message belongs to.
    """

    seq: int
    action: str
    message_id: str
    payload: bytes
    attempts: int
    start: int | None = None  # 1.6: the StartTransaction this message belongs to


Resp = TypeVar("Resp")


class Queued(int, Generic[Resp]):
    """The sequence number ``submit`` returned, typed with the response its message will get
    (``StationClient.response(queued)`` awaits it). It is an ``int``: pass it as ``start=``."""

    __slots__ = ()


@dataclass(frozen=True)
class Delivered:
    """A queued ``message`` and the ``response`` (typed) of the CALLRESULT that acknowledged it
    (``on_delivered``)."""

    message: QueuedMessage
    response: msgspec.Struct


@dataclass(frozen=True)
class DeadLetter:
    """A ``message`` given up on after its last attempt, and the ``reason`` (the last failure)."""

    message: QueuedMessage
    reason: str


class MessageStore(Protocol):
    """Where queued messages live; must survive a crash once ``put`` returned."""

    def put(self, action: str, message_id: str, payload: bytes, start: int | None = None) -> int:
        """Store a message (``action``, ``message_id``, encoded ``payload``; 1.6: ``start``, the
        sequence number of its StartTransaction) at the end of the queue; returns its sequence
        number."""
        ...

    def head(self, lane: Lane | None = None) -> QueuedMessage | None:
        """The oldest message still queued, or None; of ``lane`` only when given (its action in
        TRANSACTION_ACTIONS or not)."""
        ...

    def failed_attempt(self, seq: int) -> int:
        """Count a failed attempt of message ``seq``; returns its attempts so far."""
        ...

    def acknowledge(self, seq: int) -> None:
        """Message ``seq`` got its CALLRESULT: move it to the sent log."""
        ...

    def bury(self, seq: int, reason: str) -> None:
        """Give up on message ``seq``: move it to the dead letters with ``reason``."""
        ...

    def counts(self) -> dict[str, int]:
        """How many messages are queued, sent and dead: ``{"queue": n, "sent": n, "dead": n}``."""
        ...

    def assign_transaction(self, start: int, transaction_id: int) -> None:
        """1.6: the CSMS assigned ``transaction_id`` to the StartTransaction stored as ``start``."""
        ...

    def transaction_id(self, start: int) -> int | None:
        """1.6: the transactionId assigned to the StartTransaction stored as ``start``, if any."""
        ...

    def known(self, seq: int) -> bool:
        """Whether message ``seq`` is queued, sent or dead."""
        ...


class SqliteStore:
    """The default store: one SQLite file at ``path``, every change committed before the call
    returns. The methods are those of ``MessageStore``."""

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
            CREATE TABLE IF NOT EXISTS transaction_ids (start INTEGER PRIMARY KEY, transaction_id INTEGER NOT NULL);
            """
        )
        columns = {row[1] for row in self.db.execute("PRAGMA table_info(queue)")}
        if "start" not in columns:  # a file written by ocppgen 0.1
            self.db.execute("ALTER TABLE queue ADD COLUMN start INTEGER")

    def put(self, action: str, message_id: str, payload: bytes, start: int | None = None) -> int:
        """Store ``payload`` of ``action`` with ``message_id`` (and 1.6 ``start``); returns its number."""
        cur = self.db.execute(
            "INSERT INTO queue (action, message_id, payload, created, start) VALUES (?,?,?,?,?)",
            (action, message_id, payload, time.time(), start),
        )
        return int(cur.lastrowid or 0)

    def head(self, lane: Lane | None = None) -> QueuedMessage | None:
        """The oldest queued message (of ``lane``, when given), or None."""
        where = "" if lane is None else "WHERE action {} IN ({})".format(
            "" if lane == "transactions" else "NOT", ",".join("?" * len(TRANSACTION_ACTIONS))
        )
        row = self.db.execute(
            f"SELECT seq, action, message_id, payload, attempts, start FROM queue {where} ORDER BY seq LIMIT 1",
            () if lane is None else TRANSACTION_ACTIONS,
        ).fetchone()
        return None if row is None else QueuedMessage(row[0], row[1], row[2], bytes(row[3]), row[4], row[5])

    def assign_transaction(self, start: int, transaction_id: int) -> None:
        """1.6: remember ``transaction_id`` for the StartTransaction ``start``."""
        self.db.execute("INSERT OR REPLACE INTO transaction_ids VALUES (?, ?)", (start, transaction_id))

    def transaction_id(self, start: int) -> int | None:
        """1.6: the transactionId of the StartTransaction ``start``, if assigned."""
        row = self.db.execute("SELECT transaction_id FROM transaction_ids WHERE start = ?", (start,)).fetchone()
        return None if row is None else int(row[0])

    def known(self, seq: int) -> bool:
        """Whether message ``seq`` is queued, sent or dead."""
        return any(
            self.db.execute(f"SELECT 1 FROM {table} WHERE seq = ?", (seq,)).fetchone() for table in ("queue", "sent", "dead")
        )

    def failed_attempt(self, seq: int) -> int:
        """Count a failed attempt of message ``seq``; returns its attempts so far."""
        self.db.execute("UPDATE queue SET attempts = attempts + 1 WHERE seq = ?", (seq,))
        return int(self.db.execute("SELECT attempts FROM queue WHERE seq = ?", (seq,)).fetchone()[0])

    def acknowledge(self, seq: int) -> None:
        """Move message ``seq`` to the sent log."""
        self.db.execute("BEGIN IMMEDIATE")
        self.db.execute(
            "INSERT INTO sent (seq, action, message_id, payload, acked) SELECT seq, action, message_id, payload, ? FROM queue "
            "WHERE seq = ?",
            (time.time(), seq),
        )
        self.db.execute("DELETE FROM queue WHERE seq = ?", (seq,))
        self.db.execute("COMMIT")

    def bury(self, seq: int, reason: str) -> None:
        """Move message ``seq`` to the dead letters with ``reason``."""
        self.db.execute("BEGIN IMMEDIATE")
        self.db.execute(
            "INSERT INTO dead (seq, action, message_id, payload, attempts, reason, buried) "
            "SELECT seq, action, message_id, payload, attempts, ?, ? FROM queue WHERE seq = ?",
            (reason, time.time(), seq),
        )
        self.db.execute("DELETE FROM queue WHERE seq = ?", (seq,))
        self.db.execute("COMMIT")

    def counts(self) -> dict[str, int]:
        """Messages queued, sent and dead."""
        return {t: int(self.db.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0]) for t in ("queue", "sent", "dead")}


def is_transaction_related(action: str, request: Any) -> bool:
    """Whether a station message (``request`` of ``action``) goes through the durable queue."""
    if action in ("TransactionEvent", "StartTransaction", "StopTransaction"):
        return True
    return action == "MeterValues" and isinstance(getattr(request, "transaction_id", None), int)


class TransactionSender:
    """Delivers stored messages in order over whatever connection is ready.

    ``ready`` returns the connection to deliver over, or None while there is none or the
    station is not registered; call ``wake()`` whenever that may have changed. ``routes`` are
    the version's routes; ``reuse_ids`` is True on 2.1 (each attempt reuses the stored id).
    ``StationClient`` makes one from its options; you rarely make one yourself.

    Args:
        store: Where the messages live (``MessageStore``).
        max_attempts: Attempts before a message goes to the dead letters.
        interval: Seconds; attempt n waits n times this after a failure.
        call_timeout: Seconds a delivery waits for its answer (None: the connection's).
        sleep: The sleep of the retry waits (injectable for tests).
        on_dead_letter: Called with each ``DeadLetter``.
        id_factory: Makes message ids (UUID4 by default).
        local_retry: Seconds before retrying after a local hindrance (a full CALL queue, a
            closing connection).
        on_delivered: Called with each ``Delivered`` message and its typed response.
    """

    def __init__(
        self,
        store: MessageStore,
        routes: Mapping[str, Route[Any, Any]],
        ready: Callable[[], Connection | None],
        *,
        reuse_ids: bool = False,
        max_attempts: int = 3,
        interval: float = 60.0,
        call_timeout: float | None = None,
        sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep,
        on_dead_letter: Callable[[DeadLetter], None] | None = None,
        id_factory: Callable[[], str] | None = None,
        local_retry: float = 0.2,
        on_delivered: Callable[[Delivered], None] | None = None,
    ) -> None:
        self.store = store
        self.routes = routes
        self.ready = ready
        self.reuse_ids = reuse_ids
        self.max_attempts = max_attempts
        self.interval = interval
        self.call_timeout = call_timeout
        self._sleep = sleep
        self.on_dead_letter = on_dead_letter
        self._ids = id_factory or (lambda: str(uuid.uuid4()))
        self.local_retry = local_retry
        self._wakes: dict[Lane, asyncio.Event] = {lane: asyncio.Event() for lane in LANES}
        self.delivered: list[QueuedMessage] = []
        self.on_delivered = on_delivered
        # outcomes of this process's deliveries, by seq: awaited ones until resolved, the last
        # OUTCOMES resolved ones for a waiter that comes late (bounded: nobody has to await them)
        self._outcomes: OrderedDict[int, asyncio.Future[msgspec.Struct]] = OrderedDict()

    def submit(self, route: Route[Any, Resp], request: Any, *, start: int | None = None) -> Queued[Resp]:
        """Store ``request`` of ``route`` durably (2.x TransactionEvents created offline marked so) and wake
        the sender; returns its sequence number. ``start`` (1.6): the sequence number of the
        StartTransaction whose transactionId this StopTransaction or MeterValues must carry."""
        if Role.CHARGING_STATION not in route.initiators or route.send:
            raise LocalError(f"{route.action} is not a CALL a charging station sends")
        if start is not None:
            if route.action not in ("StopTransaction", "MeterValues") or not hasattr(request, "transaction_id"):
                raise LocalError("start= names the StartTransaction of a 1.6 StopTransaction or MeterValues")
            head = self.store.known(start)
            if not head:
                raise LocalError(f"no queued or sent message #{start}")
        if route.action == "TransactionEvent" and self.ready() is None and hasattr(request, "offline"):
            request = msgspec.structs.replace(request, offline=True)
        payload = encode_payload(route, request, response=False)  # validated strictly before it is stored
        seq = self.store.put(route.action, self._ids(), payload, start)
        self.wake()
        return Queued(seq)

    def outcome(self, seq: int) -> asyncio.Future[msgspec.Struct]:
        """The future of message ``seq``'s delivery in this process: its CALLRESULT's response, or
        DeadLettered. A message delivered by an earlier process (before a restart) resolves only
        through ``on_delivered`` there; await this with a timeout when that can be the case."""
        future = self._outcomes.get(seq)
        if future is None:
            future = self._outcomes[seq] = asyncio.get_running_loop().create_future()
        return future

    def _resolve(self, seq: int, response: msgspec.Struct | None, failure: BaseException | None) -> None:
        future = self._outcomes.get(seq)
        if future is None:
            with contextlib.suppress(RuntimeError):  # no running loop: nobody can await it
                future = self._outcomes[seq] = asyncio.get_running_loop().create_future()
        if future is not None and not future.done():
            if failure is not None:
                future.set_exception(failure)
                future.exception()  # retrieved: a dead letter nobody awaits is not an error to log
            else:
                future.set_result(response)  # type: ignore[arg-type]
        if seq in self._outcomes:
            self._outcomes.move_to_end(seq)
        while len(self._outcomes) > OUTCOMES:  # drop the oldest resolved ones
            oldest = next((k for k, f in self._outcomes.items() if f.done()), None)
            if oldest is None:
                break
            del self._outcomes[oldest]

    def wake(self) -> None:
        for event in self._wakes.values():
            event.set()

    async def run(self) -> None:
        """Deliver until cancelled; nothing else ends it. Each lane (see ``Lane``) has its own
        loop, so a security event being retried never holds back a TransactionEvent, nor the
        reverse; the connection sends their CALLs one at a time (Part 4 §4.1.1)."""
        await asyncio.gather(*(self._run_lane(lane) for lane in LANES))

    async def _run_lane(self, lane: Lane) -> None:
        wake = self._wakes[lane]
        while True:
            wake.clear()  # before looking: a submit() after this point wakes the wait below
            item = self.store.head(lane)
            connection = self.ready()
            if item is None or connection is None or connection.closed:
                await wake.wait()
                continue
            try:
                await self._deliver(item, connection, wake)
            except asyncio.CancelledError:
                raise
            except Exception:  # never fatal: log, wait a little, try again
                log.exception("queue: delivering message #%d failed locally; retrying", item.seq)
                await self._sleep(max(self.local_retry, 1.0))

    async def _deliver(self, item: QueuedMessage, connection: Connection, wake: asyncio.Event) -> None:
        route = self.routes[item.action]
        request = route.request_codec.decode(item.payload)
        if item.start is not None:
            assigned = self.store.transaction_id(item.start)
            if assigned is not None:
                request = msgspec.structs.replace(request, transaction_id=assigned)
            else:
                log.warning("queue: #%d: its StartTransaction #%d got no transactionId; sent as submitted", item.seq, item.start)
        message_id = item.message_id if self.reuse_ids else None
        try:
            response = await connection.call(route, request, self.call_timeout, message_id=message_id)
        except (ConnectionLost, NotConnected):
            return  # not an attempt: wait for the next connection
        except QueueFull:
            await self._sleep(self.local_retry)  # the connection's CALL queue is full: try again shortly
            return
        except NotAllowed as exc:
            log.info("queue: waiting: %s", exc)
            await wake.wait()  # the registration changed under us: wait until it is back
            return
        except (InvalidMessage, LocalError) as exc:
            self._give_up(item, f"cannot be sent: {exc}")  # would fail the same way every time
            return
        except CallFailure as exc:  # CALLERROR, timeout, invalid answer: an attempt
            attempts = self.store.failed_attempt(item.seq)
            if attempts >= self.max_attempts:
                self._give_up(item, str(exc))
            else:
                await self._sleep(self.interval * attempts)
            return
        self.store.acknowledge(item.seq)
        if item.action == "StartTransaction":
            transaction_id = getattr(response, "transaction_id", None)
            if isinstance(transaction_id, int):
                self.store.assign_transaction(item.seq, transaction_id)
        self.delivered.append(item)
        self._resolve(item.seq, response, None)
        if self.on_delivered is not None:
            try:
                self.on_delivered(Delivered(item, response))
            except Exception:  # the application's callback must not stop delivery
                log.exception("queue: on_delivered raised for message #%d", item.seq)

    def _give_up(self, item: QueuedMessage, reason: str) -> None:
        self.store.bury(item.seq, reason)
        log.warning("queue: message #%d (%s) dead-lettered: %s", item.seq, item.action, reason)
        self._resolve(item.seq, None, DeadLettered(item.seq, item.action, reason))
        if self.on_dead_letter is not None:
            self.on_dead_letter(DeadLetter(item, reason))
