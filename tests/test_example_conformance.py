"""The example station and CSMS behave as the spec says where a peer can tell, against this
project's own side and against a third-party one (the ``ocpp`` package): a TriggerMessage
answered Accepted is followed by the requested message (1.6 section 5.17; 2.x F06.FR.04/05),
a remote start answered Accepted starts a transaction at once (2.x with triggerReason
RemoteStart and the remoteStartId, F01/F02), a WebSocketPingInterval set by the CSMS applies at
once (1.6 OCPP-J section 7; 2.x Part 4 section 8.4), and the example CSMS keeps the meter values
of a 1.6 StopTransaction's transactionData."""

from __future__ import annotations

import asyncio
import datetime
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from ocpp.routing import on
from websockets.asyncio.client import connect
from websockets.asyncio.server import serve

from examples import csms as example_csms, station as example_station
from ocppgen.generated.v16 import csms as csms16, datatypes as d16, enums as e16, messages as m16
from ocppgen.generated.v201 import csms as csms201, datatypes as d201, enums as e201, messages as m201
from ocppgen.generated.v21 import csms as csms21, datatypes as d21, enums as e21, messages as m21
from tests.helpers import NOW, eventually, run, server, started
from tests.test_interop_incumbent import incumbent

CSMS = {"1.6": csms16, "2.0.1": csms201, "2.1": csms21}
MDE = {"2.0.1": (m201, d201, e201), "2.1": (m21, d21, e21)}


class Watching:
    """A CSMS (ours) that accepts everything and records what the station sends, in order."""

    def __init__(self, version: str) -> None:
        self.version = version
        self.seen: list[tuple[str, Any]] = []

    async def answer(self, action: str, request: Any) -> Any:
        self.seen.append((action, request))
        v = self.version
        if v == "1.6":
            return {
                "BootNotification": lambda: m16.BootNotificationResponse(current_time=NOW, interval=300, status=e16.RegistrationStatus.Accepted),
                "Heartbeat": lambda: m16.HeartbeatResponse(current_time=NOW),
                "StatusNotification": m16.StatusNotificationResponse,
                "Authorize": lambda: m16.AuthorizeResponse(id_tag_info=d16.IdTagInfo(status=e16.AuthorizationStatus.Accepted)),
                "StartTransaction": lambda: m16.StartTransactionResponse(transaction_id=9, id_tag_info=d16.IdTagInfo(status=e16.AuthorizationStatus.Accepted)),
                "MeterValues": m16.MeterValuesResponse,
                "StopTransaction": m16.StopTransactionResponse,
            }[action]()
        m, d, e = MDE[v]
        return {
            "BootNotification": lambda: m.BootNotificationResponse(current_time=NOW, interval=300, status=e.RegistrationStatusEnumType.Accepted),
            "Heartbeat": lambda: m.HeartbeatResponse(current_time=NOW),
            "StatusNotification": m.StatusNotificationResponse,
            "Authorize": lambda: m.AuthorizeResponse(id_token_info=d.IdTokenInfoType(status=e.AuthorizationStatusEnumType.Accepted)),
            "TransactionEvent": m.TransactionEventResponse,
            "MeterValues": m.MeterValuesResponse,
        }[action]()


def watching_csms(version: str) -> Any:
    role = CSMS[version]
    actions = ["BootNotification", "Heartbeat", "StatusNotification", "Authorize", "MeterValues"]
    actions += ["StartTransaction", "StopTransaction"] if version == "1.6" else ["TransactionEvent"]

    def method(action: str) -> Any:
        async def handle(self: Any, request: Any, context: Any) -> Any:
            return await self.answer(action, request)

        return handle

    namespace = {role.HANDLED[a]: method(a) for a in actions}
    return type("Watching", (Watching, role.CsmsHandler), namespace)(version)


def trigger_and_remote_start(version: str, client: Any) -> list[Any]:
    if version == "1.6":
        return [
            client.trigger_message(m16.TriggerMessageRequest(requested_message=e16.MessageTrigger.Heartbeat)),
            client.remote_start_transaction(m16.RemoteStartTransactionRequest(id_tag="REMOTE-1")),
        ]
    m, d, e = MDE[version]
    token = d.IdTokenType(id_token="REMOTE-1", type="ISO14443" if version == "2.1" else e.IdTokenEnumType.ISO14443)
    return [
        client.trigger_message(m.TriggerMessageRequest(requested_message=e.MessageTriggerEnumType.Heartbeat)),
        client.request_start_transaction(m.RequestStartTransactionRequest(id_token=token, remote_start_id=42)),
    ]


