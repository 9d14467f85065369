"""Example CSMS: OCPP 1.6, 2.0.1 and 2.1 on one port, stations, boots, transactions and meter
values stored in SQLite, a readable log of what happens. After each BootNotification it reads
the station's heartbeat interval (once the boot's answer is on the wire); sessions are kept in
the same SQLite file, so a station that reconnects after a CSMS restart need not boot again.

    python examples/csms.py --port 9000 --db csms.sqlite

Several processes make one CSMS (decision 0013): each joins the cluster with ``--redis URL``
and may offer the operator endpoint of ``examples/cluster_ops.py``:

    python examples/csms.py --port 9001 --db a.sqlite --redis redis://127.0.0.1:6379/0 --operator-port 8081

Stations connect to ws://HOST:9000/ocpp/<station id>, offering ocpp2.1, ocpp2.0.1 or ocpp1.6.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime
import itertools
import sqlite3
import sys
from pathlib import Path
from typing import Any

import msgspec

if __package__ in (None, ""):  # run as a script: make `examples` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from examples.defaults import describe, with_defaults
from ocppgen.generated.runtime.config import ServerOptions
from ocppgen.generated.runtime.device_model_csms import BootConfiguration, ReportAssembler, read_limits, request_report
from ocppgen.generated.runtime.session import Session
from ocppgen.generated.runtime.registry import SqliteSessionStore
from ocppgen.generated.runtime.server import CsmsServer
from ocppgen.generated.v16 import csms as csms16, datatypes as d16, enums as e16, messages as m16, routing as r16
from ocppgen.generated.v201 import csms as csms201, datatypes as d201, enums as e201, messages as m201
from ocppgen.generated.v201 import routing as r201
from ocppgen.generated.v21 import csms as csms21, datatypes as d21, enums as e21, messages as m21, routing as r21

SCHEMA = """
CREATE TABLE IF NOT EXISTS stations (id TEXT PRIMARY KEY, version TEXT, vendor TEXT, model TEXT, last_seen TEXT);
CREATE TABLE IF NOT EXISTS boots (station_id TEXT, version TEXT, reason TEXT, at TEXT);
CREATE TABLE IF NOT EXISTS transactions (station_id TEXT, version TEXT, transaction_id TEXT, id_token TEXT,
    started_at TEXT, stopped_at TEXT, meter_start REAL, meter_stop REAL, PRIMARY KEY (station_id, transaction_id));
CREATE TABLE IF NOT EXISTS meter_values (station_id TEXT, transaction_id TEXT, at TEXT, measurand TEXT,
    value REAL, unit TEXT);
CREATE TABLE IF NOT EXISTS configuration (station_id TEXT, name TEXT, value TEXT, PRIMARY KEY (station_id, name));
CREATE TABLE IF NOT EXISTS device_model (station_id TEXT, component TEXT, variable TEXT, attribute TEXT, value TEXT,
    mutability TEXT, data_type TEXT, PRIMARY KEY (station_id, component, variable, attribute));
