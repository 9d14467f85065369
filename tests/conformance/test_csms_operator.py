"""2.0.1 Part 6 CSMS test cases that start with an operator's action ("Manually request the CSMS
to ...", "The CSMS sends ..."). The example CSMS has no operator interface of its own: its
operator API is the server's registry client (``server.registry.client(identity, binding)``), as
for any CSMS built on ocppgen. The script makes the operator call, then plays the station: checks
the request the document names, answers as the document says, sends the station's follow-up
messages (reboots are new WebSocket connections) and checks what the operator gets back."""

from __future__ import annotations

import asyncio
import contextlib
import re
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import msgspec
import pytest

from examples import csms as example_csms
from ocppgen.generated.v201 import csms as csms201, datatypes as d201, enums as e201, messages as m201
from ocppgen.generated.v21 import csms as csms21, datatypes as d21, enums as e21, messages as m21
from tests.conformance.harness import Link, Payload, now, octt_station
from tests.conformance.test_csms_2x import AVAILABLE, EVSE, OCCUPIED, TOKEN, Step, booted, reading, started_charging, tx
from tests.helpers import run

RECONNECT: Step = ("<reconnect>", {}, {})  # the station reboots or comes back online: a new WebSocket, then Booted
NO_BOOT_RECONNECT: Step = ("<reconnect without boot>", {}, {})  # back online after a connection loss (no reboot)
Operator = Callable[[Any, Any, Any, Any], Awaitable[Any]]  # (typed client, messages, datatypes, enums)


@dataclass(frozen=True)
class Case:
    """One operator test case: what happens before, the operator's call, the request the
    station must receive (checked), its answer, what the station sends after, and the status
    the operator must get back."""

    reqs: tuple[str, ...]
    operate: Operator
    action: str
    check: Callable[[Payload], bool]
    answer: Payload
    before: list[Step] = field(default_factory=list)
    after: Callable[[Payload], list[Step]] = lambda request: []
    result: str | None = "answer"  # the operator sees the answer's status ("answer") or nothing to compare (None)


def variable(d: Any, component: str, name: str) -> Any:
    return d.ComponentType(name=component), d.VariableType(name=name)


def get_vars(*pairs: tuple[str, str]) -> Operator:
    return lambda c, m, d, e: c.get_variables(m.GetVariablesRequest(get_variable_data=[
        d.GetVariableDataType(component=d.ComponentType(name=comp), variable=d.VariableType(name=var)) for comp, var in pairs]))


def set_vars(*triples: tuple[str, str, str]) -> Operator:
    return lambda c, m, d, e: c.set_variables(m.SetVariablesRequest(set_variable_data=[
        d.SetVariableDataType(component=d.ComponentType(name=comp), variable=d.VariableType(name=var), attribute_value=value)
        for comp, var, value in triples]))


def names(key: str, payload: Payload) -> list[tuple[str, str]]:
    return [(item["component"]["name"], item["variable"]["name"]) for item in payload[key]]  # type: ignore[index, union-attr]


def results(key: str, payload: Payload, status: str, **extra: object) -> Payload:
    return {key: [{"attributeStatus": status, "component": item["component"], "variable": item["variable"], **extra}  # type: ignore[index]
                  for item in payload[key.replace("Result", "Data")]]}  # type: ignore[union-attr]


def trigger(message: str, evse: dict[str, int] | None = None) -> Operator:
    def send(c: Any, m: Any, d: Any, e: Any) -> Any:
        extra = {"evse": d.EVSEType(**{"connector_id" if k == "connectorId" else k: v for k, v in evse.items()})} if evse else {}
        return c.trigger_message(m.TriggerMessageRequest(requested_message=e.MessageTriggerEnumType(message), **extra))
    return send


