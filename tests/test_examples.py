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
from ocppgen.generated.v16 import csms as csms16, enums as e16, messages as m16, routing as r16
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
