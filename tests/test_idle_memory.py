"""What an idle booted station holds in the CSMS (issue 14, memory per connection): no task of
its own beyond websockets' handler task, no lifecycle-hook entry once its hooks ran, no handshake
credentials on the socket; and the state created on first use behaves as before."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import gc
from collections.abc import Iterator
from typing import Any

import pytest
from websockets.asyncio.client import ClientConnection, connect

from ocppgen.generated.runtime.security import Credentials
from ocppgen.generated.runtime.session import Session
from ocppgen.generated.v201 import csms as csms201, enums as e201, messages as m201
from tests.helpers import NOW, eventually, run, server

BOOT = '[2,"b","BootNotification",{"reason":"PowerUp","chargingStation":{"model":"M","vendorName":"V"}}]'


class Csms(csms201.CsmsHandler):
    def __init__(self) -> None:
        self.hooks: list[tuple[str, str]] = []
        self.slow_connect = asyncio.Event()
        self.slow_connect.set()

    async def on_boot_notification(self, request: m201.BootNotificationRequest, context: Any) -> m201.BootNotificationResponse:
        return m201.BootNotificationResponse(current_time=NOW, interval=60, status=e201.RegistrationStatusEnumType.Accepted)

    async def on_heartbeat(self, request: m201.HeartbeatRequest, context: Any) -> m201.HeartbeatResponse:
        return m201.HeartbeatResponse(current_time=NOW)

    async def connected(self, session: Session, client: Any) -> None:
        await self.slow_connect.wait()
        self.hooks.append(("connected", session.identity))

    async def registered(self, session: Session, client: Any) -> None:
        self.hooks.append(("registered", session.identity))

    async def disconnected(self, session: Session, code: int | None, reason: str) -> None:
        self.hooks.append(("disconnected", session.identity))


async def _boot(port: int, name: str, **kwargs: Any) -> ClientConnection:
    ws = await connect(f"ws://127.0.0.1:{port}/ocpp/{name}", subprotocols=["ocpp2.0.1"], ping_interval=None, **kwargs)  # type: ignore[list-item]
    await ws.send(BOOT)
    assert (await ws.recv()).startswith('[3,"b",')  # type: ignore[union-attr]
    return ws


def test_an_idle_booted_station_holds_one_task_and_no_hook_entry() -> None:
    handler = Csms()
    csms = server((csms201.BINDING, handler), ping_interval=None)

    async def main() -> None:
        async with csms.serve("127.0.0.1", 0) as ws_server:
            port = next(iter(ws_server.sockets)).getsockname()[1]
            before = len(asyncio.all_tasks())
            stations = [await _boot(port, f"CS-{i}") for i in range(5)]
            await eventually(lambda: len(handler.hooks) == 10, what="the hooks")
            await asyncio.sleep(0.05)  # the hook runners finish
            # websockets' connection handler task, nothing of ours (the hooks' runners are gone)
            assert len(asyncio.all_tasks()) - before == 5
            assert csms.registry._hooks == {}
            assert sorted(handler.hooks) == sorted([(k, f"CS-{i}") for i in range(5) for k in ("connected", "registered")])
            for ws in stations:
                await ws.close()
            await eventually(lambda: len(handler.hooks) == 15, what="the disconnected hooks")
            await asyncio.sleep(0.05)
            assert csms.registry._hooks == {}
            assert len(asyncio.all_tasks()) == before

    run(main())


class Plain(csms201.CsmsHandler):  # no lifecycle method of its own
    async def on_boot_notification(self, request: m201.BootNotificationRequest, context: Any) -> m201.BootNotificationResponse:
        return m201.BootNotificationResponse(current_time=NOW, interval=60, status=e201.RegistrationStatusEnumType.Accepted)


class OnlyRegistered(Plain):
    def __init__(self) -> None:
        self.seen: list[str] = []

    async def registered(self, session: Session, client: Any) -> None:
        self.seen.append(f"registered {session.identity}")


def test_the_generated_empty_lifecycle_methods_schedule_nothing_an_overridden_one_runs(monkeypatch: pytest.MonkeyPatch) -> None:
    """The generated handler class's connected/registered/disconnected do nothing: a handler
    that keeps them costs no hook runner (a task) per connection event; one it overrides runs,
    and so does one set on the instance."""
    from ocppgen.generated.runtime.registry import LocalRegistry
    from ocppgen.generated.runtime.routing import lifecycle_method

    runners: list[str] = []
    original = LocalRegistry._serial

    def spy(self: LocalRegistry, session: Session) -> Any:
        runners.append(session.identity)
        return original(self, session)

    monkeypatch.setattr(LocalRegistry, "_serial", spy)
    base = csms201.CsmsHandler
    assert lifecycle_method(Plain(), base, "connected") is None and lifecycle_method(Plain(), base, "nothing") is None
    only = OnlyRegistered()
    assert lifecycle_method(only, base, "registered") == only.registered
    patched = Plain()
    seen: list[str] = []

    async def connected(session: Session, client: Any) -> None:
        seen.append(f"connected {session.identity}")

    patched.connected = connected  # type: ignore[method-assign]
    assert lifecycle_method(patched, base, "connected") is connected

    async def main() -> None:
        for handler, name in ((Plain(), "CS-P"), (only, "CS-R"), (patched, "CS-I")):
            csms = server((csms201.BINDING, handler), ping_interval=None)
            async with csms.serve("127.0.0.1", 0) as ws_server:
                port = next(iter(ws_server.sockets)).getsockname()[1]
                ws = await _boot(port, name)
                await ws.close()
                await eventually(lambda: csms.registry.session(name) is not None and not csms.registry.session(name).connected,  # type: ignore[union-attr]
                                 what="the disconnect")
                await asyncio.sleep(0.05)

    run(main())
    assert runners == ["CS-R", "CS-I"]  # registered for CS-R, connected for CS-I; nothing for CS-P
    assert only.seen == ["registered CS-R"] and seen == ["connected CS-I"]


def test_hooks_queued_while_one_runs_still_run_in_order() -> None:
    handler = Csms()
    handler.slow_connect.clear()  # the connected hook waits: registered and disconnected queue behind it
    csms = server((csms201.BINDING, handler), ping_interval=None)

    async def main() -> None:
        async with csms.serve("127.0.0.1", 0) as ws_server:
            port = next(iter(ws_server.sockets)).getsockname()[1]
            ws = await _boot(port, "CS-Q")
            await ws.close()
            await eventually(lambda: "CS-Q" not in csms.registry, what="the disconnect")
            assert handler.hooks == [] and "cs-q" in csms.registry._hooks
            handler.slow_connect.set()
            await eventually(lambda: len(handler.hooks) == 3, what="the hooks")
            assert [k for k, _ in handler.hooks] == ["connected", "registered", "disconnected"]
            await asyncio.sleep(0.05)
            assert csms.registry._hooks == {}
            ws = await _boot(port, "CS-Q")  # a new connection's hook starts a new runner
            await eventually(lambda: len(handler.hooks) == 4, what="the second connection's hook")
            assert handler.hooks[3] == ("connected", "CS-Q")  # still registered: no second "registered"
            await ws.close()
            await eventually(lambda: len(handler.hooks) == 5, what="the second disconnect's hook")

    run(main())


def test_the_handshake_credentials_do_not_stay_on_the_socket_but_the_floor_does() -> None:
    handler = Csms()
    seen: list[Credentials] = []

    async def authenticator(credentials: Credentials) -> bool:
        seen.append(credentials)
        return credentials.password == b"a-password-of-16-chars"

    csms = server((csms201.BINDING, handler), ping_interval=None, authenticator=authenticator)
    token = base64.b64encode(b"CS-C:a-password-of-16-chars").decode()

    async def main() -> None:
        async with csms.serve("127.0.0.1", 0) as ws_server:
            port = next(iter(ws_server.sockets)).getsockname()[1]
            ws = await _boot(port, "CS-C", additional_headers={"Authorization": f"Basic {token}"})
            session = csms.registry.session("CS-C")
            assert session is not None and len(seen) == 1
            link = session.link
            websocket = getattr(link, "websocket")
            assert not hasattr(websocket, "ocpp_credentials")
            assert session.security_floor == 1  # what the credentials said, kept by the session
            await ws.close()

    run(main())


def test_the_handshake_headers_go_once_the_station_is_admitted_and_the_connection_works_on() -> None:
    """The handshake request's and response's headers (~3 KiB per connection) are dropped when
    the connection starts: what ocppgen needs from them (credentials, offered versions, the
    identity in the path) was read while admitting the station. The placeholder is shared and
    refuses writes with a message; the connection goes on answering, and the next station's
    handshake still sees its own headers."""
    from ocppgen.generated.runtime.server import _NO_HEADERS

    handler = Csms()
    seen: list[Credentials] = []

    async def authenticator(credentials: Credentials) -> bool:
        seen.append(credentials)
        return True

    csms = server((csms201.BINDING, handler), ping_interval=None, authenticator=authenticator)

    async def main() -> None:
        async with csms.serve("127.0.0.1", 0) as ws_server:
            port = next(iter(ws_server.sockets)).getsockname()[1]
            stations = []
            for name in ("CS-H1", "CS-H2"):
                token = base64.b64encode(f"{name}:a-password-of-16-chars".encode()).decode()
                stations.append(await _boot(port, name, additional_headers={"Authorization": f"Basic {token}", "X-Extra": name}))
            assert [c.station_id for c in seen] == ["CS-H1", "CS-H2"]  # each handshake read its own headers
            assert [c.password for c in seen] == [b"a-password-of-16-chars"] * 2
            for name, ws in zip(("CS-H1", "CS-H2"), stations):
                session = csms.registry.session(name)
                assert session is not None and session.security_floor == 1
                websocket = getattr(session.link, "websocket")
                assert websocket.request.headers is _NO_HEADERS and websocket.response.headers is _NO_HEADERS
                assert websocket.request.path == f"/ocpp/{name}" and websocket.subprotocol == "ocpp2.0.1"
                with pytest.raises(TypeError, match="dropped after admission"):
                    websocket.request.headers["X-Extra"] = "again"
                await ws.send('[2,"h","Heartbeat",{}]')  # the connection goes on
                assert (await ws.recv()).startswith('[3,"h",')  # type: ignore[union-attr]
            assert len(_NO_HEADERS) == 0
            for ws in stations:
                await ws.close()

    run(main())


def test_a_session_makes_its_containers_on_first_use_and_they_behave_as_before() -> None:
    from ocppgen.generated.runtime.routing import Role
    from ocppgen.generated.runtime.session import Registration, SessionState

    session = Session("CS-L", Role.CSMS, answer_cache_size=2)
    assert (session._triggered, session._answers, session._state, session._clients) == (None, None, None, None)
    # reading the rules and the cache makes nothing
    session.version, session.registration = "2.0.1", Registration.PENDING
    assert session.inbound("StatusNotification") is not None and session.cached_answer("Heartbeat", "1") is None
    assert session.snapshot().triggered == [] and session.snapshot().answers == []
    assert (session._triggered, session._answers) == (None, None)
    # first use: the same objects from then on
    session.triggered.add("StatusNotification")
    assert session.inbound("StatusNotification") is None and session.triggered is session.triggered
    session.state["x"] = 1
    assert session.state == {"x": 1}
    for i in range(3):
        session.remember_answer("Heartbeat", str(i), b"{}")
    assert list(session.answers) == [("Heartbeat", "1"), ("Heartbeat", "2")]  # the oldest went
    # Accepted clears what was triggered; a restore of an empty state makes nothing
    session._set_registration("Accepted")
    assert session.triggered == set()
    fresh = Session("CS-M", Role.CSMS)
    fresh.restore(SessionState(identity="CS-M", version="2.1", registration="Pending"))
    assert (fresh._triggered, fresh._answers) == (None, None) and fresh.triggered == set() and not fresh.answers
    fresh.restore(SessionState(identity="CS-M", triggered=["NotifyReport"], answers=[("A", "1", b"{}")]))
    assert fresh.triggered == {"NotifyReport"} and fresh.cached_answer("A", "1") == b"{}"


def test_a_connection_without_signing_or_pacer_shares_tables_that_refuse_entries() -> None:
    import pytest

    from ocppgen.generated.runtime.protocol import OcppProtocol
    from ocppgen.generated.runtime.routing import Role

    binding = csms201.BINDING
    one, two = (
        OcppProtocol(version="2.0.1", role=Role.CSMS, routes=binding.routes, handled=binding.handled) for _ in range(2)
    )
    assert one._paced is two._paced and one._signed_in is two._signed_in and one._trusted is two._trusted
    assert not one._paced and one._paced.pop("x", None) is None
    with pytest.raises(TypeError):
        one._paced["x"] = None
    with pytest.raises(TypeError):
        one._signed_in.update(x=None)
    # the tables still work as before where they are used
    assert [type(e).__name__ for e in one.receive('[2,"h","Heartbeat",{}]', 0.0)] == ["CallReceived"]
    one.respond("h", m201.HeartbeatResponse(current_time=NOW))
    assert one.data_to_send() == ['[3,"h",{"currentTime":"2024-01-01T00:00:00Z"}]']
    assert one.connection_lost() == [] and not one._signed_in


def test_sessions_and_connections_have_no_instance_dict_and_track_their_tasks() -> None:
    from ocppgen.generated.runtime.connection import Connection

    handler = Csms()
    csms = server((csms201.BINDING, handler), ping_interval=None)

    async def main() -> None:
        async with csms.serve("127.0.0.1", 0) as ws_server:
            port = next(iter(ws_server.sockets)).getsockname()[1]
            ws = await _boot(port, "CS-T")
            session = csms.registry.session("CS-T")
            assert session is not None
            connection = session.link
            assert isinstance(connection, Connection)
            assert not hasattr(session, "__dict__") and not hasattr(connection, "__dict__")
            # the task list: a task is kept while it runs and dropped when it ends
            release = asyncio.Event()
            connection._spawn(release.wait())
            connection._spawn(asyncio.sleep(0))
            assert len(connection._tasks) == 2
            await asyncio.sleep(0.01)
            assert len(connection._tasks) == 1
            release.set()
            await asyncio.sleep(0.01)
            assert len(connection._tasks) == 0
            connection._spawn(asyncio.sleep(3600))
            await connection.stop_tasks()  # cancelled and awaited
            assert len(connection._tasks) == 0
            await ws.close()

    run(main())


def test_a_station_key_is_one_string_and_identities_still_compare_case_insensitively() -> None:
    from ocppgen.generated.runtime.registry import LocalRegistry
    from ocppgen.generated.runtime.routing import Role
    from ocppgen.generated.runtime.session import canonical_identity

    assert canonical_identity("cs-1") == "cs-1" and canonical_identity("CS-1") == "cs-1"
    assert canonical_identity("Straße") == "strasse"
    identity = "".join(["cs-", "lower"])  # a string of its own
    assert canonical_identity(identity) is identity

    async def main() -> None:
        registry = LocalRegistry()
        session = await registry.open("CS-Up", lambda i: Session(i, Role.CSMS))
        [(key, held)] = registry._sessions.items()
        assert held is session and key is session.key and key == "cs-up"
        assert await registry.open("cs-UP", lambda i: Session(i, Role.CSMS)) is session
        assert registry.session("CS-UP") is session and session.identity == "cs-UP"

    run(main())


@contextlib.contextmanager
def only_the_collector_frees() -> Iterator[set[str]]:
    """Collect, then keep the cyclic garbage collector off while the block runs; after it, the
    yielded set holds the type names of what only the collector could free (the block's garbage
    in reference cycles)."""
    gc.collect()
    gc.disable()
    left: set[str] = set()
    try:
        yield left
        gc.set_debug(gc.DEBUG_SAVEALL)
        gc.collect()
        left.update(type(o).__qualname__ for o in gc.garbage)
    finally:
        gc.set_debug(0)
        gc.garbage.clear()
        gc.enable()


@pytest.mark.parametrize("how", ["abort", "close"])
def test_a_closed_connection_is_freed_without_the_cyclic_garbage_collector(how: str) -> None:
    """After a reconnection storm the server must not leave every dropped connection to the
    cyclic garbage collector (issue 14: it took a third of the server's CPU in a 10,000-station
    storm, and the dropped connections kept their memory until it ran). websockets binds the
    subprotocol callback with a closure over the connection, and keeps the exception that ended
    its parser with a traceback that holds the protocol: two cycles. Once the server is done
    with a connection, nothing of websockets' connection or ours is left in a cycle."""
    handler = Csms()
    csms = server((csms201.BINDING, handler), ping_interval=None)

    async def main() -> None:
        async with csms.serve("127.0.0.1", 0) as ws_server:
            port = next(iter(ws_server.sockets)).getsockname()[1]
            stations = [await _boot(port, f"CS-{i}") for i in range(3)]
            await eventually(lambda: len(handler.hooks) == 6, what="the connected and registered hooks")
            with only_the_collector_frees() as left:
                for ws in stations:
                    if how == "abort":
                        assert ws.transport is not None
                        ws.transport.abort()  # the station vanishes: no closing handshake
                    else:
                        await ws.close()
                await eventually(lambda: len(handler.hooks) == 9, what="the disconnected hooks")
                await asyncio.sleep(0.1)  # websockets' handler task ends
            assert not {"ServerConnection", "ServerProtocol", "Connection", "Session", "OcppProtocol"} & left, sorted(left)

    run(main())


