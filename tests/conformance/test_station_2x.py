"""2.0.1 Part 6 chapter 2 (Test Cases Charging Station) against the example station, the tester
playing the CSMS over a real socket; the same scripts on 2.1 where its use case is unchanged.

Each test is marked with its TC id and the requirements the test case lists; a test case the
example does not pass is a strict xfail whose reason is the table's "fails" entry."""

from __future__ import annotations

import asyncio
import base64
import datetime
from typing import Any

import pytest

from ocppgen.generated.runtime.config import BackOff, StationOptions
from ocppgen.generated.v201 import devicemodel as dm201
from ocppgen.generated.v21 import devicemodel as dm21
from tests.conformance.harness import TestCsms, now
from tests.conformance.sut import FAST, Station, accept_all, booted_station, example_station_at, idle
from tests.helpers import run

V2X = pytest.mark.parametrize("version", ["2.0.1", "2.1"])
tc = pytest.mark.tc


def ocpp_comm(variable: str, **extra: object) -> dict[str, object]:
    return {"component": {"name": "OCPPCommCtrlr"}, "variable": {"name": variable}, **extra}


@V2X
@tc("TC_B_01_CS", "B01.FR.01", "B01.FR.05", "B01.FR.09")
def test_tc_b_01_cs(version: str) -> None:
    async def script() -> None:
        csms = TestCsms(version)
        async with example_station_at(version, csms):
            link = await csms.accepted()
            boot = await link.expect("BootNotification")  # step 3
            assert boot.payload["reason"] == "PowerUp"
            await link.reply(boot, {"status": "Accepted", "currentTime": now(), "interval": 300})
            status = await link.expect("StatusNotification")  # step 5: every connector
            assert status.payload["connectorStatus"] == "Available"
            assert status.payload["evseId"] != 0 and status.payload["connectorId"] != 0
            await link.reply(status, {})
            event = await link.expect("SecurityEventNotification")  # step 7
            assert event.payload["type"] in ("StartupOfTheDevice", "ResetOrReboot")
            await link.reply(event, {})
            assert link.violations == []

    run(script())


@V2X
@tc("TC_B_03_CS", "B03.FR.02", "B03.FR.04", "B03.FR.06")
def test_tc_b_03_cs(version: str) -> None:
    async def script() -> None:
        csms = TestCsms(version)
        async with example_station_at(version, csms):
            link = await csms.accepted()
            loop = asyncio.get_running_loop()
            boot = await link.expect("BootNotification")  # step 1
            await link.reply(boot, {"status": "Rejected", "currentTime": now(), "interval": 1})  # step 2
            rejected_at = loop.time()
            again = await link.expect("BootNotification")  # step 3: not before the interval, nothing in between
            assert loop.time() - rejected_at >= 1 - 0.05
            assert [c.action for c in link.received] == ["BootNotification", "BootNotification"]
            await link.reply(again, {"status": "Accepted", "currentTime": now(), "interval": 300})  # step 4
            status = await link.expect("StatusNotification")  # step 5
            assert status.payload["connectorStatus"] == "Available"
            await link.reply(status, {})
            assert link.violations == []

    run(script())


@V2X
@tc("TC_B_30_CS", "B03.FR.08")
def test_tc_b_30_cs(version: str) -> None:
    async def script() -> None:
        csms = TestCsms(version)
        async with example_station_at(version, csms):
            link = await csms.accepted()
            boot = await link.expect("BootNotification")  # step 1
            await link.reply(boot, {"status": "Rejected", "currentTime": now(), "interval": 5})  # step 2
            answer = await link.call("GetBaseReport", {"requestId": 1, "reportBase": "FullInventory"})  # step 3
            assert answer.error == "SecurityError"  # step 4
            assert link.violations == []

    run(script())


