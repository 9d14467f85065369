"""Role interfaces: each side handles only what it receives and calls only what it may send."""

from __future__ import annotations

import asyncio
import datetime
import inspect
import json
from typing import Any

import pytest

from ocppgen.directions import BOTH, CS, CSMS, DIRECTIONS
from ocppgen.generated.runtime.routing import CallContext, CallError, NotSupportedError, Reply, Route
from tests.protocol_helpers import context
from ocppgen.generated.v16 import csms as csms16, messages as m16, station as station16
from ocppgen.generated.v201 import csms as csms201, enums as e201, messages as m201, routing as r201
from ocppgen.generated.v201 import station as station201
from ocppgen.generated.v21 import csms as csms21, messages as m21, routing as r21, station as station21

MODULES = {"1.6": (csms16, station16), "2.0.1": (csms201, station201), "2.1": (csms21, station21)}
CTX = context()


def run(coro: Any) -> Any:
    return asyncio.run(coro)


def methods(cls: type, prefix: str = "") -> set[str]:
    return {n for n, v in vars(cls).items() if inspect.isfunction(v) and not n.startswith("_") and n.startswith(prefix)}


@pytest.mark.parametrize("version", sorted(MODULES))
def test_each_role_surface_is_exactly_its_directions(version: str) -> None:
    from ocppgen.names import field_name

    csms, station = MODULES[version]
    table = DIRECTIONS[version]
    from_station = {field_name(a) for a, r in table.items() if r.initiator in (CS, BOTH)}
    from_csms = {field_name(a) for a, r in table.items() if r.initiator in (CSMS, BOTH)}
    assert methods(csms.CsmsHandler, "on_") == {f"on_{m}" for m in from_station}
    assert methods(csms.ChargingStationClient) == from_csms
    assert methods(station.StationHandler, "on_") == {f"on_{m}" for m in from_csms}
    lifecycle = {"connected", "registered", "disconnected"}
    assert methods(csms.CsmsHandler) - methods(csms.CsmsHandler, "on_") == lifecycle
    assert methods(station.StationHandler) - methods(station.StationHandler, "on_") == lifecycle
    assert methods(station.CsmsClient) == from_station
    assert set(csms.HANDLED) == {a for a, r in table.items() if r.initiator in (CS, BOTH)}
    # the generated action methods are plain functions typed ``Response | Awaitable[Response]`` (a
    # subclass overrides them with a ``def`` or an ``async def``); lifecycle and client methods are async
    for cls in (csms.CsmsHandler, station.StationHandler):
        assert not any(inspect.iscoroutinefunction(getattr(cls, n)) for n in methods(cls, "on_"))
        assert all(inspect.iscoroutinefunction(getattr(cls, n)) for n in lifecycle)
    for client in (csms.ChargingStationClient, station.CsmsClient):
        assert all(inspect.iscoroutinefunction(getattr(client, n)) for n in methods(client))


def test_routes_carry_types_initiators_and_cached_codecs() -> None:
    route = r201.ROUTES["BootNotification"]
    assert route is r201.BOOT_NOTIFICATION
    assert (route.request, route.response, route.send) == (m201.BootNotificationRequest, m201.BootNotificationResponse, False)
    assert {r.value for r in route.initiators} == {"ChargingStation"}
    assert route.request_codec is r201.ROUTES["BootNotification"].request_codec  # built once
    send = r21.ROUTES["NotifyPeriodicEventStream"]
    assert send.send and send.response is None and send.response_codec is None
    assert set(r21.Action) - set(r201.Action) >= {"AFRRSignal", "NotifyPeriodicEventStream"}


class Csms(csms201.CsmsHandler):
    def __init__(self) -> None:
        self.seen: list[tuple[str, Any]] = []

    async def on_boot_notification(
        self, request: m201.BootNotificationRequest, context: CallContext
    ) -> m201.BootNotificationResponse:
        self.seen.append((request.charging_station.model, context))
        return m201.BootNotificationResponse(
            current_time=datetime.datetime(2024, 1, 1, tzinfo=datetime.timezone.utc),
            interval=300,
            status=e201.RegistrationStatusEnumType.Accepted,
        )

    async def on_heartbeat(self, request: m201.HeartbeatRequest, context: Any) -> m201.HeartbeatResponse:
        raise RuntimeError("database is down: password=hunter2")

    async def on_status_notification(self, request: Any, context: Any) -> Any:
        return "not a response"


BOOT = b'{"reason":"PowerUp","chargingStation":{"model":"M1","vendorName":"V"}}'


def test_dispatch_runs_the_handler_and_encodes_the_typed_response() -> None:
    handler = Csms()
    outcome = run(csms201.dispatch(handler, "BootNotification", BOOT, CTX))
    assert isinstance(outcome, Reply) and outcome.payload is not None
    assert json.loads(outcome.payload) == {"currentTime": "2024-01-01T00:00:00Z", "interval": 300, "status": "Accepted"}
    assert handler.seen == [("M1", CTX)]


