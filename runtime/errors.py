"""Errors of the OCPP runtime, and the RPC error codes of each OCPP-J version.

    OcppError
    +-- LocalError            your code misused the runtime; raised at the call site
    |   +-- QueueFull         the outbound CALL queue is at its bound
    |   +-- InvalidMessage    an outbound payload fails its schema (outbound is always strict)
    |   +-- WrongDirection    this role never sends that action
    |   +-- InvalidMessageId  a message id that is empty, longer than 36 characters, or reused
    |   +-- NotAllowed        the registration state forbids this CALL (B02/B03; 1.6 section 4.2)
    |   +-- VersionMismatch   the station speaks another OCPP version than the binding named
    +-- CallFailure           a CALL of ours did not get a usable CALLRESULT (delivered in events)
    |   +-- CallErrorReceived the peer answered CALLERROR (code, description, details)
    |   +-- CallTimeout       no answer before the deadline
    |   +-- CallCancelled     cancelled locally before an answer came
    |   +-- ResponseInvalid   the peer's CALLRESULT failed validation (2.1: we sent CALLRESULTERROR)
    |   +-- ConnectionLost    the connection closed with the call outstanding or queued
    |   +-- NotConnected      the peer is connected nowhere: nothing was sent
    |   +-- NotSent           cluster: the node holding the station was gone before it sent the CALL
    |   +-- OutcomeUnknown    cluster: the node took the CALL, then died or went silent
    |   +-- ClusterUnavailable cluster: the backplane (Redis) cannot be reached
    +-- DeadLettered          the station's durable queue gave up on a queued message
    +-- ConnectFailed         a station could not connect to its CSMS (the cause says why)

Local misuse and remote failures never mix: a LocalError is always a bug in the calling code
(or a call the protocol state forbids), a CallFailure is always something that happened on the
link. ``CallFailure.sent`` says whether the peer can have received the CALL.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = [
    "CallCancelled",
    "CallErrorReceived",
    "CallFailure",
    "CallTimeout",
    "ClusterUnavailable",
    "ConnectFailed",
    "ConnectionLost",
    "DeadLettered",
    "InvalidMessage",
    "InvalidMessageId",
    "LocalError",
    "NotAllowed",
    "NotConnected",
    "NotSent",
    "OcppError",
    "OutcomeUnknown",
    "QueueFull",
    "ResponseInvalid",
    "VersionMismatch",
    "WrongDirection",
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


class NotAllowed(LocalError):
    """The peer's registration state forbids this CALL now; nothing was sent.

    The message names the rule (e.g. B03.FR.03: no CALL to a station whose BootNotification
    was Rejected).
    """


class VersionMismatch(LocalError):
    """A typed client was asked for with a binding of another OCPP version than the peer's."""


class CallFailure(OcppError):
    """A CALL we sent ended without a usable CALLRESULT.

    ``sent`` is False when the CALL never left this side (the peer cannot have received it),
    True when it was written to the link (the peer may have acted on it).

    Attributes:
        message_id: The CALL's message id (``"-"`` when it never got one).
        action: The CALL's action.
        reason: What happened, in words (the exception's message).
    """

    sent: bool = True

    def __init__(self, message_id: str, action: str, reason: str) -> None:
        self.message_id = message_id
        self.action = action
        super().__init__(f"{action} [{message_id}]: {reason}")


class CallErrorReceived(CallFailure):
    """The peer answered with CALLERROR: its error ``code`` (in the version's spelling),
    ``description`` and ``details`` (the errorDetails object)."""

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
    """The peer's CALLRESULT did not validate against the response schema; ``code`` is the
    error code the failure stands for (e.g. PropertyConstraintViolation)."""

    def __init__(self, message_id: str, action: str, code: str, reason: str) -> None:
        self.code = code
        super().__init__(message_id, action, f"invalid CALLRESULT ({code}): {reason}")


class ConnectionLost(CallFailure):
    """The connection ended while the call was outstanding or queued (``sent`` says which)."""

    def __init__(self, message_id: str, action: str, reason: str, *, sent: bool = True) -> None:
        self.sent = sent
        super().__init__(message_id, action, reason)


class NotConnected(CallFailure):
    """The peer is not connected: the CALL was not sent."""

    sent = False


class DeadLettered(OcppError):
    """A queued message the station's durable queue gave up on after its last attempt
    (``StationOptions.queue_attempts``); ``reason`` says why (the last CALLERROR or timeout).
    ``seq``: its sequence number (what ``submit`` returned); ``action``: its action."""

    def __init__(self, seq: int, action: str, reason: str) -> None:
        self.seq = seq
        self.action = action
        self.reason = reason
        super().__init__(f"queued message #{seq} ({action}) dead-lettered: {reason}")


class NotSent(CallFailure):
    """Cluster (decision 0013): the node that held the station was gone (or the call expired)
    before it sent the CALL: the station cannot have received it."""

    sent = False


class OutcomeUnknown(CallFailure):
    """Cluster (decision 0013): the node holding the station took the CALL but neither answered
    nor stayed alive: the station may have received it and acted on it."""


class ClusterUnavailable(CallFailure):
    """Cluster (decision 0013): the backplane (e.g. Redis) cannot be reached; ``sent`` is False
    unless the request may have reached it before the failure."""

    def __init__(self, message_id: str, action: str, reason: str, *, sent: bool = False) -> None:
        self.sent = sent
        super().__init__(message_id, action, reason)


class ConnectFailed(OcppError):
    """A station could not connect to its CSMS; ``cause`` says why in a few words
    (connection refused, HTTP 401, HTTP 404, no common OCPP version, TLS: ...)."""

    def __init__(self, cause: str) -> None:
        self.cause = cause
        super().__init__(cause)
