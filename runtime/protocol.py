"""The OCPP-J protocol core: frames in, events and frames out, no I/O, no clock, no randomness.

Theory of operation
-------------------
One ``OcppProtocol`` serves one connection, for one OCPP version and one role.

Inbound. ``receive(data, now)`` takes one WebSocket text message and returns events. Each frame
ends in exactly one outcome (see ``events``): a typed ``CallReceived``/``SendReceived`` for the
connection to run a handler on, a reply matched to one of our CALLs, an answer the core wrote
itself (``Rejected``: CALLERROR, or CALLRESULTERROR on 2.1), or a documented ``Dropped``.
Nothing an inbound frame contains raises out of ``receive``.

Outbound. ``call(route, request, now)`` validates the payload strictly and queues the CALL.
At most one CALL per direction is outstanding: the next queued CALL goes out when the current
one is answered, fails, times out or is cancelled. ``send`` (2.1 SEND) goes out at once, even
while a CALL is outstanding. CALLs from the two sides may cross: inbound CALLs are handled
whatever our own CALL is doing. The caller collects frames with ``data_to_send()``.

Time. Every input takes ``now`` (seconds, any monotonic origin). ``next_deadline()`` is the
time at which ``handle_timeout(now)`` must be called next (None: no timer). A call that timed
out or was cancelled can never complete later: its late reply becomes ``Dropped(late_reply)``.

Error codes follow each version's Part 4, spelled as that version spells them (see
docs/decisions/0005-protocol-core.md for the mapping of every failure to its code).
"""

from __future__ import annotations

import enum
import uuid
from collections import OrderedDict, deque
from collections.abc import Callable, Mapping
from typing import Any

import msgspec

from . import frames as fr
from .errors import (
    CODES,
    CallCancelled,
    CallErrorReceived,
    CallFailure,
    CallTimeout,
    ConnectionLost,
    InvalidMessage,
    InvalidMessageId,
    LocalError,
    QueueFull,
    ResponseInvalid,
    WrongDirection,
    wire_code,
)
from .events import (
    CallCompleted,
    CallFailed,
    CallReceived,
    Dropped,
    Event,
    Rejected,
    ResultRejected,
    SendReceived,
    ToleratedViolation,
)
from .lenient import decode_lenient
from .routing import Outcome, Reply, Role, Route, classify_validation_error

__all__ = ["OcppProtocol", "Strictness", "default_message_id"]

# Frames longer than this take the one-pass path first: it saves the second scan of the
# payload, which only pays off once the payload is larger than the cost of peeking at the action.
COMPACT_MIN = 400


class Strictness(enum.Enum):
    """How inbound payloads are validated. Outbound payloads are always validated strictly."""

    STRICT = "strict"
    LENIENT = "lenient"


def default_message_id() -> str:
    """A random UUID: 36 characters, unique across connections, reconnects and restarts."""
    return str(uuid.uuid4())


class _Pending:
    __slots__ = ("message_id", "route", "frame", "timeout", "deadline")

    def __init__(self, message_id: str, route: Route[Any, Any], frame: str, timeout: float) -> None:
        self.message_id = message_id
        self.route = route
        self.frame = frame
        self.timeout = timeout
        self.deadline = 0.0