@pytest.mark.parametrize(
    ("action", "payload", "code"),
    [
        ("Teleport", b"{}", "NotImplemented"),  # not an action of the version
        ("Reset", b'{"type":"Immediate"}', "NotSupported"),  # the CSMS never receives Reset
        ("Authorize", b'{"idToken":{"idToken":"x","type":"ISO14443"}}', "NotSupported"),  # not overridden
        ("Heartbeat", b"{}", "InternalError"),
        ("StatusNotification", b'{"timestamp":"2024-01-01T00:00:00Z","connectorStatus":"Available","evseId":1,"connectorId":1}', "InternalError"),
        ("BootNotification", b'{"reason":"PowerUp"}', "OccurrenceConstraintViolation"),
        ("BootNotification", b'{"reason":7,"chargingStation":{"model":"M","vendorName":"V"}}', "TypeConstraintViolation"),
        ("BootNotification", b'{"reason":"Bored","chargingStation":{"model":"M","vendorName":"V"}}', "PropertyConstraintViolation"),
        ("BootNotification", b'{"reason":"PowerUp",', "FormatViolation"),
    ],
)
def test_dispatch_answers_with_the_callerror_of_part_4(action: str, payload: bytes, code: str) -> None:
    outcome = run(csms201.dispatch(Csms(), action, payload, CTX))
    assert isinstance(outcome, CallError)
    assert outcome.code == code
    assert len(outcome.description) <= 255
    assert "hunter2" not in outcome.description and "Traceback" not in outcome.description


@pytest.mark.parametrize(
    ("payload", "code"),
    [(b'{"connectorId":1}', "OccurenceConstraintViolation"), (b"not json", "FormationViolation")],
)
def test_dispatch_uses_the_1_6_spellings(payload: bytes, code: str) -> None:
    outcome = run(station16.dispatch(station16.StationHandler(), "Reset", b'{"type":"Hard"}', CTX))
    assert isinstance(outcome, CallError) and outcome.code == "NotSupported"
    outcome = run(station16.dispatch(station16.StationHandler(), "ChangeAvailability", payload, CTX))
    assert isinstance(outcome, CallError) and outcome.code == code


class FakeCaller:
    """A Caller that records what the client asks for and answers with a canned response."""

    def __init__(self, answer: Any = None) -> None:
        self.answer = answer
        self.calls: list[tuple[str, Any, Any]] = []

    async def call(self, route: Route[Any, Any], request: Any, timeout: float | None) -> Any:
        self.calls.append(("call", route, (request, timeout)))
        return self.answer

    async def send(self, route: Route[Any, Any], message: Any) -> None:
        self.calls.append(("send", route, message))


def test_client_methods_call_their_route() -> None:
    caller = FakeCaller(m201.ResetResponse(status=e201.ResetStatusEnumType.Accepted))
    client = csms201.ChargingStationClient(caller)
    request = m201.ResetRequest(type=e201.ResetEnumType.Immediate)
    response = run(client.reset(request, timeout=5))
    assert response.status == "Accepted"
    assert caller.calls == [("call", r201.RESET, (request, 5))]


def test_send_capable_action_gets_a_send_method() -> None:
    caller = FakeCaller()
    client = station21.CsmsClient(caller)
    message = m21.NotifyPeriodicEventStream(id=1, pending=0, basetime=datetime.datetime(2024, 1, 1, tzinfo=datetime.timezone.utc), data=[])  # noqa: E501
    assert run(client.notify_periodic_event_stream(message)) is None
    assert caller.calls == [("send", r21.NOTIFY_PERIODIC_EVENT_STREAM, message)]


def test_send_handler_returns_nothing() -> None:
    class H(csms21.CsmsHandler):
        got: list[int] = []

        async def on_notify_periodic_event_stream(self, message: m21.NotifyPeriodicEventStream, context: Any) -> None:
            self.got.append(message.id)

    raw = b'{"id":3,"pending":0,"basetime":"2024-01-01T00:00:00Z","data":[{"t":0.5,"v":"1"}]}'
    outcome = run(csms21.dispatch(H(), "NotifyPeriodicEventStream", raw, CTX))
    assert outcome == Reply(None) and H.got == [3]
    empty = b'{"id":3,"pending":0,"basetime":"2024-01-01T00:00:00Z","data":[]}'
    outcome = run(csms21.dispatch(H(), "NotifyPeriodicEventStream", empty, CTX))
    assert isinstance(outcome, CallError) and outcome.code == "OccurrenceConstraintViolation"  # minItems 1


def test_data_transfer_is_on_both_sides() -> None:
    for csms, station in MODULES.values():
        assert hasattr(csms.CsmsHandler, "on_data_transfer") and hasattr(csms.ChargingStationClient, "data_transfer")
        assert hasattr(station.StationHandler, "on_data_transfer") and hasattr(station.CsmsClient, "data_transfer")


def test_not_supported_error_carries_the_action() -> None:
    with pytest.raises(NotSupportedError) as exc:
        run(station16.StationHandler().on_reset(m16.ResetRequest(type="Hard"), CTX))  # type: ignore[arg-type]
    assert exc.value.action == "Reset"


def test_a_handler_method_for_an_action_the_role_never_receives_is_refused_at_class_definition() -> None:
    with pytest.raises(TypeError, match=r"Typo\.on_boot_notificaton handles no action the CSMS receives in OCPP 2\.0\.1"):

        class Typo(csms201.CsmsHandler):
            async def on_boot_notificaton(self, request: Any, context: Any) -> Any: ...

    with pytest.raises(TypeError, match="the CSMS sends that action, it never receives it"):

        class WrongDirection(csms201.CsmsHandler):
            async def on_reset(self, request: Any, context: Any) -> Any: ...

    with pytest.raises(TypeError, match="lifecycle methods are named connected, registered and disconnected"):

        class Hook(station16.StationHandler):
            async def on_connect(self, session: Any, client: Any) -> None: ...

    class Fine(csms201.CsmsHandler):  # its own actions, lifecycle methods and helpers are fine
        async def on_heartbeat(self, request: Any, context: Any) -> Any: ...

        async def connected(self, session: Any, client: Any) -> None: ...

        def helper(self) -> None: ...

    assert Fine.on_heartbeat is not csms201.CsmsHandler.on_heartbeat
