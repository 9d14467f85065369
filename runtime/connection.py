"""One WebSocket's life (asyncio): moves frames between the socket and the protocol core, runs
handlers, arms one timer. Every OCPP rule is in the sans-I/O core and the session.

A ``Connection`` reads text frames into ``OcppProtocol.receive``, writes ``data_to_send()``
through one writer (frames stay in order), runs the handlers of inbound CALLs and SENDs, and
resolves the futures of typed clients from ``CallCompleted``/``CallFailed``. A CALL that arrives
while no handler of this connection is running has its handler method called by the reader:
a plain ``def`` method's answer is written at once, with no task; an ``async def`` method's
coroutine gets its own task (a handler may itself call the peer and await the answer), as does
every handler while another one of the connection runs, so answers leave in the order the
handlers finish, exactly as when every handler has a task. One timer is armed from
``next_deadline()``; it is re-armed only when the deadline moves earlier, and when it fires
``handle_timeout`` decides.

Logging (logger ``ocppgen``; frames on ``ocppgen.frames``): records carry ``ocpp_station``,
``ocpp_message_id`` and ``ocpp_action`` as structured fields. Frames the core answered with a
CALLERROR and handler responses that fail validation are WARNINGs, at most
``warnings_per_minute`` per connection (a hostile peer cannot flood the log; the rest are
counted and summed up).
"""

from __future__ import annotations

import asyncio
import logging
import sys
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine
from typing import Any, Protocol, TypeVar

from websockets.asyncio.connection import Connection as _WebSocketsConnection
from websockets.exceptions import ConnectionClosed

from .codes import Failure, code_for
from .config import Options
from .errors import CallTimeout, LocalError, NotConnected
from .events import (
    Answered,
    CallCompleted,
    CallFailed,
    CallReceived,
    CloseRequested,
    Dropped,
    Event,
    HandlerFinished,
    HandlerTimedOut,
    RegistrationChanged,
    Rejected,
    ResponseRefused,
    SendReceived,
    ToleratedViolation,
)
from .loop import end_tasks
from .protocol import OcppProtocol
from .routing import CallContext, HandlerError, RoleBinding, Route, awaiting, handler_error, invoke, start_handler
from .security import redact
from .session import Session

__all__ = ["Connection", "WebSocketLike", "log", "frame_log"]

log = logging.getLogger("ocppgen")
frame_log = logging.getLogger("ocppgen.frames")
Req = TypeVar("Req")
Res = TypeVar("Res")


class Abortable(Protocol):
    """The transport under a WebSocket, as far as a ``Connection`` uses it."""

    def is_closing(self) -> bool: ...

    def abort(self) -> None: ...


class WebSocketLike(Protocol):
    """What a ``Connection`` uses of a WebSocket: websockets' asyncio connections have it, the
    ASGI adapter (``asgi``) and the in-memory pairs of ``ocppgen.testing`` provide it. Iteration
    yields each message and ends when the socket closes; ``send`` and iteration raise
    websockets' ``ConnectionClosed`` when the socket closed abnormally."""

    @property
    def close_code(self) -> int | None: ...

    @property
    def close_reason(self) -> str | None: ...

    @property
    def remote_address(self) -> Any: ...

    @property
    def transport(self) -> Abortable | None: ...

    def __aiter__(self) -> AsyncIterator[str | bytes]: ...

    async def send(self, message: str, /) -> None:
        """Send one text ``message``. (An implementation whose ``send`` hands the message over
        before it first suspends, so that messages leave in the order of the calls, may say so
        with a class attribute ``ordered_send = True``, as websockets' connections do: a
        ``Connection`` then writes a lone answer without taking its write lock.)"""
        ...

    async def close(self, code: int = 1000, reason: str = "") -> None:
        """Close with ``code`` and ``reason`` and wait for the closing handshake."""
        ...

    async def ping(self) -> Awaitable[object]: ...


