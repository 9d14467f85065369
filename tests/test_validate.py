"""``ocppgen validate``: clean captures of the project's own examples in every version and input
format, broken captures for each kind of violation, lenient mode, redacted values, bad input
(exit 2, no traceback), and the JSON report's shape."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import msgspec
import pytest
from click.testing import CliRunner, Result

from examples import csms as example_csms, station as example_station
from ocppgen.cli import main
from ocppgen.validate import Report
from ocppgen.generated.v16 import csms as csms16, routing as r16
from ocppgen.generated.v201 import csms as csms201, routing as r201
from ocppgen.generated.v21 import csms as csms21, routing as r21
from tests.conftest import ROOT
from tests.test_examples import ask

VERSIONS = ["1.6", "2.0.1", "2.1"]
SECRETS: dict[str, tuple[Any, bytes]] = {
    # a secret the runtime's frame log redacts: the 1.6 AuthorizationKey (valid as "***"), the
    # 2.x SIM PIN (an integer: "***" in its place breaks the schema and must be recognised)
    "1.6": (r16.CHANGE_CONFIGURATION, b'{"key":"AuthorizationKey","value":"00112233445566778899aabbccddeeff"}'),
    "2.0.1": (r201.SET_NETWORK_PROFILE, b'{"configurationSlot":1,"connectionData":{"ocppVersion":"OCPP20","ocppTransport":"JSON",'
              b'"ocppCsmsUrl":"wss://csms.example/ocpp","messageTimeout":30,"securityProfile":2,"ocppInterface":"Wireless0",'
              b'"apn":{"apn":"internet","apnAuthentication":"AUTO","simPin":1234,"apnPassword":"secret"}}}'),
    "2.1": (r21.SET_NETWORK_PROFILE, b'{"configurationSlot":1,"connectionData":{"ocppVersion":"OCPP20","ocppTransport":"SOAP",'
            b'"ocppCsmsUrl":"wss://csms.example/ocpp","messageTimeout":30,"securityProfile":2,"ocppInterface":"Wireless0",'
            b'"apn":{"apn":"internet","apnAuthentication":"AUTO","simPin":1234},"basicAuthPassword":"secret"}}'),
}


def invoke(*args: str, stdin: bytes | None = None) -> Result:
    result = CliRunner().invoke(main, ["validate", *args], input=stdin)
    assert "Traceback" not in result.output
    if result.exception is not None:
        assert isinstance(result.exception, SystemExit), repr(result.exception)
    return result


def report(*args: str, stdin: bytes | None = None) -> tuple[int, dict[str, Any]]:
    result = invoke(*args, "--format", "json", stdin=stdin)
    return result.exit_code, json.loads(result.stdout)


def kinds(data: dict[str, Any], severity: str = "violation") -> list[str]:
    return [f["kind"] for f in data["findings"] if f["severity"] == severity]


def write(tmp_path: Path, lines: list[str], name: str = "capture.txt") -> str:
    path = tmp_path / name
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return str(path)


# --- captures of the project's own examples ----------------------------------------------------


def record_example(version: str, folder: Path) -> Path:
    """The example CSMS's frame log (log_frames=True, a formatter prefix as deployments add)
    while the example station boots, runs a transaction and answers the CSMS's requests."""
    log = folder / f"csms-{version}.log"
    db = folder / f"csms-{version}.sqlite"
    handler = logging.FileHandler(log, encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    logger = logging.getLogger("ocppgen.frames")
    level = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    server = example_csms.build_server(str(db), log_frames=True)
    role = {"1.6": csms16, "2.0.1": csms201, "2.1": csms21}[version]

    async def run() -> None:
        async with server.serve("127.0.0.1", 0) as ws_server:
            port = next(iter(ws_server.sockets)).getsockname()[1]
            started = asyncio.Event()
            sim = asyncio.ensure_future(example_station.simulate(
                f"ws://127.0.0.1:{port}/ocpp/SIM", version, meter_values=2, interval=0.01, keep_running=True, started=started
            ))
            await asyncio.wait_for(started.wait(), 10)
            for _ in range(500):
                done = sqlite3.connect(db).execute("SELECT COUNT(*) FROM transactions WHERE stopped_at IS NOT NULL").fetchone()[0]
                if done:
                    break
                await asyncio.sleep(0.01)
            client = server.registry.client("SIM", role.BINDING)
            for coro in ask(version, client):
                await coro
            route, secret = SECRETS[version]
            method = "change_configuration" if version == "1.6" else "set_network_profile"
            await getattr(client, method)(route.request_codec.decode(secret))
            await asyncio.sleep(0.1)
            sim.cancel()
            with contextlib.suppress(BaseException):
                await sim

    try:
        asyncio.run(run())
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)
        handler.close()
    return log


@pytest.fixture(scope="module")
def example_logs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("captures")
    return {version: record_example(version, folder) for version in VERSIONS}


def log_frames(log: Path) -> list[tuple[str, str, str]]:
    """(station, direction, frame) of each frame line of a frame log."""
    out = []
    for line in log.read_text().splitlines():
        head, _, frame = line.partition(": ")
        station, direction, text = frame.split(" ", 2)
        out.append((station, direction, text))
    return out


@pytest.mark.parametrize("version", VERSIONS)
def test_the_examples_capture_is_clean_as_a_frame_log(example_logs: dict[str, Path], version: str) -> None:
    code, data = report(str(example_logs[version]), "--ocpp", version)
    assert code == 0, data["findings"]
    summary = data["summary"]
    assert data["input"] == "log" and data["logged_by"] == "csms"
    assert summary["violations"] == 0 and summary["warnings"] == 0
    assert summary["calls"] >= 10 and summary["answered"] == summary["calls"] and summary["sender_unknown"] == 0
    assert summary["redacted"] >= 1  # the secret of SECRETS, blanked by the runtime's log
    assert '"***"' in example_logs[version].read_text()


