"""The station-side device model store against Part 2 B05-B08 (2.0.1 and 2.1), the 1.6
configuration store (sections 5.3, 5.8), persistence, and the CSMS helpers: a report split
across message-size limits and assembled again."""

from __future__ import annotations

import asyncio
import datetime
from pathlib import Path
from types import ModuleType
from typing import Any

import msgspec
import pytest

from ocppgen.generated.runtime.configuration_store import ConfigurationStore, KeySpec, declare_key
from ocppgen.generated.runtime.device_model import DeviceModel, VariableKey, VariableSpec, declare
from ocppgen.generated.runtime.device_model_csms import Limits, ReportAssembler, ReportIncomplete, split
from ocppgen.generated.runtime.routing import CallErrorAnswer
from ocppgen.generated.runtime.values import SqliteValues
from ocppgen.generated.v16 import configuration as cfg16, messages as m16, routing as r16
from ocppgen.generated.v201 import datatypes as d201, devicemodel as dm201, messages as m201, routing as r201
from ocppgen.generated.v21 import datatypes as d21, devicemodel as dm21, messages as m21, routing as r21
from tests.protocol_helpers import context as make_context

V = {"2.0.1": (d201, dm201, m201, r201), "2.1": (d21, dm21, m21, r21)}
VERSIONS = pytest.mark.parametrize("version", ["2.0.1", "2.1"])


def model(version: str, values: Any = None, **kw: Any) -> DeviceModel:
    d, dm, m, r = V[version]
    specs: list[VariableSpec] = [
        declare(dm.OCPPCommCtrlr.HeartbeatInterval, "300", min_limit=0, max_limit=3600),
        declare(dm.OCPPCommCtrlr.OfflineThreshold, "60", reboot_required=True),
        declare(dm.DeviceDataCtrlr.ItemsPerMessage_GetVariables, "4"),
        declare(dm.DeviceDataCtrlr.BytesPerMessage_GetVariables, "600"),
        declare(dm.DeviceDataCtrlr.ItemsPerMessage_GetReport, "2"),
        declare(dm.SecurityCtrlr.BasicAuthPassword, min_limit=16, max_limit=40),  # A00.FR.205
        declare(dm.SecurityCtrlr.OrganizationName, "ACME", max_limit=8),
        declare(dm.TxCtrlr.TxStartPoint, "PowerPathClosed", mutability="ReadWrite", values_list=("EVConnected", "Authorized", "PowerPathClosed")),
        declare(dm.EVSE.AvailabilityState, "Available", evse=1, values_list=("Available", "Faulted")),
        declare(dm.EVSE.Power, "22000", evse=1, attributes=("Actual", "MaxSet"), mutability="ReadOnly"),
        declare(dm.Connector.AvailabilityState, "Available", evse=1, connector=1, values_list=("Available", "Faulted")),
        VariableSpec(component="Heater", variable="Problem", data_type="boolean", mutability="ReadOnly", value="true"),
        VariableSpec(component="Heater", variable="Active", data_type="boolean", mutability="ReadOnly", value="false"),
        VariableSpec(component="SampledDataCtrlr", variable="TxEndedMeasurands", data_type="MemberList",
                     values_list=("Energy.Active.Import.Register", "Voltage"), value="Voltage"),
        VariableSpec(component="ClockCtrlr", variable="DateTime", data_type="dateTime", value="2026-01-01T00:00:00Z"),
        VariableSpec(component="Custom", variable="Ratio", data_type="decimal", min_limit=0, max_limit=1, value="0.5"),
    ]
    return DeviceModel(specs, values=values, **kw)


def gv(version: str, component: str, variable: str, *, instance: str | None = None, evse: int | None = None,
       connector: int | None = None, attribute: str | None = None) -> Any:
    d = V[version][0]
    comp: dict[str, Any] = {"name": component}
    if evse is not None:
        comp["evse"] = d.EVSEType(id=evse, connector_id=connector) if connector is not None else d.EVSEType(id=evse)
    var = d.VariableType(name=variable, instance=instance) if instance else d.VariableType(name=variable)
    kw: dict[str, Any] = {"attribute_type": attribute} if attribute else {}
    return d.GetVariableDataType(component=d.ComponentType(**comp), variable=var, **kw)


