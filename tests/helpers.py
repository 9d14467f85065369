"""Shared pieces of the end-to-end tests: a loop runner, servers on free ports, stations."""

from __future__ import annotations

import asyncio
import datetime
from collections.abc import Awaitable, Callable
from typing import Any

from ocppgen.generated.runtime.client import StationClient
from ocppgen.generated.runtime.config import BackOff, ServerOptions, StationOptions
from ocppgen.generated.runtime.server import CsmsServer
from ocppgen.generated.v201 import datatypes as d201, enums as e201, messages as m201

UTC = datetime.timezone.utc
NOW = datetime.datetime(2024, 1, 1, tzinfo=UTC)
FAST = BackOff(wait_minimum=0.05, random_range=0, repeat_times=1)


def run(coro: Awaitable[Any], timeout: float = 30) -> Any:
    return asyncio.run(asyncio.wait_for(coro, timeout))  # type: ignore[arg-type]


def server(*handlers: tuple[Any, Any], **options: Any) -> CsmsServer:
    """A CsmsServer serving ``(binding, handler)`` pairs in preference order."""
    csms = CsmsServer(ServerOptions(**options))
    for binding, handler in handlers:
        csms.handle(binding, handler)
    return csms


def station(url: str, binding: Any, handler: Any, **options: Any) -> StationClient[Any, Any]:
    """A StationClient with a fast back-off unless told otherwise."""
    options.setdefault("backoff", FAST)
    return StationClient(url, binding, handler, StationOptions(**options))


async def started(csms: CsmsServer, body: Callable[[int], Awaitable[Any]]) -> Any:
    async with csms.serve("127.0.0.1", 0) as ws_server:
        port = next(iter(ws_server.sockets)).getsockname()[1]
        return await body(port)


async def eventually(predicate: Callable[[], bool], timeout: float = 5.0, what: str = "condition") -> None:
    """Wait until ``predicate()`` holds (polling), or fail saying what did not happen."""
    loop = asyncio.get_running_loop()
    end = loop.time() + timeout
    while not predicate():
        if loop.time() > end:
            raise AssertionError(f"{what} did not happen within {timeout} s")
        await asyncio.sleep(0.01)


def boot201() -> m201.BootNotificationRequest:
    return m201.BootNotificationRequest(
        reason=e201.BootReasonEnumType.PowerUp, charging_station=d201.ChargingStationType(model="M", vendor_name="V")
    )
