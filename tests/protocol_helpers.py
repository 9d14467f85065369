"""An in-memory pair of protocol objects, a fake clock, and handlers for protocol tests."""

from __future__ import annotations

import asyncio
import itertools
from types import ModuleType
from typing import Any

from ocppgen.generated.runtime.events import CallReceived, Event
from ocppgen.generated.runtime.protocol import OcppProtocol
from ocppgen.generated.runtime.routing import CallContext, HandlerError, Role, invoke
from ocppgen.generated.runtime.session import Session
from ocppgen.generated.v16 import csms as csms16, routing as routing16, station as station16
from ocppgen.generated.v201 import csms as csms201, routing as routing201, station as station201
from ocppgen.generated.v21 import csms as csms21, routing as routing21, station as station21

MODULES: dict[str, tuple[ModuleType, ModuleType, ModuleType]] = {
    "1.6": (routing16, csms16, station16),
    "2.0.1": (routing201, csms201, station201),
    "2.1": (routing21, csms21, station21),
}


class Ids:
    """A deterministic message-id factory."""

    def __init__(self, prefix: str) -> None:
        self._counter = itertools.count(1)
        self.prefix = prefix

    def __call__(self) -> str:
        return f"{self.prefix}{next(self._counter)}"


def make(version: str, role: Role, **kwargs: Any) -> OcppProtocol:
    routing, csms, station = MODULES[version]
    handled = csms.HANDLED if role is Role.CSMS else station.HANDLED
    kwargs.setdefault("id_factory", Ids("csms-" if role is Role.CSMS else "cs-"))
    return OcppProtocol(version=version, role=role, routes=routing.ROUTES, handled=handled, **kwargs)


def pair(version: str, **kwargs: Any) -> tuple[OcppProtocol, OcppProtocol]:
    return make(version, Role.CSMS, **kwargs), make(version, Role.CHARGING_STATION, **kwargs)


def deliver(src: OcppProtocol, dst: OcppProtocol, now: float = 0.0) -> list[Event]:
    """Move every pending frame from src to dst; returns dst's events."""
    events: list[Event] = []
    for frame in src.data_to_send():
        events.extend(dst.receive(frame, now))
    return events


def context(message_id: str = "m-1", action: str = "", version: str = "2.0.1", role: Role = Role.CSMS) -> CallContext[Any]:
    """A handler context for a station CS-1 without a connection."""
    session = Session("CS-1", role)
    session.version = version
    return CallContext(session, None, message_id, action)


def answer(protocol: OcppProtocol, handler: object, events: list[Event], version: str) -> list[Event]:
    """Run the handler for every CallReceived and respond, as a connection would."""
    out: list[Event] = []
    for event in events:
        if isinstance(event, CallReceived):
            route = protocol.routes[event.action]
            ctx = context(event.message_id, event.action, version, protocol.role)
            result = asyncio.run(invoke(handler, event.handler_method, route, event.request, ctx))
            if isinstance(result, HandlerError):
                protocol.respond_error(event.message_id, result.failure, result.description)
            else:
                out.extend(protocol.respond(event.message_id, result))
    return out
