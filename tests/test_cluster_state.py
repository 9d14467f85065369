"""Shared session state and security state across the nodes of a cluster (issue 13, decision
0013): two CsmsServers with registries of their own on one Redis (in this process, each with its
own backplane connections, over real sockets), so each rule can be driven precisely."""

from __future__ import annotations

import asyncio
import contextlib
import datetime
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from ocppgen.generated.runtime.cluster import ClusterRegistry
from ocppgen.generated.runtime.cluster_credentials import SharedPasswords
from ocppgen.generated.runtime.config import BackOff, ServerOptions
from ocppgen.generated.runtime.errors import CallErrorReceived, ConnectionLost
from ocppgen.generated.runtime.redis_backplane import RedisBackplane
from ocppgen.generated.runtime.registry import StationEvent
from ocppgen.generated.runtime.session import canonical_identity
from ocppgen.generated.runtime.server import CsmsServer
from ocppgen.generated.v201 import csms as csms201, enums as e201, messages as m201, station as station201
from ocppgen.generated.v21 import csms as csms21, enums as e21, messages as m21, routing as r21, station as station21
from tests.cluster_kit import TTL, unique_prefix
from tests.conftest import require_service
from tests.helpers import eventually, station
from tests.test_transport_security import Pki, basic, refused

UTC = datetime.timezone.utc
NOW = datetime.datetime(2024, 1, 1, tzinfo=UTC)
SLOW = BackOff(wait_minimum=30, random_range=0, repeat_times=0)  # a replaced station does not come back


class Counting201(csms201.CsmsHandler):
    async def on_boot_notification(self, request: Any, context: Any) -> m201.BootNotificationResponse:
        return m201.BootNotificationResponse(current_time=NOW, interval=60, status=e201.RegistrationStatusEnumType.Accepted)


class Counting21(csms21.CsmsHandler):
    def __init__(self) -> None:
        self.heartbeats = 0

    async def on_boot_notification(self, request: Any, context: Any) -> m21.BootNotificationResponse:
        return m21.BootNotificationResponse(current_time=NOW, interval=60, status=e21.RegistrationStatusEnumType.Accepted)

    async def on_heartbeat(self, request: Any, context: Any) -> m21.HeartbeatResponse:
        self.heartbeats += 1
        return m21.HeartbeatResponse(current_time=NOW + datetime.timedelta(seconds=self.heartbeats))


class SlowStation(station201.StationHandler):
    def __init__(self) -> None:
        self.asked = asyncio.Event()

    async def on_reset(self, request: Any, context: Any) -> m201.ResetResponse:
        self.asked.set()
        await asyncio.sleep(30)
        raise AssertionError("unreachable")


@contextlib.asynccontextmanager
async def node(url: str, prefix: str, *handlers: tuple[Any, Any], ssl: Any = None, **options: Any) -> AsyncIterator[tuple[CsmsServer, ClusterRegistry, int]]:
    registry = ClusterRegistry(RedisBackplane(url, prefix=prefix, ttl=TTL), call_timeout=5, grace=1)
    server = CsmsServer(ServerOptions(**options), registry=registry)
    for binding, handler in handlers:
        server.handle(binding, handler)
    async with registry, server.serve("127.0.0.1", 0, ssl=ssl) as ws:
        yield server, registry, next(iter(ws.sockets)).getsockname()[1]


@pytest.fixture
def redis() -> AsyncIterator[tuple[str, str]]:
    url = require_service("redis")
    prefix = unique_prefix()
    yield url, prefix

    async def clean() -> None:
        backplane = RedisBackplane(url, prefix=prefix)
        await backplane.delete_prefix()
        await backplane.close()

    asyncio.run(clean())


def boot21() -> m21.BootNotificationRequest:
    from ocppgen.generated.v21 import datatypes as d21

    return m21.BootNotificationRequest(reason=e21.BootReasonEnumType.PowerUp, charging_station=d21.ChargingStationType(model="M", vendor_name="V"))


def boot201() -> m201.BootNotificationRequest:
    from ocppgen.generated.v201 import datatypes as d201

    return m201.BootNotificationRequest(reason=e201.BootReasonEnumType.PowerUp, charging_station=d201.ChargingStationType(model="M", vendor_name="V"))