@pytest.mark.parametrize("version", VERSIONS)
def test_the_examples_capture_is_clean_as_json_lines_and_raw_frames(
    example_logs: dict[str, Path], version: str, tmp_path: Path
) -> None:
    frames = log_frames(example_logs[version])
    records = [json.dumps({"station": s, "direction": "csms" if d == ">" else "station", "frame": f}) for s, d, f in frames]
    relative = [json.dumps({"direction": "out" if d == ">" else "in", "frame": json.loads(f)}) for _, d, f in frames]
    for lines in (records, relative, [f for _, _, f in frames]):
        result = invoke(write(tmp_path, lines), "--ocpp", version)
        assert result.exit_code == 0, result.output
        assert "violations: 0" in result.output and "warnings: 0" in result.output, result.output


def test_a_log_of_both_sides_is_checked_once_per_frame(example_logs: dict[str, Path], tmp_path: Path) -> None:
    # a process that runs both sides (a test) logs each frame as sent by one and received by the other
    lines = []
    for line in example_logs["2.1"].read_text().splitlines():
        head, _, rest = line.partition(": ")
        station, direction, frame = rest.split(" ", 2)
        mirror = f"{head}: {station} {'>' if direction == '<' else '<'} {frame}"
        lines += [mirror, line] if direction == "<" else [line, mirror]
    code, data = report(write(tmp_path, lines), "--ocpp", "2.1")
    assert code == 0, data["findings"]
    assert kinds(data, "warning") == ["both_sides_logged"]
    assert data["summary"]["frames"] == len(lines) // 2 and data["summary"]["sender_unknown"] == 0


def test_one_station_of_a_csms_log(example_logs: dict[str, Path], tmp_path: Path) -> None:
    # a CSMS serves every version: pick one charger's frames out of the mixed log
    lines = [line.replace(" SIM ", f" SIM-{version} ") for version in VERSIONS for line in example_logs[version].read_text().splitlines()]
    path = write(tmp_path, lines)
    assert report(path, "--ocpp", "2.0.1")[0] == 1
    code, data = report(path, "--ocpp", "2.0.1", "--station", "SIM-2.0.1")
    assert code == 0 and data["summary"]["stations"] == 1
    result = invoke(path, "--ocpp", "2.0.1", "--station", "nobody")
    assert result.exit_code == 2 and "no frames of station nobody" in result.output


def test_a_frame_log_line_with_a_frame_that_is_not_json(tmp_path: Path) -> None:
    lines = ["2024-01-01 DEBUG ocppgen.frames: CP1 < hello there", 'CP1 > [4,"-1","RpcFrameworkError","not JSON",{}]',
             "2024-01-01 INFO app: a > b"]
    code, data = report(write(tmp_path, lines), "--ocpp", "2.0.1", "--logged-by", "csms")
    assert code == 1 and data["summary"]["frames"] == 2
    assert [(f["line"], f["kind"], f["sender"]) for f in data["findings"]] == [(1, "framing", "station")]


@pytest.mark.parametrize("version", VERSIONS)
def test_a_third_party_stations_log(version: str, tmp_path: Path) -> None:
    """The log of a station built on the `ocpp` package from PyPI (logger "ocpp"), against the
    example CSMS: its own log format, written by the station."""
    from websockets.asyncio.client import connect

    from tests.test_interop_incumbent import incumbent, their_station

    lib = incumbent(version)
    log = tmp_path / "station.log"
    handler = logging.FileHandler(log, encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
    logger = logging.getLogger("ocpp")
    level, propagate = logger.level, logger.propagate
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    logger.propagate = False
    server = example_csms.build_server(str(tmp_path / "csms.sqlite"))

    async def run() -> None:
        async with server.serve("127.0.0.1", 0) as ws_server:
            port = next(iter(ws_server.sockets)).getsockname()[1]
            subprotocol = {"1.6": "ocpp1.6", "2.0.1": "ocpp2.0.1", "2.1": "ocpp2.1"}[version]
            async with connect(f"ws://127.0.0.1:{port}/ocpp/THEIRS", subprotocols=[subprotocol]) as ws:  # type: ignore[list-item]
                cp = their_station(version, ws)
                reader = asyncio.ensure_future(cp.start())
                if version == "1.6":
                    await cp.call(lib.call.BootNotification(charge_point_model="M", charge_point_vendor="V"))
                else:
                    await cp.call(lib.call.BootNotification(charging_station={"model": "M", "vendor_name": "V"}, reason="PowerUp"))
                await cp.call(lib.call.Heartbeat())
                await asyncio.sleep(0.2)  # the CSMS reads the station's configuration after the boot
                reader.cancel()

    try:
        asyncio.run(run())
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)
        logger.propagate = propagate
        handler.close()
    code, data = report(str(log), "--ocpp", version)
    assert data["input"] == "log" and data["logged_by"] == "station", log.read_text()
    assert data["summary"]["calls"] >= 3, log.read_text()
    problems = [(f["kind"], f["action"], f["sender"]) for f in data["findings"]]
    if version == "2.1":  # the incumbent's 2.1 station leaves the CSMS's GetVariables unanswered
        assert problems in ([], [("unanswered_call", "GetVariables", "csms")]), problems
    else:
        assert code == 0, problems


