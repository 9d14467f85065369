"""The example station's device model store and the example CSMS's helpers, end to end over
loopback WebSockets: the base report read after boot (split into NotifyReport parts and
assembled), the boot-time configuration flow (Pending, configure, Accepted), a
WebSocketPingInterval set by the CSMS applied to the live link, values kept across a restart."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from examples import csms as example_csms, station as example_station
from ocppgen.generated.runtime.device_model import VariableKey
from ocppgen.generated.v16 import csms as csms16, enums as e16, messages as m16
from ocppgen.generated.v201 import csms as csms201, datatypes as d201, messages as m201
from ocppgen.generated.v21 import csms as csms21, datatypes as d21, messages as m21
from tests.helpers import eventually, run

BINDINGS: dict[str, Any] = {"1.6": csms16, "2.0.1": csms201, "2.1": csms21}


async def _started(server: Any, version: str, sim: example_station.Simulator, config: str | None = None) -> asyncio.Future[Any]:
    port = next(iter(server.sockets)).getsockname()[1]
    started = asyncio.Event()
    task = asyncio.ensure_future(
        example_station.simulate(f"ws://127.0.0.1:{port}/ocpp/SIM", version, meter_values=0, interval=0.01,
                                 keep_running=True, started=started, sim=sim, config_path=config)
    )
    await asyncio.wait_for(started.wait(), 15)
    return task


async def _stop(task: asyncio.Future[Any]) -> None:
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task


def _rows(db: Path, query: str) -> list[Any]:
    return sqlite3.connect(db).execute(query).fetchall()


@pytest.mark.parametrize("version", ["2.0.1", "2.1"])
def test_csms_reads_the_stations_device_model_after_boot(tmp_path: Path, version: str) -> None:
    """B07: the example CSMS asks FullInventory after the boot; the station answers in
    NotifyReport parts of at most its ItemsPerMessage[GetReport] (8) items, the CSMS assembles
    them into one report and stores every variable; the secret is reported without a value."""
    db = tmp_path / "csms.sqlite"
    server = example_csms.build_server(str(db))
    sim = example_station.Simulator("SIM", version)

    async def main() -> None:
        async with server.serve("127.0.0.1", 0) as ws:
            task = await _started(ws, version, sim)
            await eventually(lambda: len(_rows(db, "SELECT * FROM device_model")) >= len(sim.model.variables), what="the base report")
            await _stop(task)

    run(main())
    rows = {(c, v): (value, mutability) for c, v, value, mutability in _rows(db, "SELECT component, variable, value, mutability FROM device_model")}
    assert len(rows) == len(sim.model.variables) == 49
    assert rows[("OCPPCommCtrlr", "HeartbeatInterval")] == ("300", "ReadWrite")
    assert rows[("DeviceDataCtrlr", "ItemsPerMessage[GetReport]")] == ("8", "ReadOnly")
    assert rows[("EVSE@1", "AvailabilityState")][0] == "Available"
    assert rows[("Connector@1.1", "ConnectorType")] == ("cType2", "ReadOnly")
    assert rows[("SecurityCtrlr", "BasicAuthPassword")] == (None, "WriteOnly")  # never reported


@pytest.mark.parametrize("version", ["2.0.1", "2.1"])
def test_boot_time_configuration_pending_then_accepted(tmp_path: Path, version: str) -> None:
    """B02 with BootConfiguration: the first boot is answered Pending; while Pending the CSMS
    reads the limits and the base report and sets HeartbeatInterval, then triggers a
    BootNotification (F06) and accepts it; the station takes the new interval from its store."""
    db = tmp_path / "csms.sqlite"
    server = example_csms.build_server(str(db), pending_boot=True)
    sim = example_station.Simulator("SIM", version)

    async def main() -> None:
        async with server.serve("127.0.0.1", 0) as ws:
            task = await _started(ws, version, sim)
            session = server.registry.session("SIM")
            assert session is not None and session.registered
            await _stop(task)

    run(main())
    assert sim.settings.heartbeat_interval() == 120  # set by the CSMS while Pending
    assert sim.model.get(VariableKey("OCPPCommCtrlr", "HeartbeatInterval")) == "120"
    assert _rows(db, "SELECT COUNT(*) FROM boots")[0][0] == 2  # Pending, then the triggered one Accepted
    assert len(_rows(db, "SELECT * FROM device_model")) == 49


@pytest.mark.parametrize("version", ["1.6", "2.0.1", "2.1"])
def test_ping_interval_set_by_the_csms_takes_effect_and_survives_a_restart(tmp_path: Path, version: str) -> None:
    """WebSocketPingInterval (OCPP-J 1.6 section 7; 2.x Part 4 section 8.4) set by the CSMS:
    applied to the live connection at once, stored in SQLite, and read back after a restart;
    an unknown key / read-only variable is refused as the spec says."""
    db = tmp_path / "csms.sqlite"
    config = str(tmp_path / "station.sqlite")
    server = example_csms.build_server(str(db))
    sim = example_station.Simulator("SIM", version, config)

    async def main() -> list[str]:
        async with server.serve("127.0.0.1", 0) as ws:
            task = await _started(ws, version, sim)
            client = server.registry.client("SIM", BINDINGS[version].BINDING)
            if version == "1.6":
                answers = [
                    await client.change_configuration(m16.ChangeConfigurationRequest(key="WebSocketPingInterval", value="45")),
                    await client.change_configuration(m16.ChangeConfigurationRequest(key="NumberOfConnectors", value="2")),
                    await client.change_configuration(m16.ChangeConfigurationRequest(key="NoSuchKey", value="1")),
                ]
                statuses = [a.status.value for a in answers]
                got = await client.get_configuration(m16.GetConfigurationRequest(key=["websocketpinginterval", "AuthorizationKey", "Nope"]))
                assert [(k.key, k.value) for k in got.configuration_key] == [("WebSocketPingInterval", "45"), ("AuthorizationKey", msgspec_unset())]
                assert got.unknown_key == ["Nope"]
            else:
                d = d201 if version == "2.0.1" else d21
                m = m201 if version == "2.0.1" else m21
                items = [
                    d.SetVariableDataType(attribute_value="45", component=d.ComponentType(name="OCPPCommCtrlr"), variable=d.VariableType(name="WebSocketPingInterval")),
                    d.SetVariableDataType(attribute_value="2", component=d.ComponentType(name="DeviceDataCtrlr"), variable=d.VariableType(name="ItemsPerMessage", instance="GetReport")),
                    d.SetVariableDataType(attribute_value="1", component=d.ComponentType(name="NoSuchCtrlr"), variable=d.VariableType(name="X")),
                ]
                answer = await client.set_variables(m.SetVariablesRequest(set_variable_data=items))
                statuses = [r.attribute_status.value for r in answer.set_variable_result]
            assert sim.client is not None
            assert sim.client.ping_interval == 45  # applied to the live link
            await _stop(task)
            return statuses

    statuses = run(main())
    if version == "1.6":
        assert statuses == ["Accepted", "Rejected", "NotSupported"]
    else:
        assert statuses == ["Accepted", "Rejected", "UnknownComponent"]  # B05.FR.10, FR.09, FR.04
    restarted = example_station.Simulator("SIM", version, config)  # a new process reading the same file
    assert restarted.settings.ping_interval() == 45


def msgspec_unset() -> Any:
    import msgspec

    return msgspec.UNSET


# -- a third-party CSMS (the incumbent `ocpp` package) reads the example station's model ---------


@pytest.mark.parametrize("version", ["1.6", "2.0.1", "2.1"])
def test_a_third_party_csms_reads_the_example_stations_device_model(version: str) -> None:
    """The `ocpp` package from PyPI (its own jsonschema validation of every message) as the CSMS:
    GetBaseReport is answered Accepted and followed by NotifyReport parts with seqNo 0..n and tbc
    on all but the last (B07.FR.03/04/10), the parts hold every variable; GetVariables answers
    the heartbeat interval and rejects the write-only password (B06.FR.09). On 1.6:
    GetConfiguration with an unknown key."""
    import importlib

    from ocpp.routing import on
    from websockets.asyncio.server import serve

    lib = importlib.import_module({"1.6": "ocpp.v16", "2.0.1": "ocpp.v201", "2.1": "ocpp.v21"}[version])
    Action = lib.enums.Action  # noqa: N806
    parts: list[dict[str, Any]] = []
    answers: list[Any] = []
    booted = asyncio.Event()
    iso = "2026-01-01T00:00:00Z"

    class TheirCsms(lib.ChargePoint):  # type: ignore[misc, name-defined]
        @on(Action.boot_notification)
        def on_boot(self, **kwargs: Any) -> Any:
            booted.set()
            return lib.call_result.BootNotification(current_time=iso, interval=300, status="Accepted")

        @on(Action.heartbeat)
        def on_heartbeat(self) -> Any:
            return lib.call_result.Heartbeat(current_time=iso)

        @on(Action.status_notification)
        def on_status(self, **kwargs: Any) -> Any:
            return lib.call_result.StatusNotification()

        if version == "1.6":

            @on(Action.authorize)
            def on_authorize(self, **kwargs: Any) -> Any:
                return lib.call_result.Authorize(id_tag_info={"status": "Accepted"})

            @on(Action.start_transaction)
            def on_start(self, **kwargs: Any) -> Any:
                return lib.call_result.StartTransaction(transaction_id=1, id_tag_info={"status": "Accepted"})

            @on(Action.stop_transaction)
            def on_stop(self, **kwargs: Any) -> Any:
                return lib.call_result.StopTransaction()

            @on(Action.meter_values)
            def on_meter(self, **kwargs: Any) -> Any:
                return lib.call_result.MeterValues()

        else:

            @on(Action.authorize)
            def on_authorize(self, **kwargs: Any) -> Any:
                return lib.call_result.Authorize(id_token_info={"status": "Accepted"})

            @on(Action.transaction_event)
            def on_tx(self, **kwargs: Any) -> Any:
                return lib.call_result.TransactionEvent()

            @on(Action.notify_report)
            def on_notify_report(self, **kwargs: Any) -> Any:
                parts.append(kwargs)
                return lib.call_result.NotifyReport()

            @on(Action.security_event_notification)
            def on_security_event(self, **kwargs: Any) -> Any:  # unhandled, their 2.1 CSMS would not answer at all
                return lib.call_result.SecurityEventNotification()

    async def main() -> None:
        async def handler(ws: Any) -> None:
            cp = TheirCsms("SIM", ws)
            reader = asyncio.ensure_future(cp.start())
            await asyncio.wait_for(booted.wait(), 10)
            await asyncio.sleep(0.1)
            if version == "1.6":
                answers.append(await cp.call(lib.call.GetConfiguration(key=["HeartbeatInterval", "AuthorizationKey", "Nope"])))
            else:
                answers.append(await cp.call(lib.call.GetBaseReport(request_id=5, report_base="FullInventory")))
                for _ in range(200):
                    if parts and not parts[-1].get("tbc", False):
                        break
                    await asyncio.sleep(0.02)
                wanted = [{"component": {"name": "OCPPCommCtrlr"}, "variable": {"name": "HeartbeatInterval"}},
                          {"component": {"name": "SecurityCtrlr"}, "variable": {"name": "BasicAuthPassword"}}]
                answers.append(await cp.call(lib.call.GetVariables(get_variable_data=wanted)))
            reader.cancel()

        subprotocol = {"1.6": "ocpp1.6", "2.0.1": "ocpp2.0.1", "2.1": "ocpp2.1"}[version]
        async with serve(handler, "127.0.0.1", 0, subprotocols=[subprotocol]) as server:  # type: ignore[list-item]
            sim = example_station.Simulator("SIM", version)
            task = await _started(server, version, sim)
            for _ in range(300):
                if len(answers) == (1 if version == "1.6" else 2):
                    break
                await asyncio.sleep(0.02)
            task.cancel()
            with pytest.raises((asyncio.CancelledError, Exception)):
                await task

    run(main())
    if version == "1.6":
        [conf] = answers
        assert [(k["key"], k.get("value")) for k in conf.configuration_key] == [("HeartbeatInterval", "300"), ("AuthorizationKey", None)]
        assert conf.unknown_key == ["Nope"]
        return
    report, variables = answers
    assert report.status == "Accepted"
    assert [p["seq_no"] for p in parts] == list(range(len(parts))) and len(parts) == 7  # 49 variables, 8 a part
    assert [p.get("tbc", False) for p in parts] == [True] * 6 + [False]
    assert {p["request_id"] for p in parts} == {5}
    assert sum(len(p["report_data"]) for p in parts) == 49
    statuses = [r["attribute_status"] for r in variables.get_variable_result]
    assert statuses == ["Accepted", "Rejected"]
    assert variables.get_variable_result[0]["attribute_value"] == "300"


@pytest.mark.parametrize("version", ["2.0.1", "2.1"])
def test_csms_splits_get_report_and_get_variables_by_the_stations_limits(tmp_path: Path, version: str) -> None:
    """B08.FR.06, B06.FR.05: the CSMS reads the station's DeviceDataCtrlr limits (GetReport 8
    items, GetVariables 32) and sends 20 componentVariables as 3 GetReports (each its own
    requestId, each report assembled) and 40 GetVariableData as 2 GetVariables, so the station
    never has to answer OccurrenceConstraintViolation."""
    import itertools

    from ocppgen.generated.runtime.device_model_csms import ReportAssembler, call_in_batches, read_limits, request_reports_in_batches

    d, m = (d201, m201) if version == "2.0.1" else (d21, m21)
    routes = example_csms.r201 if version == "2.0.1" else example_csms.r21
    server = example_csms.build_server(str(tmp_path / "csms.sqlite"))
    handler = next(h for b, h in server.bindings.values() if b.version == version)
    sim = example_station.Simulator("SIM", version)

    async def main() -> tuple[Any, list[Any], list[Any]]:
        async with server.serve("127.0.0.1", 0) as ws:
            task = await _started(ws, version, sim)
            session = server.registry.session("SIM")
            assert session is not None
            limits = await read_limits(session, routes.GET_VARIABLES)
            names = ["HeartbeatInterval", "WebSocketPingInterval", "OfflineThreshold", "ResetRetries"] * 5
            cvs = [d.ComponentVariableType(component=d.ComponentType(name="OCPPCommCtrlr"), variable=d.VariableType(name=n)) for n in names]
            assembler: ReportAssembler[Any] = handler.reports
            reports = await request_reports_in_batches(
                session, routes.GET_REPORT, cvs, lambda batch, rid: m.GetReportRequest(request_id=rid, component_variable=batch),
                limits.get_report, assembler, request_ids=itertools.count(100), timeout=10,
            )
            wanted = [d.GetVariableDataType(component=d.ComponentType(name="OCPPCommCtrlr"), variable=d.VariableType(name=n)) for n in names * 2]
            answers = await call_in_batches(session, routes.GET_VARIABLES, wanted, lambda batch: m.GetVariablesRequest(get_variable_data=batch),
                                            limits.get_variables, field_name="getVariableData")
            await _stop(task)
            return limits, reports, answers

    limits, reports, answers = run(main())
    assert (limits.get_report.items, limits.get_report.bytes, limits.get_variables.items) == (8, 4096, 32)
    assert [r.request_id for r in reports] == [100, 101, 102]
    assert [len(r.items) for r in reports] == [4, 4, 4]  # each batch names the same 4 variables
    assert [len(a.get_variable_result) for a in answers] == [32, 8]
    assert all(r.attribute_status.value == "Accepted" for a in answers for r in a.get_variable_result)
