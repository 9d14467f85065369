"""The OCPP-J protocol core: frames in, events and frames out, no I/O, no clock, no randomness.

Theory of operation
-------------------
One ``OcppProtocol`` serves one connection, for one OCPP version and one role. It may be given
the station's ``Session`` (see ``session``), which outlives the connection and holds the rules
that do: the registration gate in both directions and the 2.1 answer cache.

Inbound. ``receive(data, now)`` takes one WebSocket text message (or its UTF-8 bytes) and
returns events. Each frame ends in exactly one outcome (see ``events``): a typed
``CallReceived``/``SendReceived`` for the
connection to run a handler on, a reply matched to one of our CALLs, an answer the core wrote
itself (``Rejected``: CALLERROR, or CALLRESULTERROR on 2.1; ``Answered``: a CALLRESULT from the
2.1 answer cache or one the registration state prescribes), or a documented ``Dropped``.
Nothing an inbound frame contains raises out of ``receive``.

Answering. The connection runs the handler and passes its typed response to
``respond(message_id, response)``, which validates it strictly and writes the CALLRESULT (or
InternalError if the response is invalid); ``respond_error`` writes a CALLERROR. Every CALL
received has a deadline (``handler_timeout``): when it passes, ``handle_timeout`` answers
InternalError and emits ``HandlerTimedOut``; a later ``respond`` for that id does nothing.

Outbound. ``call(route, request, now)`` checks the session's registration rules, validates the
payload strictly and queues the CALL. At most one CALL per direction is outstanding: the next
queued CALL goes out when the current one is answered, fails, times out or is cancelled.
``send`` (2.1 SEND) goes out at once, even while a CALL is outstanding. CALLs from the two
sides may cross. The caller collects frames with ``data_to_send()``.

Time. Every input takes ``now`` (seconds, any monotonic origin). ``next_deadline()`` is the
time at which ``handle_timeout(now)`` must be called next (None: no timer). A call that timed
out or was cancelled can never complete later: its late reply becomes ``Dropped(late_reply)``.

Limits. ``max_bad_messages``: once the peer sent more invalid frames than this, the core emits
``CloseRequested`` (once). Error codes come from one table (``codes``), spelled as each
version spells them (docs/decisions/0005-protocol-core.md).
"""

from __future__ import annotations

import datetime
import enum
import uuid
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

import msgspec
from msgspec import inspect as mi

from . import frames as fr
from .codes import CODES, Failure, classify_validation_error, code_for
from .errors import (
    CallCancelled,
    CallErrorReceived,
    CallFailure,
    CallTimeout,
    ConnectionLost,
    InvalidMessage,
    InvalidMessageId,
    LocalError,
    NotAllowed,
    QueueFull,
    ResponseInvalid,
    WrongDirection,
)
from .events import (
    Answered,
    CallCompleted,
    CallQueued,
    CallFailed,
    CallReceived,
    CloseRequested,
    Dropped,
    Event,
    HandlerTimedOut,
    RegistrationChanged,
    Rejected,
    ResponseRefused,
    ResultRejected,
    SendReceived,
    ToleratedViolation,
)
from . import signing as sg
from . import wire
from .admission import BootPacer
from .lenient import Tolerated, decode_lenient
from .payload import dec_hook, enc_hook
from .routing import (
    CallContext,
    CallError,
    HandlerError,
    Outcome,
    Reply,
    Role,
    RoleBinding,
    Route,
    invoke,
)
from .session import Registration, Session

__all__ = ["OcppProtocol", "Strictness", "default_message_id", "dispatch", "encode_payload"]

H = TypeVar("H")

# Drops that are the peer's fault and count towards max_bad_messages.
_BAD_DROPS = frozenset({"unknown_message_type", "unknown_reply", "invalid_send", "invalid_reply", "unknown_result_error"})


class Strictness(enum.Enum):
    """How inbound payloads are validated. Outbound payloads are always validated strictly."""

    STRICT = "strict"
    LENIENT = "lenient"


def default_message_id() -> str:
    """A random UUID: 36 characters, unique across connections, reconnects and restarts."""
    return str(uuid.uuid4())


def encode_payload(
    route: Route[Any, Any], payload: object, *, response: bool, millis: bool = False, decimals: int | None = None
) -> bytes:
    """Encode ``payload``, a request (or, with ``response``, a response) of ``route``, and validate it
    strictly; raises InvalidMessage saying what is wrong. Outbound is always strict.

    ``millis``: date-times with at most 3 fractional digits (2.x Part 2 section 3.1);
    ``decimals``: floats with at most that many decimal places (2.x: 6 towards a station)."""
    expected = route.response if response else route.request
    # the fast path pays where a value rule applies (2.x); without one (1.6) the general path is
    # as cheap (never when expected is None: no payload is of type None)
    if type(payload) is expected and (millis or decimals is not None):
        # one dict per set of rules, keyed by the type: no key tuple to build and hash
        plans = (_BY_RULES[1] if decimals is None else _BY_RULES[2] if decimals == 6 else None) if millis else None
        out = plans.get(expected) if plans is not None else None
        if out is None:
            out = _outbound(expected, millis, decimals)
            if plans is not None:
                plans[expected] = out
        data = out.encode(payload)
        if data is not None:
            return data
    return _encode_checked(route, payload, response, millis, decimals)  # (positional: a cheaper call)


def _encode_checked(
    route: Route[Any, Any], payload: object, response: bool, millis: bool = False, decimals: int | None = None
) -> bytes:
    """:func:`encode_payload`'s general path: every check in turn, and the error each one gives."""
    expected = route.response if response else route.request
    codec = route.response_codec if response else route.request_codec
    if expected is None or codec is None:
        raise InvalidMessage(f"{route.action} has no response: it travels as SEND")
    if not isinstance(payload, expected):
        raise InvalidMessage(f"{route.action} needs {_qualified(expected)}, not {_qualified(type(payload))}")
    try:
        data = _PAYLOAD_ENCODER.encode(payload)  # what codec.encode does, without the call
        if millis or decimals is not None:
            data = wire.limit(payload, data, millis=millis, decimals=decimals)
        try:
            codec.decode_strict(data)  # valid output: the bare decoder
        except msgspec.ValidationError:
            codec.decode(data)  # the draft-06 integer rule, then the verdict
    except (msgspec.ValidationError, msgspec.EncodeError, TypeError, ValueError) as exc:
        raise InvalidMessage(f"{route.action}: {exc}") from None
    return data


