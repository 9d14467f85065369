"""Faults and hostile peers at the connection level: hanging and failing handlers, a limit on
bad messages, binary frames, 2.1 retries that reuse a message id, and a random-frame fuzzer
against a live server."""

from __future__ import annotations

import asyncio
import json
import logging
import random

from typing import Any

import pytest
from websockets.asyncio.client import connect

from ocppgen.generated.v201 import csms as csms201, enums as e201, messages as m201
from ocppgen.generated.v21 import csms as csms21, enums as e21, messages as m21
from tests.helpers import NOW, run, server, started

BOOT = '{"reason":"PowerUp","chargingStation":{"model":"M","vendorName":"V"}}'


class Faulty(csms201.CsmsHandler):
    async def on_boot_notification(self, request: m201.BootNotificationRequest, context: Any) -> m201.BootNotificationResponse:
        return m201.BootNotificationResponse(current_time=NOW, interval=60, status=e201.RegistrationStatusEnumType.Accepted)

    async def on_heartbeat(self, request: m201.HeartbeatRequest, context: Any) -> m201.HeartbeatResponse:
        await asyncio.sleep(3600)  # hangs
        raise AssertionError

    async def on_authorize(self, request: m201.AuthorizeRequest, context: Any) -> m201.AuthorizeResponse:
        raise KeyError("db row 42 with secret token")


async def booted(port: int, name: str, subprotocol: str = "ocpp2.0.1") -> object:
    ws = await connect(f"ws://127.0.0.1:{port}/ocpp/{name}", subprotocols=[subprotocol])  # type: ignore[list-item]
    await ws.send(f'[2,"boot","BootNotification",{BOOT}]')
    await ws.recv()
    return ws


def test_hanging_handler_is_cut_off_and_raising_handler_answers_internal_error(caplog: pytest.LogCaptureFixture) -> None:
    csms = server((csms201.BINDING, Faulty()), handler_timeout=0.2)

    async def body(port: int) -> None:
        ws = await booted(port, "F1")
        await ws.send('[2,"h","Heartbeat",{}]')  # type: ignore[attr-defined]
        reply = json.loads(await asyncio.wait_for(ws.recv(), 5))  # type: ignore[attr-defined]
        assert reply[:3] == [4, "h", "InternalError"]
        await ws.send('[2,"a","Authorize",{"idToken":{"idToken":"x","type":"ISO14443"}}]')  # type: ignore[attr-defined]
        reply = json.loads(await ws.recv())  # type: ignore[attr-defined]
        assert reply[:3] == [4, "a", "InternalError"] and "secret" not in reply[3] and "Traceback" not in reply[3]
        await ws.send('[2,"b2","BootNotification",' + BOOT + "]")  # type: ignore[attr-defined]
        assert json.loads(await ws.recv())[0] == 3  # type: ignore[attr-defined]  # still usable
        await ws.close()  # type: ignore[attr-defined]

    with caplog.at_level(logging.ERROR, logger="ocppgen"):
        run(started(csms, body))
    assert "the Authorize handler raised" in caplog.text and "KeyError" in caplog.text  # logged, with traceback
    assert "did not answer within 0.2 s" in caplog.text


def test_optional_limit_closes_after_n_bad_messages() -> None:
    csms = server((csms201.BINDING, Faulty()), max_bad_messages=3)

    async def body(port: int) -> None:
        ws = await booted(port, "F2")
        for i in range(4):
            await ws.send(f"garbage {i}")  # type: ignore[attr-defined]
        with pytest.raises(Exception):
            for _ in range(10):
                await asyncio.wait_for(ws.recv(), 5)  # type: ignore[attr-defined]
        assert ws.close_code == 1008  # type: ignore[attr-defined]

    run(started(csms, body))


def test_binary_frames_are_ignored_and_the_connection_stays_usable() -> None:
    csms = server((csms201.BINDING, Faulty()))

    async def body(port: int) -> None:
        ws = await booted(port, "F3")
        await ws.send(b'[2,"x","Heartbeat",{}]')  # type: ignore[attr-defined]
        await ws.send(f'[2,"b2","BootNotification",{BOOT}]')  # type: ignore[attr-defined]
        assert json.loads(await ws.recv())[:2] == [3, "b2"]  # type: ignore[attr-defined]  # the binary one got nothing
        await ws.close()  # type: ignore[attr-defined]

    run(started(csms, body))


class Counting21(csms21.CsmsHandler):
    def __init__(self) -> None:
        self.handled = 0

    async def on_boot_notification(self, request: m21.BootNotificationRequest, context: Any) -> m21.BootNotificationResponse:
        return m21.BootNotificationResponse(current_time=NOW, interval=60, status=e21.RegistrationStatusEnumType.Accepted)

    async def on_transaction_event(self, request: m21.TransactionEventRequest, context: Any) -> m21.TransactionEventResponse:
        self.handled += 1
        return m21.TransactionEventResponse(total_cost=float(self.handled))


TX21 = (
    '{"eventType":"Started","timestamp":"2024-01-01T00:00:00Z","triggerReason":"Authorized","seqNo":0,'
    '"transactionInfo":{"transactionId":"T1"}}'
)


