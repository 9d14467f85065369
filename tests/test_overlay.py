"""Schema overlays (RFC 6902): documented deviations applied in memory, never to the vendored files."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from ocppgen.cli import main
from ocppgen.overlay import patch
from tests.conftest import ROOT

HERTZ = ROOT / "schemas" / "overlays" / "v16-hertz.json"
METER = (
    b'{"connectorId":1,"transactionId":5,"meterValue":[{"timestamp":"2024-01-01T00:00:00Z",'
    b'"sampledValue":[{"value":"50.0","measurand":"Frequency","unit":"Hertz"}]}]}'
)


def test_patch_operations() -> None:
    doc = {"a": {"b": [1, 2]}, "c": 1, "x/y": 0}
    out = patch(doc, [
        {"op": "add", "path": "/a/b/-", "value": 3},
        {"op": "add", "path": "/a/b/0", "value": 0},
        {"op": "replace", "path": "/c", "value": 2},
        {"op": "copy", "from": "/c", "path": "/d"},
        {"op": "move", "from": "/d", "path": "/e"},
        {"op": "remove", "path": "/x~1y"},
        {"op": "test", "path": "/a/b", "value": [0, 1, 2, 3]},
    ])
    assert out == {"a": {"b": [0, 1, 2, 3]}, "c": 2, "e": 2}
    assert doc == {"a": {"b": [1, 2]}, "c": 1, "x/y": 0}  # the input is not touched
    with pytest.raises(ValueError, match=r"operation 0 \(test /c\): test failed"):
        patch(doc, [{"op": "test", "path": "/c", "value": 9}])
    with pytest.raises(ValueError, match="operation 0"):
        patch(doc, [{"op": "remove", "path": "/nope"}])


def _build(tmp_path: Path, name: str, *extra: str) -> Path:
    result = CliRunner().invoke(main, ["build", "--ocpp", "1.6", "--out", str(tmp_path), "--package", name, *extra])
    assert result.exit_code == 0, result.output
    return tmp_path / name


def _decodes_hertz(tmp_path: Path, package: str) -> bool:
    probe = (
        f"from {package}.v16 import routing\n"
        "import msgspec, sys\n"
        "try:\n"
        f"    routing.METER_VALUES.request_codec.decode({METER!r})\n"
        "except msgspec.ValidationError:\n"
        "    sys.exit(3)\n"
    )
    proc = subprocess.run([sys.executable, "-c", probe], env={**os.environ, "PYTHONPATH": str(tmp_path)}, capture_output=True, text=True)
    assert proc.returncode in (0, 3), proc.stderr
    return proc.returncode == 0


def test_the_hertz_overlay_adds_the_unit_and_changes_the_digest(tmp_path: Path) -> None:
    plain = _build(tmp_path, "plain")
    hertz = _build(tmp_path, "hertz", "--overlay", str(HERTZ))
    assert "Hertz" not in (plain / "v16" / "enums.py").read_text()
    assert 'Hertz = "Hertz"' in (hertz / "v16" / "enums.py").read_text()
    banner = lambda p: (p / "v16" / "enums.py").read_text().splitlines()[1]  # noqa: E731
    assert banner(plain) != banner(hertz)  # the overlay is part of the schema set's digest
    assert not _decodes_hertz(tmp_path, "plain") and _decodes_hertz(tmp_path, "hertz")
    # the vendored files are untouched, and --check without the overlay sees the difference
    result = CliRunner().invoke(main, ["build", "--ocpp", "1.6", "--out", str(tmp_path), "--package", "hertz", "--check"])
    assert result.exit_code == 1 and "stale: v16/enums.py" in result.output


def test_overlay_errors_name_the_overlay_and_the_patch(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"description": "x", "version": "1.6", "patches": {
        "MeterValues.json": [{"op": "test", "path": "/title", "value": "Nope"}], "Nope.json": []}}))
    result = CliRunner().invoke(main, ["build", "--ocpp", "1.6", "--out", str(tmp_path / "o"), "--overlay", str(bad)])
    assert result.exit_code == 1
    assert f"{bad}#/patches/MeterValues.json: operation 0 (test /title): test failed" in result.output
    assert f"{bad}#/patches/Nope.json: no such schema file in the set" in result.output
    undocumented = tmp_path / "undocumented.json"
    undocumented.write_text(json.dumps({"version": "1.6", "patches": {}}))
    result = CliRunner().invoke(main, ["build", "--out", str(tmp_path / "o"), "--overlay", str(undocumented)])
    assert result.exit_code == 1 and "must say why it exists" in result.output
