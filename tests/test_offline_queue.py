"""The station's durable queue: order, retries and dead letters, the offline flag, and a
station killed with SIGKILL again and again that still delivers every message exactly once."""

from __future__ import annotations

import asyncio
import collections
import datetime
import os
import random
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import msgspec
import pytest

from ocppgen.generated.runtime.errors import CallErrorReceived, ConnectionLost, QueueFull
from ocppgen.generated.runtime.queue import DeadLetter, SqliteStore, TransactionSender, is_transaction_related
from ocppgen.generated.runtime.session import Session
from ocppgen.generated.v16 import csms as csms16, datatypes as d16, enums as e16, messages as m16, routing as r16
from ocppgen.generated.v201 import csms, datatypes as d, enums as e, messages as m, routing
from ocppgen.generated.v21 import csms as csms21, enums as e21, messages as m21
from tests.conftest import ROOT
from tests.helpers import FAST, NOW, eventually, run, server, started, station

UTC = datetime.timezone.utc


def event(seq: int) -> m.TransactionEventRequest:
    return m.TransactionEventRequest(
        event_type=e.TransactionEventEnumType.Updated, timestamp=NOW, trigger_reason=e.TriggerReasonEnumType.MeterValuePeriodic,
        seq_no=seq, transaction_info=d.TransactionType(transaction_id="T"),
    )


class FakeConnection:
    """Answers calls from a script: an exception to raise, or None for success."""

    closed = False

    def __init__(self, script: list[Any]) -> None:
        self.script = script
        self.seen: list[tuple[int, bool]] = []
        self.ids: list[str | None] = []

    async def call(self, route: Any, request: Any, timeout: Any, *, message_id: str | None = None) -> Any:
        self.seen.append((request.seq_no, request.offline))
        self.ids.append(message_id)
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
        sender = TransactionSender(store, routing.ROUTES, lambda: conn, max_attempts=3, interval=10, sleep=fake_sleep, on_dead_letter=dead.append)  # type: ignore[arg-type, return-value]
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


def test_a_security_event_being_retried_does_not_hold_back_transaction_events(tmp_path: Path) -> None:
    """A04.FR.02 (critical security events queued with guaranteed delivery) shares the durable
    store, not the order: the TransactionEvents behind a refused SecurityEventNotification go out
    while it waits for its next attempt (E13's retry interval is the transaction lane's only)."""
    err = CallErrorReceived("x", "SecurityEventNotification", "InternalError", "log full", {})
    store = SqliteStore(str(tmp_path / "q.sqlite"))
    sent: list[str] = []

    class Connection:
        closed = False

        async def call(self, route: Any, request: Any, timeout: Any, *, message_id: str | None = None) -> Any:
            sent.append(str(route.action.value) if route.action != "TransactionEvent" else f"TE{request.seq_no}")
            if route.action == "SecurityEventNotification" and sent.count("SecurityEventNotification") == 1:
                raise err
            return route.response_codec.decode(b"{}")

    waits: list[float] = []
    conn = Connection()

    async def slow_sleep(seconds: float) -> None:
        waits.append(seconds)
        await asyncio.sleep(0.2)  # the security event's retry interval, long against the deliveries

    async def main() -> None:
        sender = TransactionSender(store, routing.ROUTES, lambda: conn, interval=1, sleep=slow_sleep)  # type: ignore[arg-type, return-value]
        security = routing.ROUTES["SecurityEventNotification"]
        sender.submit(security, security.request_codec.decode(b'{"type": "InvalidCsmsCertificate", "timestamp": "2026-01-01T00:00:00Z"}'))
        for seq in range(3):
            sender.submit(routing.TRANSACTION_EVENT, event(seq))
        task = asyncio.ensure_future(sender.run())
        await eventually(lambda: sent[:4].count("SecurityEventNotification") == 1 and "TE2" in sent[:4])
        await drained(store)
        task.cancel()

    run(main())
    transactions = [x for x in sent if x.startswith("TE")]
    assert transactions == ["TE0", "TE1", "TE2"]  # in order, none waited for the refused event's retry
    assert sent.count("SecurityEventNotification") == 2 and sent[-1] == "SecurityEventNotification"
    assert waits == [1]  # one retry wait, in the security lane only
    assert store.counts() == {"queue": 0, "sent": 4, "dead": 0}


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