"""


def now() -> datetime.datetime:
    return datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)


class Store:
    """The example's SQLite database (created on first run)."""

    def __init__(self, path: str) -> None:
        self.db = sqlite3.connect(path)
        self.db.executescript(SCHEMA)
        self._tx_ids = itertools.count(int(self.db.execute("SELECT COUNT(*) FROM transactions").fetchone()[0]) + 1)

    def boot(self, station: str, version: str, vendor: str, model: str, reason: str) -> None:
        at = now().isoformat()
        self.db.execute(
            "INSERT INTO stations VALUES (?,?,?,?,?) ON CONFLICT(id) DO UPDATE SET version=?, vendor=?, model=?, last_seen=?",
            (station, version, vendor, model, at, version, vendor, model, at),
        )
        self.db.execute("INSERT INTO boots VALUES (?,?,?,?)", (station, version, reason, at))
        self.db.commit()

    def seen(self, station: str) -> None:
        self.db.execute("UPDATE stations SET last_seen=? WHERE id=?", (now().isoformat(), station))
        self.db.commit()

    def next_transaction_id(self) -> int:
        return next(self._tx_ids)

    def start(self, station: str, version: str, tx: str, token: str, at: datetime.datetime, meter: float | None) -> None:
        self.db.execute(
            "INSERT OR IGNORE INTO transactions VALUES (?,?,?,?,?,?,?,?)",
            (station, version, tx, token, at.isoformat(), None, meter, None),
        )
        self.db.commit()

    def stop(self, station: str, tx: str, at: datetime.datetime, meter: float | None) -> None:
        self.db.execute(
            "UPDATE transactions SET stopped_at=?, meter_stop=? WHERE station_id=? AND transaction_id=?",
            (at.isoformat(), meter, station, tx),
        )
        self.db.commit()

    def meter(self, station: str, tx: str | None, at: datetime.datetime, measurand: str, value: float, unit: str) -> None:
        self.db.execute("INSERT INTO meter_values VALUES (?,?,?,?,?,?)", (station, tx, at.isoformat(), measurand, value, unit))
        self.db.commit()

    def configured(self, station: str, name: str, value: str) -> None:
        self.db.execute("INSERT OR REPLACE INTO configuration VALUES (?,?,?)", (station, name, value))
        self.db.commit()

    def device_model(self, station: str, items: list[Any]) -> None:
        """A station's base report: one row per variable attribute (component and variable
        written name[instance]@evse.connector)."""
        rows = []
        for item in items:
            component, variable = item.component, item.variable
            where = "".join((f"[{component.instance}]" if isinstance(component.instance, str) else "",
                             f"@{component.evse.id}" if not isinstance(component.evse, msgspec.UnsetType) else "",
                             f".{component.evse.connector_id}" if not isinstance(component.evse, msgspec.UnsetType)
                             and isinstance(component.evse.connector_id, int) else ""))
            name = variable.name + (f"[{variable.instance}]" if isinstance(variable.instance, str) else "")
            data_type = item.variable_characteristics.data_type.value if not isinstance(item.variable_characteristics, msgspec.UnsetType) else None
            for attribute in item.variable_attribute:
                rows.append((station, component.name + where, name, getattr(attribute.type, "value", "Actual"),
                             attribute.value if isinstance(attribute.value, str) else None,
                             getattr(attribute.mutability, "value", None), data_type))
        self.db.executemany("INSERT OR REPLACE INTO device_model VALUES (?,?,?,?,?,?,?)", rows)
        self.db.commit()


class Base:
    version = ""

    def __init__(self, store: Store) -> None:
        self.store = store

    def log(self, station: str, text: str) -> None:
        print(f"{now():%H:%M:%S} [{station} {self.version}] {text}", flush=True)


