"""Codec benchmark: OCPP-J text frame -> validated typed object, and typed object -> frame.

Side by side, in one run, interleaved: ocppgen (the protocol core's receive path, and the bare
payload codec), the incumbent `ocpp` package's own path (unpack, jsonschema validation,
camelCase -> snake_case; outbound: dataclass -> dict, snake -> camel, validation, pack), a
`jsonschema-rs` validation of the parsed dict, and the floors: `msgspec.json.decode` of the
same frame without a type (inbound), encode + strict decode of the same struct (outbound).
Reports medians (min-max) in microseconds and ratios of medians.

Outbound is the CSMS answering: ``OcppProtocol.respond`` (typed response -> strictly validated
CALLRESULT frame, the 2.x value rules applied) against the bare encode + strict decode of the
same struct, and the incumbent's own answer path (dataclass -> dict, validation, pack).

    python -m benchmarks.codec [--repeat 7] [--clock wall|cpu | --cpu] [--out benchmarks/results/codec.md]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
import timeit
from collections.abc import Callable
from pathlib import Path
from typing import Any

import msgspec

from benchmarks.harness import publish
from benchmarks.messages import CALLS, RESPONSES, frame
from ocppgen.generated.runtime.events import CallReceived
from ocppgen.generated.runtime.protocol import OcppProtocol
from ocppgen.generated.runtime.routing import Role
from ocppgen.generated.v16 import csms as csms16, routing as routing16
from ocppgen.generated.v201 import csms as csms201, routing as routing201
from ocppgen.generated.v21 import csms as csms21, routing as routing21

MODULES = {"1.6": (routing16, csms16), "2.0.1": (routing201, csms201), "2.1": (routing21, csms21)}


def ours_receive(version: str, text: str | bytes) -> Callable[[], Any]:
    routing, csms = MODULES[version]
    protocol = OcppProtocol(version=version, role=Role.CSMS, routes=routing.ROUTES, handled=csms.HANDLED)

    def run() -> Any:
        [event] = protocol.receive(text, 0.0)
        protocol._inbound.clear()  # as if answered; keeps the duplicate-id check out of the loop
        return event

    return run


def least_python_receive(version: str, action: str, text: str) -> Callable[[], Any]:
    """The least any Python receive can do: one call of the action's one-pass decoder (frame and
    typed payload at once, validated) and the event, with none of the checks (action unknown,
    duplicate id, capacity, the RFC 3339 spellings msgspec reads) nor the action's lookup. Not a
    correct receive: the floor of a Python layer above msgspec, beside the real one."""
    route = MODULES[version][0].ROUTES[action]
    decode = route.call_frame_decoder.decode

    def run() -> Any:
        _, mid, name, request = decode(text)
        return [CallReceived(message_id=mid, action=name, request=request, handler_method="on_x")]

    return run


def ours_receive_bytes(version: str, text: str) -> Callable[[], Any]:
    """``receive`` of the frame's UTF-8 bytes (a transport that skips the text decode)."""
    return ours_receive(version, text.encode())


def ours_codec(version: str, action: str, text: str) -> Callable[[], Any]:
    from ocppgen.generated.runtime import frames

    route = MODULES[version][0].ROUTES[action]

    def run() -> Any:
        f = frames.decode_frame(text)
        return route.request_codec.decode(f.payload)  # type: ignore[union-attr]

    return run


def ours_encode(version: str, action: str, payload: dict[str, Any]) -> Callable[[], Any]:
    """What ``call`` does to a typed request before it is queued: encode, the 2.x value rules
    of the sending station (Part 2 section 3.1), strict validation, the CALL frame."""
    from ocppgen.generated.runtime import frames
    from ocppgen.generated.runtime.protocol import encode_payload

    route = MODULES[version][0].ROUTES[action]
    obj = route.request_codec.decode(json.dumps(payload))
    millis = version != "1.6"

    def run() -> str:
        data = encode_payload(route, obj, response=False, millis=millis)  # validated strictly, as call() does
        return frames.encode_call(2, "19223201", action, data)

    return run


def ours_respond(version: str, action: str, payload: dict[str, Any]) -> Callable[[], Any]:
    routing, csms = MODULES[version]
    protocol = OcppProtocol(version=version, role=Role.CSMS, routes=routing.ROUTES, handled=csms.HANDLED)
    route = routing.ROUTES[action]
    assert route.response_codec is not None
    response = route.response_codec.decode(json.dumps(payload))
    inbound = protocol._inbound

    def run() -> Any:
        inbound["19223201"] = (action, None, 0.0)  # as if the CALL had been received
        protocol.respond("19223201", response)
        return protocol.data_to_send()

    return run


