"""The registry: how application code reaches stations' sessions, and where sessions live.

    session = await server.registry.wait_for("CS-1", timeout=30, registered=True)
    station = server.registry.client("CS-1", v201.csms.BINDING)    # ChargingStationClient
    await station.reset(ResetRequest(type=ResetEnumType.Immediate))

    async with server.registry.events() as events:                 # every station's lifecycle
        async for event in events:
            print(event.kind, event.identity)

``Registry`` is the interface; ``LocalRegistry`` serves one process (the default of
``CsmsServer``), a Redis-backed one spans processes and nodes with the same interface.
Identities are compared case-insensitively (``canonical_identity``).

Sessions are kept while their station is connected and for ``session_ttl`` seconds after it
disconnects, so a reconnect continues the session (registration, 2.1 answer cache, state). A
``SessionStore`` keeps them across restarts of the CSMS: the registry loads a session when its
station first connects and saves it when its registration changes and when it disconnects.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sqlite3
import time
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any, Literal, Protocol, TypeVar

import msgspec

from .errors import NotConnected
from .loop import end_tasks
from .routing import RoleBinding
from .session import Session, SessionState, canonical_identity

__all__ = ["LocalRegistry", "Registry", "SessionStore", "SqliteSessionStore", "StationEvent"]

C = TypeVar("C")
log = logging.getLogger("ocppgen")


class StationEvent(msgspec.Struct, frozen=True, kw_only=True):
    """A station's lifecycle as the registry sees it.

    ``kind``: ``connected`` (a connection was attached), ``registered`` (its BootNotification
    was Accepted), ``disconnected`` (its connection ended; ``code`` and ``reason`` of the
    close, ``replaced`` when a new connection of the same station took over), ``security``
    (what the CSMS detected: ``reason`` is ``authentication_failed``, ``profile_downgrade`` or
    ``serial_mismatch``, with details in ``detail``; the CSMS never sends a
    SecurityEventNotification itself, it tells the application). ``identity``: the station's,
    as it presented itself; ``version``: its OCPP version (None before one was agreed);
    ``remote_address``: its address as text, when known.
    """

    kind: Literal["connected", "registered", "disconnected", "security"]
    identity: str
    version: str | None
    remote_address: str | None = None
    code: int | None = None
    reason: str = ""
    replaced: bool = False
    detail: str = ""


class Registry(Protocol):
    """What application code uses to reach stations, whichever registry serves it."""

    def session(self, identity: str) -> Session | None:
        """The session of the station ``identity`` (connected or remembered), or None."""
        ...

    def sessions(self) -> list[Session]:
        """Every session the registry holds."""
        ...

    def client(self, identity: str, binding: RoleBinding[Any, C]) -> C:
        """The typed client of the connected station ``identity`` for ``binding`` (the CSMS
        binding of its version); NotConnected if it is connected nowhere, VersionMismatch if it
        speaks another version."""
        ...

    async def wait_for(self, identity: str, *, timeout: float | None = None, registered: bool = False) -> Session:
        """Wait until the station ``identity`` is connected (and with ``registered``,
        Accepted); ``timeout`` in seconds (None: for ever) raises TimeoutError."""
        ...

    def events(self) -> contextlib.AbstractAsyncContextManager[AsyncIterator[StationEvent]]:
        """Subscribe to every station's lifecycle events."""
        ...

    def __contains__(self, identity: object) -> bool:
        """Whether the station is connected now."""
        ...


class SessionStore(Protocol):
    """Persistent session state (CSMS side), so registrations survive a restart."""

    async def load(self, key: str) -> SessionState | None:
        """The state saved under ``key`` (a canonical identity), or None."""
        ...

    async def save(self, key: str, state: SessionState) -> None:
        """Save ``state`` under ``key``, replacing what was there."""
        ...

    async def delete(self, key: str) -> None:
        """Forget what is saved under ``key``."""
        ...


class SqliteSessionStore:
    """Sessions in one SQLite file (the registration, the 2.1 answer cache), at ``path``."""

    def __init__(self, path: str) -> None:
        self.db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("CREATE TABLE IF NOT EXISTS sessions (key TEXT PRIMARY KEY, state BLOB NOT NULL, updated REAL NOT NULL)")

    async def load(self, key: str) -> SessionState | None:
        """The state saved under ``key``, or None."""
        row = self.db.execute("SELECT state FROM sessions WHERE key = ?", (key,)).fetchone()
        return None if row is None else msgspec.msgpack.decode(row[0], type=SessionState)

    async def save(self, key: str, state: SessionState) -> None:
        """Save ``state`` under ``key``."""
        self.db.execute(
            "INSERT INTO sessions (key, state, updated) VALUES (?,?,?) "
            "ON CONFLICT(key) DO UPDATE SET state = excluded.state, updated = excluded.updated",
            (key, msgspec.msgpack.encode(state), time.time()),
        )

    async def delete(self, key: str) -> None:
        """Forget ``key``."""
        self.db.execute("DELETE FROM sessions WHERE key = ?", (key,))

    def close(self) -> None:
        """Close the database."""
        self.db.close()


