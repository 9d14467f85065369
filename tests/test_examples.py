"""The examples: the SQLite CSMS and the station simulator, end to end in every version."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from examples import csms as example_csms, station as example_station
from examples.defaults import default_struct
from ocppgen.generated.runtime.routing import Reply
from tests.protocol_helpers import context as make_context
from ocppgen.generated.v16 import csms as csms16, datatypes as d16, enums as e16, messages as m16, routing as r16
from ocppgen.generated.v201 import csms as csms201, datatypes as d201, enums as e201, messages as m201
from ocppgen.generated.v201 import routing as r201
from ocppgen.generated.v21 import csms as csms21, datatypes as d21, enums as e21, messages as m21, routing as r21
from tests.helpers import eventually, run


@pytest.mark.parametrize(
    ("version", "role", "routes"), [("1.6", csms16, r16), ("2.0.1", csms201, r201), ("2.1", csms21, r21)]
)
def test_example_csms_answers_every_station_initiated_action(tmp_path: Path, version: str, role: Any, routes: Any) -> None:
    server = example_csms.build_server(str(tmp_path / "db.sqlite"))
    handler = next(h for b, h in server.bindings.values() if b.version == version)
    context = make_context("1", version=version)
    failures = []
    for action in role.HANDLED:
        route = routes.ROUTES[action]
        request = default_struct(route.request)
        outcome = run(role.dispatch(handler, action, route.request_codec.encode(request), context))
        if not isinstance(outcome, Reply):
            failures.append((action, outcome))
    assert failures == []


def ask(version: str, client: Any) -> list[Any]:
    """What the CSMS asks the simulator, per version; returns the coroutines' results."""
    if version == "1.6":
        return [
            client.get_configuration(m16.GetConfigurationRequest(key=["HeartbeatInterval", "Nope"])),
            client.change_configuration(m16.ChangeConfigurationRequest(key="HeartbeatInterval", value="60")),
            client.trigger_message(m16.TriggerMessageRequest(requested_message=e16.MessageTrigger.Heartbeat)),
            client.remote_start_transaction(m16.RemoteStartTransactionRequest(id_tag="REMOTE-1")),
            client.reset(m16.ResetRequest(type=e16.ResetType.Soft)),
        ]
    m, d, e = (m201, d201, e201) if version == "2.0.1" else (m21, d21, e21)
    hb = d.GetVariableDataType(component=d.ComponentType(name="OCPPCommCtrlr"), variable=d.VariableType(name="HeartbeatInterval"))
    return [
        client.get_variables(m.GetVariablesRequest(get_variable_data=[hb])),
        client.set_variables(m.SetVariablesRequest(set_variable_data=[d.SetVariableDataType(attribute_value="60", component=hb.component, variable=hb.variable)])),
        client.trigger_message(m.TriggerMessageRequest(requested_message=e.MessageTriggerEnumType.Heartbeat)),
        client.request_start_transaction(m.RequestStartTransactionRequest(id_token=d.IdTokenType(id_token="REMOTE-1", type="ISO14443" if version == "2.1" else e.IdTokenEnumType.ISO14443), remote_start_id=7)),
        client.reset(m.ResetRequest(type=e.ResetEnumType.OnIdle)),
    ]