def availability(status: str, evse: int | None = None, connector: int | None = None) -> Operator:
    def send(c: Any, m: Any, d: Any, e: Any) -> Any:
        extra = {}
        if evse is not None:
            extra["evse"] = d.EVSEType(id=evse) if connector is None else d.EVSEType(id=evse, connector_id=connector)
        return c.change_availability(m.ChangeAvailabilityRequest(operational_status=e.OperationalStatusEnumType(status), **extra))
    return send


def remote_start(c: Any, m: Any, d: Any, e: Any) -> Any:
    token = d.IdTokenType(id_token=TOKEN["idToken"], type=TOKEN["type"] if m is m21 else e.IdTokenEnumType.ISO14443)
    return c.request_start_transaction(m.RequestStartTransactionRequest(id_token=token, remote_start_id=77, evse_id=1))


def started_by_remote(request: Payload, event: str = "Started", authorize: bool = False) -> list[Step]:
    steps: list[Step] = [("Authorize", {"idToken": TOKEN}, {"idTokenInfo": {"status": "Accepted"}})] if authorize else []
    return steps + [("TransactionEvent", tx(event, "RemoteStart", 0, idToken=TOKEN, info={"remoteStartId": request["remoteStartId"]}), {})]


def energy_transfer_started(seq: int) -> list[Step]:
    return [OCCUPIED, ("TransactionEvent", tx("Updated", "CablePluggedIn", seq, evse=EVSE, info={"chargingState": "EVConnected"}), {}),
            ("TransactionEvent", tx("Updated", "ChargingStateChanged", seq + 1, info={"chargingState": "Charging"}), {})]


def stop_to_disconnected(seq: int) -> list[Step]:
    """StopAuthorized, EVConnectedPostSession and EVDisconnected (CSMS-side reusable states)."""
    return [("Authorize", {"idToken": TOKEN}, {"idTokenInfo": {"status": "Accepted"}}),
            ("TransactionEvent", tx("Updated", "StopAuthorized", seq, idToken=TOKEN, info={"chargingState": "EVConnected"}), {}),
            ("TransactionEvent", tx("Ended", "EVCommunicationLost", seq + 1, info={"chargingState": "Idle", "stoppedReason": "EVDisconnected"}), {})]


def status(connector_status: str) -> Step:
    return ("StatusNotification", {"timestamp": now(), "connectorStatus": connector_status, "evseId": 1, "connectorId": 1}, {})


def op(action: str, payload: Payload) -> Operator:
    """The operator sends ``action`` with this (wire-form) payload through the typed client."""
    method = re.sub(r"(?<!^)(?=[A-Z])", "_", action).lower()
    return lambda c, m, d, e: getattr(c, method)(msgspec.convert(payload, getattr(m, f"{action}Request"), strict=False))


def log_status(request: Payload, *statuses: str) -> list[Step]:
    return [("LogStatusNotification", {"status": s, "requestId": request["requestId"]}, {}) for s in statuses]


GET_LOG = {"logType": "DiagnosticsLog", "requestId": 21, "log": {"remoteLocation": "ftp://octt.example/logs"}}
CUSTOMER = {"requestId": 31, "report": True, "clear": False, "idToken": TOKEN}
NETWORK = {"configurationSlot": 1, "connectionData": {"ocppVersion": "OCPP20", "ocppTransport": "JSON", "ocppCsmsUrl": "wss://csms.example/ocpp",
                                                     "messageTimeout": 30, "securityProfile": 2, "ocppInterface": "Wired0"}}


def notify_customer(request: Payload) -> list[Step]:
    return [("NotifyCustomerInformation", {"data": "OCTT customer data", "seqNo": 0, "generatedAt": now(), "requestId": request["requestId"], "tbc": False}, {})]