def test_a_connection_on_another_node_replaces_the_old_one_at_once(redis: tuple[str, str]) -> None:
    url, prefix = redis

    async def main() -> None:
        async with node(url, prefix, (csms201.BINDING, Counting201())) as (_, reg_a, port_a), \
                node(url, prefix, (csms201.BINDING, Counting201())) as (_, reg_b, port_b):
            events: list[StationEvent] = []
            reg_a.listen(events.append)
            handler = SlowStation()
            first = station(f"ws://127.0.0.1:{port_a}/ocpp/RP-1", station201.BINDING, handler, backoff=SLOW)
            second = station(f"ws://127.0.0.1:{port_b}/ocpp/RP-1", station201.BINDING, station201.StationHandler(), backoff=SLOW)
            async with first.running():
                await first.register(lambda csms: csms.boot_notification(boot201()), timeout=5)
                await reg_b.wait_for("RP-1", timeout=5, registered=True)
                # node B calls the station on node A; the station takes its time
                pending = asyncio.ensure_future(reg_b.client("RP-1", csms201.BINDING).reset(
                    m201.ResetRequest(type=e201.ResetEnumType.OnIdle), timeout=20))
                await asyncio.wait_for(handler.asked.wait(), 5)
                loop = asyncio.get_running_loop()
                async with second.running():
                    started = loop.time()
                    await second.connected(timeout=5)
                    with pytest.raises(ConnectionLost):  # node A failed it at once
                        await pending
                    assert loop.time() - started < 2
                    await eventually(lambda: any(e.kind == "disconnected" and e.replaced for e in events), what="replaced event")
                    # node A learns of node B's connection from B's published event (pub/sub):
                    # wait for it as an application would, then call through node B
                    session = await reg_a.wait_for("RP-1", timeout=5)
                    assert session.connected and session.registered  # through node B now
                    with pytest.raises(CallErrorReceived) as error:  # the same error class as a local call's
                        await reg_a.client("RP-1", csms201.BINDING).reset(m201.ResetRequest(type=e201.ResetEnumType.OnIdle))
                    assert error.value.code == "NotSupported"  # the new station's handler has no Reset

    asyncio.run(asyncio.wait_for(main(), 30))


async def answer_shared(registry: ClusterRegistry, identity: str, message_id: str, timeout: float = 5.0) -> None:
    """Wait until the backplane holds the session state of ``identity`` with the answer to
    ``message_id`` in its 2.1 answer cache."""
    loop = asyncio.get_running_loop()
    end = loop.time() + timeout
    while True:
        state = await registry._load(canonical_identity(identity))
        if state is not None and any(m == message_id for _, m, _ in state.answers):
            return
        assert loop.time() < end, f"the answer to {message_id} never reached the backplane"
        await asyncio.sleep(0.01)


def test_a_21_retry_on_another_node_is_answered_from_the_cache(redis: tuple[str, str]) -> None:
    url, prefix = redis
    handler_a, handler_b = Counting21(), Counting21()

    async def main() -> None:
        async with node(url, prefix, (csms21.BINDING, handler_a)) as (_, _reg_a, port_a), \
                node(url, prefix, (csms21.BINDING, handler_b)) as (_, reg_b, port_b):
            first = station(f"ws://127.0.0.1:{port_a}/ocpp/RT-1", station21.BINDING, station21.StationHandler(), backoff=SLOW)
            async with first.running():
                await first.register(lambda csms: csms.boot_notification(boot21()), timeout=5)
                connection = await first.connected(timeout=5)
                answer = await connection.call(r21.HEARTBEAT, m21.HeartbeatRequest(), 5, message_id="retry-1")
                assert handler_a.heartbeats == 1
                # a station retries after its CALL timeout, long after node A shared the answer
                # (an asynchronous backplane write after the answer went out): wait for that write
                await answer_shared(_reg_a, "RT-1", "retry-1")
                # the answer got lost on a half-open path (say): the station retries the same CALL
                # on another node while node A still holds its old connection (so nothing was
                # saved at a disconnect: the answer was shared when it was given)
                second = station(f"ws://127.0.0.1:{port_b}/ocpp/RT-1", station21.BINDING, station21.StationHandler(), backoff=SLOW)
                second.session.registration = first.session.registration  # the same station: registered
                await _retry(second, answer, handler_b, reg_b)

    async def _retry(second: Any, answer: Any, handler_b: Counting21, reg_b: ClusterRegistry) -> None:
        async with second.running():
            connection = await second.connected(timeout=5)
            again = await connection.call(r21.HEARTBEAT, m21.HeartbeatRequest(), 5, message_id="retry-1")
            assert again == answer  # Part 4 2.1 section 4.1.4: the same answer ...
            assert handler_b.heartbeats == 0  # ... without running the handler again
            session = reg_b.session("RT-1")
            assert session is not None and session.registered  # not asked to boot again

    asyncio.run(asyncio.wait_for(main(), 30))


