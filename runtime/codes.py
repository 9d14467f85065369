"""One table: what went wrong (a ``Failure``) x OCPP version -> the error code on the wire.

Every path that answers with a CALLERROR (or, on 2.1, a CALLRESULTERROR) names a ``Failure``
and asks :func:`code_for`; nothing else in the runtime spells an error code. The spelling is
each version's own: OCPP-J 1.6 section 4.2.3 keeps OCA's "FormationViolation" and
"OccurenceConstraintViolation"; 2.0.1 and 2.1 Part 4 section 4.3 have 12 codes, among them
RpcFrameworkError and MessageTypeNotSupported, which 1.6 lacks.

The reasons behind each row are in docs/decisions/0005-protocol-core.md.
"""

from __future__ import annotations

import enum
from typing import Final, Literal, get_args

__all__ = [
    "CODES",
    "ErrorCode",
    "ErrorCode16",
    "ErrorCode2x",
    "Failure",
    "classify_validation_error",
    "code_for",
]

ErrorCode16 = Literal[
    "NotImplemented",
    "NotSupported",
    "InternalError",
    "ProtocolError",
    "SecurityError",
    "FormationViolation",
    "PropertyConstraintViolation",
    "OccurenceConstraintViolation",
    "TypeConstraintViolation",
    "GenericError",
]
"""The RPC error codes of OCPP-J 1.6 (section 4.2.3), as spelled on the wire."""

ErrorCode2x = Literal[
    "FormatViolation",
    "GenericError",
    "InternalError",
    "MessageTypeNotSupported",
    "NotImplemented",
    "NotSupported",
    "OccurrenceConstraintViolation",
    "PropertyConstraintViolation",
    "ProtocolError",
    "RpcFrameworkError",
    "SecurityError",
    "TypeConstraintViolation",
]
"""The RPC error codes of OCPP 2.0.1 and 2.1 (Part 4 section 4.3)."""

ErrorCode = ErrorCode16 | ErrorCode2x

CODES: Final[dict[str, frozenset[str]]] = {
    "1.6": frozenset(get_args(ErrorCode16)),
    "2.0.1": frozenset(get_args(ErrorCode2x)),
    "2.1": frozenset(get_args(ErrorCode2x)),
}
"""The error codes each version defines."""


class Failure(enum.Enum):
    """What went wrong, independent of how a version spells its error code."""

    FRAME_UNREADABLE = "frame_unreadable"  # not JSON, not an array, type not an integer, id unreadable
    MESSAGE_ID_INVALID = "message_id_invalid"  # an id that is not 1-36 characters
    MESSAGE_TYPE_UNKNOWN = "message_type_unknown"  # a type number the version does not define
    CALL_INCOMPLETE = "call_incomplete"  # a CALL with too few elements
    CALL_MALFORMED = "call_malformed"  # a CALL with too many elements or a non-string action
    PAYLOAD_NOT_OBJECT = "payload_not_object"  # the payload is not a JSON object (or nests too deeply)
    UNKNOWN_PROPERTY = "unknown_property"  # additionalProperties: false
    OCCURRENCE = "occurrence"  # a required property missing, an array's cardinality
    TYPE = "type"  # a value of the wrong JSON type
    PROPERTY = "property"  # a value outside its enum, bounds, length, format
    ACTION_UNKNOWN = "action_unknown"  # the version has no such action
    ACTION_NOT_SUPPORTED = "action_not_supported"  # not received by this role, or no handler
    SEND_AS_CALL = "send_as_call"  # 2.1: a SEND-only action arrived as CALL
    DUPLICATE_ID = "duplicate_id"  # the id of a CALL still being handled
    HANDLER_FAILED = "handler_failed"  # the handler raised
    HANDLER_TIMEOUT = "handler_timeout"  # the handler did not answer within handler_timeout
    RESPONSE_INVALID = "response_invalid"  # the handler's response is of the wrong type or invalid
    NOT_REGISTERED = "not_registered"  # the registration state forbids this CALL (B02/B03)
    REPLY_MALFORMED = "reply_malformed"  # a CALLRESULT to our CALL that is not a well-formed frame
    TOO_MANY_CALLS = "too_many_calls"  # the peer pipelines CALLs past the bound (Part 4 4.1.1)
    SIGNATURE_INVALID = "signature_invalid"  # a signed message that does not verify (Part 4 chapter 7)
    SIGNATURE_REQUIRED = "signature_required"  # an unsigned message where the policy requires a signature