@V2X
@tc("TC_B_02_CS", "B02.FR.01", "B02.FR.02", "B02.FR.04", "B02.FR.05", "B02.FR.06", "B02.FR.08", "F06.FR.17")
def test_tc_b_02_cs(version: str) -> None:
    """While Pending the CSMS reads and sets variables and takes a base report (steps 3-10);
    a remote start is Rejected, a triggered BootNotification follows at once (reason
    Triggered), and once Accepted the connectors are reported (steps 11-17)."""

    async def script() -> None:
        csms = TestCsms(version)
        async with example_station_at(version, csms):
            link = await csms.accepted()
            boot = await link.expect("BootNotification")  # step 1
            await link.reply(boot, {"status": "Pending", "currentTime": now(), "interval": 300})  # step 2
            answer = await link.call("SetVariables", {"setVariableData": [ocpp_comm("OfflineThreshold", attributeValue="300")]})
            assert answer.payload["setVariableResult"][0]["attributeStatus"] == "Accepted"  # step 4
            answer = await link.call("GetVariables", {"getVariableData": [ocpp_comm("OfflineThreshold")]})
            assert answer.payload["getVariableResult"][0]["attributeStatus"] == "Accepted"  # step 6
            answer = await link.call("GetBaseReport", {"requestId": 11, "reportBase": "FullInventory"})
            assert answer.payload["status"] == "Accepted"  # step 8
            while True:  # steps 9-10, as often as needed
                report = await link.expect("NotifyReport", timeout=1)
                await link.reply(report, {})
                if not report.payload.get("tbc", False):
                    break
            token = {"idToken": "OCTT-1", "type": "ISO14443"}  # step 11: after every NotifyReport
            answer = await link.call("RequestStartTransaction", {"idToken": token, "remoteStartId": 1, "evseId": 1})
            assert answer.payload["status"] == "Rejected"  # step 12
            answer = await link.call("TriggerMessage", {"requestedMessage": "BootNotification"})
            assert answer.payload["status"] in ("Accepted", "NotImplemented")  # step 14
            triggered = await link.expect("BootNotification", timeout=2)  # step 15, before the interval
            assert triggered.payload["reason"] == "Triggered"
            await link.reply(triggered, {"status": "Accepted", "currentTime": now(), "interval": 300})  # step 16
            status = await link.expect("StatusNotification")  # step 17
            assert status.payload["connectorStatus"] == "Available"
            await link.reply(status, {})
            actions = [c.action for c in link.received]
            assert actions[0] == "BootNotification" and set(actions[1:-2]) == {"NotifyReport"}
            assert actions[-2:] == ["BootNotification", "StatusNotification"]
            assert link.violations == []

    run(script())


def ctrlr(component: str, variable: str, instance: str | None = None, **extra: object) -> dict[str, object]:
    """A component-variable item; the document's "OCPPCommCtrl"/"AuthCtrl" are the spec's
    OCPPCommCtrlr/AuthCtrlr (Part 2 appendix names)."""
    var: dict[str, object] = {"name": variable}
    if instance:
        var["instance"] = instance
    return {"component": {"name": component}, "variable": var, **extra}


def no_error(result: dict[str, Any]) -> bool:
    info = result.get("attributeStatusInfo") or result.get("statusInfo")
    return info is None or info.get("reasonCode") == "NoError"


async def set_offline_threshold(cs: Station, value: str) -> None:
    """Configuration State "OCPPCommCtrlr.OfflineThreshold is <value>" (the example declares 60)."""
    answer = await cs.link.call("SetVariables", {"setVariableData": [ocpp_comm("OfflineThreshold", attributeValue=value)]})
    assert answer.payload["setVariableResult"][0]["attributeStatus"] == "Accepted"


@V2X
@tc("TC_B_06_CS", "B06.FR.01", "B06.FR.02", "B06.FR.03", "B06.FR.04", "B06.FR.10", "B06.FR.11")
def test_tc_b_06_cs(version: str) -> None:
    async def script() -> None:
        async with booted_station(version) as cs:
            await set_offline_threshold(cs, "300")  # configuration state
            answer = await cs.link.call("GetVariables", {"getVariableData": [ocpp_comm("OfflineThreshold", attributeType="Actual")]})  # step 1
            result = answer.payload["getVariableResult"][0]  # step 2
            assert (result["attributeStatus"], result.get("attributeType"), result.get("attributeValue")) == ("Accepted", "Actual", "300")
            assert result["component"]["name"] == "OCPPCommCtrlr" and result["variable"]["name"] == "OfflineThreshold"
            assert cs.link.violations == []

    run(script())


@V2X
@tc("TC_B_07_CS", "B06.FR.01", "B06.FR.02", "B06.FR.03", "B06.FR.04", "B06.FR.10")
def test_tc_b_07_cs(version: str) -> None:
    async def script() -> None:
        async with booted_station(version) as cs:
            await set_offline_threshold(cs, "300")  # configuration state (LocalAuthorizeOffline is true)
            answer = await cs.link.call("GetVariables", {"getVariableData": [  # step 1
                ocpp_comm("OfflineThreshold", attributeType="Actual"), ctrlr("AuthCtrlr", "LocalAuthorizeOffline", attributeType="Actual")]})
            found = {(r["component"]["name"], r["variable"]["name"]): r for r in answer.payload["getVariableResult"]}  # step 2, any order
            for key, value in ((("OCPPCommCtrlr", "OfflineThreshold"), "300"), (("AuthCtrlr", "LocalAuthorizeOffline"), "true")):
                result = found[key]
                assert (result["attributeStatus"], result.get("attributeType"), result.get("attributeValue")) == ("Accepted", "Actual", value)
                assert no_error(result)
            assert len(found) == 2 and cs.link.violations == []

    run(script())


