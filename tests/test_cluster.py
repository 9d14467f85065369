"""One CSMS across processes over Redis (issue 13, decision 0013), over real sockets: three
example CSMS processes on one Redis, stations of 1.6, 2.0.1 and 2.1 on different nodes, typed
calls node to node and from this test process (an API process with no WebSocket), a node
killed with SIGKILL, a Redis of the test's own killed and restarted under load."""

from __future__ import annotations

import asyncio
import contextlib
import datetime
import json
import sys
from pathlib import Path
from typing import Any

import pytest

from ocppgen.generated.runtime.cluster import ClusterRegistry
from ocppgen.generated.runtime.errors import (
    CallFailure,
    ClusterUnavailable,
    NotConnected,
    NotSent,
    OutcomeUnknown,
    VersionMismatch,
)
from ocppgen.generated.runtime.redis_backplane import RedisBackplane
from ocppgen.generated.v16 import csms as csms16, enums as e16, messages as m16
from ocppgen.generated.v201 import csms as csms201, datatypes as d201, enums as e201, messages as m201
from ocppgen.generated.v201 import routing as r201
from ocppgen.generated.v21 import csms as csms21, enums as e21, messages as m21
from tests.cluster_kit import (
    TTL,
    Balancer,
    Node,
    OwnRedis,
    free_port,
    make_station,
    pg_schema,
    start_node,
    stop_node,
    unique_prefix,
)
from tests.conftest import ROOT, require_service
from tests.helpers import eventually

UTC = datetime.timezone.utc


@pytest.fixture
def redis_url() -> str:
    return require_service("redis")


async def _cleanup(url: str, prefix: str) -> None:
    backplane = RedisBackplane(url, prefix=prefix)
    try:
        await backplane.delete_prefix()
    finally:
        await backplane.close()


def boot(version: str) -> Any:
    if version == "1.6":
        return lambda csms: csms.boot_notification(m16.BootNotificationRequest(charge_point_model="M", charge_point_vendor="V"))
    if version == "2.0.1":
        from ocppgen.generated.v201 import datatypes as d

        return lambda csms: csms.boot_notification(m201.BootNotificationRequest(
            reason=e201.BootReasonEnumType.PowerUp, charging_station=d.ChargingStationType(model="M", vendor_name="V")))
    from ocppgen.generated.v21 import datatypes as d21

    return lambda csms: csms.boot_notification(m21.BootNotificationRequest(
        reason=e21.BootReasonEnumType.PowerUp, charging_station=d21.ChargingStationType(model="M", vendor_name="V")))


async def reset_any(registry: ClusterRegistry, identity: str, version: str) -> str:
    """A typed Reset through the registry, with the binding of the station's version."""
    if version == "1.6":
        a16 = await registry.client(identity, csms16.BINDING).reset(m16.ResetRequest(type=e16.ResetType.Soft), timeout=5)
        return a16.status.value
    if version == "2.0.1":
        a201 = await registry.client(identity, csms201.BINDING).reset(m201.ResetRequest(type=e201.ResetEnumType.OnIdle), timeout=5)
        return a201.status.value
    a21 = await registry.client(identity, csms21.BINDING).reset(m21.ResetRequest(type=e21.ResetEnumType.OnIdle), timeout=5)
    return a21.status.value


def test_three_nodes_typed_calls_everywhere_and_a_node_killed(redis_url: str, tmp_path: Path) -> None:
    prefix = unique_prefix()
    with pg_schema(require_service("postgresql")) as database:
        asyncio.run(asyncio.wait_for(_three_nodes(redis_url, database, prefix, tmp_path), 60))