def get(version: str, mdl: DeviceModel, *items: Any) -> list[Any]:
    m, r = V[version][2], V[version][3]
    ctx = make_context("m-1", "GetVariables", version)
    return list(mdl.answer_get_variables(r.GET_VARIABLES, m.GetVariablesRequest(get_variable_data=list(items)), ctx).get_variable_result)


def set_(version: str, mdl: DeviceModel, *triples: tuple[Any, str]) -> list[Any]:
    d, _, m, r = V[version]
    data = []
    for item, value in triples:
        kw = {"attribute_type": item.attribute_type} if not isinstance(item.attribute_type, msgspec.UnsetType) else {}
        data.append(d.SetVariableDataType(attribute_value=value, component=item.component, variable=item.variable, **kw))
    ctx = make_context("m-1", "SetVariables", version)
    return list(mdl.answer_set_variables(r.SET_VARIABLES, m.SetVariablesRequest(set_variable_data=data), ctx).set_variable_result)


def statuses(results: list[Any]) -> list[str]:
    return [r.attribute_status.value for r in results]


# -- GetVariables (B06) -------------------------------------------------------------------------


@VERSIONS
def test_b06_fr_01_02_03_11_one_result_per_item_same_component_variable_attribute(version: str) -> None:
    items = [gv(version, "OCPPCommCtrlr", "HeartbeatInterval"), gv(version, "EVSE", "Power", evse=1, attribute="MaxSet")]
    results = get(version, model(version), *items)
    assert len(results) == 2
    assert [(r.component, r.variable) for r in results] == [(i.component, i.variable) for i in items]
    assert [r.attribute_type.value for r in results] == ["Actual", "MaxSet"]  # FR.11: Actual when none asked


@VERSIONS
def test_b06_fr_06_07_08_unknown_component_variable_attribute_without_value(version: str) -> None:
    results = get(version, model(version), gv(version, "NoSuchCtrlr", "X"), gv(version, "OCPPCommCtrlr", "NoSuch"),
                  gv(version, "OCPPCommCtrlr", "HeartbeatInterval", attribute="Target"))
    assert statuses(results) == ["UnknownComponent", "UnknownVariable", "NotSupportedAttributeType"]
    assert all(isinstance(r.attribute_value, msgspec.UnsetType) for r in results)


@VERSIONS
def test_b06_fr_09_write_only_and_secret_rejected(version: str) -> None:
    mdl = model(version)
    mdl.set(VariableKey("SecurityCtrlr", "BasicAuthPassword"), "s3cret-s3cret-s3cret")
    [result] = get(version, mdl, gv(version, "SecurityCtrlr", "BasicAuthPassword"))
    assert result.attribute_status.value == "Rejected"
    assert isinstance(result.attribute_value, msgspec.UnsetType)


@VERSIONS
def test_b06_fr_10_13_value_and_empty_string_when_unset(version: str) -> None:
    results = get(version, model(version), gv(version, "OCPPCommCtrlr", "HeartbeatInterval"), gv(version, "EVSE", "Power", evse=1, attribute="MaxSet"))
    assert statuses(results) == ["Accepted", "Accepted"]
    assert [r.attribute_value for r in results] == ["300", ""]


@VERSIONS
def test_b06_fr_14_15_instances_and_evse_matched_exactly(version: str) -> None:
    results = get(version, model(version), gv(version, "DeviceDataCtrlr", "ItemsPerMessage", instance="GetVariables"),
                  gv(version, "DeviceDataCtrlr", "ItemsPerMessage"), gv(version, "EVSE", "AvailabilityState"),
                  gv(version, "Connector", "AvailabilityState", evse=1, connector=1))
    assert statuses(results) == ["Accepted", "UnknownVariable", "UnknownComponent", "Accepted"]
    assert results[0].variable.instance == "GetVariables"


