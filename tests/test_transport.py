"""End to end over loopback WebSockets: ocppgen CSMS with ocppgen station, every version."""

from __future__ import annotations

import asyncio
import datetime
import json
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from websockets.asyncio.client import connect

from ocppgen.generated.runtime.client import StationClient
from ocppgen.generated.runtime.config import BackOff, StationOptions
from ocppgen.generated.runtime.errors import ConnectionLost, NotConnected
from ocppgen.generated.runtime.server import CsmsServer, station_id_from_path
from ocppgen.generated.v16 import csms as csms16, enums as e16, messages as m16, station as station16
from ocppgen.generated.v201 import csms as csms201, datatypes as d201, enums as e201, messages as m201
from ocppgen.generated.v201 import station as station201
from ocppgen.generated.v21 import csms as csms21, datatypes as d21, enums as e21, messages as m21
from ocppgen.generated.v21 import station as station21

from tests.helpers import NOW, boot201, run, server, started, station


class Csms201(csms201.CsmsHandler):
    def __init__(self) -> None:
        self.boots: list[str] = []

    async def on_boot_notification(self, request: m201.BootNotificationRequest, context: Any) -> m201.BootNotificationResponse:
        self.boots.append(context.station_id)
        return m201.BootNotificationResponse(current_time=NOW, interval=60, status=e201.RegistrationStatusEnumType.Accepted)

    async def on_heartbeat(self, request: m201.HeartbeatRequest, context: Any) -> m201.HeartbeatResponse:
        # a handler that itself calls the station before answering (inbound CALLs run in tasks)
        result = await context.client.get_variables(
            m201.GetVariablesRequest(
                get_variable_data=[
                    d201.GetVariableDataType(component=d201.ComponentType(name="OCPPCommCtrlr"), variable=d201.VariableType(name="HeartbeatInterval"))
                ]
            )
        )
        assert result.get_variable_result[0].attribute_value == "60"
        return m201.HeartbeatResponse(current_time=NOW)


class Station201(station201.StationHandler):
    def __init__(self) -> None:
        self.resets: list[str] = []
        self.release = asyncio.Event()

    async def on_reset(self, request: m201.ResetRequest, context: Any) -> m201.ResetResponse:
        self.resets.append(request.type.value)
        return m201.ResetResponse(status=e201.ResetStatusEnumType.Accepted)

    async def on_get_variables(self, request: m201.GetVariablesRequest, context: Any) -> m201.GetVariablesResponse:
        item = request.get_variable_data[0]
        return m201.GetVariablesResponse(
            get_variable_result=[
                d201.GetVariableResultType(
                    attribute_status=e201.GetVariableStatusEnumType.Accepted,
                    attribute_value="60",
                    component=item.component,
                    variable=item.variable,
                )
            ]
        )


class Csms16(csms16.CsmsHandler):
    async def on_boot_notification(self, request: m16.BootNotificationRequest, context: Any) -> m16.BootNotificationResponse:
        return m16.BootNotificationResponse(current_time=NOW, interval=60, status=e16.RegistrationStatus.Accepted)


class Station16(station16.StationHandler):
    async def on_change_availability(self, request: m16.ChangeAvailabilityRequest, context: Any) -> m16.ChangeAvailabilityResponse:
        return m16.ChangeAvailabilityResponse(status=e16.AvailabilityStatus.Scheduled)


class Csms21(csms21.CsmsHandler):
    def __init__(self) -> None:
        self.streamed: list[int] = []

    async def on_boot_notification(self, request: m21.BootNotificationRequest, context: Any) -> m21.BootNotificationResponse:
        return m21.BootNotificationResponse(current_time=NOW, interval=60, status=e21.RegistrationStatusEnumType.Accepted)

    async def on_notify_periodic_event_stream(self, message: m21.NotifyPeriodicEventStream, context: Any) -> None:
        self.streamed.append(message.id)


def servers() -> list[tuple[Any, Any]]:
    return [(csms21.BINDING, Csms21()), (csms201.BINDING, Csms201()), (csms16.BINDING, Csms16())]


def test_station_id_from_path() -> None:
    assert station_id_from_path("/ocpp/CS%2D1") == "CS-1"
    assert station_id_from_path("/ocpp/ACME%20Station%201/") == "ACME Station 1"
    assert station_id_from_path("/ocpp/") == "ocpp"
    assert station_id_from_path("/") is None
    assert station_id_from_path("/ocpp/" + "x" * 49) is None
    assert station_id_from_path("/ocpp/a%0Ab") is None  # control characters
    assert station_id_from_path("/ocpp/a%2Fb") is None  # an encoded slash is not an identity
    assert station_id_from_path("/ocpp/%FF") is None  # not UTF-8