@V2X
@pytest.mark.parametrize(("item", "status", "attribute_type"), [
    pytest.param({"component": {"name": "UnknownComponent"}, "variable": {"name": "OfflineThreshold"}}, "UnknownComponent", None,
                 marks=tc("TC_B_32_CS", "B06.FR.06"), id="TC_B_32"),
    pytest.param(ocpp_comm("UnknownVariable"), "UnknownVariable", None, marks=tc("TC_B_33_CS", "B06.FR.07"), id="TC_B_33"),
    pytest.param(ocpp_comm("OfflineThreshold", attributeType="Target"), "NotSupportedAttributeType", "Target",
                 marks=tc("TC_B_34_CS", "B06.FR.08"), id="TC_B_34"),
])
def test_tc_b_32_to_34_cs(version: str, item: dict[str, Any], status: str, attribute_type: str | None) -> None:
    """Get Variables of an unknown component (B_32), an unknown variable (B_33), an attribute
    type the variable does not have (B_34): step 1 the request, step 2 its checks."""

    async def script() -> None:
        async with booted_station(version) as cs:
            answer = await cs.link.call("GetVariables", {"getVariableData": [item]})  # step 1
            result = answer.payload["getVariableResult"][0]  # step 2
            assert result["attributeStatus"] == status
            assert result["component"]["name"] == item["component"]["name"]
            assert result["variable"]["name"] == item["variable"]["name"]
            if attribute_type:
                assert result.get("attributeType") == attribute_type
            assert cs.link.violations == []

    run(script())


@V2X
@tc("TC_B_09_CS", "B05.FR.01", "B05.FR.02", "B05.FR.03", "B05.FR.10", "B05.FR.12")
def test_tc_b_09_cs(version: str) -> None:
    async def script() -> None:
        async with booted_station(version) as cs:
            answer = await cs.link.call("SetVariables", {"setVariableData": [ocpp_comm("OfflineThreshold", attributeValue="300", attributeType="Actual")]})
            result = answer.payload["setVariableResult"][0]
            assert result["attributeStatus"] == "Accepted"
            assert result["component"]["name"] == "OCPPCommCtrlr" and result["variable"]["name"] == "OfflineThreshold"
            assert result.get("attributeType") == "Actual"
            assert cs.link.violations == []

    run(script())


@V2X
@tc("TC_B_10_CS", "B05.FR.01", "B05.FR.02", "B05.FR.03", "B05.FR.10", "B05.FR.12")
def test_tc_b_10_cs(version: str) -> None:
    async def script() -> None:
        async with booted_station(version) as cs:
            answer = await cs.link.call("SetVariables", {"setVariableData": [  # step 1
                ocpp_comm("OfflineThreshold", attributeValue="300", attributeType="Actual"),
                ctrlr("AuthCtrlr", "LocalAuthorizeOffline", attributeValue="true", attributeType="Actual")]})
            found = {(r["component"]["name"], r["variable"]["name"]): r for r in answer.payload["setVariableResult"]}  # step 2
            assert set(found) == {("OCPPCommCtrlr", "OfflineThreshold"), ("AuthCtrlr", "LocalAuthorizeOffline")}
            for result in found.values():
                assert (result["attributeStatus"], result.get("attributeType")) == ("Accepted", "Actual")
                assert no_error(result)
            assert cs.link.violations == []

    run(script())


@V2X
@pytest.mark.parametrize(("item", "status", "attribute_type"), [
    pytest.param({"component": {"name": "UnknownComponent"}, "variable": {"name": "OfflineThreshold"}, "attributeValue": "300"},
                 "UnknownComponent", None, marks=tc("TC_B_35_CS", "B05.FR.04"), id="TC_B_35"),
    pytest.param(ocpp_comm("UnknownVariable", attributeValue="300"), "UnknownVariable", None,
                 marks=tc("TC_B_36_CS", "B05.FR.05"), id="TC_B_36"),
    pytest.param(ocpp_comm("OfflineThreshold", attributeValue="300", attributeType="Target"), "NotSupportedAttributeType", "Target",
                 marks=tc("TC_B_37_CS", "B05.FR.06"), id="TC_B_37"),
    pytest.param(ctrlr("OCPPCommCtrlr", "MessageTimeout", "Default", attributeValue="30"), "Rejected", None,
                 marks=tc("TC_B_39_CS", "B05.FR.09"), id="TC_B_39"),
])
def test_tc_b_35_to_39_cs(version: str, item: dict[str, Any], status: str, attribute_type: str | None) -> None:
    """Set Variables of an unknown component (B_35), an unknown variable (B_36), an attribute
    type the variable does not have (B_37), a ReadOnly variable (B_39: MessageTimeout, instance
    Default). The document leaves attributeValue out of B_35-B_37; the schema requires one."""

    async def script() -> None:
        async with booted_station(version) as cs:
            answer = await cs.link.call("SetVariables", {"setVariableData": [item]})  # step 1
            result = answer.payload["setVariableResult"][0]  # step 2
            assert result["attributeStatus"] == status, result
            assert result["component"]["name"] == item["component"]["name"]
            assert result["variable"]["name"] == item["variable"]["name"]
            if attribute_type:
                assert result.get("attributeType") == attribute_type
            assert cs.link.violations == []

    run(script())