def test_a_station_client_leaves_no_dropped_connection_to_the_cyclic_collector() -> None:
    """The same on the station's side (a test rig of thousands of simulated stations meets the
    same storm): the connection the CSMS dropped is freed at once, the client reconnects."""
    from ocppgen.generated.v201 import station as station201
    from tests.helpers import boot201, station

    csms = server((csms201.BINDING, Csms()), ping_interval=None)

    class Station(station201.StationHandler):
        pass

    async def main() -> None:
        async with csms.serve("127.0.0.1", 0) as ws_server:
            port = next(iter(ws_server.sockets)).getsockname()[1]
            client = station(f"ws://127.0.0.1:{port}/ocpp/CS-G", station201.BINDING, Station(), ping_interval=None)
            async with client.running():
                first = await client.connected(timeout=5)
                await client.csms.boot_notification(boot201())
                with only_the_collector_frees() as left:
                    link = csms.registry.session("CS-G").link  # type: ignore[union-attr]
                    link.abort()  # type: ignore[union-attr]  # the CSMS drops it: no closing handshake
                    await eventually(lambda: client.connection is not None and client.connection is not first, what="a reconnect")
                    del first, link
                    await asyncio.sleep(0.1)
                assert not {"ClientConnection", "ClientProtocol", "ServerConnection", "ServerProtocol", "Connection"} & left, sorted(left)

    run(main())


