"""What ocppgen adds per call above the socket, in one process: a ``Connection`` (protocol core,
session, handler dispatch, writing) against the floor's loop, both over an in-memory socket
that hands over one frame per event-loop iteration (as a real socket does) and takes the
answers without I/O. No websockets, no kernel, no compression: the difference is the OCPP
stack's own CPU per call; the end-to-end benchmark has the whole.

    python -m benchmarks.glue [--calls 20000] [--repeat 7] [--uvloop]

Reported: microseconds per call (median of interleaved repetitions) for the floor's loop,
ocppgen with ``async def`` handlers, and with plain ``def`` handlers (the same Heartbeat and
TransactionEvent alternation as ``e2e``).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import time
from collections.abc import AsyncIterator, Awaitable
from typing import Any

from benchmarks.messages import TRANSACTION_EVENT_201
from benchmarks.servers import CANNED, NOW

TX = json.dumps(TRANSACTION_EVENT_201, separators=(",", ":"))


def frames(calls: int) -> list[str]:
    return [f'[2,"h{i}","Heartbeat",{{}}]' if i % 2 == 0 else f'[2,"t{i}","TransactionEvent",{TX}]' for i in range(calls)]


class Socket:
    """An in-memory socket: one frame per loop iteration in, answers counted out."""

    close_code: int | None = None
    close_reason: str | None = None
    remote_address = ("127.0.0.1", 1)
    transport = None
    ordered_send = True  # as websockets' connections: send() hands the message over before suspending

    def __init__(self, inbound: list[str]) -> None:
        self.inbound = inbound
        self.sent = 0

    def __aiter__(self) -> AsyncIterator[str]:
        return self._messages()

    async def _messages(self) -> AsyncIterator[str]:
        for frame in self.inbound:
            await asyncio.sleep(0)
            yield frame
        for _ in range(3):  # the last handler's task answers before the socket closes
            await asyncio.sleep(0)
        self.close_code = 1000

    async def send(self, message: str, /) -> None:
        self.sent += 1

    async def close(self, code: int = 1000, reason: str = "") -> None:
        self.close_code = code

    async def ping(self) -> Awaitable[object]:
        raise NotImplementedError


async def floor(inbound: list[str]) -> float:
    ws = Socket(inbound)
    t0 = time.process_time()
    async for message in ws:
        parts = message.split('"', 4)
        await ws.send(f'[3,"{parts[1]}",{CANNED.get(parts[3], "{}")}]')
    assert ws.sent == len(inbound)
    return time.process_time() - t0


def handlers() -> dict[str, object]:
    from ocppgen.generated.v201 import csms, messages

    class Async(csms.CsmsHandler):
        async def on_heartbeat(self, request: messages.HeartbeatRequest, context: csms.Context) -> messages.HeartbeatResponse:
            return messages.HeartbeatResponse(current_time=NOW)

        async def on_transaction_event(self, request: messages.TransactionEventRequest, context: csms.Context) -> messages.TransactionEventResponse:
            return messages.TransactionEventResponse()

    class Plain(csms.CsmsHandler):
        def on_heartbeat(self, request: messages.HeartbeatRequest, context: csms.Context) -> messages.HeartbeatResponse:
            return messages.HeartbeatResponse(current_time=NOW)

        def on_transaction_event(self, request: messages.TransactionEventRequest, context: csms.Context) -> messages.TransactionEventResponse:
            return messages.TransactionEventResponse()

    return {"ocppgen": Async(), "ocppgen-def": Plain()}


async def ocppgen(inbound: list[str], handler: object) -> float:
    from ocppgen.generated.runtime.config import ServerOptions
    from ocppgen.generated.runtime.connection import Connection
    from ocppgen.generated.runtime.routing import Role
    from ocppgen.generated.runtime.session import Registration, Session
    from ocppgen.generated.v201 import csms

    ws = Socket(inbound)
    session = Session("CS-1", Role.CSMS)
    session.registration = Registration.ACCEPTED  # booted, as the e2e stations are
    connection = Connection(ws, csms.BINDING, session, handler, ServerOptions(ping_interval=None))
    session.attach(connection, "2.0.1")
    t0 = time.process_time()
    await connection.run()
    await connection.stop_tasks()
    spent = time.process_time() - t0
    assert ws.sent == len(inbound), ws.sent
    return spent


async def measure(calls: int, repeat: int) -> dict[str, list[float]]:
    inbound = frames(calls)
    made = handlers()
    results: dict[str, list[float]] = {"floor": [], **{kind: [] for kind in made}}
    for _ in range(repeat):
        results["floor"].append(await floor(inbound) / calls * 1e6)
        for kind, handler in made.items():
            results[kind].append(await ocppgen(inbound, handler) / calls * 1e6)
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="ocppgen's CPU per call above the socket")
    parser.add_argument("--calls", type=int, default=20000)
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--uvloop", action="store_true")
    args = parser.parse_args(argv)
    from ocppgen.generated.runtime.loop import run

    results: Any = run(measure(args.calls, args.repeat), uvloop=args.uvloop)
    base = statistics.median(results["floor"])
    print("| server | us/call (median, min-max) | above the floor |\n|---|---|---|")
    for kind, values in results.items():
        m = statistics.median(values)
        print(f"| {kind} | {m:.2f} ({min(values):.2f}-{max(values):.2f}) | {m - base:+.2f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