def test_the_security_profile_floor_holds_on_every_node(redis: tuple[str, str], tmp_path: Path) -> None:
    """A05.FR.07: a station that connected with profile 2 on node A is refused at profile 1 on B."""
    url, prefix = redis
    pki = Pki(tmp_path)
    password = "pw-pw-pw-pw-pw-pw"

    async def main() -> None:
        backplane = RedisBackplane(url, prefix=prefix)
        passwords = SharedPasswords(backplane, kdf="sha256")
        passwords.set_password("FL-1", password)
        await passwords.flush()
        await backplane.close()
        auth_a = SharedPasswords(RedisBackplane(url, prefix=prefix), kdf="sha256")
        auth_b = SharedPasswords(RedisBackplane(url, prefix=prefix), kdf="sha256")
        async with node(url, prefix, (csms201.BINDING, Counting201()), ssl=pki.server_context(False), authenticator=auth_a) as (_, _a, port_a), \
                node(url, prefix, (csms201.BINDING, Counting201()), authenticator=auth_b) as (_, reg_b, port_b):
            tls = station(f"wss://127.0.0.1:{port_a}/ocpp/FL-1", station201.BINDING, station201.StationHandler(),
                          basic_auth=("FL-1", password), ssl=pki.client_context(), backoff=SLOW)
            async with tls.running():
                await tls.register(lambda csms: csms.boot_notification(boot201()), timeout=5)
            await eventually(lambda: "FL-1" not in reg_b, what="the station gone")
            assert await refused(f"ws://127.0.0.1:{port_b}/ocpp/FL-1", additional_headers=basic("FL-1", password)) == 401

    asyncio.run(asyncio.wait_for(main(), 30))


def test_rotated_passwords_and_failure_counters_are_shared(redis: tuple[str, str]) -> None:
    """A01.FR.03 on every node: once node A committed a rotation, node B refuses the old password;
    failed attempts spread over both nodes lock the identity out on both."""
    url, prefix = redis

    async def main() -> None:
        auth_a = SharedPasswords(RedisBackplane(url, prefix=prefix), kdf="sha256", max_failures=2, lockout=30)
        auth_b = SharedPasswords(RedisBackplane(url, prefix=prefix), kdf="sha256", max_failures=2, lockout=30)
        async with node(url, prefix, (csms201.BINDING, Counting201()), authenticator=auth_a) as (_, _a, port_a), \
                node(url, prefix, (csms201.BINDING, Counting201()), authenticator=auth_b) as (_, _b, port_b):
            a, b = f"ws://127.0.0.1:{port_a}/ocpp/", f"ws://127.0.0.1:{port_b}/ocpp/"
            auth_a.set_password("PW-1", "old-password-123")
            await auth_a.flush()
            assert await refused(b + "PW-1", additional_headers=basic("PW-1", "old-password-123")) == 101  # B verified and cached it
            auth_a.begin_rotation("PW-1", "new-password-456")
            await auth_a.flush()
            assert await refused(b + "PW-1", additional_headers=basic("PW-1", "new-password-456")) == 101  # A01: both while open
            auth_a.commit_rotation("PW-1")
            await auth_a.flush()
            assert await refused(b + "PW-1", additional_headers=basic("PW-1", "old-password-123")) == 401  # A01.FR.03
            assert await refused(b + "PW-1", additional_headers=basic("PW-1", "new-password-456")) == 101

            auth_a.set_password("BF-1", "right-password-1")
            await auth_a.flush()
            assert await refused(a + "BF-1", additional_headers=basic("BF-1", "wrong")) == 401
            assert await refused(b + "BF-1", additional_headers=basic("BF-1", "wrong")) == 401
            assert await refused(a + "BF-1", additional_headers=basic("BF-1", "wrong")) == 401  # the third: locked
            for where in (a, b):  # locked out everywhere, even with the right password
                assert await refused(where + "BF-1", additional_headers=basic("BF-1", "right-password-1")) == 401

    asyncio.run(asyncio.wait_for(main(), 30))


