"""The station's durable queue: order, retries and dead letters, the offline flag, and a
station killed with SIGKILL again and again that still delivers every message exactly once."""

from __future__ import annotations

import asyncio
import datetime
import os
import random
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

from ocppgen.generated.runtime.errors import CallErrorReceived, ConnectionLost
from ocppgen.generated.runtime.queue import DeadLetter, SqliteStore, TransactionSender, is_transaction_related
from ocppgen.generated.runtime.routing import CallContext
from ocppgen.generated.runtime.transport import CsmsServer
from ocppgen.generated.v16 import messages as m16
from ocppgen.generated.v201 import csms, datatypes as d, enums as e, messages as m, routing
from tests.conftest import ROOT
from tests.test_transport import NOW, run

UTC = datetime.timezone.utc


def event(seq: int) -> m.TransactionEventRequest:
    return m.TransactionEventRequest(
        event_type=e.TransactionEventEnumType.Updated, timestamp=NOW, trigger_reason=e.TriggerReasonEnumType.MeterValuePeriodic,
        seq_no=seq, transaction_info=d.TransactionType(transaction_id="T"),
    )


class FakeConnection:
    """Answers calls from a script: an exception to raise, or None for success."""

    def __init__(self, script: list[Any]) -> None:
        self.script = script
        self.seen: list[tuple[int, bool]] = []

    async def call(self, route: Any, request: Any, timeout: Any) -> Any:
        self.seen.append((request.seq_no, request.offline))
        outcome = self.script.pop(0) if self.script else None
        if outcome is not None:
            raise outcome
        return m.TransactionEventResponse()


async def drained(store: SqliteStore) -> None:
    for _ in range(100):
        if store.counts()["queue"] == 0:
            return
        await asyncio.sleep(0.01)


def test_which_messages_are_transaction_related() -> None:
    assert is_transaction_related("TransactionEvent", event(0))
    assert is_transaction_related("StartTransaction", None) and is_transaction_related("StopTransaction", None)
    assert is_transaction_related("MeterValues", m16.MeterValuesRequest(connector_id=1, transaction_id=5, meter_value=[]))
    assert not is_transaction_related("MeterValues", m16.MeterValuesRequest(connector_id=1, meter_value=[]))
    assert not is_transaction_related("Heartbeat", None)


def test_in_order_retry_interval_times_attempts_and_dead_letter(tmp_path: Path) -> None:
    err = CallErrorReceived("x", "TransactionEvent", "InternalError", "db down", {})
    conn = FakeConnection([err, err, None, err, err, err])  # seq 0: 2 failures then ok; seq 1: dead after 3
    sleeps: list[float] = []
    dead: list[DeadLetter] = []
    store = SqliteStore(str(tmp_path / "q.sqlite"))

    async def fake_sleep(seconds: float) -> None:
        sleeps.append(seconds)

    async def main() -> None:
        sender = TransactionSender(store, routing.ROUTES, lambda: conn, max_attempts=3, interval=10, sleep=fake_sleep, on_dead_letter=dead.append)
        for seq in range(3):
            sender.submit(routing.TRANSACTION_EVENT, event(seq))
        task = asyncio.ensure_future(sender.run())
        await drained(store)
        task.cancel()

    run(main())
    assert [s for s, _ in conn.seen] == [0, 0, 0, 1, 1, 1, 2]  # strictly in order, the next waits
    assert sleeps == [10, 20, 10, 20]  # interval x attempts, E13
    assert [x.message.payload for x in dead] and dead[0].reason.endswith("db down")
    assert store.counts() == {"queue": 0, "sent": 2, "dead": 1}


def test_connection_loss_is_not_an_attempt_and_offline_events_are_flagged(tmp_path: Path) -> None:
    store = SqliteStore(str(tmp_path / "q.sqlite"))
    state: dict[str, Any] = {"conn": None}
    conn = FakeConnection([ConnectionLost("x", "TransactionEvent", "lost"), None, None])

    async def main() -> None:
        sender = TransactionSender(store, routing.ROUTES, lambda: state["conn"], max_attempts=1, interval=0)
        task = asyncio.ensure_future(sender.run())
        sender.submit(routing.TRANSACTION_EVENT, event(0))  # offline
        await asyncio.sleep(0.05)
        assert store.counts()["queue"] == 1
        state["conn"] = conn
        sender.wake()
        sender.submit(routing.TRANSACTION_EVENT, event(1))  # online
        await drained(store)
        task.cancel()

    run(main())
    assert conn.seen == [(0, True), (0, True), (1, False)]  # the loss did not bury it (max_attempts=1)
    assert store.counts() == {"queue": 0, "sent": 2, "dead": 0}


