"""Routing: which side sends which action, typed routes, role handlers and dispatch.

Generated per version:
    routing.py  -- ``Action`` (every action), one typed ``Route`` constant per action, ``ROUTES``
    csms.py     -- ``CsmsHandler`` (what a CSMS receives) and ``ChargingStationClient``
                   (what a CSMS may send to a station)
    station.py  -- ``StationHandler`` (what a station receives) and ``CsmsClient``

A handler method left unimplemented raises :class:`NotSupportedError`, which ``dispatch``
answers with the CALLERROR NotSupported; an action the version does not define gets
NotImplemented; an action the receiving role never receives (wrong direction) gets
NotSupported. Clients talk to the connection through the :class:`Caller` protocol, so they
work over any transport.
"""

from __future__ import annotations

import enum
import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Annotated, Any, Generic, Literal, Protocol, TypeVar

import msgspec

from .errors import wire_code
from .payload import PayloadCodec, codec, dec_hook

__all__ = [
    "CallContext",
    "CallError",
    "Caller",
    "NotSupportedError",
    "Outcome",
    "Reply",
    "Role",
    "RoleBinding",
    "Route",
    "classify_validation_error",
    "dispatch",
    "invoke",
]

log = logging.getLogger("ocppgen")
Req = TypeVar("Req")
Res = TypeVar("Res")


class Role(enum.Enum):
    """The two ends of an OCPP link."""

    CHARGING_STATION = "ChargingStation"
    CSMS = "CSMS"


class Route(Generic[Req, Res]):
    """One action: its request and response types, who may initiate it, and its codecs.

    ``response`` is None for an action that travels as SEND (2.1), which has no response.
    The codecs are built once, when the route is created, and shared by every message.
    """

    __slots__ = (
        "action", "request", "response", "initiators", "send", "request_codec", "response_codec", "call_frame_decoder"
    )

    def __init__(
        self,
        action: str,
        request: type[Req],
        response: type[Res] | None,
        initiators: frozenset[Role],
        *,
        send: bool,
        integral_floats: bool,
    ) -> None:
        self.action = action
        self.request = request
        self.response = response
        self.initiators = initiators
        self.send = send
        self.request_codec: PayloadCodec[Req] = codec(request, integral_floats)
        self.response_codec: PayloadCodec[Res] | None = (
            None if response is None else codec(response, integral_floats)
        )
        #: Decodes a whole compact CALL frame of this action in one pass (the protocol core's
        #: hot path); anything it refuses goes through the general two-step path.
        self.call_frame_decoder = msgspec.json.Decoder(
            tuple[Literal[2], Annotated[str, msgspec.Meta(min_length=1, max_length=36)], str, request],  # type: ignore[valid-type]
            dec_hook=dec_hook,
        )

    def __repr__(self) -> str:
        who = "/".join(sorted(r.value for r in self.initiators))
        return f"Route({self.action!r}, from {who}{', SEND' if self.send else ''})"


@dataclass(frozen=True)
class RoleBinding:
    """Everything a connection needs to speak one version as one role (generated per role)."""

    version: str
    subprotocol: str
    role: Role
    routes: Mapping[str, Route[Any, Any]]
    handled: Mapping[str, str]
    peer_client: Callable[[Caller], Any]


@dataclass(frozen=True)
class CallContext:
    """What a handler knows about the message it handles."""

    station_id: str
    ocpp_version: str
    message_id: str
    connection: Mapping[str, Any] = field(default_factory=dict)


class NotSupportedError(Exception):
    """Raised by a handler for an action it does not support; answered with NotSupported."""

    def __init__(self, action: str, reason: str = "") -> None:
        self.action = action
        super().__init__(reason or f"{action} is not supported")


class Caller(Protocol):
    """What a typed client needs from a connection: send a CALL and await its result, or a SEND."""

    async def call(self, route: Route[Req, Res], request: Req, timeout: float | None) -> Res: ...

    async def send(self, route: Route[Req, Any], message: Req) -> None: ...


@dataclass(frozen=True)
class Reply:
    """A CALLRESULT payload to send back (None for a SEND, which is never answered)."""

    payload: bytes | None


@dataclass(frozen=True)
class CallError:
    """A CALLERROR to send back: the error code's exact wire spelling for the version."""

    code: str
    description: str
    details: Mapping[str, Any] = field(default_factory=dict)


Outcome = Reply | CallError

def classify_validation_error(message: str) -> str:
    """The (2.x-named) error code for a msgspec validation message."""
    if message.startswith("Expected `object`, got") and " - at `" not in message:
        return "FormatViolation"  # the payload itself is not a JSON object
    if "missing required field" in message or message.startswith("Expected `array` of length"):
        return "OccurrenceConstraintViolation"  # a required field absent, or an array's cardinality
    if message.startswith("Expected `") and "got `" in message and "with a timezone" not in message:
        return "TypeConstraintViolation"
    if "unknown field" in message:
        return "FormatViolation"
    return "PropertyConstraintViolation"


async def invoke(handler: object, method_name: str, route: Route[Any, Any], request: Any, context: CallContext) -> Outcome:
    """Run one handler method and turn what it does into the answer to send.

    The response is validated strictly before it is encoded (outbound is always strict).
    """
    method: Callable[[Any, CallContext], Awaitable[Any]] = getattr(handler, method_name)
    try:
        result = await method(request, context)
    except NotSupportedError as exc:
        return CallError("NotSupported", str(exc)[:255])
    except Exception as exc:  # a handler bug must not reach the peer as a stack trace
        log.exception("%s: the %s handler raised", context.station_id, route.action)
        return CallError("InternalError", f"{route.action} handler failed: {type(exc).__name__}")
    if route.response is None:
        return Reply(None)
    if not isinstance(result, route.response):
        log.error("%s: the %s handler returned %s", context.station_id, route.action, type(result).__name__)
        return CallError(
            "InternalError", f"{route.action} handler returned {type(result).__name__}, not {route.response.__name__}"
        )
    assert route.response_codec is not None
    try:
        payload = route.response_codec.encode(result)
        route.response_codec.decode(payload)
    except (msgspec.ValidationError, msgspec.EncodeError, TypeError, ValueError) as exc:
        return CallError("InternalError", f"{route.action} handler returned an invalid response: {exc}"[:255])
    return Reply(payload)


async def dispatch(
    version: str,
    routes: Mapping[str, Route[Any, Any]],
    handled: Mapping[str, str],
    handler: object,
    action: str,
    payload: bytes,
    context: CallContext,
) -> Outcome:
    """Decode an inbound CALL (or SEND), run its handler, and return what to answer.

    ``routes`` are every action of the version, ``handled`` maps the actions the receiving
    role receives to its handler method names. The caller sends the outcome back; for a SEND
    it never answers, whatever the outcome (report a CallError locally instead).
    """
    route = routes.get(action)
    if route is None:
        return CallError("NotImplemented", f"unknown action {action!r} in OCPP {version}")
    name = handled.get(action)
    if name is None:
        return CallError("NotSupported", f"{action} is not sent to this side in OCPP {version}")
    try:
        request = route.request_codec.decode(payload)
    except msgspec.ValidationError as exc:
        return CallError(wire_code(version, classify_validation_error(str(exc))), str(exc)[:255])
    except msgspec.DecodeError as exc:
        return CallError(wire_code(version, "FormatViolation"), str(exc)[:255])
    return await invoke(handler, name, route, request, context)
