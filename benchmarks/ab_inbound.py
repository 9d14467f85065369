"""A/B of the inbound path in one process, timed with this process's CPU time: ``receive`` of
another checkout's protocol core against this one's, on the same routes and frames, next to the
untyped decode (floor) and the payload codec, interleaved repetitions (CPU time leaves out the
time other processes hold the cores of a shared machine; the runtime uses relative imports only,
so another copy loads under another package name, as ``benchmarks.ab`` does):

    git archive main runtime | tar -x -C /tmp/main
    PYTHONPATH=. python -m benchmarks.ab_inbound /tmp/main/runtime [--repeat 11] [--number 3000]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
import timeit
from collections.abc import Callable
from types import ModuleType
from typing import Any

import msgspec

from benchmarks import codec
from benchmarks.harness import csms_core, load_runtime
from benchmarks.messages import CALLS, frame
from ocppgen.generated.runtime import protocol as ours


def receiver(module: ModuleType, version: str, text: str) -> Callable[[], Any]:
    routing, csms = codec.MODULES[version]
    protocol = csms_core(module, version, routing.ROUTES, csms.HANDLED)

    def run() -> Any:
        events = protocol.receive(text, 0.0)
        protocol._inbound.clear()  # as if answered
        return events

    assert len(run()) == 1
    return run


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("other", help="the other checkout's runtime/ folder")
    parser.add_argument("--repeat", type=int, default=11)
    parser.add_argument("--number", type=int, default=3000)
    args = parser.parse_args(argv)
    other = load_runtime("other_runtime", args.other)
    print("| message | floor | codec | other receive | this receive | this / other | other / floor | this / floor "
          "| other / codec | this / codec |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for name, version, action, payload in CALLS:
        text = frame("19223201", action, payload)
        fns: dict[str, Callable[[], Any]] = {
            "floor": lambda text=text: msgspec.json.decode(text),
            "codec": codec.ours_codec(version, action, text),
            "other": receiver(other, version, text),
            "this": receiver(ours, version, text),
        }
        samples: dict[str, list[float]] = {k: [] for k in fns}
        for _ in range(args.repeat):
            for key, fn in fns.items():
                samples[key].append(timeit.Timer(fn, timer=time.process_time).timeit(args.number) / args.number * 1e6)
        m = {k: statistics.median(v) for k, v in samples.items()}
        print(f"| {name} | {m['floor']:.2f} | {m['codec']:.2f} | {m['other']:.2f} | {m['this']:.2f} | "
              f"{m['this'] / m['other']:.2f}x | {m['other'] / m['floor']:.2f}x | {m['this'] / m['floor']:.2f}x | "
              f"{m['other'] / m['codec']:.2f}x | {m['this'] / m['codec']:.2f}x |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