def test_a_capture_of_the_wrong_version_is_full_of_violations(example_logs: dict[str, Path]) -> None:
    code, data = report(str(example_logs["2.0.1"]), "--ocpp", "1.6")
    assert code == 1 and data["summary"]["violations"] > 10


# --- each kind of violation ---------------------------------------------------------------------

BOOT16 = '[2,"b1","BootNotification",{"chargePointVendor":"V","chargePointModel":"M"}]'
BOOT16_OK = '[3,"b1",{"status":"Accepted","currentTime":"2024-01-01T00:00:00Z","interval":300}]'


def test_schema_violations_name_the_json_path_and_every_violation_of_a_payload(tmp_path: Path) -> None:
    lines = [
        '[2,"m1","MeterValues",{"connectorId":1,"meterValue":[{"timestamp":"2024-01-01T00:00:00Z",'
        '"sampledValue":[{"value":"1"},{"value":2,"unit":"Wh"}]}]}]',
        '[3,"m1",{}]',
        '[2,"s1","StatusNotification",{"connectorId":1,"status":"Available"}]',
        '[3,"s1",{}]',
    ]
    code, data = report(write(tmp_path, lines), "--ocpp", "1.6")
    assert code == 1
    found = [(f["line"], f["kind"], f["path"], f["action"], f["message_id"]) for f in data["findings"]]
    assert found == [
        (1, "schema", "$.meterValue[0].sampledValue[1].value", "MeterValues", "m1"),
        (3, "schema", "$", "StatusNotification", "s1"),
    ]
    assert "errorCode" in data["findings"][1]["detail"]
    assert data["findings"][0]["spec"].startswith("OCPP 1.6 JSON schemas")


def test_every_violation_of_one_payload_is_reported(tmp_path: Path) -> None:
    lines = [
        '[2,"1","BootNotification",{"reason":"Nope","chargingStation":{"model":7,"vendorName":"V","x":1}}]',
        '[3,"1",{"currentTime":"2024-01-01T00:00:00Z","interval":300,"status":"Accepted"}]',
    ]
    code, data = report(write(tmp_path, lines), "--ocpp", "2.0.1")
    assert code == 1
    assert sorted(f["path"] for f in data["findings"]) == [
        "$.chargingStation.model", "$.chargingStation.x", "$.reason",
    ]
    lenient = {f["path"]: f["lenient"] for f in data["findings"]}
    assert lenient == {"$.chargingStation.model": None, "$.chargingStation.x": "extra_field", "$.reason": "unknown_enum_value"}


def test_responses_are_validated_against_the_response_type_of_their_calls_action(tmp_path: Path) -> None:
    lines = [BOOT16, '[3,"b1",{"status":"Fine","currentTime":"2024-01-01T00:00:00Z","interval":300}]',
             '[2,"h1","Heartbeat",{}]', '[3,"h1",{"currentTime":"2024-01-01T00:00:00Z","interval":300}]']
    code, data = report(write(tmp_path, lines), "--ocpp", "1.6")
    assert code == 1
    found = [(f["line"], f["frame_type"], f["action"], f["path"], f["sender"]) for f in data["findings"]]
    assert found == [(2, "CALLRESULT", "BootNotification", "$.status", "csms"), (4, "CALLRESULT", "Heartbeat", "$.interval", "csms")]


@pytest.mark.parametrize(
    ("version", "frame", "kind", "spec"),
    [
        ("1.6", "this is not json", "framing", "OCPP-J 1.6 section 4.1.2"),
        ("2.0.1", '{"not": "an array"}', "framing", "section 4.1.2"),
        ("2.0.1", '[2,"x","Heartbeat"]', "framing", "section 4.2.1"),
        ("2.0.1", '[2,"x","Heartbeat",{},{}]', "framing", "section 4.2.1"),
        ("2.0.1", '[2,7,"Heartbeat",{}]', "message_id", "section 4.1.4"),
        ("2.0.1", '[2,"' + "x" * 37 + '","Heartbeat",{}]', "message_id", "section 4.1.4"),
        ("2.0.1", '[9,"x","Heartbeat",{}]', "message_type", "section 4.1.3"),
        ("2.0.1", '[6,"x","NotifyPeriodicEventStream",{}]', "message_type", "section 4.1.3"),
        ("1.6", '[2,"x","Heartbeat",[]]', "framing", "section 4.2.1"),
        ("2.1", '[2,"x","BootNotification",null]', "framing", "section 4.1.5"),
        ("2.1", '[3,"x",{}, 1]', "framing", "section 4.2.2"),
        ("2.1", '[4,"x","NotImplemented","",[]]', "framing", "section 4.2.3"),
    ],
)
def test_bad_framing(tmp_path: Path, version: str, frame: str, kind: str, spec: str) -> None:
    code, data = report(write(tmp_path, [frame]), "--ocpp", version, "--input", "frames")
    assert code == 1
    first = data["findings"][0]
    assert (first["kind"], first["line"]) == (kind, 1), data["findings"]
    assert spec in first["spec"]


def test_error_codes_and_descriptions(tmp_path: Path) -> None:
    lines = ['[2,"a","Heartbeat",{}]', '[4,"a","Oops","",{}]', '[2,"b","Heartbeat",{}]', '[4,"b","GenericError","' + "d" * 256 + '",{}]',
             '[2,"c","Heartbeat",{}]', '[4,"c","FormationViolation","",{}]']
    code, data = report(write(tmp_path, lines), "--ocpp", "2.0.1")
    assert code == 1
    assert [(f["line"], f["kind"], f["action"]) for f in data["findings"]] == [
        (2, "error_code", "Heartbeat"), (4, "framing", "Heartbeat"), (6, "error_code", "Heartbeat"),
    ]
    # 1.6 spells it FormationViolation, and both spellings of OccurenceConstraintViolation pass
    lines16 = ['[2,"a","Heartbeat",{}]', '[4,"a","FormationViolation","",{}]', '[2,"b","Heartbeat",{}]',
               '[4,"b","OccurenceConstraintViolation","",{}]', '[2,"c","Heartbeat",{}]', '[4,"c","OccurrenceConstraintViolation","",{}]']
    assert report(write(tmp_path, lines16), "--ocpp", "1.6")[0] == 0


