"""A station process for the SIGKILL tests: it submits the messages of one transaction through
the durable queue, resuming where its SQLite file says it was, boots once per process (a
reconnect within the process does not boot again), and exits once everything is delivered.

    python -m tests.killable_station VERSION URL DB TOTAL [BOOTS]

BOOTS: a file the process appends a line "<pid>" to for every BootNotification answer it received
(a boot the CSMS handled whose answer was lost to a drop does not count: the station was not
registered by it and boots again, B01).

2.0.1 / 2.1: TransactionEvents seqNo 0..TOTAL-1. 1.6: a StartTransaction, MeterValues carrying
their number as the sampled value, and a StopTransaction; the MeterValues and StopTransaction
name their StartTransaction (``start=``) so they carry the transactionId the CSMS assigned.
"""

from __future__ import annotations

import asyncio
import datetime
import os
import random
import sys
from typing import Any

from ocppgen.generated.runtime.client import StationClient
from ocppgen.generated.runtime.config import BackOff, StationOptions
from ocppgen.generated.runtime.queue import SqliteStore
from ocppgen.generated.runtime.session import Session
from ocppgen.generated.v16 import datatypes as d16, enums as e16, messages as m16, routing as r16, station as st16
from ocppgen.generated.v201 import datatypes as d201, enums as e201, messages as m201, routing as r201, station as st201
from ocppgen.generated.v21 import datatypes as d21, enums as e21, messages as m21, routing as r21, station as st21

TX = "TX-KILL-1"
BINDINGS: dict[str, Any] = {"1.6": st16, "2.0.1": st201, "2.1": st21}


def now() -> datetime.datetime:
    return datetime.datetime.now(datetime.timezone.utc)


def message(version: str, seq: int, total: int) -> tuple[Any, Any, bool]:
    """The route and request of message ``seq``, and whether it names the StartTransaction."""
    if version == "1.6":
        if seq == 0:
            return r16.START_TRANSACTION, m16.StartTransactionRequest(connector_id=1, id_tag="KILL", meter_start=0, timestamp=now()), False
        if seq == total - 1:
            return r16.STOP_TRANSACTION, m16.StopTransactionRequest(transaction_id=-1, meter_stop=seq, timestamp=now()), True
        value = d16.SampledValue(value=str(seq), measurand=e16.Measurand.Energy_Active_Import_Register)
        request = m16.MeterValuesRequest(connector_id=1, transaction_id=-1, meter_value=[d16.MeterValue(timestamp=now(), sampled_value=[value])])
        return r16.METER_VALUES, request, True
    m, e, d, r = (m201, e201, d201, r201) if version == "2.0.1" else (m21, e21, d21, r21)
    kind = e.TransactionEventEnumType.Started if seq == 0 else e.TransactionEventEnumType.Ended if seq == total - 1 else e.TransactionEventEnumType.Updated
    request = m.TransactionEventRequest(
        event_type=kind, timestamp=now(), trigger_reason=e.TriggerReasonEnumType.MeterValuePeriodic, seq_no=seq,
        transaction_info=d.TransactionType(transaction_id=TX),
    )
    return r.TRANSACTION_EVENT, request, False


def boot(version: str) -> Any:
    if version == "1.6":
        return m16.BootNotificationRequest(charge_point_model="K", charge_point_vendor="V")
    m, e, d = (m201, e201, d201) if version == "2.0.1" else (m21, e21, d21)
    return m.BootNotificationRequest(reason=e.BootReasonEnumType.PowerUp, charging_station=d.ChargingStationType(model="K", vendor_name="V"))


async def main(version: str, url: str, db: str, total: int, boots: str | None = None) -> None:
    store = SqliteStore(db)
    role = BINDINGS[version]

    class Station(role.StationHandler):  # type: ignore[misc, name-defined]
        async def connected(self, session: Session, client: Any) -> None:
            if not session.registered:  # once per process: a reconnect keeps the registration
                await client.boot_notification(boot(version))
                if boots is not None:
                    with open(boots, "a", encoding="utf-8") as out:
                        out.write(f"{os.getpid()}\n")

    options = StationOptions(
        backoff=BackOff(0.05, 0.05, 2), queue=store, queue_attempts=5, queue_interval=0.05, call_timeout=2, ping_interval=None
    )
    client = StationClient(url, role.BINDING, Station(), options)
    async with client.running():
        counts = store.counts()
        start = counts["queue"] + counts["sent"] + counts["dead"]  # everything submitted before a kill
        for seq in range(start, total):
            route, request, names_start = message(version, seq, total)
            client.submit(route, request, start=1 if names_start else None)  # the StartTransaction is message #1
            await asyncio.sleep(random.uniform(0.02, 0.05))
        while store.counts()["queue"]:
            await asyncio.sleep(0.02)


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), sys.argv[5] if len(sys.argv) > 5 else None))
