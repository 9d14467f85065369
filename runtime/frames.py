"""OCPP-J frames: decode the envelope with the payload left as raw JSON, and encode frames.

    CALL            [2, messageId, action, {payload}]
    CALLRESULT      [3, messageId, {payload}]
    CALLERROR       [4, messageId, errorCode, errorDescription, {errorDetails}]
    CALLRESULTERROR [5, messageId, errorCode, errorDescription, {errorDetails}]   (2.1 only)
    SEND            [6, messageId, action, {payload}]                             (2.1 only)

A valid frame decodes in one msgspec pass into one of the structs below, its payload kept as
``msgspec.Raw`` for the per-action decoder, so no intermediate dict is built. Only a frame that
fails that pass is parsed again, untyped, to find out exactly what is wrong with it
(:func:`diagnose`), which is what the protocol answers with.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

import msgspec

__all__ = [
    "CALL",
    "CALLERROR",
    "CALLRESULT",
    "CALLRESULTERROR",
    "SEND",
    "Call",
    "CallErrorFrame",
    "CallResult",
    "CallResultErrorFrame",
    "DECODER",
    "Frame",
    "FrameProblem",
    "MAX_ID_LENGTH",
    "Send",
    "decode_frame",
    "diagnose",
    "encode_call",
    "encode_error",
    "encode_result",
    "message_types",
    "type_of",
]

CALL, CALLRESULT, CALLERROR, CALLRESULTERROR, SEND = 2, 3, 4, 5, 6
MAX_ID_LENGTH = 36

# string[36] (Part 4 section 4.1.4): at most 36 characters, no minimum, so "" is a valid id
MessageId = Annotated[str, msgspec.Meta(max_length=MAX_ID_LENGTH)]


class _Frame(msgspec.Struct, array_like=True, frozen=True, forbid_unknown_fields=True, tag_field="type", gc=False):
    """An OCPP-J frame, decoded from its JSON array (Part 4 section 4).

    Not tracked by the garbage collector (``gc=False``: cheaper to make and free, one per
    inbound message): a frame is frozen, only the core's locals refer to it, and what it holds
    (strings, ``Raw``, a freshly decoded details object) never refers back, so it can never be
    part of a reference cycle.

    Attributes:
        message_id: The frame's message id (string[36]).
        action: CALL and SEND: the action.
        payload: CALL, CALLRESULT and SEND: the payload, still encoded (``msgspec.Raw``).
        code: CALLERROR and CALLRESULTERROR: the error code.
        description: CALLERROR and CALLRESULTERROR: the error description.
        details: CALLERROR and CALLRESULTERROR: the errorDetails object.
    """


class Call(_Frame, tag=CALL, frozen=True):
    """``[2, message_id, action, payload]``."""

    message_id: MessageId
    action: str
    payload: msgspec.Raw


class CallResult(_Frame, tag=CALLRESULT, frozen=True):
    """``[3, message_id, payload]``."""

    message_id: MessageId
    payload: msgspec.Raw


class CallErrorFrame(_Frame, tag=CALLERROR, frozen=True):
    """``[4, message_id, code, description, details]``."""

    message_id: str
    code: str
    description: str
    details: dict[str, Any]


class CallResultErrorFrame(_Frame, tag=CALLRESULTERROR, frozen=True):
    """2.1: ``[5, message_id, code, description, details]``."""

    message_id: MessageId
    code: str
    description: str
    details: dict[str, Any]


class Send(_Frame, tag=SEND, frozen=True):
    """2.1: ``[6, message_id, action, payload]``."""

    message_id: MessageId
    action: str
    payload: msgspec.Raw


Frame = Call | CallResult | CallErrorFrame | CallResultErrorFrame | Send
DECODER = msgspec.json.Decoder(Frame)
"""Decodes any well-formed frame; raises on anything else (then see :func:`diagnose`)."""
_ENCODER = msgspec.json.Encoder()


_TAG_OF: dict[type, int] = {Call: CALL, CallResult: CALLRESULT, CallErrorFrame: CALLERROR, CallResultErrorFrame: CALLRESULTERROR, Send: SEND}


def type_of(frame: Frame) -> int:
    """The message type number of a decoded ``frame``."""
    return _TAG_OF[type(frame)]


_TYPES_21 = frozenset({CALL, CALLRESULT, CALLERROR, CALLRESULTERROR, SEND})
_TYPES = frozenset({CALL, CALLRESULT, CALLERROR})


def message_types(version: str) -> frozenset[int]:
    """The message type numbers OCPP ``version`` defines (2.1 adds 5 and 6); shared sets, as
    one per connection adds up."""
    return _TYPES_21 if version == "2.1" else _TYPES


def decode_frame(data: str | bytes) -> Frame | None:
    """The frame in ``data``, or None when it is not a well-formed frame of any type (see
    :func:`diagnose`)."""
    try:
        frame: Frame = DECODER.decode(data)
        return frame
    except (msgspec.DecodeError, msgspec.ValidationError, RecursionError):
        return None


class FrameProblem(msgspec.Struct, frozen=True):
    """What is wrong with a frame that did not decode.

    ``kind``: "unknown_type" (a message type number the version does not define), "rpc" (not
    an RPC message at all: not JSON, not an array, no readable message id), "structure" (a
    known type with the wrong number or kind of elements), "payload" (the payload or error
    details are not a JSON object). ``message_type``: the type number, when readable.
    ``message_id`` is None when it cannot be read. ``detail``: what is wrong, in words.
    ``too_short``: a CALL with fewer elements than four (a different error code on 1.6).
    """

    kind: Literal["unknown_type", "rpc", "structure", "payload"]
    message_type: int | None
    message_id: str | None
    detail: str
    too_short: bool = False


_PREFIX = re.compile(r'\s*\[\s*(\d{1,3})\s*,\s*"((?:[^"\\]|\\.){0,36})"')
_ARITY = {CALL: 4, CALLRESULT: 3, CALLERROR: 5, CALLRESULTERROR: 5, SEND: 4}


def diagnose(data: str | bytes, version: str) -> FrameProblem:
    """Explain why ``data`` is not a valid frame for ``version`` (it failed :func:`decode_frame`
    or carries a type the version does not define)."""
    try:
        obj = msgspec.json.decode(data)
    except msgspec.DecodeError as exc:
        return FrameProblem("rpc", None, None, f"not valid JSON: {exc}")
    except RecursionError:
        # Nested deeper than the decoder's recursion limit: read type and id from the prefix.
        text = data.decode("utf-8", "replace") if isinstance(data, bytes) else data
        m = _PREFIX.match(text)
        if m is None:
            return FrameProblem("rpc", None, None, "nested too deeply to read")
        kind, mid = int(m.group(1)), msgspec.json.decode(f'"{m.group(2)}"')
        if kind not in message_types(version):
            return FrameProblem("unknown_type", kind, mid, f"message type {kind} is not defined in OCPP {version}")
        return FrameProblem("payload", kind, mid, "the payload is nested too deeply")
    if not isinstance(obj, list) or not obj:
        return FrameProblem("rpc", None, None, "a frame must be a non-empty JSON array")
    kind = obj[0]
    if not isinstance(kind, int) or isinstance(kind, bool):
        return FrameProblem("rpc", None, None, "the message type must be an integer")
    raw_id = obj[1] if len(obj) > 1 else None
    message_id = raw_id if isinstance(raw_id, str) else None
    if kind not in message_types(version):
        return FrameProblem("unknown_type", kind, message_id, f"message type {kind} is not defined in OCPP {version}")
    if message_id is None:
        return FrameProblem("rpc", kind, None, "the message id must be a string")
    if len(message_id) > MAX_ID_LENGTH:
        # unusable: echoing it would break string[36] in our answer, so it counts as unreadable
        return FrameProblem("rpc", kind, None, f"the message id is longer than {MAX_ID_LENGTH} characters")
    arity = _ARITY[kind]
    if len(obj) != arity:
        return FrameProblem(
            "structure", kind, message_id, f"a frame of type {kind} has {arity} elements, not {len(obj)}",
            too_short=len(obj) < arity,
        )
    if kind in (CALL, SEND) and not isinstance(obj[2], str):
        return FrameProblem("structure", kind, message_id, "the action must be a string")
    if kind in (CALLERROR, CALLRESULTERROR):
        if not isinstance(obj[2], str) or not isinstance(obj[3], str):
            return FrameProblem("structure", kind, message_id, "errorCode and errorDescription must be strings")
        return FrameProblem("payload", kind, message_id, "errorDetails must be a JSON object")
    return FrameProblem("payload", kind, message_id, "the payload must be a JSON object")


def encode_call(message_type: int, message_id: str, action: str, payload: bytes) -> str:
    """A CALL or SEND frame (``message_type`` 2 or 6) with ``message_id``, ``action`` and the
    already encoded ``payload``."""
    return _ENCODER.encode((message_type, message_id, action, msgspec.Raw(payload))).decode()


def encode_result(message_id: str, payload: bytes) -> str:
    """A CALLRESULT frame answering ``message_id``, with the already encoded ``payload``."""
    if type(payload) is bytes:
        # what msgspec writes for (3, message_id, Raw(payload)): the id written (and JSON-escaped)
        # by the encoder itself, the rest spliced with one format (no tuple, no Raw)
        return (b"[3,%s,%s]" % (_ENCODER.encode(message_id), payload)).decode()
    return _ENCODER.encode((CALLRESULT, message_id, msgspec.Raw(payload))).decode()


def encode_error(
    message_type: int, message_id: str, code: str, description: str, details: dict[str, Any] | None = None
) -> str:
    """A CALLERROR or CALLRESULTERROR frame (``message_type`` 4 or 5) for ``message_id`` with
    ``code``, ``description`` (cut to the 255 characters of 2.x) and ``details`` (None: ``{}``)."""
    return _ENCODER.encode((message_type, message_id, code, description[:255], details or {})).decode()