def test_2_0_1_both_directions_and_a_handler_that_calls_the_peer() -> None:
    csms_handler = Csms201()
    csms = server((csms201.BINDING, csms_handler))
    station_handler = Station201()

    async def body(port: int) -> None:
        client = station(f"ws://127.0.0.1:{port}/ocpp/CS-201", station201.BINDING, station_handler)
        async with client.running():
            connection = await client.connected(timeout=5)
            assert connection.binding.version == "2.0.1"
            response = await client.csms.boot_notification(boot201())
            assert response.status is e201.RegistrationStatusEnumType.Accepted
            heartbeat = await client.csms.heartbeat(m201.HeartbeatRequest())  # CSMS calls back first
            assert heartbeat.current_time == NOW
            reset = await csms.registry.client("cs-201", csms201.BINDING).reset(m201.ResetRequest(type=e201.ResetEnumType.OnIdle))
            assert reset.status is e201.ResetStatusEnumType.Accepted
        assert csms_handler.boots == ["CS-201"] and station_handler.resets == ["OnIdle"]

    run(started(csms, body))


def test_1_6_and_2_1_from_one_server_with_subprotocol_preference() -> None:
    handlers = servers()
    csms = server(*handlers)

    async def body(port: int) -> None:
        s16 = station(f"ws://127.0.0.1:{port}/ocpp/CS16", station16.BINDING, Station16())
        s21 = station(f"ws://127.0.0.1:{port}/ocpp/CS21", station21.BINDING, station21.StationHandler())
        async with s16.running(), s21.running():
            c16, c21 = await s16.connected(timeout=5), await s21.connected(timeout=5)
            assert (c16.binding.version, c21.binding.version) == ("1.6", "2.1")
            boot = await s16.csms.boot_notification(m16.BootNotificationRequest(charge_point_model="M", charge_point_vendor="V"))
            assert boot.status is e16.RegistrationStatus.Accepted
            answer = await csms.registry.client("CS16", csms16.BINDING).change_availability(
                m16.ChangeAvailabilityRequest(connector_id=0, type=e16.AvailabilityType.Inoperative)
            )
            assert answer.status is e16.AvailabilityStatus.Scheduled
            await s21.csms.boot_notification(
                m21.BootNotificationRequest(reason=e21.BootReasonEnumType.PowerUp, charging_station=d21.ChargingStationType(model="M", vendor_name="V"))
            )
            stream = m21.NotifyPeriodicEventStream(id=7, pending=0, basetime=NOW, data=[d21.StreamDataElementType(t=0, v="1")])
            await s21.csms.notify_periodic_event_stream(stream)
            await asyncio.sleep(0.1)
        async with connect(f"ws://127.0.0.1:{port}/ocpp/BOTH", subprotocols=["ocpp2.0.1", "ocpp2.1"]) as ws:  # type: ignore[list-item]
            assert ws.subprotocol == "ocpp2.1"  # the server's preference, not the station's order
        assert handlers[0][1].streamed == [7]

    run(started(csms, body))


def test_per_station_override_and_default_for_chargers_offering_nothing() -> None:
    def choose(sid: str, offered: Any) -> str | None:
        if sid == "OLD" and "ocpp1.6" in offered:
            return "ocpp1.6"
        return None

    csms = server(*servers(), default_subprotocol="ocpp1.6", choose_subprotocol=choose)

    async def body(port: int) -> None:
        async with connect(f"ws://127.0.0.1:{port}/ocpp/OLD", subprotocols=["ocpp2.1", "ocpp1.6"]) as ws:  # type: ignore[list-item]
            assert ws.subprotocol == "ocpp1.6"
        async with connect(f"ws://127.0.0.1:{port}/ocpp/NEW", subprotocols=["ocpp2.1", "ocpp1.6"]) as ws:  # type: ignore[list-item]
            assert ws.subprotocol == "ocpp2.1"  # the hook returned None: the preference order decides
        async with connect(f"ws://127.0.0.1:{port}/ocpp/BARE") as ws:  # offers no subprotocol
            assert ws.subprotocol is None
            await ws.send('[2,"1","BootNotification",{"chargePointModel":"M","chargePointVendor":"V"}]')
            reply = json.loads(await ws.recv())
            assert reply[:2] == [3, "1"] and reply[2]["status"] == "Accepted"  # served as 1.6

    run(started(csms, body))


async def raw_handshake(port: int, path: str, protocols: str | None) -> tuple[str, bytes]:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    lines = [
        f"GET {path} HTTP/1.1",
        f"Host: 127.0.0.1:{port}",
        "Upgrade: websocket",
        "Connection: Upgrade",
        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==",
        "Sec-WebSocket-Version: 13",
    ]
    if protocols:
        lines.append(f"Sec-WebSocket-Protocol: {protocols}")
    writer.write(("\r\n".join(lines) + "\r\n\r\n").encode())
    await writer.drain()
    head = (await reader.readuntil(b"\r\n\r\n")).decode()
    rest = await asyncio.wait_for(reader.read(1024), 5)
    writer.close()
    return head, rest


