"""The backplane: what a cluster of CSMS processes needs from a shared engine (decision 0013).

A ``ClusterRegistry`` (``cluster``) speaks to the other processes only through a ``Backplane``:
presence (which node holds which station, with a TTL), one inbox per process (CALLs routed to
the node holding the station, replacement orders), one reply channel per process, one event
channel for everyone, and a key-value home for shared session state. ``RedisBackplane``
(``redis_backplane``) implements it on Redis; another engine (NATS with JetStream KV, RabbitMQ
with a key-value store beside it) implements the same few methods.

Every method raises ``BackplaneDown`` when the engine cannot be reached, and nothing else for
that reason: the registry turns it into ``ClusterUnavailable`` for callers and keeps its station
connections (they never depend on the backplane being up).

The messages between processes are msgspec Structs encoded with msgpack (``encode``/``decode``).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Literal, Protocol

import msgspec

from .errors import (
    CallCancelled,
    CallErrorReceived,
    CallFailure,
    CallTimeout,
    ClusterUnavailable,
    ConnectionLost,
    InvalidMessage,
    InvalidMessageId,
    LocalError,
    NotAllowed,
    NotConnected,
    NotSent,
    OcppError,
    OutcomeUnknown,
    QueueFull,
    ResponseInvalid,
    VersionMismatch,
    WrongDirection,
)

__all__ = [
    "Backplane",
    "BackplaneDown",
    "CallRequest",
    "CallReply",
    "ClusterEvent",
    "Presence",
    "Replace",
    "error_from_wire",
    "error_to_wire",
]


class BackplaneDown(Exception):
    """The backplane cannot be reached (connection refused, timeout, lost connection).
    ``maybe_applied``: the failure came after the command may have reached the engine.

    Args:
        reason: what failed, for the log and the ``ClusterUnavailable`` built from it.
        maybe_applied: True when the engine may have carried out the command anyway.
    """

    def __init__(self, reason: str, *, maybe_applied: bool = False) -> None:
        self.maybe_applied = maybe_applied
        super().__init__(reason)


class Presence(msgspec.Struct, frozen=True, array_like=True):
    """Where a station is connected: the node, its OCPP version, and since when (wall clock,
    seconds): the newest connection of a station wins.

    Attributes:
        node: the id of the process holding the station's connection.
        version: the OCPP version the station speaks there (``"1.6"``, ``"2.0.1"``, ``"2.1"``).
        since: when that connection opened (wall clock, seconds since the epoch).
    """

    node: str
    version: str
    since: float


class CallRequest(msgspec.Struct, frozen=True, tag="call", kw_only=True):
    """A CALL for a station, routed to the node holding it (``send``: a 2.1 SEND).

    Attributes:
        id: the OCPP message id, also the key of the reply.
        reply_to: the process whose reply channel gets the ``CallReply``.
        identity: the station to call.
        action: the OCPP action (``"Reset"``).
        payload: the request payload, JSON-encoded.
        timeout: the caller's timeout for the station's answer, None for the session's default.
        deadline: wall-clock time after which the holding node drops the request unsent.
        send: True for a 2.1 SEND (no answer expected).
    """

    id: str
    reply_to: str
    identity: str
    action: str
    payload: bytes
    timeout: float | None
    deadline: float  # wall clock: a node that takes it later does not send it
    send: bool = False


class Replace(msgspec.Struct, frozen=True, tag="replace", kw_only=True):
    """A newer connection of ``identity`` opened on ``node`` at ``since``: close yours."""

    identity: str
    node: str
    since: float


class CallReply(msgspec.Struct, frozen=True, kw_only=True):
    """The outcome of a ``CallRequest``: the response payload (JSON), or an error.

    Attributes:
        id: the ``CallRequest.id`` answered.
        payload: the station's response payload, JSON-encoded, on success.
        error: the error raised on the holding node (``error_to_wire``), on failure.
    """

    id: str
    payload: bytes | None = None
    error: WireError | None = None


class WireError(msgspec.Struct, frozen=True, kw_only=True):
    """A runtime error, carried between processes."""

    kind: str
    message_id: str = "-"
    action: str = "-"
    reason: str = ""
    code: str = ""
    description: str = ""
    details: dict[str, object] = {}
    sent: bool = True


class ClusterEvent(msgspec.Struct, frozen=True, kw_only=True):
    """A station event as published to every process: the registry's ``StationEvent`` fields,
    the node it happened on and the station's registration then.

    Attributes:
        origin: the node the event happened on.
        kind: what happened: ``"connected"``, ``"registered"``, ``"disconnected"``, ``"security"``.
        identity: the station.
        version: the OCPP version of its connection, None when not known.
        registration: the station's registration status then (``"Accepted"``, ``"Pending"``...).
        remote_address: the peer address of the connection, when known.
        code: the WebSocket close code, for ``"disconnected"``.
        reason: the close reason, for ``"disconnected"``.
        replaced: True when a newer connection of the station replaced this one.
        detail: free text, e.g. the security profile change of a ``"security"`` event.
    """

    origin: str
    kind: Literal["connected", "registered", "disconnected", "security"]
    identity: str
    version: str | None
    registration: str
    remote_address: str | None = None
    code: int | None = None
    reason: str = ""
    replaced: bool = False
    detail: str = ""


Inbound = CallRequest | Replace

_inbound = msgspec.msgpack.Decoder(Inbound)
_reply = msgspec.msgpack.Decoder(CallReply)
_event = msgspec.msgpack.Decoder(ClusterEvent)
_presence = msgspec.msgpack.Decoder(Presence)
encode = msgspec.msgpack.encode


def decode_inbound(data: bytes) -> Inbound:
    return _inbound.decode(data)


def decode_reply(data: bytes) -> CallReply:
    return _reply.decode(data)


def decode_event(data: bytes) -> ClusterEvent:
    return _event.decode(data)


def decode_presence(data: bytes) -> Presence:
    return _presence.decode(data)


_FAILURES: dict[str, type[CallFailure]] = {
    c.__name__: c for c in (CallTimeout, CallCancelled, NotConnected, NotSent, OutcomeUnknown)
}
_LOCAL: dict[str, type[LocalError]] = {
    c.__name__: c for c in (QueueFull, InvalidMessage, WrongDirection, InvalidMessageId, NotAllowed, VersionMismatch)
}


def error_to_wire(exc: BaseException) -> WireError:
    """What another process needs to raise the same error again.

    Args:
        exc: the error raised on this node; an unknown kind becomes ``OutcomeUnknown``.
    """
    if isinstance(exc, CallErrorReceived):
        return WireError(kind="CallErrorReceived", message_id=exc.message_id, action=exc.action, code=exc.code,
                         description=exc.description, details=dict(exc.details))
    if isinstance(exc, ResponseInvalid):
        reason = str(exc).split(": ", 1)[-1]
        return WireError(kind="ResponseInvalid", message_id=exc.message_id, action=exc.action, code=exc.code, reason=reason)
    if isinstance(exc, CallFailure):
        reason = str(exc).split("]: ", 1)[-1]
        kind = type(exc).__name__ if type(exc).__name__ in _FAILURES or isinstance(exc, ConnectionLost) else "OutcomeUnknown"
        if isinstance(exc, ConnectionLost):
            kind = "ConnectionLost"
        return WireError(kind=kind, message_id=exc.message_id, action=exc.action, reason=reason, sent=exc.sent)
    if isinstance(exc, LocalError) and type(exc).__name__ in _LOCAL:
        return WireError(kind=type(exc).__name__, reason=str(exc), sent=False)
    return WireError(kind="OutcomeUnknown", reason=f"{type(exc).__name__}: {exc}")


def error_from_wire(error: WireError) -> OcppError:
    """The error ``error_to_wire`` described, as the same class.

    Args:
        error: the ``WireError`` from a ``CallReply``.
    """
    if error.kind == "CallErrorReceived":
        return CallErrorReceived(error.message_id, error.action, error.code, error.description, error.details)
    if error.kind == "ResponseInvalid":
        return ResponseInvalid(error.message_id, error.action, error.code, error.reason)
    if error.kind == "ConnectionLost":
        return ConnectionLost(error.message_id, error.action, error.reason, sent=error.sent)
    if error.kind == "ClusterUnavailable":
        return ClusterUnavailable(error.message_id, error.action, error.reason, sent=error.sent)
    failure = _FAILURES.get(error.kind)
    if failure is not None:
        return failure(error.message_id, error.action, error.reason)
    local = _LOCAL.get(error.kind)
    if local is not None:
        return local(error.reason)
    return OutcomeUnknown(error.message_id, error.action, error.reason)


class Backplane(Protocol):
    """The engine behind a cluster registry. ``node`` is this process's id (unique per
    process); ``ttl`` the presence TTL in seconds: a node that stops refreshing disappears,
    with its stations, within it."""

    node: str
    ttl: float

    async def start(self, on_inbound: Callable[[bytes], None], on_reply: Callable[[bytes], None],
                    on_event: Callable[[bytes], None], on_up: Callable[[], Awaitable[None]]) -> None:
        """Start delivering this process's inbox, replies and everyone's events to the
        callbacks (in the order sent, per sender); ``on_up`` runs after every reconnection
        to the engine (the registry re-establishes what the engine may have lost).

        Args:
            on_inbound: called with each message of this node's inbox (``decode_inbound``).
            on_reply: called with each reply sent to this process (``decode_reply``).
            on_event: called with each event published by any process (``decode_event``).
            on_up: awaited after every (re)connection to the engine.
        """
        ...

    async def close(self) -> None:
        """Stop delivering and forget this node (its presence stays until its TTL)."""
        ...

    # presence
    async def claim(self, identity: str, presence: Presence, *, newest_wins: bool) -> Presence | None:
        """Record that ``presence.node`` holds ``identity``; returns the previous holder.
        ``newest_wins``: keep a holder whose ``since`` is newer (then returned, unchanged).

        Args:
            identity: the station.
            presence: this node's presence for it.
            newest_wins: compare ``since`` instead of overwriting unconditionally.
        """
        ...

    async def release(self, identity: str, presence: Presence) -> None:
        """Forget ``identity``'s presence if it is still ``presence`` (compare and delete).

        Args:
            identity: the station.
            presence: the presence this node recorded; another one is left alone.
        """
        ...

    async def refresh(self, held: Mapping[str, Presence]) -> tuple[list[str], list[str]]:
        """Renew this node's liveness and its stations' presence TTL. Returns (identities
        another node holds now, identities the engine had forgotten and that were restored).

        Args:
            held: the stations this node holds, with the presence it claimed for each.
        """
        ...

    async def locate(self, identity: str) -> Presence | None:
        """Where ``identity`` is connected, or None.

        Args:
            identity: the station.
        """
        ...

    async def present(self) -> dict[str, Presence]:
        """Every station present anywhere."""
        ...

    async def node_alive(self, node: str) -> bool:
        """Whether ``node`` refreshed its liveness within the TTL.

        Args:
            node: a process id.
        """
        ...

    # messages
    async def route(self, identity: str, message: bytes) -> Presence | None:
        """Put ``message`` in the inbox of the live node holding ``identity`` (one atomic step);
        returns that presence, or None when the station is connected nowhere (nothing queued).

        Args:
            identity: the station.
            message: an encoded ``CallRequest``.
        """
        ...

    async def push(self, node: str, message: bytes) -> None:
        """Put ``message`` in ``node``'s inbox.

        Args:
            node: the process id.
            message: an encoded inbound message (``CallRequest`` or ``Replace``).
        """
        ...

    async def retract(self, node: str, message: bytes) -> bool:
        """Take ``message`` back out of ``node``'s inbox: True if it was still there (the node
        never saw it), False if the node had taken it.

        Args:
            node: the process id whose inbox got it.
            message: the same bytes that were queued.
        """
        ...

    async def reply(self, process: str, message: bytes) -> None:
        """Send ``message`` to ``process``'s reply channel.

        Args:
            process: the ``CallRequest.reply_to`` of the request answered.
            message: an encoded ``CallReply``.
        """
        ...

    async def publish(self, message: bytes) -> None:
        """An event for every process.

        Args:
            message: an encoded ``ClusterEvent``.
        """
        ...

    # shared session state
    async def load(self, names: Sequence[str]) -> list[bytes | None]:
        """The values stored under ``names``, in order (None where absent).

        Args:
            names: the keys, without the engine's prefix.
        """
        ...

    async def save(self, items: Mapping[str, bytes], ttl: float | None) -> None:
        """Store every item, in one step.

        Args:
            items: key to value.
            ttl: seconds after which they expire, None to keep them.
        """
        ...

    async def delete(self, names: Sequence[str]) -> None:
        """Remove the keys ``names`` (absent ones are ignored).

        Args:
            names: the keys, without the engine's prefix.
        """
        ...

    async def add(self, name: str, ttl: float) -> int:
        """Increment the counter ``name`` (it expires ``ttl`` seconds after its first
        increment) and return its new value, in one atomic step.

        Args:
            name: the counter's key.
            ttl: its lifetime in seconds, from its first increment.
        """
        ...
