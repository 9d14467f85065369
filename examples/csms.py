"""Example CSMS: OCPP 1.6, 2.0.1 and 2.1 on one port, stations, boots, transactions and meter
values stored in SQLite, a readable log of what happens. After each BootNotification it reads
the station's heartbeat interval (once the boot's answer is on the wire); sessions are kept in
the same SQLite file, so a station that reconnects after a CSMS restart need not boot again.

    python examples/csms.py --port 9000 --db csms.sqlite

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

if __package__ in (None, ""):  # run as a script: make `examples` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from examples.defaults import describe, with_defaults
from ocppgen.generated.runtime.config import ServerOptions
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


class Csms2x(Base):
    """Answers shared by 2.0.1 and 2.1."""

    m: Any
    d: Any
    e: Any

    async def on_boot_notification(self, request: Any, context: Any) -> Any:
        cs = request.charging_station
        self.log(context.station_id, f"BootNotification {cs.vendor_name} {cs.model} ({request.reason.value})")
        self.store.boot(context.station_id, self.version, cs.vendor_name, cs.model, request.reason.value)

        async def read_configuration() -> None:  # runs once the boot's answer is on the wire
            d = self.d
            wanted = d.GetVariableDataType(component=d.ComponentType(name="OCPPCommCtrlr"), variable=d.VariableType(name="HeartbeatInterval"))
            answer = await context.client.get_variables(self.m.GetVariablesRequest(get_variable_data=[wanted]))
            for result in answer.get_variable_result:
                if isinstance(result.attribute_value, str):
                    self.store.configured(context.station_id, result.variable.name, result.attribute_value)

        context.after_response(read_configuration)
        return self.m.BootNotificationResponse(current_time=now(), interval=300, status=self.e.RegistrationStatusEnumType.Accepted)

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
    version, m, d, e = "2.0.1", m201, d201, e201


class Csms21(Csms2x, csms21.CsmsHandler):
    version, m, d, e = "2.1", m21, d21, e21


def build_server(db_path: str, **options: Any) -> CsmsServer:
    """The example server: every version (2.1 preferred), each station-initiated action
    answered, sessions persisted beside the data."""
    store = Store(db_path)

    def on_event(session: Any, event: Any) -> None:
        name = type(event).__name__
        if name in ("ToleratedViolation",):
            print(f"{now():%H:%M:%S} [{session.identity}] {name}: {describe(event)}", flush=True)

    options.setdefault("default_subprotocol", "ocpp1.6")
    server = CsmsServer(ServerOptions(session_store=SqliteSessionStore(db_path), on_event=on_event, **options))
    server.handle(csms21.BINDING, with_defaults(Csms21, dict(csms21.HANDLED), r21.ROUTES)(store))
    server.handle(csms201.BINDING, with_defaults(Csms201, dict(csms201.HANDLED), r201.ROUTES)(store))
    server.handle(csms16.BINDING, with_defaults(Csms16, dict(csms16.HANDLED), r16.ROUTES)(store))
    return server


async def serve_forever(host: str, port: int, db_path: str) -> None:
    server = build_server(db_path)
    async with server.serve(host, port):
        print(f"CSMS listening on ws://{host}:{port}/ocpp/<station id> (ocpp2.1, ocpp2.0.1, ocpp1.6); database {db_path}", flush=True)
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.Future()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=9000)
    parser.add_argument("--db", default="csms.sqlite", help="SQLite file (created on first run)")
    args = parser.parse_args()
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve_forever(args.host, args.port, args.db))


if __name__ == "__main__":
    main()