@V2X
@tc("TC_B_11_CS", "B05.FR.07")
def test_tc_b_11_cs(version: str) -> None:
    """Steps 1-8 for each value: OfflineThreshold (integer) takes only the configured value;
    AuthorizeRemoteStart (boolean, ReadWrite) only "true". SmartChargingCtrlr.LimitChangeSignificance
    and ClockCtrlr.NextTimeOffsetTransitionDateTime (steps 3-4, 7-8: only if supported) are not
    variables of the example station; they answer UnknownComponent."""

    async def script() -> None:
        async with booted_station(version) as cs:
            offline = "60"  # <configured offlineThreshold>
            for value in (offline, f"{offline}.1", "true", now(), "abc"):
                for item, accepted in (
                    (ocpp_comm("OfflineThreshold", attributeValue=value), value == offline),  # step 1
                    (ctrlr("AuthCtrlr", "AuthorizeRemoteStart", attributeValue=value), value == "true"),  # step 5
                ):
                    answer = await cs.link.call("SetVariables", {"setVariableData": [item]})
                    result = answer.payload["setVariableResult"][0]  # steps 2, 6
                    assert result.get("attributeType") == "Actual"
                    if accepted:
                        assert result["attributeStatus"] == "Accepted", (value, result)
                    else:
                        assert result["attributeStatus"] == "Rejected", (value, result)
                        info = result.get("attributeStatusInfo")
                        assert info is None or info["reasonCode"] == "InvalidValue"
                for component, variable in (("SmartChargingCtrlr", "LimitChangeSignificance"), ("ClockCtrlr", "NextTimeOffsetTransitionDateTime")):
                    answer = await cs.link.call("SetVariables", {"setVariableData": [ctrlr(component, variable, attributeValue=value)]})
                    assert answer.payload["setVariableResult"][0]["attributeStatus"] == "UnknownComponent"
            assert cs.link.violations == []

    run(script())


async def base_report(cs: Station, report_base: str, request_id: int) -> list[dict[str, Any]]:
    """Steps 1-4 of a Get Base Report test case: Accepted, then NotifyReports with the requestId,
    seqNo from 0 up by one while tbc; returns every reportData item."""
    answer = await cs.link.call("GetBaseReport", {"requestId": request_id, "reportBase": report_base})  # step 1
    assert answer.payload["status"] == "Accepted" and no_error(answer.payload)  # step 2
    items: list[dict[str, Any]] = []
    seq = 0
    while True:
        report = await cs.link.expect("NotifyReport")  # step 3
        assert report.payload["requestId"] == request_id and report.payload["seqNo"] == seq
        generated = datetime.datetime.fromisoformat(report.payload["generatedAt"].replace("Z", "+00:00"))
        assert abs((generated - datetime.datetime.now(datetime.timezone.utc)).total_seconds()) <= 4  # the labs' deviation
        await cs.link.reply(report, {})  # step 4
        items += report.payload.get("reportData", [])
        if not report.payload.get("tbc", False):
            return items
        seq += 1


LISTS = ("OptionList", "SequenceList", "MemberList")

# Part 2 appendix "Charging Infrastructure Related": the required variables of the components
# every station has (2.0.1 Part 2 appendix 3.2): ChargingStation, EVSE, Connector.
INFRASTRUCTURE = {
    ("ChargingStation", "AvailabilityState"), ("ChargingStation", "Available"), ("ChargingStation", "SupplyPhases"),
    ("EVSE", "AvailabilityState"), ("EVSE", "Available"), ("EVSE", "Power"), ("EVSE", "SupplyPhases"),
    ("Connector", "AvailabilityState"), ("Connector", "Available"), ("Connector", "ConnectorType"), ("Connector", "SupplyPhases"),
}


def required_variables(version: str, *, writeable: bool = False) -> set[tuple[str, str]]:
    """The (component, variable) names the Part 2 appendix marks required (its "required if"
    ones, V2X, left out), from the generated standard constants; ``writeable``: only those the
    appendix makes ReadWrite without a ReadOnly alternative."""
    module = dm201 if version == "2.0.1" else dm21
    found = set()
    for group in vars(module).values():
        if isinstance(group, type):
            for constant in vars(group).values():
                if getattr(constant, "required", False) and not getattr(constant, "required_if", None) and getattr(constant, "component", None):
                    mutability = {str(getattr(m, "value", m)) for m in constant.mutability or ()}
                    if not writeable or mutability == {"ReadWrite"}:
                        found.add((constant.component, constant.variable))
    return found


def check_items(items: list[dict[str, Any]]) -> set[tuple[str, str]]:
    """The checks common to every reported variable; returns the (component, variable) names."""
    for item in items:
        characteristics = item["variableCharacteristics"]  # present for every variable
        if characteristics["dataType"] in LISTS:
            allowed = characteristics.get("valuesList", "").split(",")
            assert allowed != [""], item
            for attribute in item["variableAttribute"]:
                if "value" in attribute:
                    values = attribute["value"].split(",") if characteristics["dataType"] != "OptionList" else [attribute["value"]]
                    assert all(v in allowed for v in values if v), item
        for attribute in item["variableAttribute"]:
            if attribute.get("mutability") == "WriteOnly":
                assert "value" not in attribute, item
    return {(i["component"]["name"], i["variable"]["name"]) for i in items}


