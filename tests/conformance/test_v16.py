"""OCPP 1.6 edition 2 and OCPP-J 1.6 message-flow rules, scripted like the 2.0.1 test cases (1.6
has no test-case document): the tester plays the Central System against the example station and
the charge point against the example CSMS, raw OCPP-J 1.6 over real sockets, every payload checked
against the 1.6 JSON schemas. Marked with the rule's section ("1.6 4.2 Rejected", "OCPP-J 1.6 4.1.1")."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from tests.conformance.harness import TestCsms, now, octt_station
from tests.conformance.sut import accept_all, booted_station, example_csms_at, example_station_at
from tests.helpers import run

V = "1.6"
tc = pytest.mark.tc


@tc("1.6 4.2 Accepted")
@tc("OCPP-J 1.6 4.1.1")
@tc("OCPP-J 1.6 4.1.4")
def test_boot_accepted_one_call_at_a_time() -> None:
    async def script() -> None:
        csms = TestCsms(V)
        async with example_station_at(V, csms, meter_values=2, interval=0.01):
            link = await csms.accepted()
            boot = await link.expect("BootNotification")
            await link.nothing(0.3)  # nothing else before the boot is answered (4.2, OCPP-J 4.1.1)
            await link.reply(boot, accept_all(V)["BootNotification"](boot.payload))
            status = await link.expect("StatusNotification")
            assert (status.payload["connectorId"], status.payload["status"], status.payload["errorCode"]) == (1, "Available", "NoError")
            await link.nothing(0.2)  # 4.1.1: the next CALL waits for this answer
            await link.reply(status, {})
            authorize = await link.expect("Authorize")
            await link.nothing(0.2)
            await link.reply(authorize, {"idTagInfo": {"status": "Accepted"}})
            start = await link.expect("StartTransaction")
            await link.reply(start, {"transactionId": 3, "idTagInfo": {"status": "Accepted"}})
            charging = await link.expect("StatusNotification")
            assert charging.payload["status"] == "Charging"
            await link.reply(charging, {})
            values = await link.expect("MeterValues")
            assert values.payload["transactionId"] == 3
            ids = [c.message_id for c in link.received]
            assert len(ids) == len(set(ids)) and all(len(i) <= 36 for i in ids)  # OCPP-J 4.1.4
            assert link.violations == []

    run(script())


@tc("1.6 4.2 Rejected")
def test_boot_rejected() -> None:
    async def script() -> None:
        csms = TestCsms(V)
        async with example_station_at(V, csms):
            link = await csms.accepted()
            loop = asyncio.get_running_loop()
            boot = await link.expect("BootNotification")
            await link.reply(boot, {"status": "Rejected", "currentTime": now(), "interval": 1})
            rejected_at = loop.time()
            with pytest.raises(AssertionError, match="no answer"):  # "SHALL NOT respond to any Central System initiated message"
                await link.call("GetConfiguration", {}, timeout=0.3)
            again = await link.expect("BootNotification")
            assert loop.time() - rejected_at >= 1 - 0.05
            assert [c.action for c in link.received] == ["BootNotification", "BootNotification"]
            await link.reply(again, accept_all(V)["BootNotification"](again.payload))
            status = await link.expect("StatusNotification")
            assert status.payload["status"] == "Available"
            assert link.violations == []

    run(script())


@tc("1.6 4.2 Pending")
def test_boot_pending() -> None:
    async def script() -> None:
        csms = TestCsms(V)
        async with example_station_at(V, csms):
            link = await csms.accepted()
            boot = await link.expect("BootNotification")
            await link.reply(boot, {"status": "Pending", "currentTime": now(), "interval": 300})
            answer = await link.call("GetConfiguration", {"key": ["HeartbeatInterval"]})
            assert answer.payload["configurationKey"] == [{"key": "HeartbeatInterval", "readonly": False, "value": "300"}]
            answer = await link.call("RemoteStartTransaction", {"idTag": "OCTT-1"})
            assert answer.payload["status"] == "Rejected"  # not allowed while Pending
            await link.nothing(0.2)  # no request of its own while Pending
            answer = await link.call("TriggerMessage", {"requestedMessage": "BootNotification"})
            assert answer.payload["status"] == "Accepted"
            triggered = await link.expect("BootNotification", timeout=2)  # at once, not after the interval
            await link.reply(triggered, accept_all(V)["BootNotification"](triggered.payload))
            status = await link.expect("StatusNotification")
            assert status.payload["status"] == "Available"
            assert link.violations == []

    run(script())


@tc("1.6 5.6")
@tc("1.6 5.17")
@tc("1.6 5.12")
def test_charge_point_answers() -> None:
    async def script() -> None:
        async with booted_station(V) as cs:
            answer = await cs.link.call("DataTransfer", {"vendorId": "org.openchargealliance.octt"})
            assert answer.payload["status"] == "UnknownVendorId"  # 5.6
            answer = await cs.link.call("RemoteStopTransaction", {"transactionId": 999})
            assert answer.payload["status"] == "Rejected"  # 5.12: not a transaction of this charge point
            for wanted, extra in (("Heartbeat", {}), ("StatusNotification", {"connectorId": 1})):
                answer = await cs.link.call("TriggerMessage", {"requestedMessage": wanted, **extra})
                assert answer.payload["status"] == "Accepted"  # 5.17
                follow = await cs.link.expect(wanted)
                await cs.link.reply(follow, accept_all(V)[wanted](follow.payload))
            assert cs.link.violations == []

    run(script())


@tc("1.6 5.11")
@tc("1.6 5.12")
def test_remote_stop_and_start() -> None:
    async def script() -> None:
        async with booted_station(V, meter_values=200, interval=0.02, wait_idle=False) as cs:
            start = await cs.link.expect("StartTransaction", allow=accept_all(V))  # the example's own transaction
            await cs.link.reply(start, {"transactionId": 40, "idTagInfo": {"status": "Accepted"}})
            answer = await cs.link.call("RemoteStopTransaction", {"transactionId": 40})
            assert answer.payload["status"] == "Accepted"  # 5.12
            stop = await cs.link.expect("StopTransaction", allow=accept_all(V))
            assert stop.payload["transactionId"] == 40 and stop.payload["reason"] == "Remote"
            await cs.link.reply(stop, {})
            available = await cs.link.expect("StatusNotification")
            await cs.link.reply(available, {})
            answer = await cs.link.call("RemoteStartTransaction", {"idTag": "OCTT-REMOTE"})
            assert answer.payload["status"] == "Accepted"  # 5.11
            start = await cs.link.expect("StartTransaction")  # no Authorize: AuthorizeRemoteTxRequests is false
            assert start.payload["idTag"] == "OCTT-REMOTE" and start.payload["connectorId"] == 1
            await cs.link.reply(start, {"transactionId": 41, "idTagInfo": {"status": "Accepted"}})
            assert cs.link.violations == []

    run(script())


@tc("1.6 4.3")
@tc("1.6 4.6")
@tc("1.6 4.8 and 4.10")
@tc("OCPP-J 1.6 4.2.3")
def test_central_system_answers(tmp_path: Path) -> None:
    async def script() -> None:
        async with example_csms_at(tmp_path) as base, octt_station(f"{base}/CP-1", V) as link:
            answer = await link.call("BootNotification", {"chargePointVendor": "OCA", "chargePointModel": "OCTT"})
            assert answer.payload["status"] == "Accepted"
            request = await link.expect("GetConfiguration")  # the example reads HeartbeatInterval after a boot
            await link.reply(request, {"configurationKey": [{"key": "HeartbeatInterval", "readonly": False, "value": "300"}]})
            answer = await link.call("Heartbeat", {})
            assert "currentTime" in answer.payload  # 4.6
            answer = await link.call("DataTransfer", {"vendorId": "org.openchargealliance.octt"})
            assert answer.payload["status"] == "UnknownVendorId"  # 4.3
            answer = await link.call("StartTransaction", {"connectorId": 1, "idTag": "OCTT-1", "meterStart": 100, "timestamp": now()})
            transaction = answer.payload["transactionId"]
            assert isinstance(transaction, int) and answer.payload["idTagInfo"] == {"status": "Accepted"}  # 4.8
            data = [{"timestamp": now(), "sampledValue": [{"value": "150", "context": "Sample.Periodic"}]},
                    {"timestamp": now(), "sampledValue": [{"value": "200", "context": "Transaction.End"}]}]
            answer = await link.call("StopTransaction", {"transactionId": transaction, "meterStop": 200, "timestamp": now(), "transactionData": data})
            assert answer.error is None  # 4.10
            answer = await link.call("NoSuchAction", {})
            assert answer.error == "NotImplemented"  # OCPP-J 4.2.3 (the harness matched the echoed id)
            assert link.violations == []

    run(script())
    db = sqlite3.connect(tmp_path / "csms.sqlite")
    assert [r[0] for r in db.execute("SELECT value FROM meter_values ORDER BY rowid")] == [150.0, 200.0]  # 6.49


@tc("OCPP-J 1.6 3.1.1")
@tc("OCPP-J 1.6 3.2")
def test_connection_url_and_subprotocol(tmp_path: Path) -> None:
    async def script() -> None:
        async with example_csms_at(tmp_path) as base:
            async with octt_station(f"{base}/RDAM%20123", V) as link:  # 3.1.1, the document's example 2
                answer = await link.call("BootNotification", {"chargePointVendor": "OCA", "chargePointModel": "OCTT"})
                assert answer.payload["status"] == "Accepted"
            async with connect(f"{base}/CP-2", subprotocols=["ocpp9.9"]) as ws:  # type: ignore[list-item]  # 3.2
                assert ws.subprotocol is None
                with pytest.raises(ConnectionClosed):
                    await asyncio.wait_for(ws.recv(), 2)

    run(script())