@pytest.mark.parametrize("version", ["1.6", "2.0.1", "2.1"])
def test_the_example_station_follows_up_triggers_and_remote_starts_with_our_csms(version: str) -> None:
    handler = watching_csms(version)
    csms = server((CSMS[version].BINDING, handler))

    async def body(port: int) -> None:
        ready = asyncio.Event()
        sim = asyncio.ensure_future(example_station.simulate(
            f"ws://127.0.0.1:{port}/ocpp/SIM", version, meter_values=1, interval=0.01, keep_running=True, started=ready))
        await asyncio.wait_for(ready.wait(), 10)
        await eventually(lambda: any(a in ("StopTransaction", "TransactionEvent") and _ended(a, r) for a, r in handler.seen), what="first transaction")
        client = csms.registry.client("SIM", CSMS[version].BINDING)
        before = len(handler.seen)
        trigger, remote = trigger_and_remote_start(version, client)
        assert (await trigger).status.value == "Accepted"
        await eventually(lambda: any(a == "Heartbeat" for a, _ in handler.seen[before:]), what="the triggered Heartbeat")
        assert (await remote).status.value == "Accepted"
        await eventually(lambda: _remote_started(version, handler.seen[before:]), what="the remote start's transaction")
        sim.cancel()
        with pytest.raises(asyncio.CancelledError):
            await sim

    run(started(csms, body))


def _ended(action: str, request: Any) -> bool:
    return action == "StopTransaction" or getattr(getattr(request, "event_type", None), "value", None) == "Ended"


def _remote_started(version: str, seen: list[tuple[str, Any]]) -> bool:
    if version == "1.6":
        starts = [r for a, r in seen if a == "StartTransaction"]
        return bool(starts) and starts[0].id_tag == "REMOTE-1" and not any(a == "Authorize" for a, _ in seen)
    for action, request in seen:
        if action == "TransactionEvent" and request.event_type.value == "Started":
            assert request.trigger_reason.value == "RemoteStart"  # F02: the start carries its cause
            assert request.transaction_info.remote_start_id == 42  # and the CSMS's remoteStartId
            assert request.id_token.id_token == "REMOTE-1"
            return True
    return False


@pytest.mark.parametrize("version", ["1.6", "2.0.1", "2.1"])
def test_the_example_station_follows_up_triggers_and_remote_starts_with_their_csms(version: str) -> None:
    lib = incumbent(version)
    action = lib.enums.Action
    seen: list[tuple[str, dict[str, Any]]] = []
    results: dict[str, Any] = {}

    class TheirCsms(lib.ChargePoint):  # type: ignore[misc, name-defined]
        @on(action.boot_notification)
        def got_boot(self, **kw: Any) -> Any:
            seen.append(("BootNotification", kw))
            return lib.call_result.BootNotification(current_time=NOW.isoformat(), interval=300, status="Accepted")

        @on(action.heartbeat)
        def got_heartbeat(self, **kw: Any) -> Any:
            seen.append(("Heartbeat", kw))
            return lib.call_result.Heartbeat(current_time=NOW.isoformat())

        @on(action.status_notification)
        def got_status(self, **kw: Any) -> Any:
            seen.append(("StatusNotification", kw))
            return lib.call_result.StatusNotification()

        @on(action.authorize)
        def got_authorize(self, **kw: Any) -> Any:
            seen.append(("Authorize", kw))
            if version == "1.6":
                return lib.call_result.Authorize(id_tag_info={"status": "Accepted"})
            return lib.call_result.Authorize(id_token_info={"status": "Accepted"})

        if version != "1.6":

            @on(action.security_event_notification)
            def got_security_event(self, **kw: Any) -> Any:  # unhandled, their 2.1 CSMS would not answer at all
                seen.append(("SecurityEventNotification", kw))
                return lib.call_result.SecurityEventNotification()

        @on(action.meter_values)
        def got_meter(self, **kw: Any) -> Any:
            seen.append(("MeterValues", kw))
            return lib.call_result.MeterValues()

        if version == "1.6":

            @on(action.start_transaction)
            def got_start(self, **kw: Any) -> Any:
                seen.append(("StartTransaction", kw))
                return lib.call_result.StartTransaction(transaction_id=5, id_tag_info={"status": "Accepted"})

            @on(action.stop_transaction)
            def got_stop(self, **kw: Any) -> Any:
                seen.append(("StopTransaction", kw))
                return lib.call_result.StopTransaction()

        else:

            @on(action.transaction_event)
            def got_event(self, **kw: Any) -> Any:
                seen.append(("TransactionEvent", kw))
                return lib.call_result.TransactionEvent()

    async def handler(ws: Any) -> None:
        cp = TheirCsms("SIM", ws)
        reader = asyncio.ensure_future(cp.start())
        await eventually(lambda: any(a in ("StopTransaction",) or kw.get("event_type") == "Ended" for a, kw in seen), what="first transaction")
        before = len(seen)
        if version == "1.6":
            results["trigger"] = await cp.call(lib.call.TriggerMessage(requested_message="Heartbeat"))
            await eventually(lambda: any(a == "Heartbeat" for a, _ in seen[before:]), what="triggered Heartbeat")
            results["remote"] = await cp.call(lib.call.RemoteStartTransaction(id_tag="REMOTE-1"))
            await eventually(lambda: any(a == "StartTransaction" and kw["id_tag"] == "REMOTE-1" for a, kw in seen[before:]), what="remote start")
        else:
            results["trigger"] = await cp.call(lib.call.TriggerMessage(requested_message="Heartbeat"))
            await eventually(lambda: any(a == "Heartbeat" for a, _ in seen[before:]), what="triggered Heartbeat")
            token = {"id_token": "REMOTE-1", "type": "ISO14443"}
            results["remote"] = await cp.call(lib.call.RequestStartTransaction(id_token=token, remote_start_id=42))
            await eventually(
                lambda: any(a == "TransactionEvent" and kw.get("event_type") == "Started" and kw.get("trigger_reason") == "RemoteStart"
                            and kw["transaction_info"].get("remote_start_id") == 42 for a, kw in seen[before:]),
                what="remote start")
        results["done"] = True
        try:
            await ws.wait_closed()  # keep the link until the test stops the simulator
        finally:
            reader.cancel()

    async def main() -> None:
        async with serve(handler, "127.0.0.1", 0, subprotocols=[CSMS[version].BINDING.subprotocol]) as their:  # type: ignore[list-item]
            port = next(iter(their.sockets)).getsockname()[1]
            sim = asyncio.ensure_future(example_station.simulate(
                f"ws://127.0.0.1:{port}/ocpp/SIM", version, meter_values=1, interval=0.01, keep_running=True))
            await eventually(lambda: "done" in results, timeout=15, what="the exchange")
            sim.cancel()
            with pytest.raises(asyncio.CancelledError):
                await sim

    run(main())
    assert results["trigger"].status == "Accepted" and results["remote"].status == "Accepted"


