"""What one idle booted station allocates in the server beyond the bare websockets connection:
a tracemalloc snapshot diff and a count of live objects by type, per station.

    python -m benchmarks.idle_objects [--stations 1000] [--kinds ocppgen,floor] [--deflate]
                                      [--top 25] [--frames 6]

The server runs in this process (asyncio's loop, tracemalloc on); the stations come from a load
generator process (benchmarks/loadgen.py), so nothing of theirs is counted. One station boots
first (code paths warm), then ``--stations`` connect and boot; the difference between the two
snapshots, divided by the stations, is what each idle booted station holds. Grouped by
traceback (``--frames`` deep) and by type of the objects the garbage collector tracks.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import gc
import sys
import tracemalloc

from benchmarks import servers
from benchmarks.harness import Loaders, free_port, raise_fd_limit


def _types() -> collections.Counter[str]:
    gc.collect()
    counts: collections.Counter[str] = collections.Counter()
    for obj in gc.get_objects():
        counts[type(obj).__qualname__] += 1
    return counts


def _loop_counts(loop: asyncio.AbstractEventLoop) -> dict[str, int]:
    return {
        "tasks": len(asyncio.all_tasks(loop)),
        "timers": len(getattr(loop, "_scheduled", ())),
        "readers": len(getattr(getattr(loop, "_selector", None), "get_map", lambda: {})() or {}),
    }


async def _probe(kind: str, stations: int, deflate: bool, frames: int, top: int) -> str:
    port = free_port()
    args = argparse.Namespace(kind=kind, port=port, no_deflate=not deflate, tls=None, admission=None, uvloop=False, profile=None)
    listening = asyncio.Event()
    servers.PROFILER = None
    real_ready = servers.ready
    servers.ready = listening.set  # type: ignore[assignment]
    server = asyncio.create_task(servers.SERVERS[kind](args))
    waiting = asyncio.ensure_future(listening.wait())
    await asyncio.wait({server, waiting}, return_when=asyncio.FIRST_COMPLETED)
    if server.done():  # it failed before listening: say why instead of waiting forever
        waiting.cancel()
        server.result()
        raise RuntimeError(f"the {kind} server ended before listening")
    servers.ready = real_ready
    loop = asyncio.get_running_loop()
    flags = () if deflate else ("--no-deflate",)
    url = f"ws://127.0.0.1:{port}/ocpp/"

    def boot(n: int, prefix: str) -> Loaders:  # in a thread: the server keeps running on this loop
        loaders = Loaders(url, n, prefix=prefix, flags=flags)
        loaders.read()
        return loaders

    async def connect(n: int, prefix: str) -> Loaders:
        loaders = await loop.run_in_executor(None, boot, n, prefix)
        await asyncio.sleep(1.0)  # the last boots' handler tasks and hooks finish
        return loaders

    warm = await connect(1, "W")
    gc.collect()
    before_types = _types()
    before_loop = _loop_counts(loop)
    before = tracemalloc.take_snapshot()
    loaders = await connect(stations, "S")
    gc.collect()
    after = tracemalloc.take_snapshot()
    after_types = _types()
    after_loop = _loop_counts(loop)
    filters = [tracemalloc.Filter(False, tracemalloc.__file__)]
    diff = after.filter_traces(filters).compare_to(before.filter_traces(filters), "traceback")
    total = sum(d.size_diff for d in diff)
    lines = [f"## {kind}, permessage-deflate {'on' if deflate else 'off'}: {stations} idle booted stations",
             "", f"traced growth per station: {total / stations:.0f} bytes", ""]
    lines.append("per station: " + ", ".join(f"{k} {(after_loop[k] - before_loop[k]) / stations:.2f}" for k in after_loop))
    lines.append("")
    lines.append("| bytes/station | blocks/station | where (innermost last) |")
    lines.append("|---|---|---|")
    for stat in diff[:top]:
        if stat.size_diff <= 0:
            continue
        where = " <- ".join(f"{f.filename.rsplit('/', 2)[-1]}:{f.lineno}" for f in reversed(stat.traceback[-frames:]))
        lines.append(f"| {stat.size_diff / stations:.0f} | {stat.count_diff / stations:.2f} | {where} |")
    lines.append("")
    lines.append("| bytes/station | blocks/station | innermost line of ocppgen or the benchmark server |")
    lines.append("|---|---|---|")
    ours: collections.Counter[str] = collections.Counter()
    blocks: collections.Counter[str] = collections.Counter()
    for stat in diff:
        where = "(websockets, asyncio)"
        for frame in reversed(stat.traceback):
            if "/runtime/" in frame.filename or "/generated/" in frame.filename or frame.filename.endswith("servers.py"):
                where = f"{frame.filename.rsplit('/', 2)[-2]}/{frame.filename.rsplit('/', 1)[-1]}:{frame.lineno}"
                break
        ours[where] += stat.size_diff
        blocks[where] += stat.count_diff
    for where, size in ours.most_common(top):
        lines.append(f"| {size / stations:.0f} | {blocks[where] / stations:.2f} | {where} |")
    lines.append("")
    lines.append("| objects/station | type (gc-tracked) |")
    lines.append("|---|---|")
    grown = sorted(((after_types[t] - before_types.get(t, 0), t) for t in after_types), reverse=True)
    for count, name in grown[:top]:
        if count <= 0:
            break
        lines.append(f"| {count / stations:.2f} | {name} |")
    await loop.run_in_executor(None, loaders.close)
    await loop.run_in_executor(None, warm.close)
    server.cancel()
    try:
        await server
    except (asyncio.CancelledError, Exception):
        pass
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="what an idle booted station allocates")
    parser.add_argument("--stations", type=int, default=1000)
    parser.add_argument("--kinds", default="ocppgen,floor")
    parser.add_argument("--deflate", action="store_true")
    parser.add_argument("--frames", type=int, default=6)
    parser.add_argument("--top", type=int, default=25)
    args = parser.parse_args(argv)
    raise_fd_limit()
    import logging

    logging.disable(logging.CRITICAL)
    tracemalloc.start(args.frames)
    out: list[str] = []
    try:
        for kind in args.kinds.split(","):
            out.append(asyncio.run(_probe(kind, args.stations, args.deflate, args.frames, args.top)))
    finally:  # the probe may run inside a larger process (the smoke test): leave it as it was
        tracemalloc.stop()
        logging.disable(logging.NOTSET)
    print("\n\n".join(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
