"""Admission control for reconnection storms (issue 14): token buckets answering HTTP 503 with
Retry-After, a BootNotification pacer answering Pending with a spreading interval (B02), and a
station client that honours both."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import msgspec
import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus

from ocppgen.generated.runtime.admission import BootPacer, ConnectionLimiter, TokenBucket
from ocppgen.generated.v201 import csms as csms201, enums as e201, messages as m201, station as station201
from tests.helpers import NOW, boot201, eventually, run, server, started, station


def test_a_token_bucket_refills_at_its_rate() -> None:
    bucket = TokenBucket(rate=2.0, burst=2, now=0.0)
    assert [bucket.take(0.0), bucket.take(0.0)] == [0.0, 0.0]
    assert bucket.take(0.0) == pytest.approx(0.5)
    assert bucket.take(0.5) == 0.0


def test_the_connection_limiter_overall_and_per_address() -> None:
    limiter = ConnectionLimiter(rate=1.0, burst=3)
    assert [limiter.admit("10.0.0.1", 0.0) for _ in range(4)] == [None, None, None, 1]
    per = ConnectionLimiter(rate=100.0, burst=100, per_address_rate=0.5, per_address_burst=1)
    assert per.admit("10.0.0.1", 0.0) is None and per.admit("10.0.0.1", 0.0) == 2
    assert per.admit("10.0.0.2", 0.0) is None  # another address has its own bucket
    assert per.refused == 1


def test_the_boot_pacer_spreads_the_crowd_within_bounds() -> None:
    pacer = BootPacer(2, boots_per_second=10, min_interval=5, max_interval=20)
    assert pacer.acquire(0.0) is None and pacer.acquire(0.0) is None
    intervals = [pacer.acquire(0.0) for _ in range(300)]
    assert intervals[0] == 5 and intervals[-1] == 20 and intervals == sorted(intervals)  # grows, capped
    pacer.release()
    assert pacer.acquire(1.0) is None  # a slot freed: handled again
    assert pacer.acquire(10.0) == 20 and pacer.acquire(100.0) == 5  # deferrals older than max_interval age out


class SlowBoots(csms201.CsmsHandler):
    def __init__(self) -> None:
        self.handled = 0
        self.gate = asyncio.Event()

    async def on_boot_notification(self, request: Any, context: Any) -> Any:
        self.handled += 1
        await self.gate.wait()
        return m201.BootNotificationResponse(current_time=NOW, interval=60, status=e201.RegistrationStatusEnumType.Accepted)


def test_boot_pacing_answers_pending_with_an_interval_and_the_station_boots_again() -> None:
    handler = SlowBoots()
    csms = server((csms201.BINDING, handler), boot_pacer=BootPacer(1, boots_per_second=1, min_interval=1, max_interval=2))
    sleeps: list[float] = []

    async def body(port: int) -> None:
        async with connect(f"ws://127.0.0.1:{port}/ocpp/FIRST", subprotocols=["ocpp2.0.1"]) as first:  # type: ignore[list-item]
            await first.send(json.dumps([2, "b", "BootNotification", msgspec.to_builtins(boot201())]))
            await eventually(lambda: handler.handled == 1, what="the first boot in the handler")

            async def fake_sleep(seconds: float) -> None:
                sleeps.append(seconds)
                if seconds >= 1:
                    handler.gate.set()  # the crowd is over: the next boot is handled
                await asyncio.sleep(0.01)

            client = station(f"ws://127.0.0.1:{port}/ocpp/SECOND", station201.BINDING, station201.StationHandler(), sleep=fake_sleep)
            async with client.running():
                answer = await client.register(lambda csms: csms.boot_notification(boot201()), timeout=10)
                assert answer.status is e201.RegistrationStatusEnumType.Accepted
            assert json.loads(await first.recv())[2]["status"] == "Accepted"
        session = csms.registry.session("SECOND")
        assert session is not None and session.registered

    run(started(csms, body))
    assert 1 in sleeps  # the Pending interval was honoured before booting again (B02.FR.08)
    assert csms.options.boot_pacer is not None and csms.options.boot_pacer.paced == 1


def test_past_the_connection_rate_upgrades_get_503_with_retry_after_and_our_station_waits_it() -> None:
    csms = server((csms201.BINDING, csms201.CsmsHandler()), connection_limiter=ConnectionLimiter(rate=0.5, burst=1))
    sleeps: list[float] = []

    async def body(port: int) -> None:
        async with connect(f"ws://127.0.0.1:{port}/ocpp/A", subprotocols=["ocpp2.0.1"]):  # type: ignore[list-item]
            pass
        with pytest.raises(InvalidStatus) as refused:
            async with connect(f"ws://127.0.0.1:{port}/ocpp/B", subprotocols=["ocpp2.0.1"]):  # type: ignore[list-item]
                pass
        assert refused.value.response.status_code == 503 and refused.value.response.headers["Retry-After"] == "2"

        async def fake_sleep(seconds: float) -> None:
            sleeps.append(seconds)
            await asyncio.sleep(0.05)

        client = station(f"ws://127.0.0.1:{port}/ocpp/C", station201.BINDING, station201.StationHandler(), sleep=fake_sleep)
        async with client.running():
            await eventually(lambda: bool(sleeps), what="a refused attempt")
        assert client.last_error is not None and "503" in client.last_error
        assert sleeps[0] >= 2  # Retry-After, not the 0.05 s back-off

    run(started(csms, body))