def test_wrong_direction_in_a_frame_log(tmp_path: Path) -> None:
    # a CSMS's log: it received a BootNotification (right) and sent one (wrong); the station
    # sent a Reset (wrong), answered by the CSMS
    lines = [
        "2024-01-01 00:00:00,000 DEBUG ocppgen.frames: CP1 < " + BOOT16,
        "2024-01-01 00:00:00,001 DEBUG ocppgen.frames: CP1 > " + BOOT16_OK,
        '2024-01-01 00:00:00,002 DEBUG ocppgen.frames: CP1 > [2,"b2","BootNotification",{"chargePointVendor":"V","chargePointModel":"M"}]',
        '2024-01-01 00:00:00,003 DEBUG ocppgen.frames: CP1 < [4,"b2","NotSupported","",{}]',
        '2024-01-01 00:00:00,004 DEBUG ocppgen.frames: CP1 < [2,"r1","Reset",{"type":"Soft"}]',
        '2024-01-01 00:00:00,005 DEBUG ocppgen.frames: CP1 > [4,"r1","NotSupported","",{}]',
        '2024-01-01 00:00:00,006 DEBUG ocppgen.frames: CP1 < [2,"h1","Heartbeat",{}]',
        '2024-01-01 00:00:00,007 DEBUG ocppgen.frames: CP1 > [3,"h1",{"currentTime":"2024-01-01T00:00:00Z"}]',
        '2024-01-01 00:00:00,008 DEBUG ocppgen.frames: CP1 < [2,"h2","Heartbeat",{}]',
        '2024-01-01 00:00:00,009 DEBUG ocppgen.frames: CP1 > [3,"h2",{"currentTime":"2024-01-01T00:00:00Z"}]',
    ]
    # which side wrote it is a majority vote of the one-sided actions: 1 to 1 is no answer
    code, data = report(write(tmp_path, lines[:4]), "--ocpp", "1.6")
    assert code == 0 and data["logged_by"] is None and kinds(data, "warning") == ["logged_by_unknown"]
    code, data = report(write(tmp_path, lines), "--ocpp", "1.6")
    assert code == 1 and data["logged_by"] == "csms"
    assert [(f["line"], f["kind"], f["sender"], f["action"]) for f in data["findings"]] == [
        (3, "wrong_direction", "csms", "BootNotification"), (5, "wrong_direction", "station", "Reset"),
    ]
    assert all(f["station"] == "CP1" for f in data["findings"])
    assert "OCPP 1.6 chapters 4 and 5" in data["findings"][0]["spec"]
    # saying who wrote the log turns it around
    code, data = report(write(tmp_path, lines), "--ocpp", "1.6", "--logged-by", "station")
    assert [(f["line"], f["kind"]) for f in data["findings"]] == [(1, "wrong_direction"), (7, "wrong_direction"), (9, "wrong_direction")]


def test_wrong_direction_found_from_the_answer(tmp_path: Path) -> None:
    # raw frames: who sent a one-sided action is taken from the action itself
    get = '[2,"g1","GetVariables",{"getVariableData":[{"component":{"name":"C"},"variable":{"name":"V"}}]}]'
    got = '[3,"g1",{"getVariableResult":[{"attributeStatus":"Accepted","component":{"name":"C"},"variable":{"name":"V"}}]}]'
    code, data = report(write(tmp_path, [get, got]), "--ocpp", "2.0.1")
    assert code == 0 and data["summary"]["sender_unknown"] == 0, data["findings"]
    # a CALL of unknown sender answered by a known one: the other side sent the CALL
    lines = [json.dumps({"frame": get}), json.dumps({"direction": "csms", "frame": got})]
    code, data = report(write(tmp_path, lines, "c.jsonl"), "--ocpp", "2.0.1")
    assert code == 1
    assert [(f["line"], f["kind"], f["sender"]) for f in data["findings"]] == [(1, "wrong_direction", "station")]


def test_unknown_action(tmp_path: Path) -> None:
    lines = ['[2,"1","HeartbeatRequest",{}]', '[4,"1","NotImplemented","",{}]', '[2,"2","heartbeat",{}]',
             '[4,"2","NotImplemented","",{}]', '[2,"3","FlyToTheMoon",{}]', '[4,"3","NotImplemented","",{}]']
    code, data = report(write(tmp_path, lines), "--ocpp", "2.1")
    assert code == 1
    assert kinds(data) == ["unknown_action"] * 3
    details = [f["detail"] for f in data["findings"]]
    assert "without the \"Request\" suffix (Heartbeat)" in details[0] and "case-sensitive (Heartbeat)" in details[1]
    assert "Part 4 section 4.1.6, 4.1.7" in data["findings"][0]["spec"]