@VERSIONS
def test_b06_fr_16_more_items_than_items_per_message_is_occurrence_constraint_violation(version: str) -> None:
    with pytest.raises(CallErrorAnswer) as caught:
        get(version, model(version), *[gv(version, "OCPPCommCtrlr", "HeartbeatInterval")] * 5)
    assert caught.value.code == "OccurrenceConstraintViolation"
    assert "B06.FR.16" in caught.value.description


@VERSIONS
def test_b06_fr_17_more_bytes_than_bytes_per_message_is_format_violation(version: str) -> None:
    long = gv(version, "OCPPCommCtrlr", "HeartbeatInterval", instance="x" * 50)
    with pytest.raises(CallErrorAnswer) as caught:
        get(version, model(version), *[long] * 4)
    assert caught.value.code == "FormatViolation"


# -- SetVariables (B05) -------------------------------------------------------------------------


@VERSIONS
def test_b05_fr_04_05_06_unknown_statuses(version: str) -> None:
    results = set_(version, model(version), (gv(version, "NoSuchCtrlr", "X"), "1"), (gv(version, "OCPPCommCtrlr", "NoSuch"), "1"),
                   (gv(version, "OCPPCommCtrlr", "HeartbeatInterval", attribute="MinSet"), "1"))
    assert statuses(results) == ["UnknownComponent", "UnknownVariable", "NotSupportedAttributeType"]


@VERSIONS
def test_b05_fr_07_badly_formatted_values_rejected_with_status_info(version: str) -> None:
    cases = [
        (gv(version, "OCPPCommCtrlr", "HeartbeatInterval"), "5 minutes"),  # integer
        (gv(version, "Custom", "Ratio"), "half"),  # decimal
        (gv(version, "ClockCtrlr", "DateTime"), "yesterday"),  # dateTime
        (gv(version, "TxCtrlr", "TxStartPoint"), "Sunrise"),  # MemberList outside valuesList
        (gv(version, "SampledDataCtrlr", "TxEndedMeasurands"), "Voltage,Voltage"),  # a member twice
        (gv(version, "SecurityCtrlr", "OrganizationName"), "A" * 9),  # longer than maxLimit
        (gv(version, "SecurityCtrlr", "BasicAuthPassword"), "A" * 15),  # a string's minLimit is its shortest length
    ]
    results = set_(version, model(version), *cases)
    assert statuses(results) == ["Rejected"] * len(cases)
    assert all(not isinstance(r.attribute_status_info, msgspec.UnsetType) for r in results)


@VERSIONS
def test_b05_fr_08_out_of_range_rejected(version: str) -> None:
    results = set_(version, model(version), (gv(version, "OCPPCommCtrlr", "HeartbeatInterval"), "3601"),
                   (gv(version, "Custom", "Ratio"), "-0.1"))
    assert statuses(results) == ["Rejected", "Rejected"]


@VERSIONS
def test_b05_fr_09_read_only_rejected(version: str) -> None:
    mdl = model(version)
    results = set_(version, mdl, (gv(version, "DeviceDataCtrlr", "ItemsPerMessage", instance="GetVariables"), "100"))
    assert statuses(results) == ["Rejected"]
    assert mdl.integer(VariableKey("DeviceDataCtrlr", "ItemsPerMessage", instance="GetVariables")) == 4


@VERSIONS
def test_b05_fr_10_12_accepted_or_reboot_required_and_stored(version: str) -> None:
    mdl = model(version)
    seen: list[str] = []
    mdl.watch(V[version][1].OCPPCommCtrlr.HeartbeatInterval, seen.append)
    results = set_(version, mdl, (gv(version, "OCPPCommCtrlr", "HeartbeatInterval"), "60"),
                   (gv(version, "OCPPCommCtrlr", "OfflineThreshold"), "120"),
                   (gv(version, "TxCtrlr", "TxStartPoint"), "EVConnected,Authorized"))
    assert statuses(results) == ["Accepted", "RebootRequired", "Accepted"]
    assert [r.attribute_type.value for r in results] == ["Actual"] * 3  # FR.12
    assert mdl.heartbeat_interval() == 60 and seen == ["60"]
    assert [r.attribute_value for r in get(version, mdl, gv(version, "OCPPCommCtrlr", "HeartbeatInterval"))] == ["60"]