async def _three_nodes(redis_url: str, database: str, prefix: str, tmp_path: Path) -> None:
    if True:  # one PostgreSQL database for the three nodes' data and sessions
        nodes = [await start_node(redis_url, prefix, tmp_path / f"node{i}.sqlite", database=database) for i in range(3)]
        ports = [n.ws_port for n in nodes]
        versions = ["1.6", "2.0.1", "2.1"]
        balancers = [Balancer(ports, prefer=i) for i in range(3)]
        for b in balancers:
            await b.start()
        stations = [
            make_station(f"ws://127.0.0.1:{balancers[i].port}/ocpp/CL-{i}", v, queue=tmp_path / f"q{i}.sqlite")
            for i, v in enumerate(versions)
        ]
        api = ClusterRegistry(RedisBackplane(redis_url, prefix=prefix, ttl=TTL), call_timeout=5, grace=1)
        try:
            async with api, contextlib.AsyncExitStack() as running:
                for s, v in zip(stations, versions):
                    await running.enter_async_context(s.running())
                    await s.register(boot(v), timeout=10)
                for i in range(3):  # events from every node reach this process
                    session = await api.wait_for(f"CL-{i}", timeout=10, registered=True)
                    assert session.version == versions[i]

                # API process (no socket) -> every node, with each version's typed client
                for i, v in enumerate(versions):
                    assert await reset_any(api, f"CL-{i}", v) == "Accepted"
                with pytest.raises(VersionMismatch):
                    api.client("CL-0", csms201.BINDING)  # CL-0 speaks 1.6
                loop = asyncio.get_running_loop()
                started = loop.time()
                with pytest.raises(NotConnected):  # connected nowhere: fails at once
                    api.client("NOBODY", csms201.BINDING)
                assert loop.time() - started < 0.1

                # node to node: each node's operator endpoint reaches every station
                for node in nodes:
                    for i in range(3):
                        code, answer = await node.operator(f"CL-{i}", "reset", {"type": "OnIdle"})
                        assert (code, answer) == (200, {"status": "Accepted"}), (node.node_id, i, answer)
                    code, answer = await node.operator("CL-1", "start", {"idToken": "TAG", "evseId": 1})
                    assert (code, answer) == (200, {"status": "Accepted"})
                code, answer = await nodes[0].operator("NOBODY", "reset", {})
                assert code == 502 and answer["error"] == "NotConnected" and answer["sent"] is False
                # the operator's command line: a process of its own joins the cluster for one call
                cli = await asyncio.create_subprocess_exec(
                    sys.executable, str(ROOT / "examples" / "cluster_ops.py"), "--redis", redis_url, "--prefix", prefix,
                    "reset", "CL-2", "--type", "OnIdle", stdout=asyncio.subprocess.PIPE,
                )
                out, _ = await asyncio.wait_for(cli.communicate(), 20)
                assert cli.returncode == 0 and json.loads(out) == {"status": "Accepted"}

                # SIGKILL the node holding the 2.0.1 station, with a call in flight to it
                victim, moved = nodes[1], stations[1]
                slow = asyncio.Event()

                async def slow_reset(request: Any, context: Any) -> Any:
                    slow.set()
                    await asyncio.sleep(30)
                    raise AssertionError("unreachable")

                moved.handler.on_reset = slow_reset
                in_flight = asyncio.ensure_future(api.client("CL-1", csms201.BINDING).reset(
                    m201.ResetRequest(type=e201.ResetEnumType.OnIdle), timeout=20))
                await asyncio.wait_for(slow.wait(), 5)
                before = moved.current
                killed_at = loop.time()
                victim.kill()
                with pytest.raises(OutcomeUnknown):  # the node took the call, then died
                    await in_flight
                assert loop.time() - killed_at < TTL + 1.0, "a dead node's call must fail within the presence TTL"

                # the station queues a transaction message while its node is gone
                tx = m201.TransactionEventRequest(
                    event_type=e201.TransactionEventEnumType.Started, timestamp=datetime.datetime.now(UTC),
                    trigger_reason=e201.TriggerReasonEnumType.Authorized, seq_no=0,
                    transaction_info=d201.TransactionType(transaction_id="TX-MOVED"),
                )
                moved.submit(r201.TRANSACTION_EVENT, tx)
                # it reconnects through the balancer to a live node, without booting again
                moved.handler.on_reset = type(moved.handler).on_reset.__get__(moved.handler)
                await eventually(lambda: moved.current not in (None, before), timeout=5, what="a reconnect to a live node")
                session = await api.wait_for("CL-1", timeout=10, registered=True)
                assert session.registered, "the registration is kept when a station moves to another node"
                await eventually(lambda: moved.sender is not None and moved.sender.store.counts()["queue"] == 0,
                                 timeout=10, what="queued transaction messages delivered")
                live = [n for n in nodes if n is not victim]
                import psycopg

                with psycopg.connect(database) as db:
                    rows = db.execute("SELECT station_id FROM transactions WHERE transaction_id='TX-MOVED'").fetchall()
                assert rows == [("CL-1",)]
                assert await reset_any(api, "CL-1", "2.0.1") == "Accepted"
                for node in live:
                    code, answer = await node.operator("CL-1", "reset", {"type": "OnIdle"})
                    assert (code, answer) == (200, {"status": "Accepted"})
        finally:
            for b in balancers:
                await b.close()
            for n in nodes:
                await stop_node(n)
            await _cleanup(redis_url, prefix)