def test_a_replaced_half_open_connection_is_freed_without_the_cyclic_collector() -> None:
    """The storm's common case: a station comes back while the CSMS still holds its old
    connection, whose TCP path is dead (it never answers the close). The new connection
    replaces it; the old one's close times out and its transport is aborted. It, too, is
    freed without the collector (no parser exception is left then; before the subprotocol
    callback was dropped, the old connection stayed alive in websockets' closure cycle)."""
    handler = Csms()
    csms = server((csms201.BINDING, handler), ping_interval=None, replaced_close_timeout=0.2)

    async def main() -> None:
        async with csms.serve("127.0.0.1", 0) as ws_server:
            port = next(iter(ws_server.sockets)).getsockname()[1]
            old = await _boot(port, "CS-H")
            await eventually(lambda: len(handler.hooks) == 2, what="the connected and registered hooks")
            assert old.transport is not None
            old.transport.pause_reading()  # the dead path: the old socket never answers the close
            with only_the_collector_frees() as left:
                new = await _boot(port, "CS-H")
                await eventually(lambda: len(handler.hooks) >= 4, what="the replacement's hooks")
                await asyncio.sleep(0.5)  # the old connection's close times out; its transport is aborted
                server_side = [o for o in gc.get_objects() if type(o).__qualname__ == "ServerConnection"]
                assert len(server_side) == 1, "the replaced ServerConnection is still alive"
            assert not {"ServerConnection", "ServerProtocol", "Connection", "OcppProtocol"} & left, sorted(left)
            await new.close()
            old.transport.abort()

    run(main())