def outbound_floor(version: str, action: str, payload: dict[str, Any]) -> Callable[[], Any]:
    route = MODULES[version][0].ROUTES[action]
    codec_ = route.response_codec
    assert codec_ is not None
    response = codec_.decode(json.dumps(payload))
    encode, decode = msgspec.json.Encoder().encode, codec_.decode_strict

    def run() -> Any:
        data = encode(response)
        decode(data)
        return data

    return run


def incumbent_respond(version: str, action: str, payload: dict[str, Any]) -> Callable[[], Any]:
    import importlib

    from ocpp.charge_point import camel_to_snake_case, remove_nones, serialize_as_dict, snake_to_camel_case
    from ocpp.messages import CallResult, _validate_payload

    module = importlib.import_module(f"ocpp.v{version.replace('.', '')}.call_result")
    obj = getattr(module, action)(**camel_to_snake_case(payload))

    def run() -> str:
        body = snake_to_camel_case(remove_nones(serialize_as_dict(obj)))
        result = CallResult(unique_id="19223201", payload=body, action=action)
        _validate_payload(result, version)
        return str(result.to_json())

    return run


def incumbent_receive(version: str, text: str) -> Callable[[], Any]:
    from ocpp.charge_point import camel_to_snake_case
    from ocpp.messages import _validate_payload, unpack

    def run() -> Any:
        msg = unpack(text)
        _validate_payload(msg, version)
        return camel_to_snake_case(msg.payload)

    return run


def incumbent_encode(version: str, action: str, payload: dict[str, Any]) -> Callable[[], Any]:
    import importlib

    from ocpp.charge_point import camel_to_snake_case, remove_nones, serialize_as_dict, snake_to_camel_case
    from ocpp.messages import Call, _validate_payload

    module = importlib.import_module(f"ocpp.v{version.replace('.', '')}.call")
    cls = getattr(module, action)
    obj = cls(**camel_to_snake_case(payload))

    def run() -> str:
        body = snake_to_camel_case(remove_nones(serialize_as_dict(obj)))
        call = Call(unique_id="19223201", action=action, payload=body)
        _validate_payload(call, version)
        return call.to_json()

    return run


def jsonschema_rs(version: str, action: str, text: str) -> Callable[[], Any] | None:
    try:
        import jsonschema_rs as jrs
    except ImportError:
        return None
    from ocppgen.load import VERSIONS, default_schema_root

    key = VERSIONS[version][0]
    name = f"{action}.json" if version == "1.6" else f"{action}Request.json"
    schema = json.loads((default_schema_root() / key / name).read_text())
    validator = jrs.validator_for(schema)

    def run() -> Any:
        payload = json.loads(text)[3]
        validator.validate(payload)
        return payload

    return run


def floor(text: str) -> Callable[[], Any]:
    decode = msgspec.json.decode
    return lambda: decode(text)


def prove_decoders_reject_invalid() -> None:
    """The decoders being timed are real validators: an invalid message must fail."""
    routing, csms = MODULES["2.0.1"]
    protocol = OcppProtocol(version="2.0.1", role=Role.CSMS, routes=routing.ROUTES, handled=csms.HANDLED)
    bad = dict(CALLS[0][3], seqNo="42")
    [event] = protocol.receive(frame("x", "TransactionEvent", bad), 0)
    assert not isinstance(event, CallReceived), "the ocppgen decoder accepted an invalid message"
    try:
        ours_codec("2.0.1", "TransactionEvent", frame("x", "TransactionEvent", bad))()
    except msgspec.ValidationError:
        pass
    else:
        raise AssertionError("the payload codec accepted an invalid message")


# The clock of every sample: wall time by default; ``--clock cpu`` takes this process's CPU
# time instead, which leaves out the time the process waits for a core on a shared machine.
TIMER: Callable[[], float] = time.perf_counter


def prove_respond_refuses_invalid() -> None:
    """The respond being timed validates: an invalid response is refused, not written."""
    from ocppgen.generated.runtime.events import ResponseRefused

    routing, csms = MODULES["2.0.1"]
    protocol = OcppProtocol(version="2.0.1", role=Role.CSMS, routes=routing.ROUTES, handled=csms.HANDLED)
    route = routing.ROUTES["Heartbeat"]
    assert route.response is not None
    bad = route.response(current_time="not a date-time")  # msgspec does not check on construction
    protocol._inbound["x"] = ("Heartbeat", None, 0.0)
    [event] = protocol.respond("x", bad)
    assert isinstance(event, ResponseRefused), "ocppgen wrote an invalid response"


def measure(fn: Callable[[], Any], number: int) -> float:
    return timeit.Timer(fn, timer=TIMER).timeit(number=number) / number * 1e6