def test_unmatched_results_and_second_answers(tmp_path: Path) -> None:
    lines = ['[3,"nope",{}]', '[4,"nope2","GenericError","",{}]', '[2,"h","Heartbeat",{}]',
             '[3,"h",{"currentTime":"2024-01-01T00:00:00Z"}]', '[3,"h",{"currentTime":"2024-01-01T00:00:00Z"}]']
    code, data = report(write(tmp_path, lines), "--ocpp", "2.0.1")
    assert code == 1
    assert [(f["line"], f["kind"]) for f in data["findings"]] == [(1, "unmatched_result"), (2, "unmatched_result"), (5, "unmatched_result")]
    assert "second answer" in data["findings"][2]["detail"] and data["findings"][2]["action"] == "Heartbeat"
    # --partial: a reply to a CALL before the excerpt is a warning, a second answer is not
    code, data = report(write(tmp_path, lines), "--ocpp", "2.0.1", "--partial")
    assert kinds(data) == ["unmatched_result"] and kinds(data, "warning") == ["unmatched_result", "unmatched_result"]


def test_an_answer_from_the_side_that_sent_the_call(tmp_path: Path) -> None:
    lines = [json.dumps({"direction": "station", "frame": '[2,"h","Heartbeat",{}]'}),
             json.dumps({"direction": "station", "frame": '[3,"h",{"currentTime":"2024-01-01T00:00:00Z"}]'})]
    code, data = report(write(tmp_path, lines, "c.jsonl"), "--ocpp", "2.0.1")
    assert code == 1
    assert [(f["line"], f["kind"]) for f in data["findings"]] == [(1, "unanswered_call"), (2, "unmatched_result")]
    assert "its own side sent" in data["findings"][1]["detail"]


def test_unanswered_calls(tmp_path: Path) -> None:
    lines = ['[2,"h1","Heartbeat",{}]', '[2,"h2","Heartbeat",{}]', '[3,"h2",{"currentTime":"2024-01-01T00:00:00Z"}]']
    code, data = report(write(tmp_path, lines), "--ocpp", "2.1")
    assert code == 1
    assert [(f["line"], f["severity"], f["kind"]) for f in data["findings"]] == [
        (1, "violation", "unanswered_call"), (2, "warning", "concurrent_call"),
    ]
    assert "section 4.1.1" in data["findings"][1]["spec"]
    code, data = report(write(tmp_path, lines), "--ocpp", "2.1", "--partial")
    assert code == 0 and kinds(data, "warning") == ["unanswered_call", "concurrent_call"]


def test_duplicate_ids(tmp_path: Path) -> None:
    hb, ok = '[2,"d","Heartbeat",{}]', '[3,"d",{"currentTime":"2024-01-01T00:00:00Z"}]'
    boot = '[2,"d","BootNotification",{"reason":"PowerUp","chargingStation":{"model":"M","vendorName":"V"}}]'
    boot_ok = '[3,"d",{"currentTime":"2024-01-01T00:00:00Z","interval":300,"status":"Accepted"}]'
    # reused after its answer, by the same sender: any connection counts (Part 4 4.1.4)
    code, data = report(write(tmp_path, [boot, boot_ok, hb, ok]), "--ocpp", "2.0.1")
    assert code == 1 and [(f["line"], f["kind"]) for f in data["findings"]] == [(3, "duplicate_id")]
    assert "line 1 (BootNotification)" in data["findings"][0]["detail"]
    # a retry with the same id (its answer not received, or lost): allowed on 1.6 and 2.1, not on 2.0.1
    assert report(write(tmp_path, [hb, hb, ok]), "--ocpp", "2.1")[0] == 0
    assert report(write(tmp_path, [hb, ok, hb, ok]), "--ocpp", "2.1")[0] == 0
    hb16, ok16 = '[2,"d","Heartbeat",{}]', '[3,"d",{"currentTime":"2024-01-01T00:00:00Z"}]'
    assert report(write(tmp_path, [hb16, ok16, hb16, ok16]), "--ocpp", "1.6")[0] == 0
    code, data = report(write(tmp_path, [hb, hb, ok]), "--ocpp", "2.0.1")
    assert kinds(data) == ["duplicate_id"] and "also applies to retries" in data["findings"][0]["detail"]
    # the other side and other stations have ids of their own
    other = [json.dumps({"station": s, "direction": d, "frame": f}) for s, d, f in [
        ("A", "station", hb), ("A", "csms", ok), ("B", "station", hb), ("B", "csms", ok),
        ("A", "csms", '[2,"d","ClearCache",{}]'), ("A", "station", '[3,"d",{"status":"Accepted"}]'),
    ]]
    code, data = report(write(tmp_path, other, "c.jsonl"), "--ocpp", "2.0.1")
    assert code == 0, data["findings"]
    assert data["summary"]["stations"] == 2


def test_send_frames_of_2_1(tmp_path: Path) -> None:
    send = '[6,"s1","NotifyPeriodicEventStream",{"id":1,"pending":0,"basetime":"2024-01-01T00:00:00Z","data":[{"t":0,"v":"1"}]}]'
    lines = [send, '[3,"s1",{}]', '[2,"s2","NotifyPeriodicEventStream",{"id":1,"pending":0,"basetime":"2024-01-01T00:00:00Z","data":[{"t":0,"v":"1"}]}]',
             '[4,"s2","ProtocolError","",{}]', '[6,"s3","Heartbeat",{}]']
    code, data = report(write(tmp_path, lines), "--ocpp", "2.1")
    assert code == 1
    assert [(f["line"], f["kind"]) for f in data["findings"]] == [(2, "answered_send"), (3, "wrong_message_type"), (5, "wrong_message_type")]
    assert all("section 4.2.4" in f["spec"] for f in data["findings"])
    # the sender of the SEND is known from its action, the answer's from the record
    records = [json.dumps({"frame": send}), json.dumps({"direction": "csms", "frame": '[3,"s1",{}]'})]
    code, data = report(write(tmp_path, records, "c.jsonl"), "--ocpp", "2.1")
    assert [(f["line"], f["kind"]) for f in data["findings"]] == [(2, "answered_send")]