@VERSIONS
def test_values_survive_a_restart(tmp_path: Path, version: str) -> None:
    path = str(tmp_path / "station.sqlite")
    mdl = model(version, SqliteValues(path))
    set_(version, mdl, (gv(version, "OCPPCommCtrlr", "HeartbeatInterval"), "42"), (gv(version, "SecurityCtrlr", "BasicAuthPassword"), "new-password-0123"))
    again = model(version, SqliteValues(path))
    assert again.heartbeat_interval() == 42
    assert again.get(VariableKey("SecurityCtrlr", "BasicAuthPassword")) == "new-password-0123"  # the station's own read
    assert again.integer(VariableKey("DeviceDataCtrlr", "ItemsPerMessage", instance="GetVariables")) == 4  # read-only: the code's value


# -- reports (B07 / B08) -----------------------------------------------------------------------


def notify(version: str, mdl: DeviceModel, keys: Any = None) -> list[Any]:
    return mdl.notify_report_requests(V[version][3].NOTIFY_REPORT, 7, keys)


@VERSIONS
def test_b07_fr_01_03_report_follows_the_accepted_answer(version: str) -> None:
    d, _, m, r = V[version]
    ctx = make_context("m-1", "GetBaseReport", version)
    answer = model(version).answer_get_base_report(r.GET_BASE_REPORT, m.GetBaseReportRequest(request_id=7, report_base="FullInventory"), ctx, r.NOTIFY_REPORT)
    assert answer.status.value == "Accepted"
    assert len(ctx.take_after()) == 1  # the NotifyReport CALLs, once the answer is on the wire


@VERSIONS
def test_b07_fr_04_10_report_parts_numbered_with_tbc_and_request_id(version: str) -> None:
    mdl = model(version, report_items=5)
    parts = notify(version, mdl)
    assert [p.seq_no for p in parts] == [0, 1, 2, 3]
    assert [p.tbc for p in parts] == [True, True, True, False]
    assert {p.request_id for p in parts} == {7}
    assert sum(len(p.report_data) for p in parts) == len(mdl.variables)


@VERSIONS
def test_b07_fr_07_configuration_inventory_only_what_the_operator_can_set(version: str) -> None:
    keys = model(version).base_report_keys("ConfigurationInventory")
    assert keys is not None and all(model(version).variables[k].mutability != "ReadOnly" for k in keys)
    assert VariableKey("SecurityCtrlr", "BasicAuthPassword") in keys


@VERSIONS
def test_b07_fr_11_b08_fr_12_every_attribute_with_characteristics_secret_without_value(version: str) -> None:
    mdl = model(version)
    mdl.set(VariableKey("SecurityCtrlr", "BasicAuthPassword"), "s3cret-s3cret-s3cret")
    items = {(i.component.name, i.variable.name): i for p in notify(version, mdl) for i in p.report_data}
    power = items[("EVSE", "Power")]
    assert [(a.type.value, a.value) for a in power.variable_attribute] == [("Actual", "22000"), ("MaxSet", msgspec.UNSET)]
    assert power.variable_characteristics.unit == "W" and power.variable_characteristics.data_type.value == "decimal"
    secret = items[("SecurityCtrlr", "BasicAuthPassword")].variable_attribute[0]
    assert secret.value is msgspec.UNSET and secret.mutability.value == "WriteOnly"
    assert b"s3cret" not in msgspec.json.encode(notify(version, mdl))


@VERSIONS
def test_b08_fr_07_10_13_component_criteria(version: str) -> None:
    mdl = model(version)
    problem = mdl.report_keys(["Problem"], [])
    assert {k.component for k in problem} == {"Heater"}
    active = mdl.report_keys(["Active"], [])  # Heater.Active is false: left out; components without Active: in
    assert "Heater" not in {k.component for k in active} and "OCPPCommCtrlr" in {k.component for k in active}
    assert {k.component for k in mdl.report_keys(["Active", "Problem"], [])} >= {"Heater", "OCPPCommCtrlr"}  # OR


