"""Errors of the OCPP runtime, and the RPC error codes of each OCPP-J version.

    OcppError
    +-- LocalError            your code misused the runtime; raised at the call site
    |   +-- QueueFull         the outbound CALL queue is at its bound
    |   +-- InvalidMessage    an outbound payload fails its schema (outbound is always strict)
    |   +-- WrongDirection    this role never sends that action
    |   +-- InvalidMessageId  a message id that is empty, longer than 36 characters, or reused
    +-- CallFailure           a CALL of ours did not get a usable CALLRESULT (delivered in events)
        +-- CallErrorReceived the peer answered CALLERROR (code, description, details)
        +-- CallTimeout       no answer before the deadline
        +-- CallCancelled     cancelled locally before an answer came
        +-- ResponseInvalid   the peer's CALLRESULT failed validation (2.1: we sent CALLRESULTERROR)
        +-- ConnectionLost    the connection closed with the call outstanding or queued

Local misuse and remote failures never mix: a LocalError is always a bug in the calling code,
a CallFailure is always something that happened on the link.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = [
    "CODES",
    "CallCancelled",
    "CallErrorReceived",
    "CallFailure",
    "CallTimeout",
    "ConnectionLost",
    "InvalidMessage",
    "InvalidMessageId",
    "LocalError",
    "OcppError",
    "QueueFull",
    "ResponseInvalid",
    "WrongDirection",
    "wire_code",
]


class OcppError(Exception):
    """Base of every error the runtime raises or reports."""


class LocalError(OcppError):
    """The calling code misused the runtime."""


class QueueFull(LocalError):
    """The outbound CALL queue is full; the CALL was not queued."""


class InvalidMessage(LocalError):
    """An outbound payload does not satisfy its schema; nothing was sent."""


class WrongDirection(LocalError):
    """This role never initiates that action."""


class InvalidMessageId(LocalError):
    """A message id that OCPP-J does not allow here."""


class CallFailure(OcppError):
    """A CALL we sent ended without a usable CALLRESULT."""

    def __init__(self, message_id: str, action: str, reason: str) -> None:
        self.message_id = message_id
        self.action = action
        super().__init__(f"{action} [{message_id}]: {reason}")


class CallErrorReceived(CallFailure):
    """The peer answered with CALLERROR."""

    def __init__(self, message_id: str, action: str, code: str, description: str, details: Mapping[str, Any]) -> None:
        self.code = code
        self.description = description
        self.details = details
        super().__init__(message_id, action, f"CALLERROR {code}: {description}")


class CallTimeout(CallFailure):
    """No answer arrived before the call's deadline."""


class CallCancelled(CallFailure):
    """The call was cancelled locally."""


class ResponseInvalid(CallFailure):
    """The peer's CALLRESULT did not validate against the response schema."""

    def __init__(self, message_id: str, action: str, code: str, reason: str) -> None:
        self.code = code
        super().__init__(message_id, action, f"invalid CALLRESULT ({code}): {reason}")


class ConnectionLost(CallFailure):
    """The connection ended while the call was outstanding or queued."""


# The RPC framework error codes of each version, as spelled on the wire (OCPP-J 1.6 section
# 4.2.3 keeps OCA's misspellings "FormationViolation" and "OccurenceConstraintViolation").
CODES: dict[str, frozenset[str]] = {
    "1.6": frozenset(
        {
            "NotImplemented", "NotSupported", "InternalError", "ProtocolError", "SecurityError",
            "FormationViolation", "PropertyConstraintViolation", "OccurenceConstraintViolation",
            "TypeConstraintViolation", "GenericError",
        }
    ),
    "2.0.1": frozenset(
        {
            "FormatViolation", "GenericError", "InternalError", "MessageTypeNotSupported", "NotImplemented",
            "NotSupported", "OccurrenceConstraintViolation", "PropertyConstraintViolation", "ProtocolError",
            "RpcFrameworkError", "SecurityError", "TypeConstraintViolation",
        }
    ),
}
CODES["2.1"] = CODES["2.0.1"]

_SPELLING_16 = {
    "FormatViolation": "FormationViolation",
    "OccurrenceConstraintViolation": "OccurenceConstraintViolation",
    # 1.6 has no RpcFrameworkError: an unreadable or malformed frame is a formation violation.
    "RpcFrameworkError": "FormationViolation",
}


def wire_code(version: str, code: str) -> str:
    """The wire spelling in ``version`` of an error code named as in OCPP 2.x."""
    return _SPELLING_16.get(code, code) if version == "1.6" else code