_COMMON: dict[Failure, str] = {
    Failure.CALL_INCOMPLETE: "ProtocolError",
    Failure.OCCURRENCE: "OccurrenceConstraintViolation",
    Failure.TYPE: "TypeConstraintViolation",
    Failure.PROPERTY: "PropertyConstraintViolation",
    Failure.ACTION_UNKNOWN: "NotImplemented",
    Failure.ACTION_NOT_SUPPORTED: "NotSupported",
    Failure.SEND_AS_CALL: "ProtocolError",
    Failure.HANDLER_FAILED: "InternalError",
    Failure.HANDLER_TIMEOUT: "InternalError",
    Failure.RESPONSE_INVALID: "InternalError",
    Failure.NOT_REGISTERED: "SecurityError",
    Failure.TOO_MANY_CALLS: "GenericError",
    Failure.SIGNATURE_INVALID: "SecurityError",
    Failure.SIGNATURE_REQUIRED: "SecurityError",
}

_V2X: dict[Failure, str] = {
    **_COMMON,
    Failure.FRAME_UNREADABLE: "RpcFrameworkError",
    Failure.MESSAGE_ID_INVALID: "RpcFrameworkError",
    Failure.MESSAGE_TYPE_UNKNOWN: "MessageTypeNotSupported",
    Failure.CALL_MALFORMED: "ProtocolError",
    Failure.PAYLOAD_NOT_OBJECT: "FormatViolation",
    Failure.UNKNOWN_PROPERTY: "FormatViolation",
    Failure.DUPLICATE_ID: "RpcFrameworkError",
    Failure.REPLY_MALFORMED: "ProtocolError",
}

_V16: dict[Failure, str] = {
    **_COMMON,
    Failure.FRAME_UNREADABLE: "FormationViolation",
    Failure.MESSAGE_ID_INVALID: "FormationViolation",
    Failure.MESSAGE_TYPE_UNKNOWN: "FormationViolation",  # never sent: 1.6 ignores unknown types
    Failure.CALL_MALFORMED: "FormationViolation",
    Failure.PAYLOAD_NOT_OBJECT: "FormationViolation",
    Failure.UNKNOWN_PROPERTY: "FormationViolation",
    Failure.OCCURRENCE: "OccurenceConstraintViolation",
    Failure.DUPLICATE_ID: "GenericError",
    Failure.REPLY_MALFORMED: "FormationViolation",
}

_TABLE: Final[dict[str, dict[Failure, str]]] = {"1.6": _V16, "2.0.1": _V2X, "2.1": _V2X}


def code_for(failure: Failure, version: str) -> str:
    """The error code ``version`` puts on the wire for ``failure``."""
    return _TABLE[version][failure]


def classify_validation_error(message: str) -> Failure:
    """The failure a msgspec validation ``message`` (``str(ValidationError)``) describes."""
    if message.startswith("Expected `object`, got") and " - at `" not in message:
        return Failure.PAYLOAD_NOT_OBJECT  # the payload itself is not a JSON object
    if "missing required field" in message or message.startswith("Expected `array` of length"):
        return Failure.OCCURRENCE  # a required field absent, or an array's cardinality
    if message.startswith("Expected `") and "got `" in message and "with a timezone" not in message:
        return Failure.TYPE
    if "unknown field" in message:
        return Failure.UNKNOWN_PROPERTY
    return Failure.PROPERTY