def run(repeat: int, target_seconds: float = 0.05) -> list[dict[str, Any]]:
    prove_decoders_reject_invalid()
    prove_respond_refuses_invalid()
    rows = []
    for name, version, action, payload in CALLS:
        text = frame("19223201", action, payload)
        response = RESPONSES[(version, action)]
        cases: dict[str, Callable[[], Any] | None] = {
            "floor": floor(text),
            "ours_receive": ours_receive(version, text),
            "ours_receive_bytes": ours_receive_bytes(version, text),
            "ours_codec": ours_codec(version, action, text),
            "least_python": least_python_receive(version, action, text),
            "incumbent": incumbent_receive(version, text),
            "jsonschema_rs": jsonschema_rs(version, action, text),
            "ours_encode": ours_encode(version, action, payload),
            "incumbent_encode": incumbent_encode(version, action, payload),
            "out_floor": outbound_floor(version, action, response),
            "ours_respond": ours_respond(version, action, response),
            "incumbent_respond": incumbent_respond(version, action, response),
        }
        live = {k: f for k, f in cases.items() if f is not None}
        numbers = {}
        for key, fn in live.items():
            fn()  # warm up, and fail loudly if a path is broken
            once = max(measure(fn, 1), 0.1)
            numbers[key] = max(1, int(target_seconds * 1e6 / once))
        samples: dict[str, list[float]] = {k: [] for k in live}
        for _ in range(repeat):  # interleaved repetitions
            for key, fn in live.items():
                samples[key].append(measure(fn, numbers[key]))
        rows.append({"name": name, "samples": samples})
    return rows


def fmt(values: list[float]) -> str:
    return f"{statistics.median(values):.2f} ({min(values):.2f}-{max(values):.2f})"


def _ratio(s: dict[str, list[float]], a: str, b: str, digits: int = 2) -> str:
    return f"{statistics.median(s[a]) / statistics.median(s[b]):.{digits}f}x"


def table(rows: list[dict[str, Any]]) -> str:
    out = [
        "Inbound: an OCPP-J frame -> validated typed request.",
        "",
        "| message | floor: untyped msgspec decode | ocppgen receive (frame -> typed, validated) | receive / floor | "
        "payload codec alone | receive / codec | least Python receive (one-pass decode + event, no checks) | least / codec | "
        "receive from bytes / floor | incumbent inbound | incumbent / ocppgen | jsonschema-rs validate |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for row in rows:
        s = row["samples"]
        jrs = fmt(s["jsonschema_rs"]) if "jsonschema_rs" in s else "n/a"
        out.append(
            f"| {row['name']} | {fmt(s['floor'])} | {fmt(s['ours_receive'])} | {_ratio(s, 'ours_receive', 'floor')} | "
            f"{fmt(s['ours_codec'])} | {_ratio(s, 'ours_receive', 'ours_codec')} | {fmt(s['least_python'])} | "
            f"{_ratio(s, 'least_python', 'ours_codec')} | {_ratio(s, 'ours_receive_bytes', 'floor')} | "
            f"{fmt(s['incumbent'])} | "
            f"{_ratio(s, 'incumbent', 'ours_receive', 0)} | {jrs} |"
        )
    out += [
        "",
        "Outbound: the CSMS's typed response -> strictly validated CALLRESULT frame (`respond`), and a typed request -> "
        "validated payload (`call`'s encode).",
        "",
        "| message | floor: encode + strict decode of the response | ocppgen respond | respond / floor | incumbent respond | "
        "incumbent / ocppgen | ocppgen request encode | incumbent request encode | incumbent / ocppgen |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for row in rows:
        s = row["samples"]
        out.append(
            f"| {row['name']} | {fmt(s['out_floor'])} | {fmt(s['ours_respond'])} | {_ratio(s, 'ours_respond', 'out_floor')} | "
            f"{fmt(s['incumbent_respond'])} | {_ratio(s, 'incumbent_respond', 'ours_respond', 0)} | {fmt(s['ours_encode'])} | "
            f"{fmt(s['incumbent_encode'])} | {_ratio(s, 'incumbent_encode', 'ours_encode', 0)} |"
        )
    out.append("")
    clock = "this process's CPU time" if TIMER is time.process_time else "wall time"
    out.append(f"Microseconds per message ({clock}), median (min-max) of interleaved repetitions; ratios of medians.")
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="codec benchmark")
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--seconds", type=float, default=0.05, help="time per sample")
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument("--clock", choices=("wall", "cpu"), default="wall",
                        help="wall time, or this process's CPU time (steadier on a shared machine)")
    parser.add_argument("--cpu", action="store_true", help="the same as --clock cpu")
    args = parser.parse_args(argv)
    global TIMER
    TIMER = time.process_time if args.clock == "cpu" or args.cpu else time.perf_counter
    result = table(run(args.repeat, args.seconds))
    return publish(result, args.out)


if __name__ == "__main__":
    sys.exit(main())
