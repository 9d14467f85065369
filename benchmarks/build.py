"""`ocppgen build` wall time: all three versions into an empty folder, with an empty format
cache (cold), then again into another empty folder with the cache the first build left (warm).

Each build runs in its own process, as a user runs it. With ``--reference PYTHON`` the same
builds run on another checkout's interpreter too (for example a copy of main with its own
venv), interleaved with this one's (reference cold, ours cold, reference warm, ours warm, per
repetition), so the two are compared under the same load. Reported: medians (min-max) of wall
time and of CPU time (user + system of the build and its format workers), and the machine's
1-minute load average before and after the run (the machine has 2 cores; a load above 2
means others are queueing for them).

    python -m benchmarks.build [--repeat 5] [--reference /tmp/ref/.venv/bin/python]
                               [--jobs N] [--out benchmarks/results/build.md]
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks.harness import publish


def one_build(python: str, cache: str, jobs: int | None = None) -> tuple[float, float]:
    """(wall, CPU) seconds of one ``ocppgen build`` of all three versions into an empty folder."""
    env = {**os.environ, "OCPPGEN_CACHE_DIR": cache}
    if jobs is not None:
        env["OCPPGEN_JOBS"] = str(jobs)
    with tempfile.TemporaryDirectory() as out:
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        t0 = time.perf_counter()
        subprocess.run([python, "-m", "ocppgen", "build", "--out", out], check=True, capture_output=True, env=env)
        wall = time.perf_counter() - t0
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def cold_and_warm(python: str, jobs: int | None = None) -> dict[str, tuple[float, float]]:
    """A cold build (empty cache) and a warm one (the cache it left), each into an empty folder."""
    with tempfile.TemporaryDirectory() as cache:
        cold = one_build(python, cache, jobs)
        warm = one_build(python, cache, jobs)
    return {"cold": cold, "warm": warm}


def run(repeat: int, reference: str | None = None, jobs: int | None = None) -> dict[str, Any]:
    builds = {"ours": sys.executable, **({"reference": reference} if reference else {})}
    samples: dict[str, dict[str, list[tuple[float, float]]]] = {k: {"cold": [], "warm": []} for k in builds}
    load_before = os.getloadavg()[0]
    for i in range(repeat):
        # alternate which goes first, so neither always runs right after the other's writes
        order = list(builds) if i % 2 == 0 else list(reversed(builds))
        for kind in order:
            for state, sample in cold_and_warm(builds[kind], jobs).items():
                samples[kind][state].append(sample)
    return {"samples": samples, "load": (load_before, os.getloadavg()[0]), "repeat": repeat, "jobs": jobs}


def med(values: list[float]) -> str:
    return f"{statistics.median(values):.2f} ({min(values):.2f}-{max(values):.2f})"


def table(results: dict[str, Any]) -> str:
    out = [
        "| build | cache | wall s | CPU s |",
        "|---|---|---|---|",
    ]
    for kind, states in results["samples"].items():
        for state, rows in states.items():
            out.append(f"| {kind} | {state} | {med([w for w, _ in rows])} | {med([c for _, c in rows])} |")
    samples = results["samples"]
    if "reference" in samples:
        for state in ("cold", "warm"):
            ours = statistics.median([w for w, _ in samples["ours"][state]])
            ref = statistics.median([w for w, _ in samples["reference"][state]])
            out.append(f"\n{state}: ours / reference wall time {ours / ref:.2f}x")
    before, after = results["load"]
    jobs = results["jobs"] or os.cpu_count()
    out += [
        "",
        f"`ocppgen build` of all three versions, {results['repeat']} interleaved repetitions, medians (min-max); "
        f"format workers: {jobs}; {os.cpu_count()} cores; 1-minute load average {before:.1f} before, {after:.1f} after.",
    ]
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="ocppgen build wall time")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--reference", default=None, help="interpreter of another checkout to build with, interleaved")
    parser.add_argument("--jobs", type=int, default=None, help="OCPPGEN_JOBS for both builds (default: the build's own)")
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args(argv)
    return publish(table(run(args.repeat, args.reference, args.jobs)), args.out)


if __name__ == "__main__":
    sys.exit(main())