class OcppProtocol:
    """One connection's OCPP-J state machine (sans-I/O)."""

    def __init__(
        self,
        *,
        version: str,
        role: Role,
        routes: Mapping[str, Route[Any, Any]],
        handled: Mapping[str, str],
        call_timeout: float = 30.0,
        max_queue: int = 100,
        strictness: Strictness = Strictness.STRICT,
        overrides: Mapping[str, Strictness] | None = None,
        id_factory: Callable[[], str] = default_message_id,
        remember_ended: int = 256,
    ) -> None:
        if version not in CODES:
            raise LocalError(f"unknown OCPP version {version!r}")
        self.version = version
        self.role = role
        self.routes = routes
        self.handled = handled
        self.call_timeout = call_timeout
        self.max_queue = max_queue
        self.strictness = strictness
        self.overrides = dict(overrides or {})
        self._id_factory = id_factory
        self._types = fr.message_types(version)
        self._outbox: list[str] = []
        self._queue: deque[_Pending] = deque()
        self._outstanding: _Pending | None = None
        self._inbound: dict[str, str] = {}  # CALLs received and not answered yet: id -> action
        self._ended: OrderedDict[str, str] = OrderedDict()  # our timed-out/cancelled ids -> why
        self._remember = remember_ended

    # -- outbound --------------------------------------------------------------------------

    def call(
        self,
        route: Route[Any, Any],
        request: Any,
        now: float,
        *,
        timeout: float | None = None,
        message_id: str | None = None,
    ) -> str:
        """Queue a CALL; returns its message id. Then send ``data_to_send()``; its outcome
        arrives later as ``CallCompleted`` or ``CallFailed`` with that id.

        ``message_id`` lets a 2.1 retry reuse the original id; other versions refuse it.
        Raises LocalError subclasses for misuse; nothing is queued then.
        """
        if route.send:
            raise LocalError(f"{route.action} travels as SEND: use send()")
        self._check_direction(route)
        if message_id is None:
            message_id = self._new_id()
        elif self.version != "2.1":
            raise InvalidMessageId("only OCPP 2.1 lets a retry reuse a message id")
        else:
            self._check_id(message_id)
        payload = self._validated(route, request)
        if len(self._queue) >= self.max_queue:
            raise QueueFull(f"{len(self._queue)} CALLs already queued (max_queue={self.max_queue})")
        frame = fr.encode_call(fr.CALL, message_id, route.action, payload)
        self._queue.append(_Pending(message_id, route, frame, self.call_timeout if timeout is None else timeout))
        self._pump(now)
        return message_id

    def send(self, route: Route[Any, Any], message: Any, now: float) -> str:
        """Write a SEND (2.1) at once; returns its message id. It is never answered."""
        if self.version != "2.1":
            raise LocalError(f"SEND does not exist in OCPP {self.version}")
        if not route.send:
            raise LocalError(f"{route.action} is a CALL: use call()")
        self._check_direction(route)
        message_id = self._new_id()
        payload = self._validated(route, message)
        self._outbox.append(fr.encode_call(fr.SEND, message_id, route.action, payload))
        return message_id

    def respond(self, message_id: str, outcome: Outcome) -> None:
        """Answer an inbound CALL (from ``CallReceived``) with a result or a CALLERROR.

        A Reply's payload must come from ``routing.invoke``/``dispatch``, which validated it.
        """
        if message_id not in self._inbound:
            raise LocalError(f"no unanswered CALL with id {message_id!r}")
        del self._inbound[message_id]
        if isinstance(outcome, Reply):
            if outcome.payload is None:
                raise LocalError("a CALL needs a result payload")
            self._outbox.append(fr.encode_result(message_id, outcome.payload))
        else:
            if outcome.code not in CODES[self.version]:
                raise LocalError(f"{outcome.code!r} is not an OCPP {self.version} error code")
            self._outbox.append(fr.encode_error(fr.CALLERROR, message_id, outcome.code, outcome.description, dict(outcome.details)))

    def cancel(self, message_id: str, now: float) -> list[Event]:
        """Cancel a queued or outstanding CALL; it fails with CallCancelled and can never
        complete. Cancelling an unknown or finished call does nothing."""
        for pending in self._queue:
            if pending.message_id == message_id:
                self._queue.remove(pending)
                return [self._fail(pending, CallCancelled(message_id, pending.route.action, "cancelled"), "cancelled")]
        current = self._outstanding
        if current is not None and current.message_id == message_id:
            self._outstanding = None
            events: list[Event] = [self._fail(current, CallCancelled(message_id, current.route.action, "cancelled"), "cancelled")]
            self._pump(now)
            return events
        return []

    def data_to_send(self) -> list[str]:
        """The frames to write to the WebSocket, in order (each a text message)."""
        out, self._outbox = self._outbox, []
        return out

    # -- time ----------------------------------------------------------------------------

    def next_deadline(self) -> float | None:
        """When ``handle_timeout`` must run next, or None."""
        return None if self._outstanding is None else self._outstanding.deadline

    def handle_timeout(self, now: float) -> list[Event]:
        """Fail the outstanding CALL if its deadline passed, and send the next one."""
        current = self._outstanding
        if current is None or now < current.deadline:
            return []
        self._outstanding = None
        error = CallTimeout(current.message_id, current.route.action, f"no answer within {current.timeout:g} s")
        events: list[Event] = [self._fail(current, error, "timed out")]
        self._pump(now)
        return events

    def connection_lost(self) -> list[Event]:
        """Fail every outstanding and queued CALL; unanswered inbound CALLs are forgotten."""
        events: list[Event] = []
        pending = ([self._outstanding] if self._outstanding else []) + list(self._queue)
        self._outstanding = None
        self._queue.clear()
        self._inbound.clear()
        for p in pending:
            events.append(self._fail(p, ConnectionLost(p.message_id, p.route.action, "connection lost"), "connection lost"))
        return events

    # -- inbound -------------------------------------------------------------------------

    def receive(self, data: str | bytes, now: float) -> list[Event]:
        """Process one inbound text message; see the module docstring for what comes out."""
        if type(data) is str and len(data) > COMPACT_MIN and data.startswith('[2,"'):
            events = self._compact_call(data)
            if events is not None:
                return events
        try:
            frame: fr.Frame = fr.DECODER.decode(data)
        except (msgspec.DecodeError, msgspec.ValidationError, RecursionError):
            return self._malformed(data, now)
        if type(frame) is fr.Call:  # the common case first
            return self._on_call(frame)
        kind = fr.type_of(frame)
        if kind not in self._types:
            return self._unknown_type(kind, frame.message_id)
        if isinstance(frame, fr.CallResult):
            return self._on_result(frame, now)
        if isinstance(frame, fr.CallErrorFrame):
            return self._on_error(frame, now)
        if isinstance(frame, fr.Send):
            return self._on_send(frame)
        assert isinstance(frame, fr.CallResultErrorFrame)
        return self._on_result_error(frame)

    def _compact_call(self, data: str) -> list[Event] | None:
        """One-pass decode of a valid compact CALL (``[2,"id","Action",{...}]``) for a handled
        action, or None: then the general path decides, with all its checks and answers."""
        end_id = data.find('"', 4)
        if end_id < 0 or data[end_id + 1 : end_id + 3] != ',"' or "\\" in data[4:end_id]:
            return None
        end_action = data.find('"', end_id + 3)
        action = data[end_id + 3 : end_action]
        route = self.routes.get(action)
        method = self.handled.get(action)
        if end_action < 0 or route is None or method is None or route.send:
            return None
        try:
            _, mid, decoded_action, request = route.call_frame_decoder.decode(data)
        except (msgspec.DecodeError, msgspec.ValidationError, RecursionError):
            return None
        if decoded_action != action or mid in self._inbound:
            return None
        self._inbound[mid] = action
        return [CallReceived(message_id=mid, action=action, request=request, handler_method=method)]

    def _on_call(self, frame: fr.Call) -> list[Event]:
        mid, action = frame.message_id, frame.action
        route = self.routes.get(action)
        if route is None:
            return self._reject(mid, "NotImplemented", f"unknown action {action!r} in OCPP {self.version}")
        method = self.handled.get(action)
        if method is None:
            return self._reject(mid, "NotSupported", f"{action} is not sent to the {self.role.value} in OCPP {self.version}")
        if route.send:
            return self._reject(mid, "ProtocolError", f"{action} travels as SEND, not as CALL")
        if mid in self._inbound:
            code = "GenericError" if self.version == "1.6" else "RpcFrameworkError"
            return self._reject(mid, code, "a CALL with this message id is being handled already")
        try:
            request = route.request_codec.decode_strict(frame.payload)  # the hot path: valid input
        except (msgspec.ValidationError, RecursionError):
            events: list[Event] = []
            try:
                request = self._decode(route, frame.payload, mid, events)
            except msgspec.ValidationError as exc:
                return self._reject(mid, classify_validation_error(str(exc)), str(exc))
            self._inbound[mid] = action
            events.append(CallReceived(message_id=mid, action=action, request=request, handler_method=method))
            return events
        self._inbound[mid] = action
        return [CallReceived(message_id=mid, action=action, request=request, handler_method=method)]

    def _on_send(self, frame: fr.Send) -> list[Event]:
        mid, action = frame.message_id, frame.action
        route = self.routes.get(action)
        method = self.handled.get(action)
        if route is None or method is None or not route.send:
            why = "unknown action" if route is None else "not a SEND action" if not route.send else "not for this role"
            return [Dropped(reason="invalid_send", message_id=mid, detail=f"{action}: {why}")]
        events: list[Event] = []
        try:
            message = self._decode(route, frame.payload, mid, events)
        except msgspec.ValidationError as exc:
            return [Dropped(reason="invalid_send", message_id=mid, detail=f"{action}: {exc}")]
        events.append(SendReceived(message_id=mid, action=action, message=message, handler_method=method))
        return events

    def _on_result(self, frame: fr.CallResult, now: float) -> list[Event]:
        current = self._take_outstanding(frame.message_id)
        if current is None:
            return [self._stray(frame.message_id, "CALLRESULT")]
        route = current.route
        events: list[Event] = []
        try:
            response = self._decode(route, frame.payload, current.message_id, events, response=True)
        except msgspec.ValidationError as exc:
            code = wire_code(self.version, classify_validation_error(str(exc)))
            if self.version == "2.1":
                self._outbox.append(fr.encode_error(fr.CALLRESULTERROR, current.message_id, code, str(exc)))
            events.append(self._fail(current, ResponseInvalid(current.message_id, route.action, code, str(exc)), None))
        else:
            events.append(CallCompleted(message_id=current.message_id, action=route.action, response=response))
        self._pump(now)
        return events

    def _on_error(self, frame: fr.CallErrorFrame, now: float) -> list[Event]:
        mid = frame.message_id
        if mid == "-1" and self._outstanding is not None:
            mid = self._outstanding.message_id  # the peer could not read our frame's id
        current = self._take_outstanding(mid)
        if current is None:
            return [self._stray(frame.message_id, "CALLERROR")]
        error = CallErrorReceived(mid, current.route.action, frame.code, frame.description, frame.details)
        events: list[Event] = [self._fail(current, error, None)]
        self._pump(now)
        return events

    def _on_result_error(self, frame: fr.CallResultErrorFrame) -> list[Event]:
        return [
            ResultRejected(message_id=frame.message_id, code=frame.code, description=frame.description, details=frame.details)
        ]

    def _malformed(self, data: str | bytes, now: float) -> list[Event]:
        problem = fr.diagnose(data, self.version)
        if problem.kind == "unknown_type":
            return self._unknown_type(problem.message_type or 0, problem.message_id)
        mid = problem.message_id
        kind = problem.message_type
        if kind in (fr.CALLRESULT, fr.CALLERROR) and mid is not None:
            current = self._take_outstanding(mid)
            if current is None:
                return [Dropped(reason="invalid_reply", message_id=mid, detail=problem.detail)]
            code = wire_code(self.version, "ProtocolError" if self.version != "1.6" else "FormatViolation")
            if self.version == "2.1" and kind == fr.CALLRESULT:
                self._outbox.append(fr.encode_error(fr.CALLRESULTERROR, mid, code, problem.detail))
            events: list[Event] = [self._fail(current, ResponseInvalid(mid, current.route.action, code, problem.detail), None)]
            self._pump(now)
            return events
        if kind == fr.SEND:
            return [Dropped(reason="invalid_send", message_id=mid, detail=problem.detail)]
        if kind == fr.CALLRESULTERROR:
            return [Dropped(reason="unknown_result_error", message_id=mid, detail=problem.detail)]
        if problem.kind == "rpc":
            return self._reject("-1" if mid is None else mid, "RpcFrameworkError", problem.detail)
        if problem.kind == "payload":
            return self._reject("-1" if mid is None else mid, "FormatViolation", problem.detail)
        # a CALL with the wrong number or kind of elements
        if self.version == "1.6":
            code = "ProtocolError" if problem.too_short else "FormatViolation"  # 1.6: "incomplete"
        else:
            code = "ProtocolError"  # 2.x: "not conform the PDU structure"
        return self._reject("-1" if mid is None else mid, code, problem.detail)

    def _unknown_type(self, message_type: int, message_id: str | None) -> list[Event]:
        if self.version == "2.0.1":  # decision: answer, as 2.0.1 Part 4 section 4.4 requires
            return self._reject("-1" if message_id is None else message_id, "MessageTypeNotSupported", f"message type {message_type} is not supported")
        return [Dropped(reason="unknown_message_type", message_id=message_id, detail=f"message type {message_type} ignored")]

    # -- helpers -------------------------------------------------------------------------

    def _decode(self, route: Route[Any, Any], raw: msgspec.Raw, mid: str, events: list[Event], response: bool = False) -> Any:
        codec = route.response_codec if response else route.request_codec
        assert codec is not None
        try:
            return codec.decode(raw)
        except RecursionError:
            raise msgspec.ValidationError("Expected `object`, got a value nested too deeply") from None
        except msgspec.ValidationError as exc:
            if self.overrides.get(route.action, self.strictness) is not Strictness.LENIENT:
                raise
            value, tolerated = decode_lenient(codec, bytes(raw), exc)
            events.extend(ToleratedViolation(message_id=mid, action=route.action, tolerated=t) for t in tolerated)
            return value

    def _reject(self, message_id: str, code: str, description: str) -> list[Event]:
        code = wire_code(self.version, code)
        self._outbox.append(fr.encode_error(fr.CALLERROR, message_id, code, description))
        return [Rejected(message_id=message_id, code=code, description=description[:255], frame_type=fr.CALLERROR)]

    def _take_outstanding(self, message_id: str) -> _Pending | None:
        current = self._outstanding
        if current is not None and current.message_id == message_id:
            self._outstanding = None
            return current
        return None

    def _stray(self, message_id: str, what: str) -> Dropped:
        why = self._ended.get(message_id)
        if why is not None:
            return Dropped(reason="late_reply", message_id=message_id, detail=f"{what} for a CALL that {why}")
        return Dropped(reason="unknown_reply", message_id=message_id, detail=f"{what} for no CALL of ours")

    def _fail(self, pending: _Pending, error: CallFailure, remember: str | None) -> CallFailed:
        if remember is not None:
            self._ended[pending.message_id] = remember
            while len(self._ended) > self._remember:
                self._ended.popitem(last=False)
        return CallFailed(message_id=pending.message_id, action=pending.route.action, error=error)

    def _pump(self, now: float) -> None:
        if self._outstanding is None and self._queue:
            pending = self._queue.popleft()
            pending.deadline = now + pending.timeout
            self._outstanding = pending
            self._outbox.append(pending.frame)

    def _check_direction(self, route: Route[Any, Any]) -> None:
        if self.role not in route.initiators:
            raise WrongDirection(f"the {self.role.value} never sends {route.action} in OCPP {self.version}")

    def _check_id(self, message_id: str) -> None:
        if not isinstance(message_id, str) or not 1 <= len(message_id) <= fr.MAX_ID_LENGTH:
            raise InvalidMessageId(f"message ids are 1 to {fr.MAX_ID_LENGTH} characters: {message_id!r}")
        if (self._outstanding and self._outstanding.message_id == message_id) or any(
            p.message_id == message_id for p in self._queue
        ):
            raise InvalidMessageId(f"message id {message_id!r} is in use")

    def _new_id(self) -> str:
        message_id = self._id_factory()
        self._check_id(message_id)
        return message_id

    def _validated(self, route: Route[Any, Any], payload: Any) -> bytes:
        if not isinstance(payload, route.request):
            raise InvalidMessage(f"{route.action} needs a {route.request.__name__}, not {type(payload).__name__}")
        try:
            data = route.request_codec.encode(payload)
            route.request_codec.decode(data)
        except (msgspec.ValidationError, msgspec.EncodeError, TypeError, ValueError) as exc:
            raise InvalidMessage(f"{route.action}: {exc}") from None
        return data