@pytest.mark.parametrize("version", ["1.6", "2.0.1", "2.1"])
def test_simulator_against_example_csms(tmp_path: Path, version: str) -> None:
    db = tmp_path / "csms.sqlite"
    server = example_csms.build_server(str(db))

    async def main() -> None:
        async with server.serve("127.0.0.1", 0) as ws_server:
            port = next(iter(ws_server.sockets)).getsockname()[1]
            started = asyncio.Event()
            sim_task = asyncio.ensure_future(
                example_station.simulate(f"ws://127.0.0.1:{port}/ocpp/SIM", version, meter_values=2, interval=0.01, keep_running=True, started=started)
            )
            await asyncio.wait_for(started.wait(), 10)

            def stopped() -> int:
                return int(sqlite3.connect(db).execute("SELECT COUNT(*) FROM transactions WHERE stopped_at IS NOT NULL").fetchone()[0])

            await eventually(lambda: stopped() == 1, what="the first transaction")  # a remote start needs a free connector
            client = server.registry.client("SIM", {"1.6": csms16, "2.0.1": csms201, "2.1": csms21}[version].BINDING)
            answers = [await coro for coro in ask(version, client)]
            statuses = [getattr(getattr(a, "status", None), "value", None) for a in answers]
            assert statuses[2:] == ["Accepted", "Accepted", "Accepted"], answers
            for _ in range(200):  # the remote start runs a second transaction
                rows = sqlite3.connect(db).execute("SELECT COUNT(*) FROM transactions WHERE stopped_at IS NOT NULL").fetchone()[0]
                if rows == 2:
                    break
                await asyncio.sleep(0.05)
            sim_task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await sim_task

    run(main())
    conn = sqlite3.connect(db)
    assert conn.execute("SELECT id, version FROM stations").fetchall() == [("SIM", version)]
    assert conn.execute("SELECT COUNT(*) FROM boots").fetchone()[0] == 1
    # the CSMS read the heartbeat interval once the boot's answer was sent (after_response)
    assert conn.execute("SELECT name, value FROM configuration").fetchall() == [("HeartbeatInterval", "300")]
    tokens = sorted(r[0] for r in conn.execute("SELECT id_token FROM transactions WHERE stopped_at IS NOT NULL"))
    assert tokens == ["04A2B3C4", "REMOTE-1"]
    assert conn.execute("SELECT COUNT(*) FROM meter_values").fetchone()[0] >= 4


TRANSACTION_HANDLERS = ("on_transaction_event", "on_start_transaction", "on_meter_values", "on_stop_transaction")


def recording_server(db: Path, seen: list[tuple[str, Any, Any]]) -> Any:
    """The example CSMS, each transaction message it handles recorded as (handler, request, response)."""
    server = example_csms.build_server(str(db))
    for _, handler in server.bindings.values():
        for name in TRANSACTION_HANDLERS:
            original = getattr(handler, name, None)
            if original is None:
                continue

            async def recorded(request: Any, context: Any, _name: str = name, _original: Any = original) -> Any:
                answer = await _original(request, context)
                seen.append((_name, request, answer))
                return answer

            setattr(handler, name, recorded)
    return server


@pytest.mark.parametrize("version", ["1.6", "2.0.1", "2.1"])
def test_simulator_transaction_survives_a_csms_outage(tmp_path: Path, version: str) -> None:
    """The link drops right after the transaction started: the station goes on offline, its
    queue keeps the transaction's messages and delivers them, in order and once each, when the
    CSMS is back (2.x E12/E13, offline=true; 1.6 sections 4.7-4.10, the assigned transactionId)."""
    db = tmp_path / "csms.sqlite"
    seen: list[tuple[str, Any, Any]] = []
    queue = tmp_path / "station.queue"

    async def main() -> None:
        server = recording_server(db, seen)
        async with server.serve("127.0.0.1", 0) as ws_server:
            port = next(iter(ws_server.sockets)).getsockname()[1]
            sim_task = asyncio.ensure_future(example_station.simulate(
                f"ws://127.0.0.1:{port}/ocpp/SIM", version, meter_values=3, interval=0.5, queue_path=str(queue)))
            await eventually(lambda: len(seen) >= 1, what="the transaction's first message")
        # the CSMS is down: the station's MeterValues/TransactionEvents are queued, offline
        await asyncio.sleep(2.0)
        assert not sim_task.done()
        async with recording_server(db, seen).serve("127.0.0.1", port):
            await asyncio.wait_for(sim_task, 30)  # returns once the queue delivered the transaction's messages

    run(main(), 60)
    names = [name for name, _, _ in seen]
    if version == "1.6":
        assert names == ["on_start_transaction"] + ["on_meter_values"] * 3 + ["on_stop_transaction"]
        assigned = seen[0][2].transaction_id
        assert [request.transaction_id for _, request, _ in seen[1:]] == [assigned] * 4  # patched by the queue (start=)
        assert [float(r.meter_value[0].sampled_value[0].value) for _, r, _ in seen[1:4]] == [1250.0, 1500.0, 1750.0]
    else:
        assert names == ["on_transaction_event"] * 5
        events = [request for _, request, _ in seen]
        assert [e.seq_no for e in events] == [0, 1, 2, 3, 4]  # in order, exactly once
        assert [e.event_type.value for e in events] == ["Started", "Updated", "Updated", "Updated", "Ended"]
        assert [e.offline for e in events] == [False, True, True, True, True]
        assert len({e.transaction_info.transaction_id for e in events}) == 1
    conn = sqlite3.connect(db)
    assert conn.execute("SELECT COUNT(*) FROM transactions WHERE stopped_at IS NOT NULL").fetchone()[0] == 1
    store = sqlite3.connect(queue)
    assert store.execute("SELECT COUNT(*) FROM queue").fetchone()[0] == 0
    assert store.execute("SELECT COUNT(*) FROM sent").fetchone()[0] == 5


