"""asyncio and websockets around the protocol core: a connection, a CSMS server, a station client.

This is the only runtime module that imports websockets. It moves messages and runs handlers;
every OCPP-J rule lives in the sans-I/O ``protocol`` module. Inbound CALLs each run in their
own task, so a handler may itself call the peer and await the answer.

    server = CsmsServer([(v201.csms.BINDING, MyCsms201()), (v16.csms.BINDING, MyCsms16())])
    async with server.serve("0.0.0.0", 9000):
        ...
        client = server.registry.client("CS-1")      # the station's typed client, e.g.
        await client.reset(ResetRequest(...))        # ChargingStationClient for 2.0.1

    station = StationClient("ws://csms/ocpp/CS-1", [v201.station.BINDING], MyStation())
    async with station.running():
        await station.connected()
        await station.csms.boot_notification(...)     # CsmsClient
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random as _random
import urllib.parse
from collections import OrderedDict
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

from websockets.asyncio.client import ClientConnection, connect
from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.datastructures import Headers
from websockets.exceptions import ConnectionClosed
from websockets.http11 import Request, Response

from .events import CallCompleted, CallFailed, CallReceived, Dropped, Event, Rejected, SendReceived
from .protocol import OcppProtocol, Strictness
from .queue import DeadLetter, MessageStore, TransactionSender
from .routing import CallContext, CallError, Reply, RoleBinding, Route, invoke
from .security import Authenticator, Credentials, RegistrationGate, parse_basic_auth, redact

__all__ = ["BackOff", "CsmsServer", "OcppConnection", "StationClient", "StationRegistry", "station_id_from_path"]

log = logging.getLogger("ocppgen")
MAX_ID_CHARS = 48  # OCPP 2.x identity: identifierString[48]; 1.6 identities are shorter
ANSWER_CACHE_SIZE = 64  # answers kept per station for 2.1 retries that reuse a message id


def station_id_from_path(path: str) -> str | None:
    """The station identity: the last segment of the URL path, percent-decoded, validated."""
    raw = urllib.parse.urlsplit(path).path.rstrip("/").rsplit("/", 1)[-1]
    try:
        ident = urllib.parse.unquote(raw, errors="strict")
    except UnicodeDecodeError:
        return None
    if not 1 <= len(ident) <= MAX_ID_CHARS or not ident.isprintable() or "/" in ident:
        return None
    return ident


class OcppConnection:
    """One WebSocket speaking one OCPP version as one role; also the ``Caller`` of typed clients."""

    def __init__(
        self,
        websocket: ServerConnection | ClientConnection,
        binding: RoleBinding,
        handler: object,
        station_id: str,
        *,
        call_timeout: float = 30.0,
        strictness: Strictness = Strictness.STRICT,
        on_event: Callable[[OcppConnection, Event], None] | None = None,
        gate: RegistrationGate | None = None,
        log_frames: bool = False,
        handler_timeout: float | None = 30.0,
        max_bad_messages: int | None = None,
        answer_cache: OrderedDict[tuple[str, str], Any] | None = None,
    ) -> None:
        self.websocket = websocket
        self.handler_timeout = handler_timeout
        self.max_bad_messages = max_bad_messages
        self.bad_messages = 0
        self.answer_cache = answer_cache
        self.gate = gate
        self.log_frames = log_frames
        self.binding = binding
        self.handler = handler
        self.station_id = station_id
        self.protocol = OcppProtocol(
            version=binding.version,
            role=binding.role,
            routes=binding.routes,
            handled=binding.handled,
            call_timeout=call_timeout,
            strictness=strictness,
        )
        self.client = binding.peer_client(self)
        self._on_event = on_event
        self._loop = asyncio.get_running_loop()
        self._waiters: dict[str, asyncio.Future[Any]] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._write_lock = asyncio.Lock()
        self._timer: asyncio.TimerHandle | None = None
        self._closed = False

    # -- Caller ---------------------------------------------------------------------------

    async def call(self, route: Route[Any, Any], request: Any, timeout: float | None) -> Any:
        """Send a CALL and wait for its result; raises a CallFailure subclass on failure."""
        if self._closed:
            raise ConnectionError(f"connection to {self.station_id} is closed")
        message_id = self.protocol.call(route, request, self._loop.time(), timeout=timeout)
        if self.gate is not None:
            self.gate.on_outbound(route.action, request)
        future: asyncio.Future[Any] = self._loop.create_future()
        self._waiters[message_id] = future
        await self._flush()
        try:
            return await future
        except asyncio.CancelledError:
            self._apply(self.protocol.cancel(message_id, self._loop.time()))
            await self._flush()
            raise

    async def send(self, route: Route[Any, Any], message: Any) -> None:
        """Send a SEND (2.1); it is never answered."""
        self.protocol.send(route, message, self._loop.time())
        await self._flush()

    # -- running --------------------------------------------------------------------------

    async def run(self) -> None:
        """Read messages until the WebSocket closes; then fail what is pending."""
        try:
            async for message in self.websocket:
                if isinstance(message, bytes):
                    log.warning("%s: binary frame ignored (OCPP-J uses text frames)", self.station_id)
                    continue
                if self.log_frames:
                    log.debug("%s < %s", self.station_id, redact(message))
                self._apply(self.protocol.receive(message, self._loop.time()))
                await self._flush()
        except ConnectionClosed:
            pass
        finally:
            await self._shutdown()

    async def drain(self, timeout: float) -> None:
        """Wait for running handlers (graceful shutdown), at most ``timeout`` seconds."""
        if self._tasks:
            await asyncio.wait(list(self._tasks), timeout=timeout)

    async def close(self, code: int = 1000, reason: str = "") -> None:
        await self.websocket.close(code, reason)

    async def _shutdown(self) -> None:
        self._closed = True
        if self._timer is not None:
            self._timer.cancel()
        self._apply(self.protocol.connection_lost())
        for task in list(self._tasks):
            task.cancel()

    def _apply(self, events: list[Event]) -> None:
        for event in events:
            if isinstance(event, (Rejected, Dropped)):
                self.bad_messages += 1
                if self.max_bad_messages is not None and self.bad_messages > self.max_bad_messages:
                    log.warning("%s: more than %d invalid messages, closing", self.station_id, self.max_bad_messages)
                    self._spawn(self.close(1008, "too many invalid messages"))
            if isinstance(event, (CallReceived, SendReceived)):
                task = self._loop.create_task(self._handle(event))
                self._tasks.add(task)
                task.add_done_callback(self._tasks.discard)
            elif isinstance(event, CallCompleted):
                future = self._waiters.pop(event.message_id, None)
                if future is not None and not future.done():
                    future.set_result(event.response)
            elif isinstance(event, CallFailed):
                future = self._waiters.pop(event.message_id, None)
                if future is not None and not future.done():
                    future.set_exception(event.error)
            if self._on_event is not None:
                self._on_event(self, event)
        self._arm_timer()

    async def _handle(self, event: CallReceived | SendReceived) -> None:
        route = self.protocol.routes[event.action]
        request = event.request if isinstance(event, CallReceived) else event.message
        context = CallContext(
            station_id=self.station_id,
            ocpp_version=self.binding.version,
            message_id=event.message_id,
            connection={"subprotocol": self.binding.subprotocol, "remote_address": self.websocket.remote_address},
        )
        key = (event.action, event.message_id)
        cached = self.answer_cache.get(key) if self.answer_cache is not None else None
        if cached is not None and isinstance(event, CallReceived):
            # 2.1: a retry may reuse the id of a CALL we already answered: answer it again, do not handle it twice
            log.info("%s: %s %s is a retry, answered from cache", self.station_id, event.action, event.message_id)
            outcome: Any = cached
        elif self.gate is not None and isinstance(event, CallReceived) and not self.gate.allows(event.action):
            outcome = CallError("SecurityError", f"{event.action} refused: the station's BootNotification is not accepted yet")
        else:
            try:
                outcome = await asyncio.wait_for(
                    invoke(self.handler, event.handler_method, route, request, context), self.handler_timeout
                )
            except asyncio.TimeoutError:
                log.error("%s: the %s handler did not finish within %s s", self.station_id, event.action, self.handler_timeout)
                outcome = CallError("InternalError", f"{event.action} handler did not answer in time")
            if self.answer_cache is not None and isinstance(event, CallReceived) and isinstance(outcome, Reply):
                self.answer_cache[key] = outcome
                while len(self.answer_cache) > ANSWER_CACHE_SIZE:
                    self.answer_cache.popitem(last=False)
        if self.gate is not None and event.action == "BootNotification" and isinstance(outcome, Reply):
            assert route.response_codec is not None and outcome.payload is not None
            status = route.response_codec.decode(outcome.payload).status
            self.gate.on_boot_response(str(getattr(status, "value", status)))
        if isinstance(event, SendReceived):
            if not isinstance(outcome, Reply):
                log.warning("%s: SEND %s not handled: %s", self.station_id, event.action, outcome.description)
            return
        if self._closed:
            return
        if not isinstance(outcome, Reply):
            log.info("%s: %s answered %s: %s", self.station_id, event.action, outcome.code, outcome.description)
        self.protocol.respond(event.message_id, outcome)
        await self._flush()

    def _arm_timer(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        deadline = self.protocol.next_deadline()
        if deadline is not None and not self._closed:
            self._timer = self._loop.call_at(deadline, self._on_timer)

    def _on_timer(self) -> None:
        self._timer = None
        self._apply(self.protocol.handle_timeout(self._loop.time()))
        self._spawn(self._flush())

    def _spawn(self, coro: Any) -> None:
        task = self._loop.create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _flush(self) -> None:
        async with self._write_lock:  # one writer at a time keeps the frames in order
            for frame in self.protocol.data_to_send():
                if self.log_frames:
                    log.debug("%s > %s", self.station_id, redact(frame))
                try:
                    await self.websocket.send(frame)
                except ConnectionClosed:
                    return
        self._arm_timer()


class StationRegistry:
    """The connected stations of one server process, by identity (the scale-out seam: another
    implementation can reach stations held by other processes)."""

    def __init__(self) -> None:
        self._connections: dict[str, OcppConnection] = {}

    def get(self, station_id: str) -> OcppConnection | None:
        return self._connections.get(station_id)

    def client(self, station_id: str) -> Any:
        """The typed client of a connected station (for its negotiated version)."""
        connection = self._connections.get(station_id)
        if connection is None:
            raise KeyError(f"station {station_id!r} is not connected")
        return connection.client

    def __contains__(self, station_id: object) -> bool:
        return station_id in self._connections

    def __iter__(self) -> Any:
        return iter(list(self._connections))

    def add(self, connection: OcppConnection) -> OcppConnection | None:
        """Register a connection; returns the one it replaces, if any."""
        old = self._connections.get(connection.station_id)
        self._connections[connection.station_id] = connection
        return old

    def remove(self, connection: OcppConnection) -> None:
        if self._connections.get(connection.station_id) is connection:
            del self._connections[connection.station_id]


class CsmsServer:
    """One server for every OCPP version given, in order of preference."""

    def __init__(
        self,
        versions: Sequence[tuple[RoleBinding, object]],
        *,
        default_subprotocol: str | None = None,
        choose_subprotocol: Callable[[str, Sequence[str]], str | None] | None = None,
        registry: StationRegistry | None = None,
        call_timeout: float = 30.0,
        strictness: Strictness = Strictness.STRICT,
        max_size: int = 1 << 20,
        ping_interval: float | None = 20.0,
        compression: str | None = "deflate",
        on_event: Callable[[OcppConnection, Event], None] | None = None,
        registration_gate: bool = True,
        authenticator: Authenticator | None = None,
        log_frames: bool = False,
        handler_timeout: float | None = 30.0,
        max_bad_messages: int | None = None,
    ) -> None:
        self.handler_timeout = handler_timeout
        self.max_bad_messages = max_bad_messages
        self._answers: dict[str, OrderedDict[tuple[str, str], Any]] = {}
        self.registration_gate = registration_gate
        self.authenticator = authenticator
        self.log_frames = log_frames
        self.bindings: dict[str, tuple[RoleBinding, object]] = {b.subprotocol: (b, h) for b, h in versions}
        self.preference = [b.subprotocol for b, _ in versions]
        self.default_subprotocol = default_subprotocol
        self.choose_subprotocol = choose_subprotocol
        self.registry = registry or StationRegistry()
        self.call_timeout = call_timeout
        self.strictness = strictness
        self.max_size = max_size
        self.ping_interval = ping_interval
        self.compression = compression
        self.on_event = on_event
        self._connections: set[OcppConnection] = set()
        self.server: Server | None = None

    def _select(self, connection: ServerConnection, offered: Sequence[str]) -> str | None:
        station = station_id_from_path(connection.request.path) if connection.request else None
        if self.choose_subprotocol is not None and station is not None:
            chosen = self.choose_subprotocol(station, offered)
            if chosen is None or chosen in offered and chosen in self.bindings:
                return chosen
        for candidate in self.preference:
            if candidate in offered:
                return candidate
        return None  # complete the handshake without a subprotocol, then close (Part 4)

    async def _process_request(self, connection: ServerConnection, request: Request) -> Response | None:
        station_id = station_id_from_path(request.path)
        if station_id is None:
            return connection.respond(404, "Unknown or invalid charging station identity\n")
        if self.authenticator is not None:
            transport = connection.transport
            credentials = Credentials(
                station_id=station_id,
                password=parse_basic_auth(request.headers.get("Authorization"), station_id),
                certificate=transport.get_extra_info("peercert") if transport is not None else None,
            )
            if not await self.authenticator(credentials):
                log.warning("%s: authentication failed", station_id)  # never the password
                response = connection.respond(401, "Unauthorized\n")
                response.headers["WWW-Authenticate"] = 'Basic realm="OCPP", charset="UTF-8"'
                return response
        return None

    async def _handler(self, websocket: ServerConnection) -> None:
        station_id = station_id_from_path(websocket.request.path if websocket.request else "")
        subprotocol: str | None = websocket.subprotocol
        offered = websocket.request.headers.get_all("Sec-WebSocket-Protocol") if websocket.request else []
        if subprotocol is None and not offered and self.default_subprotocol in self.bindings:
            subprotocol = self.default_subprotocol
        if station_id is None or subprotocol is None or subprotocol not in self.bindings:
            await websocket.close(1002, "no supported OCPP version offered")
            return
        binding, handler = self.bindings[subprotocol]
        connection = OcppConnection(
            websocket, binding, handler, station_id,
            call_timeout=self.call_timeout, strictness=self.strictness, on_event=self.on_event,
            gate=RegistrationGate(binding.version) if self.registration_gate else None,
            log_frames=self.log_frames,
            handler_timeout=self.handler_timeout,
            max_bad_messages=self.max_bad_messages,
            # kept per station across reconnects: a retry comes on the next connection
            answer_cache=self._answers.setdefault(station_id, OrderedDict()) if binding.version == "2.1" else None,
        )
        old = self.registry.add(connection)
        if old is not None:  # decision 0006: the new connection replaces the old one
            log.info("%s: new connection replaces the previous one", station_id)
            await old.close(1000, "replaced by a new connection")
        self._connections.add(connection)
        try:
            await connection.run()
        finally:
            self._connections.discard(connection)
            self.registry.remove(connection)

    @contextlib.asynccontextmanager
    async def serve(self, host: str, port: int, **kwargs: Any) -> AsyncIterator[Server]:
        """Serve until the block exits, then shut down gracefully (see ``stop``)."""
        self.server = await serve(
            self._handler,
            host,
            port,
            subprotocols=list(self.bindings),  # type: ignore[arg-type]
            select_subprotocol=self._select,  # type: ignore[arg-type]
            process_request=self._process_request,
            max_size=self.max_size,
            ping_interval=self.ping_interval,
            compression=self.compression,
            **kwargs,
        )
        try:
            yield self.server
        finally:
            await self.stop()

    async def stop(self, drain_timeout: float = 5.0) -> None:
        """Stop accepting, let running handlers finish (up to ``drain_timeout``), close all."""
        if self.server is None:
            return
        self.server.close(close_connections=False)
        await asyncio.gather(*(c.drain(drain_timeout) for c in list(self._connections)))
        for connection in list(self._connections):
            await connection.close(1001, "server shutting down")
        await self.server.wait_closed()
        self.server = None


@dataclass(frozen=True)
class BackOff:
    """Reconnect back-off of OCPP-J Part 4: RetryBackOffWaitMinimum, RetryBackOffRandomRange,
    RetryBackOffRepeatTimes (2.x OCPPCommCtrlr variables)."""

    wait_minimum: float = 10.0
    random_range: float = 10.0
    repeat_times: int = 5

    def delay(self, attempt: int, random: Callable[[], float]) -> float:
        """Seconds to wait before reconnection attempt ``attempt`` (0 = the first)."""
        doublings = min(attempt, self.repeat_times)
        return float(self.wait_minimum * 2**doublings + random() * self.random_range)


class StationClient:
    """A charging station's connection to its CSMS, reconnecting with back-off."""

    def __init__(
        self,
        url: str,
        versions: Sequence[RoleBinding],
        handler: object,
        *,
        basic_auth: tuple[str, str] | None = None,
        ssl: Any = None,
        backoff: BackOff = BackOff(),
        random: Callable[[], float] = _random.random,
        sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep,
        call_timeout: float = 30.0,
        strictness: Strictness = Strictness.STRICT,
        on_event: Callable[[OcppConnection, Event], None] | None = None,
        on_connect: Callable[[OcppConnection], Any] | None = None,
        queue: MessageStore | None = None,
        queue_attempts: int = 3,
        queue_interval: float = 60.0,
        on_dead_letter: Callable[[DeadLetter], None] | None = None,
    ) -> None:
        self.on_connect = on_connect
        # The CSMS accepted our BootNotification (kept across reconnects: Part 4 says a station
        # need not boot again when it reconnects); the queue only delivers once registered.
        self.registered = False
        self.sender: TransactionSender | None = None
        if queue is not None:
            routes = next(iter(versions)).routes  # a queue belongs to one version's messages
            self.sender = TransactionSender(
                queue, routes, lambda: self.connection if self.registered and self._connected.is_set() else None,
                max_attempts=queue_attempts, interval=queue_interval, call_timeout=call_timeout,
                on_dead_letter=on_dead_letter,
            )
        self.url = url
        self.bindings = {b.subprotocol: b for b in versions}
        self.handler = handler
        self.basic_auth = basic_auth
        self.ssl = ssl
        self.backoff = backoff
        self._random = random
        self._sleep = sleep
        self.call_timeout = call_timeout
        self.strictness = strictness
        self.on_event = self._track_registration if on_event is None else self._chain(on_event)
        self.station_id = station_id_from_path(url) or ""
        self.connection: OcppConnection | None = None
        self.delays: list[float] = []
        self._connected = asyncio.Event()
        self._stopping = False

    @property
    def csms(self) -> Any:
        """The typed client of the CSMS for the negotiated version."""
        if self.connection is None:
            raise ConnectionError("not connected")
        return self.connection.client

    def _track_registration(self, connection: OcppConnection, event: Event) -> None:
        if isinstance(event, CallCompleted) and event.action == "BootNotification":
            self.registered = str(getattr(event.response.status, "value", event.response.status)) == "Accepted"
            if self.registered and self.sender is not None:
                self.sender.wake()

    def _chain(self, user: Callable[[OcppConnection, Event], None]) -> Callable[[OcppConnection, Event], None]:
        def both(connection: OcppConnection, event: Event) -> None:
            self._track_registration(connection, event)
            user(connection, event)

        return both

    def submit(self, route: Route[Any, Any], request: Any) -> int:
        """Queue a transaction-related message durably; it is delivered in order once the
        station is connected and registered (needs ``queue=`` at construction)."""
        if self.sender is None:
            raise RuntimeError("this StationClient has no queue: pass queue=SqliteStore(path)")
        return self.sender.submit(route, request)

    @property
    def current(self) -> OcppConnection | None:
        """The connection while connected, else None."""
        return self.connection if self._connected.is_set() else None

    async def connected(self) -> OcppConnection:
        await self._connected.wait()
        assert self.connection is not None
        return self.connection

    async def run(self) -> None:
        attempt = 0
        while not self._stopping:
            headers = Headers()
            if self.basic_auth is not None:
                import base64

                token = base64.b64encode(f"{self.basic_auth[0]}:{self.basic_auth[1]}".encode()).decode()
                headers["Authorization"] = f"Basic {token}"
            try:
                async with connect(
                    self.url,
                    subprotocols=list(self.bindings),  # type: ignore[arg-type]
                    additional_headers=headers,
                    ssl=self.ssl,
                    open_timeout=10,
                ) as websocket:
                    binding = self.bindings.get(websocket.subprotocol or "")
                    if binding is None:
                        await websocket.close(1002, "no supported OCPP version agreed")
                        raise ConnectionError("the CSMS agreed on no OCPP version we offered")
                    attempt = 0
                    self.connection = OcppConnection(
                        websocket, binding, self.handler, self.station_id,
                        call_timeout=self.call_timeout, strictness=self.strictness, on_event=self.on_event,
                    )
                    self._connected.set()
                    if self.on_connect is not None:
                        self.on_connect(self.connection)
                    try:
                        await self.connection.run()
                    finally:
                        self._connected.clear()
            except (OSError, ConnectionError, ConnectionClosed, asyncio.TimeoutError) as exc:
                log.info("%s: connection failed: %s", self.station_id, exc)
            except Exception as exc:  # a handshake refusal (HTTP 401/404...) is also a reason to retry
                log.info("%s: connection refused: %s", self.station_id, exc)
            if self._stopping:
                break
            delay = self.backoff.delay(attempt, self._random)
            self.delays.append(delay)
            attempt += 1
            await self._sleep(delay)

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[StationClient]:
        loop = asyncio.get_running_loop()
        task = loop.create_task(self.run())
        sending = loop.create_task(self.sender.run()) if self.sender is not None else None
        try:
            yield self
        finally:
            self._stopping = True
            if self.connection is not None:
                await self.connection.close()
            for t in (task, sending):
                if t is not None:
                    t.cancel()
                    with contextlib.suppress(asyncio.CancelledError):
                        await t