class Seen:
    """Checks seqNo continuity and counts each (transaction, seqNo) once."""

    def __init__(self) -> None:
        self.handled: list[int] = []
        self.duplicates = 0

    async def on_boot_notification(self, request: m.BootNotificationRequest, context: Any) -> m.BootNotificationResponse:
        return m.BootNotificationResponse(current_time=NOW, interval=60, status=e.RegistrationStatusEnumType.Accepted)

    async def on_transaction_event(self, request: m.TransactionEventRequest, context: Any) -> m.TransactionEventResponse:
        if request.seq_no in self.handled:
            self.duplicates += 1  # a redelivery after a crash: acknowledged, not handled twice
        else:
            assert request.seq_no == len(self.handled), f"gap: got {request.seq_no} after {self.handled[-1:]}"
            self.handled.append(request.seq_no)
        return m.TransactionEventResponse()


def test_a_full_call_queue_or_an_unexpected_error_never_stops_the_sender(tmp_path: Path) -> None:
    store = SqliteStore(str(tmp_path / "q.sqlite"))
    conn = FakeConnection([QueueFull("100 CALLs already queued"), RuntimeError("a bug somewhere"), None])
    sleeps: list[float] = []

    async def fake_sleep(seconds: float) -> None:
        sleeps.append(seconds)

    async def main() -> None:
        sender = TransactionSender(store, routing.ROUTES, lambda: conn, max_attempts=1, sleep=fake_sleep)  # type: ignore[arg-type, return-value]
        sender.submit(routing.TRANSACTION_EVENT, event(0))
        task = asyncio.ensure_future(sender.run())
        await drained(store)
        assert not task.done()  # still running, waiting for more
        task.cancel()

    run(main())
    assert [seq for seq, _ in conn.seen] == [0, 0, 0]  # neither the full queue nor the bug was an attempt
    assert store.counts() == {"queue": 0, "sent": 1, "dead": 0}
    assert sleeps == [0.2, 1.0]


def test_2_1_attempts_reuse_the_stored_message_id_and_2_0_1_attempts_get_new_ones(tmp_path: Path) -> None:
    """Part 4 2.1 section 4.1.4 lets a retry reuse its message id; 2.0.1 section 4.1.4 forbids it."""
    err = CallErrorReceived("x", "TransactionEvent", "InternalError", "busy", {})

    async def fake_sleep(seconds: float) -> None:
        return None

    async def attempts(reuse: bool, name: str) -> list[str | None]:
        store = SqliteStore(str(tmp_path / name))
        conn = FakeConnection([err, ConnectionLost("x", "TransactionEvent", "lost"), None])
        sender = TransactionSender(store, routing.ROUTES, lambda: conn, reuse_ids=reuse, sleep=fake_sleep)  # type: ignore[arg-type, return-value]
        sender.submit(routing.TRANSACTION_EVENT, event(0))
        task = asyncio.ensure_future(sender.run())
        await drained(store)
        task.cancel()
        return conn.ids

    ids21 = run(attempts(True, "q21.sqlite"))
    assert len(ids21) == 3 and len(set(ids21)) == 1 and ids21[0] is not None
    assert run(attempts(False, "q201.sqlite")) == [None, None, None]  # None: the connection makes a new id


