"""2.0.1 Part 6 chapter 3 (Test Cases CSMS) against the example CSMS, the tester playing the
charging station over a real socket; the same scripts on 2.1. A "Manual Action" of the document
(the operator asks the CSMS to do something) is the operator's API: the server's registry client."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Mapping
from pathlib import Path

import pytest

from examples import csms as example_csms
from ocppgen.generated.runtime.security import StaticPasswords
from ocppgen.generated.v201 import csms as csms201, enums as e201, messages as m201
from ocppgen.generated.v21 import csms as csms21, enums as e21, messages as m21
from tests.conformance.harness import Link, Payload, SUBPROTOCOL, now, refused, octt_station
from tests.conformance.sut import example_csms_at
from tests.helpers import run

V2X = pytest.mark.parametrize("version", ["2.0.1", "2.1"])
tc = pytest.mark.tc
PASSWORD = "OCTT-password-0123456789"


def boot_request() -> dict[str, object]:
    return {"reason": "PowerUp", "chargingStation": {"model": "OCTT", "vendorName": "OCA"}}


async def boot_reads(link: Link, custom: Mapping[str, object] | None = None) -> None:
    """What the example CSMS asks after each boot, answered as a station would: GetVariables
    (HeartbeatInterval), then GetBaseReport(FullInventory) Accepted and its report in one
    NotifyReport part (B07.FR.04/05: seqNo 0, tbc false; an empty report is allowed)."""
    extra = {"customData": custom} if custom is not None else {}
    request = await link.expect("GetVariables")
    await link.reply(request, {**extra, "getVariableResult": [{"attributeStatus": "Accepted", "attributeValue": "300", **request.payload["getVariableData"][0]}]})  # type: ignore[index, dict-item]
    report = await link.expect("GetBaseReport")
    await link.reply(report, {**extra, "status": "Accepted"})
    answer = await link.call("NotifyReport", {**extra, "requestId": report.payload["requestId"], "generatedAt": now(), "seqNo": 0, "tbc": False})
    assert answer.error is None, answer


async def booted(link: Link) -> None:
    """Reusable State Booted (the tester as station): BootNotification Accepted, connectors
    reported; the example CSMS's GetVariables after the boot is answered."""
    answer = await link.call("BootNotification", boot_request())
    assert answer.payload["status"] == "Accepted", answer
    await boot_reads(link)
    answer = await link.call("StatusNotification", {"timestamp": now(), "connectorStatus": "Available", "evseId": 1, "connectorId": 1})
    assert answer.error is None and answer.payload == {}


@V2X
@tc("TC_B_01_CSMS", "B01.FR.02")
def test_tc_b_01_csms(version: str, tmp_path: Path) -> None:
    async def script() -> None:
        async with example_csms_at(tmp_path) as base, octt_station(f"{base}/CS-1", version) as link:
            await booted(link)
            assert link.violations == []

    run(script())


