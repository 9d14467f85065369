"""Routing: which side sends which action, typed routes, role bindings, handlers and contexts.

Generated per version:
    routing.py  -- ``Action`` (every action), one typed ``Route`` constant per action, ``ROUTES``
    csms.py     -- ``CsmsHandler`` (what a CSMS receives), ``ChargingStationClient`` (what a
                   CSMS may send to a station), ``Context`` and ``BINDING``
    station.py  -- ``StationHandler``, ``CsmsClient``, ``Context`` and ``BINDING``

A handler method left unimplemented raises :class:`NotSupportedError`, answered with the
CALLERROR NotSupported; an action the version does not define gets NotImplemented; an action
the receiving role never receives (wrong direction) gets NotSupported. A handler class that
defines an ``on_<name>`` method for no action its role receives is refused when the class is
defined. Clients talk to a connection or session through the :class:`Caller` protocol, so
they work over any transport.
"""

from __future__ import annotations

import asyncio
import enum
import inspect
import logging
import types
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Annotated, Any, ClassVar, Generic, Literal, NamedTuple, Protocol, TypeVar, cast

import msgspec

from .codes import ErrorCode16, ErrorCode2x, Failure
from .payload import PayloadCodec, codec, dec_hook

if TYPE_CHECKING:
    from .security import Redaction
    from .session import Session
    from .signing import Certificate

__all__ = [
    "CallContext",
    "CallError",
    "CallError16",
    "CallError2x",
    "CallErrorAnswer",
    "Caller",
    "Handler",
    "HandlerError",
    "NotSupportedError",
    "Outcome",
    "Reply",
    "Role",
    "RoleBinding",
    "Route",
    "awaiting",
    "invoke",
    "lifecycle_method",
    "settle",
    "start_handler",
]

log = logging.getLogger("ocppgen")
_Coroutine = types.CoroutineType
Req = TypeVar("Req")
Res = TypeVar("Res")
H = TypeVar("H")
C = TypeVar("C")


class Role(enum.Enum):
    """The two ends of an OCPP link."""

    CHARGING_STATION = "ChargingStation"
    CSMS = "CSMS"


class Route(Generic[Req, Res]):
    """One action: its request and response types, who may initiate it, and its codecs.

    ``response`` is None for an action that travels as SEND (2.1), which has no response.
    The codecs are built once, when the route is created, and shared by every message.
    Routes are generated (``routing.BOOT_NOTIFICATION``); you do not make them.

    Args:
        action: The action's wire name (``BootNotification``).
        request: The request type.
        response: The response type, or None for a SEND.
        initiators: The roles that may send the request.
        send: Whether the action travels as SEND (2.1) rather than CALL.
        integral_floats: Whether the schema's draft counts ``1.0`` as an integer (draft-06:
            2.0.1 and 2.1; not draft-04, 1.6).
    """

    __slots__ = (
        "action", "request", "response", "initiators", "send", "request_codec", "response_codec", "call_frame_decoder",
        "_datetimes",
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
            tuple[Literal[2], Annotated[str, msgspec.Meta(max_length=36)], str, request],  # type: ignore[valid-type]
            dec_hook=dec_hook,
        )

        self._datetimes: tuple[bool, bool] | None = None

    def _kinds(self) -> tuple[bool, bool]:
        if self._datetimes is None:
            from .wire import has_kind

            from msgspec import inspect as mi

            request: Any = self.request
            response: Any = self.response
            self._datetimes = (
                has_kind(request, mi.DateTimeType),
                response is not None and has_kind(response, mi.DateTimeType),
            )
        return self._datetimes

    @property
    def request_datetimes(self) -> bool:
        """Whether the request type has a date-time field (computed once, on first use)."""
        return self._kinds()[0]

    @property
    def response_datetimes(self) -> bool:
        """Whether the response type has a date-time field."""
        return self._kinds()[1]

    def __repr__(self) -> str:
        who = "/".join(sorted(r.value for r in self.initiators))
        return f"Route({self.action!r}, from {who}{', SEND' if self.send else ''})"