class Csms16(Base, csms16.CsmsHandler):
    version = "1.6"

    async def on_boot_notification(self, request: m16.BootNotificationRequest, context: csms16.Context) -> m16.BootNotificationResponse:
        self.log(context.station_id, f"BootNotification {request.charge_point_vendor} {request.charge_point_model}")
        self.store.boot(context.station_id, self.version, request.charge_point_vendor, request.charge_point_model, "")

        async def read_configuration() -> None:  # runs once the boot's answer is on the wire
            answer = await context.client.get_configuration(m16.GetConfigurationRequest(key=["HeartbeatInterval"]))
            for item in answer.configuration_key if isinstance(answer.configuration_key, list) else []:
                if isinstance(item.value, str):
                    self.store.configured(context.station_id, item.key, item.value)

        context.after_response(read_configuration)
        return m16.BootNotificationResponse(current_time=now(), interval=300, status=e16.RegistrationStatus.Accepted)

    async def on_heartbeat(self, request: m16.HeartbeatRequest, context: Any) -> m16.HeartbeatResponse:
        self.store.seen(context.station_id)
        return m16.HeartbeatResponse(current_time=now())

    async def on_status_notification(self, request: m16.StatusNotificationRequest, context: Any) -> m16.StatusNotificationResponse:
        self.log(context.station_id, f"connector {request.connector_id} is {request.status.value} ({request.error_code.value})")
        return m16.StatusNotificationResponse()

    async def on_authorize(self, request: m16.AuthorizeRequest, context: Any) -> m16.AuthorizeResponse:
        self.log(context.station_id, f"Authorize {request.id_tag}: Accepted")
        return m16.AuthorizeResponse(id_tag_info=d16.IdTagInfo(status=e16.AuthorizationStatus.Accepted))

    async def on_start_transaction(self, request: m16.StartTransactionRequest, context: Any) -> m16.StartTransactionResponse:
        tx = self.store.next_transaction_id()
        self.store.start(context.station_id, self.version, str(tx), request.id_tag, request.timestamp, request.meter_start)
        self.log(context.station_id, f"transaction {tx} started by {request.id_tag} at {request.meter_start} Wh")
        return m16.StartTransactionResponse(transaction_id=tx, id_tag_info=d16.IdTagInfo(status=e16.AuthorizationStatus.Accepted))

    async def on_data_transfer(self, request: m16.DataTransferRequest, context: Any) -> m16.DataTransferResponse:
        return m16.DataTransferResponse(status=e16.DataTransferStatus.UnknownVendorId)  # no vendor extensions

    async def on_stop_transaction(self, request: m16.StopTransactionRequest, context: Any) -> m16.StopTransactionResponse:
        tx = str(request.transaction_id)
        if isinstance(request.transaction_data, list):  # the transaction's meter values (1.6 section 6.49)
            self.meter_values(context.station_id, tx, request.transaction_data)
        self.store.stop(context.station_id, tx, request.timestamp, request.meter_stop)
        self.log(context.station_id, f"transaction {request.transaction_id} stopped at {request.meter_stop} Wh")
        return m16.StopTransactionResponse()

    async def on_meter_values(self, request: m16.MeterValuesRequest, context: Any) -> m16.MeterValuesResponse:
        tx = str(request.transaction_id) if isinstance(request.transaction_id, int) else None
        self.meter_values(context.station_id, tx, request.meter_value)
        return m16.MeterValuesResponse()

    def meter_values(self, station: str, tx: str | None, values: list[d16.MeterValue]) -> None:
        for mv in values:
            for sv in mv.sampled_value:
                measurand = getattr(sv.measurand, "value", "Energy.Active.Import.Register")
                unit = getattr(sv.unit, "value", "Wh")
                self.store.meter(station, tx, mv.timestamp, measurand, float(sv.value), unit)
                self.log(station, f"meter {measurand} = {sv.value} {unit}")


CONFIGURED_HEARTBEAT = 120  # what the boot flow sets (SetVariables OCPPCommCtrlr.HeartbeatInterval)