@V2X
@tc("TC_A_01_CSMS", "A00.FR.204", "B01.FR.02")
@tc("TC_A_02_CSMS", "A00.FR.204")
@tc("TC_A_03_CSMS", "A00.FR.204")
def test_tc_a_01_to_03_csms(version: str, tmp_path: Path) -> None:
    """Security profile 1: the example CSMS configured with the runtime's Basic-auth
    authenticator (the document's configuration state: a password for the station)."""

    async def script() -> None:
        async with example_csms_at(tmp_path, authenticator=StaticPasswords({"CS-1": PASSWORD})) as base:
            import base64

            def basic(user: str, password: str) -> dict[str, str]:
                return {"Authorization": "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()}

            # TC_A_02: the username is not the ChargingStationId
            assert await refused(f"{base}/CS-1", version, basic("CS-1Invalid", PASSWORD)) == 401
            # TC_A_03: a random password of 16..40 identifierString characters
            assert await refused(f"{base}/CS-1", version, basic("CS-1", "Zq8*wL2|x@9.Ae_7Rt+Y=k-M")) == 401
            # TC_A_01: the configured combination is accepted, then Booted
            async with octt_station(f"{base}/CS-1", version, password=PASSWORD) as link:
                await booted(link)
                assert link.violations == []

    run(script())


@V2X
@tc("TC_F_20_CSMS", "F06.FR.01")
def test_tc_f_20_csms(version: str, tmp_path: Path) -> None:
    server = example_csms.build_server(str(tmp_path / "csms.sqlite"))
    role, m, e = (csms201, m201, e201) if version == "2.0.1" else (csms21, m21, e21)

    async def script() -> None:
        async with server.serve("127.0.0.1", 0) as ws_server:
            port = next(iter(ws_server.sockets)).getsockname()[1]
            async with octt_station(f"ws://127.0.0.1:{port}/ocpp/CS-1", version) as link:
                await booted(link)
                client = server.registry.client("CS-1", role.BINDING)  # the operator's action
                trigger = asyncio.ensure_future(client.trigger_message(m.TriggerMessageRequest(requested_message=e.MessageTriggerEnumType.Heartbeat)))
                call = await link.expect("TriggerMessage")  # step 1
                assert call.payload["requestedMessage"] == "Heartbeat"
                await link.reply(call, {"status": "Accepted"})  # step 2
                assert (await trigger).status.value == "Accepted"
                answer = await link.call("Heartbeat", {})  # step 3
                assert answer.error is None and "currentTime" in answer.payload  # step 4
                assert link.violations == []

    run(script())


def transaction_events(seq0: int, transaction: str) -> list[dict[str, object]]:
    """EnergyTransferStarted, three periodic meter values and EVDisconnected, as a station with
    TxStartPoint EVConnected sends them (the CSMS-side reusable states)."""

    def sampled(context: str, value: float) -> list[dict[str, object]]:
        return [{"timestamp": now(), "sampledValue": [{"value": value, "context": context, "measurand": "Energy.Active.Import.Register"}]}]

    info = {"transactionId": transaction}
    evse = {"id": 1, "connectorId": 1}
    return [
        {"eventType": "Started", "timestamp": now(), "triggerReason": "CablePluggedIn", "seqNo": seq0, "evse": evse,
         "transactionInfo": {**info, "chargingState": "EVConnected"}, "meterValue": sampled("Transaction.Begin", 100.0)},
        {"eventType": "Updated", "timestamp": now(), "triggerReason": "Authorized", "seqNo": seq0 + 1,
         "transactionInfo": info, "idToken": {"idToken": "OCTT-1", "type": "ISO14443"}},
        {"eventType": "Updated", "timestamp": now(), "triggerReason": "ChargingStateChanged", "seqNo": seq0 + 2,
         "transactionInfo": {**info, "chargingState": "Charging"}},
        *({"eventType": "Updated", "timestamp": now(), "triggerReason": "MeterValuePeriodic", "seqNo": seq0 + 3 + i,
           "transactionInfo": info, "meterValue": sampled("Sample.Periodic", 200.0 + 100 * i)} for i in range(3)),
        {"eventType": "Ended", "timestamp": now(), "triggerReason": "EVCommunicationLost", "seqNo": seq0 + 6,
         "transactionInfo": {**info, "chargingState": "Idle", "stoppedReason": "EVDisconnected"},
         "meterValue": sampled("Transaction.End", 600.0)},
    ]


@V2X
@tc("TC_E_53_CSMS", "E01.FR.07")
@tc("TC_J_07_CSMS", "J02.FR.19")
@tc("TC_J_09_CSMS", "J02.FR.19")
@tc("TC_J_10_CSMS", "J02.FR.19")
def test_tc_e_53_and_sampled_meter_values_csms(version: str, tmp_path: Path) -> None:
    """Two transactions, each starting at seqNo 0 (TC_E_53), carrying sampled meter values with
    context Transaction.Begin (J_07), Sample.Periodic (J_09) and Transaction.End (J_10): every
    TransactionEvent answered, every value stored by the example CSMS."""

    async def script() -> None:
        async with example_csms_at(tmp_path) as base, octt_station(f"{base}/CS-1", version) as link:
            await booted(link)
            for transaction in ("OCTT-TX-1", "OCTT-TX-2"):
                for event in transaction_events(0, transaction):
                    answer = await link.call("TransactionEvent", event)
                    assert answer.error is None, answer
                await link.call("StatusNotification", {"timestamp": now(), "connectorStatus": "Available", "evseId": 1, "connectorId": 1})
            assert link.violations == []

    run(script())
    db = sqlite3.connect(tmp_path / "csms.sqlite")
    assert db.execute("SELECT transaction_id, meter_start, meter_stop FROM transactions ORDER BY 1").fetchall() == [
        ("OCTT-TX-1", 100.0, 600.0), ("OCTT-TX-2", 100.0, 600.0)]
    assert db.execute("SELECT COUNT(*) FROM meter_values").fetchone()[0] == 2 * 5


@V2X
@tc("TC_P_02_CSMS", "P02.FR.06", "P02.FR.07")
def test_tc_p_02_csms(version: str, tmp_path: Path) -> None:
    async def script() -> None:
        async with example_csms_at(tmp_path) as base, octt_station(f"{base}/CS-1", version) as link:
            await booted(link)
            answer = await link.call("DataTransfer", {"vendorId": "org.openchargealliance.octt", "messageId": "OCTT"})
            assert answer.payload["status"] in ("UnknownVendorId", "UnknownMessageId", "Rejected")

    run(script())


@V2X
@tc("TC_P_03_CSMS")
def test_tc_p_03_csms(version: str, tmp_path: Path) -> None:
    """CustomData in every message the tester sends is accepted (the schemas' customData)."""
    custom = {"vendorId": "org.openchargealliance.octt", "anything": [1, {"nested": True}]}

    async def script() -> None:
        async with example_csms_at(tmp_path) as base, octt_station(f"{base}/CS-1", version) as link:
            answer = await link.call("BootNotification", {**boot_request(), "customData": custom})
            assert answer.payload["status"] == "Accepted"
            await boot_reads(link, custom)
            answer = await link.call("StatusNotification", {"customData": custom, "timestamp": now(), "connectorStatus": "Available", "evseId": 1, "connectorId": 1})
            assert answer.error is None
            answer = await link.call("Heartbeat", {"customData": custom})
            assert answer.error is None
            assert link.violations == []

    run(script())


@V2X
@tc("TC_J_08_CSMS", "J02.FR.19")
@tc("TC_J_11_CSMS", "J02.FR.21")
def test_tc_j_08_and_j_11_csms(version: str, tmp_path: Path) -> None:
    """Authorized first, then EV connected with a Transaction.Begin reading (J_08); the Ended
    event carries periodic readings and a signed Transaction.End reading (J_11): the CSMS answers
    every TransactionEvent and keeps the readings (it need not read the signed data)."""
    signed = {"signedMeterData": "T0NUVA==", "signingMethod": "ECDSA-secp256r1-SHA256", "encodingMethod": "OCMF", "publicKey": "T0NUVA=="}

    def sampled(context: str, value: float, **extra: object) -> dict[str, object]:
        return {"timestamp": now(), "sampledValue": [{"value": value, "context": context, **extra}]}

    async def script() -> None:
        async with example_csms_at(tmp_path) as base, octt_station(f"{base}/CS-1", version) as link:
            await booted(link)
            token = {"idToken": "OCTT-1", "type": "ISO14443"}
            answer = await link.call("Authorize", {"idToken": token})
            assert answer.payload["idTokenInfo"]["status"] == "Accepted"  # type: ignore[index]
            info = {"transactionId": "OCTT-TX-8"}
            events = [
                {"eventType": "Started", "triggerReason": "Authorized", "seqNo": 0, "idToken": token, "transactionInfo": info},
                {"eventType": "Updated", "triggerReason": "CablePluggedIn", "seqNo": 1, "evse": {"id": 1, "connectorId": 1},
                 "transactionInfo": {**info, "chargingState": "EVConnected"}, "meterValue": [sampled("Transaction.Begin", 10.0)]},
                {"eventType": "Updated", "triggerReason": "ChargingStateChanged", "seqNo": 2, "transactionInfo": {**info, "chargingState": "Charging"}},
                {"eventType": "Ended", "triggerReason": "EVCommunicationLost", "seqNo": 3,
                 "transactionInfo": {**info, "chargingState": "Idle", "stoppedReason": "EVDisconnected"},
                 "meterValue": [sampled("Sample.Periodic", 20.0), sampled("Transaction.End", 30.0, signedMeterValue=signed)]},
            ]
            for event in events:
                answer = await link.call("TransactionEvent", {"timestamp": now(), **event})
                assert answer.error is None, answer
            assert link.violations == []

    run(script())
    db = sqlite3.connect(tmp_path / "csms.sqlite")
    assert [r[0] for r in db.execute("SELECT value FROM meter_values ORDER BY rowid")] == [10.0, 20.0, 30.0]


# -- transaction flows: the tester sends what a station with the test case's TxStart/StopPoint
# sends; the CSMS answers each message (and authorizes the idToken where the document checks it)

TOKEN = {"idToken": "OCTT-VALID", "type": "ISO14443"}
EVSE = {"id": 1, "connectorId": 1}
Step = tuple[str, Payload, Payload]  # action, payload, expected answer fields


def tx(event: str, trigger: str, seq: int, **fields: object) -> dict[str, object]:
    info = {"transactionId": "OCTT-TX", **fields.pop("info", {})}  # type: ignore[dict-item]
    return {"eventType": event, "timestamp": now(), "triggerReason": trigger, "seqNo": seq, "transactionInfo": info, **fields}


def reading(context: str, value: float = 0.0, **extra: object) -> list[dict[str, object]]:
    return [{"timestamp": now(), "sampledValue": [{"value": value, "context": context, **extra}]}]


SIGNED = {"signedMeterData": "T0NUVA==", "signingMethod": "ECDSA-secp256r1-SHA256", "encodingMethod": "OCMF", "publicKey": "T0NUVA=="}
ACCEPTED = {"idTokenInfo": {"status": "Accepted"}}
OCCUPIED: Step = ("StatusNotification", {"timestamp": now(), "connectorStatus": "Occupied", **{"evseId": 1, "connectorId": 1}}, {})
AVAILABLE: Step = ("StatusNotification", {"timestamp": now(), "connectorStatus": "Available", **{"evseId": 1, "connectorId": 1}}, {})
AUTHORIZE: Step = ("Authorize", {"idToken": TOKEN}, ACCEPTED)


def started_charging(seq: int = 0) -> list[Step]:
    """Authorized (TxStartPoint Authorized), then EnergyTransferStarted (CSMS-side reusable states)."""
    return [AUTHORIZE, ("TransactionEvent", tx("Started", "Authorized", seq, idToken=TOKEN), ACCEPTED), OCCUPIED,
            ("TransactionEvent", tx("Updated", "CablePluggedIn", seq + 1, evse=EVSE, info={"chargingState": "EVConnected"}), {}),
            ("TransactionEvent", tx("Updated", "ChargingStateChanged", seq + 2, info={"chargingState": "Charging"}), {})]


def ended(trigger: str, stopped: str, seq: int = 3, **info: object) -> list[Step]:
    """The transaction's end (EVDisconnected and the StopTransaction options), connector freed."""
    return [("TransactionEvent", tx("Ended", trigger, seq, info={"stoppedReason": stopped, **info}, meterValue=reading("Transaction.End", 10.0)), {}),
            AVAILABLE]


FLOWS: dict[str, tuple[tuple[str, ...], list[Step]]] = {
    "TC_E_01_CSMS": (("E01.FR.05",), [AUTHORIZE, OCCUPIED, ("TransactionEvent", tx("Started", "ChargingStateChanged", 0, idToken=TOKEN, evse=EVSE, info={"chargingState": "SuspendedEVSE"}), ACCEPTED),
                                      ("TransactionEvent", tx("Updated", "ChargingStateChanged", 1, info={"chargingState": "Charging"}), {})]),
    "TC_E_02_CSMS": (("E01.FR.06",), [AUTHORIZE, OCCUPIED, ("TransactionEvent", tx("Started", "ChargingStateChanged", 0, idToken=TOKEN, evse=EVSE, info={"chargingState": "Charging"}), ACCEPTED)]),
    "TC_E_03_CSMS": (("E02.FR.02",), [OCCUPIED, ("TransactionEvent", tx("Started", "CablePluggedIn", 0, evse=EVSE, info={"chargingState": "EVConnected"}), {}), AUTHORIZE,
                                      ("TransactionEvent", tx("Updated", "Authorized", 1, idToken=TOKEN), ACCEPTED),
                                      ("TransactionEvent", tx("Updated", "ChargingStateChanged", 2, info={"chargingState": "Charging"}), {})]),
    "TC_E_04_CSMS": (("E03.FR.02",), started_charging()),
    "TC_E_09_CSMS": (("E01.FR.02",), [OCCUPIED, ("TransactionEvent", tx("Started", "CablePluggedIn", 0, evse=EVSE, info={"chargingState": "EVConnected"}), {})]),
    "TC_E_10_CSMS": (("E01.FR.03",), [AUTHORIZE, ("TransactionEvent", tx("Started", "Authorized", 0, idToken=TOKEN), ACCEPTED)]),
    "TC_E_11_CSMS": (("E01.FR.04",), [AUTHORIZE, OCCUPIED, ("TransactionEvent", tx("Started", "SignedDataReceived", 0, idToken=TOKEN, evse=EVSE,
                                      meterValue=reading("Transaction.Begin", 0.0, signedMeterValue=SIGNED)), ACCEPTED),
                                      ("TransactionEvent", tx("Updated", "ChargingStateChanged", 1, info={"chargingState": "Charging"}), {})]),
    "TC_E_12_CSMS": (("E01.FR.01",), [("TransactionEvent", tx("Started", "EVDetected", 0), {})]),
    "TC_E_07_CSMS": (("E06.FR.06",), started_charging() + ended("StopAuthorized", "Local")),
    "TC_E_08_CSMS": (("E06.FR.07",), started_charging() + [("TransactionEvent", tx("Ended", "ChargingStateChanged", 3, info={"chargingState": "EVConnected", "stoppedReason": "Local"}), {})]),
    "TC_E_14_CSMS": (("E06.FR.02",), started_charging() + ended("EVCommunicationLost", "EVDisconnected", chargingState="Idle")),
    "TC_E_15_CSMS": (("E06.FR.03",), started_charging() + ended("StopAuthorized", "Local")),
    "TC_E_17_CSMS": (("E06.FR.04",), started_charging() + ended("EVCommunicationLost", "EVDisconnected", chargingState="Idle")),
    "TC_E_19_CSMS": (("E06.FR.01",), started_charging() + ended("EVDeparted", "Local")),
    "TC_E_20_CSMS": (("E06.FR.02",), started_charging() + ended("EVCommunicationLost", "EVDisconnected", chargingState="Idle")),
    "TC_E_22_CSMS": (("E06.FR.07",), started_charging() + [("TransactionEvent", tx("Ended", "ChargingStateChanged", 3, info={"chargingState": "SuspendedEV", "stoppedReason": "StoppedByEV"}), {})]),
    "TC_E_26_CSMS": (("E10.FR.01",), started_charging() + [
        ("TransactionEvent", tx("Updated", "EVCommunicationLost", 3, info={"chargingState": "Idle"}), {}), AVAILABLE, OCCUPIED,
        ("TransactionEvent", tx("Updated", "CablePluggedIn", 4, info={"chargingState": "EVConnected"}), {}),
        ("TransactionEvent", tx("Updated", "ChargingStateChanged", 5, info={"chargingState": "Charging"}), {})]),
    "TC_E_39_CSMS": (("E03.FR.04", "E03.FR.05", "E06.FR.04"), [AUTHORIZE, ("TransactionEvent", tx("Started", "Authorized", 0, idToken=TOKEN), ACCEPTED),
                                                               ("TransactionEvent", tx("Ended", "EVConnectTimeout", 1, info={"stoppedReason": "Timeout"}), {})]),
    "TC_G_20_CSMS": (("G05.FR.03",), [("NotifyEvent", {"generatedAt": now(), "seqNo": 0, "eventData": [{
        "eventId": 1, "timestamp": now(), "trigger": "Delta", "actualValue": "true", "eventNotificationType": "HardWiredNotification",
        "component": {"name": "ConnectorPlugRetentionLock", "evse": EVSE}, "variable": {"name": "Problem"}}]}, {})]),
    "TC_J_01_CSMS": (("J01.FR.18",), [("MeterValues", {"evseId": 0, "meterValue": reading("Sample.Clock", 1000.0)}, {})]),
    "TC_J_02_CSMS": (("J01.FR.18",), started_charging() + [("MeterValues", {"evseId": 1, "meterValue": reading("Sample.Clock", 1000.0)}, {}),
                                                          ("TransactionEvent", tx("Updated", "MeterValueClock", 3, meterValue=reading("Sample.Clock", 1100.0)), {})]),
    "TC_J_03_CSMS": (("J01.FR.18",), started_charging() + [("TransactionEvent", tx("Ended", "EVCommunicationLost", 3, info={"stoppedReason": "EVDisconnected"},
                                                          meterValue=reading("Sample.Clock", 1.0) + reading("Transaction.End", 2.0)), {})]),
    "TC_J_04_CSMS": (("J01.FR.21",), started_charging() + [("TransactionEvent", tx("Ended", "EVCommunicationLost", 3, info={"stoppedReason": "EVDisconnected"},
                                                          meterValue=reading("Sample.Clock", 1.0, signedMeterValue=SIGNED) + reading("Transaction.End", 2.0, signedMeterValue=SIGNED)), {})]),
}


def _flow_cases() -> list[object]:
    return [pytest.param(version, tc_id, marks=pytest.mark.tc(tc_id, *reqs), id=f"{tc_id}-{version}")
            for tc_id, (reqs, _) in FLOWS.items() for version in ("2.0.1", "2.1")]


@pytest.mark.parametrize(("version", "tc_id"), _flow_cases())
def test_csms_transaction_flows(version: str, tc_id: str, tmp_path: Path) -> None:
    """The CSMS-side transaction test cases whose steps are the tester's messages, each to be
    answered (TransactionEventResponse with idTokenInfo Accepted where the document checks it)."""
    _, steps = FLOWS[tc_id]

    async def script() -> None:
        async with example_csms_at(tmp_path) as base, octt_station(f"{base}/CS-1", version) as link:
            await booted(link)
            for action, payload, expected in steps:
                answer = await link.call(action, payload)
                assert answer.error is None, (action, answer)
                for key, value in expected.items():
                    assert answer.payload.get(key) == value, (action, answer.payload)
            assert link.violations == []

    run(script())


@V2X
@tc("TC_E_21_CSMS", "E06.FR.03", "F03.FR.01", "F03.FR.09", "F03.FR.10")
@tc("TC_F_27_CSMS", "F06.FR.08")
def test_tc_e_21_and_f_27_csms(version: str, tmp_path: Path) -> None:
    """Operator actions through the example CSMS's registry client: RequestStopTransaction for
    the tester's ongoing transaction, then Ended with RemoteStop (E_21); a TriggerMessage the
    tester answers NotImplemented (F_27) reaches the operator as that status."""
    server = example_csms.build_server(str(tmp_path / "csms.sqlite"))
    role, m, e = (csms201, m201, e201) if version == "2.0.1" else (csms21, m21, e21)

    async def script() -> None:
        async with server.serve("127.0.0.1", 0) as ws_server:
            port = next(iter(ws_server.sockets)).getsockname()[1]
            async with octt_station(f"ws://127.0.0.1:{port}/ocpp/CS-1", version) as link:
                await booted(link)
                for action, payload, expected in started_charging():
                    answer = await link.call(action, payload)
                    assert answer.error is None and all(answer.payload.get(k) == v for k, v in expected.items())
                client = server.registry.client("CS-1", role.BINDING)
                stop = asyncio.ensure_future(client.request_stop_transaction(m.RequestStopTransactionRequest(transaction_id="OCTT-TX")))
                call = await link.expect("RequestStopTransaction")  # step 1
                assert call.payload["transactionId"] == "OCTT-TX"
                await link.reply(call, {"status": "Accepted"})  # step 2
                assert (await stop).status.value == "Accepted"
                answer = await link.call("TransactionEvent", tx("Ended", "RemoteStop", 3, info={"stoppedReason": "Remote"}))  # step 3
                assert answer.error is None  # step 4

                trigger = asyncio.ensure_future(client.trigger_message(m.TriggerMessageRequest(requested_message=e.MessageTriggerEnumType.MeterValues)))
                call = await link.expect("TriggerMessage")  # TC_F_27 step 1
                await link.reply(call, {"status": "NotImplemented"})  # step 2
                assert (await trigger).status.value == "NotImplemented"
                assert link.violations == []

    run(script())