class Caller(Protocol):
    """What a typed client needs: send a CALL and await its result, or send a SEND."""

    async def call(self, route: Route[Req, Res], request: Req, timeout: float | None) -> Res:
        """Send ``request`` as a CALL of ``route`` and return the response; ``timeout`` in
        seconds (None: the link's ``call_timeout``)."""
        ...

    async def send(self, route: Route[Req, Any], message: Req) -> None:
        """Send ``message`` as a SEND of ``route`` (2.1); nothing comes back."""
        ...


class RoleBinding(Generic[H, C]):
    """Everything a connection needs to speak one version as one role (generated per role as
    ``BINDING``): the routes, the handler type and its method per received action, and the
    typed client of the peer. ``H`` is the role's handler class, ``C`` the peer's client class,
    so ``registry.client(station_id, v201.csms.BINDING)`` is a ``ChargingStationClient``.
    Bindings are generated; you do not make them.

    Attributes:
        version: The OCPP version (``"2.0.1"``).
        subprotocol: Its WebSocket subprotocol (``"ocpp2.0.1"``).
        role: The role this binding speaks as.
        routes: Every route of the version, by action.
        handled: The actions this role receives, mapped to their handler method names.
        handler_type: The role's handler base class.
        peer_client: Makes the typed client of the peer over a ``Caller``.
        redaction: What frame logs of this version blank (``routing.REDACTION``).
    """

    __slots__ = ("version", "subprotocol", "role", "routes", "handled", "handler_type", "peer_client", "redaction")

    def __init__(
        self,
        *,
        version: str,
        subprotocol: str,
        role: Role,
        routes: Mapping[str, Route[Any, Any]],
        handled: Mapping[str, str],
        handler_type: type[H],
        peer_client: Callable[[Caller], C],
        redaction: Redaction | None = None,
    ) -> None:
        self.version = version
        self.subprotocol = subprotocol
        self.role = role
        self.routes = routes
        self.handled = handled
        self.handler_type = handler_type
        self.peer_client = peer_client
        #: What frame logs of this version blank (generated: ``routing.REDACTION``).
        self.redaction = redaction

    def __repr__(self) -> str:
        return f"RoleBinding(OCPP {self.version}, {self.role.value})"

    def make_handler(self, handler: H | Callable[[Session], H], session: Session) -> H:
        """The handler for ``session``: ``handler`` itself, or what the factory makes of it."""
        if isinstance(handler, self.handler_type):
            return handler
        if not callable(handler):
            raise TypeError(f"{handler!r} is neither a {self.handler_type.__name__} nor a factory of one")
        made = handler(session)
        if not isinstance(made, self.handler_type):
            raise TypeError(f"the handler factory made a {type(made).__name__}, not a {self.handler_type.__name__}")
        return made


class Handler:
    """Base of the generated handler classes (``CsmsHandler``, ``StationHandler``).

    Generated subclasses define one ``on_<action>`` per action their role receives, and the
    lifecycle methods ``connected``, ``registered`` and ``disconnected``. A user's subclass
    that defines an ``on_...`` method for no action its role receives (a typo, or an action
    of the other direction) is refused with TypeError when the class is created.
    """

    _ocpp_receives: ClassVar[frozenset[str]] = frozenset()
    _ocpp_sends: ClassVar[frozenset[str]] = frozenset()
    _ocpp_role: ClassVar[str] = ""
    ocpp_version: ClassVar[str] = ""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        receives = cls._ocpp_receives
        for name in cls.__dict__:
            if not name.startswith("on_") or name in receives or not receives:
                continue
            hint = ""
            if name in cls._ocpp_sends:
                hint = f": the {cls._ocpp_role} sends that action, it never receives it (call it on the client)"
            elif name in ("on_connect", "on_connected", "on_registered", "on_disconnect", "on_disconnected"):
                hint = ": the lifecycle methods are named connected, registered and disconnected"
            raise TypeError(
                f"{cls.__qualname__}.{name} handles no action the {cls._ocpp_role} receives in OCPP {cls.ocpp_version}{hint}"
            )