class Csms2x(Base):
    """Answers shared by 2.0.1 and 2.1. After a boot it reads the station's full device model
    (GetBaseReport, the NotifyReport parts assembled by the runtime's ReportAssembler); with
    ``pending_boot`` it answers the first boot Pending, reads the report and the station's
    message limits, sets the heartbeat interval, then accepts the station (BootConfiguration)."""

    m: Any
    d: Any
    e: Any
    r: Any

    def __init__(self, store: Store, pending_boot: bool = False) -> None:
        super().__init__(store)
        self.reports: ReportAssembler[Any] = ReportAssembler()
        self.boot_flow = BootConfiguration(self.configure, self.r.TRIGGER_MESSAGE) if pending_boot else None
        self._request_ids = itertools.count(1)

    async def read_device_model(self, session: Session) -> None:
        request = self.m.GetBaseReportRequest(request_id=next(self._request_ids), report_base=self.e.ReportBaseEnumType.FullInventory)
        report = await request_report(session, self.r.GET_BASE_REPORT, request, self.reports, timeout=30)
        self.store.device_model(session.identity, report.items)
        self.log(session.identity, f"device model: {len(report.items)} variables in {report.parts} NotifyReport parts")

    async def configure(self, session: Session) -> bool:
        """The boot-time configuration (while Pending): read, then set what the operator wants."""
        limits = await read_limits(session, self.r.GET_VARIABLES)
        self.log(session.identity, f"limits: SetVariables {limits.set_variables.items} items, GetReport {limits.get_report.items} items")
        await self.read_device_model(session)
        d = self.d
        wanted = d.SetVariableDataType(attribute_value=str(CONFIGURED_HEARTBEAT), component=d.ComponentType(name="OCPPCommCtrlr"), variable=d.VariableType(name="HeartbeatInterval"))
        answer = await session.call(self.r.SET_VARIABLES, self.m.SetVariablesRequest(set_variable_data=[wanted]), 30)
        return all(r.attribute_status.value in ("Accepted", "RebootRequired") for r in answer.set_variable_result)

    async def on_notify_report(self, request: Any, context: Any) -> Any:
        self.reports.feed(context.station_id, request)  # parts of a report, in any order
        return self.m.NotifyReportResponse()

    async def on_boot_notification(self, request: Any, context: Any) -> Any:
        cs = request.charging_station
        self.log(context.station_id, f"BootNotification {cs.vendor_name} {cs.model} ({request.reason.value})")
        self.store.boot(context.station_id, self.version, cs.vendor_name, cs.model, request.reason.value)
        if self.boot_flow is not None and self.boot_flow.status(context) == "Pending":  # configure runs after the answer
            return self.m.BootNotificationResponse(current_time=now(), interval=10, status=self.e.RegistrationStatusEnumType.Pending)

        async def read_configuration() -> None:  # runs once the boot's answer is on the wire
            d = self.d
            wanted = d.GetVariableDataType(component=d.ComponentType(name="OCPPCommCtrlr"), variable=d.VariableType(name="HeartbeatInterval"))
            answer = await context.client.get_variables(self.m.GetVariablesRequest(get_variable_data=[wanted]))
            for result in answer.get_variable_result:
                if isinstance(result.attribute_value, str):
                    self.store.configured(context.station_id, result.variable.name, result.attribute_value)
            if self.boot_flow is None:  # (with the boot flow, configure read it while Pending)
                await self.read_device_model(context.session)

        context.after_response(read_configuration)
        # the accepted boot's interval is the station's heartbeat interval (B01.FR.04): with the
        # boot flow, the one configure() set while Pending, so the two agree
        interval = CONFIGURED_HEARTBEAT if self.boot_flow is not None else 300
        return self.m.BootNotificationResponse(current_time=now(), interval=interval, status=self.e.RegistrationStatusEnumType.Accepted)

    async def on_heartbeat(self, request: Any, context: Any) -> Any:
        self.store.seen(context.station_id)
        return self.m.HeartbeatResponse(current_time=now())

    async def on_status_notification(self, request: Any, context: Any) -> Any:
        self.log(context.station_id, f"EVSE {request.evse_id} connector {request.connector_id} is {request.connector_status.value}")
        return self.m.StatusNotificationResponse()

    async def on_authorize(self, request: Any, context: Any) -> Any:
        self.log(context.station_id, f"Authorize {request.id_token.id_token}: Accepted")
        return self.m.AuthorizeResponse(id_token_info=self.d.IdTokenInfoType(status=self.e.AuthorizationStatusEnumType.Accepted))

    async def on_data_transfer(self, request: Any, context: Any) -> Any:
        return self.m.DataTransferResponse(status=self.e.DataTransferStatusEnumType.UnknownVendorId)  # P02.FR.06

    async def on_transaction_event(self, request: Any, context: Any) -> Any:
        tx = request.transaction_info.transaction_id
        kind = request.event_type.value
        energy = None
        for mv in request.meter_value if isinstance(request.meter_value, list) else []:
            for sv in mv.sampled_value:
                measurand = getattr(sv.measurand, "value", "Energy.Active.Import.Register")
                unit = getattr(getattr(sv, "unit_of_measure", None), "unit", "Wh")
                unit = unit if isinstance(unit, str) else "Wh"
                self.store.meter(context.station_id, tx, mv.timestamp, measurand, sv.value, unit)
                if measurand == "Energy.Active.Import.Register":
                    energy = sv.value
        token = getattr(getattr(request, "id_token", None), "id_token", "")
        if kind == "Started":
            self.store.start(context.station_id, self.version, tx, token if isinstance(token, str) else "", request.timestamp, energy)
        elif kind == "Ended":
            self.store.stop(context.station_id, tx, request.timestamp, energy)
        self.log(context.station_id, f"transaction {tx} {kind} ({request.trigger_reason.value}), seqNo {request.seq_no}")
        if isinstance(token, str) and token:  # E01.FR.11/12: the idToken is checked and its status answered
            return self.m.TransactionEventResponse(id_token_info=self.d.IdTokenInfoType(status=self.e.AuthorizationStatusEnumType.Accepted))
        return self.m.TransactionEventResponse()


class Csms201(Csms2x, csms201.CsmsHandler):
    version, m, d, e, r = "2.0.1", m201, d201, e201, r201


class Csms21(Csms2x, csms21.CsmsHandler):
    version, m, d, e, r = "2.1", m21, d21, e21, r21