def test_a_ping_interval_set_by_the_csms_applies_at_once() -> None:
    handler = watching_csms("2.0.1")
    csms = server((csms201.BINDING, handler))
    sim = example_station.Simulator("PING", "2.0.1")

    def latency() -> float:
        current = sim.client.current if sim.client is not None else None
        return float(current.websocket.latency) if current is not None else 0.0

    async def body(port: int) -> None:
        ready = asyncio.Event()
        task = asyncio.ensure_future(example_station.simulate(
            f"ws://127.0.0.1:{port}/ocpp/PING", "2.0.1", meter_values=0, interval=0.01, keep_running=True, started=ready, sim=sim))
        await asyncio.wait_for(ready.wait(), 10)
        await asyncio.sleep(0.3)
        assert latency() == 0  # no ping yet: the example starts with WebSocketPingInterval 0
        variable = d201.SetVariableDataType(attribute_value="1", component=d201.ComponentType(name="OCPPCommCtrlr"),
                                            variable=d201.VariableType(name="WebSocketPingInterval"))
        answer = await csms.registry.client("PING", csms201.BINDING).set_variables(m201.SetVariablesRequest(set_variable_data=[variable]))
        assert answer.set_variable_result[0].attribute_status is e201.SetVariableStatusEnumType.Accepted
        await eventually(lambda: latency() > 0, timeout=3, what="a ping from the station within its new interval")
        assert sim.client is not None and sim.client.ping_interval == 1
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    run(started(csms, body))


def test_the_example_csms_keeps_the_transaction_data_of_a_1_6_stop_transaction(tmp_path: Path) -> None:
    db = tmp_path / "csms.sqlite"
    csms = example_csms.build_server(str(db))

    async def body(port: int) -> None:
        lib = incumbent("1.6")
        async with connect(f"ws://127.0.0.1:{port}/ocpp/THEIRS16", subprotocols=["ocpp1.6"]) as ws:  # type: ignore[list-item]
            cp = lib.ChargePoint("THEIRS16", ws)
            reader = asyncio.ensure_future(cp.start())
            await cp.call(lib.call.BootNotification(charge_point_model="M", charge_point_vendor="V"))
            start = await cp.call(lib.call.StartTransaction(connector_id=1, id_tag="T", meter_start=0, timestamp=NOW.isoformat()))
            readings = [{"timestamp": (NOW + datetime.timedelta(minutes=i)).isoformat(),
                         "sampled_value": [{"value": str(100 * i), "measurand": "Energy.Active.Import.Register", "unit": "Wh"}]}
                        for i in range(1, 4)]
            await cp.call(lib.call.StopTransaction(transaction_id=start.transaction_id, meter_stop=300, timestamp=NOW.isoformat(),
                                                   transaction_data=readings))
            reader.cancel()

    run(started(csms, body))
    rows = sqlite3.connect(db).execute("SELECT value FROM meter_values WHERE station_id = 'THEIRS16' ORDER BY at").fetchall()
    assert [r[0] for r in rows] == [100.0, 200.0, 300.0]
