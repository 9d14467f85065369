"""A station process for the SIGKILL test: it submits TransactionEvents seqNo 0..total-1 of
one transaction through the durable queue, resuming where its SQLite file says it was, and
exits once everything is delivered.

    python -m tests.killable_station URL DB TOTAL
"""

from __future__ import annotations

import asyncio
import datetime
import random
import sys
from typing import Any

from ocppgen.generated.runtime.queue import SqliteStore, TransactionSender
from ocppgen.generated.runtime.transport import BackOff, StationClient
from ocppgen.generated.v201 import datatypes as d, enums as e, messages as m, routing, station

TX = "TX-KILL-1"


async def main(url: str, db: str, total: int) -> None:
    store = SqliteStore(db)
    ready: dict[str, Any] = {"connection": None}
    sender = TransactionSender(store, routing.ROUTES, lambda: ready["connection"], max_attempts=5, interval=0.05, call_timeout=2)

    async def boot(connection: Any) -> None:
        await connection.client.boot_notification(
            m.BootNotificationRequest(reason=e.BootReasonEnumType.PowerUp, charging_station=d.ChargingStationType(model="K", vendor_name="V"))
        )
        ready["connection"] = connection
        sender.wake()

    def on_connect(connection: Any) -> None:
        ready["connection"] = None
        asyncio.ensure_future(boot(connection))

    client = StationClient(url, [station.BINDING], station.StationHandler(), backoff=BackOff(0.05, 0.05, 2), on_connect=on_connect)
    async with client.running():
        task = asyncio.ensure_future(sender.run())
        counts = store.counts()
        start = counts["queue"] + counts["sent"] + counts["dead"]  # everything submitted before a kill
        for seq in range(start, total):
            kind = e.TransactionEventEnumType.Started if seq == 0 else e.TransactionEventEnumType.Ended if seq == total - 1 else e.TransactionEventEnumType.Updated
            sender.submit(routing.TRANSACTION_EVENT, m.TransactionEventRequest(
                event_type=kind, timestamp=datetime.datetime.now(datetime.timezone.utc), trigger_reason=e.TriggerReasonEnumType.MeterValuePeriodic,
                seq_no=seq, transaction_info=d.TransactionType(transaction_id=TX)))
            await asyncio.sleep(random.uniform(0.02, 0.05))
        while store.counts()["queue"]:
            await asyncio.sleep(0.02)
        task.cancel()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2], int(sys.argv[3])))