CASES: dict[str, Case] = {
    "TC_B_06_CSMS": Case(("B06.FR.01", "B06.FR.02", "B06.FR.03", "B06.FR.04", "B06.FR.10", "B06.FR.11"),
                         get_vars(("OCPPCommCtrlr", "OfflineThreshold")), "GetVariables",
                         lambda p: names("getVariableData", p) == [("OCPPCommCtrlr", "OfflineThreshold")]
                         and p["getVariableData"][0].get("attributeType", "Actual") in ("Actual", "Target", "MinSet", "MaxSet"),  # type: ignore[index, union-attr]
                         {}, result=None),
    "TC_B_07_CSMS": Case(("B06.FR.01", "B06.FR.02", "B06.FR.03"), get_vars(("OCPPCommCtrlr", "OfflineThreshold"), ("AuthCtrlr", "AuthorizeRemoteStart")),
                         "GetVariables", lambda p: sorted(names("getVariableData", p)) == [("AuthCtrlr", "AuthorizeRemoteStart"), ("OCPPCommCtrlr", "OfflineThreshold")],
                         {}, result=None),
    "TC_B_09_CSMS": Case(("B05.FR.01", "B05.FR.02", "B05.FR.03", "B05.FR.10", "B05.FR.12"), set_vars(("OCPPCommCtrlr", "OfflineThreshold", "123")),
                         "SetVariables", lambda p: [i["attributeValue"] for i in p["setVariableData"]] == ["123"]  # type: ignore[index, union-attr]
                         and names("setVariableData", p) == [("OCPPCommCtrlr", "OfflineThreshold")], {}, result=None),
    "TC_B_10_CSMS": Case(("B05.FR.01", "B05.FR.02", "B05.FR.03"),
                         set_vars(("OCPPCommCtrlr", "OfflineThreshold", "123"), ("AuthCtrlr", "AuthorizeRemoteStart", "false")), "SetVariables",
                         lambda p: sorted(zip(names("setVariableData", p), [i["attributeValue"] for i in p["setVariableData"]])) == [  # type: ignore[index, union-attr]
                             (("AuthCtrlr", "AuthorizeRemoteStart"), "false"), (("OCPPCommCtrlr", "OfflineThreshold"), "123")], {}, result=None),
    "TC_B_12_CSMS": Case(("B07.FR.07",), lambda c, m, d, e: c.get_base_report(m.GetBaseReportRequest(request_id=3, report_base=e.ReportBaseEnumType.ConfigurationInventory)),
                         "GetBaseReport", lambda p: p["reportBase"] == "ConfigurationInventory" and p["requestId"] >= 0, {"status": "Accepted"},  # type: ignore[operator]
                         after=lambda r: [("NotifyReport", {"requestId": r["requestId"], "generatedAt": now(), "seqNo": 0, "tbc": False}, {})]),
    "TC_B_13_CSMS": Case(("B07.FR.08",), lambda c, m, d, e: c.get_base_report(m.GetBaseReportRequest(request_id=4, report_base=e.ReportBaseEnumType.FullInventory)),
                         "GetBaseReport", lambda p: p["reportBase"] == "FullInventory" and p["requestId"] >= 0, {"status": "Accepted"},  # type: ignore[operator]
                         after=lambda r: [("NotifyReport", {"requestId": r["requestId"], "generatedAt": now(), "seqNo": 0, "tbc": False}, {})]),
    "TC_B_20_CSMS": Case(("B11.FR.04",), lambda c, m, d, e: c.reset(m.ResetRequest(type=e.ResetEnumType.OnIdle)), "Reset", lambda p: True,
                         {"status": "Accepted"}, after=lambda r: [RECONNECT]),
    "TC_B_21_CSMS": Case(("B12.FR.01", "B12.FR.03", "E07.FR.03"), lambda c, m, d, e: c.reset(m.ResetRequest(type=e.ResetEnumType.OnIdle)), "Reset",
                         lambda p: p["type"] == "OnIdle", {"status": "Scheduled"}, before=started_charging(),
                         after=lambda r: stop_to_disconnected(3)[1:] + [RECONNECT]),
    "TC_B_22_CSMS": Case(("use case B12; the document lists no requirement",), lambda c, m, d, e: c.reset(m.ResetRequest(type=e.ResetEnumType.Immediate)), "Reset",
                         lambda p: p["type"] == "Immediate", {"status": "Accepted"}, before=started_charging(),
                         after=lambda r: [("TransactionEvent", tx("Ended", "ResetCommand", 3, info={"chargingState": "EVConnected", "stoppedReason": "ImmediateReset"}), {}),
                                          RECONNECT, status("Occupied")]),
    "TC_C_37_CSMS": Case(("use case C11; the document lists no requirement",), lambda c, m, d, e: c.clear_cache(m.ClearCacheRequest()), "ClearCache", lambda p: True, {"status": "Accepted"}),
    "TC_C_38_CSMS": Case(("use case C11; the document lists no requirement",), lambda c, m, d, e: c.clear_cache(m.ClearCacheRequest()), "ClearCache", lambda p: True, {"status": "Rejected"}),
    "TC_E_29_CSMS": Case(("E14.FR.02", "E14.FR.04"), lambda c, m, d, e: c.get_transaction_status(m.GetTransactionStatusRequest(transaction_id="OCTT-TX")),
                         "GetTransactionStatus", lambda p: p.get("transactionId") == "OCTT-TX", {"ongoingIndicator": True, "messagesInQueue": True},
                         before=started_charging() + [NO_BOOT_RECONNECT], result=None,
                         after=lambda r: [("TransactionEvent", tx("Updated", "MeterValuePeriodic", 3, offline=True, meterValue=reading("Sample.Periodic", 5.0)), {})]),
    "TC_E_30_CSMS": Case(("E14.FR.02", "E14.FR.05"), lambda c, m, d, e: c.get_transaction_status(m.GetTransactionStatusRequest(transaction_id="OCTT-TX")),
                         "GetTransactionStatus", lambda p: p.get("transactionId") == "OCTT-TX", {"ongoingIndicator": True, "messagesInQueue": False},
                         before=started_charging(), result=None),
    "TC_E_31_CSMS": Case(("E14.FR.03", "E14.FR.04"), lambda c, m, d, e: c.get_transaction_status(m.GetTransactionStatusRequest(transaction_id="OCTT-TX")),
                         "GetTransactionStatus", lambda p: p.get("transactionId") == "OCTT-TX", {"ongoingIndicator": False, "messagesInQueue": True},
                         before=started_charging() + [NO_BOOT_RECONNECT, status("Available"),
                                                      ("TransactionEvent", tx("Ended", "EVCommunicationLost", 5, offline=True, info={"chargingState": "Idle"}), {})],
                         result=None,
                         after=lambda r: [("TransactionEvent", tx("Updated", "StopAuthorized", 3, offline=True), {}),
                                          ("TransactionEvent", tx("Updated", "ChargingStateChanged", 4, offline=True, info={"chargingState": "EVConnected"}), {})]),
    "TC_E_33_CSMS": Case(("E14.FR.06", "E14.FR.07"), lambda c, m, d, e: c.get_transaction_status(m.GetTransactionStatusRequest()),
                         "GetTransactionStatus", lambda p: "transactionId" not in p, {"messagesInQueue": True},
                         before=started_charging() + [NO_BOOT_RECONNECT], result=None,
                         after=lambda r: [("TransactionEvent", tx("Updated", "MeterValuePeriodic", 3, offline=True, meterValue=reading("Sample.Periodic", 5.0)), {})]),
    "TC_E_34_CSMS": Case(("E14.FR.06", "E14.FR.08"), lambda c, m, d, e: c.get_transaction_status(m.GetTransactionStatusRequest()),
                         "GetTransactionStatus", lambda p: "transactionId" not in p, {"messagesInQueue": False}, result=None),
    "TC_F_01_CSMS": Case(("use case F01; the document lists no requirement",), remote_start, "RequestStartTransaction", lambda p: p["idToken"] == TOKEN,
                         {"status": "Accepted", "transactionId": "OCTT-TX"},
                         before=[OCCUPIED, ("TransactionEvent", tx("Started", "CablePluggedIn", 0, evse=EVSE, info={"chargingState": "EVConnected"}), {})],
                         after=lambda r: [("TransactionEvent", tx("Updated", "RemoteStart", 1, idToken=TOKEN, info={"remoteStartId": r["remoteStartId"]}), {}),
                                          ("TransactionEvent", tx("Updated", "ChargingStateChanged", 2, info={"chargingState": "Charging"}), {})]),
    "TC_F_02_CSMS": Case(("F02.FR.01", "F01.FR.01"), remote_start, "RequestStartTransaction", lambda p: p["idToken"] == TOKEN, {"status": "Accepted"},
                         after=lambda r: started_by_remote(r, authorize=True) + energy_transfer_started(1)),
    "TC_F_03_CSMS": Case(("F02.FR.01", "F01.FR.02"), remote_start, "RequestStartTransaction", lambda p: p["idToken"] == TOKEN, {"status": "Accepted"},
                         after=lambda r: started_by_remote(r) + energy_transfer_started(1)),
    "TC_F_04_CSMS": Case(("E03.FR.04", "E03.FR.05"), remote_start, "RequestStartTransaction", lambda p: p["idToken"] == TOKEN, {"status": "Accepted"},
                         after=lambda r: started_by_remote(r) + [("TransactionEvent", tx("Updated", "EVConnectTimeout", 1), {})]),
    "TC_F_06_CSMS": Case(("use case F05; the document lists no requirement",), lambda c, m, d, e: c.unlock_connector(m.UnlockConnectorRequest(evse_id=1, connector_id=1)), "UnlockConnector",
                         lambda p: (p["evseId"], p["connectorId"]) == (1, 1), {"status": "Unlocked"}),
    "TC_F_11_CSMS": Case(("F06.FR.01", "F06.FR.02"), trigger("MeterValues", {"id": 1}), "TriggerMessage",
                         lambda p: p["requestedMessage"] == "MeterValues" and p["evse"]["id"] == 1, {"status": "Accepted"},  # type: ignore[index]
                         after=lambda r: [("MeterValues", {"evseId": 1, "meterValue": reading("Trigger", 7.0)}, {})]),
    "TC_F_12_CSMS": Case(("F06.FR.01",), trigger("MeterValues"), "TriggerMessage", lambda p: p["requestedMessage"] == "MeterValues", {"status": "Accepted"},
                         after=lambda r: [("MeterValues", {"evseId": 1, "meterValue": reading("Trigger", 7.0)}, {})]),
    "TC_F_13_CSMS": Case(("F06.FR.01", "F06.FR.02"), trigger("TransactionEvent", {"id": 1}), "TriggerMessage",
                         lambda p: p["requestedMessage"] == "TransactionEvent" and p["evse"]["id"] == 1, {"status": "Accepted"}, before=started_charging(),  # type: ignore[index]
                         after=lambda r: [("TransactionEvent", tx("Updated", "Trigger", 3, evse={"id": 1}, info={"chargingState": "Charging"}, meterValue=reading("Trigger", 7.0)), {})]),
    "TC_F_14_CSMS": Case(("F06.FR.01",), trigger("TransactionEvent"), "TriggerMessage", lambda p: p["requestedMessage"] == "TransactionEvent",
                         {"status": "Accepted"}, before=started_charging(),
                         after=lambda r: [("TransactionEvent", tx("Updated", "Trigger", 3, info={"chargingState": "Charging"}, meterValue=reading("Trigger", 7.0)), {})]),
    "TC_F_15_CSMS": Case(("F06.FR.01",), trigger("LogStatusNotification"), "TriggerMessage", lambda p: p["requestedMessage"] == "LogStatusNotification",
                         {"status": "Accepted"}, after=lambda r: [("LogStatusNotification", {"status": "Idle"}, {})]),
    "TC_F_18_CSMS": Case(("F06.FR.01",), trigger("FirmwareStatusNotification"), "TriggerMessage", lambda p: p["requestedMessage"] == "FirmwareStatusNotification",
                         {"status": "Accepted"}, after=lambda r: [("FirmwareStatusNotification", {"status": "Idle"}, {})]),
    "TC_F_23_CSMS": Case(("F06.FR.01", "F06.FR.02", "F06.FR.13"), trigger("StatusNotification", {"id": 1, "connectorId": 1}), "TriggerMessage",
                         lambda p: p["requestedMessage"] == "StatusNotification" and p["evse"]["id"] == 1, {"status": "Accepted"},  # type: ignore[index]
                         after=lambda r: [status("Available")]),
    "TC_F_24_CSMS": Case(("F06.FR.01", "F06.FR.02", "F06.FR.13"), trigger("StatusNotification", {"id": 1, "connectorId": 1}), "TriggerMessage",
                         lambda p: p["requestedMessage"] == "StatusNotification" and p["evse"]["id"] == 1, {"status": "Accepted"},  # type: ignore[index]
                         before=[status("Occupied")], after=lambda r: [status("Occupied")]),
    "TC_G_03_CSMS": Case(("use case G03; the document lists no requirement",), availability("Inoperative", 1), "ChangeAvailability",
                         lambda p: p["operationalStatus"] == "Inoperative" and p["evse"] == {"id": 1}, {"status": "Accepted"}, after=lambda r: [status("Unavailable")]),
    "TC_G_04_CSMS": Case(("use case G03; the document lists no requirement",), availability("Operative", 1), "ChangeAvailability",
                         lambda p: p["operationalStatus"] == "Operative" and p["evse"] == {"id": 1}, {"status": "Accepted"}, after=lambda r: [status("Available")]),
    "TC_G_05_CSMS": Case(("use case G04; the document lists no requirement",), availability("Inoperative"), "ChangeAvailability",
                         lambda p: p["operationalStatus"] == "Inoperative" and "evse" not in p, {"status": "Accepted"}, after=lambda r: [status("Unavailable")]),
    "TC_G_06_CSMS": Case(("use case G04; the document lists no requirement",), availability("Operative"), "ChangeAvailability",
                         lambda p: p["operationalStatus"] == "Operative" and "evse" not in p, {"status": "Accepted"}, after=lambda r: [status("Available")]),
    "TC_G_07_CSMS": Case(("use case G03; the document lists no requirement",), availability("Inoperative", 1, 1), "ChangeAvailability",
                         lambda p: p["operationalStatus"] == "Inoperative" and p["evse"] == {"id": 1, "connectorId": 1}, {"status": "Accepted"},
                         after=lambda r: [status("Unavailable")]),
    "TC_G_08_CSMS": Case(("use case G03; the document lists no requirement",), availability("Operative", 1, 1), "ChangeAvailability",
                         lambda p: p["operationalStatus"] == "Operative" and p["evse"] == {"id": 1, "connectorId": 1}, {"status": "Accepted"},
                         after=lambda r: [status("Available")]),
    "TC_G_11_CSMS": Case(("use case G03; the document lists no requirement",), availability("Inoperative", 1), "ChangeAvailability",
                         lambda p: p["operationalStatus"] == "Inoperative" and p["evse"] == {"id": 1}, {"status": "Scheduled"}, before=started_charging(),
                         after=lambda r: stop_to_disconnected(3) + [status("Unavailable")]),
    "TC_G_14_CSMS": Case(("use case G04; the document lists no requirement",), availability("Inoperative"), "ChangeAvailability",
                         lambda p: p["operationalStatus"] == "Inoperative" and "evse" not in p, {"status": "Scheduled"}, before=started_charging(),
                         after=lambda r: stop_to_disconnected(3) + [status("Unavailable")]),
    "TC_G_17_CSMS": Case(("use case G03; the document lists no requirement",), availability("Inoperative", 1, 1), "ChangeAvailability",
                         lambda p: p["operationalStatus"] == "Inoperative" and p["evse"] == {"id": 1, "connectorId": 1}, {"status": "Scheduled"},
                         before=started_charging(), after=lambda r: stop_to_disconnected(3) + [status("Unavailable")]),
    "TC_B_42_CSMS": Case(("B09.FR.01",), op("SetNetworkProfile", NETWORK), "SetNetworkProfile",
                         lambda p: p == NETWORK, {"status": "Accepted"}),
    "TC_B_44_CSMS": Case(("B09.FR.03",), op("SetNetworkProfile", NETWORK), "SetNetworkProfile", lambda p: True, {"status": "Failed"}),
    "TC_N_25_CSMS": Case(("use case N01; the document lists no requirement",), op("GetLog", GET_LOG), "GetLog", lambda p: p["logType"] == "DiagnosticsLog",
                         {"status": "Accepted"}, after=lambda r: log_status(r, "Uploading", "Uploaded")),
    "TC_N_34_CSMS": Case(("use case N01; the document lists no requirement",), op("GetLog", GET_LOG), "GetLog", lambda p: True, {"status": "Rejected"}),
    "TC_N_35_CSMS": Case(("use case N01; the document lists no requirement",), op("GetLog", {**GET_LOG, "logType": "SecurityLog"}), "GetLog",
                         lambda p: p["logType"] == "SecurityLog", {"status": "Accepted"}, after=lambda r: log_status(r, "Uploading", "Uploaded")),
    "TC_N_27_CSMS": Case(("N09.FR.01", "N09.FR.04"), op("CustomerInformation", CUSTOMER), "CustomerInformation",
                         lambda p: p["report"] is True and p["idToken"] == TOKEN, {"status": "Accepted"}, after=notify_customer),
    "TC_N_28_CSMS": Case(("N09.FR.01", "N09.FR.04"), op("CustomerInformation", CUSTOMER), "CustomerInformation",
                         lambda p: p["report"] is True and p["idToken"] == TOKEN, {"status": "Accepted"},
                         after=lambda r: [("NotifyCustomerInformation", {"data": "", "seqNo": 0, "generatedAt": now(), "requestId": r["requestId"]}, {})]),
    "TC_N_29_CSMS": Case(("N09.FR.01", "N09.FR.04"), op("CustomerInformation", CUSTOMER), "CustomerInformation",
                         lambda p: p["report"] is True and p["idToken"] == TOKEN, {"status": "Rejected"}),
    "TC_N_30_CSMS": Case(("N10.FR.08",), op("CustomerInformation", {**CUSTOMER, "clear": True}), "CustomerInformation",
                         lambda p: p["report"] is True and p["clear"] is True, {"status": "Accepted"}, after=notify_customer),
    "TC_N_31_CSMS": Case(("N10.FR.08",), op("CustomerInformation", {**CUSTOMER, "clear": True}), "CustomerInformation",
                         lambda p: p["report"] is True and p["clear"] is True, {"status": "Accepted"}, after=notify_customer),
    "TC_N_32_CSMS": Case(("N10.FR.08",), op("CustomerInformation", {**CUSTOMER, "report": False, "clear": True}), "CustomerInformation",
                         lambda p: p["report"] is False and p["clear"] is True and p["idToken"] == TOKEN, {"status": "Accepted"}, after=notify_customer),
    "TC_N_62_CSMS": Case(("N10.FR.08",), op("CustomerInformation", {"requestId": 32, "report": True, "clear": True, "customerIdentifier": "OpenChargeAlliance"}),
                         "CustomerInformation", lambda p: p["report"] is True and p["clear"] is True and p["customerIdentifier"] == "OpenChargeAlliance",
                         {"status": "Accepted"}, after=notify_customer),
    "TC_M_18_CSMS": Case(("M03.FR.01",), op("GetInstalledCertificateIds", {}), "GetInstalledCertificateIds", lambda p: "certificateType" not in p,
                         {"status": "Accepted", "certificateHashDataChain": [{"certificateType": "CSMSRootCertificate", "certificateHashData": {
                             "hashAlgorithm": "SHA256", "issuerNameHash": "a" * 64, "issuerKeyHash": "b" * 64, "serialNumber": "01"}}]}),
    "TC_M_19_CSMS": Case(("M03.FR.01", "M03.FR.02"), op("GetInstalledCertificateIds", {"certificateType": ["ManufacturerRootCertificate"]}),
                         "GetInstalledCertificateIds", lambda p: p["certificateType"] == ["ManufacturerRootCertificate"], {"status": "NotFound"}),
    "TC_M_05_CSMS": Case(("M05.FR.01", "M05.FR.03"), op("InstallCertificate", {"certificateType": "CSMSRootCertificate", "certificate": "-----BEGIN CERTIFICATE-----"}),
                         "InstallCertificate", lambda p: p["certificateType"] == "CSMSRootCertificate", {"status": "Failed"}),
    "TC_L_07_CSMS": Case(("L01.FR.01", "L01.FR.11"), op("UpdateFirmware", {"requestId": 41, "firmware": {"location": "https://octt.example/fw.bin", "retrieveDateTime": now()}}),
                         "UpdateFirmware", lambda p: p["firmware"]["location"] == "https://octt.example/fw.bin", {"status": "Accepted"},  # type: ignore[index]
                         after=lambda r: [("FirmwareStatusNotification", {"status": s, "requestId": r["requestId"]}, {}) for s in ("Downloading", "DownloadFailed")]),
}


