"""Cluster benchmark (issue 13, decision 0013): a typed call to a station through the Redis
backplane (from a process that holds no socket to the node that holds the station) against the
same call made on the node itself, side by side in one run, with 1 to 3 node processes.

Stations (OCPP 2.0.1, answering Reset at once) run in a process of their own; every call is a
typed ``registry.client(id, BINDING).reset(...)``. Reported per case: p50/p99 latency of
sequential calls and calls/s with ``--concurrency`` callers at once.

    python -m benchmarks.cluster [--redis redis://127.0.0.1:6379/0] [--stations 30] [--calls 400]
                                 [--concurrency 32] [--out benchmarks/results/cluster.md]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import platform
import statistics
import sys
import time
import uuid
from pathlib import Path
from typing import Any

from ocppgen.generated.runtime.cluster import ClusterRegistry
from ocppgen.generated.runtime.config import BackOff, ServerOptions, StationOptions
from ocppgen.generated.runtime.redis_backplane import RedisBackplane
from ocppgen.generated.runtime.server import CsmsServer
from ocppgen.generated.v201 import csms as csms201, enums as e201, messages as m201, station as station201

RESET = m201.ResetRequest(type=e201.ResetEnumType.OnIdle)


class Csms(csms201.CsmsHandler):
    pass


class Station(station201.StationHandler):
    async def on_reset(self, request: m201.ResetRequest, context: Any) -> m201.ResetResponse:
        return m201.ResetResponse(status=e201.ResetStatusEnumType.Accepted)


def node_server(registry: ClusterRegistry) -> CsmsServer:
    server = CsmsServer(ServerOptions(), registry=registry)
    server.handle(csms201.BINDING, Csms())
    return server


async def run_node(url: str, prefix: str) -> None:
    """A node process: a CsmsServer on the cluster; prints its port."""
    registry = ClusterRegistry(RedisBackplane(url, prefix=prefix, ttl=5))
    async with registry, node_server(registry).serve("127.0.0.1", 0) as ws:
        print(next(iter(ws.sockets)).getsockname()[1], flush=True)
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.Future()


async def run_stations(urls: list[str]) -> None:
    """The stations process: one station per URL; prints 'ready' once all are connected."""
    from ocppgen.generated.runtime.client import StationClient

    clients = [StationClient(u, station201.BINDING, Station(), StationOptions(backoff=BackOff(0.1, 0, 0))) for u in urls]
    async with contextlib.AsyncExitStack() as stack:
        for client in clients:
            await stack.enter_async_context(client.running())
        for client in clients:
            await client.connected(timeout=20)
        print("ready", flush=True)
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.Future()


async def spawn(*args: str) -> tuple[asyncio.subprocess.Process, str]:
    process = await asyncio.create_subprocess_exec(sys.executable, "-m", "benchmarks.cluster", *args, stdout=asyncio.subprocess.PIPE)
    assert process.stdout is not None
    line = (await asyncio.wait_for(process.stdout.readline(), 30)).decode().strip()
    return process, line


async def measure(registry: ClusterRegistry, ids: list[str], calls: int, concurrency: int) -> dict[str, float]:
    for identity in ids:  # warm up
        await registry.client(identity, csms201.BINDING).reset(RESET)
    latencies = []
    for i in range(calls):
        started = time.perf_counter()
        await registry.client(ids[i % len(ids)], csms201.BINDING).reset(RESET)
        latencies.append(time.perf_counter() - started)
    latencies.sort()
    counter = iter(range(calls * 2))

    async def worker() -> None:
        for i in counter:
            await registry.client(ids[i % len(ids)], csms201.BINDING).reset(RESET)

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    elapsed = time.perf_counter() - started
    return {
        "p50": statistics.median(latencies) * 1000,
        "p99": latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))] * 1000,
        "calls_per_s": calls * 2 / elapsed,
    }


async def run(url: str, stations: int, calls: int, concurrency: int) -> list[tuple[int, str, dict[str, float]]]:
    prefix = f"ocppgen-bench-{uuid.uuid4().hex[:8]}:"
    rows: list[tuple[int, str, dict[str, float]]] = []
    processes: list[asyncio.subprocess.Process] = []
    try:
        # the same call on the node itself: this process is the node, the call takes the local path
        registry = ClusterRegistry(RedisBackplane(url, prefix=prefix + "local:", ttl=5))
        async with registry, node_server(registry).serve("127.0.0.1", 0) as ws:
            port = next(iter(ws.sockets)).getsockname()[1]
            ids = [f"L-{i}" for i in range(stations)]
            proc, _ = await spawn("stations", *(f"ws://127.0.0.1:{port}/ocpp/{i}" for i in ids))
            processes.append(proc)
            for identity in ids:
                await registry.wait_for(identity, timeout=20)
            rows.append((1, "on the node itself", await measure(registry, ids, calls, concurrency)))
            proc.terminate()
            await proc.wait()
        for nodes in (1, 2, 3):
            cluster = f"{prefix}{nodes}:"
            ports = []
            node_processes = []
            for _ in range(nodes):
                proc, line = await spawn("node", url, cluster)
                processes.append(proc)
                node_processes.append(proc)
                ports.append(int(line))
            ids = [f"N{nodes}-{i}" for i in range(stations)]
            urls = [f"ws://127.0.0.1:{ports[i % nodes]}/ocpp/{identity}" for i, identity in enumerate(ids)]
            proc, _ = await spawn("stations", *urls)
            processes.append(proc)
            async with ClusterRegistry(RedisBackplane(url, prefix=cluster, ttl=5)) as api:  # holds no socket
                for identity in ids:
                    await api.wait_for(identity, timeout=20)
                rows.append((nodes, "API process -> node (Redis)", await measure(api, ids, calls, concurrency)))
            for p in [proc, *node_processes]:
                p.terminate()
                await p.wait()
    finally:
        for p in processes:
            if p.returncode is None:
                p.kill()
                await p.wait()
        for name in ("local:", "1:", "2:", "3:"):
            backplane = RedisBackplane(url, prefix=prefix + name)
            with contextlib.suppress(Exception):
                await backplane.delete_prefix()
            await backplane.close()
    return rows


def table(rows: list[tuple[int, str, dict[str, float]]], stations: int, calls: int, concurrency: int) -> str:
    local = rows[0][2]
    lines = [
        "# Cluster benchmark (python -m benchmarks.cluster)",
        "",
        f"Typed Reset calls to {stations} OCPP 2.0.1 stations (one process of their own): latency of {calls} "
        f"sequential calls, calls/s with {concurrency} concurrent callers. Machine: {platform.machine()}, "
        f"{os.cpu_count()} CPUs, Python {platform.python_version()}, Redis on 127.0.0.1.",
        "",
        "| nodes | path | p50 ms | p99 ms | calls/s | p50 vs local |",
        "|---:|---|---:|---:|---:|---:|",
    ]
    for nodes, path, r in rows:
        lines.append(f"| {nodes} | {path} | {r['p50']:.3f} | {r['p99']:.3f} | {r['calls_per_s']:.0f} | {r['p50'] / local['p50']:.1f}x |")
    lines += [
        "",
        "A cross-node call adds the route script (one Redis round trip), the node's inbox pop, and the",
        "reply's pub/sub hop to the local call (decision 0013). All processes (Redis, every node, the",
        "stations, the caller) share the machine's cores, so with more nodes the numbers also measure",
        "their competition for CPU; on separate machines each node adds capacity instead.",
    ]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    logging.basicConfig(level=logging.WARNING, format=f"%(asctime)s {argv[:1]} %(name)s %(message)s")
    if argv and argv[0] == "node":
        asyncio.run(run_node(argv[1], argv[2]))
        return
    if argv and argv[0] == "stations":
        asyncio.run(run_stations(argv[1:]))
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--redis", default=os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0"))
    parser.add_argument("--stations", type=int, default=30)
    parser.add_argument("--calls", type=int, default=400)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--out", default=str(Path(__file__).resolve().parent / "results" / "cluster.md"))
    args = parser.parse_args(argv)
    rows = asyncio.run(run(args.redis, args.stations, args.calls, args.concurrency))
    text = table(rows, args.stations, args.calls, args.concurrency)
    Path(args.out).write_text(text)
    print(text)


if __name__ == "__main__":
    main()
