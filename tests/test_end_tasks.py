"""``loop.end_tasks``: the shutdown paths cancel their tasks and wait for them, and a
cancellation of the caller during that wait is not swallowed (``suppress(CancelledError)``
around ``await task`` would swallow it)."""

from __future__ import annotations

import asyncio

import pytest

from ocppgen.generated.runtime.loop import end_tasks
from tests.helpers import run


async def _slow_to_stop(stopped: asyncio.Event, linger: float) -> None:
    try:
        await asyncio.Future()
    finally:  # a task that takes a while to wind down (closes a socket, flushes a file)
        await asyncio.shield(asyncio.sleep(linger))
        stopped.set()


async def _fails() -> None:
    raise RuntimeError("boom")


def test_end_tasks_cancels_waits_and_keeps_what_the_tasks_ended_with() -> None:
    async def main() -> None:
        stopped = asyncio.Event()
        slow = asyncio.ensure_future(_slow_to_stop(stopped, 0.05))
        failed = asyncio.ensure_future(_fails())
        done = asyncio.ensure_future(asyncio.sleep(0))
        await asyncio.sleep(0.01)
        await end_tasks([slow, failed, done])
        assert stopped.is_set() and slow.cancelled()
        assert isinstance(failed.exception(), RuntimeError)  # kept, not raised, not reported as unretrieved
        # cancel=False only waits
        later = asyncio.ensure_future(asyncio.sleep(0.02, result=7))
        await end_tasks([later], cancel=False)
        assert later.result() == 7

    run(main())


def test_a_caller_cancelled_while_it_waits_is_cancelled() -> None:
    async def main() -> None:
        stopped = asyncio.Event()
        slow = asyncio.ensure_future(_slow_to_stop(stopped, 0.5))
        await asyncio.sleep(0.01)
        waiter = asyncio.ensure_future(end_tasks([slow]))
        await asyncio.sleep(0.05)
        waiter.cancel()  # e.g. asyncio.timeout() around a shutdown that takes too long
        with pytest.raises(asyncio.CancelledError):
            await waiter
        assert waiter.cancelled() and not stopped.is_set()
        await stopped.wait()  # the task itself still winds down

    run(main())


def test_station_client_stop_inside_a_timeout_raises_the_timeout() -> None:
    """``asyncio.timeout`` around ``StationClient.stop`` ends with TimeoutError when a task of
    the client is slow to stop; with the cancellation swallowed, the timeout never fired."""
    from ocppgen.generated.runtime.client import StationClient
    from ocppgen.generated.runtime.config import StationOptions
    from ocppgen.generated.v201 import station as st201

    async def main() -> None:
        client = StationClient("ws://127.0.0.1:9/ocpp/CS-T", st201.BINDING, st201.StationHandler(), StationOptions())
        stopped = asyncio.Event()
        slow = asyncio.ensure_future(_slow_to_stop(stopped, 0.5))
        await asyncio.sleep(0.01)
        with pytest.raises(TimeoutError):
            async with asyncio.timeout(0.05):
                await client.stop([slow])  # type: ignore[list-item]
        await stopped.wait()

    run(main())