def test_1_6_messages_queued_before_the_start_was_confirmed_carry_the_assigned_transaction_id(tmp_path: Path) -> None:
    """OCPP 1.6 edition 2 sections 3.7, 4.8, 4.10: the transactionId comes from StartTransaction.conf."""
    db = str(tmp_path / "q16.sqlite")
    sent: list[tuple[str, int | None]] = []

    class Csms16:
        closed = False

        async def call(self, route: Any, request: Any, timeout: Any, *, message_id: str | None = None) -> Any:
            sent.append((route.action, getattr(request, "transaction_id", None)))
            if route.action == "StartTransaction":
                return m16.StartTransactionResponse(transaction_id=4711, id_tag_info=d16.IdTagInfo(status=e16.AuthorizationStatus.Accepted))
            return route.response()

    start = m16.StartTransactionRequest(connector_id=1, id_tag="T", meter_start=0, timestamp=NOW)
    meter = m16.MeterValuesRequest(connector_id=1, transaction_id=-1, meter_value=[
        d16.MeterValue(timestamp=NOW, sampled_value=[d16.SampledValue(value="1")])])
    stop = m16.StopTransactionRequest(transaction_id=-1, meter_stop=5, timestamp=NOW)
    state: dict[str, Any] = {"conn": None}

    async def main() -> None:
        sender = TransactionSender(SqliteStore(db), r16.ROUTES, lambda: state["conn"])
        ref = sender.submit(r16.START_TRANSACTION, start)  # all three queued while offline
        sender.submit(r16.METER_VALUES, meter, start=ref)
        with pytest.raises(Exception, match="names the StartTransaction"):
            sender.submit(r16.HEARTBEAT, m16.HeartbeatRequest(), start=ref)
        with pytest.raises(Exception, match="no queued or sent message #99"):
            sender.submit(r16.STOP_TRANSACTION, stop, start=99)
        # the process restarts: a new sender on the same file delivers with the assigned id
        restarted = TransactionSender(SqliteStore(db), r16.ROUTES, lambda: state["conn"])
        restarted.submit(r16.STOP_TRANSACTION, stop, start=ref)
        state["conn"] = Csms16()
        task = asyncio.ensure_future(restarted.run())
        await drained(restarted.store)  # type: ignore[arg-type]
        task.cancel()
        assert restarted.store.transaction_id(ref) == 4711

    run(main())
    assert sent == [("StartTransaction", None), ("MeterValues", 4711), ("StopTransaction", 4711)]


class Seen:
    """Checks seqNo continuity and counts each (transaction, seqNo) once."""

    def __init__(self) -> None:
        self.handled: list[int] = []
        self.duplicates = 0
        self.boots = 0

    def seen(self, seq: int) -> None:
        if seq in self.handled:
            self.duplicates += 1  # a redelivery after a crash: acknowledged, not handled twice
        else:
            assert seq == len(self.handled), f"gap: got {seq} after {self.handled[-1:]}"
            self.handled.append(seq)


class Recording(Seen, csms.CsmsHandler):
    """A 2.0.1 CSMS that checks seqNo continuity and handles each (transaction, seqNo) once."""

    async def on_boot_notification(self, request: Any, context: Any) -> Any:
        self.boots += 1
        return m.BootNotificationResponse(current_time=NOW, interval=60, status=e.RegistrationStatusEnumType.Accepted)

    async def on_transaction_event(self, request: Any, context: Any) -> Any:
        self.seen(request.seq_no)
        return m.TransactionEventResponse()


class Recording21(Seen, csms21.CsmsHandler):
    async def on_boot_notification(self, request: Any, context: Any) -> Any:
        self.boots += 1
        return m21.BootNotificationResponse(current_time=NOW, interval=60, status=e21.RegistrationStatusEnumType.Accepted)

    async def on_transaction_event(self, request: Any, context: Any) -> Any:
        self.seen(request.seq_no)
        return m21.TransactionEventResponse()


class Recording16(Seen, csms16.CsmsHandler):
    """Assigns transaction id 4242 (the same one for a redelivered StartTransaction)."""

    def __init__(self) -> None:
        super().__init__()
        self.ids: set[int] = set()

    async def on_boot_notification(self, request: Any, context: Any) -> Any:
        self.boots += 1
        return m16.BootNotificationResponse(current_time=NOW, interval=60, status=e16.RegistrationStatus.Accepted)

    async def on_start_transaction(self, request: Any, context: Any) -> Any:
        self.seen(0)
        return m16.StartTransactionResponse(transaction_id=4242, id_tag_info=d16.IdTagInfo(status=e16.AuthorizationStatus.Accepted))

    async def on_meter_values(self, request: Any, context: Any) -> Any:
        self.ids.add(request.transaction_id)
        self.seen(int(request.meter_value[0].sampled_value[0].value))
        return m16.MeterValuesResponse()

    async def on_stop_transaction(self, request: Any, context: Any) -> Any:
        self.ids.add(request.transaction_id)
        self.seen(request.meter_stop)
        return m16.StopTransactionResponse()