def test_callresulterror_answers_a_callresult(tmp_path: Path) -> None:
    lines = ['[2,"h","Heartbeat",{}]', '[3,"h",{"currentTime":"bad"}]', '[5,"h","FormatViolation","bad currentTime",{}]',
             '[5,"zz","FormatViolation","",{}]']
    code, data = report(write(tmp_path, lines), "--ocpp", "2.1")
    assert [(f["line"], f["kind"]) for f in data["findings"]] == [(2, "schema"), (4, "unmatched_result")]


def test_an_unreadable_frame_may_be_answered_with_id_minus_one(tmp_path: Path) -> None:
    lines = ['[2, 17, "Heartbeat", {}]', '[4,"-1","RpcFrameworkError","the message id must be a string",{}]', '[4,"-1","GenericError","",{}]']
    code, data = report(write(tmp_path, lines), "--ocpp", "2.0.1")
    assert [(f["line"], f["kind"]) for f in data["findings"]] == [(1, "message_id")]


@pytest.mark.parametrize(
    ("value", "lenient"), [("2024-01-01T00:00:00", "timestamp_without_offset"), ("2024-01-01 00:00:00Z", "datetime_syntax"),
                           ("2024-01-01T00:00:00+0100", "datetime_syntax")],
)
def test_a_bad_date_time_is_tolerated_only_with_lenient(tmp_path: Path, value: str, lenient: str) -> None:
    lines = ['[2,"h","Heartbeat",{}]', f'[3,"h",{{"currentTime":"{value}"}}]']
    code, data = report(write(tmp_path, lines), "--ocpp", "2.0.1")
    assert code == 1
    (finding,) = data["findings"]
    assert (finding["kind"], finding["path"], finding["lenient"], finding["severity"]) == ("datetime", "$.currentTime", lenient, "violation")
    assert "RFC 3339" in finding["spec"]
    text = invoke(write(tmp_path, lines), "--ocpp", "2.0.1").output
    assert f"(lenient mode would tolerate it: {lenient})" in text
    code, data = report(write(tmp_path, lines), "--ocpp", "2.0.1", "--lenient")
    assert code == 0 and kinds(data, "warning") == ["datetime"]
    assert "tolerated by lenient mode" in invoke(write(tmp_path, lines), "--ocpp", "2.0.1", "--lenient").output


def test_lenient_does_not_tolerate_what_the_runtime_rejects(tmp_path: Path) -> None:
    lines = ['[2,"h","Heartbeat",{}]', '[3,"h",{"currentTime":5,"x":1}]',
             '[2,"b","BootNotification",{"reason":"PowerUp"}]', '[4,"b","OccurrenceConstraintViolation","",{}]']
    code, data = report(write(tmp_path, lines), "--ocpp", "2.0.1", "--lenient")
    assert code == 1
    assert sorted((f["line"], f["severity"], f["path"], f["lenient"]) for f in data["findings"]) == [
        (2, "violation", "$.currentTime", None), (2, "warning", "$.x", "extra_field"), (3, "violation", "$", None),
    ]


def test_redacted_values_are_recognised_only_where_the_runtime_redacts(tmp_path: Path) -> None:
    request = json.loads(SECRETS["2.0.1"][1])
    request["connectionData"]["apn"]["simPin"] = "***"
    request["connectionData"]["apn"]["apnPassword"] = "***"
    lines = [
        f"CP7 > {json.dumps([2, 'n1', 'SetNetworkProfile', request])}",
        'CP7 < [3,"n1",{"status":"Accepted"}]',
        'CP7 < [2,"h1","Heartbeat",{}]',
        'CP7 > [3,"h1",{"currentTime":"***"}]',
    ]
    code, data = report(write(tmp_path, lines), "--ocpp", "2.0.1")
    assert [(f["line"], f["kind"], f["path"]) for f in data["findings"]] == [(4, "schema", "$.currentTime")]
    assert data["summary"]["redacted"] == 2


def test_signed_messages(tmp_path: Path) -> None:
    import base64

    def b64(obj: object) -> str:
        return base64.urlsafe_b64encode(json.dumps(obj).encode()).decode().rstrip("=")

    def header(mid: str) -> str:
        return b64({"alg": "ES256", "OCPPAction": "Heartbeat", "OCPPMessageTypedId": mid})

    good = {"protected": header("s"), "payload": b64({}), "signature": "x"}
    bad = {"protected": header("t"), "payload": b64({"nope": 1}), "signature": "x"}
    lines = [f'[2,"s","Heartbeat-Signed",{json.dumps(good)}]', '[3,"s",{"currentTime":"2024-01-01T00:00:00Z"}]',
             f'[2,"t","Heartbeat-Signed",{json.dumps(bad)}]', '[3,"t",{"currentTime":"2024-01-01T00:00:00Z"}]',
             '[2,"u","Heartbeat-Signed",{"protected":"!","payload":"***","signature":"x"}]', '[3,"u",{"currentTime":"2024-01-01T00:00:00Z"}]',
             '[2,"v","Heartbeat-Signed",{"payload":"e30"}]', '[3,"v",{"currentTime":"2024-01-01T00:00:00Z"}]']
    code, data = report(write(tmp_path, lines), "--ocpp", "2.1")
    assert [(f["line"], f["kind"], f["path"]) for f in data["findings"]] == [(3, "schema", "$.nope"), (7, "signature", None)]
    assert data["summary"]["redacted"] == 1


# --- input formats ------------------------------------------------------------------------------