def build_server(
    db_path: str, registry: Any = None, store: Any = None, *, pending_boot: bool = False, **options: Any
) -> CsmsServer:
    """The example server: every version (2.1 preferred), each station-initiated action
    answered, sessions persisted beside the data (``store``: another database, e.g.
    ``examples.pg_store.PostgresStore``; ``registry``: a cluster's); ``pending_boot``: configure
    2.x stations while Pending (BootConfiguration) before accepting them."""
    store = store or Store(db_path)

    def on_event(session: Any, event: Any) -> None:
        name = type(event).__name__
        if name in ("ToleratedViolation",):
            print(f"{now():%H:%M:%S} [{session.identity}] {name}: {describe(event)}", flush=True)

    options.setdefault("default_subprotocol", "ocpp1.6")
    if "session_store" not in options:
        options["session_store"] = SqliteSessionStore(db_path)
    server = CsmsServer(ServerOptions(on_event=on_event, **options), registry=registry)
    server.handle(csms21.BINDING, with_defaults(Csms21, dict(csms21.HANDLED), r21.ROUTES)(store, pending_boot))
    server.handle(csms201.BINDING, with_defaults(Csms201, dict(csms201.HANDLED), r201.ROUTES)(store, pending_boot))
    server.handle(csms16.BINDING, with_defaults(Csms16, dict(csms16.HANDLED), r16.ROUTES)(store))
    return server


async def open_stores(db_path: str, database: str | None) -> tuple[Any, Any]:
    """(the example's data, the session store): the SQLite file, or PostgreSQL with ``database``."""
    if database is None:
        return Store(db_path), SqliteSessionStore(db_path)
    from examples.pg_store import PostgresStore
    from ocppgen.generated.runtime.pg_store import PostgresSessionStore

    return PostgresStore(database), await PostgresSessionStore.connect(database)


async def serve_forever(host: str, port: int, db_path: str, cluster: argparse.Namespace | None = None) -> None:
    database = cluster.database if cluster is not None else None
    store, session_store = await open_stores(db_path, database)
    if cluster is None or cluster.redis is None:
        server = build_server(db_path, None, store, session_store=session_store)
        async with server.serve(host, port):
            print(f"CSMS listening on ws://{host}:{port}/ocpp/<station id> (ocpp2.1, ocpp2.0.1, ocpp1.6); database {db_path}", flush=True)
            with contextlib.suppress(asyncio.CancelledError):
                await asyncio.Future()
        return
    from examples.cluster_ops import serve_operator
    from ocppgen.generated.runtime.cluster import ClusterRegistry
    from ocppgen.generated.runtime.redis_backplane import RedisBackplane

    backplane = RedisBackplane(cluster.redis, prefix=cluster.redis_prefix, ttl=cluster.presence_ttl)
    registry = ClusterRegistry(backplane, store=session_store)
    server = build_server(db_path, registry, store, session_store=session_store)
    async with registry, server.serve(host, port) as ws:
        bound = next(iter(ws.sockets)).getsockname()[1]
        print(f"CSMS node {backplane.node} listening on ws://{host}:{bound}/ocpp/<station id>; cluster {cluster.redis}", flush=True)
        if cluster.operator_port is not None:
            operator = await serve_operator(registry, host, cluster.operator_port)
            print(f"operator endpoint on http://{host}:{operator.sockets[0].getsockname()[1]}/stations/<id>/<reset|start>", flush=True)
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.Future()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=9000)
    parser.add_argument("--db", default="csms.sqlite", help="SQLite file (created on first run)")
    parser.add_argument("--database", help="PostgreSQL instead of the SQLite file: postgresql://host:port/db "
                        "(needs ocppgen[postgresql]; what several nodes share)")
    parser.add_argument("--redis", help="join the cluster on this Redis (redis://host:port/db; needs ocppgen[redis])")
    parser.add_argument("--redis-prefix", default="ocpp:", help="the cluster's key prefix in Redis")
    parser.add_argument("--presence-ttl", type=float, default=15.0, help="seconds until a dead node's stations vanish")
    parser.add_argument("--operator-port", type=int, help="serve the operator endpoint (examples/cluster_ops.py) here")
    args = parser.parse_args()
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve_forever(args.host, args.port, args.db, args))


if __name__ == "__main__":
    main()
