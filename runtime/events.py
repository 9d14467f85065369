"""What the protocol core tells the connection: one or more events per input.

Every inbound frame ends in exactly one of: ``CallReceived`` (answer it with
``OcppProtocol.respond``), ``SendReceived``, ``CallCompleted``/``CallFailed`` (a reply to one
of our CALLs), ``ResultRejected`` (2.1: the peer could not process our CALLRESULT),
``Rejected`` (the core answered the frame itself with a CALLERROR or CALLRESULTERROR),
``CallQueued`` (a pipelined CALL waits for a free handler slot; its ``CallReceived`` comes
later, from ``respond``), ``Answered`` (the core answered a CALL itself with a CALLRESULT: a 2.1 retry from the cache,
or a canned answer the registration state requires) or ``Dropped`` (a documented, deliberate
drop). ``ToleratedViolation`` events may come before ``CallReceived``/``SendReceived``/
``CallCompleted`` in the lenient profile, one per repair.

Besides: ``HandlerTimedOut`` (a handler missed its deadline; the core answered InternalError,
cancel the handler), ``ResponseRefused`` (a handler's response failed validation; the core
answered InternalError), ``RegistrationChanged`` (a BootNotification was answered) and
``CloseRequested`` (the peer sent more invalid messages than allowed: close the connection).

One event does not come from the core: the connection reports ``HandlerFinished`` (a handler
ran, how long, what was answered) to ``Options.on_event`` only, for metrics.
"""

from __future__ import annotations

from typing import Any

import msgspec

from .errors import CallFailure
from .lenient import Tolerated

__all__ = [
    "Answered",
    "CallCompleted",
    "CallFailed",
    "CallQueued",
    "CallReceived",
    "CloseRequested",
    "Dropped",
    "Event",
    "HandlerFinished",
    "HandlerTimedOut",
    "RegistrationChanged",
    "Rejected",
    "ResponseRefused",
    "ResultRejected",
    "SendReceived",
    "ToleratedViolation",
]


class Event(msgspec.Struct, frozen=True, kw_only=True):
    """Base of the protocol's events.

    Most events name the frame they are about.

    Attributes:
        message_id: The message id of the CALL (or SEND, or reply) concerned; ``"-1"`` when
            the frame's id could not be read.
        action: The OCPP action concerned (``BootNotification``).
    """


class CallReceived(Event, frozen=True, kw_only=True):
    """A valid CALL for this role: run ``handler_method`` with the decoded ``request`` and
    answer with ``respond``. ``signer``: the certificate that signed it (a signed message, Part 4 chapter 7), or None."""

    message_id: str
    action: str
    request: Any
    handler_method: str
    signer: Any = None


class SendReceived(Event, frozen=True, kw_only=True):
    """A valid SEND (2.1) for this role: run ``handler_method`` with the decoded ``message``;
    never answer it. ``signer``: as for ``CallReceived``."""

    message_id: str
    action: str
    message: Any
    handler_method: str
    signer: Any = None


class CallCompleted(Event, frozen=True, kw_only=True):
    """Our CALL got a valid CALLRESULT, decoded as ``response``."""

    message_id: str
    action: str
    response: Any


class CallFailed(Event, frozen=True, kw_only=True):
    """Our CALL ended without a usable result (CALLERROR, timeout, cancel, invalid result,
    ...); ``error`` is the ``CallFailure`` the caller gets."""

    message_id: str
    action: str
    error: CallFailure


class ResultRejected(Event, frozen=True, kw_only=True):
    """2.1: the peer answered our CALLRESULT with CALLRESULTERROR: its ``code``,
    ``description`` and ``details``."""

    message_id: str
    code: str
    description: str
    details: dict[str, Any]


class Rejected(Event, frozen=True, kw_only=True):
    """The core answered an inbound frame itself (the frame is already in the outbox) with
    error ``code`` and ``description``; ``frame_type`` is the answer's message type (4:
    CALLERROR; 5: CALLRESULTERROR on 2.1)."""

    message_id: str
    code: str
    description: str
    frame_type: int


class Dropped(Event, frozen=True, kw_only=True):
    """An inbound frame deliberately not answered, and why.

    ``reason`` is one of: ``unknown_message_type`` (1.6, 2.1: ignored as their Part 4 says),
    ``unknown_reply`` (a reply to no CALL of ours), ``late_reply`` (a reply to a CALL that
    timed out or was cancelled), ``invalid_send`` (a SEND is never answered, even when
    invalid), ``invalid_reply`` (a malformed reply to no outstanding CALL),
    ``unknown_result_error`` (a CALLRESULTERROR about no CALLRESULT of ours),
    ``not_registered`` (1.6: a station whose BootNotification was Rejected answers nothing),
    ``serial_mismatch`` (profile 3: the BootNotification's serial number is not the
    certificate's, B01.FR.12; a ``CloseRequested`` follows). ``message_id``: the frame's, if
    readable; ``detail``: what was wrong, in words.
    """

    reason: str
    message_id: str | None
    detail: str


class ToleratedViolation(Event, frozen=True, kw_only=True):
    """The lenient profile accepted a violation in an inbound payload: ``tolerated`` says
    which kind, where and what was done."""

    message_id: str
    action: str
    tolerated: Tolerated


class Answered(Event, frozen=True, kw_only=True):
    """The core answered a CALL itself with a CALLRESULT (already in the outbox).

    ``reason``: ``cache`` (2.1: a retry reusing the id of a CALL answered before, Part 4 2.1
    section 4.1.4) or ``registration`` (the registration state prescribes the answer, e.g.
    RequestStartTransaction answered Rejected while Pending, B02.FR.05); ``detail`` says
    more, in words.
    """

    message_id: str
    action: str
    reason: str
    detail: str


class HandlerTimedOut(Event, frozen=True, kw_only=True):
    """A handler did not answer within its deadline (``timeout`` seconds); the core answered
    InternalError."""

    message_id: str
    action: str
    timeout: float


class ResponseRefused(Event, frozen=True, kw_only=True):
    """A handler's response was not a valid response (``reason`` says why); the core answered
    InternalError."""

    message_id: str
    action: str
    reason: str


class RegistrationChanged(Event, frozen=True, kw_only=True):
    """A BootNotification was answered: the registration is now ``registration``."""

    registration: str


class CloseRequested(Event, frozen=True, kw_only=True):
    """The connection should close (e.g. the peer exceeded the bad-message limit), with close
    ``code`` and ``reason``."""

    code: int
    reason: str


class CallQueued(Event, frozen=True, kw_only=True):
    """A CALL that came while the peer's earlier CALLs are still being handled (the peer
    pipelines, against Part 4 section 4.1.1): it waits, ``waiting`` CALLs in line; its
    ``CallReceived`` comes once a handler slot is free."""

    message_id: str
    action: str
    waiting: int


class HandlerFinished(Event, frozen=True, kw_only=True):
    """A handler of an inbound CALL or SEND returned (reported by the connection, not the
    core, and only to ``Options.on_event``). ``seconds``: how long it ran (event-loop clock).
    ``outcome``: ``result`` (its response was sent), ``error`` (it raised; the CALLERROR
    ``code`` was sent), ``refused`` (its response was invalid; InternalError was sent),
    ``send`` (a SEND was handled), ``send_failed`` (a SEND handler raised) or ``closed`` (the
    connection closed before the answer could be sent). A handler that
    missed its deadline is cancelled and reported by the core's ``HandlerTimedOut`` instead."""

    message_id: str
    action: str
    outcome: str
    code: str | None
    seconds: float