class _WarningBudget:
    """At most ``per_minute`` warnings per connection per minute; the rest are counted."""

    __slots__ = ("per_minute", "window", "used", "suppressed")

    def __init__(self, per_minute: int) -> None:
        self.per_minute = per_minute
        self.window = 0.0
        self.used = 0
        self.suppressed = 0

    def take(self, now: float) -> tuple[bool, int]:
        """(may log now, warnings suppressed in the window that just ended)."""
        ended = 0
        if now - self.window >= 60.0:
            ended, self.suppressed = self.suppressed, 0
            self.window, self.used = now, 0
        if self.used < self.per_minute:
            self.used += 1
            return True, ended
        self.suppressed += 1
        return False, ended


class _Tasks(list["asyncio.Task[Any]"]):
    """A connection's running tasks, with a set's ``add`` and ``discard``: an empty list is 56
    bytes where an empty set is 216, and a connection has at most a few tasks at a time. Each
    task is added once and discarded once (its done callback), so ``discard`` is ``remove``."""

    __slots__ = ()
    add = list.append
    discard = list.remove


def _release(websocket: object) -> None:
    """Break the reference cycle a closed websockets connection is left in, so that it is freed
    at once rather than by the cyclic garbage collector. websockets keeps the exception that
    ended its frame parser (an EOFError when the peer vanished); its traceback holds the
    parser's frame, which holds the protocol, which holds the exception. The exception stays
    (websockets gives it as the cause of ConnectionClosed); its traceback goes. In a
    reconnection storm the collector would otherwise walk every dropped connection, which keeps
    its memory until then (issue 14). Another transport, or a connection still open: nothing."""
    exc = getattr(getattr(websocket, "protocol", None), "parser_exc", None)
    if isinstance(exc, BaseException):
        exc.__traceback__ = None