class _Outbound:
    """What encoding one payload type under one set of value rules can ever need, decided once
    (issue 14), as two functions made for it: ``encode(payload)``, the fast path of
    :func:`encode_payload`, and ``result(message_id, payload)``, the CALLRESULT frame of
    ``respond`` when nothing but the frame is needed. Both are only called with a payload of
    exactly ``type`` and return None whenever the general path (:func:`_encode_checked`) must
    decide (it then gives the exact error, or the draft-06 integer rule's verdict); whatever
    they do return is what the general path returns. How each step is exact:

    - Value rules (2.x Part 2 section 3.1, at most 3 decimal places in a date-time; Part 2
      primitive datatypes, 6 decimals towards a station): a type whose date-times are all its
      top-level fields is cut while it is encoded (``wire.encode_limited``, which returns what
      ``wire.limit`` returns, or None). For any other type ``limit`` scans the text, and
      changes nothing unless its own first test (``wire.needs_limit``: a six-digit fraction, or
      an exponent where floats are rounded) says so; that test finds nothing in a frame exactly
      when it finds nothing in the payload it holds, or the frame's id gives a false alarm and
      the payload path decides. Date-times deeper down are cut in the encoded text
      (``wire.cut_paths``, which returns what ``limit`` returns, or None), read from the values
      without a scan when the decimal rule is off.
    - Validation: msgspec does not check a struct on construction, so the encoded text is
      decoded strictly, as the general path does; the whole frame ``[3, id, payload]`` with a
      decoder of ``tuple[int, str, T]``, which accepts it exactly when ``T``'s decoder accepts
      the payload. One exception: ``{}`` of a type with no required field is valid (the strict
      decode of ``{}`` is a function of the type alone, run here once); a frame ends with
      ``,{}]`` only when its payload is ``{}`` (any other object ends with a value, never
      ``{``).
    - The frame: msgspec's encoding of ``(3, id, payload)`` is ``[3,`` + the id's encoding + ``,``
      + the payload's + ``]``, what ``frames.encode_result`` writes (Part 4 section 4.2.2)."""

    __slots__ = ("type", "empty_valid", "encode", "result")

    def __init__(self, type_: type, millis: bool, decimals: int | None) -> None:
        self.type = type_
        decoder: msgspec.json.Decoder[Any] = msgspec.json.Decoder(type_, dec_hook=dec_hook)  # as PayloadCodec.decode_strict
        frame_decoder: msgspec.json.Decoder[Any] = msgspec.json.Decoder(tuple[int, str, type_], dec_hook=dec_hook)  # type: ignore[valid-type]
        validate, validate_frame = decoder.decode, frame_decoder.decode
        try:
            decoder.decode(b"{}")
        except msgspec.ValidationError:
            empty_valid = False
        else:
            empty_valid = True
        self.empty_valid = empty_valid
        rules = millis or decimals is not None
        top = wire.top_datetimes(type_) if millis else None
        plan = wire.millis_plan(type_) if millis else None
        opens = () if plan is None else plan[1]
        encode = _PAYLOAD_ENCODER.encode
        limit, encode_limited, six_digits = wire.limit, wire.encode_limited, wire.SIX_DIGITS.search
        rounds = decimals is not None

        if top is not None:
            scanned = plan is None
            # extras in a top-level open object may hold floats to round: then limit scans
            only = opens[0] if len(opens) == 1 and decimals is not None and not scanned else None
            some = len(opens) > 1 and decimals is not None and not scanned

            def encode_payload(payload: Any) -> bytes | None:
                try:
                    scan = scanned or (only is not None and bool(getattr(getattr(payload, only, None), "extra", None))) or (
                        some and _has_extras(payload, opens)
                    )
                    data = encode_limited(payload, top, decimals, scan)
                    if data is None or (empty_valid and data == b"{}"):
                        return data
                    validate(data)
                except Exception:  # any refusal: the general path gives the exact error
                    return None
                return data

            def result(message_id: str, payload: Any) -> str | None:
                try:
                    scan = scanned or (only is not None and bool(getattr(getattr(payload, only, None), "extra", None))) or (
                        some and _has_extras(payload, opens)
                    )
                    frame = encode_limited(payload, top, decimals, scan, message_id)
                    if frame is None:
                        return None  # the payload path decides
                    if not (empty_valid and frame.endswith(b",{}]")):
                        validate_frame(frame)
                except Exception:  # any refusal: the general path gives the exact error
                    return None
                return frame.decode()

        else:
            # date-times deeper down (a station's TransactionEvent, MeterValues): cut in the text
            nested = wire.datetime_attrs(type_) if millis else None
            cut_paths = wire.cut_paths

            def encode_payload(payload: Any) -> bytes | None:
                try:
                    data = encode(payload)
                    if nested and not rounds:  # read from the values, no scan (see wire.cut_paths)
                        cut = cut_paths(payload, data, nested, decimals)
                        data = limit(payload, data, millis=millis, decimals=decimals) if cut is None else cut
                    elif rules and ((46 in data and six_digits(data) is not None) or (rounds and 45 in data and data.find(b"e-") >= 0)):
                        cut = cut_paths(payload, data, nested, decimals) if nested else None
                        data = limit(payload, data, millis=millis, decimals=decimals) if cut is None else cut
                    if empty_valid and data == b"{}":
                        return data
                    validate(data)
                except Exception:  # any refusal: the general path gives the exact error
                    return None
                return data

            def result(message_id: str, payload: Any) -> str | None:
                try:
                    frame = encode((3, message_id, payload))
                    if empty_valid and frame.endswith(b",{}]"):
                        return frame.decode()  # {}: valid, and no value rule changes it
                    # wire.needs_limit, inline (45 is "-": an int tests one byte, a cheap first look)
                    if rules and ((46 in frame and six_digits(frame) is not None) or (rounds and 45 in frame and frame.find(b"e-") >= 0)):
                        return None  # the payload path decides
                    validate_frame(frame)
                except Exception:  # any refusal: the general path gives the exact error
                    return None
                return frame.decode()

        self.encode: Callable[[Any], bytes | None] = encode_payload
        self.result: Callable[[str, Any], str | None] = result


_OUTBOUND: dict[tuple[type, bool, int | None], _Outbound] = {}
# the plans of the two sets of rules 2.x uses (index 1: towards the CSMS; 2: towards a
# station), by type: encode_payload's lookup (index 0, 1.6's, is unused: no rule, no fast path)
_BY_RULES: tuple[dict[type, _Outbound], dict[type, _Outbound], dict[type, _Outbound]] = ({}, {}, {})


def _outbound(type_: type, millis: bool, decimals: int | None) -> _Outbound:
    key = (type_, millis, decimals)
    found = _OUTBOUND.get(key)
    if found is None:
        found = _OUTBOUND[key] = _Outbound(type_, millis, decimals)
    return found


def _encode_valid(out: _Outbound, payload: Any) -> bytes | None:
    """``payload`` (of exactly ``out.type``) encoded, the value rules applied and validated
    strictly, or None: then the general path decides (see :class:`_Outbound`)."""
    return out.encode(payload)


def _has_extras(payload: Any, opens: tuple[str, ...]) -> bool:
    """Whether one of the top-level open objects ``opens`` of ``payload`` has extra properties
    (they may hold floats, which the decimal rule rounds: then ``wire.limit`` scans)."""
    for name in opens:
        if getattr(getattr(payload, name, None), "extra", None):
            return True
    return False


def _qualified(t: type) -> str:
    """``ResetRequest`` of OCPP 2.0.1 -> ``v201.ResetRequest`` (messages of two versions share names)."""
    module = t.__module__.split(".")
    version = next((part for part in module if part in ("v16", "v201", "v21")), None)
    return f"{version}.{t.__qualname__}" if version else t.__qualname__