@VERSIONS
def test_b08_fr_11_20_21_22_component_variable_selection(version: str) -> None:
    mdl = model(version)
    assert len(mdl.report_keys([], [{"component": {"name": "DeviceDataCtrlr"}}])) == 3  # FR.20: every variable
    assert len(mdl.report_keys([], [{"component": {"name": "DeviceDataCtrlr"}, "variable": {"name": "ItemsPerMessage"}}])) == 2  # FR.21
    assert len(mdl.report_keys([], [{"component": {"name": "EVSE", "evse": {"id": 1}}}])) == 2  # FR.22
    assert len(mdl.report_keys([], [{"component": {"name": "Connector"}}])) == 1  # FR.23


@VERSIONS
def test_b08_fr_15_17_empty_result_set_and_too_many_items(version: str) -> None:
    d, _, m, r = V[version]
    ctx = make_context("m-1", "GetReport", version)
    cv = d.ComponentVariableType(component=d.ComponentType(name="NoSuchCtrlr"))
    answer = model(version).answer_get_report(r.GET_REPORT, m.GetReportRequest(request_id=1, component_variable=[cv]), ctx, r.NOTIFY_REPORT)
    assert answer.status.value == "EmptyResultSet"
    with pytest.raises(CallErrorAnswer) as caught:
        model(version).answer_get_report(r.GET_REPORT, m.GetReportRequest(request_id=1, component_variable=[cv] * 3), ctx, r.NOTIFY_REPORT)
    assert caught.value.code == "OccurrenceConstraintViolation" and "B08.FR.17" in caught.value.description


# -- a report split by size and assembled by the CSMS helper -------------------------------------


@VERSIONS
def test_report_split_within_message_size_and_reassembled_out_of_order(version: str) -> None:
    mdl = model(version, report_bytes=700)
    parts = notify(version, mdl)
    route = V[version][3].NOTIFY_REPORT
    assert len(parts) > 2
    for part in parts:  # every CALL frame within the limit (message id at its longest)
        assert len(msgspec.json.encode([2, "x" * 36, "NotifyReport", msgspec.json.decode(route.request_codec.encode(part))])) <= 700

    async def main() -> Any:
        assembler: ReportAssembler[Any] = ReportAssembler()
        waiting = asyncio.ensure_future(assembler.wait("CS-1", 7, timeout=5))
        await asyncio.sleep(0)
        for part in reversed(parts):  # any order; a repeated part is ignored
            assembler.feed("cs-1", part)
        assembler.feed("CS-1", parts[0])
        return await waiting

    report = asyncio.run(main())
    assert report.parts == len(parts)
    assert report.items == [i for p in parts for i in p.report_data]
    assert len(report.items) == len(mdl.variables)


@VERSIONS
def test_missing_part_is_reported_when_the_time_is_up(version: str) -> None:
    parts = notify(version, model(version, report_items=4))

    async def main() -> None:
        assembler: ReportAssembler[Any] = ReportAssembler()
        for part in parts[:1] + parts[2:]:
            assembler.feed("CS-1", part)
        with pytest.raises(ReportIncomplete) as caught:
            await assembler.wait("CS-1", 7, timeout=0.05)
        assert caught.value.missing == [1]

    asyncio.run(main())


def test_split_by_items_and_bytes_for_get_variables() -> None:
    items = [gv("2.0.1", "OCPPCommCtrlr", f"Var{i}", instance="x" * 20) for i in range(10)]
    by_items = split(items, Limits(items=4), action="GetVariables", field_name="getVariableData")
    assert [len(b) for b in by_items] == [4, 4, 2]
    by_bytes = split(items, Limits(bytes=400), action="GetVariables", field_name="getVariableData")
    for batch in by_bytes:
        frame = [2, "x" * 36, "GetVariables", m201.GetVariablesRequest(get_variable_data=batch)]
        assert len(msgspec.json.encode(frame)) <= 400
    assert sum(by_bytes, []) == items