def _cases() -> list[object]:
    return [pytest.param(version, tc_id, marks=pytest.mark.tc(tc_id, *case.reqs), id=f"{tc_id}-{version}")
            for tc_id, case in CASES.items() for version in ("2.0.1", "2.1")]


@pytest.mark.parametrize(("version", "tc_id"), _cases())
def test_csms_operator_actions(version: str, tc_id: str, tmp_path: Path) -> None:
    case = CASES[tc_id]
    server = example_csms.build_server(str(tmp_path / "csms.sqlite"))
    role, m, d, e = (csms201, m201, d201, e201) if version == "2.0.1" else (csms21, m21, d21, e21)

    async def script() -> None:
        async with server.serve("127.0.0.1", 0) as ws_server:
            url = f"ws://127.0.0.1:{next(iter(ws_server.sockets)).getsockname()[1]}/ocpp/CS-1"
            async with contextlib.AsyncExitStack() as stack:
                link = await stack.enter_async_context(octt_station(url, version))
                await booted(link)

                async def play(steps: list[Step], link: Link) -> Link:
                    for action, payload, expected in steps:
                        if action.startswith("<reconnect"):
                            await link.close()
                            link = await stack.enter_async_context(octt_station(url, version))
                            if action == "<reconnect>":
                                await booted(link)
                            continue
                        answer = await link.call(action, payload)
                        assert answer.error is None, (action, answer)
                        for key, value in expected.items():
                            assert answer.payload.get(key) == value, (action, answer.payload)
                    return link

                link = await play(case.before, link)
                client = server.registry.client("CS-1", role.BINDING)  # the operator's action
                pending = asyncio.ensure_future(case.operate(client, m, d, e))
                request = await link.expect(case.action)
                assert case.check(request.payload), request.payload  # the document's step-1 validation
                answer = case.answer
                if case.action in ("GetVariables", "SetVariables"):
                    key = "getVariableResult" if case.action == "GetVariables" else "setVariableResult"
                    answer = results(key, request.payload, "Accepted", **({"attributeValue": "300"} if key == "getVariableResult" else {}))
                await link.reply(request, answer)
                result = await pending
                if case.result == "answer" and "status" in answer:
                    assert result.status.value == answer["status"]
                link = await play(case.after(request.payload), link)
                assert link.violations == []

    run(script())
