"""The example CSMS's data in PostgreSQL (``examples/csms.py --database postgresql://...``), for
several CSMS processes sharing one database: the same tables and methods as its SQLite ``Store``,
and transaction ids from one sequence, so two nodes never hand out the same 1.6 transactionId.
Needs ``pip install 'ocppgen[postgresql]'`` (psycopg 3)."""

from __future__ import annotations

import datetime
from typing import Any

SCHEMA = """
CREATE TABLE IF NOT EXISTS stations (id TEXT PRIMARY KEY, version TEXT, vendor TEXT, model TEXT, last_seen TEXT);
CREATE TABLE IF NOT EXISTS boots (station_id TEXT, version TEXT, reason TEXT, at TEXT);
CREATE TABLE IF NOT EXISTS transactions (station_id TEXT, version TEXT, transaction_id TEXT, id_token TEXT,
    started_at TEXT, stopped_at TEXT, meter_start DOUBLE PRECISION, meter_stop DOUBLE PRECISION,
    PRIMARY KEY (station_id, transaction_id));
CREATE TABLE IF NOT EXISTS meter_values (station_id TEXT, transaction_id TEXT, at TEXT, measurand TEXT,
    value DOUBLE PRECISION, unit TEXT);
CREATE TABLE IF NOT EXISTS configuration (station_id TEXT, name TEXT, value TEXT, PRIMARY KEY (station_id, name));
CREATE SEQUENCE IF NOT EXISTS transaction_ids;
"""


def _now() -> str:
    return datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0).isoformat()


class PostgresStore:
    """The example's database in PostgreSQL (tables created on first run)."""

    def __init__(self, url: str) -> None:
        import psycopg

        self.db: Any = psycopg.connect(url, autocommit=True)
        for statement in filter(str.strip, SCHEMA.split(";")):
            self.db.execute(statement)

    def boot(self, station: str, version: str, vendor: str, model: str, reason: str) -> None:
        at = _now()
        self.db.execute(
            "INSERT INTO stations VALUES (%s,%s,%s,%s,%s) ON CONFLICT (id) DO UPDATE SET version=%s, vendor=%s, model=%s, last_seen=%s",
            (station, version, vendor, model, at, version, vendor, model, at),
        )
        self.db.execute("INSERT INTO boots VALUES (%s,%s,%s,%s)", (station, version, reason, at))

    def seen(self, station: str) -> None:
        self.db.execute("UPDATE stations SET last_seen=%s WHERE id=%s", (_now(), station))

    def next_transaction_id(self) -> int:
        return int(self.db.execute("SELECT nextval('transaction_ids')").fetchone()[0])

    def start(self, station: str, version: str, tx: str, token: str, at: datetime.datetime, meter: float | None) -> None:
        self.db.execute(
            "INSERT INTO transactions VALUES (%s,%s,%s,%s,%s,%s,%s,%s) ON CONFLICT DO NOTHING",
            (station, version, tx, token, at.isoformat(), None, meter, None),
        )

    def stop(self, station: str, tx: str, at: datetime.datetime, meter: float | None) -> None:
        self.db.execute(
            "UPDATE transactions SET stopped_at=%s, meter_stop=%s WHERE station_id=%s AND transaction_id=%s",
            (at.isoformat(), meter, station, tx),
        )

    def meter(self, station: str, tx: str | None, at: datetime.datetime, measurand: str, value: float, unit: str) -> None:
        self.db.execute("INSERT INTO meter_values VALUES (%s,%s,%s,%s,%s,%s)", (station, tx, at.isoformat(), measurand, value, unit))

    def configured(self, station: str, name: str, value: str) -> None:
        self.db.execute(
            "INSERT INTO configuration VALUES (%s,%s,%s) ON CONFLICT (station_id, name) DO UPDATE SET value = excluded.value",
            (station, name, value),
        )