class CallContext(Generic[C]):
    """What a handler knows about the CALL it handles: the station's session, the typed client
    of the peer, the message id and action; and a way to act once the answer was sent.

    Attributes:
        session: The station's session (identity, version, registration, ``state``).
        client: The typed client of the peer (the station for a CSMS handler, the CSMS for a
            station handler); calls from a handler belong in ``after_response`` work.
        message_id: The CALL's message id.
        action: The CALL's action.
        signer: The verified signer's certificate of a signed CALL (Part 4 chapter 7), else None.
    """

    __slots__ = ("session", "client", "message_id", "action", "signer", "_after")

    def __init__(self, session: Session, client: C, message_id: str, action: str, signer: Certificate | None = None) -> None:
        self.session = session
        self.client = client
        self.message_id = message_id
        self.action = action
        #: The verified signer's certificate of a signed CALL (Part 4 chapter 7), else None.
        self.signer = signer
        self._after: list[Callable[[], Awaitable[object]]] | None = None

    @property
    def station_id(self) -> str:
        """The station's identity (as it presented itself)."""
        return self.session.identity

    @property
    def ocpp_version(self) -> str:
        return self.session.version or ""

    def after_response(self, work: Callable[[], Awaitable[object]]) -> None:
        """Run ``work()`` once this CALL's answer has been written to the connection, e.g. to
        send a GetVariables after answering a BootNotification. It runs as its own task;
        whatever it raises is logged. Work registered by a CALL that is answered with an error
        (or not at all) still runs after that answer."""
        if self._after is None:
            self._after = []
        self._after.append(work)

    def take_after(self) -> list[Callable[[], Awaitable[object]]]:
        """The work registered with ``after_response`` (for the connection; clears it)."""
        work, self._after = self._after or [], None
        return work


class NotSupportedError(Exception):
    """Raised by a handler for an ``action`` it does not support; answered with NotSupported,
    with ``reason`` as the description."""

    def __init__(self, action: str, reason: str = "") -> None:
        self.action = action
        super().__init__(reason or f"{action} is not supported")


class CallErrorAnswer(Exception):
    """Raised by a handler to answer its CALL with a CALLERROR of its choosing (base class:
    raise the version's ``CallError``, e.g. ``v201.csms.CallError``, whose ``code`` is typed by
    that version's error-code set). ``description`` becomes errorDescription (cut to 255
    characters), ``details`` errorDetails (a JSON object)."""

    def __init__(self, code: str, description: str = "", details: Mapping[str, object] | None = None) -> None:
        self.code = code
        self.description = description
        self.details: Mapping[str, object] = details or {}
        super().__init__(f"{code}: {description}" if description else code)


class CallError16(CallErrorAnswer):
    """A CALLERROR a 1.6 handler answers with: ``raise CallError('SecurityError', '...')``.
    ``code`` is one of OCPP-J 1.6's codes (section 4.2.3, OCA's spelling); ``description``
    becomes errorDescription, ``details`` errorDetails (a JSON object)."""

    def __init__(self, code: ErrorCode16, description: str = "", details: Mapping[str, object] | None = None) -> None:
        super().__init__(code, description, details)


class CallError2x(CallErrorAnswer):
    """A CALLERROR a 2.0.1 or 2.1 handler answers with: ``raise CallError('SecurityError')``
    (e.g. B03.FR.08), ``raise CallError('OccurrenceConstraintViolation', ...)`` (e.g.
    B06.FR.16). ``code`` is one of Part 4 section 4.3's codes; ``description`` becomes
    errorDescription, ``details`` errorDetails (a JSON object, Part 4 section 4.2.3)."""

    def __init__(self, code: ErrorCode2x, description: str = "", details: Mapping[str, object] | None = None) -> None:
        super().__init__(code, description, details)


class HandlerError(NamedTuple):
    """A handler ended without a response: what to answer (``failure``: a ``Failure``, or the
    wire code a handler chose), a ``description``, and errorDetails (``details``)."""

    failure: Failure | str
    description: str
    details: Mapping[str, object] | None = None


@dataclass(frozen=True)
class Reply:
    """A CALLRESULT ``payload`` (encoded JSON) to send back (None for a SEND, which is never
    answered)."""

    payload: bytes | None