class Recording(csms.CsmsHandler):
    """A CSMS that checks seqNo continuity and handles each (transaction, seqNo) once."""

    def __init__(self) -> None:
        self.handled: list[int] = []
        self.duplicates = 0

    async def on_boot_notification(self, request: m.BootNotificationRequest, context: CallContext) -> m.BootNotificationResponse:
        return m.BootNotificationResponse(current_time=NOW, interval=60, status=e.RegistrationStatusEnumType.Accepted)

    async def on_transaction_event(self, request: m.TransactionEventRequest, context: CallContext) -> m.TransactionEventResponse:
        if request.seq_no in self.handled:
            self.duplicates += 1  # a redelivery after a crash: acknowledged, not handled twice
        else:
            assert request.seq_no == len(self.handled), f"gap: got {request.seq_no} after {self.handled[-1:]}"
            self.handled.append(request.seq_no)
        return m.TransactionEventResponse()


def test_sigkill_at_random_points_loses_nothing_and_handles_nothing_twice(tmp_path: Path) -> None:
    handler = Recording()
    server = CsmsServer([(csms.BINDING, handler)])
    total = 60
    db = tmp_path / "station.sqlite"
    rng = random.Random(7)

    async def main() -> None:
        async with server.serve("127.0.0.1", 0) as ws_server:
            port = next(iter(ws_server.sockets)).getsockname()[1]
            cmd = [sys.executable, "-m", "tests.killable_station", f"ws://127.0.0.1:{port}/ocpp/KILLME", str(db), str(total)]
            kills = 0
            for _ in range(5):
                proc = subprocess.Popen(cmd, cwd=ROOT)
                await asyncio.sleep(rng.uniform(0.4, 1.2))
                if proc.poll() is None:
                    os.kill(proc.pid, signal.SIGKILL)
                    kills += 1
                proc.wait()
            proc = subprocess.Popen(cmd, cwd=ROOT)  # the last run finishes
            for _ in range(600):
                if proc.poll() is not None:
                    break
                await asyncio.sleep(0.05)
            assert proc.returncode == 0
            assert kills >= 3

    asyncio.run(main())
    assert handler.handled == list(range(total))  # every message, in order, once
    counts = SqliteStore(str(db)).counts()
    assert counts == {"queue": 0, "sent": total, "dead": 0}


def test_station_client_queue_delivers_offline_events_after_connecting_and_booting(tmp_path: Path) -> None:
    from ocppgen.generated.runtime.transport import BackOff, StationClient
    from ocppgen.generated.v201 import station

    handler = Recording()
    seen_offline: list[bool] = []
    original = handler.on_transaction_event

    async def spy(request: m.TransactionEventRequest, context: CallContext) -> m.TransactionEventResponse:
        seen_offline.append(bool(request.offline))
        return await original(request, context)

    handler.on_transaction_event = spy  # type: ignore[method-assign]
    server = CsmsServer([(csms.BINDING, handler)])

    async def main() -> None:
        import socket

        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        client = StationClient(
            f"ws://127.0.0.1:{port}/ocpp/Q1", [station.BINDING], station.StationHandler(),
            backoff=BackOff(0.05, 0, 1), queue=SqliteStore(str(tmp_path / "q.sqlite")), queue_interval=0.05,
        )
        async with client.running():
            for seq in range(3):
                client.submit(routing.TRANSACTION_EVENT, event(seq))  # the CSMS is not up yet
            await asyncio.sleep(0.2)
            async with server.serve("127.0.0.1", port):
                await client.connected()
                await asyncio.sleep(0.2)
                assert handler.handled == []  # not registered yet: nothing delivered
                await client.csms.boot_notification(
                    m.BootNotificationRequest(reason=e.BootReasonEnumType.PowerUp, charging_station=d.ChargingStationType(model="M", vendor_name="V"))
                )
                client.submit(routing.TRANSACTION_EVENT, event(3))  # online now
                for _ in range(100):
                    if len(handler.handled) == 4:
                        break
                    await asyncio.sleep(0.02)

    asyncio.run(main())
    assert handler.handled == [0, 1, 2, 3]
    assert seen_offline == [True, True, True, False]
