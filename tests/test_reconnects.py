"""Sessions end to end over loopback, all three versions: a station Accepted once keeps its
registration when its link breaks (the CSMS closes it, the station drops it, the network resets
it, or the path dies half-open), reconnects without booting (Part 4 2.x section 5.3, 1.6
section 5.4) and delivers every queued transaction message in order, nothing dead-lettered;
lifecycle hooks in order; work after a response; the outbound gate; the typed registry."""

from __future__ import annotations

import asyncio
import json
import logging
from pathlib import Path
from typing import Any

import msgspec
import pytest
from websockets.asyncio.client import connect
from websockets.protocol import State

from ocppgen.generated.runtime.errors import (
    CallErrorReceived,
    ConnectFailed,
    NotAllowed,
    NotConnected,
    QueueFull,
    VersionMismatch,
)
from ocppgen.generated.runtime.queue import DeadLetter, SqliteStore
from ocppgen.generated.runtime.registry import SqliteSessionStore
from ocppgen.generated.runtime.session import Session
from ocppgen.generated.v16 import csms as csms16, datatypes as d16, enums as e16, messages as m16
from ocppgen.generated.v16 import station as station16
from ocppgen.generated.v201 import csms as csms201, datatypes as d201, enums as e201, messages as m201
from ocppgen.generated.v201 import station as station201
from ocppgen.generated.v21 import csms as csms21, enums as e21, messages as m21, station as station21
from tests.helpers import NOW, boot201, eventually, run, server, started, station
from tests.killable_station import boot, message
from tests.relay import Relay

ALL = ["1.6", "2.0.1", "2.1"]
CSMS = {"1.6": csms16, "2.0.1": csms201, "2.1": csms21}
STATION = {"1.6": station16, "2.0.1": station201, "2.1": station21}


class Hooks:
    """Records lifecycle calls (shared by the CSMS and station handlers below)."""

    def __init__(self) -> None:
        self.hooks: list[str] = []

    async def connected(self, session: Session, client: Any) -> None:
        self.hooks.append("connected")

    async def registered(self, session: Session, client: Any) -> None:
        self.hooks.append("registered")

    async def disconnected(self, session: Session, code: int | None, reason: str) -> None:
        self.hooks.append("disconnected")


class Recorder(Hooks):
    """A CSMS that accepts boots and records transaction messages in order (mixed into a
    version's handler class by ``make_csms``, with only the actions that version has)."""

    version = ""

    def __init__(self) -> None:
        super().__init__()
        self.boots = 0
        self.handled: list[int] = []
        self.duplicates = 0

    def seen(self, seq: int) -> None:
        if seq in self.handled:
            self.duplicates += 1
        else:
            assert seq == len(self.handled), f"gap: {seq} after {self.handled[-1:]}"
            self.handled.append(seq)

    async def boot_notification(self, request: Any, context: Any) -> Any:
        self.boots += 1
        if self.version == "1.6":
            return m16.BootNotificationResponse(current_time=NOW, interval=60, status=e16.RegistrationStatus.Accepted)
        m, e = (m201, e201) if self.version == "2.0.1" else (m21, e21)
        return m.BootNotificationResponse(current_time=NOW, interval=60, status=e.RegistrationStatusEnumType.Accepted)

    async def transaction_event(self, request: Any, context: Any) -> Any:
        self.seen(request.seq_no)
        return (m201 if self.version == "2.0.1" else m21).TransactionEventResponse()

    async def start_transaction(self, request: Any, context: Any) -> Any:
        self.seen(0)
        return m16.StartTransactionResponse(transaction_id=77, id_tag_info=d16.IdTagInfo(status=e16.AuthorizationStatus.Accepted))

    async def meter_values(self, request: Any, context: Any) -> Any:
        assert request.transaction_id == 77
        self.seen(int(request.meter_value[0].sampled_value[0].value))
        return m16.MeterValuesResponse()

    async def stop_transaction(self, request: Any, context: Any) -> Any:
        assert request.transaction_id == 77
        self.seen(request.meter_stop)
        return m16.StopTransactionResponse()