# Frames of at least ONE_PASS_MIN characters are decoded in one pass (envelope and typed payload
# at once): that saves the envelope's scan of the payload and the second decoder call, which pays
# once it is dearer than reading the action out of the frame first (from about 400 characters,
# docs/perf-notes/inbound.md); shorter frames take the envelope, then the payload. The action is
# read as the text between the frame's third and fourth quotes (``[2,"id","Action",{...}]``, also
# with ", " separators) in its first _HEAD characters (a 4-character opening, a 36-character id,
# a separator and an action of up to 52 characters). It is a guess the decoded frame must confirm:
# a quote escaped in the id misleads it, and then the general path decides.
ONE_PASS_MIN = 400
_HEAD = 96
_SPLIT: dict[type, tuple[Any, frozenset[Any]]] = {
    str: ('"', frozenset({"[2,", "[2, "})),
    bytes: (b'"', frozenset({b"[2,", b"[2, "})),
}

_minus_offset, _minus_offset_bytes = wire.minus_offset, wire.minus_offset_bytes
_decode_frame = fr.DECODER.decode
_Call = fr.Call

_PAYLOAD_ENCODER = msgspec.json.Encoder(enc_hook=enc_hook)

# A hot-path entry: (one-pass CALL frame decoder, handler method, request has date-times, action,
# payload decoder).
_Entry = tuple[Callable[[str | bytes], Any], str, bool, str, Callable[[Any], Any]]
_FastTable = dict[str | bytes, _Entry]
_FAST_TABLES: dict[tuple[int, int], tuple[Mapping[str, Any], Mapping[str, str], _FastTable]] = {}


def _fast_table(routes: Mapping[str, Route[Any, Any]], handled: Mapping[str, str]) -> _FastTable:
    """The hot-path table (action, as text and as bytes -> entry) of one routes/handled pair,
    shared by every connection that has them (the generated tables are module constants)."""
    key = (id(routes), id(handled))
    found = _FAST_TABLES.get(key)
    if found is None or found[0] is not routes or found[1] is not handled:
        if len(_FAST_TABLES) > 256:  # routes built on the fly (tests): do not grow without bound
            _FAST_TABLES.clear()
        found = _FAST_TABLES[key] = (routes, handled, {})
    return found[2]


_OUT_TABLES: dict[tuple[int, bool, int | None], tuple[Mapping[str, Any], dict[str, _Outbound]]] = {}


def _out_table(routes: Mapping[str, Route[Any, Any]], millis: bool, decimals: int | None) -> dict[str, _Outbound]:
    """The respond table (action -> outbound plan of its response) of one routes/rules triple,
    shared by every connection that has them."""
    key = (id(routes), millis, decimals)
    found = _OUT_TABLES.get(key)
    if found is None or found[0] is not routes:
        if len(_OUT_TABLES) > 256:  # routes built on the fly (tests): do not grow without bound
            _OUT_TABLES.clear()
        found = _OUT_TABLES[key] = (routes, {})
    return found[1]


class _NoEntries(dict[str, Any]):
    """An empty table that refuses entries. One instance stands for the per-connection tables
    a connection never fills (no signing policy: no certificates, no signed CALLs; no boot
    pacer: no paced boots), so an idle connection does not hold an empty dict of its own for
    each (64 bytes each); a write would be a bug, and raises instead of sharing state."""

    __slots__ = ()

    def _refuse(self, *args: object, **kwargs: object) -> None:
        raise TypeError("this connection keeps no entries in this table")

    __setitem__ = setdefault = update = __ior__ = _refuse  # type: ignore[assignment]


_NO_ENTRIES = _NoEntries()


class _Pending:
    __slots__ = ("message_id", "route", "request", "frame", "timeout", "deadline")

    def __init__(self, message_id: str, route: Route[Any, Any], request: Any, frame: str, timeout: float) -> None:
        self.message_id = message_id
        self.route = route
        self.request = request
        self.frame = frame
        self.timeout = timeout
        self.deadline = 0.0