class Connection:
    """One WebSocket speaking one OCPP version as one role, for one station's session.

    It is the session's ``Caller`` while it is current: typed clients send through it. The
    owner (server or station client) creates it, attaches it to the session, awaits ``run()``
    and is told about registration changes through ``on_registration``.

    Args:
        websocket: The open socket (websockets', ASGI's, or an in-memory one).
        binding: The version and role spoken.
        session: The station's session this connection carries.
        handler: The role's handler for this station.
        options: The side's options.
        on_registration: Called with (connection, registration) when a BootNotification
            was answered.
        on_security: Called with (connection, kind, detail) when something security-relevant
            happens on the link (e.g. a serial-number mismatch).
    """

    # one per connection: slots instead of an instance dict (memory per idle connection,
    # issue 14); an attribute set in __init__ must be named here
    __slots__ = (
        "websocket", "binding", "session", "handler", "options", "on_registration", "on_security", "protocol",
        "client", "close_code", "close_reason", "reported", "_loop", "_waiters", "_handlers", "_tasks",
        "_write_lock", "_timer", "_timer_at", "_closed", "_warnings", "_station", "_ping_interval",
        "_ping_changed", "_running", "close_on_timeout", "_handling", "_ordered_send",
    )

    def __init__(
        self,
        websocket: WebSocketLike,
        binding: RoleBinding[Any, Any],
        session: Session,
        handler: object,
        options: Options,
        *,
        on_registration: Callable[[Connection, str], None] | None = None,
        on_security: Callable[[Connection, str, str], None] | None = None,
    ) -> None:
        self.websocket = websocket
        self.binding = binding
        self.session = session
        self.handler = handler
        self.options = options
        self.on_registration = on_registration
        self.on_security = on_security
        self.protocol = OcppProtocol(
            version=binding.version,
            role=binding.role,
            routes=binding.routes,
            handled=binding.handled,
            session=session,
            call_timeout=options.call_timeout,
            handler_timeout=options.handler_timeout,
            max_queue=options.max_queue,
            strictness=options.strictness,
            overrides=options.strictness_overrides,
            id_factory=options.id_factory,
            max_bad_messages=options.max_bad_messages,
            signing=options.signing,
            boot_pacer=getattr(options, "boot_pacer", None),
        )
        self.client: Any = binding.peer_client(session)
        self.close_code: int | None = None
        self.close_reason = ""
        self.reported = False  # the owner reported this connection's end
        self._loop = asyncio.get_running_loop()
        self._waiters: dict[str, asyncio.Future[Any]] = {}
        self._handlers: dict[str, asyncio.Task[None]] = {}
        self._handling = 0  # handler tasks not yet done (CALL and SEND)
        self._tasks = _Tasks()
        self._write_lock = asyncio.Lock()
        # send() hands each message over before it first suspends (websockets does: the frame is
        # written to the transport, then drained), so one frame needs no lock to keep its place
        self._ordered_send = isinstance(websocket, _WebSocketsConnection) or getattr(websocket, "ordered_send", False) is True
        self._timer: asyncio.TimerHandle | None = None
        self._timer_at: float | None = None
        self._closed = False
        # the warning budget and the log records' fields are made when a warning or record
        # needs them: most connections never warn (memory per idle connection, issue 14)
        self._warnings: _WarningBudget | None = None
        self._station = session.identity
        self._ping_interval = options.ping_interval or None
        # The keepalive task and its event exist only once an interval is set (an idle
        # connection without pings holds neither: about 3 KiB less per connection).
        self._ping_changed: asyncio.Event | None = None
        self._running = False
        #: Close the connection when one of our CALLs times out (the station client sets it,
        #: 2.x Part 2 section 3.2).
        self.close_on_timeout = False

    def __repr__(self) -> str:
        return f"Connection({self.session.identity!r}, OCPP {self.binding.version}{', closed' if self._closed else ''})"

    @property
    def closed(self) -> bool:
        return self._closed

    @property
    def _fields(self) -> dict[str, object]:
        """The structured fields of this connection's log records (a new dict each time)."""
        return {"ocpp_station": self._station}

    # -- Caller ---------------------------------------------------------------------------

    async def call(
        self, route: Route[Req, Res], request: Req, timeout: float | None, *, message_id: str | None = None
    ) -> Res:
        """Send ``request`` as a CALL of ``route`` and wait up to ``timeout`` seconds (None:
        ``call_timeout``) for its result (``message_id``: a 2.1 retry's original id); raises a CallFailure subclass on failure and a
        LocalError subclass on misuse (then nothing was sent)."""
        if self._closed:
            raise NotConnected("-", route.action, f"the connection to {self.session.identity} is closed")
        message_id = self.protocol.call(route, request, self._loop.time(), timeout=timeout, message_id=message_id)
        future: asyncio.Future[Any] = self._loop.create_future()
        self._waiters[message_id] = future
        await self._flush()
        try:
            result: Res = await future
            return result
        except asyncio.CancelledError:
            self._apply(self.protocol.cancel(message_id, self._loop.time()))
            await self._flush()
            raise

    async def send(self, route: Route[Req, Any], message: Req) -> None:
        """Send ``message`` as a SEND of ``route`` (2.1); it is never answered."""
        if self._closed:
            raise NotConnected("-", route.action, f"the connection to {self.session.identity} is closed")
        self.protocol.send(route, message, self._loop.time())
        await self._flush()

    # -- running --------------------------------------------------------------------------

    @property
    def ping_interval(self) -> float | None:
        """Seconds between our WebSocket pings (None: none). Setting it takes effect at once."""
        return self._ping_interval

    @ping_interval.setter
    def ping_interval(self, seconds: float | None) -> None:
        self._ping_interval = seconds or None
        if self._ping_changed is not None:
            self._ping_changed.set()
        elif self._running and not self._closed and self._ping_interval is not None:
            self._start_keepalive()

    def _start_keepalive(self) -> None:
        self._ping_changed = asyncio.Event()
        self._spawn(self._keepalive())

    async def _keepalive(self) -> None:
        """Ping every ``ping_interval`` seconds; a pong later than ``ping_timeout`` closes the
        link as dead (1011), so both sides learn of a broken path."""
        changed = self._ping_changed
        assert changed is not None
        while not self._closed:
            interval = self._ping_interval
            changed.clear()
            if interval is None:
                await changed.wait()
                continue
            try:
                await asyncio.wait_for(changed.wait(), interval)
                continue  # the interval changed: start over with the new one
            except asyncio.TimeoutError:
                pass
            try:
                pong = await self.websocket.ping()
                await asyncio.wait_for(pong, self.options.ping_timeout)
            except asyncio.TimeoutError:
                log.warning("%s: no pong within %s s: the link is dead, closing", self.session.identity,
                            self.options.ping_timeout, extra=self._fields)
                self.close_reason = "keepalive ping timeout"
                self.abort()
                return
            except ConnectionClosed:
                return

    async def run(self) -> None:
        """Read messages until the WebSocket closes; then fail what is pending."""
        self._running = True
        if self._ping_interval is not None:
            self._start_keepalive()
        protocol, time, log_frames = self.protocol, self._loop.time, self.options.log_frames  # options are frozen
        try:
            async for message in self.websocket:
                if self._closed:
                    break
                if type(message) is not str:
                    self._warn("binary frame ignored (OCPP-J uses text frames)", None, None)
                    continue
                if log_frames:
                    self._log_frame("<", message)
                events = protocol.receive(message, time())
                if len(events) == 1 and not self._handling:
                    kind = type(events[0])
                    if kind is CallReceived or kind is SendReceived:
                        if await self._answer(events[0]):  # type: ignore[arg-type]  # one of the two
                            continue  # answered by the reader
                    else:
                        self._apply(events)
                else:
                    self._apply(events)
                if protocol.has_data_to_send():
                    await self._flush()
                else:  # a CALL for a handler: nothing to write yet, only its deadline to arm
                    self._arm_timer()
        except ConnectionClosed:
            pass
        finally:
            self.close_code = self.websocket.close_code
            self.close_reason = self.websocket.close_reason or self.close_reason
            self._terminate()
            _release(self.websocket)

    async def drain(self, timeout: float) -> None:
        """Wait for running handlers (graceful shutdown), at most ``timeout`` seconds."""
        running = list(self._handlers.values())
        if running:
            await asyncio.wait(running, timeout=timeout)

    async def close(self, code: int = 1000, reason: str = "") -> None:
        """Close the WebSocket with ``code`` and ``reason`` and wait for the closing handshake."""
        self.close_reason = reason
        await self.websocket.close(code, reason)

    def abandon(self, reason: str, close_timeout: float) -> None:
        """Give this connection up at once, for ``reason`` (a new one for the same station replaced it): its
        pending calls fail now, it stops reading, and its close runs in the background for at
        most ``close_timeout`` seconds before the transport is aborted (a half-open TCP path
        never answers the closing handshake)."""
        if self._closed:
            return
        self.close_reason = reason
        self._terminate()
        self._spawn(self._close_quickly(1000, reason, close_timeout))

    async def _close_quickly(self, code: int, reason: str, timeout: float) -> None:
        try:
            await asyncio.wait_for(self.websocket.close(code, reason), timeout)
        except (asyncio.TimeoutError, ConnectionClosed, OSError):
            pass
        finally:
            transport = self.websocket.transport
            if transport is not None and not transport.is_closing():
                transport.abort()

    def _terminate(self) -> None:
        if self._closed:
            return
        self._closed = True
        if self._ping_changed is not None:
            self._ping_changed.set()
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        self._apply(self.protocol.connection_lost())
        for task in list(self._handlers.values()):
            task.cancel()
        self.session.detach(self)

    # -- events ---------------------------------------------------------------------------

    def _apply(self, events: list[Event]) -> None:
        on_event = self.options.on_event
        for event in events:
            kind = type(event)
            if kind is CallReceived or kind is SendReceived:
                assert isinstance(event, (CallReceived, SendReceived))
                self._track(self._start(self._handle(event)), event)
            elif kind is CallCompleted:
                assert isinstance(event, CallCompleted)
                future = self._waiters.pop(event.message_id, None)
                if future is not None and not future.done():
                    future.set_result(event.response)
            elif kind is CallFailed:
                assert isinstance(event, CallFailed)
                future = self._waiters.pop(event.message_id, None)
                if future is not None and not future.done():
                    future.set_exception(event.error)
                if self.close_on_timeout and isinstance(event.error, CallTimeout) and not self._closed:
                    log.warning("%s: %s got no answer in time: reconnecting (2.x Part 2 section 3.2)",
                                self.session.identity, event.action, extra=self._fields)
                    self.close_reason = "no answer to a CALL in time"
                    self._spawn(self.close(1000, "reconnecting after a CALL timeout"))
            else:
                self._notice(event)
            if on_event is not None:
                on_event(self.session, event)
        self._arm_timer()

    def _notice(self, event: Event) -> None:
        """The diagnostic events: log them, act on those that need action."""
        if isinstance(event, Rejected):
            self._warn(f"frame answered {event.code}: {event.description}", event.message_id, None)
        elif isinstance(event, ResponseRefused):
            self._warn(f"the {event.action} handler's response was refused: {event.reason}", event.message_id, event.action)
        elif isinstance(event, HandlerTimedOut):
            task = self._handlers.pop(event.message_id, None)
            if task is not None:
                task.cancel()
            log.error(
                "%s: the %s handler did not answer within %g s; answered InternalError",
                self.session.identity, event.action, event.timeout,
                extra={**self._fields, "ocpp_message_id": event.message_id, "ocpp_action": event.action},
            )
        elif isinstance(event, RegistrationChanged):
            log.info(
                "%s: registration %s", self.session.identity, event.registration,
                extra={**self._fields, "ocpp_registration": event.registration},
            )
            if self.on_registration is not None:
                self.on_registration(self, event.registration)
        elif isinstance(event, CloseRequested):
            log.warning("%s: closing (%d): %s", self.session.identity, event.code, event.reason, extra=self._fields)
            self._spawn(self.close(event.code, event.reason))
        elif isinstance(event, Dropped):
            if event.reason == "serial_mismatch":
                log.warning("%s: %s", self.session.identity, event.detail, extra=self._fields)
                if self.on_security is not None:
                    self.on_security(self, "serial_mismatch", event.detail)
            elif event.reason in ("late_reply", "not_registered"):
                log.debug("%s: %s: %s", self.session.identity, event.reason, event.detail, extra=self._fields)
            else:
                self._warn(f"frame dropped ({event.reason}): {event.detail}", event.message_id, None)
        elif isinstance(event, Answered):
            log.info(
                "%s: %s answered by the session (%s): %s", self.session.identity, event.action, event.reason, event.detail,
                extra={**self._fields, "ocpp_message_id": event.message_id, "ocpp_action": event.action},
            )
        elif isinstance(event, ToleratedViolation):
            log.debug("%s: %s tolerated: %s", self.session.identity, event.action, event.tolerated, extra=self._fields)

    def _warn(self, text: str, message_id: str | None, action: str | None) -> None:
        budget = self._warnings
        if budget is None:
            budget = self._warnings = _WarningBudget(self.options.warnings_per_minute)
        allowed, suppressed = budget.take(self._loop.time())
        if suppressed:
            log.warning("%s: %d more warnings suppressed in the last minute", self.session.identity, suppressed, extra=self._fields)
        if allowed:
            log.warning(
                "%s: %s", self.session.identity, text,
                extra={**self._fields, "ocpp_message_id": message_id, "ocpp_action": action},
            )

    def _log_frame(self, direction: str, frame: str) -> None:
        frame_log.debug("%s %s %s", self.session.identity, direction, redact(frame, self.binding.redaction), extra=self._fields)

    # -- handlers -------------------------------------------------------------------------

    async def _answer(self, event: CallReceived | SendReceived) -> bool:
        """The reader's path for the only event of a frame, a CALL or SEND that arrived while no
        handler task of this connection runs: its handler method is called here. What a plain
        ``def`` method returned (or raised) is answered at once, by the reader, with no task and
        no timer; an awaitable (an ``async def`` method's coroutine, none of its body run yet)
        is awaited in the handler's own task, as ``_apply`` would run it. The events, answers,
        log records and ``on_event`` calls are those of the task path (tests/test_handler_styles.py).
        Returns whether it was answered (False: the reader goes on as after ``_apply``)."""
        on_event = self.options.on_event
        if on_event is not None:
            on_event(self.session, event)
        route = self.protocol.routes[event.action]
        request = event.request if type(event) is CallReceived else event.message  # type: ignore[union-attr]
        context: CallContext[Any] = CallContext(self.session, self.client, event.message_id, event.action, event.signer)
        started = self._loop.time() if on_event is not None else 0.0
        try:
            result = start_handler(self.handler, event.handler_method, route, request, context)
        except asyncio.CancelledError:  # as a handler task cancelled: unanswered until its deadline
            return False
        if awaiting(result, route):
            self._track(self._start(self._settle(event, context, result, started)), event)  # type: ignore[arg-type]
            return False
        try:
            await self._complete(event, context, result, started)
        except Exception as exc:  # what would fail a handler's task (an on_event hook raising) must not end the reader
            self._loop.call_exception_handler({"message": f"answering {event.action} failed", "exception": exc})
        return True

    def _track(self, task: asyncio.Task[None], event: CallReceived | SendReceived) -> None:
        """Keep a handler's task until it ends (``_untrack`` at its end, or ``_terminate``)."""
        if task.done():  # ran to its end at once (an eager start): nothing to track
            return
        self._tasks.add(task)
        self._handling += 1
        if type(event) is CallReceived:
            self._handlers[event.message_id] = task

    def _untrack(self, event: CallReceived | SendReceived) -> None:
        """The end of a handler's task, from the task itself (no done callback to schedule). A
        task cancelled before its first step never gets here: only ``_terminate`` and
        ``stop_tasks`` cancel so early, when the connection is over."""
        task = asyncio.current_task()
        if task is not None and task in self._tasks:  # tracked: not an eager start that ran to its end
            self._tasks.discard(task)
            self._handling -= 1
            if self._handlers.get(event.message_id) is task:  # an eager start (3.12) that suspended after its handler
                del self._handlers[event.message_id]

    async def _settle(self, event: CallReceived | SendReceived, context: CallContext[Any], awaitable: Awaitable[object], started: float) -> None:
        try:
            try:
                result = await awaitable
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                result = handler_error(exc, self.protocol.routes[event.action], context)
            finally:
                if type(event) is CallReceived:
                    self._handlers.pop(event.message_id, None)
            await self._complete(event, context, result, started)
        finally:
            self._untrack(event)

    async def _handle(self, event: CallReceived | SendReceived) -> None:
        try:
            route = self.protocol.routes[event.action]
            request = event.request if isinstance(event, CallReceived) else event.message
            context: CallContext[Any] = CallContext(self.session, self.client, event.message_id, event.action, event.signer)
            on_event = self.options.on_event
            started = self._loop.time() if on_event is not None else 0.0
            try:
                result = await invoke(self.handler, event.handler_method, route, request, context)
            finally:
                if isinstance(event, CallReceived):
                    self._handlers.pop(event.message_id, None)
            await self._complete(event, context, result, started)
        finally:
            self._untrack(event)

    async def _complete(self, event: CallReceived | SendReceived, context: CallContext[Any], result: object, started: float) -> None:
        """Answer what the handler gave (a response or a HandlerError), write it, report
        ``HandlerFinished`` and start the ``after_response`` work."""
        on_event = self.options.on_event
        outcome, code = "result", None
        if isinstance(event, SendReceived):
            outcome = "send"
            if isinstance(result, HandlerError):
                outcome = "send_failed"
                self._warn(f"SEND {event.action} not handled: {result.description}", event.message_id, event.action)
        elif not self._closed:
            protocol = self.protocol
            # the answer will be the only frame to write when nothing waits to be written now
            alone = self._ordered_send and not protocol.has_data_to_send() and not self._write_lock.locked()
            if isinstance(result, HandlerError):
                events, code = self._respond_error(event, result)
                outcome = "error"
            else:
                events = protocol.respond(event.message_id, result)
                if on_event is not None and any(type(e) is ResponseRefused for e in events):
                    outcome, code = "refused", code_for(Failure.RESPONSE_INVALID, self.binding.version)
            if events:  # without events no deadline moved earlier: the armed timer stays right
                self._apply(events)
            if alone and not self.options.log_frames:
                # One frame (respond wrote exactly one), no writer holding or waiting for the lock
                # with frames of its own: written at once, as _flush would write it. The frame
                # is handed over before send() first suspends, so a later writer's frames follow it.
                for frame in protocol.data_to_send():
                    try:
                        await self.websocket.send(frame)
                    except ConnectionClosed:
                        pass
            else:
                await self._flush()
        else:
            outcome = "closed"
        if on_event is not None:
            finished = HandlerFinished(
                message_id=event.message_id, action=event.action, outcome=outcome, code=code,
                seconds=self._loop.time() - started,
            )
            on_event(self.session, finished)
        for work in context.take_after():
            self._spawn(self._after(work, event.action))

    def _respond_error(self, event: CallReceived, result: HandlerError) -> tuple[list[Event], str]:
        """Answer the handler's CALLERROR; returns the events and the code sent."""
        failure = result.failure
        try:
            events = self.protocol.respond_error(event.message_id, failure, result.description, result.details)
            return events, failure if isinstance(failure, str) else code_for(failure, self.binding.version)
        except LocalError as exc:  # a code of another version, or details that are no JSON object
            log.error(
                "%s: the %s handler's CALLERROR is invalid (%s); answered InternalError", self.session.identity,
                event.action, exc, extra={**self._fields, "ocpp_message_id": event.message_id, "ocpp_action": event.action},
            )
            events = self.protocol.respond_error(event.message_id, Failure.RESPONSE_INVALID, f"{event.action} handler failed")
            return events, code_for(Failure.RESPONSE_INVALID, self.binding.version)

    async def _after(self, work: Callable[[], Awaitable[object]], action: str) -> None:
        try:
            await work()
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("%s: work after the %s response failed", self.session.identity, action, extra=self._fields)

    # -- writing and the timer --------------------------------------------------------------

    async def _flush(self) -> None:
        async with self._write_lock:  # one writer at a time keeps the frames in order
            for frame in self.protocol.data_to_send():
                if self.options.log_frames:
                    self._log_frame(">", frame)
                try:
                    await self.websocket.send(frame)
                except ConnectionClosed:
                    return
        self._arm_timer()

    def _arm_timer(self) -> None:
        deadline = self.protocol.next_deadline()
        if deadline is None or self._closed:
            return
        if self._timer is not None and self._timer_at is not None and self._timer_at <= deadline:
            return  # the armed timer fires first; handle_timeout then re-arms for the rest
        if self._timer is not None:
            self._timer.cancel()
        self._timer_at = deadline
        self._timer = self._loop.call_at(deadline, self._on_timer)

    def _on_timer(self) -> None:
        self._timer = None
        self._timer_at = None
        if self._closed:
            return
        self._apply(self.protocol.handle_timeout(self._loop.time()))
        self._spawn(self._flush())

    def _start(self, coro: Coroutine[Any, Any, None]) -> asyncio.Task[None]:
        """A handler's task. From Python 3.12 it starts eagerly: the handler runs at once, in
        its own task and context, up to its first suspension, and one that never suspends
        (most answer at once) costs no scheduling round trip (decision 0019)."""
        if sys.version_info >= (3, 12):
            return asyncio.Task(coro, loop=self._loop, eager_start=True)
        return self._loop.create_task(coro)

    def _spawn(self, coro: Coroutine[Any, Any, Any]) -> None:
        task: asyncio.Task[Any] = self._loop.create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def abort(self) -> None:
        """Drop the TCP connection at once (shutdown of a connection that was given up)."""
        transport = self.websocket.transport
        if transport is not None and not transport.is_closing():
            transport.abort()

    async def stop_tasks(self) -> None:
        """Cancel and await the connection's remaining tasks (handlers, after-response work)."""
        await end_tasks(list(self._tasks))