@pytest.mark.parametrize("version", ["2.0.1", "2.1", "1.6"])
def test_sigkill_network_drops_and_a_csms_restart_lose_nothing_and_handle_nothing_twice(tmp_path: Path, version: str) -> None:
    """The station process is killed with SIGKILL at random points and restarted; the CSMS
    drops its connection at random points in between, and once goes down for a while and comes
    back as a new server (its sessions in a SqliteSessionStore): every message arrives in order,
    none is dead-lettered, the station is registered once per process (never boots again after a
    reconnect, also not after the CSMS restart). A drop while a BootNotification is in flight
    loses its answer: that station was not registered and boots again (B01), so the CSMS may
    handle more boots than there were processes; the processes count the answers they got."""
    from ocppgen.generated.runtime.registry import SqliteSessionStore

    binding = {"1.6": csms16, "2.0.1": csms, "2.1": csms21}[version].BINDING
    handler = {"1.6": Recording16, "2.0.1": Recording, "2.1": Recording21}[version]()
    sessions = str(tmp_path / "csms-sessions.sqlite")
    current = {"server": server((binding, handler), ping_interval=None, session_store=SqliteSessionStore(sessions))}
    total = 40
    db = tmp_path / "station.sqlite"
    answered = tmp_path / "boots-answered.txt"  # one line "<pid>" per BootNotification answer a station process got
    rng = random.Random(7)

    async def drops() -> None:
        while True:
            await asyncio.sleep(rng.uniform(0.2, 0.5))
            session = current["server"].registry.session("KILLME")
            if session is not None and session.link is not None:
                await session.link.close(1011, "network drop")  # type: ignore[attr-defined]

    async def main() -> None:
        import socket

        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        cmd = [sys.executable, "-m", "tests.killable_station", version, f"ws://127.0.0.1:{port}/ocpp/KILLME", str(db), str(total), str(answered)]
        kills = started = 0
        dropping = asyncio.ensure_future(drops())
        async with current["server"].serve("127.0.0.1", port):
            for _ in range(3):  # killed with SIGKILL at random points, restarted
                proc = subprocess.Popen(cmd, cwd=ROOT)
                started += 1
                await asyncio.sleep(rng.uniform(0.5, 1.2))
                if proc.poll() is None:
                    os.kill(proc.pid, signal.SIGKILL)
                    kills += 1
                proc.wait()
            survivor = subprocess.Popen(cmd, cwd=ROOT)  # one process lives through the CSMS restart
            started += 1
            await asyncio.sleep(0.6)
        await asyncio.sleep(0.5)  # the outage: the station retries with its back-off
        current["server"] = server((binding, handler), ping_interval=None, session_store=SqliteSessionStore(sessions))
        async with current["server"].serve("127.0.0.1", port):
            for _ in range(1200):
                if survivor.poll() is not None:
                    break
                await asyncio.sleep(0.05)
        dropping.cancel()
        assert survivor.returncode == 0
        assert kills >= 2
        # at most one answered boot per process: neither a drop nor the CSMS restart made a
        # registered station boot again; and every answered boot was one the CSMS handled
        per_process = collections.Counter(answered.read_text().split())
        assert per_process and max(per_process.values()) == 1, per_process
        assert len(per_process) <= started and handler.boots >= len(per_process)

    asyncio.run(main())
    assert handler.handled == list(range(total))  # every message, in order, once
    counts = SqliteStore(str(db)).counts()
    assert counts == {"queue": 0, "sent": total, "dead": 0}
    if version == "2.1":
        assert handler.duplicates == 0  # retries reuse their id and are answered from the cache
    if version == "1.6":
        assert handler.ids == {4242}  # never the placeholder -1


