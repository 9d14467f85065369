"""The systems under test (the example station and the example CSMS) and the reusable states of
2.0.1 Part 6 (section 2.18) that the scripts share."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from examples import csms as example_csms, station as example_station
from ocppgen.generated.runtime.config import BackOff, StationOptions
from tests.conformance.harness import Answerer, Link, Payload, TestCsms, now

ID_TOKEN = "04A2B3C4"  # the example station's local idToken
FAST = BackOff(wait_minimum=0.2, random_range=0, repeat_times=2)


def accept_all(version: str, interval: int = 300) -> dict[str, Answerer]:
    """The tester-CSMS's answers to what a test case lets the station send in any order."""
    if version == "1.6":
        return {
            "BootNotification": lambda p: {"status": "Accepted", "currentTime": now(), "interval": interval},
            "Heartbeat": lambda p: {"currentTime": now()},
            "StatusNotification": lambda p: {},
            "Authorize": lambda p: {"idTagInfo": {"status": "Accepted"}},
            "StartTransaction": lambda p: {"transactionId": 7, "idTagInfo": {"status": "Accepted"}},
            "StopTransaction": lambda p: {},
            "MeterValues": lambda p: {},
        }
    return {
        "BootNotification": lambda p: {"status": "Accepted", "currentTime": now(), "interval": interval},
        "Heartbeat": lambda p: {"currentTime": now()},
        "StatusNotification": lambda p: {},
        "Authorize": lambda p: {"idTokenInfo": {"status": "Accepted"}},
        "TransactionEvent": lambda p: {},
        "MeterValues": lambda p: {},
        "SecurityEventNotification": lambda p: {},
        "NotifyEvent": lambda p: {},
    }


def answer(version: str, action: str, payload: Payload) -> Payload:
    return accept_all(version)[action](payload)


@dataclass
class Station:
    """The example station under test and the tester-CSMS's link to it."""

    version: str
    csms: TestCsms
    link: Link
    sim: example_station.Simulator
    task: asyncio.Future[example_station.Simulator]


@contextlib.asynccontextmanager
async def example_station_at(version: str, csms: TestCsms, *, identity: str = "CS-1", options: StationOptions | None = None,
                             meter_values: int = 0, interval: float = 0.05) -> AsyncIterator[tuple[str, asyncio.Future[example_station.Simulator], example_station.Simulator]]:
    """Run the example station (keep_running) against the tester-CSMS ``csms``."""
    async with csms.serving() as base:
        sim = example_station.Simulator(identity, version)
        task = asyncio.ensure_future(example_station.simulate(
            f"{base}/{identity}", version, meter_values=meter_values, interval=interval, keep_running=True, sim=sim,
            options=options or StationOptions(backoff=FAST, ping_interval=0)))
        try:
            yield base, task, sim
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task


async def idle(station_link: Link, version: str) -> None:
    """The general pre-condition "Charging Station is Idle": the example station runs one local
    transaction right after booting; the tester answers it until it has ended."""
    while True:
        call = await station_link.expect("StopTransaction" if version == "1.6" else "TransactionEvent",
                                         allow=accept_all(version))
        await station_link.reply(call, answer(version, call.action, call.payload))
        if version == "1.6" or call.payload.get("eventType") == "Ended":
            break
    if version == "1.6":  # the connector becomes Available again
        status = await station_link.expect("StatusNotification")
        await station_link.reply(status, {})


@contextlib.asynccontextmanager
async def booted_station(version: str, *, boot_interval: int = 300, wait_idle: bool = True, **kwargs: object) -> AsyncIterator[Station]:
    """Reusable State Booted, then the general pre-conditions (Accepted, connected, idle; with
    ``wait_idle`` False the example's first transaction is still running)."""
    csms = TestCsms(version)
    async with example_station_at(version, csms, **kwargs) as (_, task, sim):  # type: ignore[arg-type]
        link = await csms.accepted()
        boot = await link.expect("BootNotification")
        await link.reply(boot, {"status": "Accepted", "currentTime": now(), "interval": boot_interval})
        status = await link.expect("StatusNotification")
        await link.reply(status, {})
        if version != "1.6":  # step 7
            event = await link.expect("SecurityEventNotification")
            assert event.payload["type"] in ("StartupOfTheDevice", "ResetOrReboot")
            await link.reply(event, {})
        if wait_idle:
            await idle(link, version)
        yield Station(version, csms, link, sim, task)


@contextlib.asynccontextmanager
async def example_csms_at(tmp: Path, **options: Any) -> AsyncIterator[str]:
    """Serve the example CSMS (its SQLite file in ``tmp``); yields the base URL."""
    server = example_csms.build_server(str(tmp / "csms.sqlite"), **options)
    async with server.serve("127.0.0.1", 0) as ws_server:
        port = next(iter(ws_server.sockets)).getsockname()[1]
        yield f"ws://127.0.0.1:{port}/ocpp"
