"""Idle connections: as many booted stations in one server process as its descriptor limit
allows, memory per connection against a bare websockets server, permessage-deflate on and off.

The load comes from several load generator processes (benchmarks/loadgen.py), each from its
own 127.x source address (one address has ~28,000 ephemeral ports towards a server port) and
with its own descriptor limit. Each station connects and sends a BootNotification, then idles.
Memory per connection is the growth of the server's resident set over a server that has
answered one station already (code paths warm), divided by the stations.

    python -m benchmarks.idle [--stations max|N] [--kinds ocppgen,floor,incumbent]
                              [--deflate on,off] [--settle 2] [--baseline PYTHON]
                              [--tls] [--uvloop]
                              [--repeat 1] [--out benchmarks/results/idle.md]

``--baseline PYTHON``: also measure the ocppgen server run by another interpreter (kind
``baseline``), e.g. the virtual environment of another checkout, so two versions of the runtime
are compared side by side in one run. ``--settle``: seconds the stations idle before the
server's memory is read. ``--tls``: security profile 2 (wss, Basic auth) with a throwaway
certificate; ``--uvloop``: the servers run on uvloop (its TLS allocates its read buffer without
zeroing it, asyncio's zeroes a 256 KiB bytearray per TLS connection).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks.harness import Loaders, ServerProcess, fd_limit, make_certificate, publish, raise_fd_limit

MARGIN = 150  # descriptors the server process needs besides its connections


def most_stations() -> int:
    return fd_limit() - MARGIN


def measure(
    kind: str, stations: int, deflate: bool, per_process: int, settle: float = 2.0, baseline: str | None = None,
    tls: tuple[str, str] | None = None, uvloop: bool = False,
) -> dict[str, float]:
    flags: tuple[str, ...] = () if deflate else ("--no-deflate",)
    server_flags = (*flags, *(("--tls", *tls) if tls else ()), *(("--uvloop",) if uvloop else ()))
    if tls:
        flags = (*flags, "--tls", tls[0])
    server = ServerProcess("ocppgen", *server_flags, python=baseline) if kind == "baseline" else ServerProcess(kind, *server_flags)
    try:
        url = f"{'wss' if tls else 'ws'}://127.0.0.1:{server.port}/ocpp/"
        warm = Loaders(url, 1, prefix="W", flags=flags)  # one booted station: code and caches loaded
        warm.read()
        time.sleep(0.5)
        base = server.rss_bytes()
        loaders = Loaders(url, stations, per_process=per_process, flags=flags)
        try:
            ready = loaders.read()
            connected = sum(r["connected"] for r in ready)
            time.sleep(settle)
            rss, fds = server.rss_bytes(), server.fds()
        finally:
            loaders.close()
            warm.close()
        return {
            "connected": connected, "per_conn": (rss - base) / connected, "base": base, "rss": rss, "fds": fds,
            "seconds": max(r["seconds"] for r in ready),
        }
    finally:
        server.stop()


def run(
    stations: int, kinds: list[str], repeat: int, per_process: int = 5000, *, deflates: tuple[bool, ...] = (True, False),
    settle: float = 2.0, baseline: str | None = None, tls: bool = False, uvloop: bool = False,
) -> dict[tuple[str, bool], list[dict[str, float]]]:
    raise_fd_limit()
    results: dict[tuple[str, bool], list[dict[str, float]]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        cert = make_certificate(Path(tmp)) if tls else None
        for _ in range(repeat):
            for deflate in deflates:
                for kind in kinds:
                    results.setdefault((kind, deflate), []).append(
                        measure(kind, stations, deflate, per_process, settle, baseline, cert, uvloop)
                    )
    return results


def table(results: dict[tuple[str, bool], list[dict[str, float]]], kinds: list[str]) -> str:
    def med(key: tuple[str, bool], field: str) -> float:
        return statistics.median(r[field] for r in results[key])

    out = [
        "| permessage-deflate | server | idle booted stations | server descriptors | resident memory per connection (KiB) | "
        "vs floor | server resident set (MiB) | extrapolated to 50,000 stations (GiB) |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for deflate in (True, False):
        for kind in kinds:
            key = (kind, deflate)
            if key not in results:
                continue
            per = med(key, "per_conn")
            floor = med(("floor", deflate), "per_conn") if ("floor", deflate) in results else per
            fifty = (med(key, "base") + 50_000 * per) / 2**30
            out.append(
                f"| {'on' if deflate else 'off'} | {kind} | {med(key, 'connected'):.0f} | {med(key, 'fds'):.0f} | {per / 1024:.1f} | "
                f"{per / floor:.2f}x | {med(key, 'rss') / 2**20:.0f} | {fifty:.2f} |"
            )
    out.append("")
    costs = [
        f"{kind} {(med((kind, True), 'per_conn') - med((kind, False), 'per_conn')) / 1024:.1f} KiB"
        for kind in kinds if (kind, True) in results and (kind, False) in results
    ]
    out.append("Compression state per connection (deflate on minus off): " + ", ".join(costs) + ".")
    out.append(
        f"Descriptor limit of the server process: {fd_limit()} (hard); the load generators run in processes of their own, "
        "one 127.x source address each, on the same machine."
    )
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="idle connections benchmark")
    parser.add_argument("--stations", default="max", help="'max' (the descriptor limit allows) or a number")
    parser.add_argument("--kinds", default="ocppgen,floor,incumbent")
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--per-process", type=int, default=5000)
    parser.add_argument("--deflate", default="on,off", help="permessage-deflate: on, off or on,off")
    parser.add_argument("--settle", type=float, default=2.0, help="seconds the stations idle before memory is read")
    parser.add_argument("--baseline", default=None, help="a Python whose ocppgen is measured too (kind 'baseline')")
    parser.add_argument("--tls", action="store_true", help="wss with security profile 2")
    parser.add_argument("--uvloop", action="store_true", help="the servers run on uvloop")
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args(argv)
    raise_fd_limit()
    stations = most_stations() if args.stations == "max" else int(args.stations)
    kinds = args.kinds.split(",")
    if args.baseline and "baseline" not in kinds:
        kinds.append("baseline")
    deflates = tuple(d == "on" for d in args.deflate.split(","))
    results = run(stations, kinds, args.repeat, args.per_process, deflates=deflates, settle=args.settle, baseline=args.baseline,
                  tls=args.tls, uvloop=args.uvloop)
    text = table(results, kinds)
    text += f"\nTransport: {'TLS, security profile 2' if args.tls else 'ws'}; servers on {'uvloop' if args.uvloop else 'asyncio'}'s loop."
    return publish(text, args.out)


if __name__ == "__main__":
    sys.exit(main())