class OcppProtocol:
    """One connection's OCPP-J state machine (sans-I/O)."""

    # slots: one per connection, and an instance dict of this many attributes is about 1.6 KiB
    __slots__ = (
        "version", "role", "routes", "handled", "session", "call_timeout", "handler_timeout", "max_queue", "strictness",
        "overrides", "max_bad_messages", "bad_messages", "signing", "_trusted", "_signed_in", "boot_pacer", "_utc_now",
        "_paced", "max_calls_in_progress", "max_calls_queued", "_millis", "_decimals", "_id_factory", "_types", "_cache",
        "_outbox", "_queue", "_outstanding", "_inbound", "_waiting", "_ended", "_remember", "_close_requested",
        "_last_now", "_fast", "_plain", "_out",
    )

    def __init__(
        self,
        *,
        version: str,
        role: Role,
        routes: Mapping[str, Route[Any, Any]],
        handled: Mapping[str, str],
        session: Session | None = None,
        call_timeout: float = 30.0,
        handler_timeout: float | None = 30.0,
        max_queue: int = 100,
        strictness: Strictness = Strictness.STRICT,
        overrides: Mapping[str, Strictness] | None = None,
        id_factory: Callable[[], str] = default_message_id,
        max_bad_messages: int | None = None,
        max_calls_in_progress: int = 4,
        max_calls_queued: int = 16,
        signing: sg.SigningPolicy | None = None,
        boot_pacer: BootPacer | None = None,
        utc_now: Callable[[], datetime.datetime] | None = None,
        remember_ended: int = 256,
    ) -> None:
        """``version``: ``"1.6"``, ``"2.0.1"`` or ``"2.1"``; ``role``: the side this core speaks
        as; ``routes``: the version's routes by action; ``handled``: the actions this role
        receives, mapped to handler method names (a binding's ``routes`` and ``handled``).
        ``session``: the station's session (registration rules, 2.1 answer cache); None
        for a bare link without either. ``call_timeout``: seconds our CALL waits for its
        answer. ``handler_timeout``: seconds a handler has to answer a CALL (None: no limit).
        ``max_queue``: CALLs queued behind the outstanding one. ``strictness``/``overrides``:
        inbound validation profile, globally and per action. ``id_factory``: message ids of
        our CALLs. ``max_bad_messages``: invalid inbound frames tolerated before
        ``CloseRequested`` (None: no limit). ``max_calls_in_progress``/``max_calls_queued``: a
        peer may have one CALL outstanding (Part 4 section 4.1.1); one that pipelines more gets
        this many handled at once, this many more queued in order, and GenericError beyond.
        ``signing``: signed messages (2.x Part 4 chapter 7; None: none). ``boot_pacer``
        (CSMS): BootNotifications past its limit are answered Pending with its interval, the
        answer's currentTime from ``utc_now`` (injected: the core reads no clock).
        ``remember_ended``: timed-out or cancelled ids remembered to recognise late replies."""
        if version not in CODES:
            raise LocalError(f"unknown OCPP version {version!r}")
        self.version = version
        self.role = role
        self.routes = routes
        self.handled = handled
        self.session = session
        self.call_timeout = call_timeout
        self.handler_timeout = handler_timeout
        self.max_queue = max_queue
        self.strictness = strictness
        self.overrides = dict(overrides or {})
        self.max_bad_messages = max_bad_messages
        self.bad_messages = 0
        self.signing = signing if version != "1.6" else None  # chapter 7 is OCPP 2.x only
        self._trusted: dict[str, sg.Certificate] = (
            _NO_ENTRIES if signing is None else dict(signing.trusted) if isinstance(signing.trusted, Mapping)
            else {c.thumbprint: c for c in signing.trusted}
        )
        # inbound CALLs that came signed, for a signed reply (7.2); filled only with a policy
        self._signed_in: dict[str, sg.Certificate] = _NO_ENTRIES if self.signing is None else {}
        self.boot_pacer = boot_pacer if role is Role.CSMS else None
        self._utc_now = utc_now
        # BootNotifications the pacer let through, to release when answered (a dict: an empty
        # set costs 216 bytes per connection, an empty dict 64); filled only with a pacer
        self._paced: dict[str, None] = _NO_ENTRIES if self.boot_pacer is None else {}
        self.max_calls_in_progress = max(1, max_calls_in_progress)
        self.max_calls_queued = max_calls_queued
        # 2.x outbound value rules (Part 2 section 3.1; primitive datatypes: decimals towards a station)
        self._millis = version != "1.6"
        self._decimals = 6 if version != "1.6" and role is Role.CSMS else None
        self._id_factory = id_factory
        self._types = fr.message_types(version)
        self._cache = version == "2.1" and session is not None
        self._outbox: list[str] = []
        # Lists, not deques: both stay short, and an idle connection holds an empty list (56
        # bytes) where a deque holds a block of 64 slots (about 760 bytes).
        self._queue: list[_Pending] = []
        self._outstanding: _Pending | None = None
        # CALLs received and not answered yet: id -> (action, request, deadline). With one
        # handler_timeout per connection, insertion order is deadline order.
        self._inbound: dict[str, tuple[str, Any, float]] = {}
        self._waiting: list[tuple[str, str, str, Any, Any]] = []  # pipelined CALLs: id, action, method, request, signer
        self._ended: dict[str, str] = {}  # our timed-out/cancelled ids -> why, oldest first
        self._remember = remember_ended
        self._close_requested = False
        self._last_now = 0.0
        self._fast = _fast_table(routes, handled)
        # no session and no signing policy: a valid CALL only needs a free handler slot
        self._plain = session is None and self.signing is None
        self._out = _out_table(routes, self._millis, self._decimals)  # action -> outbound plan of its response

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
        """Queue ``request`` as a CALL of ``route`` at ``now`` (monotonic seconds, as every
        ``now`` here), failing after ``timeout`` seconds (None: ``call_timeout``); returns its
        message id. Then send ``data_to_send()``; its outcome arrives later as
        ``CallCompleted`` or ``CallFailed`` with that id.

        ``message_id`` lets a 2.1 retry reuse the original id; other versions refuse it.
        Raises LocalError subclasses for misuse (NotAllowed when the registration state
        forbids the CALL); nothing is queued then.
        """
        if route.send:
            raise LocalError(f"{route.action} travels as SEND: use send()")
        self._check_direction(route)
        if self.session is not None:
            refusal = self.session.outbound(route.action, now)
            if refusal is not None:
                raise NotAllowed(refusal)
        if message_id is None:
            message_id = self._new_id()
        elif self.version != "2.1":
            raise InvalidMessageId("only OCPP 2.1 lets a retry reuse a message id (2.0.1 Part 4 section 4.1.4)")
        else:
            self._check_id(message_id)
        payload = encode_payload(route, request, response=False, millis=self._millis, decimals=self._decimals)
        if len(self._queue) >= self.max_queue:
            raise QueueFull(f"{len(self._queue)} CALLs already queued (max_queue={self.max_queue})")
        frame = self._frame(fr.CALL, message_id, route.action, payload)
        self._queue.append(_Pending(message_id, route, request, frame, self.call_timeout if timeout is None else timeout))
        self._pump(now)
        return message_id

    def send(self, route: Route[Any, Any], message: Any, now: float) -> str:
        """Write ``message`` as a SEND of ``route`` (2.1) at ``now``; returns its message id.
        It is never answered."""
        if self.version != "2.1":
            raise LocalError(f"SEND does not exist in OCPP {self.version}")
        if not route.send:
            raise LocalError(f"{route.action} is a CALL: use call()")
        self._check_direction(route)
        if self.session is not None:
            refusal = self.session.outbound(route.action, now)
            if refusal is not None:
                raise NotAllowed(refusal)
        message_id = self._new_id()
        payload = encode_payload(route, message, response=False, millis=self._millis, decimals=self._decimals)
        self._outbox.append(self._frame(fr.SEND, message_id, route.action, payload))
        return message_id

    def respond(self, message_id: str, response: object) -> list[Event]:
        """Answer the inbound CALL ``message_id`` (from ``CallReceived``) with its typed
        ``response``. The response is validated strictly; an invalid one is answered InternalError
        instead (``ResponseRefused``). Does nothing for a CALL that is already answered (its
        handler timed out)."""
        entry = self._inbound.pop(message_id, None)
        if entry is None:
            return []
        if self._paced:
            self._unpace(message_id)
        action = entry[0]
        out = self._out.get(action) or self._out_entry(action)
        if type(response) is out.type:
            if self.session is None and not self._signed_in:  # the frame is all that is needed
                frame = out.result(message_id, response)
                if frame is not None:
                    self._outbox.append(frame)
                    return self._next_waiting() if self._waiting else []
            payload = out.encode(response)
        else:
            payload = None
        if payload is None:  # the general path decides
            try:
                payload = _encode_checked(self.routes[action], response, True, self._millis, self._decimals)
            except InvalidMessage as exc:
                self._write_error(message_id, Failure.RESPONSE_INVALID, f"{action} handler returned an invalid response")
                return [ResponseRefused(message_id=message_id, action=action, reason=str(exc)), *self._next_waiting()]
        if self._signed_in:
            signer = self._signed_in.pop(message_id, None)
            signing = self.signing
            if signer is not None and signing is not None and signing.answer_signed and signing.signer is not None:
                payload = sg.sign_result(action, message_id, payload, signing.signer)  # 7.2: a signed reply
        self._outbox.append(fr.encode_result(message_id, payload))
        events = self._next_waiting() if self._waiting else []
        session = self.session
        if session is None:
            return events
        if self._cache:
            session.remember_answer(action, message_id, payload)
        if session.answered(action, entry[1], response):
            events.append(RegistrationChanged(registration=session.registration.value))
        return events

    def _out_entry(self, action: str) -> _Outbound:
        """The outbound plan of ``action``'s response under this link's value rules, remembered
        in the table this connection shares with every other of the same routes and rules."""
        route = self.routes[action]
        response: Any = route.response  # a received CALL's route has one
        out = self._out[action] = _outbound(response, self._millis, self._decimals)
        return out

    def respond_error(
        self, message_id: str, failure: Failure | str, description: str, details: Mapping[str, Any] | None = None
    ) -> list[Event]:
        """Answer the inbound CALL ``message_id`` with a CALLERROR: ``failure`` is a ``Failure``
        (its code comes from the table) or an error code of this version, ``description`` its
        errorDescription, ``details`` its
        errorDetails object (Part 4 section 4.2.3). Does nothing for a CALL that is already
        answered. Raises LocalError for a code of another version or details that are not a
        JSON object."""
        if message_id not in self._inbound:
            return []
        if isinstance(failure, str) and failure not in CODES[self.version]:
            raise LocalError(f"{failure!r} is not an OCPP {self.version} error code")
        if details is not None:
            try:
                msgspec.json.encode(dict(details))
            except (TypeError, ValueError, msgspec.EncodeError) as exc:
                raise LocalError(f"errorDetails must be a JSON object: {exc}") from None
        del self._inbound[message_id]
        self._unpace(message_id)
        self._write_error(message_id, failure, description, details)
        return self._next_waiting()

    def cancel(self, message_id: str, now: float) -> list[Event]:
        """Cancel the queued or outstanding CALL ``message_id`` at ``now``; it fails with CallCancelled and can never
        complete. Cancelling an unknown or finished call does nothing."""
        for pending in self._queue:
            if pending.message_id == message_id:
                self._queue.remove(pending)
                failure = CallCancelled(message_id, pending.route.action, "cancelled before it was sent")
                failure.sent = False
                return [self._fail(pending, failure, "cancelled")]
        current = self._outstanding
        if current is not None and current.message_id == message_id:
            self._outstanding = None
            events: list[Event] = [self._fail(current, CallCancelled(message_id, current.route.action, "cancelled"), "cancelled")]
            self._pump(now)
            return events
        return []

    def has_data_to_send(self) -> bool:
        """Whether ``data_to_send()`` would return frames."""
        return bool(self._outbox)

    def data_to_send(self) -> list[str]:
        """The frames to write to the WebSocket, in order (each a text message)."""
        out, self._outbox = self._outbox, []
        return out

    # -- time ----------------------------------------------------------------------------

    def next_deadline(self) -> float | None:
        """When ``handle_timeout`` must run next, or None."""
        deadline = None if self._outstanding is None else self._outstanding.deadline
        if self._inbound and self.handler_timeout is not None:
            first = next(iter(self._inbound.values()))[2]
            if deadline is None or first < deadline:
                deadline = first
        return deadline

    def handle_timeout(self, now: float) -> list[Event]:
        """At ``now``: fail our CALL if its deadline passed (and send the next one); answer
        InternalError for every inbound CALL whose handler missed its deadline."""
        events: list[Event] = []
        if self.handler_timeout is not None:
            while self._inbound:
                message_id, (action, _, deadline) = next(iter(self._inbound.items()))
                if deadline > now:
                    break
                del self._inbound[message_id]
                self._unpace(message_id)
                self._write_error(message_id, Failure.HANDLER_TIMEOUT, f"{action} handler did not answer in time")
                events.append(HandlerTimedOut(message_id=message_id, action=action, timeout=self.handler_timeout))
                events.extend(self._next_waiting(now))
        current = self._outstanding
        if current is not None and now >= current.deadline:
            self._outstanding = None
            error = CallTimeout(current.message_id, current.route.action, f"no answer within {current.timeout:g} s")
            events.append(self._fail(current, error, "timed out"))
            self._pump(now)
        return events

    def connection_lost(self) -> list[Event]:
        """Fail every outstanding and queued CALL; unanswered inbound CALLs are forgotten."""
        events: list[Event] = []
        if self._outstanding is not None:
            p = self._outstanding
            events.append(self._fail(p, ConnectionLost(p.message_id, p.route.action, "connection lost before the answer"), None))
        for p in self._queue:
            error = ConnectionLost(p.message_id, p.route.action, "connection lost before it was sent", sent=False)
            events.append(self._fail(p, error, None))
        self._outstanding = None
        self._queue.clear()
        self._inbound.clear()
        self._waiting.clear()
        self._signed_in.clear()
        for message_id in list(self._paced):
            self._unpace(message_id)
        return events

    # -- inbound -------------------------------------------------------------------------

    def receive(self, data: str | bytes, now: float) -> list[Event]:
        """Process ``data``, one inbound message (text, or its UTF-8 bytes), received at ``now``;
        see the module docstring for what comes out."""
        self._last_now = now
        # The hot path: a valid CALL of a handled action, neither a duplicate nor pipelined, on a
        # link without session or signing. Whatever it does not accept outright takes the
        # general path, which decides and answers exactly as if the hot path did not exist.
        kind = type(data)
        if kind is not str and (kind is not bytes or not data.isascii()):  # bytes: ASCII is UTF-8
            return self._receive_frame(data, now)
        if len(data) >= ONE_PASS_MIN:
            quote, openings = _SPLIT[kind]
            head = data[:_HEAD].split(quote, 4)
            if len(head) != 5 or head[0] not in openings:
                return self._receive_frame(data, now)
            fast = self._fast.get(head[3]) or self._fast_entry(head[3])
            if fast is None:
                return self._receive_frame(data, now)
            try:
                _, mid, action, request = fast[0](data)
            except (msgspec.DecodeError, msgspec.ValidationError, RecursionError, UnicodeEncodeError):
                return self._receive_frame(data, now)
            if action != fast[3]:  # the guess was wrong
                return self._receive_frame(data, now)
        else:
            try:
                frame: fr.Frame = _decode_frame(data)
            except (msgspec.DecodeError, msgspec.ValidationError, RecursionError, UnicodeEncodeError):
                return self._receive_frame(data, now)
            if type(frame) is not _Call:
                return self._on_frame(frame, now)
            action = frame.action
            fast = self._fast.get(action) or self._fast_entry(action)
            if fast is None:
                return self._on_call(frame, now)
            try:
                request = fast[4](frame.payload)
            except (msgspec.DecodeError, msgspec.ValidationError, RecursionError):
                return self._on_call(frame, now)
            mid = frame.message_id
        inbound = self._inbound
        if mid in inbound or self._waiting:
            return self._receive_frame(data, now)
        if fast[2]:  # RFC 3339 spellings msgspec reads: a quick necessary condition, then the scan
            if isinstance(data, str):
                maybe = "+" in data or " " in data or "\\" in data or _minus_offset(data) is not None
            else:
                # bytes: an int needle ("+", space, backslash); a bytes needle first fails as an int
                maybe = 43 in data or 32 in data or 92 in data or _minus_offset_bytes(data) is not None
            if maybe and wire.suspect(data):
                return self._receive_frame(data, now)
        if self._plain and len(inbound) < self.max_calls_in_progress:
            timeout = self.handler_timeout
            inbound[mid] = (action, request, 0.0 if timeout is None else now + timeout)
            return [CallReceived(message_id=mid, action=action, request=request, handler_method=fast[1])]
        return self._accept(mid, action, fast[1], request, now, None)

    def _receive_frame(self, data: str | bytes, now: float) -> list[Event]:
        """The general path of ``receive``: every frame, every check, every answer."""
        if isinstance(data, bytes) and not data.isascii():
            try:
                data.decode()
            except UnicodeDecodeError:  # not UTF-8, so not JSON text (RFC 8259 section 8.1)
                return self._malformed(data, now)
        try:
            frame: fr.Frame = fr.DECODER.decode(data)
        except (msgspec.DecodeError, msgspec.ValidationError, RecursionError):
            return self._malformed(data, now)
        except UnicodeEncodeError:  # a str with a lone surrogate has no UTF-8 form: not JSON text either
            assert isinstance(data, str)
            return self._malformed(data.encode("utf-8", "surrogatepass"), now)
        if type(frame) is fr.Call:
            return self._on_call(frame, now)
        return self._on_frame(frame, now)

    def _on_frame(self, frame: fr.Frame, now: float) -> list[Event]:
        """A well-formed frame other than a CALL."""
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

    def decode_request(
        self, action: str, payload: bytes | msgspec.Raw, message_id: str, *, send: bool = False
    ) -> tuple[Route[Any, Any], str, Any, list[Event]] | tuple[Failure, str]:
        """Route and decode one inbound CALL ``payload`` of ``action`` with ``message_id`` (with
        ``send``, also a SEND's): (route,
        handler method, request, tolerated-violation events), or (failure, description). The
        one inbound path: the core and ``dispatch`` both use it."""
        route = self.routes.get(action)
        if route is None:
            return Failure.ACTION_UNKNOWN, f"unknown action {action!r} in OCPP {self.version}"
        method = self.handled.get(action)
        if method is None:
            return Failure.ACTION_NOT_SUPPORTED, f"{action} is not sent to the {self.role.value} in OCPP {self.version}"
        if route.send and not send:
            return Failure.SEND_AS_CALL, f"{action} travels as SEND, not as CALL"
        events: list[Event] = []
        try:
            request = self._decode(route, payload, message_id, events)
        except msgspec.ValidationError as exc:
            return classify_validation_error(str(exc)), str(exc)
        except msgspec.DecodeError as exc:
            return Failure.PAYLOAD_NOT_OBJECT, str(exc)
        refusal = self._check_datetimes(route, route.request, payload, message_id, events)
        if refusal is not None:
            return Failure.PROPERTY, refusal
        return route, method, request, events

    def _fast_entry(self, action: str | bytes) -> _Entry | None:
        """The hot path's entry for ``action`` (as text or bytes), or None (unknown, not
        handled, SEND): remembered in the table that this connection shares with every other of
        the same routes. Only actions of the routes are remembered, so the table stays small."""
        if isinstance(action, bytes):
            try:
                name = action.decode()
            except UnicodeDecodeError:
                return None
        else:
            name = action
        route = self.routes.get(name)
        method = self.handled.get(name)
        if route is None or method is None or route.send:
            return None
        entry: _Entry = (
            route.call_frame_decoder.decode, method, route.request_datetimes, route.action, route.request_codec.decode_strict
        )
        self._fast[action] = entry
        return entry

    def _on_call(self, frame: fr.Call, now: float) -> list[Event]:
        mid, action = frame.message_id, frame.action
        if self.signing is not None and action.endswith(sg.SIGNED_SUFFIX):
            return self._on_signed(frame, now)
        route = self.routes.get(action)
        method = self.handled.get(action)
        if route is not None and method is not None and not route.send and not self._busy(mid):
            try:
                request = route.request_codec.decode_strict(frame.payload)  # valid input, the usual case
            except (msgspec.ValidationError, msgspec.DecodeError, RecursionError):
                pass
            else:
                if not route.request_datetimes or not wire.suspect(frame.payload):
                    return self._accept(mid, action, method, request, now, None)
        if self._busy(mid) and route is not None and method is not None and not route.send:
            return self._reject(mid, Failure.DUPLICATE_ID, "a CALL with this message id is being handled already")
        decoded = self.decode_request(action, frame.payload, mid)
        if len(decoded) == 2:
            failure, description = decoded
            return self._reject(mid, failure, description)
        _, method, request, events = decoded
        return self._accept(mid, action, method, request, now, events)

    def _on_signed(self, frame: fr.Call | fr.Send, now: float) -> list[Event]:
        """An "X-Signed" CALL or SEND: verify it, then handle ``X`` as usual (Part 4 chapter 7)."""
        assert self.signing is not None
        mid, send = frame.message_id, isinstance(frame, fr.Send)
        if self._busy(mid):
            return self._reject(mid, Failure.DUPLICATE_ID, "a CALL with this message id is being handled already")
        try:
            verified = sg.unwrap_call(frame.action, mid, bytes(frame.payload), self._trusted)
        except sg.SignatureError as exc:
            if send:
                return [self._drop("invalid_send", mid, f"{frame.action}: {exc}")]
            return self._reject(mid, Failure.SIGNATURE_INVALID, f"{frame.action}: {exc}")
        decoded = self.decode_request(verified.action, verified.payload, mid, send=send)
        if len(decoded) == 2:
            failure, description = decoded
            if send:
                return [self._drop("invalid_send", mid, description)]
            return self._reject(mid, failure, description)
        route, method, request, events = decoded
        if send:
            if not route.send:
                return [self._drop("invalid_send", mid, f"{verified.action}: not a SEND action")]
            events.append(SendReceived(message_id=mid, action=verified.action, message=request, handler_method=method,
                                       signer=verified.certificate))
            return events
        return self._accept(mid, verified.action, method, request, now, events, verified.certificate)

    def _frame(self, message_type: int, message_id: str, action: str, payload: bytes) -> str:
        """A CALL or SEND frame, signed when the signing policy says so."""
        signing = self.signing
        if signing is not None and signing.signer is not None and signing.signs(action):
            signed_action, signed_payload = sg.sign_call(action, message_id, payload, signing.signer)
            return fr.encode_call(message_type, message_id, signed_action, signed_payload)
        return fr.encode_call(message_type, message_id, action, payload)

    def _accept(
        self, mid: str, action: str, method: str, request: Any, now: float, events: list[Event] | None,
        signer: sg.Certificate | None = None,
    ) -> list[Event]:
        """A valid CALL: the session may answer it itself; else hand it to the handler."""
        if self.signing is not None:
            if signer is None and self.signing.requires(action):
                return self._reject(mid, Failure.SIGNATURE_REQUIRED, f"{action} must be signed (Part 4 chapter 7)")
            if signer is not None:
                self._signed_in[mid] = signer
        session = self.session
        if session is not None:
            if action == "BootNotification" and session.certificate_serial is not None:
                mismatch = session.boot_check(request)
                if mismatch is not None:  # B01.FR.12: the CSMS closes the connection
                    events = [Dropped(reason="serial_mismatch", message_id=mid, detail=mismatch)]
                    self._close_requested = True
                    events.append(CloseRequested(code=1008, reason="serial number does not match the certificate"))
                    return events
            if action == "BootNotification" and self.boot_pacer is not None:
                paced = self._pace_boot(mid, request, now)
                if paced is not None:
                    return paced
            if self._cache:
                cached = session.cached_answer(action, mid)  # (reading it makes no cache: memory)
                if cached is not None:
                    self._outbox.append(fr.encode_result(mid, cached))
                    return [Answered(message_id=mid, action=action, reason="cache", detail="a retry, answered from the cache")]
            if session.registration is not Registration.ACCEPTED:
                verdict = session.inbound(action)
                if verdict is not None:
                    if verdict.kind == "refuse":
                        return self._reject(mid, Failure.NOT_REGISTERED, verdict.detail)
                    if verdict.kind == "ignore":
                        return [Dropped(reason="not_registered", message_id=mid, detail=verdict.detail)]
                    assert verdict.payload is not None
                    self._outbox.append(fr.encode_result(mid, verdict.payload))
                    return [Answered(message_id=mid, action=action, reason="registration", detail=verdict.detail)]
        if len(self._inbound) >= self.max_calls_in_progress:  # the peer pipelines (Part 4 4.1.1)
            if len(self._waiting) >= self.max_calls_queued:
                rejected = self._reject(mid, Failure.TOO_MANY_CALLS, "too many CALLs at once: wait for each answer (OCPP-J 4.1.1)")
                return rejected if events is None else events + rejected
            self._waiting.append((mid, action, method, request, signer))
            queued = CallQueued(message_id=mid, action=action, waiting=len(self._waiting))
            if events is None:
                return [queued]
            events.append(queued)
            return events
        deadline = now + self.handler_timeout if self.handler_timeout is not None else 0.0
        self._inbound[mid] = (action, request, deadline)
        received = CallReceived(message_id=mid, action=action, request=request, handler_method=method, signer=signer)
        if events is None:
            return [received]
        events.append(received)
        return events

    def _pace_boot(self, mid: str, request: Any, now: float) -> list[Event] | None:
        """Admission control: past the pacer's limit a BootNotification is answered Pending
        with an interval (B02: the station boots again after it, B02.FR.08), else let through."""
        assert self.boot_pacer is not None
        interval = self.boot_pacer.acquire(now)
        if interval is None:
            self._paced[mid] = None
            return None
        clock = self._utc_now or (lambda: datetime.datetime.now(datetime.timezone.utc))
        route = self.routes["BootNotification"]
        answer = msgspec.json.encode({"currentTime": clock(), "interval": interval, "status": "Pending"})
        payload = encode_payload(route, route.response_codec.decode(answer), response=True, millis=self._millis)  # type: ignore[union-attr]
        self._outbox.append(fr.encode_result(mid, payload))
        if self.session is not None:
            self.session.answered("BootNotification", request, route.response_codec.decode(payload))  # type: ignore[union-attr]
        return [Answered(message_id=mid, action="BootNotification", reason="admission",
                         detail=f"Pending, boot again in {interval} s (boot pacing)")]

    def _unpace(self, message_id: str) -> None:
        if self._paced and message_id in self._paced:
            del self._paced[message_id]
            assert self.boot_pacer is not None
            self.boot_pacer.release()

    def _busy(self, message_id: str) -> bool:
        """Whether a CALL with this id is being handled or waits to be."""
        return message_id in self._inbound or (bool(self._waiting) and any(w[0] == message_id for w in self._waiting))

    def _next_waiting(self, now: float | None = None) -> list[Event]:
        """A slot was freed: hand the next pipelined CALL to its handler."""
        if not self._waiting or len(self._inbound) >= self.max_calls_in_progress:
            return []
        mid, action, method, request, signer = self._waiting.pop(0)
        start = self._last_now if now is None else now
        deadline = start + self.handler_timeout if self.handler_timeout is not None else 0.0
        self._inbound[mid] = (action, request, deadline)
        return [CallReceived(message_id=mid, action=action, request=request, handler_method=method, signer=signer)]

    def _check_datetimes(
        self, route: Route[Any, Any], type_: Any, payload: bytes | msgspec.Raw, message_id: str, events: list[Event]
    ) -> str | None:
        """RFC 3339 date-time syntax the decoder let through (a space for T, +hhmm): refused
        strictly (the reason is returned), tolerated and reported leniently."""
        if not wire.has_kind(type_, mi.DateTimeType) or not wire.suspect(payload):  # the payload checked, not the frame
            return None
        found = wire.datetime_violations(type_, bytes(payload))
        if not found:
            return None
        if self.overrides.get(route.action, self.strictness) is Strictness.LENIENT:
            for path, value in found:
                tolerated = Tolerated("datetime_syntax", path, f"{value!r} is not RFC 3339")
                events.append(ToleratedViolation(message_id=message_id, action=route.action, tolerated=tolerated))
            return None
        path, value = found[0]
        return f"{value!r} is not an RFC 3339 date-time (T separator, +hh:mm offset) - at `{path}`"

    def _on_send(self, frame: fr.Send) -> list[Event]:
        mid, action = frame.message_id, frame.action
        if self.signing is not None and action.endswith(sg.SIGNED_SUFFIX):
            return self._on_signed(frame, 0.0)
        route = self.routes.get(action)
        method = self.handled.get(action)
        if route is None or method is None or not route.send:
            why = "unknown action" if route is None else "not a SEND action" if not route.send else "not for this role"
            return [self._drop("invalid_send", mid, f"{action}: {why}")]
        events: list[Event] = []
        try:
            message = self._decode(route, frame.payload, mid, events)
        except (msgspec.ValidationError, msgspec.DecodeError) as exc:
            return [self._drop("invalid_send", mid, f"{action}: {exc}")]
        refusal = self._check_datetimes(route, route.request, frame.payload, mid, events)
        if refusal is not None:
            return [self._drop("invalid_send", mid, f"{action}: {refusal}")]
        events.append(SendReceived(message_id=mid, action=action, message=message, handler_method=method))
        return events

    def _on_result(self, frame: fr.CallResult, now: float) -> list[Event]:
        current = self._take_outstanding(frame.message_id)
        if current is None:
            return [self._stray(frame.message_id, "CALLRESULT")]
        route = current.route
        events: list[Event] = []
        raw: bytes | msgspec.Raw = frame.payload
        if self.signing is not None and sg.is_signed_payload(bytes(raw)):  # a signed reply (7.2)
            try:
                raw = sg.unwrap_result(route.action, current.message_id, bytes(raw), self._trusted).payload
            except sg.SignatureError as exc:
                code = code_for(Failure.SIGNATURE_INVALID, self.version)
                if self.version == "2.1":
                    self._outbox.append(fr.encode_error(fr.CALLRESULTERROR, current.message_id, code, str(exc)))
                events.append(self._fail(current, ResponseInvalid(current.message_id, route.action, code, str(exc)), None))
                self._pump(now)
                return events
        try:
            response = self._decode(route, raw, current.message_id, events, response=True)
            refusal = self._check_datetimes(route, route.response, raw, current.message_id, events)
            if refusal is not None:
                raise msgspec.ValidationError(refusal)
        except msgspec.ValidationError as exc:
            code = code_for(classify_validation_error(str(exc)), self.version)
            if self.version == "2.1":
                self._outbox.append(fr.encode_error(fr.CALLRESULTERROR, current.message_id, code, str(exc)))
            events.append(self._fail(current, ResponseInvalid(current.message_id, route.action, code, str(exc)), None))
        else:
            events.append(CallCompleted(message_id=current.message_id, action=route.action, response=response))
            session = self.session
            if session is not None and session.result(route.action, current.request, response, now):
                events.append(RegistrationChanged(registration=session.registration.value))
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
        if kind in (fr.CALLRESULT, fr.CALLERROR) and mid is None:
            # A reply whose id cannot be read answers no CALL of ours we could name. A CALLERROR
            # answers a CALL (Part 4 4.2.3), so a reply never gets one; 2.1 answers a CALLRESULT
            # it cannot process with CALLRESULTERROR, "-1" standing for the unreadable id.
            if self.version == "2.1" and kind == fr.CALLRESULT:
                code = code_for(Failure.FRAME_UNREADABLE, self.version)
                self._outbox.append(fr.encode_error(fr.CALLRESULTERROR, "-1", code, problem.detail))
                rejected: list[Event] = [Rejected(message_id="-1", code=code, description=problem.detail[:255], frame_type=fr.CALLRESULTERROR)]
                self._count_bad(rejected)
                return rejected
            return [self._drop("invalid_reply", None, problem.detail)]
        if kind in (fr.CALLRESULT, fr.CALLERROR) and mid is not None:
            current = self._take_outstanding(mid)
            if current is None:
                return [self._drop("invalid_reply", mid, problem.detail)]
            code = code_for(Failure.REPLY_MALFORMED, self.version)
            if self.version == "2.1" and kind == fr.CALLRESULT:
                self._outbox.append(fr.encode_error(fr.CALLRESULTERROR, mid, code, problem.detail))
            events: list[Event] = [self._fail(current, ResponseInvalid(mid, current.route.action, code, problem.detail), None)]
            self._count_bad(events)
            self._pump(now)
            return events
        if kind == fr.SEND:
            return [self._drop("invalid_send", mid, problem.detail)]
        if kind == fr.CALLRESULTERROR:
            return [self._drop("unknown_result_error", mid, problem.detail)]
        answer_id = "-1" if mid is None else mid
        if problem.kind == "rpc":
            failure = Failure.FRAME_UNREADABLE if mid is None else Failure.MESSAGE_ID_INVALID
            return self._reject(answer_id, failure, problem.detail)
        if problem.kind == "payload":
            return self._reject(answer_id, Failure.PAYLOAD_NOT_OBJECT, problem.detail)
        # a CALL with the wrong number or kind of elements; 1.6 calls a short one "incomplete",
        # 2.x any of them "not conform the PDU structure"
        failure = Failure.CALL_INCOMPLETE if problem.too_short else Failure.CALL_MALFORMED
        return self._reject(answer_id, failure, problem.detail)

    def _unknown_type(self, message_type: int, message_id: str | None) -> list[Event]:
        if self.version == "2.0.1":  # decision: answer, as 2.0.1 Part 4 section 4.4 requires
            answer_id = "-1" if message_id is None else message_id
            return self._reject(answer_id, Failure.MESSAGE_TYPE_UNKNOWN, f"message type {message_type} is not supported")
        return [self._drop("unknown_message_type", message_id, f"message type {message_type} ignored")]

    # -- helpers -------------------------------------------------------------------------

    def _decode(
        self, route: Route[Any, Any], raw: bytes | msgspec.Raw, mid: str, events: list[Event], response: bool = False
    ) -> Any:
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

    def _write_error(
        self, message_id: str, failure: Failure | str, description: str, details: Mapping[str, Any] | None = None
    ) -> str:
        code = failure if isinstance(failure, str) else code_for(failure, self.version)
        self._outbox.append(fr.encode_error(fr.CALLERROR, message_id, code, description, dict(details or {})))
        return code

    def _reject(self, message_id: str, failure: Failure, description: str) -> list[Event]:
        code = self._write_error(message_id, failure, description)
        events: list[Event] = [Rejected(message_id=message_id, code=code, description=description[:255], frame_type=fr.CALLERROR)]
        self._count_bad(events)
        return events

    def _drop(self, reason: str, message_id: str | None, detail: str) -> Dropped:
        if reason in _BAD_DROPS:
            self.bad_messages += 1
        return Dropped(reason=reason, message_id=message_id, detail=detail)

    def _count_bad(self, events: list[Event]) -> None:
        """Count one invalid inbound frame; past the limit, ask once for the link to close."""
        self.bad_messages += 1
        limit = self.max_bad_messages
        if limit is not None and self.bad_messages > limit and not self._close_requested:
            self._close_requested = True
            events.append(CloseRequested(code=1008, reason=f"more than {limit} invalid messages"))

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
        return self._drop("unknown_reply", message_id, f"{what} for no CALL of ours")

    def _fail(self, pending: _Pending, error: CallFailure, remember: str | None) -> CallFailed:
        if remember is not None:
            self._ended[pending.message_id] = remember
            while len(self._ended) > self._remember:
                del self._ended[next(iter(self._ended))]
        return CallFailed(message_id=pending.message_id, action=pending.route.action, error=error)

    def _pump(self, now: float) -> None:
        if self._outstanding is None and self._queue:
            pending = self._queue.pop(0)
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