@pytest.mark.parametrize("version", ["1.6", "2.0.1"])
def test_simulator_stops_when_the_queued_start_is_not_accepted(tmp_path: Path, version: str) -> None:
    """E05/E06 (1.6 section 4.8): the idTokenInfo/idTagInfo of the delivered Started/StartTransaction
    is acted on: Invalid ends the transaction, Deauthorized (2.x) / DeAuthorized (1.6)."""
    db = tmp_path / "csms.sqlite"
    seen: list[tuple[str, Any, Any]] = []
    server = recording_server(db, seen)
    handler = next(h for b, h in server.bindings.values() if b.version == version)
    if version == "1.6":
        original_start = handler.on_start_transaction

        async def start(request: Any, context: Any) -> Any:
            answer = await original_start(request, context)
            return m16.StartTransactionResponse(transaction_id=answer.transaction_id, id_tag_info=d16.IdTagInfo(status=e16.AuthorizationStatus.Invalid))

        handler.on_start_transaction = start
    else:
        original_event = handler.on_transaction_event

        async def event(request: Any, context: Any) -> Any:
            answer = await original_event(request, context)
            if request.event_type.value == "Started":
                return m201.TransactionEventResponse(id_token_info=d201.IdTokenInfoType(status=e201.AuthorizationStatusEnumType.Invalid))
            return answer

        handler.on_transaction_event = event

    async def main() -> None:
        async with server.serve("127.0.0.1", 0) as ws_server:
            port = next(iter(ws_server.sockets)).getsockname()[1]
            await example_station.simulate(f"ws://127.0.0.1:{port}/ocpp/SIM", version, meter_values=50, interval=0.05)

    run(main(), 60)
    names = [name for name, _, _ in seen]
    assert len(names) < 20, names  # stopped long before its 50 meter values
    last = seen[-1][1]
    if version == "1.6":
        assert last.reason.value == "DeAuthorized"
    else:
        assert last.event_type.value == "Ended" and last.trigger_reason.value == "Deauthorized"
        assert last.transaction_info.stopped_reason.value == "DeAuthorized"


_REGISTER_RACE = """
import asyncio, types
from examples.station import register

def answer(status, interval):
    return types.SimpleNamespace(status=types.SimpleNamespace(value=status), interval=interval)

async def main():
    station = types.SimpleNamespace(registered=False)
    sim = types.SimpleNamespace(boot=None)

    async def pending():
        return answer("Pending", 1)

    task = asyncio.ensure_future(register(station, sim, pending))
    await asyncio.sleep(0.01)  # Pending: it waits for the interval, watching for a triggered boot
    station.registered = True  # the triggered boot's Accepted answer was processed ...
    await asyncio.sleep(0.2)   # ... and the task that keeps it in sim.boot resumes later
    sim.boot = answer("Accepted", 300)
    result = await asyncio.wait_for(task, 5)
    print(result.status.value)

asyncio.run(main())
"""


def test_register_waits_for_a_triggered_boot_answer_it_has_not_kept_yet() -> None:
    """F06.FR.17: a BootNotification the CSMS triggered while the station was Pending is
    accepted. The client is registered as soon as that answer is read; the example keeps the
    answer a step later, in the task that sent it. In between, ``register`` used to loop without
    ever yielding to the event loop, so that task never ran: the process hung (a CI run of
    TC_B_02_CS stalled for 90 minutes). Run in a subprocess so the old behaviour fails the test
    instead of hanging the suite."""
    import subprocess
    import sys

    from tests.conftest import ROOT

    try:
        done = subprocess.run([sys.executable, "-c", _REGISTER_RACE], cwd=ROOT, capture_output=True, text=True, timeout=30)
    except subprocess.TimeoutExpired:
        pytest.fail("register() did not return within 30 s: it spins while the triggered boot's answer is on its way")
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "Accepted"
