"""End-to-end benchmark: an ocppgen CSMS (with ``async def`` handlers, and with plain ``def``
handlers: ``ocppgen-def``), an `ocpp`-package CSMS and a bare websockets floor serving the same
lightweight load generator, side by side, interleaved, in one run, each on asyncio's event loop
and on uvloop.

Load: N stations (raw websockets clients with prebuilt frames), each sending sequential
Heartbeat and TransactionEvent (7 sampled values) calls. Reported per server, loop and N:
calls/s, p50/p99 latency, server CPU time per call (from the server process's own /proc
accounting). `ocppgen build` has its own harness (benchmarks/build.py), as have idle connections and
reconnection storms (benchmarks/idle.py, benchmarks/storm.py).

    python -m benchmarks.e2e [--stations 100,1000] [--calls-per-station 20] [--loops asyncio,uvloop]
                             [--repeat 3] [--kinds ocppgen,ocppgen-def,incumbent,floor]
                             [--base DIR] [--out benchmarks/results/e2e.md]

--base DIR adds ``ocppgen@base``: the ocppgen server (async handlers) importing the
``ocppgen`` package found in DIR (e.g. an export of main's generator/, generated/ and runtime/
laid out as the installed package), to compare two versions of the runtime in one run.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any

from websockets.asyncio.client import connect

from benchmarks.harness import ServerProcess, publish, raise_fd_limit
from benchmarks.messages import TRANSACTION_EVENT_201

KINDS = ("ocppgen", "ocppgen-def", "incumbent", "floor")
BASE = "ocppgen@base"
BOOT = json.dumps({"reason": "PowerUp", "chargingStation": {"model": "M", "vendorName": "V"}}, separators=(",", ":"))
TX = json.dumps(TRANSACTION_EVENT_201, separators=(",", ":"))


def loops_available(wanted: list[str]) -> list[str]:
    from ocppgen.generated.runtime.loop import uvloop_available

    return [name for name in wanted if name != "uvloop" or uvloop_available()]


async def station(url: str, calls: int, latencies: list[float], start: asyncio.Event) -> int:
    async with connect(url, subprotocols=["ocpp2.0.1"], ping_interval=None, open_timeout=60) as ws:  # type: ignore[list-item]
        await ws.send(f'[2,"boot",' f'"BootNotification",{BOOT}]')
        await ws.recv()
        await start.wait()
        hb_prefix, tx_prefix = '[2,"h', '[2,"t'
        for i in range(calls):
            frame = f'{hb_prefix}{i}","Heartbeat",{{}}]' if i % 2 == 0 else f'{tx_prefix}{i}","TransactionEvent",{TX}]'
            t0 = time.perf_counter()
            await ws.send(frame)
            reply = await ws.recv()
            latencies.append(time.perf_counter() - t0)
            if not reply.startswith("[3,"):
                raise RuntimeError(f"unexpected reply {reply[:120]}")
    return calls


async def load(server: ServerProcess, n: int, calls_per_station: int) -> dict[str, float]:
    url = f"ws://127.0.0.1:{server.port}/ocpp/"
    latencies: list[float] = []
    start = asyncio.Event()
    tasks = []
    for batch in range(0, n, 200):  # connect in batches so the handshakes do not time out
        tasks += [asyncio.ensure_future(station(f"{url}S{i}", calls_per_station, latencies, start)) for i in range(batch, min(n, batch + 200))]
        await asyncio.sleep(0.05)
    await asyncio.sleep(0.5 + n / 500)  # all connected and booted before the clock starts
    cpu0, t0 = server.cpu_seconds(), time.perf_counter()
    start.set()
    done = await asyncio.gather(*tasks)
    wall, cpu = time.perf_counter() - t0, server.cpu_seconds() - cpu0
    calls = sum(done)
    latencies.sort()
    return {
        "calls_per_s": calls / wall,
        "p50_ms": latencies[len(latencies) // 2] * 1e3,
        "p99_ms": latencies[max(0, int(len(latencies) * 0.99) - 1)] * 1e3,
        "cpu_us_per_call": cpu / calls * 1e6,
    }


async def prove_the_server_validates(kind: str = "ocppgen") -> None:
    """The ocppgen server being timed really validates: an invalid TransactionEvent is refused."""
    server = ServerProcess(kind)
    try:
        async with connect(f"ws://127.0.0.1:{server.port}/ocpp/PROOF", subprotocols=["ocpp2.0.1"]) as ws:  # type: ignore[list-item]
            await ws.send(f'[2,"b","BootNotification",{BOOT}]')
            await ws.recv()
            await ws.send('[2,"x","TransactionEvent",' + TX.replace('"seqNo":42', '"seqNo":"42"') + "]")
            reply = json.loads(await ws.recv())
            assert reply[0] == 4 and reply[2] == "TypeConstraintViolation", reply
    finally:
        server.stop()


@contextlib.contextmanager
def _pythonpath(folder: str | None) -> Any:
    """Servers started inside import ``ocppgen`` from ``folder`` first (None: as installed)."""
    if folder is None:
        yield
        return
    before = os.environ.get("PYTHONPATH")
    os.environ["PYTHONPATH"] = folder + ("" if before is None else os.pathsep + before)
    try:
        yield
    finally:
        if before is None:
            del os.environ["PYTHONPATH"]
        else:
            os.environ["PYTHONPATH"] = before


async def run(
    stations: list[int], calls_per_station: int, repeat: int, loops: list[str] | None = None, min_calls: int = 20000,
    python: str | None = None, kinds: list[str] | None = None, base: str | None = None,
) -> dict[str, Any]:
    raise_fd_limit()
    loops = loops_available(loops or ["asyncio", "uvloop"])
    kinds = list(kinds or KINDS) + ([BASE] if base else [])
    for kind in kinds:
        if kind.startswith("ocppgen") and kind != BASE:
            await prove_the_server_validates(kind)
    results: dict[str, Any] = {"load": {}, "loops": loops, "kinds": kinds}
    for _ in range(repeat):  # interleaved: every server, loop and size once per repetition
        for loop in loops:
            for kind in kinds:
                with _pythonpath(base if kind == BASE else None):
                    server = ServerProcess("ocppgen" if kind == BASE else kind, *(["--uvloop"] if loop == "uvloop" else []), python=python)
                try:
                    for n in stations:
                        # enough calls for the CPU clock's 10 ms ticks to be small against the total
                        calls = max(calls_per_station, min_calls // max(n, 1))
                        results["load"].setdefault((kind, loop, n), []).append(await load(server, n, calls))
                finally:
                    server.stop()
    return results


def med(values: list[float]) -> str:
    return f"{statistics.median(values):.3g} ({min(values):.3g}-{max(values):.3g})"


def _ratio(a: float, b: float) -> str:
    return f"{a / b:.2f}x" if b > 0 else "n/a (under one CPU clock tick)"


def table(results: dict[str, Any], stations: list[int]) -> str:
    out = [
        "| N stations | loop | server | calls/s | p50 ms | p99 ms | server CPU us/call | CPU vs floor (same loop) | CPU vs incumbent |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    kinds = results.get("kinds", KINDS)
    for n in stations:
        for loop in results["loops"]:
            cpu = {k: statistics.median([r["cpu_us_per_call"] for r in results["load"][(k, loop, n)]]) for k in kinds}
            for kind in kinds:
                rows = results["load"][(kind, loop, n)]
                out.append(
                    f"| {n} | {loop} | {kind} | {med([r['calls_per_s'] for r in rows])} | {med([r['p50_ms'] for r in rows])} | "
                    f"{med([r['p99_ms'] for r in rows])} | {med([r['cpu_us_per_call'] for r in rows])} | "
                    f"{_ratio(cpu[kind], cpu['floor']) if 'floor' in cpu else '-'} | "
                    f"{_ratio(cpu[kind], cpu['incumbent']) if 'incumbent' in cpu else '-'} |"
                )
    if "asyncio" in results["loops"] and "uvloop" in results["loops"]:
        gains = []
        for n in stations:
            for kind in kinds:
                a = statistics.median([r["cpu_us_per_call"] for r in results["load"][(kind, "asyncio", n)]])
                u = statistics.median([r["cpu_us_per_call"] for r in results["load"][(kind, "uvloop", n)]])
                gains.append(f"{kind} N={n} {_ratio(u, a)}")
        out += ["", "Server CPU per call on uvloop / on asyncio's loop: " + ", ".join(gains) + "."]
    out += ["", "Medians (min-max) of interleaved repetitions; the load generator shares the 2 cores with the server."]
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="end-to-end benchmark")
    parser.add_argument("--stations", default="100,1000")
    parser.add_argument("--calls-per-station", type=int, default=20)
    parser.add_argument("--loops", default="asyncio,uvloop")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--python", default=None, help="run the servers on this interpreter (e.g. to compare Python versions)")
    parser.add_argument("--kinds", default=",".join(KINDS), help="the servers to run (comma-separated)")
    parser.add_argument("--base", default=None, help="also run the ocppgen server on the ocppgen package in this folder")
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args(argv)
    stations = [int(x) for x in args.stations.split(",") if x]
    results = asyncio.run(run(stations, args.calls_per_station, args.repeat, args.loops.split(","),
                              python=args.python, kinds=[k for k in args.kinds.split(",") if k], base=args.base))
    text = table(results, stations)
    return publish(text, args.out)


if __name__ == "__main__":
    sys.exit(main())
