"""End-to-end benchmark: an ocppgen CSMS, an `ocpp`-package CSMS and a bare websockets floor
serving the same lightweight load generator, side by side, interleaved, in one run.

Load: N stations (raw websockets clients with prebuilt frames), each sending sequential
Heartbeat and TransactionEvent (7 sampled values) calls. Reported per server and N: calls/s,
p50/p99 latency, server CPU time per call (from the server process's own /proc accounting),
and resident memory per idle connection; plus `ocppgen build` wall time.

    python -m benchmarks.e2e [--stations 1,100,1000] [--calls-per-station 20] [--idle 1000,10000]
                             [--repeat 3] [--out benchmarks/results/e2e.md]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from websockets.asyncio.client import connect

from benchmarks.messages import TRANSACTION_EVENT_201

KINDS = ("ocppgen", "incumbent", "floor")
TICK = os.sysconf("SC_CLK_TCK")
BOOT = json.dumps({"reason": "PowerUp", "chargingStation": {"model": "M", "vendorName": "V"}}, separators=(",", ":"))
TX = json.dumps(TRANSACTION_EVENT_201, separators=(",", ":"))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class ServerProcess:
    def __init__(self, kind: str) -> None:
        self.kind = kind
        self.port = free_port()
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "benchmarks.servers", kind, str(self.port)],
            stdout=subprocess.PIPE,
            text=True,
            cwd=Path(__file__).resolve().parent.parent,
        )
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        if "READY" not in line:
            raise RuntimeError(f"{kind} server did not start: {line!r}")

    def cpu_seconds(self) -> float:
        fields = Path(f"/proc/{self.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / TICK  # utime + stime

    def rss_bytes(self) -> int:
        for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
        return 0

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(10)


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
        "p99_ms": latencies[int(len(latencies) * 0.99) - 1] * 1e3,
        "cpu_us_per_call": cpu / calls * 1e6,
    }


async def idle_memory(server: ServerProcess, m: int) -> float:
    url = f"ws://127.0.0.1:{server.port}/ocpp/"
    await asyncio.sleep(0.3)
    before = server.rss_bytes()
    conns = []
    for batch in range(0, m, 500):
        conns += await asyncio.gather(
            *(connect(f"{url}I{i}", subprotocols=["ocpp2.0.1"], ping_interval=None, open_timeout=120) for i in range(batch, min(m, batch + 500)))  # type: ignore[list-item]
        )
    await asyncio.sleep(1.0 + m / 5000)
    after = server.rss_bytes()
    await asyncio.gather(*(c.close() for c in conns))
    return (after - before) / m


def build_time() -> float:
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        subprocess.run([sys.executable, "-m", "ocppgen", "build", "--out", tmp], check=True, capture_output=True)
        return time.perf_counter() - t0


async def prove_the_server_validates() -> None:
    """The ocppgen server being timed really validates: an invalid TransactionEvent is refused."""
    server = ServerProcess("ocppgen")
    try:
        async with connect(f"ws://127.0.0.1:{server.port}/ocpp/PROOF", subprotocols=["ocpp2.0.1"]) as ws:  # type: ignore[list-item]
            await ws.send(f'[2,"b","BootNotification",{BOOT}]')
            await ws.recv()
            await ws.send('[2,"x","TransactionEvent",' + TX.replace('"seqNo":42', '"seqNo":"42"') + "]")
            reply = json.loads(await ws.recv())
            assert reply[0] == 4 and reply[2] == "TypeConstraintViolation", reply
    finally:
        server.stop()


def raise_fd_limit() -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


async def run(stations: list[int], calls_per_station: int, idle: list[int], repeat: int) -> dict[str, Any]:
    raise_fd_limit()
    await prove_the_server_validates()
    results: dict[str, Any] = {"load": {}, "idle": {}, "build": []}
    for _ in range(repeat):  # interleaved: every server and size once per repetition
        for kind in KINDS:
            server = ServerProcess(kind)
            try:
                for n in stations:
                    calls = max(calls_per_station, 2000 // max(n, 1)) if n < 100 else calls_per_station
                    results["load"].setdefault((kind, n), []).append(await load(server, n, calls))
            finally:
                server.stop()
            for m in idle:
                server = ServerProcess(kind)
                try:
                    results["idle"].setdefault((kind, m), []).append(await idle_memory(server, m))
                finally:
                    server.stop()
        results["build"].append(build_time())
    return results


def med(values: list[float]) -> str:
    return f"{statistics.median(values):.3g} ({min(values):.3g}-{max(values):.3g})"


def table(results: dict[str, Any], stations: list[int], idle: list[int]) -> str:
    out = ["| N stations | server | calls/s | p50 ms | p99 ms | server CPU us/call | CPU vs incumbent | CPU vs floor |", "|---|---|---|---|---|---|---|---|"]
    for n in stations:
        cpu = {k: statistics.median([r["cpu_us_per_call"] for r in results["load"][(k, n)]]) for k in KINDS}
        for kind in KINDS:
            rows = results["load"][(kind, n)]
            out.append(
                f"| {n} | {kind} | {med([r['calls_per_s'] for r in rows])} | {med([r['p50_ms'] for r in rows])} | "
                f"{med([r['p99_ms'] for r in rows])} | {med([r['cpu_us_per_call'] for r in rows])} | "
                f"{cpu[kind] / cpu['incumbent']:.2f}x | {cpu[kind] / cpu['floor']:.2f}x |"
            )
    out += ["", "| idle connections | server | resident memory per connection (KiB) | vs floor |", "|---|---|---|---|"]
    for m in idle:
        per = {k: statistics.median(results["idle"][(k, m)]) for k in KINDS}
        for kind in KINDS:
            out.append(f"| {m} | {kind} | {med([v / 1024 for v in results['idle'][(kind, m)]])} | {per[kind] / per['floor']:.2f}x |")
    out += ["", f"`ocppgen build` (all three versions) wall time: {med(results['build'])} s", ""]
    out.append("Medians (min-max) of interleaved repetitions; the load generator shares the 2 cores with the server.")
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="end-to-end benchmark")
    parser.add_argument("--stations", default="1,100,1000")
    parser.add_argument("--calls-per-station", type=int, default=20)
    parser.add_argument("--idle", default="1000,10000")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args(argv)
    stations = [int(x) for x in args.stations.split(",") if x]
    idle = [int(x) for x in args.idle.split(",") if x]
    results = asyncio.run(run(stations, args.calls_per_station, idle, args.repeat))
    text = table(results, stations, idle)
    print(text)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(text + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