def test_station_client_queue_delivers_offline_events_after_connecting_and_booting(tmp_path: Path) -> None:
    handler = Recording()
    seen_offline: list[bool] = []
    original = handler.on_transaction_event

    async def spy(request: m.TransactionEventRequest, context: Any) -> m.TransactionEventResponse:
        seen_offline.append(bool(request.offline))
        return await original(request, context)  # type: ignore[no-any-return]

    handler.on_transaction_event = spy  # type: ignore[method-assign]
    csms_server = server((csms.BINDING, handler))

    async def main() -> None:
        import socket

        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        from ocppgen.generated.v201 import station as station201

        client = station(
            f"ws://127.0.0.1:{port}/ocpp/Q1", station201.BINDING, station201.StationHandler(),
            queue=SqliteStore(str(tmp_path / "q.sqlite")), queue_interval=0.05,
        )
        async with client.running():
            for seq in range(3):
                client.submit(routing.TRANSACTION_EVENT, event(seq))  # the CSMS is not up yet
            await asyncio.sleep(0.2)
            async with csms_server.serve("127.0.0.1", port):
                await client.connected(timeout=5)
                await asyncio.sleep(0.2)
                assert handler.handled == []  # not registered yet: nothing delivered (B01.FR.08)
                await client.csms.boot_notification(
                    m.BootNotificationRequest(reason=e.BootReasonEnumType.PowerUp, charging_station=d.ChargingStationType(model="M", vendor_name="V"))
                )
                client.submit(routing.TRANSACTION_EVENT, event(3))  # online now
                await eventually(lambda: len(handler.handled) == 4, what="delivery")

    asyncio.run(main())
    assert handler.handled == [0, 1, 2, 3]
    assert seen_offline == [True, True, True, False]


def test_the_typed_response_of_a_queued_message_and_its_dead_letter(tmp_path: Path) -> None:
    """A station must act on the idTokenInfo of a TransactionEventResponse (E05.FR.09/E06): the
    answer to a queued message reaches the application typed, after reconnects and retries; a
    message given up on raises DeadLettered; on_delivered sees every acknowledged message."""
    from ocppgen.generated.runtime.errors import DeadLettered
    from ocppgen.generated.runtime.queue import Delivered
    from ocppgen.generated.v201 import station as station201

    class Authorizing(csms.CsmsHandler):
        async def on_boot_notification(self, request: Any, context: Any) -> m.BootNotificationResponse:
            return m.BootNotificationResponse(current_time=NOW, interval=60, status=e.RegistrationStatusEnumType.Accepted)

        async def on_transaction_event(self, request: m.TransactionEventRequest, context: Any) -> m.TransactionEventResponse:
            if request.seq_no == 1:
                raise csms.CallError("InternalError", "cannot store it")  # every attempt
            status = e.AuthorizationStatusEnumType.Blocked if request.seq_no == 2 else e.AuthorizationStatusEnumType.Accepted
            return m.TransactionEventResponse(id_token_info=d.IdTokenInfoType(status=status))

    delivered: list[Delivered] = []

    async def main() -> None:
        async def body(port: int) -> None:
            client = station(
                f"ws://127.0.0.1:{port}/ocpp/R1", station201.BINDING, station201.StationHandler(),
                queue=SqliteStore(str(tmp_path / "q.sqlite")), queue_interval=0.01, queue_attempts=2,
                on_delivered=delivered.append,
            )
            async with client.running():
                queued = [client.submit(routing.TRANSACTION_EVENT, event(seq)) for seq in range(3)]
                await client.connected(timeout=5)
                await client.register(lambda peer: peer.boot_notification(m.BootNotificationRequest(
                    reason=e.BootReasonEnumType.PowerUp, charging_station=d.ChargingStationType(model="M", vendor_name="V"))))
                first = await client.response(queued[0], timeout=5)
                assert isinstance(first, m.TransactionEventResponse) and first.id_token_info is not msgspec.UNSET
                assert first.id_token_info.status is e.AuthorizationStatusEnumType.Accepted
                with pytest.raises(DeadLettered, match="cannot store it") as failure:
                    await client.response(queued[1], timeout=5)
                assert failure.value.seq == queued[1] and failure.value.action == "TransactionEvent"
                third = await client.response(queued[2], timeout=5)
                assert third.id_token_info is not msgspec.UNSET
                assert third.id_token_info.status is e.AuthorizationStatusEnumType.Blocked
                assert await client.response(queued[0], timeout=1) == first  # asked again: the same answer

        await started(server((csms.BINDING, Authorizing())), body)

    run(main())
    assert [x.message.seq for x in delivered] == [1, 3]
    assert all(isinstance(x.response, m.TransactionEventResponse) for x in delivered)
