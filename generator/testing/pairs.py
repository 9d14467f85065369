"""Connected pairs for a user's tests: your CSMS against a scripted station, or your station
against a scripted CSMS, in memory or over loopback WebSockets.

    async with csms_pair(v201.csms.BINDING, MyCsms()) as pair:          # transport="websocket" too
        boot = await pair.assert_result(routing.BOOT_NOTIFICATION, request, status="Accepted")
        await pair.assert_call_error(routing.AUTHORIZE, unknown_token, "SecurityError")
        frame = await pair.exchange('[2,"m1","Heartbeat",{"extra":1}]')  # frame level
        assert frame.error_code == "FormatViolation"

Your side runs exactly as in production: a ``CsmsServer`` (handshake decision, sessions,
registry, hooks) or a ``StationClient`` (hooks, durable queue), over the runtime's
``Connection`` and protocol core. The scripted peer is a runtime ``Connection`` of the other
role whose handler answers from a script (``answers`` / ``Pair.answer``; NotSupported for
anything unscripted) and records what it received (``Pair.expect_call``). Its registration
rules are off, so a test can break them on purpose. ``memory`` connects the two through
in-memory sockets (no network, no handshake beyond ``CsmsServer.admit``); ``websocket``
through a real loopback server and client.

The pairs work with any package ocppgen generated (``ocppgen build --package yours``): the
runtime of the binding you pass is the one used.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import inspect
import json
import urllib.parse
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from pathlib import Path
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any, Generic, Literal, TypeVar

from .memory import Frame, Tap, memory_pair

if TYPE_CHECKING:
    from ocppgen.generated.runtime.client import StationClient
    from ocppgen.generated.runtime.config import Options, ServerOptions, StationOptions
    from ocppgen.generated.runtime.errors import CallErrorReceived
    from ocppgen.generated.runtime.routing import RoleBinding, Route
    from ocppgen.generated.runtime.server import CsmsServer
    from ocppgen.generated.runtime.session import Session

__all__ = ["Answer", "HandshakeRefused", "Pair", "csms_pair", "peer_binding", "station_pair"]

C = TypeVar("C")
H = TypeVar("H")
Req = TypeVar("Req")
Res = TypeVar("Res")
Transport = Literal["memory", "websocket"]

Answer = Any
"""What the scripted peer answers a CALL with: a response object, an exception to raise (the
version's ``CallError("SecurityError")`` answers that CALLERROR), or a callable taking the
request and returning either (may be async)."""


class HandshakeRefused(Exception):
    """The tested CSMS refused the scripted station's opening handshake (HTTP ``status``)."""

    def __init__(self, status: int, body: str = "") -> None:
        self.status = status
        self.body = body
        super().__init__(f"HTTP {status}: {body.strip()}" if body.strip() else f"HTTP {status}")


def _runtime(binding: Any) -> SimpleNamespace:
    """The runtime modules of the package ``binding`` was generated into."""
    package = type(binding).__module__.rpartition(".")[0]
    names = ("client", "config", "connection", "errors", "routing", "server", "session")
    return SimpleNamespace(**{name: importlib.import_module(f"{package}.{name}") for name in names})


def peer_binding(binding: Any) -> Any:
    """The other role's ``BINDING`` of the same version (``v201.csms`` <-> ``v201.station``)."""
    parent, _, side = binding.handler_type.__module__.rpartition(".")
    return importlib.import_module(f"{parent}.{'station' if side == 'csms' else 'csms'}").BINDING


class _Script:
    """The scripted peer's answers and what it received."""

    def __init__(self, rt: SimpleNamespace, binding: Any, answers: Mapping[Any, Answer] | None) -> None:
        self.rt = rt
        self.binding = binding
        self.answers: dict[str, Answer] = {}
        self.received: list[tuple[str, Any]] = []
        self._queues: dict[str, asyncio.Queue[Any]] = {}
        for route, answer in (answers or {}).items():
            self.set(route, answer)

    def set(self, route: Any, answer: Answer) -> None:
        action = route if isinstance(route, str) else route.action
        if action not in self.binding.handled:
            raise ValueError(f"the scripted {self.binding.role.value} never receives {action}")
        self.answers[action] = answer

    def queue(self, action: str) -> asyncio.Queue[Any]:
        return self._queues.setdefault(action, asyncio.Queue())

    async def handle(self, action: str, request: Any) -> Any:
        self.received.append((action, request))
        self.queue(action).put_nowait(request)
        answer = self.answers.get(action, _UNSCRIPTED)
        if answer is _UNSCRIPTED:
            if self.binding.routes[action].send:
                return None
            raise self.rt.routing.NotSupportedError(action, f"{action} is not scripted in this test")
        if isinstance(answer, BaseException):
            raise answer
        if callable(answer):
            answer = answer(request)
            if inspect.isawaitable(answer):
                answer = await answer
            if isinstance(answer, BaseException):
                raise answer
        return answer

    def handler(self) -> Any:
        namespace: dict[str, Any] = {}
        for action, method in self.binding.handled.items():
            namespace[method] = _method(self, action)
        base = self.binding.handler_type
        return type(f"Scripted{base.__name__}", (base,), namespace)()


_UNSCRIPTED = object()


def _method(script: _Script, action: str) -> Callable[..., Awaitable[Any]]:
    async def handle(self: Any, request: Any, context: Any) -> Any:
        return await script.handle(action, request)

    return handle


class Pair(Generic[C]):
    """Your side (``tested``) connected to a scripted peer. Typed helpers send the peer's CALLs
    and check your side's answers; frame helpers work on the raw OCPP-J text. Frames are
    recorded from your side's point of view (``<`` received, ``>`` sent), as in the runtime's
    frame log."""

    def __init__(
        self, *, rt: SimpleNamespace, binding: Any, identity: str, transport: str, tap: Tap, scripted: Any,
        script: _Script, timeout: float, server: Any = None, station: Any = None,
    ) -> None:
        self._rt = rt
        self.binding = binding
        self.identity = identity
        self.transport = transport
        self.version: str = binding.version
        self.timeout = timeout
        self.server: CsmsServer | None = server
        self.station: StationClient[Any, C] | None = station
        self._tap = tap
        self._scripted = scripted
        self._script = script

    # -- your side ---------------------------------------------------------------------------

    @property
    def tested(self) -> C:
        """Your side's typed client of the scripted peer (a CSMS's ``ChargingStationClient``,
        a station's ``CsmsClient``): make your side call the peer."""
        if self.station is not None:
            return self.station.csms
        assert self.server is not None
        client: C = self.server.registry.client(self.identity, self.binding)
        return client

    @property
    def session(self) -> Session:
        """Your side's session of the link (registration, ``state``, ...)."""
        if self.station is not None:
            return self.station.session
        assert self.server is not None
        session = self.server.registry.session(self.identity)
        assert session is not None
        return session

    # -- the scripted peer, typed --------------------------------------------------------------

    @property
    def peer(self) -> Any:
        """The scripted peer's typed client of your side (e.g. ``pair.peer.heartbeat(...)``)."""
        return self._scripted.client

    async def call(self, route: Route[Req, Res], request: Req, *, timeout: float | None = None) -> Res:
        """The scripted peer sends a CALL; your side's typed answer (a CALLERROR raises
        ``CallErrorReceived``)."""
        result: Res = await self._scripted.call(route, request, self.timeout if timeout is None else timeout)
        return result

    async def send(self, route: Route[Req, Any], message: Req) -> None:
        """The scripted peer sends a SEND (2.1)."""
        await self._scripted.send(route, message)

    async def assert_result(self, route: Route[Req, Res], request: Req, expected: Res | None = None, /, **fields: Any) -> Res:
        """Send a CALL; assert your side answered with a result, equal to ``expected`` if given
        and with each of ``fields`` equal (``status="Accepted"`` matches the enum member)."""
        try:
            response = await self.call(route, request)
        except self._rt.errors.CallErrorReceived as exc:
            raise AssertionError(f"{route.action} was answered CALLERROR {exc.code} ({exc.description}), not a result") from None
        if expected is not None and response != expected:
            raise AssertionError(f"{route.action} answered\n  {response!r}\nnot\n  {expected!r}")
        for name, want in fields.items():
            got = getattr(response, name)
            if got != want:
                raise AssertionError(f"{route.action} answered {name}={got!r}, not {want!r} (in {response!r})")
        return response

    async def assert_call_error(
        self, route: Route[Req, Any], request: Req, code: str, *, description: str | None = None
    ) -> CallErrorReceived:
        """Send a CALL; assert your side answered CALLERROR ``code`` (and ``description``)."""
        try:
            response = await self.call(route, request)
        except self._rt.errors.CallErrorReceived as exc:
            if exc.code != code or (description is not None and exc.description != description):
                raise AssertionError(
                    f"{route.action} was answered CALLERROR {exc.code} ({exc.description!r}), not {code}"
                    + (f" ({description!r})" if description is not None else "")
                ) from None
            error: CallErrorReceived = exc
            return error
        raise AssertionError(f"{route.action} was answered with a result, not CALLERROR {code}: {response!r}")

    def answer(self, route: Route[Any, Res], answer: Res | BaseException | Callable[[Any], Any]) -> None:
        """Script the peer's answer to your side's CALLs of ``route`` (see ``Answer``)."""
        self._script.set(route, answer)

    async def expect_call(self, route: Route[Req, Any], *, timeout: float | None = None) -> Req:
        """The next request of ``route`` your side sent to the peer (waits for it)."""
        try:
            request: Req = await asyncio.wait_for(self._script.queue(route.action).get(), self.timeout if timeout is None else timeout)
        except asyncio.TimeoutError:
            raise AssertionError(f"your side sent no {route.action} within {timeout or self.timeout} s") from None
        return request

    @property
    def received(self) -> list[tuple[str, Any]]:
        """Every (action, request) your side sent to the peer, in order."""
        return list(self._script.received)

    # -- frames -------------------------------------------------------------------------------

    @property
    def frames(self) -> list[Frame]:
        """Every frame so far, both directions, in order."""
        return list(self._tap.frames)

    @property
    def intercept(self) -> bool:
        """While True, frames from your side are recorded but not given to the scripted peer's
        protocol (it neither answers nor matches them): raw exchanges, replay."""
        return self._tap.intercept

    @intercept.setter
    def intercept(self, value: bool) -> None:
        self._tap.intercept = value

    async def send_frame(self, frame: str | list[Any]) -> None:
        """Send raw OCPP-J text (a list is JSON-encoded) from the peer to your side."""
        text = frame if isinstance(frame, str) else json.dumps(frame, separators=(",", ":"))
        await self._tap.send(text)

    async def next_frame(self, *, timeout: float | None = None) -> Frame:
        """The next frame your side sent that no ``next_frame`` took yet."""
        wait = self.timeout if timeout is None else timeout
        try:
            return await asyncio.wait_for(self._tap.arrived.get(), wait)
        except asyncio.TimeoutError:
            raise AssertionError(f"your side sent no frame within {wait} s") from None

    async def exchange(self, frame: str | list[Any], *, timeout: float | None = None) -> Frame:
        """Send a raw frame and return your side's answer: for a CALL, the next frame with its
        message id (your side's own CALLs in between are skipped; they stay in ``frames``);
        for anything else, the next frame your side sends."""
        while not self._tap.arrived.empty():
            self._tap.arrived.get_nowait()
        await self.send_frame(frame)
        sent = Frame("<", frame if isinstance(frame, str) else json.dumps(frame))
        loop = asyncio.get_running_loop()
        end = loop.time() + (self.timeout if timeout is None else timeout)
        while True:
            answer = await self.next_frame(timeout=max(0.0, end - loop.time()))
            if sent.type != 2 or (answer.message_id == sent.message_id and answer.type in (3, 4, 5)):
                return answer

    async def expect_frame(
        self, *, type: int | None = None, message_id: str | None = None, action: str | None = None,
        payload: Any = None, error_code: str | None = None, timeout: float | None = None,
    ) -> Frame:
        """The next frame your side sent, asserting each property given."""
        frame = await self.next_frame(timeout=timeout)
        wanted = {"type": type, "message_id": message_id, "action": action, "payload": payload, "error_code": error_code}
        for name, want in wanted.items():
            if want is not None and getattr(frame, name) != want:
                raise AssertionError(f"frame {frame.text} has {name}={getattr(frame, name)!r}, not {want!r}")
        return frame

    async def assert_no_frame(self, within: float = 0.2) -> None:
        """Assert your side sends nothing (more) for ``within`` seconds."""
        try:
            frame = await asyncio.wait_for(self._tap.arrived.get(), within)
        except asyncio.TimeoutError:
            return
        raise AssertionError(f"your side sent {frame.text}")

    def log_lines(self) -> list[str]:
        """The frames as the runtime's frame log writes them: ``<identity> <dir> <frame>``."""
        return [frame.log_line(self.identity) for frame in self._tap.frames]

    def save(self, path: str | Path) -> None:
        """Write ``log_lines()`` to a file, for ``replay`` in a regression test."""
        Path(path).write_text("".join(line + "\n" for line in self.log_lines()), encoding="utf-8")

    async def close(self, code: int = 1000, reason: str = "") -> None:
        """The scripted peer closes the link."""
        await self._scripted.close(code, reason)


# -- your CSMS against a scripted station ----------------------------------------------------------


@contextlib.asynccontextmanager
async def csms_pair(
    binding: RoleBinding[H, C],
    handler: H | Callable[[Session], H] | None = None,
    *,
    server: CsmsServer | None = None,
    options: ServerOptions | None = None,
    transport: Transport = "memory",
    identity: str = "CS-1",
    basic_auth: tuple[str, str | bytes] | None = None,
    headers: Mapping[str, str] | None = None,
    tls: bool = False,
    certificate: Mapping[str, Any] | None = None,
    answers: Mapping[Any, Answer] | None = None,
    peer_options: Options | None = None,
    timeout: float = 5.0,
) -> AsyncIterator[Pair[C]]:
    """Your CSMS (``handler`` for ``binding``, served by a ``CsmsServer`` made with
    ``options``; or your own ``server``, speaking ``binding``'s version) against a scripted
    station ``identity`` that connects with ``basic_auth`` and ``headers``. ``tls`` and
    ``certificate`` (a ``getpeercert()`` mapping) give the handshake a security profile 2 or
    3 (memory only). A refused handshake raises ``HandshakeRefused``."""
    rt = _runtime(binding)
    if server is None:
        if handler is None:
            raise TypeError("csms_pair needs a handler or a server")
        server = rt.server.CsmsServer(options or rt.config.ServerOptions())
        server.handle(binding, handler)
    elif handler is not None:
        raise TypeError("give csms_pair a handler or a server, not both")
    if binding.subprotocol not in server.bindings:
        raise ValueError(f"the server does not serve OCPP {binding.version}")
    sent = {"Sec-WebSocket-Protocol": binding.subprotocol, **(headers or {})}
    if basic_auth is not None:
        import base64

        user, password = basic_auth
        secret = password if isinstance(password, bytes) else password.encode()
        sent["Authorization"] = "Basic " + base64.b64encode(user.encode() + b":" + secret).decode()
    station_binding = peer_binding(binding)
    script = _Script(rt, station_binding, answers)
    path = "/ocpp/" + urllib.parse.quote(identity, safe="")
    async with contextlib.AsyncExitStack() as stack:
        if transport == "memory":
            tested_end, scripted_end = memory_pair(("memory", 0))
            admission = await server.admit(path, sent.items(), tls=tls, certificate=certificate, peer=("memory", 0))
            if admission.status is not None:
                raise HandshakeRefused(admission.status, admission.body)
            serving = asyncio.get_running_loop().create_task(server.run_connection(
                tested_end, admission.station_id, admission.subprotocol, admission.credentials,
                offered=admission.offered, keepalive=False,
            ))
            stack.push_async_callback(_finish, serving, server)
            socket: Any = scripted_end
        elif transport == "websocket":
            if tls or certificate is not None:
                raise ValueError("tls and certificate are for the memory transport")
            from websockets.asyncio.client import connect
            from websockets.exceptions import InvalidStatus

            listening = await stack.enter_async_context(server.serve("127.0.0.1", 0))
            port = next(iter(listening.sockets)).getsockname()[1]
            try:
                socket = await connect(
                    f"ws://127.0.0.1:{port}{path}", subprotocols=[binding.subprotocol],  # type: ignore[list-item]
                    additional_headers={k: v for k, v in sent.items() if k != "Sec-WebSocket-Protocol"},
                    compression=None,
                )
            except InvalidStatus as exc:
                raise HandshakeRefused(exc.response.status_code, exc.response.body.decode(errors="replace")) from None
        else:
            raise ValueError(f"transport must be 'memory' or 'websocket', not {transport!r}")
        scripted = await _scripted(stack, rt, station_binding, identity, socket, script, peer_options)
        await server.registry.wait_for(identity, timeout=timeout)
        yield Pair(rt=rt, binding=binding, identity=identity, transport=transport, tap=scripted.websocket,
                   scripted=scripted, script=script, timeout=timeout, server=server)


async def _finish(serving: asyncio.Task[None], server: Any) -> None:
    with contextlib.suppress(asyncio.CancelledError):
        await serving
    await server.registry.join_hooks()


async def _scripted(
    stack: contextlib.AsyncExitStack, rt: SimpleNamespace, binding: Any, identity: str, socket: Any, script: _Script,
    options: Any,
) -> Any:
    """The scripted peer: a runtime Connection of ``binding``'s role over ``socket``, closed
    (and its tasks ended) when the pair ends."""
    role = binding.role
    session = rt.session.Session(identity, role, registration_gate=False)
    session.version = binding.version
    opts = options or rt.config.Options(registration_gate=False, handler_timeout=None)
    connection = rt.connection.Connection(Tap(socket), binding, session, script.handler(), opts)
    connection.ping_interval = None
    session.attach(connection, binding.version)
    running = asyncio.get_running_loop().create_task(connection.run())

    async def end() -> None:
        if not connection.closed:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(connection.close(1000, "test over"), 5)
        with contextlib.suppress(asyncio.CancelledError, asyncio.TimeoutError):
            await asyncio.wait_for(running, 5)
        await connection.stop_tasks()

    stack.push_async_callback(end)
    return connection


# -- your station against a scripted CSMS ----------------------------------------------------------


@contextlib.asynccontextmanager
async def station_pair(
    binding: RoleBinding[H, C],
    handler: H | Callable[[Session], H],
    *,
    options: StationOptions | None = None,
    transport: Transport = "memory",
    identity: str = "CS-1",
    answers: Mapping[Any, Answer] | None = None,
    peer_options: Options | None = None,
    timeout: float = 5.0,
) -> AsyncIterator[Pair[C]]:
    """Your station (``handler`` for ``binding``, run by a ``StationClient`` with ``options``)
    connected to a scripted CSMS. Script the CSMS's answers to your station's CALLs (e.g. its
    BootNotification) with ``answers`` or ``Pair.answer``; ``Pair.station`` is your client."""
    rt = _runtime(binding)
    csms_binding = peer_binding(binding)
    script = _Script(rt, csms_binding, answers)
    async with contextlib.AsyncExitStack() as stack:
        if transport == "memory":
            client = rt.client.StationClient(f"memory://test/ocpp/{urllib.parse.quote(identity, safe='')}", binding,
                                             handler, options or rt.config.StationOptions())
            await stack.enter_async_context(client.running(connect=False))
            tested_end, scripted_end = memory_pair(("memory", 1))
            serving = asyncio.get_running_loop().create_task(client.serve(tested_end))
            stack.push_async_callback(_finish_station, serving)
            scripted = await _scripted(stack, rt, csms_binding, identity, scripted_end, script, peer_options)
        elif transport == "websocket":
            from websockets.asyncio.server import serve

            arrived: asyncio.Queue[Any] = asyncio.Queue()

            async def accept(websocket: Any) -> None:
                scripted = await _scripted(stack, rt, csms_binding, identity, websocket, script, peer_options)
                arrived.put_nowait(scripted)
                with contextlib.suppress(Exception):
                    await websocket.wait_closed()

            listening = await stack.enter_async_context(
                serve(accept, "127.0.0.1", 0, subprotocols=[csms_binding.subprotocol], compression=None)
            )
            port = next(iter(listening.sockets)).getsockname()[1]
            client = rt.client.StationClient(f"ws://127.0.0.1:{port}/ocpp/{urllib.parse.quote(identity, safe='')}",
                                             binding, handler, options or rt.config.StationOptions())
            await stack.enter_async_context(client.running())
            try:
                scripted = await asyncio.wait_for(arrived.get(), timeout)
            except asyncio.TimeoutError:
                raise AssertionError(f"the station did not connect within {timeout} s: {client.last_error}") from None
        else:
            raise ValueError(f"transport must be 'memory' or 'websocket', not {transport!r}")
        await client.connected(timeout=timeout)
        yield Pair(rt=rt, binding=binding, identity=identity, transport=transport, tap=scripted.websocket,
                   scripted=scripted, script=script, timeout=timeout, station=client)


async def _finish_station(serving: asyncio.Task[None]) -> None:
    with contextlib.suppress(asyncio.CancelledError):
        await serving