@dataclass(frozen=True)
class CallError:
    """A CALLERROR to send back: ``code`` in the version's exact wire spelling, the
    ``description`` and the errorDetails ``details``."""

    code: str
    description: str
    details: Mapping[str, Any] = field(default_factory=dict)


Outcome = Reply | CallError


def lifecycle_method(handler: object, base: type, name: str) -> Callable[..., Any] | None:
    """``handler``'s lifecycle method ``name`` (``connected``, ``registered``, ``disconnected``),
    or None when it has none or it is ``base``'s (the generated handler class's) empty default:
    nothing to schedule then, which saves a task per connection event (reconnection storms)."""
    method = getattr(handler, name, None)
    if method is None or getattr(method, "__func__", None) is base.__dict__.get(name):
        return None
    return method  # type: ignore[no-any-return]


def start_handler(handler: object, method_name: str, route: Route[Any, Any], request: Any, context: CallContext[Any]) -> object:
    """Call ``handler``'s method ``method_name`` with ``request`` (of ``route``) and ``context``:
    what a plain ``def`` method returned, a :class:`HandlerError` when the call raised, or the
    awaitable an ``async def`` method returned (nothing of its body has run yet; ``awaiting``
    tells, ``settle`` awaits it). The exceptions are mapped as ``invoke`` maps them; a
    ``CancelledError`` raised by a plain method propagates (as it cancels a handler's task).
    """
    try:
        return getattr(handler, method_name)(request, context)
    except asyncio.CancelledError:
        raise
    except Exception as exc:
        return handler_error(exc, route, context)


def awaiting(result: object, route: Route[Any, Any]) -> bool:
    """Whether ``result`` (of ``start_handler``) is an awaitable still to be awaited: a coroutine, or
    any other awaitable a handler returned. ``route``'s response type, None and HandlerError
    are told apart without the generic check (the common cases, cheaply)."""
    kind = type(result)
    if kind is _Coroutine:
        return True
    if kind is route.response or result is None or kind is HandlerError:
        return False
    return inspect.isawaitable(result)


async def settle(awaitable: Awaitable[object], route: Route[Any, Any], context: CallContext[Any]) -> object:
    """Await ``awaitable``, what an ``async def`` handler method of ``route`` returned
    (``start_handler``), with ``context`` for the log record: its response, or a
    :class:`HandlerError` when it raised."""
    try:
        return await awaitable
    except asyncio.CancelledError:
        raise
    except Exception as exc:
        return handler_error(exc, route, context)


def handler_error(exc: Exception, route: Route[Any, Any], context: CallContext[Any]) -> HandlerError:
    """What a handler's exception answers: NotSupported for ``NotSupportedError``, the chosen
    CALLERROR for ``CallErrorAnswer``, InternalError (logged, type name only) for the rest."""
    if isinstance(exc, NotSupportedError):
        return HandlerError(Failure.ACTION_NOT_SUPPORTED, str(exc))
    if isinstance(exc, CallErrorAnswer):  # the handler chose its CALLERROR
        return HandlerError(exc.code, exc.description, exc.details)
    # a handler bug must not reach the peer as a stack trace
    log.error(
        "%s: the %s handler raised",
        context.station_id,
        route.action,
        exc_info=exc,
        extra={"ocpp_station": context.station_id, "ocpp_message_id": context.message_id, "ocpp_action": route.action},
    )
    return HandlerError(Failure.HANDLER_FAILED, f"{route.action} handler failed: {type(exc).__name__}")


async def invoke(handler: object, method_name: str, route: Route[Any, Any], request: Any, context: CallContext[Any]) -> object:
    """Run ``handler``'s method ``method_name`` with ``request`` (of ``route``) and ``context``:
    its response (a plain ``def`` method's return value, or what the awaitable an ``async
    def`` method returned gave), or a :class:`HandlerError` when it raised.

    The response is checked and validated by whoever encodes it (the protocol core's
    ``respond``); a handler exception never reaches the peer beyond its type name.
    """
    result = start_handler(handler, method_name, route, request, context)
    if awaiting(result, route):
        return await settle(cast("Awaitable[object]", result), route, context)
    return result