def make_csms(version: str) -> Any:
    """A ``Recorder`` CSMS handler for ``version``."""
    actions = ["boot_notification"] + (["start_transaction", "meter_values", "stop_transaction"] if version == "1.6" else ["transaction_event"])
    namespace: dict[str, Any] = {f"on_{a}": getattr(Recorder, a) for a in actions}
    namespace["version"] = version
    cls = type("Csms", (Recorder, CSMS[version].CsmsHandler), namespace)
    return cls()


def make_station(version: str) -> Any:
    role = STATION[version]

    class Station(Hooks, role.StationHandler):  # type: ignore[misc, name-defined]
        async def connected(self, session: Session, client: Any) -> None:
            await super().connected(session, client)
            if not session.registered:  # boots once per process, never after a mere reconnect
                await client.boot_notification(boot(version))

    return Station()


async def break_link(kind: str, csms: Any, client: Any, relay: Relay) -> None:
    if kind == "csms_closes":
        await csms.registry.session("CS-R").link.close(1011, "going away")
    elif kind == "station_drops":
        client.current.websocket.transport.abort()
    elif kind == "network_reset":
        relay.cut()
    else:
        relay.half_open()


@pytest.mark.parametrize("kind", ["csms_closes", "station_drops", "network_reset", "half_open"])
@pytest.mark.parametrize("version", ALL)
def test_a_station_reconnects_without_booting_and_delivers_every_queued_message(tmp_path: Path, version: str, kind: str) -> None:
    handler = make_csms(version)
    # the CSMS does not ping: a half-open path stays invisible to it, as it often does in the field
    csms = server((CSMS[version].BINDING, handler), ping_interval=None, replaced_close_timeout=60)
    station_handler = make_station(version)
    dead: list[DeadLetter] = []
    total = 12

    async def body(port: int) -> None:
        relay = Relay("127.0.0.1", port)
        await relay.start()
        client = station(
            f"ws://127.0.0.1:{relay.port}/ocpp/CS-R", STATION[version].BINDING, station_handler,
            queue=SqliteStore(str(tmp_path / "q.sqlite")), queue_interval=0.05, on_dead_letter=dead.append,
            ping_interval=0.2, ping_timeout=0.2, close_timeout=0.5,
        )
        async with client.running():
            await eventually(lambda: client.registered, what="registration")
            for seq in range(total // 2):
                route, request, names_start = message(version, seq, total)
                client.submit(route, request, start=1 if names_start else None)
            await eventually(lambda: len(handler.handled) == total // 2, what="first half delivered")
            old = csms.registry.session("CS-R").link
            await break_link(kind, csms, client, relay)
            for seq in range(total // 2, total):  # queued while the link is broken or coming back
                route, request, names_start = message(version, seq, total)
                client.submit(route, request, start=1 if names_start else None)
            await eventually(lambda: len(handler.handled) == total, timeout=15, what="second half delivered")
            if kind == "half_open":  # served at once: the old connection's close never finished
                assert old.websocket.state is not State.CLOSED
            assert relay.connections == 2
        await relay.close()

    run(started(csms, body))
    assert handler.handled == list(range(total)) and dead == []
    assert handler.boots == 1  # the reconnect did not boot again
    # in order, also when the old connection was replaced (reported gone before the new one came)
    assert handler.hooks == ["connected", "registered", "disconnected", "connected", "disconnected"]
    assert station_handler.hooks == ["connected", "registered", "disconnected", "connected", "disconnected"]


def test_a_station_keeps_its_registration_across_a_csms_restart_with_a_session_store(tmp_path: Path) -> None:
    db = str(tmp_path / "sessions.sqlite")
    handler = make_csms("2.0.1")

    async def main() -> None:
        first = server((csms201.BINDING, handler), session_store=SqliteSessionStore(db), unknown_registration="refuse")
        async with first.serve("127.0.0.1", 0) as ws_server:
            port = next(iter(ws_server.sockets)).getsockname()[1]
            async with connect(f"ws://127.0.0.1:{port}/ocpp/CS-P", subprotocols=["ocpp2.0.1"]) as ws:  # type: ignore[list-item]
                await ws.send(json.dumps([2, "b", "BootNotification", msgspec.to_builtins(boot201())]))
                assert json.loads(await ws.recv())[2]["status"] == "Accepted"
        await asyncio.sleep(0.05)
        second = server((csms201.BINDING, make_csms("2.0.1")), session_store=SqliteSessionStore(db), unknown_registration="refuse")
        async with second.serve("127.0.0.1", port):
            async with connect(f"ws://127.0.0.1:{port}/ocpp/cs-p", subprotocols=["ocpp2.0.1"]) as ws:  # type: ignore[list-item]
                await ws.send('[2,"h","Heartbeat",{}]')  # no boot after the CSMS restarted: still registered,
                assert json.loads(await ws.recv())[:3] == [4, "h", "NotSupported"]  # so the handler is reached
            async with connect(f"ws://127.0.0.1:{port}/ocpp/CS-NEW", subprotocols=["ocpp2.0.1"]) as ws:  # type: ignore[list-item]
                await ws.send('[2,"h","Heartbeat",{}]')
                assert json.loads(await ws.recv())[:3] == [4, "h", "SecurityError"]  # never booted: refused
            session = second.registry.session("CS-P")
            assert session is not None and session.registered

    run(main())


def test_after_response_work_reaches_the_station_only_after_the_answer() -> None:
    """A GetVariables started from the BootNotification handler follows its CALLRESULT on the wire."""

    class Csms(csms201.CsmsHandler):
        async def on_boot_notification(self, request: m201.BootNotificationRequest, context: csms201.Context) -> m201.BootNotificationResponse:
            async def read() -> None:
                item = d201.GetVariableDataType(component=d201.ComponentType(name="OCPPCommCtrlr"), variable=d201.VariableType(name="HeartbeatInterval"))
                await context.client.get_variables(m201.GetVariablesRequest(get_variable_data=[item]))

            context.after_response(read)
            await asyncio.sleep(0.05)  # give a wrongly scheduled CALL every chance to overtake
            return m201.BootNotificationResponse(current_time=NOW, interval=60, status=e201.RegistrationStatusEnumType.Accepted)

    csms = server((csms201.BINDING, Csms()))

    async def body(port: int) -> None:
        async with connect(f"ws://127.0.0.1:{port}/ocpp/CS-A", subprotocols=["ocpp2.0.1"]) as ws:  # type: ignore[list-item]
            await ws.send(json.dumps([2, "boot-1", "BootNotification", msgspec.to_builtins(boot201())]))
            first, second = json.loads(await ws.recv()), json.loads(await ws.recv())
            assert first[:2] == [3, "boot-1"]
            assert second[0] == 2 and second[2] == "GetVariables"

    run(started(csms, body))


def test_the_csms_cannot_call_a_station_its_registration_forbids() -> None:
    class Rejecting(csms201.CsmsHandler):
        status = e201.RegistrationStatusEnumType.Rejected

        async def on_boot_notification(self, request: Any, context: Any) -> Any:
            return m201.BootNotificationResponse(current_time=NOW, interval=60, status=self.status)

    handler = Rejecting()
    csms = server((csms201.BINDING, handler))

    async def body(port: int) -> None:
        async with connect(f"ws://127.0.0.1:{port}/ocpp/CS-X", subprotocols=["ocpp2.0.1"]) as ws:  # type: ignore[list-item]
            await ws.send(json.dumps([2, "b", "BootNotification", msgspec.to_builtins(boot201())]))
            await ws.recv()
            client = csms.registry.client("CS-X", csms201.BINDING)
            with pytest.raises(NotAllowed, match="B03.FR.03"):
                await client.reset(m201.ResetRequest(type=e201.ResetEnumType.Immediate))
            handler.status = e201.RegistrationStatusEnumType.Pending
            await ws.send(json.dumps([2, "b2", "BootNotification", msgspec.to_builtins(boot201())]))
            await ws.recv()
            token = d201.IdTokenType(id_token="T", type=e201.IdTokenEnumType.ISO14443)
            with pytest.raises(NotAllowed, match="B02.FR.05"):
                await client.request_start_transaction(m201.RequestStartTransactionRequest(id_token=token, remote_start_id=1))

    run(started(csms, body))


def test_registry_waits_iterates_publishes_and_types_its_clients(caplog: pytest.LogCaptureFixture) -> None:
    made: list[Any] = []

    def factory(session: Session) -> Any:
        handler = make_csms("2.0.1")
        made.append((session.identity, handler))
        return handler

    csms = server((csms201.BINDING, factory), (csms16.BINDING, make_csms("1.6")))

    async def body(port: int) -> None:
        with pytest.raises(asyncio.TimeoutError, match="'CS-1' was not registered within 0.05 s"):
            await csms.registry.wait_for("CS-1", timeout=0.05, registered=True)
        with pytest.raises(NotConnected):
            csms.registry.client("CS-1", csms201.BINDING)
        async with csms.registry.events() as events:
            waiting = asyncio.ensure_future(csms.registry.wait_for("cs-1", timeout=5, registered=True))
            one = station(f"ws://127.0.0.1:{port}/ocpp/CS-1", station201.BINDING, make_station("2.0.1"))
            two = station(f"ws://127.0.0.1:{port}/ocpp/CS-2", station201.BINDING, make_station("2.0.1"))
            old = station(f"ws://127.0.0.1:{port}/ocpp/CS-3", station16.BINDING, make_station("1.6"))
            async with one.running(), two.running(), old.running():
                session = await waiting
                assert session.identity == "CS-1" and session.registered
                await eventually(lambda: two.registered and old.registered, what="registration")
                assert sorted(s.identity for s in csms.registry.sessions()) == ["CS-1", "CS-2", "CS-3"]
                assert len(csms.registry) == 3 and "cs-2" in csms.registry
                with pytest.raises(VersionMismatch, match="CS-3 speaks OCPP 1.6, not 2.0.1"):
                    csms.registry.client("CS-3", csms201.BINDING)
                branch = csms.registry.session("CS-3")
                assert branch is not None and branch.try_client(csms201.BINDING) is None
                assert branch.try_client(csms16.BINDING) is not None
                first = [await asyncio.wait_for(events.__anext__(), 5) for _ in range(6)]
            assert {(e.kind, e.identity) for e in first} == {(k, i) for k in ("connected", "registered") for i in ("CS-1", "CS-2", "CS-3")}
            await eventually(lambda: len(csms.registry) == 0, what="disconnect")
            gone = [await asyncio.wait_for(events.__anext__(), 5) for _ in range(3)]
            assert {e.kind for e in gone} == {"disconnected"} and all(e.code == 1000 for e in gone)
        assert [i for i, _ in made] == ["CS-1", "CS-2"] and made[0][1] is not made[1][1]  # one handler per station

    with caplog.at_level(logging.INFO, logger="ocppgen"):
        run(started(csms, body))
    text = caplog.text
    assert "CS-1: connected (OCPP 2.0.1, 127.0.0.1:" in text and "CS-1: registration Accepted" in text
    assert "CS-3: disconnected (code 1000" in text


def test_a_per_station_handler_survives_a_reconnect() -> None:
    made: list[Any] = []

    def factory(session: Session) -> Any:
        handler = make_csms("2.0.1")
        made.append(handler)
        return handler

    csms = server((csms201.BINDING, factory))

    async def body(port: int) -> None:
        client = station(f"ws://127.0.0.1:{port}/ocpp/CS-F", station201.BINDING, make_station("2.0.1"))
        async with client.running():
            await eventually(lambda: client.registered, what="registration")
            await csms.registry.session("CS-F").link.close(1011, "drop")  # type: ignore[union-attr]
            await eventually(lambda: client.current is not None and "CS-F" in csms.registry and len(made[0].hooks) >= 4, what="reconnect")

    run(started(csms, body))
    assert len(made) == 1 and made[0].hooks[:4] == ["connected", "registered", "disconnected", "connected"]
    assert made[0].boots == 1


def test_warnings_about_a_hostile_peer_are_rate_limited(caplog: pytest.LogCaptureFixture) -> None:
    csms = server((csms201.BINDING, make_csms("2.0.1")), warnings_per_minute=5)

    async def body(port: int) -> None:
        async with connect(f"ws://127.0.0.1:{port}/ocpp/CS-H", subprotocols=["ocpp2.0.1"]) as ws:  # type: ignore[list-item]
            for i in range(50):
                await ws.send(f"garbage {i}")
            for _ in range(50):
                assert json.loads(await ws.recv())[2] == "RpcFrameworkError"

    with caplog.at_level(logging.WARNING, logger="ocppgen"):
        run(started(csms, body))
    answered = [r for r in caplog.records if "frame answered RpcFrameworkError" in r.getMessage()]
    assert len(answered) == 5 and all(r.ocpp_station == "CS-H" for r in answered)  # type: ignore[attr-defined]


def test_connect_failures_name_their_cause() -> None:
    csms = server((csms201.BINDING, make_csms("2.0.1")))

    async def body(port: int) -> None:
        wrong_version = station(f"ws://127.0.0.1:{port}/ocpp/CS-V", station16.BINDING, make_station("1.6"))
        nobody = station("ws://127.0.0.1:9/ocpp/CS-N", station201.BINDING, make_station("2.0.1"))
        async with wrong_version.running(), nobody.running():
            with pytest.raises(ConnectFailed, match=r"last attempt: no common OCPP version \(offered ocpp1.6\)"):
                await wrong_version.connected(timeout=0.5)
            with pytest.raises(ConnectFailed, match="last attempt: connection refused"):
                await nobody.connected(timeout=0.5)
        with pytest.raises(ValueError, match="does not end in a valid station identity"):
            station(f"ws://127.0.0.1:{port}/ocpp/CS%FF", station201.BINDING, make_station("2.0.1"))

    run(started(csms, body))


def test_the_queue_keeps_delivering_while_the_application_fills_the_call_queue(tmp_path: Path) -> None:
    """A CALL queue at its bound (QueueFull) delays the queue's sender; it never ends it."""
    handler = make_csms("2.0.1")
    csms = server((csms201.BINDING, handler))
    full = 0

    async def body(port: int) -> None:
        nonlocal full
        client = station(
            f"ws://127.0.0.1:{port}/ocpp/CS-Q", station201.BINDING, make_station("2.0.1"),
            queue=SqliteStore(str(tmp_path / "q.sqlite")), max_queue=1,
        )
        async with client.running():
            await eventually(lambda: client.registered, what="registration")
            for seq in range(20):
                route, request, _ = message("2.0.1", seq, 20)
                client.submit(route, request)
            for _ in range(200):  # the application keeps the one queue slot busy
                try:
                    await asyncio.gather(*(client.csms.status_notification(m201.StatusNotificationRequest(
                        timestamp=NOW, connector_status=e201.ConnectorStatusEnumType.Available, evse_id=1, connector_id=1))
                        for _ in range(3)), return_exceptions=False)
                except QueueFull:
                    full += 1
                except CallErrorReceived:
                    pass  # NotSupported by this CSMS: fine, the slot was used
                if len(handler.handled) == 20:
                    break
            await eventually(lambda: len(handler.handled) == 20, timeout=10, what="delivery")

    run(started(csms, body))
    assert handler.handled == list(range(20)) and full > 0
