"""The ``ocppgen`` command line: build, --check drift detection, --out/--package, errors."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner

from ocppgen.cli import main
from ocppgen.load import write_manifest
from tests.conftest import ROOT


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, list(args))
    assert "Traceback" not in result.output
    if result.exception is not None:
        assert isinstance(result.exception, SystemExit), result.exception
    return result.exit_code, result.output


def test_committed_generated_package_is_up_to_date() -> None:
    code, out = run("build", "--check", "--out", str(ROOT / "generated"))
    assert code == 0, out


def test_out_and_package_name_every_import(tmp_path: Path) -> None:
    out = tmp_path / "acme" / "ocpp"
    code, text = run("build", "--version", "1.6", "--version", "2.1", "--out", str(out), "--package", "acme.ocpp")
    assert code == 0, text
    (tmp_path / "acme" / "__init__.py").write_text("")
    sources = {p: p.read_text() for p in out.rglob("*.py")}
    assert sorted(p.relative_to(out).parts[0] for p in sources if p.name == "messages.py") == ["v16", "v21"]
    assert not any("ocppgen" in line for s in sources.values() for line in s.splitlines() if "import" in line)
    probe = (
        "from acme.ocpp.v21.messages import MESSAGES\n"
        "from acme.ocpp.runtime.payload import codec\n"
        "info = next(i for i in MESSAGES if i.action == 'Heartbeat' and i.kind == 'response')\n"
        "print(codec(info.type, True).decode(b'{\"currentTime\":\"2024-01-02T00:00:00Z\"}'))\n"
    )
    env = {**os.environ, "PYTHONPATH": str(tmp_path)}
    proc = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, env=env, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("HeartbeatResponse(")


def test_check_lists_stale_missing_and_unexpected_files(tmp_path: Path) -> None:
    out = tmp_path / "pkg"
    assert run("build", "--version", "1.6", "--out", str(out), "--package", "pkg")[0] == 0
    assert run("build", "--version", "1.6", "--out", str(out), "--package", "pkg", "--check")[0] == 0
    (out / "v16" / "enums.py").write_text("# edited\n")
    (out / "v16" / "datatypes.py").unlink()
    (out / "v16" / "leftover.py").write_text("")
    before = {p: p.read_bytes() for p in out.rglob("*") if p.is_file()}
    code, text = run("build", "--version", "1.6", "--out", str(out), "--package", "pkg", "--check")
    assert code == 1
    assert "stale: v16/enums.py" in text
    assert "missing: v16/datatypes.py" in text
    assert "unexpected: v16/leftover.py" in text
    assert {p: p.read_bytes() for p in out.rglob("*") if p.is_file()} == before  # --check writes nothing
    assert run("build", "--version", "1.6", "--out", str(out), "--package", "pkg")[0] == 0
    assert run("build", "--version", "1.6", "--out", str(out), "--package", "pkg", "--check")[0] == 0
    assert not (out / "v16" / "leftover.py").exists()


def test_bad_package_name_is_a_usage_error(tmp_path: Path) -> None:
    code, text = run("build", "--out", str(tmp_path), "--package", "not-a-name")
    assert code == 2 and "not a dotted Python name" in text


def _user_set(tmp_path: Path, files: dict[str, object | str], directions: dict[str, object] | None = None) -> Path:
    folder = tmp_path / "set"
    folder.mkdir()
    for name, doc in files.items():
        (folder / name).write_text(doc if isinstance(doc, str) else json.dumps(doc, indent=2))
    actions = {n[: -len(".json")].removesuffix("Request").removesuffix("Response") for n in files}
    rows = directions if directions is not None else {a: {"initiator": "CSMS", "cite": "test"} for a in actions}
    (folder / "DIRECTIONS.json").write_text(json.dumps(rows))
    write_manifest(folder, "2.0.1", "test", "test", "test")
    return folder


DRAFT6 = "http://json-schema.org/draft-06/schema#"


def _message(props: dict[str, object], **extra: object) -> dict[str, object]:
    return {"$schema": DRAFT6, "type": "object", "additionalProperties": False, "properties": props, **extra}


def test_user_supplied_schema_set_builds(tmp_path: Path) -> None:
    folder = _user_set(
        tmp_path,
        {
            "PingRequest.json": _message({"note": {"type": "string", "maxLength": 5}}),
            "PingResponse.json": _message({}),
        },
    )
    out = tmp_path / "out"
    code, text = run("build", "--schemas", str(folder), "--out", str(out), "--package", "ping")
    assert code == 0, text
    assert "class PingRequest(Payload, kw_only=True):" in (out / "v201" / "messages.py").read_text()


def test_invalid_json_names_file_and_position(tmp_path: Path) -> None:
    folder = _user_set(tmp_path, {"PingRequest.json": '{"type": "object",\n  "properties": }'})
    code, text = run("build", "--schemas", str(folder), "--out", str(tmp_path / "o"))
    assert code == 1
    assert "PingRequest.json: invalid JSON at line 2 column 17" in text
    assert not (tmp_path / "o").exists()


def test_unresolvable_ref_names_file_and_pointer(tmp_path: Path) -> None:
    folder = _user_set(tmp_path, {"PingRequest.json": _message({"a": {"$ref": "#/definitions/Nope"}})})
    code, text = run("build", "--schemas", str(folder), "--out", str(tmp_path / "o"))
    assert code == 1
    assert "PingRequest.json#/properties/a: unresolvable $ref '#/definitions/Nope'" in text


def test_unsupported_keyword_names_file_and_pointer(tmp_path: Path) -> None:
    folder = _user_set(tmp_path, {"PingRequest.json": _message({"a": {"type": "string", "pattern": "^x$"}})})
    code, text = run("build", "--schemas", str(folder), "--out", str(tmp_path / "o"))
    assert code == 1
    assert "PingRequest.json#/properties/a/pattern: unsupported keyword 'pattern'" in text


def test_two_shapes_under_one_name_is_an_error(tmp_path: Path) -> None:
    a = {"type": "object", "additionalProperties": False, "properties": {"x": {"type": "integer"}}}
    b = {"type": "object", "additionalProperties": False, "properties": {"x": {"type": "string"}}}
    folder = _user_set(
        tmp_path,
        {
            "ARequest.json": _message({"t": {"$ref": "#/definitions/ThingType"}}, definitions={"ThingType": a}),
            "BRequest.json": _message({"t": {"$ref": "#/definitions/ThingType"}}, definitions={"ThingType": b}),
        },
    )
    code, text = run("build", "--schemas", str(folder), "--out", str(tmp_path / "o"))
    assert code == 1
    assert "BRequest.json#/definitions/ThingType: two different shapes named 'ThingType'" in text
    assert "ARequest.json#/definitions/ThingType" in text


def test_python_name_collision_is_an_error(tmp_path: Path) -> None:
    folder = _user_set(
        tmp_path, {"PingRequest.json": _message({"fooBar": {"type": "string"}, "foo_bar": {"type": "string"}})}
    )
    code, text = run("build", "--schemas", str(folder), "--out", str(tmp_path / "o"))
    assert code == 1
    assert "fields 'fooBar' and 'foo_bar' both map to Python name 'foo_bar'" in text


def test_altered_schema_fails_the_build(tmp_path: Path) -> None:
    folder = _user_set(tmp_path, {"PingRequest.json": _message({})})
    (folder / "PingRequest.json").write_text(json.dumps(_message({"x": {"type": "string"}})))
    code, text = run("build", "--schemas", str(folder), "--out", str(tmp_path / "o"))
    assert code == 1 and "PingRequest.json: altered" in text


def test_ir_command_prints_the_ir() -> None:
    code, text = run("ir", "--version", "1.6")
    assert code == 0
    ir = json.loads(text)
    assert ir["version"] == "1.6" and len(ir["messages"]) == 78
    assert "ChargePointStatus" in {e["name"] for e in ir["enums"]}