@V2X
@tc("TC_B_12_CS", "B07.FR.01", "B07.FR.03", "B07.FR.04", "B07.FR.07", "B07.FR.10", "B07.FR.12")
def test_tc_b_12_cs(version: str) -> None:
    async def script() -> None:
        async with booted_station(version) as cs:
            items = await base_report(cs, "ConfigurationInventory", 12)
            names = check_items(items)
            for item in items:  # post scenario: every variable writeable
                assert all(a.get("mutability", "ReadWrite") in ("ReadWrite", "WriteOnly") for a in item["variableAttribute"]), item
            reported_components = {c for c, _ in names}  # the functional blocks the example implements
            writeable = {(c, v) for c, v in required_variables(version, writeable=True) if c in reported_components}
            missing = writeable - names
            assert not missing, sorted(missing)
            assert cs.link.violations == []

    run(script())


@V2X
@tc("TC_B_13_CS", "B07.FR.01", "B07.FR.03", "B07.FR.04", "B07.FR.08", "B07.FR.10", "B07.FR.12")
@tc("TC_B_53_CS", "Referenced Components and Variables")
def test_tc_b_13_and_53_cs(version: str) -> None:
    """FullInventory: the report's checks (B_13 and B_53 are the same exchange), every variable
    with its characteristics, list values within their valuesList, no WriteOnly value; post
    scenario: the Charging Infrastructure variables and the required variables of the functional
    blocks the example implements are reported."""

    async def script() -> None:
        async with booted_station(version) as cs:
            names = check_items(await base_report(cs, "FullInventory", 13))
            reported_components = {c for c, _ in names}  # the functional blocks the example implements
            required = INFRASTRUCTURE | {(c, v) for c, v in required_variables(version) if c in reported_components}
            missing = required - names
            assert not missing, sorted(missing)
            assert cs.link.violations == []

    run(script())


@V2X
@tc("TC_B_57_CS", "Part 4 5.3")
def test_tc_b_57_cs(version: str) -> None:
    wait_minimum = 0.3
    options = StationOptions(backoff=BackOff(wait_minimum=wait_minimum, random_range=0, repeat_times=2), ping_interval=0)

    async def script() -> None:
        async with booted_station(version, options=options) as cs:
            loop = asyncio.get_running_loop()
            await cs.link.close()  # step 1
            closed = loop.time()
            cs.link = await cs.csms.accepted(timeout=3)  # steps 2-3
            assert cs.csms.attempts[-1][0] - closed >= wait_minimum - 0.05
            cs.csms.refuse = 1
            await cs.link.close()  # step 4
            await cs.csms.accepted(timeout=5)  # steps 5-8: one attempt refused, the next accepted
            first, second = cs.csms.attempts[-2][0], cs.csms.attempts[-1][0]
            assert second - first >= 2 * wait_minimum - 0.05  # step 7: the doubled wait

    run(script())


@V2X
@tc("TC_F_20_CS", "F06.FR.04", "F06.FR.05", "F06.FR.10")
def test_tc_f_20_cs(version: str) -> None:
    async def script() -> None:
        async with booted_station(version) as cs:
            answer = await cs.link.call("TriggerMessage", {"requestedMessage": "Heartbeat"})  # step 1
            assert answer.payload["status"] == "Accepted"  # step 2
            heartbeat = await cs.link.expect("Heartbeat")  # step 3
            await cs.link.reply(heartbeat, {"currentTime": now()})
            assert cs.link.violations == []

    run(script())


@V2X
@tc("TC_F_23_CS", "F06.FR.02", "F06.FR.04", "F06.FR.05", "F06.FR.10")
def test_tc_f_23_cs(version: str) -> None:
    async def script() -> None:
        async with booted_station(version) as cs:
            answer = await cs.link.call("TriggerMessage", {"requestedMessage": "StatusNotification", "evse": {"id": 1, "connectorId": 1}})
            assert answer.payload["status"] == "Accepted"
            status = await cs.link.expect("StatusNotification")
            assert (status.payload["evseId"], status.payload["connectorId"], status.payload["connectorStatus"]) == (1, 1, "Available")
            await cs.link.reply(status, {})
            assert cs.link.violations == []

    run(script())


@V2X
@tc("TC_F_11_CS", "F06.FR.02", "F06.FR.04", "F06.FR.05", "F06.FR.06", "F06.FR.10")
def test_tc_f_11_cs(version: str) -> None:
    async def script() -> None:
        async with booted_station(version) as cs:
            answer = await cs.link.call("TriggerMessage", {"requestedMessage": "MeterValues", "evse": {"id": 1}})
            assert answer.payload["status"] == "Accepted"
            values = await cs.link.expect("MeterValues")
            assert values.payload["evseId"] == 1
            assert values.payload["meterValue"][0]["sampledValue"][0]["context"] == "Trigger"
            await cs.link.reply(values, {})
            assert cs.link.violations == []

    run(script())