def test_redis_killed_and_restarted_under_load(tmp_path: Path) -> None:
    require_service("redis")  # the same redis-server binary as the shared service
    own = OwnRedis(free_port())
    own.start()
    prefix = unique_prefix()

    async def main() -> None:
        nodes: list[Node] = [await start_node(own.url, prefix, tmp_path / f"node{i}.sqlite") for i in range(2)]
        stations = [make_station(f"ws://127.0.0.1:{nodes[i].ws_port}/ocpp/RS-{i}", v) for i, v in enumerate(["2.0.1", "2.1"])]
        api = ClusterRegistry(RedisBackplane(own.url, prefix=prefix, ttl=TTL), call_timeout=3, grace=1)
        try:
            async with api, contextlib.AsyncExitStack() as running:
                for s, v in zip(stations, ["2.0.1", "2.1"]):
                    await running.enter_async_context(s.running())
                    await s.register(boot(v), timeout=10)
                    await api.wait_for(s.station_id, timeout=10, registered=True)
                connections = [s.current for s in stations]
                outcomes: list[str] = []
                stop = asyncio.Event()

                async def load() -> None:  # calls all the time, to both nodes
                    while not stop.is_set():
                        for i, v in enumerate(["2.0.1", "2.1"]):
                            try:
                                outcomes.append(await reset_any(api, f"RS-{i}", v))
                            except ClusterUnavailable:
                                outcomes.append("unavailable")
                                await asyncio.sleep(0.05)
                            except (NotConnected, NotSent, OutcomeUnknown) as exc:
                                outcomes.append(type(exc).__name__)
                                await asyncio.sleep(0.05)

                loader = asyncio.ensure_future(load())
                await eventually(lambda: outcomes.count("Accepted") >= 10, timeout=10, what="calls before the outage")
                own.kill()
                loop = asyncio.get_running_loop()
                killed = loop.time()
                seen = len(outcomes)
                await eventually(lambda: "unavailable" in outcomes[seen:], timeout=5, what="a prompt ClusterUnavailable")
                assert loop.time() - killed < 3
                await asyncio.sleep(2 * TTL)  # longer than the presence TTL
                assert [s.current for s in stations] == connections, "a Redis outage must not drop station connections"
                own.start()  # empty: Redis forgot presence and session state
                back = len(outcomes)
                await eventually(lambda: outcomes[back:].count("Accepted") >= 10, timeout=10,
                                 what="calls after Redis came back")
                stop.set()
                await loader
                assert [s.current for s in stations] == connections
                for i in range(2):  # re-established from the nodes: still registered
                    await eventually(lambda: (s := api.session(f"RS-{i}")) is not None and s.registered, timeout=3 * TTL,
                                     what="registration re-established")
        finally:
            for n in nodes:
                await stop_node(n)
            own.kill()

    asyncio.run(asyncio.wait_for(main(), 60))


def test_failure_kinds_say_whether_the_station_can_have_received_the_call() -> None:
    # decision 0013: NotConnected / NotSent never reached a station; OutcomeUnknown may have
    assert NotConnected("-", "Reset", "x").sent is False
    assert NotSent("-", "Reset", "x").sent is False
    assert OutcomeUnknown("-", "Reset", "x").sent is True
    assert ClusterUnavailable("-", "Reset", "x").sent is False
    assert issubclass(OutcomeUnknown, CallFailure) and issubclass(NotSent, CallFailure)
