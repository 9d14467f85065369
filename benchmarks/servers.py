"""The servers the end-to-end benchmark compares, each run in its own process:

    python -m benchmarks.servers ocppgen|incumbent|floor PORT

ocppgen: the ocppgen CSMS (2.0.1) answering BootNotification, Heartbeat, TransactionEvent.
incumbent: the same answers from a CSMS built on the `ocpp` package (ocpp==2.1.0).
floor: a bare websockets server answering every frame with a canned reply (no parsing beyond
the message id): what the WebSocket layer alone costs. All use websockets' default
permessage-deflate, so compression costs the same everywhere. Prints READY when listening.
"""

from __future__ import annotations

import asyncio
import datetime
import sys
from typing import Any

NOW = datetime.datetime(2024, 1, 1, tzinfo=datetime.timezone.utc)
CANNED = {
    "BootNotification": '{"currentTime":"2024-01-01T00:00:00Z","interval":300,"status":"Accepted"}',
    "Heartbeat": '{"currentTime":"2024-01-01T00:00:00Z"}',
    "TransactionEvent": "{}",
}


async def ocppgen_server(port: int) -> None:
    from ocppgen.generated.runtime.config import ServerOptions
    from ocppgen.generated.runtime.server import CsmsServer
    from ocppgen.generated.v201 import csms, enums, messages

    class Csms(csms.CsmsHandler):
        async def on_boot_notification(self, request: messages.BootNotificationRequest, context: csms.Context) -> messages.BootNotificationResponse:
            return messages.BootNotificationResponse(current_time=NOW, interval=300, status=enums.RegistrationStatusEnumType.Accepted)

        async def on_heartbeat(self, request: messages.HeartbeatRequest, context: csms.Context) -> messages.HeartbeatResponse:
            return messages.HeartbeatResponse(current_time=NOW)

        async def on_transaction_event(self, request: messages.TransactionEventRequest, context: csms.Context) -> messages.TransactionEventResponse:
            return messages.TransactionEventResponse()

    server = CsmsServer(ServerOptions(ping_interval=None))
    server.handle(csms.BINDING, Csms())
    async with server.serve("127.0.0.1", port):
        print("READY", flush=True)
        await asyncio.Future()


async def incumbent_server(port: int) -> None:
    from ocpp.routing import on
    from ocpp.v201 import ChargePoint, call_result
    from ocpp.v201.enums import Action
    from websockets.asyncio.server import serve

    class Csms(ChargePoint):  # type: ignore[misc]
        @on(Action.boot_notification)
        def on_boot(self, **kwargs: Any) -> Any:
            return call_result.BootNotification(current_time="2024-01-01T00:00:00Z", interval=300, status="Accepted")

        @on(Action.heartbeat)
        def on_heartbeat(self) -> Any:
            return call_result.Heartbeat(current_time="2024-01-01T00:00:00Z")

        @on(Action.transaction_event)
        def on_transaction_event(self, **kwargs: Any) -> Any:
            return call_result.TransactionEvent()

    async def handler(ws: Any) -> None:
        cp = Csms(ws.request.path.rsplit("/", 1)[-1], ws)
        try:
            await cp.start()
        except Exception:
            pass

    async with serve(handler, "127.0.0.1", port, subprotocols=["ocpp2.0.1"], ping_interval=None):  # type: ignore[list-item]
        print("READY", flush=True)
        await asyncio.Future()


async def floor_server(port: int) -> None:
    from websockets.asyncio.server import serve

    async def handler(ws: Any) -> None:
        async for message in ws:
            parts = message.split('"', 4)  # [2,"<id>","<action>",...
            await ws.send(f'[3,"{parts[1]}",{CANNED.get(parts[3], "{}")}]')

    async with serve(handler, "127.0.0.1", port, subprotocols=["ocpp2.0.1"], ping_interval=None):  # type: ignore[list-item]
        print("READY", flush=True)
        await asyncio.Future()


SERVERS = {"ocppgen": ocppgen_server, "incumbent": incumbent_server, "floor": floor_server}

if __name__ == "__main__":
    import logging

    logging.disable(logging.CRITICAL)
    asyncio.run(SERVERS[sys.argv[1]](int(sys.argv[2])))