@V2X
@tc("TC_F_12_CS", "F06.FR.04", "F06.FR.05", "F06.FR.06", "F06.FR.10", "F06.FR.11")
def test_tc_f_12_cs(version: str) -> None:
    async def script() -> None:
        async with booted_station(version) as cs:
            answer = await cs.link.call("TriggerMessage", {"requestedMessage": "MeterValues"})  # evse omitted
            assert answer.payload["status"] == "Accepted"
            values = await cs.link.expect("MeterValues")  # for every EVSE: the example station has one
            assert values.payload["evseId"] == 1
            assert values.payload["meterValue"][0]["sampledValue"][0]["context"] == "Trigger"
            await cs.link.reply(values, {})
            await cs.link.nothing(0.2)
            assert cs.link.violations == []

    run(script())


@V2X
@tc("TC_F_13_CS", "F06.FR.02", "F06.FR.04", "F06.FR.05", "F06.FR.07", "F06.FR.10")
@tc("TC_F_14_CS", "F06.FR.04", "F06.FR.05", "F06.FR.07", "F06.FR.10", "F06.FR.11")
def test_tc_f_13_and_f_14_cs(version: str) -> None:
    """TriggerMessage(TransactionEvent) during a transaction, for the EVSE (F_13) and with the
    EVSE omitted (F_14): a TransactionEvent with triggerReason Trigger, chargingState Charging and
    a reading in context Trigger follows, for the one EVSE of the example station."""

    async def script() -> None:
        async with booted_station(version, meter_values=400, interval=0.02, wait_idle=False) as cs:
            started = await cs.link.expect("TransactionEvent", allow=accept_all(version))
            await cs.link.reply(started, {"idTokenInfo": {"status": "Accepted"}})
            for request in ({"requestedMessage": "TransactionEvent", "evse": {"id": 1}}, {"requestedMessage": "TransactionEvent"}):
                answer = await cs.link.call("TriggerMessage", request)
                assert answer.payload["status"] == "Accepted"
                while True:  # the periodic meter values go on alongside
                    event = await cs.link.expect("TransactionEvent")
                    await cs.link.reply(event, {})
                    if event.payload["triggerReason"] == "Trigger":
                        break
                assert event.payload.get("evse", {"id": 1})["id"] == 1
                assert event.payload["transactionInfo"]["chargingState"] == "Charging"
                assert event.payload["meterValue"][0]["sampledValue"][0]["context"] == "Trigger"
            assert cs.link.violations == []

    run(script())


@V2X
@tc("TC_F_15_CS", "F06.FR.04", "F06.FR.05", "F06.FR.10", "F06.FR.15")
def test_tc_f_15_cs(version: str) -> None:
    async def script() -> None:
        async with booted_station(version) as cs:
            answer = await cs.link.call("TriggerMessage", {"requestedMessage": "LogStatusNotification"})
            assert answer.payload["status"] == "Accepted"
            log = await cs.link.expect("LogStatusNotification")
            assert log.payload["status"] == "Idle"
            await cs.link.reply(log, {})
            assert cs.link.violations == []

    run(script())


@V2X
@tc("TC_F_18_CS", "F06.FR.04", "F06.FR.05", "F06.FR.10", "F06.FR.16", "L01.FR.25")
def test_tc_f_18_cs(version: str) -> None:
    async def script() -> None:
        async with booted_station(version) as cs:
            answer = await cs.link.call("TriggerMessage", {"requestedMessage": "FirmwareStatusNotification"})
            assert answer.payload["status"] == "Accepted"
            firmware = await cs.link.expect("FirmwareStatusNotification")
            assert firmware.payload["status"] == "Idle"
            await cs.link.reply(firmware, {})
            assert cs.link.violations == []

    run(script())


@V2X
@tc("TC_F_26_CS", "F06.FR.04", "F06.FR.05", "F06.FR.17")
def test_tc_f_26_cs(version: str) -> None:
    async def script() -> None:
        async with booted_station(version) as cs:
            answer = await cs.link.call("TriggerMessage", {"requestedMessage": "BootNotification"})
            assert answer.payload["status"] == "Rejected"
            await cs.link.nothing(0.3)

    run(script())


@V2X
@tc("TC_F_27_CS", "F06.FR.08")
def test_tc_f_27_cs(version: str) -> None:
    async def script() -> None:
        async with booted_station(version) as cs:
            answer = await cs.link.call("TriggerMessage", {"requestedMessage": "SignCombinedCertificate"})
            assert answer.payload["status"] == "NotImplemented"

    run(script())


