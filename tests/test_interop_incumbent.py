"""Interoperability with a third-party peer: the `ocpp` package from PyPI (ocpp==2.1.0), a
test-only dependency, in all three versions, both ways round.

Actions exercised against it, per version:
  station -> CSMS: BootNotification, Heartbeat, Authorize, DataTransfer
  CSMS -> station: Reset (2.x) / ChangeAvailability (1.6), DataTransfer
Known incumbent bugs are excluded by name where they would bite: none of these actions hits
one (its camelCase -> snake_case regex breaks names like ``limit_L2``, which none of these
messages carries).
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from ocpp.routing import on
from websockets.asyncio.client import connect
from websockets.asyncio.server import serve

from ocppgen.generated.runtime.client import StationClient
from ocppgen.generated.v16 import csms as csms16, enums as e16, messages as m16, station as station16
from ocppgen.generated.v201 import csms as csms201, datatypes as d201, enums as e201, messages as m201
from ocppgen.generated.v201 import station as station201
from ocppgen.generated.v21 import csms as csms21, datatypes as d21, enums as e21, messages as m21
from ocppgen.generated.v21 import station as station21
from tests.helpers import NOW, run, server, started
from tests.helpers import station as make_station

ISO = "2024-01-01T00:00:00Z"


def incumbent(version: str) -> Any:
    import importlib

    key = {"1.6": "v16", "2.0.1": "v201", "2.1": "v21"}[version]
    return importlib.import_module(f"ocpp.{key}")


# -- our CSMS, their station ---------------------------------------------------------------


class Csms16(csms16.CsmsHandler):
    async def on_boot_notification(self, request: m16.BootNotificationRequest, context: Any) -> m16.BootNotificationResponse:
        return m16.BootNotificationResponse(current_time=NOW, interval=30, status=e16.RegistrationStatus.Accepted)

    async def on_heartbeat(self, request: m16.HeartbeatRequest, context: Any) -> m16.HeartbeatResponse:
        return m16.HeartbeatResponse(current_time=NOW)

    async def on_authorize(self, request: m16.AuthorizeRequest, context: Any) -> m16.AuthorizeResponse:
        from ocppgen.generated.v16 import datatypes as d16

        return m16.AuthorizeResponse(id_tag_info=d16.IdTagInfo(status=e16.AuthorizationStatus.Accepted))

    async def on_data_transfer(self, request: m16.DataTransferRequest, context: Any) -> m16.DataTransferResponse:
        return m16.DataTransferResponse(status=e16.DataTransferStatus.Accepted, data=request.data)


class Csms2x:
    """Same answers for 2.0.1 and 2.1 (their message shapes agree for these actions)."""

    def __init__(self, m: Any, d: Any, e: Any) -> None:
        self.m, self.d, self.e = m, d, e

    async def on_boot_notification(self, request: Any, context: Any) -> Any:
        return self.m.BootNotificationResponse(current_time=NOW, interval=30, status=self.e.RegistrationStatusEnumType.Accepted)

    async def on_heartbeat(self, request: Any, context: Any) -> Any:
        return self.m.HeartbeatResponse(current_time=NOW)

    async def on_authorize(self, request: Any, context: Any) -> Any:
        return self.m.AuthorizeResponse(id_token_info=self.d.IdTokenInfoType(status=self.e.AuthorizationStatusEnumType.Accepted))

    async def on_data_transfer(self, request: Any, context: Any) -> Any:
        return self.m.DataTransferResponse(status=self.e.DataTransferStatusEnumType.Accepted, data=request.data)


class Csms201(Csms2x, csms201.CsmsHandler):
    def __init__(self) -> None:
        super().__init__(m201, d201, e201)


class Csms21(Csms2x, csms21.CsmsHandler):
    def __init__(self) -> None:
        super().__init__(m21, d21, e21)


def their_station(version: str, ws: Any) -> Any:
    lib = incumbent(version)
    Action = lib.enums.Action  # noqa: N806

    class TheirStation(lib.ChargePoint):  # type: ignore[misc, name-defined]
        if version == "1.6":

            @on(Action.change_availability)
            def on_change_availability(self, connector_id: int, type: str) -> Any:
                return lib.call_result.ChangeAvailability(status="Accepted")

        else:

            @on(Action.reset)
            def on_reset(self, type: str, **kwargs: Any) -> Any:
                return lib.call_result.Reset(status="Accepted")

        @on(Action.data_transfer)
        def on_data_transfer(self, vendor_id: str, **kwargs: Any) -> Any:
            return lib.call_result.DataTransfer(status="Accepted", data=kwargs.get("data"))

    return TheirStation("THEIRS", ws)


@pytest.mark.parametrize("version", ["1.6", "2.0.1", "2.1"])
def test_our_csms_with_their_station(version: str) -> None:
    handler = {"1.6": Csms16, "2.0.1": Csms201, "2.1": Csms21}[version]()
    binding = {"1.6": csms16, "2.0.1": csms201, "2.1": csms21}[version].BINDING
    csms = server((binding, handler), unknown_registration="refuse")  # strict: SecurityError before a boot
    lib = incumbent(version)

    async def body(port: int) -> None:
        async with connect(f"ws://127.0.0.1:{port}/ocpp/THEIRS", subprotocols=[binding.subprotocol]) as ws:  # type: ignore[list-item]
            cp = their_station(version, ws)
            reader = asyncio.ensure_future(cp.start())
            try:
                if version == "1.6":
                    boot = await cp.call(lib.call.BootNotification(charge_point_model="M", charge_point_vendor="V"))
                    auth = await cp.call(lib.call.Authorize(id_tag="TAG-1"))
                    assert auth.id_tag_info["status"] == "Accepted"
                else:
                    boot = await cp.call(lib.call.BootNotification(charging_station={"model": "M", "vendor_name": "V"}, reason="PowerUp"))
                    auth = await cp.call(lib.call.Authorize(id_token={"id_token": "TAG-1", "type": "ISO14443"}))
                    assert auth.id_token_info["status"] == "Accepted"
                assert boot.status == "Accepted" and boot.interval == 30
                beat = await cp.call(lib.call.Heartbeat())
                assert beat.current_time.startswith("2024-01-01")
                echo = await cp.call(lib.call.DataTransfer(vendor_id="com.acme", data="hello"))
                assert echo.status == "Accepted" and echo.data == "hello"

                station = csms.registry.client("THEIRS", binding)
                if version == "1.6":
                    answer = await station.change_availability(m16.ChangeAvailabilityRequest(connector_id=1, type=e16.AvailabilityType.Operative))
                    assert answer.status is e16.AvailabilityStatus.Accepted
                else:
                    m = m201 if version == "2.0.1" else m21
                    e = e201 if version == "2.0.1" else e21
                    answer = await station.reset(m.ResetRequest(type=e.ResetEnumType.Immediate))
                    assert answer.status is e.ResetStatusEnumType.Accepted
                data: Any = "n=1" if version == "1.6" else {"n": 1}  # 1.6 data is a string
                dt = {"1.6": m16, "2.0.1": m201, "2.1": m21}[version].DataTransferRequest(vendor_id="com.acme", data=data)
                assert (await station.data_transfer(dt)).data == data
            finally:
                reader.cancel()
        # their station reconnects without booting again (Part 4: it SHOULD NOT): its session,
        # and with it the registration, is still there, even on a strict CSMS
        async with connect(f"ws://127.0.0.1:{port}/ocpp/THEIRS", subprotocols=[binding.subprotocol]) as ws:  # type: ignore[list-item]
            cp = their_station(version, ws)
            reader = asyncio.ensure_future(cp.start())
            try:
                beat = await cp.call(lib.call.Heartbeat())
                assert beat.current_time.startswith("2024-01-01")
            finally:
                reader.cancel()
        # a station this CSMS never saw boot is refused (unknown_registration="refuse")
        async with connect(f"ws://127.0.0.1:{port}/ocpp/STRANGER", subprotocols=[binding.subprotocol]) as ws:  # type: ignore[list-item]
            await ws.send('[2,"h","Heartbeat",{}]')
            assert json.loads(await ws.recv())[:3] == [4, "h", "SecurityError"]

    run(started(csms, body))


# -- our station, their CSMS ----------------------------------------------------------------


def their_csms(version: str, ws: Any, seen: list[str]) -> Any:
    lib = incumbent(version)
    Action = lib.enums.Action  # noqa: N806

    class TheirCsms(lib.ChargePoint):  # type: ignore[misc, name-defined]
        @on(Action.boot_notification)
        def on_boot(self, **kwargs: Any) -> Any:
            seen.append("BootNotification")
            return lib.call_result.BootNotification(current_time=ISO, interval=30, status="Accepted")

        @on(Action.heartbeat)
        def on_heartbeat(self) -> Any:
            seen.append("Heartbeat")
            return lib.call_result.Heartbeat(current_time=ISO)

        @on(Action.data_transfer)
        def on_data_transfer(self, vendor_id: str, **kwargs: Any) -> Any:
            return lib.call_result.DataTransfer(status="Accepted", data=kwargs.get("data"))

    return TheirCsms("OURS", ws)


class Station16(station16.StationHandler):
    async def on_change_availability(self, request: m16.ChangeAvailabilityRequest, context: Any) -> m16.ChangeAvailabilityResponse:
        return m16.ChangeAvailabilityResponse(status=e16.AvailabilityStatus.Accepted)


class Station2x:
    def __init__(self, m: Any, e: Any) -> None:
        self.m, self.e = m, e

    async def on_reset(self, request: Any, context: Any) -> Any:
        return self.m.ResetResponse(status=self.e.ResetStatusEnumType.Scheduled)


class Station201(Station2x, station201.StationHandler):
    def __init__(self) -> None:
        super().__init__(m201, e201)


class Station21(Station2x, station21.StationHandler):
    def __init__(self) -> None:
        super().__init__(m21, e21)


@pytest.mark.parametrize("version", ["1.6", "2.0.1", "2.1"])
def test_our_station_with_their_csms(version: str) -> None:
    lib = incumbent(version)
    subprotocol = {"1.6": "ocpp1.6", "2.0.1": "ocpp2.0.1", "2.1": "ocpp2.1"}[version]
    seen: list[str] = []
    results: list[Any] = []

    async def main() -> None:
        async def handler(ws: Any) -> None:
            cp = their_csms(version, ws, seen)
            reader = asyncio.ensure_future(cp.start())
            await asyncio.sleep(0.2)
            if version == "1.6":
                results.append(await cp.call(lib.call.ChangeAvailability(connector_id=1, type="Inoperative")))
            else:
                results.append(await cp.call(lib.call.Reset(type="OnIdle")))
            try:
                await reader
            except Exception:
                pass

        async with serve(handler, "127.0.0.1", 0, subprotocols=[subprotocol]) as server:  # type: ignore[list-item]
            port = next(iter(server.sockets)).getsockname()[1]
            binding = {"1.6": station16, "2.0.1": station201, "2.1": station21}[version].BINDING
            ours = {"1.6": Station16, "2.0.1": Station201, "2.1": Station21}[version]()
            client = make_station(f"ws://127.0.0.1:{port}/ocpp/OURS", binding, ours)
            async with client.running():
                await client.connected(timeout=5)
                station = client
                if version == "1.6":
                    boot = await station.csms.boot_notification(m16.BootNotificationRequest(charge_point_model="M", charge_point_vendor="V"))
                    assert boot.status is e16.RegistrationStatus.Accepted
                    dt = m16.DataTransferRequest(vendor_id="com.acme", data="x")
                else:
                    m, d, e = (m201, d201, e201) if version == "2.0.1" else (m21, d21, e21)
                    boot = await station.csms.boot_notification(
                        m.BootNotificationRequest(reason=e.BootReasonEnumType.PowerUp, charging_station=d.ChargingStationType(model="M", vendor_name="V"))
                    )
                    assert boot.status is e.RegistrationStatusEnumType.Accepted
                    dt = m.DataTransferRequest(vendor_id="com.acme", data={"k": [1, 2]})
                assert boot.current_time == NOW and boot.interval == 30
                await station.csms.heartbeat({"1.6": m16, "2.0.1": m201, "2.1": m21}[version].HeartbeatRequest())
                assert (await station.csms.data_transfer(dt)).data == dt.data
                for _ in range(50):
                    if results:
                        break
                    await asyncio.sleep(0.05)

    run(main())
    assert seen == ["BootNotification", "Heartbeat"]
    assert len(results) == 1 and results[0].status == ("Accepted" if version == "1.6" else "Scheduled")


@pytest.mark.parametrize("version", ["1.6", "2.0.1", "2.1"])
def test_their_station_behind_a_half_open_path_reconnects_and_is_served_at_once(version: str) -> None:
    """The incumbent's station loses its path half-open (our CSMS is not told) and connects
    again: the new connection is served at once, without a new boot, while the old one's close
    is still pending."""
    from websockets.protocol import State

    from tests.relay import Relay

    handler = {"1.6": Csms16, "2.0.1": Csms201, "2.1": Csms21}[version]()
    binding = {"1.6": csms16, "2.0.1": csms201, "2.1": csms21}[version].BINDING
    csms = server((binding, handler), ping_interval=None, replaced_close_timeout=60, unknown_registration="refuse")
    lib = incumbent(version)

    async def body(port: int) -> None:
        relay = Relay("127.0.0.1", port)
        await relay.start()
        url = f"ws://127.0.0.1:{relay.port}/ocpp/THEIRS"
        first = await connect(url, subprotocols=[binding.subprotocol])  # type: ignore[list-item]
        cp = their_station(version, first)
        reader = asyncio.ensure_future(cp.start())
        if version == "1.6":
            await cp.call(lib.call.BootNotification(charge_point_model="M", charge_point_vendor="V"))
        else:
            await cp.call(lib.call.BootNotification(charging_station={"model": "M", "vendor_name": "V"}, reason="PowerUp"))
        old = csms.registry.session("THEIRS").link  # type: ignore[union-attr]
        relay.half_open()
        reader.cancel()
        async with connect(url, subprotocols=[binding.subprotocol]) as ws:  # type: ignore[list-item]
            cp = their_station(version, ws)
            reader = asyncio.ensure_future(cp.start())
            beat = await asyncio.wait_for(cp.call(lib.call.Heartbeat()), 5)
            assert beat.current_time.startswith("2024-01-01")
            assert old.websocket.state is not State.CLOSED  # type: ignore[union-attr]  # not waited for
            reader.cancel()
        first.transport.abort()
        await relay.close()

    run(started(csms, body))