def test_structured_log_lines_and_stdin(tmp_path: Path) -> None:
    lines = [json.dumps({"time": "t", "level": "DEBUG", "message": f"CP1 {d} {f}"}) for d, f in [("<", BOOT16), (">", BOOT16_OK)]]
    lines.insert(1, "some other log line")
    data = ("\n".join(lines) + "\n").encode()
    code, out = report("-", "--ocpp", "1.6", stdin=data)
    assert code == 0 and out["input"] == "log" and out["source"] == "<stdin>" and out["logged_by"] == "csms"
    assert out["summary"]["frames"] == 2


def test_a_log_prefix_in_brackets_is_still_a_log(tmp_path: Path) -> None:
    lines = ["[2024-01-01 00:00:00] DEBUG [ocppgen.frames] CP1 < " + BOOT16, "[2024-01-01 00:00:01] DEBUG [ocppgen.frames] CP1 > " + BOOT16_OK]
    code, data = report(write(tmp_path, lines), "--ocpp", "1.6")
    assert code == 0 and data["input"] == "log" and data["logged_by"] == "csms", data["findings"]


def test_the_input_format_can_be_named(tmp_path: Path) -> None:
    path = write(tmp_path, ["CP1 < " + BOOT16, "CP1 > " + BOOT16_OK])
    assert report(path, "--ocpp", "1.6", "--input", "log")[0] == 0
    code, data = report(path, "--ocpp", "1.6", "--input", "frames")  # every line is not a frame then
    assert code == 1 and kinds(data) == ["framing", "framing"]


def test_unreadable_json_lines_records_are_warnings(tmp_path: Path) -> None:
    lines = [json.dumps({"direction": "station", "frame": '[2,"h","Heartbeat",{}]'}), "{oops",
             json.dumps({"direction": "sideways", "frame": '[3,"h",{"currentTime":"2024-01-01T00:00:00Z"}]'})]
    code, data = report(write(tmp_path, lines, "c.jsonl"), "--ocpp", "2.0.1")
    assert code == 0
    assert [(f["line"], f["kind"]) for f in data["findings"]] == [(2, "unreadable_record"), (3, "unreadable_record")]


# --- bad input: exit 2, no traceback --------------------------------------------------------------