@V2X
@tc("TC_F_09_CS", "F03.FR.08")
def test_tc_f_09_cs(version: str) -> None:
    async def script() -> None:
        async with booted_station(version) as cs:
            answer = await cs.link.call("RequestStopTransaction", {"transactionId": "not-a-transaction-of-this-station"})
            assert answer.payload["status"] == "Rejected"

    run(script())


@V2X
@tc("TC_F_02_CS", "F01.FR.01", "F02.FR.01", "F02.FR.02")
@tc("TC_F_03_CS", "F02.FR.01", "F01.FR.02")
@pytest.mark.xfail(strict=True, reason="Authorized (remote) step 5: the example station sends no StatusNotification "
                   "Occupied, nor the chargingState changes of EnergyTransferStarted: it has no connector/EV model")
def test_tc_f_03_cs(version: str) -> None:
    async def script() -> None:
        async with booted_station(version) as cs:
            token = {"idToken": "OCTT-1", "type": "ISO14443"}
            answer = await cs.link.call("RequestStartTransaction", {"idToken": token, "remoteStartId": 5, "evseId": 1})
            assert answer.payload["status"] == "Accepted"  # Authorized B step 2
            status = await cs.link.expect("StatusNotification", timeout=1)  # step 5
            assert status.payload["connectorStatus"] == "Occupied"

    run(script())


@V2X
def test_remote_start_message_flow(version: str) -> None:
    """The message flow TC_F_02/F_03 check after RequestStartTransaction (general tool rules of
    Part 6 section 2.1): the first TransactionEvent after the request has triggerReason
    RemoteStart and the remoteStartId, eventType Started and the idToken; with
    AuthorizeRemoteStart true an Authorize comes first (F_02), with false none (F_03)."""

    async def script() -> None:
        async with booted_station(version) as cs:
            for authorize in (False, True):
                value = "true" if authorize else "false"
                answer = await cs.link.call("SetVariables", {"setVariableData": [
                    {"component": {"name": "AuthCtrlr"}, "variable": {"name": "AuthorizeRemoteStart"}, "attributeValue": value}]})
                assert answer.payload["setVariableResult"][0]["attributeStatus"] == "Accepted"
                token = {"idToken": f"OCTT-{value}", "type": "ISO14443"}
                answer = await cs.link.call("RequestStartTransaction", {"idToken": token, "remoteStartId": 5, "evseId": 1})
                assert answer.payload["status"] == "Accepted"
                if authorize:
                    auth = await cs.link.expect("Authorize")
                    assert auth.payload["idToken"] == token
                    await cs.link.reply(auth, {"idTokenInfo": {"status": "Accepted"}})
                started = await cs.link.expect("TransactionEvent")
                assert started.payload["eventType"] == "Started"
                assert started.payload["triggerReason"] == "RemoteStart"
                assert started.payload["transactionInfo"]["remoteStartId"] == 5
                assert started.payload["idToken"] == token
                assert started.payload["seqNo"] == 0
                await cs.link.reply(started, {"idTokenInfo": {"status": "Accepted"}})
                await idle(cs.link, version)
            assert cs.link.violations == []

    run(script())


@V2X
@tc("TC_F_08_CS", "F03.FR.02", "F03.FR.03", "F03.FR.07", "F03.FR.09")
def test_tc_f_08_cs(version: str) -> None:
    """StopAuthorized (remote): RequestStopTransaction for the ongoing transaction (the example's
    own) is Accepted and the transaction ends with triggerReason RemoteStop, seqNo continuing."""

    async def script() -> None:
        async with booted_station(version, meter_values=200, interval=0.02, wait_idle=False) as cs:
            started = await cs.link.expect("TransactionEvent", allow=accept_all(version))  # a transaction is ongoing
            await cs.link.reply(started, {"idTokenInfo": {"status": "Accepted"}})
            transaction = started.payload["transactionInfo"]["transactionId"]
            answer = await cs.link.call("RequestStopTransaction", {"transactionId": transaction})
            assert answer.payload["status"] == "Accepted"
            seq = started.payload["seqNo"]
            while True:
                event = await cs.link.expect("TransactionEvent")
                await cs.link.reply(event, {})
                assert event.payload["seqNo"] == seq + 1 and event.payload["transactionInfo"]["transactionId"] == transaction
                seq += 1
                if event.payload["eventType"] == "Ended":
                    assert event.payload["triggerReason"] == "RemoteStop"
                    break
            assert cs.link.violations == []

    run(script())


@V2X
@tc("TC_P_01_CS", "P01.FR.05", "P01.FR.06")
def test_tc_p_01_cs(version: str) -> None:
    async def script() -> None:
        async with booted_station(version) as cs:
            answer = await cs.link.call("DataTransfer", {"vendorId": "org.openchargealliance.octt", "messageId": "unused"})
            assert answer.payload["status"] in ("UnknownVendorId", "UnknownMessageId", "Rejected")

    run(script())