def test_2_1_retry_with_the_same_id_is_answered_from_cache_not_handled_twice() -> None:
    handler = Counting21()
    csms = server((csms21.BINDING, handler))

    async def body(port: int) -> None:
        ws = await booted(port, "R1", "ocpp2.1")
        await ws.send(f'[2,"tx-1","TransactionEvent",{TX21}]')  # type: ignore[attr-defined]
        first = json.loads(await ws.recv())  # type: ignore[attr-defined]
        await ws.close()  # type: ignore[attr-defined]  # the answer was lost: the station retries after reconnecting
        ws = await booted(port, "R1", "ocpp2.1")
        await ws.send(f'[2,"tx-1","TransactionEvent",{TX21}]')  # type: ignore[attr-defined]
        second = json.loads(await ws.recv())  # type: ignore[attr-defined]
        assert first == second == [3, "tx-1", {"totalCost": 1.0}]
        await ws.send(f'[2,"tx-2","TransactionEvent",{TX21}]')  # type: ignore[attr-defined]
        assert json.loads(await ws.recv())[2] == {"totalCost": 2.0}  # type: ignore[attr-defined]
        await ws.close()  # type: ignore[attr-defined]

    run(started(csms, body))
    assert handler.handled == 2


def random_frame(rng: random.Random) -> str | bytes:
    pieces = [
        lambda: "[" * rng.randint(1, 3000),
        lambda: json.dumps([rng.choice([2, 3, 4, 5, 6, 7, -1, 2.5, "2", None]), rng.choice(["a", "", "x" * 40, 7, None]),
                            rng.choice(["Heartbeat", "BootNotification", "Nope", "TransactionEvent", 3]), rng.choice([{}, [], None, {"a": 1}, "s"])]),
        lambda: bytes(rng.getrandbits(8) for _ in range(rng.randint(0, 64))),
        lambda: json.dumps([2, f"id{rng.randint(0, 5)}", "TransactionEvent", {"seqNo": rng.choice([1, "1", 1.5, None])}]),
        lambda: '[2,"dup","Heartbeat",{}]',
        lambda: json.dumps({"k": "v" * rng.randint(0, 100000)}),
        lambda: "".join(chr(rng.randint(0, 0x2FF)) for _ in range(rng.randint(0, 50))),
    ]
    return rng.choice(pieces)()


def test_random_frame_fuzzer_against_a_live_server() -> None:
    """A bounded fuzzer (seeded): every frame gets an answer or a documented drop, the
    connection stays open and usable, and the server keeps no state per bad frame."""
    csms = server((csms201.BINDING, Faulty()), handler_timeout=0.05)

    async def body(port: int) -> None:
        rng = random.Random(20261122)
        ws = await booted(port, "FUZZ")
        for _ in range(300):
            await ws.send(random_frame(rng))  # type: ignore[attr-defined]
        await ws.send(f'[2,"last","BootNotification",{BOOT}]')  # type: ignore[attr-defined]
        while True:  # drain the answers until ours arrives: the connection is still usable
            reply = json.loads(await asyncio.wait_for(ws.recv(), 10))  # type: ignore[attr-defined]
            assert reply[0] in (3, 4)
            if reply[1] == "last":
                assert reply[0] == 3
                break
        session = csms.registry.session("FUZZ")
        assert session is not None and session.link is not None
        protocol = session.link.protocol  # type: ignore[attr-defined]
        assert not protocol._queue and len(protocol._inbound) <= 6
        await ws.close()  # type: ignore[attr-defined]

    run(started(csms, body))


def test_ten_thousand_levels_of_nesting_do_not_kill_the_connection() -> None:
    csms = server((csms201.BINDING, Faulty()))

    async def body(port: int) -> None:
        ws = await booted(port, "DEEP")
        await ws.send("[" * 10_000 + "]" * 10_000)  # type: ignore[attr-defined]
        assert json.loads(await ws.recv())[:3] == [4, "-1", "RpcFrameworkError"]  # type: ignore[attr-defined]
        await ws.send('[2,"d","DataTransfer",{"vendorId":"v","data":' + "[" * 10_000 + "]" * 10_000 + "}]")  # type: ignore[attr-defined]
        assert json.loads(await ws.recv())[:3] == [4, "d", "FormatViolation"]  # type: ignore[attr-defined]
        await ws.send(f'[2,"ok","BootNotification",{BOOT}]')  # type: ignore[attr-defined]
        assert json.loads(await ws.recv())[:2] == [3, "ok"]  # type: ignore[attr-defined]
        await ws.close()  # type: ignore[attr-defined]

    run(started(csms, body))


def test_text_frame_that_is_not_utf8_is_closed_with_1007() -> None:
    csms = server((csms201.BINDING, Faulty()))

    async def body(port: int) -> None:
        ws = await booted(port, "UTF")
        await ws.send(b"[2,\"x\",\"Heartbeat\",{\"\xff\":1}]", text=True)  # type: ignore[attr-defined]
        await asyncio.wait_for(ws.wait_closed(), 5)  # type: ignore[attr-defined]
        assert ws.close_code == 1007  # type: ignore[attr-defined]

    run(started(csms, body))