@pytest.mark.parametrize(
    ("content", "args", "message"),
    [
        (None, ["--ocpp", "1.6"], "No such file"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\xff\xfe", ["--ocpp", "1.6"], "not a text file"),
        (b"\xff\xfe[2,\"1\",\"Heartbeat\",{}]\n", ["--ocpp", "1.6"], "not UTF-8"),
        (b"", ["--ocpp", "1.6"], "empty"),
        (b"\n  \n", ["--ocpp", "1.6"], "empty"),
        (b"hello\nworld\n", ["--ocpp", "1.6"], "give --input"),
        (b'[2,"1","Heartbeat",{}]\n', ["--ocpp", "1.7"], "'1.7' is not one of"),
        (b'[2,"1","Heartbeat",{}]\n', [], "give exactly one OCPP version"),
        (b'[2,"1","Heartbeat",{}]\n', ["--ocpp", "1.6", "--input", "xml"], "'xml' is not one of"),
        (b'[2,"1","Heartbeat",{}]\n', ["--ocpp", "1.6", "--format", "yaml"], "'yaml' is not one of"),
        (b"just text\n", ["--ocpp", "1.6", "--input", "jsonl"], "no frames found"),
    ],
)
def test_bad_input_exits_2_without_a_traceback(tmp_path: Path, content: bytes | None, args: list[str], message: str) -> None:
    path = tmp_path / "capture.log"
    if content is not None:
        path.write_bytes(content)
    result = invoke(str(path), *args)
    assert result.exit_code == 2, result.output
    assert message in result.output and "error: " in result.output


def test_a_folder_is_bad_input(tmp_path: Path) -> None:
    result = invoke(str(tmp_path), "--ocpp", "2.1")
    assert result.exit_code == 2 and "error: " in result.output


def test_hostile_frames_are_violations_not_tracebacks(tmp_path: Path) -> None:
    lines = ["[" * 100_000, '[2,"x","Heartbeat",' + "[" * 50_000 + "]" * 50_000 + "}]", "[2,\"x\",\"Heartbeat\",{\"a\":1e999}]",
             '[2,"\\ud800","Heartbeat",{}]', "[]", "[2]", "[true]", "[2.0,\"x\",\"Heartbeat\",{}]", "[" + "1," * 1000 + "1]",
             json.dumps({"frame": "[" * 100_000})]
    for version in VERSIONS:
        result = invoke(write(tmp_path, lines), "--ocpp", version)
        assert result.exit_code == 1, result.output
    jsonl = [json.dumps({"frame": "[" * 100_000}), '{"frame": ' + "[" * 100_000 + "}", '{"frame": 3}']
    assert invoke(write(tmp_path, jsonl, "c.jsonl"), "--ocpp", "2.1", "--input", "jsonl").exit_code == 1


def test_the_installed_command_without_click_runner(tmp_path: Path) -> None:
    proc = subprocess.run([sys.executable, "-m", "ocppgen", "validate", str(tmp_path / "missing.log"), "--ocpp", "2.1"],
                          capture_output=True, text=True, cwd=ROOT)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr and proc.stderr.startswith("error: ")
    proc = subprocess.run([sys.executable, "-m", "ocppgen", "validate", "-", "--ocpp", "2.1"], input='[2,"h","Heartbeat",{}]\n',
                          capture_output=True, text=True, cwd=ROOT)
    assert proc.returncode == 1 and "unanswered_call" in proc.stdout


# --- the JSON report ----------------------------------------------------------------------------


def test_the_json_report_shape(tmp_path: Path) -> None:
    lines = ['[2,"h","Heartbeat",{}]', '[3,"h",{"currentTime":"2024-01-01T00:00:00"}]', '[3,"zz",{}]']
    code, data = report(write(tmp_path, lines), "--ocpp", "2.0.1")
    assert code == 1 == data["exit_code"]
    assert list(data) == ["report", "source", "ocpp", "input", "logged_by", "lenient", "partial", "findings", "summary", "exit_code"]
    assert data["report"] == 1 and data["ocpp"] == "2.0.1" and data["input"] == "frames"
    for finding in data["findings"]:
        assert list(finding) == ["severity", "kind", "line", "detail", "spec", "station", "message_id", "action", "frame_type",
                                 "sender", "path", "lenient"]
    assert data["summary"] == {
        "frames": 3, "by_type": {"CALL": 1, "CALLRESULT": 2}, "stations": 1, "sender_unknown": 1, "calls": 1, "answered": 1,
        "unanswered": 0, "redacted": 0, "violations": 2, "warnings": 0,
        "violations_by_kind": {"datetime": 1, "unmatched_result": 1}, "warnings_by_kind": {},
    }
    msgspec.json.decode(json.dumps(data), type=Report)  # the documented type reads it back


def test_the_text_report(tmp_path: Path) -> None:
    lines = ["CP1 < " + BOOT16, 'CP1 > [3,"b1",{"status":"Accepted","currentTime":"2024-01-01T00:00:00Z"}]']
    result = invoke(write(tmp_path, lines), "--ocpp", "1.6")
    assert result.exit_code == 1
    first, *summary = result.output.splitlines()
    assert first.endswith(
        "capture.txt:2: violation: schema: [CP1] CALLRESULT 'b1' BootNotification from the CSMS $: "
        "Object missing required field `interval` [OCPP 1.6 JSON schemas (OCPP-J 1.6 section 4.2.3)]"
    )
    assert summary[0].endswith("OCPP 1.6, read as log written by the CSMS; 2 frames (1 CALL, 1 CALLRESULT) of 1 station(s)")
    assert summary[2] == "  violations: 1 (schema 1)"


def test_the_help_documents_formats_exit_codes_and_the_json_schema() -> None:
    result = CliRunner().invoke(main, ["validate", "--help"])
    assert result.exit_code == 0
    for text in ("--ocpp", "--lenient", "--format", "--input", "--logged-by", "--partial", "Exit status: 0", '"findings"'):
        assert text in result.output


# --- docs/validate.md -----------------------------------------------------------------------------


def test_the_guides_example_runs_as_shown(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    guide = (ROOT / "docs" / "validate.md").read_text()
    capture = guide.split("```text\n", 1)[1].split("```", 1)[0]
    console = guide.split("```console\n", 1)[1].split("```", 1)[0].splitlines()
    shown = guide.split("```json\n", 1)[1].split("```", 1)[0]
    (tmp_path / "charger.log").write_text(capture)
    monkeypatch.chdir(tmp_path)
    command = console[0].removeprefix("$ ocppgen validate ").split()
    result = invoke(*command)
    assert result.exit_code == 1
    assert result.output.splitlines() == console[1:]
    code, data = report(*command)
    expected = json.loads(shown)
    assert expected["findings"][0] in data["findings"]
    assert {k: v for k, v in data.items() if k != "findings"} == {k: v for k, v in expected.items() if k != "findings"}
    lenient = invoke(*command, "--lenient").output
    assert "violations: 2 (duplicate_id 1, unanswered_call 1)" in lenient


def test_random_captures_never_raise(tmp_path: Path) -> None:
    from hypothesis import HealthCheck, given, settings, strategies as st

    from ocppgen.capture import CaptureError, read_capture
    from ocppgen.validate import render_text, validate

    json_values = st.recursive(
        st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.sampled_from(["***", "-1", "Heartbeat", ""])
        | st.text(max_size=8),
        lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.sampled_from(["currentTime", "x", "key", "value"]), inner, max_size=3),
        max_leaves=12,
    )
    frames = st.tuples(st.sampled_from([2, 3, 4, 5, 6, 9]), st.sampled_from(["1", "2", "-1", ""]), json_values, json_values).map(
        lambda t: json.dumps([t[0], t[1], *(["Heartbeat", t[2]] if t[0] in (2, 6) else [t[2]] if t[0] == 3 else ["GenericError", "", t[3]])])
    )
    lines = st.lists(
        st.one_of(frames, frames.map(lambda f: f"CP {'<' if len(f) % 2 else '>'} {f}"),
                  frames.map(lambda f: json.dumps({"direction": "in" if len(f) % 2 else "station", "frame": f})), st.text(max_size=20)),
        min_size=1, max_size=12,
    )

    @settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
    @given(lines, st.sampled_from(VERSIONS), st.booleans())
    def check(capture_lines: list[str], version: str, lenient: bool) -> None:
        try:
            capture = read_capture("\n".join(capture_lines).encode("utf-8", "surrogatepass"))
        except (CaptureError, UnicodeEncodeError):
            return
        result = validate(capture, version, source="x", lenient=lenient)
        render_text(result)
        msgspec.json.encode(result)

    check()


def test_the_guide_explains_every_kind_of_finding() -> None:
    from typing import get_args

    from ocppgen.validate import Kind

    guide = (ROOT / "docs" / "validate.md").read_text()
    table = {line.split("|")[1].strip().strip("`") for line in guide.splitlines() if line.startswith("| `")}
    assert table == set(get_args(Kind))
