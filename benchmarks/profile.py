"""Where a call's server CPU goes, by layer: the ocppgen server and the bare websockets floor
under the end-to-end load, each run under cProfile, their own time summed per layer.

    python -m benchmarks.profile [--stations 100] [--calls-per-station 200] [--kinds ocppgen,ocppgen-def,floor]
                                 [--uvloop] [--top 0] [--out benchmarks/results/profile.md]

Layers: the OCPP core (protocol, frames, wire, payload, routing, codes, events: sans-I/O), the
connection and server glue of ocppgen (connection, server, session, registry, admission,
handlers), websockets (framing, permessage-deflate, the asyncio connection), the event loop
(asyncio), the kernel's socket calls (send, recv, epoll), msgspec's C calls, and the rest.
cProfile inflates Python-level time more than C-level time, so the shares are indicative; the
unprofiled CPU per call is the end-to-end benchmark's. ``--uvloop`` runs the servers on uvloop
(whose loop is C: its own time lands under "other"); ``--top N`` adds each server's N
functions of most own time.
"""

from __future__ import annotations

import argparse
import asyncio
import pstats
import sys
import tempfile
from pathlib import Path

from benchmarks import e2e
from benchmarks.harness import ServerProcess, publish

CORE = ("protocol.py", "frames.py", "wire.py", "payload.py", "routing.py", "codes.py", "events.py", "lenient.py", "checks.py")
GLUE = ("connection.py", "server.py", "session.py", "registry.py", "admission.py", "security.py", "config.py", "servers.py", "csms.py")
LAYERS = ("OCPP core (sans-I/O)", "ocppgen connection/server glue", "websockets", "event loop (asyncio, contextlib, weakref)",
          "socket calls (send/recv/epoll)", "permessage-deflate (zlib)", "msgspec (C)", "other (builtins)")


def layer(file: str, name: str) -> str:
    if file == "~":  # a C function
        if "socket" in name or "epoll" in name or "select" in name:
            return LAYERS[4]
        if "zlib" in name:
            return LAYERS[5]
        if "msgspec" in name:
            return LAYERS[6]
        if "_asyncio" in name or "_contextvars" in name or "weakref" in name:
            return LAYERS[3]
        return LAYERS[7]
    if "/runtime/" in file or "/generated/" in file or file.endswith("servers.py"):
        base = file.rsplit("/", 1)[-1]
        if base in CORE:
            return LAYERS[0]
        return LAYERS[1]
    if "websockets" in file:
        return LAYERS[2]
    if "/asyncio/" in file or file.endswith(("contextlib.py", "_weakrefset.py", "selectors.py")):
        return LAYERS[3]
    return LAYERS[7]


def profile(kind: str, stations: int, calls: int, folder: Path, uvloop: bool = False) -> tuple[dict[str, float], int]:
    path = folder / f"{kind}.prof"
    server = ServerProcess(kind, "--profile", str(path), *(["--uvloop"] if uvloop else []))
    try:
        asyncio.run(e2e.load(server, stations, calls))
    finally:
        server.stop()
    stats = pstats.Stats(str(path))
    TOP[kind] = sorted(
        ((tottime, ncalls, f"{file.rsplit('/', 2)[-1] if file != '~' else ''}:{line}({name})")
         for (file, line, name), (_, ncalls, tottime, _, _) in stats.stats.items()),  # type: ignore[attr-defined]
        reverse=True,
    )
    totals = {name: 0.0 for name in LAYERS}
    for (file, _, name), (_, _, tottime, _, _) in stats.stats.items():  # type: ignore[attr-defined]
        totals[layer(file, name)] += tottime
    return totals, stations * calls


TOP: dict[str, list[tuple[float, int, str]]] = {}


def top(kind: str, calls: int, n: int) -> str:
    rows = [f"| {name} | {ncalls / calls:.2f} | {tottime / calls * 1e6:.2f} |" for tottime, ncalls, name in TOP[kind][:n]]
    return "\n".join([f"{kind}: functions of most own time", "", "| function | calls per call | us/call (profiled) |", "|---|---|---|", *rows])


def table(results: dict[str, tuple[dict[str, float], int]]) -> str:
    out = ["| layer | " + " | ".join(f"{k} us/call (profiled) | {k} share" for k in results) + " |",
           "|---|" + "---|---|" * len(results)]
    for name in LAYERS:
        cells = []
        for totals, calls in results.values():
            whole = sum(totals.values())
            cells.append(f"{totals[name] / calls * 1e6:.1f} | {totals[name] / whole:.0%}")
        out.append(f"| {name} | " + " | ".join(cells) + " |")
    cells = []
    for totals, calls in results.values():
        cells.append(f"{sum(totals.values()) / calls * 1e6:.1f} | 100%")
    out.append("| total | " + " | ".join(cells) + " |")
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="per-layer profile of a call")
    parser.add_argument("--stations", type=int, default=100)
    parser.add_argument("--calls-per-station", type=int, default=200)
    parser.add_argument("--kinds", default="ocppgen,ocppgen-def,floor")
    parser.add_argument("--uvloop", action="store_true")
    parser.add_argument("--top", type=int, default=0)
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        results = {kind: profile(kind, args.stations, args.calls_per_station, Path(tmp), args.uvloop) for kind in args.kinds.split(",")}
    text = table(results)
    if args.top:
        text += "".join(f"\n\n{top(kind, calls, args.top)}" for kind, (_, calls) in results.items())
    return publish(text, args.out)


if __name__ == "__main__":
    sys.exit(main())