@V2X
@tc("TC_P_03_CS")
def test_tc_p_03_cs(version: str) -> None:
    custom = {"vendorId": "org.openchargealliance.octt", "note": "custom data"}

    async def script() -> None:
        async with booted_station(version) as cs:
            answer = await cs.link.call("SetVariables", {"customData": custom, "setVariableData": [
                ocpp_comm("OfflineThreshold", attributeValue="200", attributeType="Actual", customData=custom)]})
            assert answer.error is None and answer.payload["setVariableResult"][0]["attributeStatus"] == "Accepted"
            answer = await cs.link.call("GetVariables", {"customData": custom, "getVariableData": [
                ocpp_comm("OfflineThreshold", attributeType="Actual", customData=custom)]})
            result = answer.payload["getVariableResult"][0]
            assert result["attributeStatus"] == "Accepted" and result.get("attributeType", "Actual") == "Actual"
            assert result["attributeValue"] == "200"

    run(script())


async def booted_with_password(csms: TestCsms, version: str) -> Any:
    """Reusable State Booted over Basic auth (security profile 1)."""
    link = await csms.accepted()
    boot = await link.expect("BootNotification")
    await link.reply(boot, accept_all(version)["BootNotification"](boot.payload))
    await link.reply(await link.expect("StatusNotification"), {})
    await link.reply(await link.expect("SecurityEventNotification"), {})
    return link


def basic_auth_password(value: str) -> dict[str, object]:
    return {"setVariableData": [{"component": {"name": "SecurityCtrlr"}, "variable": {"name": "BasicAuthPassword"}, "attributeValue": value}]}


@V2X
@tc("TC_A_09_CS", "A01.FR.01", "A01.FR.11", "A01.FR.12")
def test_tc_a_09_cs(version: str) -> None:
    """The station accepts a new BasicAuthPassword and reconnects with it (steps 1-4; steps 5-8
    apply to RebootRequired only, and the example answers Accepted)."""
    old, new = "OCTT-password-0123456789", "OCTT-new-password-9876543210"

    async def script() -> None:
        passwords = {"CS-1": old}
        csms = TestCsms(version, passwords=passwords)
        options = StationOptions(backoff=FAST, ping_interval=0, basic_auth=("CS-1", old))
        async with example_station_at(version, csms, options=options):
            link = await booted_with_password(csms, version)
            passwords["CS-1"] = new  # from now on the tester accepts only the new password
            answer = await link.call("SetVariables", basic_auth_password(new))  # step 1
            assert answer.payload["setVariableResult"][0]["attributeStatus"] == "Accepted"  # step 2
            await csms.accepted()  # steps 3-4: upgraded only with <id>:<new password>
            header = csms.attempts[-1][2]["Authorization"]
            assert header == "Basic " + base64.b64encode(f"CS-1:{new}".encode()).decode()
            assert link.violations == []

    run(script())


@V2X
@tc("TC_A_10_CS", "A01.FR.01", "A01.FR.11", "A01.FR.12", "A00.FR.205")
def test_tc_a_10_cs(version: str) -> None:
    """A new BasicAuthPassword shorter than 16 characters (A00.FR.205) is Rejected, and the
    station goes on with the old one: when the link is dropped it reconnects with the old
    password (steps 3-4)."""
    old = "OCTT-password-0123456789"

    async def script() -> None:
        csms = TestCsms(version, passwords={"CS-1": old})
        options = StationOptions(backoff=FAST, ping_interval=0, basic_auth=("CS-1", old))
        async with example_station_at(version, csms, options=options):
            link = await booted_with_password(csms, version)
            answer = await link.call("SetVariables", basic_auth_password("short-pass"))  # step 1
            assert answer.payload["setVariableResult"][0]["attributeStatus"] == "Rejected"  # step 2
            await link.close()
            await csms.accepted()  # steps 3-4: the tester accepts only <id>:<old password>
            assert link.violations == []

    run(script())


@V2X
@tc("TC_A_01_CS", "A00.FR.202", "A00.FR.203", "A00.FR.204", "A00.FR.205", "A00.FR.301", "A00.FR.302", "A00.FR.304",
    "B01.FR.01", "B01.FR.05", "B01.FR.09")
def test_tc_a_01_cs(version: str) -> None:
    password = "OCTT-password-0123456789"

    async def script() -> None:
        csms = TestCsms(version, passwords={"CS-1": password})
        options = StationOptions(backoff=FAST, ping_interval=0, basic_auth=("CS-1", password))
        async with example_station_at(version, csms, options=options):
            link = await csms.accepted()
            _, path, headers = csms.attempts[-1]
            assert path.endswith("/CS-1")
            assert headers["Authorization"].startswith("Basic ")
            boot = await link.expect("BootNotification")
            await link.reply(boot, accept_all(version)["BootNotification"](boot.payload))
            status = await link.expect("StatusNotification")
            assert status.payload["connectorStatus"] == "Available"
            await link.reply(status, {})
            event = await link.expect("SecurityEventNotification")  # Booted step 7
            assert event.payload["type"] == "StartupOfTheDevice"
            assert link.violations == []

    run(script())
