"""A/B of the outbound path in one process: ``respond`` (typed response -> validated CALLRESULT
frame) of another checkout's protocol core against this one's, and the floor (encode + strict
decode of the same struct); then a station's request encode as ``call()`` does it (the 2.x value
rules, strict validation, the CALL frame). Interleaved, on this process's CPU time (steadier
than wall time on a shared machine). Both cores must write the same frames (checked first).

    python -m benchmarks.ab_outbound /path/to/other/checkout/runtime [--repeat 9] [--number 5000]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
import timeit
from collections.abc import Callable
from typing import Any

from benchmarks import codec
from benchmarks.harness import csms_core, load_runtime
from benchmarks.messages import CALLS, RESPONSES


def responder(module: Any, version: str, action: str, response: Any) -> Callable[[], list[str]]:
    routing, csms = codec.MODULES[version]
    protocol = csms_core(module, version, routing.ROUTES, csms.HANDLED)
    inbound = protocol._inbound

    def run() -> list[str]:
        inbound["19223201"] = (action, None, 0.0)  # as if the CALL had been received
        protocol.respond("19223201", response)
        return protocol.data_to_send()  # type: ignore[no-any-return]

    return run


def request_encoder(module: Any, version: str, action: str, request: Any) -> Callable[[], str]:
    package = module.__name__.rsplit(".", 1)[0]
    frames = sys.modules[f"{package}.frames"]
    route = codec.MODULES[version][0].ROUTES[action]
    millis = version != "1.6"

    def run() -> str:
        data = module.encode_payload(route, request, response=False, millis=millis)
        return frames.encode_call(2, "19223201", action, data)  # type: ignore[no-any-return]

    return run


def _table(rows: list[tuple[str, dict[str, Callable[[], Any]]]], repeat: int, number: int, floor: bool) -> None:
    for name, fns in rows:
        assert fns["other"]() == fns["this"](), f"{name}: the two cores write different frames"
        samples: dict[str, list[float]] = {k: [] for k in fns}
        for _ in range(repeat):
            for key, fn in fns.items():
                samples[key].append(timeit.Timer(fn, timer=time.process_time).timeit(number=number) / number * 1e6)
        m = {k: statistics.median(v) for k, v in samples.items()}
        if floor:
            print(f"| {name} | {m['floor']:.2f} | {m['other']:.2f} | {m['this']:.2f} | {m['other'] / m['floor']:.2f}x | "
                  f"{m['this'] / m['floor']:.2f}x | {m['this'] / m['other']:.2f}x |")
        else:
            print(f"| {name} | {m['other']:.2f} | {m['this']:.2f} | {m['this'] / m['other']:.2f}x |")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("other", help="the other checkout's runtime/ folder (e.g. /work/main/runtime)")
    parser.add_argument("--repeat", type=int, default=9)
    parser.add_argument("--number", type=int, default=5000)
    args = parser.parse_args(argv)
    other = load_runtime("other_runtime", args.other)
    from ocppgen.generated.runtime import protocol as this

    rows = []
    for name, version, action, _ in CALLS:
        route = codec.MODULES[version][0].ROUTES[action]
        assert route.response_codec is not None
        answer = RESPONSES[(version, action)]
        response = route.response_codec.decode(json.dumps(answer))
        rows.append((name, {
            "floor": codec.outbound_floor(version, action, answer),
            "other": responder(other, version, action, response),
            "this": responder(this, version, action, response),
        }))
    print("respond: typed response -> validated CALLRESULT frame (us, CPU time)")
    print()
    print("| message | floor | other respond | this respond | other / floor | this / floor | this / other |")
    print("|---|---|---|---|---|---|---|")
    _table(rows, args.repeat, args.number, True)
    rows = []
    for name, version, action, payload in CALLS:
        request = codec.MODULES[version][0].ROUTES[action].request_codec.decode(json.dumps(payload))
        rows.append((name, {"other": request_encoder(other, version, action, request), "this": request_encoder(this, version, action, request)}))
    print()
    print("call()'s request encode: typed request -> value rules, validation, CALL frame (us, CPU time)")
    print()
    print("| message | other | this | this / other |")
    print("|---|---|---|---|")
    _table(rows, args.repeat, args.number, False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