def test_no_supported_subprotocol_completes_the_handshake_then_closes() -> None:
    csms = server(*servers())

    async def body(port: int) -> None:
        head, rest = await raw_handshake(port, "/ocpp/CS-X", "ocpp9.9, mqtt")
        assert head.startswith("HTTP/1.1 101")
        assert "sec-websocket-protocol" not in head.lower()
        assert rest[:1] == b"\x88"  # an immediate close frame
        assert int.from_bytes(rest[2:4], "big") == 1002
        head, _ = await raw_handshake(port, "/", "ocpp2.0.1")
        assert head.startswith("HTTP/1.1 404")  # no station identity in the path

    run(started(csms, body))


def test_a_new_connection_replaces_the_old_one_and_keeps_the_session() -> None:
    csms = server(*servers())

    async def body(port: int) -> None:
        async with connect(f"ws://127.0.0.1:{port}/ocpp/DUP", subprotocols=["ocpp2.0.1"]) as first:  # type: ignore[list-item]
            await first.send(json.dumps([2, "b", "BootNotification", json.loads(__import__("msgspec").json.encode(boot201()))]))
            assert json.loads(await first.recv())[2]["status"] == "Accepted"
            session = csms.registry.session("DUP")
            assert session is not None and session.registered
            first_link = session.link
            async with connect(f"ws://127.0.0.1:{port}/ocpp/dup", subprotocols=["ocpp2.0.1"]) as second:  # type: ignore[list-item]
                await asyncio.wait_for(first.wait_closed(), 5)
                assert first.close_code == 1000 and "replaced" in (first.close_reason or "")
                assert csms.registry.session("Dup") is session and session.link is not first_link
                # no new boot: the registration is kept, the CALL reaches the handler (which
                # does not implement it) instead of being refused with SecurityError
                await second.send('[2,"1","Authorize",{"idToken":{"idToken":"A","type":"ISO14443"}}]')
                assert json.loads(await second.recv())[:3] == [4, "1", "NotSupported"]
            async with connect(f"ws://127.0.0.1:{port}/ocpp/DUP", subprotocols=["ocpp1.6"]) as third:  # type: ignore[list-item]
                await asyncio.sleep(0.05)
                assert session.version == "1.6" and session.registration.value == "Unknown"  # new firmware: boot again

    run(started(csms, body))


def test_backoff_delays_and_cap() -> None:
    backoff = BackOff(wait_minimum=10, random_range=5, repeat_times=3)
    assert [backoff.delay(i, lambda: 0.5) for i in range(6)] == [12.5, 22.5, 42.5, 82.5, 82.5, 82.5]


def test_station_reconnects_with_the_backoff_sequence() -> None:
    sleeps: list[float] = []
    randoms = iter([0.0, 0.25, 0.5, 0.75, 1.0, 0.1, 0.2])

    async def body() -> None:
        stop = asyncio.Event()

        async def fake_sleep(seconds: float) -> None:
            sleeps.append(seconds)
            if len(sleeps) >= 6:
                stop.set()
                await asyncio.sleep(3600)

        client = StationClient(
            "ws://127.0.0.1:9/ocpp/CS-R",  # nothing listens there
            station201.BINDING,
            Station201(),
            StationOptions(backoff=BackOff(wait_minimum=1, random_range=2, repeat_times=2), random=lambda: next(randoms), sleep=fake_sleep),
        )
        async with client.running():
            await stop.wait()
        assert client.last_error == "connection refused"

    run(body())
    assert sleeps == [1.0, 2.5, 5.0, 5.5, 6.0, 4.2]


def test_reconnect_after_the_server_drops_and_pending_calls_fail_at_once() -> None:
    csms = server(*servers())

    async def body(port: int) -> None:
        client = station(f"ws://127.0.0.1:{port}/ocpp/CS-D", station201.BINDING, Station201())
        async with client.running():
            first = await client.connected(timeout=5)
            assert (await client.csms.boot_notification(boot201())).interval == 60
            link = csms.registry.session("CS-D").link  # type: ignore[union-attr]
            await link.close(1011, "dropped")  # type: ignore[union-attr]
            await asyncio.sleep(0.3)
            second = await client.connected(timeout=5)
            assert second is not first and client.registered  # registered still: no new boot needed
            assert (await client.csms.heartbeat(m201.HeartbeatRequest())).current_time == NOW

            # a call outstanding when the connection goes fails at once with ConnectionLost
            waiter = asyncio.ensure_future(client.csms.heartbeat(m201.HeartbeatRequest()))
            await asyncio.sleep(0)
            await second.close()
            with pytest.raises((ConnectionLost, NotConnected)):
                await asyncio.wait_for(waiter, 5)

    run(started(csms, body))