# -- 1.6 configuration keys --------------------------------------------------------------------


def config16(values: Any = None) -> ConfigurationStore:
    keys: list[KeySpec] = [
        declare_key(cfg16.Keys.HeartbeatInterval, "300", min_limit=0),
        declare_key(cfg16.Keys.NumberOfConnectors, "2"),
        declare_key(cfg16.Keys.GetConfigurationMaxKeys, "3"),
        declare_key(cfg16.Keys.AuthorizationKey),
        declare_key(cfg16.Keys.MeterValuesSampledData, "Energy.Active.Import.Register", values_list=("Energy.Active.Import.Register", "Voltage")),
        KeySpec(key="VendorRebootKey", data_type="boolean", reboot_required=True, value="false"),
    ]
    return ConfigurationStore(keys, values=values)


def get16(store: ConfigurationStore, keys: list[str] | None) -> Any:
    request = m16.GetConfigurationRequest(key=keys) if keys is not None else m16.GetConfigurationRequest()
    return store.answer_get_configuration(r16.GET_CONFIGURATION, request, make_context("m-1", "GetConfiguration", "1.6"))


def change16(store: ConfigurationStore, key: str, value: str) -> str:
    request = m16.ChangeConfigurationRequest(key=key, value=value)
    return store.answer_change_configuration(r16.CHANGE_CONFIGURATION, request, make_context("m-1", "ChangeConfiguration", "1.6")).status.value


def test_16_get_configuration_known_unknown_readonly_and_write_only() -> None:
    store = config16()
    store.set(cfg16.Keys.AuthorizationKey, "0011223344556677")
    answer = get16(store, ["heartbeatinterval", "NumberOfConnectors", "Nope"])  # keys compared without case
    assert [(k.key, k.readonly, k.value) for k in answer.configuration_key] == [("HeartbeatInterval", False, "300"), ("NumberOfConnectors", True, "2")]
    assert answer.unknown_key == ["Nope"]
    everything = get16(store, None)  # no keys: every key; the write-only one without its value
    assert len(everything.configuration_key) == 6
    assert next(k for k in everything.configuration_key if k.key == "AuthorizationKey").value is msgspec.UNSET
    with pytest.raises(CallErrorAnswer) as caught:  # over GetConfigurationMaxKeys
        get16(store, ["A", "B", "C", "D"])
    assert caught.value.code == "OccurenceConstraintViolation"


def test_16_change_configuration_statuses_and_persistence(tmp_path: Path) -> None:
    path = str(tmp_path / "cp.sqlite")
    store = config16(SqliteValues(path))
    assert change16(store, "HeartbeatInterval", "60") == "Accepted"
    assert change16(store, "HeartbeatInterval", "sixty") == "Rejected"
    assert change16(store, "NumberOfConnectors", "3") == "Rejected"  # read-only
    assert change16(store, "MeterValuesSampledData", "Voltage,Frequency") == "Rejected"  # not a supported measurand
    assert change16(store, "NoSuchKey", "1") == "NotSupported"
    assert change16(store, "VendorRebootKey", "true") == "RebootRequired"
    assert change16(store, "AuthorizationKey", "00112233445566778899") == "Accepted"
    again = config16(SqliteValues(path))
    assert again.heartbeat_interval() == 60 and again.boolean("VendorRebootKey") is True
    assert again.get("authorizationkey") == "00112233445566778899"


@VERSIONS
def test_b06_fr_15_empty_instance_is_no_instance(version: str) -> None:
    d = V[version][0]
    item = d.GetVariableDataType(component=d.ComponentType(name="OCPPCommCtrlr", instance=""), variable=d.VariableType(name="HeartbeatInterval", instance=""))
    assert statuses(get(version, model(version), item)) == ["Accepted"]


def test_unsolicited_unfinished_reports_are_bounded() -> None:
    parts = notify("2.0.1", model("2.0.1", report_items=4))
    assembler: ReportAssembler[Any] = ReportAssembler(keep=3)
    for station in range(10):
        assembler.feed(f"CS-{station}", parts[0])
    assert len(assembler._open) == 3