class _Serial:
    """Runs one station's lifecycle hooks one after the other, in the order they were queued.

    It exists only while the station has hooks to run: once its queue is empty it takes itself
    out of ``hooks`` (the registry's table), so an idle station holds neither this object nor
    its finished task (about 1 KiB per station).
    """

    __slots__ = ("_hooks", "_key", "_queue", "_task")

    def __init__(self, hooks: dict[str, _Serial], key: str) -> None:
        self._hooks = hooks
        self._key = key
        # a list, not an asyncio.Queue: one per station, and an empty Queue holds three deques
        # (about 2 KiB); only this task takes from it
        self._queue: list[Callable[[], Any]] = []
        self._task: asyncio.Task[None] | None = None

    def put(self, hook: Callable[[], Any]) -> None:
        self._queue.append(hook)
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._run())

    async def _run(self) -> None:
        while self._queue:
            hook = self._queue.pop(0)
            try:
                await hook()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("a lifecycle hook failed")
        # nothing left, and nothing can be queued before this returns (no await in between):
        # a hook queued later starts a new _Serial, after this one's hooks
        if self._hooks.get(self._key) is self:
            del self._hooks[self._key]

    async def join(self) -> None:
        if self._task is not None:
            await end_tasks([self._task], cancel=False)


class LocalRegistry:
    """The sessions of one process (the default registry of ``CsmsServer``).

    Args:
        session_ttl: Seconds a disconnected station's session is kept (None: while the
            process lives).
        store: Where sessions are persisted across restarts (None: memory only).
    """

    def __init__(self, *, session_ttl: float | None = 24 * 3600.0, store: SessionStore | None = None) -> None:
        self.session_ttl = session_ttl
        self.store = store
        self._sessions: dict[str, Session] = {}
        self._gone: dict[str, float] = {}  # key -> when its last connection ended
        self._waiters: dict[str, list[tuple[bool, asyncio.Future[Session]]]] = {}
        self._subscribers: set[asyncio.Queue[StationEvent]] = set()
        self._listeners: list[Callable[[StationEvent], None]] = []
        self._hooks: dict[str, _Serial] = {}  # stations with lifecycle hooks queued or running
        self.dropped_events = 0

    # -- the application's side ---------------------------------------------------------------

    def session(self, identity: str) -> Session | None:
        """The session of the station ``identity`` (connected or remembered), or None."""
        self._expire()
        return self._sessions.get(canonical_identity(identity))

    def sessions(self) -> list[Session]:
        """Every session held: connected, or disconnected within ``session_ttl``."""
        self._expire()
        return list(self._sessions.values())

    def __iter__(self) -> Iterator[Session]:
        return iter(self.sessions())

    def __contains__(self, identity: object) -> bool:
        if not isinstance(identity, str):
            return False
        session = self._sessions.get(canonical_identity(identity))
        return session is not None and session.connected

    def __len__(self) -> int:
        return sum(1 for s in self._sessions.values() if s.connected)

    def client(self, identity: str, binding: RoleBinding[Any, C]) -> C:
        """The typed client of the connected station ``identity`` for ``binding``;
        NotConnected if it is not connected, VersionMismatch if it speaks another version."""
        session = self._sessions.get(canonical_identity(identity))
        if session is None or not session.connected:
            raise NotConnected("-", "-", f"station {identity!r} is not connected")
        return session.client(binding)

    async def wait_for(self, identity: str, *, timeout: float | None = None, registered: bool = False) -> Session:
        """Wait until the station ``identity`` is connected (and with ``registered``,
        Accepted); ``timeout`` in seconds (None: for ever) raises TimeoutError."""
        key = canonical_identity(identity)
        session = self._sessions.get(key)
        if session is not None and session.connected and (session.registered or not registered):
            return session
        future: asyncio.Future[Session] = asyncio.get_running_loop().create_future()
        entry = (registered, future)
        self._waiters.setdefault(key, []).append(entry)
        try:
            return await asyncio.wait_for(future, timeout)
        except asyncio.TimeoutError:
            what = "registered" if registered else "connected"
            raise asyncio.TimeoutError(f"station {identity!r} was not {what} within {timeout} s") from None
        finally:
            waiting = self._waiters.get(key, [])
            if entry in waiting:
                waiting.remove(entry)
            if not waiting:
                self._waiters.pop(key, None)

    @contextlib.asynccontextmanager
    async def events(self, maxsize: int = 10_000) -> AsyncIterator[AsyncIterator[StationEvent]]:
        """``async with registry.events() as events: async for event in events: ...``. A
        subscriber that falls ``maxsize`` events behind loses the oldest (counted in
        ``dropped_events``)."""
        queue: asyncio.Queue[StationEvent] = asyncio.Queue(maxsize)
        self._subscribers.add(queue)

        async def stream() -> AsyncIterator[StationEvent]:
            while True:
                yield await queue.get()

        try:
            yield stream()
        finally:
            self._subscribers.discard(queue)

    def listen(self, callback: Callable[[StationEvent], None]) -> Callable[[], None]:
        """Call ``callback`` with every event (synchronously); returns the unsubscribe call."""
        self._listeners.append(callback)
        return lambda: self._listeners.remove(callback) if callback in self._listeners else None

    # -- the server's side --------------------------------------------------------------------

    async def open(self, identity: str, make: Callable[[str], Session]) -> Session:
        """The session for ``identity``: the one held, one loaded from the store, or a new one
        from ``make(identity)`` (the server's side)."""
        self._expire()
        key = canonical_identity(identity)
        session = self._sessions.get(key)
        if session is None:
            session = make(identity)
            if self.store is not None:
                state = await self.store.load(key)
                if state is not None:
                    session.restore(state)
            # keyed by the session's own key when it is ``key`` (always, for the server's
            # sessions): one string per station, not two equal ones
            session = self._sessions.setdefault(session.key if session.key == key else key, session)
        session.identity = identity
        self._gone.pop(key, None)
        return session

    def connected(self, session: Session, hook: Callable[[], Any] | None) -> None:
        """The server's side: ``session`` got a connection; runs the handler's ``hook`` in order."""
        self._publish(
            StationEvent(kind="connected", identity=session.identity, version=session.version, remote_address=_address(session))
        )
        if hook is not None:
            self._serial(session).put(hook)
        self._resolve(session)

    def registration_changed(self, session: Session, hook: Callable[[], Any] | None) -> None:
        """The server's side: ``session``'s registration changed; saves it, runs ``hook``
        (the handler's ``registered``) when it is now Accepted."""
        if self.store is not None:
            self._spawn_save(session)
        if session.registered:
            self._publish(StationEvent(kind="registered", identity=session.identity, version=session.version))
            if hook is not None:
                self._serial(session).put(hook)
            self._resolve(session)

    def disconnected(
        self, session: Session, code: int | None, reason: str, replaced: bool, hook: Callable[[], Any] | None
    ) -> None:
        """The server's side: ``session``'s connection ended with close ``code`` and
        ``reason`` (``replaced``: by a newer one); saves the session, runs ``hook``."""
        if not session.connected:
            self._gone.pop(session.key, None)  # to the end: _gone stays in disconnect order
            self._gone[session.key] = time.monotonic()
        if self.store is not None:
            self._spawn_save(session)
        self._publish(
            StationEvent(
                kind="disconnected", identity=session.identity, version=session.version, code=code, reason=reason,
                replaced=replaced,
            )
        )
        if hook is not None:
            self._serial(session).put(hook)

    def security(self, identity: str, version: str | None, kind: str, detail: str) -> None:
        """The CSMS detected a security problem with the station ``identity`` (speaking
        ``version``): publishes a ``security`` event with ``kind`` as its reason and ``detail``."""
        self._publish(StationEvent(kind="security", identity=identity, version=version, reason=kind, detail=detail))

    async def security_floor(self, identity: str) -> tuple[int, bool]:
        """(the lowest security profile the station ``identity`` may connect with, whether a
        2.1 downgrade from 3 to 2 is allowed), from the session held or the store."""
        key = canonical_identity(identity)
        session = self._sessions.get(key)
        if session is not None:
            return session.security_floor, session.allow_downgrade
        if self.store is not None:
            state = await self.store.load(key)
            if state is not None:
                return state.security_floor, False
        return 0, False

    async def join_hooks(self) -> None:
        """Wait for queued lifecycle hooks (shutdown)."""
        for serial in list(self._hooks.values()):
            await serial.join()

    def _serial(self, session: Session) -> _Serial:
        serial = self._hooks.get(session.key)
        if serial is None:
            serial = self._hooks[session.key] = _Serial(self._hooks, session.key)
        return serial

    def _spawn_save(self, session: Session) -> None:
        assert self.store is not None
        asyncio.get_running_loop().create_task(self.store.save(session.key, session.snapshot()))

    def _resolve(self, session: Session) -> None:
        for registered, future in list(self._waiters.get(session.key, [])):
            if not future.done() and session.connected and (session.registered or not registered):
                future.set_result(session)

    def _publish(self, event: StationEvent) -> None:
        for queue in self._subscribers:
            if queue.full():
                queue.get_nowait()
                self.dropped_events += 1
            queue.put_nowait(event)
        for listener in list(self._listeners):
            listener(event)

    def _expire(self) -> None:
        if self.session_ttl is None or not self._gone:
            return
        limit = time.monotonic() - self.session_ttl
        # _gone is in disconnect order, oldest first: stop at the first session with time left.
        # (Walking all of it on every call made a reconnection storm quadratic: decision 0019.)
        while self._gone:
            key, since = next(iter(self._gone.items()))
            session = self._sessions.get(key)
            if session is not None and not session.connected:
                if since >= limit:
                    return
                del self._sessions[key]
                self._hooks.pop(key, None)
            del self._gone[key]


def _address(session: Session) -> str | None:
    address = session.remote_address
    if isinstance(address, tuple) and len(address) >= 2:
        return f"{address[0]}:{address[1]}"
    return None if address is None else str(address)