async def dispatch(
    binding: RoleBinding[H, Any],
    handler: H,
    action: str,
    payload: bytes,
    context: CallContext[Any],
    *,
    strictness: Strictness = Strictness.STRICT,
) -> Outcome:
    """Decode an inbound CALL of ``action`` (its JSON ``payload``) for ``binding``'s role, run
    the method of ``handler`` with ``context`` and return what to answer, over any transport,
    validating with ``strictness``. It takes the protocol core's own inbound path (routing,
    decoding, the error-code table, strict response validation), without framing or session."""
    core = OcppProtocol(
        version=binding.version, role=binding.role, routes=binding.routes, handled=binding.handled, strictness=strictness
    )
    decoded = core.decode_request(action, payload, context.message_id, send=True)
    if len(decoded) == 2:
        refused, description = decoded
        return CallError(code_for(refused, binding.version), description[:255])
    route, method, request, _ = decoded
    result = await invoke(handler, method, route, request, context)
    if isinstance(result, HandlerError):
        failure: Failure | str = result.failure
        if isinstance(failure, str) and failure not in CODES[binding.version]:
            failure = Failure.RESPONSE_INVALID  # a code of another version: the handler is wrong
        code = failure if isinstance(failure, str) else code_for(failure, binding.version)
        return CallError(code, result.description[:255], dict(result.details or {}))
    if route.response is None:
        return Reply(None)
    try:
        return Reply(encode_payload(route, result, response=True, millis=core._millis, decimals=core._decimals))
    except InvalidMessage as exc:
        return CallError(code_for(Failure.RESPONSE_INVALID, binding.version), str(exc)[:255])
