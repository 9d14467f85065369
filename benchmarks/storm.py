"""Reconnection storm: N booted stations drop at once (a carrier outage) and reconnect at once,
over plain WebSockets and over TLS (security profile 2: TLS with Basic auth), against the
ocppgen CSMS without and with admission control and against the bare websockets floor.

Each station (benchmarks/loadgen.py, in processes of their own over 127.x source addresses)
reconnects, honours HTTP 503 Retry-After and Pending intervals as the project's client does,
boots, and delivers its queued TransactionEvents. Meanwhile ``--steady`` stations that never
dropped keep sending Heartbeats (every 0.1 s each) from this process; their latency during the
storm is the p99 reported. Reported per run: handshakes/s over the storm, the time until every
station is registered again and until its queued messages are delivered, the steady stations'
p99 before and during the storm, the server's peak resident set during the storm, and how many
handshakes were refused (503) and boots answered Pending.

    python -m benchmarks.storm [--stations 10000,max] [--transports ws,tls] [--queued 2]
                               [--admission 1000,1000,100] [--out benchmarks/results/storm.md]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks.harness import Loaders, ServerProcess, fd_limit, make_certificate, publish, raise_fd_limit
from benchmarks.loadgen import Fleet

MARGIN = 200  # descriptors the server needs besides its connections (listening socket, epoll, files)


def most_stations(steady: int) -> int:
    return fd_limit() - MARGIN - steady


def _args(url: str, prefix: str, count: int, tls: str | None) -> argparse.Namespace:
    return argparse.Namespace(url=url, source="127.0.0.1", first=0, count=count, prefix=prefix, tls=tls,
                              no_deflate=False, queued=0, uvloop=False)


async def _steady(fleet: Fleet, samples: list[tuple[float, float]], stop: asyncio.Event) -> None:
    async def one(i: int, ws: Any) -> None:
        n = 0
        while not stop.is_set():
            n += 1
            t0 = time.time()
            try:
                await ws.send(f'[2,"w{i}-{n}","Heartbeat",{{}}]')
                await ws.recv()
            except Exception:
                return
            samples.append((t0, time.time() - t0))
            await asyncio.sleep(0.1)

    await asyncio.gather(*(one(i, ws) for i, ws in fleet.conns.items()))


def _p99(values: list[float]) -> float:
    if not values:
        return float("nan")
    values = sorted(values)
    return values[max(0, int(len(values) * 0.99) - 1)]


async def storm(kind: str, n: int, tls: tuple[str, str] | None, admission: str | None, *, steady: int, queued: int,
                per_process: int) -> dict[str, Any]:
    flags: list[str] = []
    if tls:
        flags += ["--tls", *tls]
    if admission:
        flags += ["--admission", admission]
    server = ServerProcess(kind, *flags)
    url = f"{'wss' if tls else 'ws'}://127.0.0.1:{server.port}/ocpp/"
    loop = asyncio.get_running_loop()
    loaders = Loaders(url, n, per_process=per_process, flags=("--queued", str(queued), *(("--tls", tls[0]) if tls else ())))
    fleet = Fleet(_args(url, "W", steady, tls[0] if tls else None))
    try:
        ready = await loop.run_in_executor(None, loaders.read)
        await fleet.connect_all()
        samples: list[tuple[float, float]] = []
        stop = asyncio.Event()
        steady_task = asyncio.ensure_future(_steady(fleet, samples, stop))
        await asyncio.sleep(2.0)  # the steady stations' baseline
        rss_before = server.rss_bytes()
        server.reset_peak()
        loaders.send("storm")
        results = await loop.run_in_executor(None, loaders.read)
        peak = server.peak_bytes()
        stop.set()
        await steady_task
        start = min(r["start"] for r in results)
        handshakes = sorted(t for r in results for t in r["handshakes"])
        registered = max(t for r in results for t in r["registered"])
        delivered = max(t for r in results for t in r["delivered"])
        before = [lat for t0, lat in samples if t0 < start]
        during = [lat for t0, lat in samples if start <= t0 <= delivered]
        return {
            "stations": sum(r["connected"] for r in ready),
            "handshakes_per_s": len(handshakes) / max(handshakes[-1] - start, 1e-9),
            "registered_s": registered - start,
            "delivered_s": delivered - start,
            "p99_before_ms": _p99(before) * 1e3,
            "p99_during_ms": _p99(during) * 1e3,
            "steady_calls_during": len(during),
            "rss_before_mib": rss_before / 2**20,
            "peak_mib": peak / 2**20,
            "refused": sum(r["refused"] for r in results),
            "pending": sum(r["pending"] for r in results),
            "failures": sum(r["failures"] for r in results),
        }
    finally:
        await fleet.close()
        await loop.run_in_executor(None, loaders.close)
        server.stop()


VARIANTS = {"ocppgen": ("ocppgen", False), "ocppgen+admission": ("ocppgen", True), "floor": ("floor", False)}


async def run(stations: list[int], transports: list[str], variants: list[str], *, admission: str, steady: int = 20,
              queued: int = 2, per_process: int = 5000) -> dict[tuple[str, str, int], dict[str, Any]]:
    raise_fd_limit()
    results: dict[tuple[str, str, int], dict[str, Any]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        cert = make_certificate(Path(tmp))
        for n in stations:
            for transport in transports:
                for variant in variants:
                    kind, admitted = VARIANTS[variant]
                    results[(variant, transport, n)] = await storm(
                        kind, n, cert if transport == "tls" else None, admission if admitted else None,
                        steady=steady, queued=queued, per_process=per_process,
                    )
    return results


def table(results: dict[tuple[str, str, int], dict[str, Any]], admission: str) -> str:
    out = [
        "| stations | transport | server | handshakes/s | all registered (s) | all queued messages delivered (s) | "
        "steady p99 before (ms) | steady p99 during (ms) | peak resident set (MiB) | before the storm (MiB) | "
        "503 answers | Pending answers | failed attempts |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for (variant, transport, _), r in results.items():
        out.append(
            f"| {r['stations']} | {'TLS (profile 2)' if transport == 'tls' else 'ws'} | {variant} | {r['handshakes_per_s']:.0f} | "
            f"{r['registered_s']:.1f} | {r['delivered_s']:.1f} | {r['p99_before_ms']:.1f} | {r['p99_during_ms']:.1f} | "
            f"{r['peak_mib']:.0f} | {r['rss_before_mib']:.0f} | {r['refused']} | {r['pending']} | {r['failures']} |"
        )
    rate, burst, boots = admission.split(",")
    out += [
        "",
        f"Admission control: ConnectionLimiter({rate}/s, burst {burst}) answering 503 with Retry-After, "
        f"BootPacer({boots} concurrent boots, min_interval 1 s, max_interval 60 s) answering Pending. "
        "Stations wait Retry-After x (1 + random) after a 503 and the interval after a Pending; each delivers its queued "
        "TransactionEvents once Accepted. One run per cell (heavy); load generators and server share the machine.",
    ]
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="reconnection storm benchmark")
    parser.add_argument("--stations", default="10000,max", help="numbers, or 'max' (the descriptor limit allows)")
    parser.add_argument("--transports", default="ws,tls")
    parser.add_argument("--variants", default="ocppgen,ocppgen+admission,floor")
    parser.add_argument("--admission", default="1000,1000,100", help="RATE,BURST,BOOTS")
    parser.add_argument("--steady", type=int, default=20)
    parser.add_argument("--queued", type=int, default=2)
    parser.add_argument("--per-process", type=int, default=5000)
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args(argv)
    raise_fd_limit()
    stations = [most_stations(args.steady) if s == "max" else int(s) for s in args.stations.split(",")]
    results = asyncio.run(run(stations, args.transports.split(","), args.variants.split(","), admission=args.admission,
                              steady=args.steady, queued=args.queued, per_process=args.per_process))
    text = table(results, args.admission)
    return publish(text, args.out)


if __name__ == "__main__":
    sys.exit(main())