def test_a_node_that_never_takes_the_call_gives_not_sent_within_the_ttl(redis: tuple[str, str]) -> None:
    """Decision 0013: a CALL still in a dead node's inbox was never sent; the caller learns it
    within the presence TTL (the node's liveness key expires) and the request is taken back."""
    url, prefix = redis

    async def main() -> None:
        from ocppgen.generated.runtime.backplane import Presence
        from ocppgen.generated.runtime.errors import NotSent

        ghost = RedisBackplane(url, prefix=prefix, ttl=TTL, node="ghost-node")  # alive once, then silent
        await ghost.refresh({})
        await ghost.claim("gh-1", Presence("ghost-node", "2.0.1", 1.0), newest_wins=False)
        async with ClusterRegistry(RedisBackplane(url, prefix=prefix, ttl=TTL), call_timeout=30, grace=1) as api:
            loop = asyncio.get_running_loop()
            started = loop.time()
            with pytest.raises(NotSent, match="died before it took the call") as error:
                await api.client("GH-1", csms201.BINDING).reset(m201.ResetRequest(type=e201.ResetEnumType.OnIdle))
            assert error.value.sent is False
            assert loop.time() - started < TTL + 1
            assert await ghost.redis.llen(f"{prefix}inbox:ghost-node") == 0  # taken back: never delivered later
        await ghost.close()

    asyncio.run(asyncio.wait_for(main(), 30))


def test_a_call_that_expires_in_a_live_node_inbox_is_not_sent(redis: tuple[str, str]) -> None:
    url, prefix = redis

    async def main() -> None:
        from ocppgen.generated.runtime.backplane import Presence
        from ocppgen.generated.runtime.errors import NotSent

        busy = RedisBackplane(url, prefix=prefix, ttl=TTL, node="busy-node")  # alive, never reads its inbox
        await busy.refresh({})
        await busy.claim("bz-1", Presence("busy-node", "2.0.1", 1.0), newest_wins=False)

        async def keep_alive() -> None:
            while True:
                await busy.refresh({"bz-1": Presence("busy-node", "2.0.1", 1.0)})
                await asyncio.sleep(TTL / 4)

        alive = asyncio.ensure_future(keep_alive())
        async with ClusterRegistry(RedisBackplane(url, prefix=prefix, ttl=TTL), grace=0.2) as api:
            with pytest.raises(NotSent, match="no answer from node busy-node in time before it took the call"):
                await api.client("BZ-1", csms201.BINDING).reset(m201.ResetRequest(type=e201.ResetEnumType.OnIdle), timeout=0.3)
        alive.cancel()
        await busy.close()

    asyncio.run(asyncio.wait_for(main(), 30))


def test_postgres_session_store_keeps_what_a_reconnect_needs() -> None:
    """The durable store beside the backplane (and the example's --database): load, save, delete."""
    from ocppgen.generated.runtime.pg_store import PostgresSessionStore
    from ocppgen.generated.runtime.session import SessionState
    from tests.cluster_kit import pg_schema

    with pg_schema(require_service("postgresql")) as url:

        async def main() -> None:
            store = await PostgresSessionStore.connect(url)
            try:
                assert await store.load("cs-1") is None
                state = SessionState(identity="CS-1", version="2.1", registration="Accepted",
                                     answers=[("Heartbeat", "m-1", b'{"currentTime":"2024-01-01T00:00:00Z"}')], security_floor=2)
                await store.save("cs-1", state)
                await store.save("cs-1", state)  # an update, not a second row
                assert await store.load("cs-1") == state
                await store.delete("cs-1")
                assert await store.load("cs-1") is None
            finally:
                await store.close()

        asyncio.run(main())
