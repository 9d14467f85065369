"""Transport lifecycle: graceful shutdown, a station reconnecting mid-call, limits, compression."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from websockets.asyncio.client import connect

from ocppgen.generated.runtime.errors import ConnectionLost
from ocppgen.generated.v201 import csms as csms201, enums as e201, messages as m201, station as station201
from tests.helpers import NOW, eventually, run, server, started, station


class SlowCsms(csms201.CsmsHandler):
    def __init__(self) -> None:
        self.started = asyncio.Event()

    async def on_boot_notification(self, request: m201.BootNotificationRequest, context: Any) -> m201.BootNotificationResponse:
        return m201.BootNotificationResponse(current_time=NOW, interval=60, status=e201.RegistrationStatusEnumType.Accepted)

    async def on_heartbeat(self, request: m201.HeartbeatRequest, context: Any) -> m201.HeartbeatResponse:
        self.started.set()
        await asyncio.sleep(0.3)
        return m201.HeartbeatResponse(current_time=NOW)


def test_graceful_shutdown_finishes_in_flight_calls() -> None:
    handler = SlowCsms()
    csms = server((csms201.BINDING, handler))

    async def main() -> None:
        async with csms.serve("127.0.0.1", 0) as ws_server:
            port = next(iter(ws_server.sockets)).getsockname()[1]
            async with connect(f"ws://127.0.0.1:{port}/ocpp/CS-S", subprotocols=["ocpp2.0.1"]) as ws:  # type: ignore[list-item]
                await ws.send('[2,"b","BootNotification",{"reason":"PowerUp","chargingStation":{"model":"M","vendorName":"V"}}]')
                await ws.recv()
                await ws.send('[2,"h","Heartbeat",{}]')
                await handler.started.wait()
                stopping = asyncio.ensure_future(csms.stop())
                reply = await asyncio.wait_for(ws.recv(), 5)  # the in-flight call is still answered
                assert reply.startswith('[3,"h",')
                await asyncio.wait_for(ws.wait_closed(), 5)
                assert ws.close_code == 1001
                await stopping

    run(main())


class Station(station201.StationHandler):
    def __init__(self) -> None:
        self.hang = True

    async def on_reset(self, request: m201.ResetRequest, context: Any) -> m201.ResetResponse:
        if self.hang:
            await asyncio.sleep(3600)
        return m201.ResetResponse(status=e201.ResetStatusEnumType.Accepted)


def test_station_reconnecting_mid_call_fails_the_pending_call_and_is_reachable_again() -> None:
    csms = server((csms201.BINDING, SlowCsms()))
    handler = Station()

    async def body(port: int) -> None:
        client = station(f"ws://127.0.0.1:{port}/ocpp/CS-M", station201.BINDING, handler)
        async with client.running():
            first = await client.connected(timeout=5)
            pending = asyncio.ensure_future(csms.registry.client("CS-M", csms201.BINDING).reset(m201.ResetRequest(type=e201.ResetEnumType.Immediate)))
            await asyncio.sleep(0.1)
            await first.websocket.close()  # the station drops mid-call and comes back
            with pytest.raises(ConnectionLost):
                await asyncio.wait_for(pending, 5)  # fails at once, not after the 30 s timeout
            await eventually(lambda: client.current not in (None, first) and "CS-M" in csms.registry, what="reconnect")
            handler.hang = False
            answer = await csms.registry.client("CS-M", csms201.BINDING).reset(m201.ResetRequest(type=e201.ResetEnumType.Immediate))
            assert answer.status is e201.ResetStatusEnumType.Accepted

    run(started(csms, body))


def test_maximum_message_size_closes_with_1009() -> None:
    csms = server((csms201.BINDING, SlowCsms()), max_size=2048)

    async def body(port: int) -> None:
        async with connect(f"ws://127.0.0.1:{port}/ocpp/CS-BIG", subprotocols=["ocpp2.0.1"], compression=None) as ws:  # type: ignore[list-item]
            await ws.send('[2,"d","DataTransfer",{"vendorId":"v","data":"' + "x" * 4096 + '"}]')
            await asyncio.wait_for(ws.wait_closed(), 5)
            assert ws.close_code == 1009

    run(started(csms, body))


@pytest.mark.parametrize("compression", ["deflate", None])
def test_permessage_deflate_is_negotiated_when_enabled(compression: Any) -> None:
    csms = server((csms201.BINDING, SlowCsms()), compression=compression == "deflate")

    async def body(port: int) -> None:
        async with connect(f"ws://127.0.0.1:{port}/ocpp/CS-Z", subprotocols=["ocpp2.0.1"]) as ws:  # type: ignore[list-item]
            extensions = ws.response.headers.get("Sec-WebSocket-Extensions") or ""
            assert ("permessage-deflate" in extensions) is (compression == "deflate")
            await ws.send('[2,"b","BootNotification",{"reason":"PowerUp","chargingStation":{"model":"M","vendorName":"V"}}]')
            assert (await ws.recv()).startswith('[3,"b"')

    run(started(csms, body))


def test_ping_interval_keeps_measuring_the_link() -> None:
    csms = server((csms201.BINDING, SlowCsms()), ping_interval=0.05)

    async def body(port: int) -> None:
        async with connect(f"ws://127.0.0.1:{port}/ocpp/CS-P", subprotocols=["ocpp2.0.1"]):  # type: ignore[list-item]
            await asyncio.sleep(0.3)
            session = csms.registry.session("CS-P")
            assert session is not None and session.link is not None
            assert session.link.websocket.latency > 0  # type: ignore[attr-defined]  # the server's pings were answered

    run(started(csms, body))
