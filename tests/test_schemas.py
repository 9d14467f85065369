"""The vendored schema sets: complete, unmodified in content, verified on every build."""

from __future__ import annotations

import importlib.util
import json
import shutil
from pathlib import Path

import pytest

from ocppgen.diagnostics import BuildError
from ocppgen.load import default_schema_root, load_set, load_sets
from tests.conftest import ROOT, require_shared_spec

SCHEMAS = ROOT / "schemas"
REFERENCE_DIRS = {
    "v16": ["ocpp16/schemas/json", "ocpp16/security-schemas"],
    "v201": ["ocpp2/OCPP-2.0.1_part3_JSON_schemas"],
    "v21": ["ocpp21/OCPP-2.1_part3_JSON_schemas"],
}


def test_default_schema_root_is_the_project_folder() -> None:
    assert default_schema_root() == SCHEMAS


@pytest.mark.parametrize(
    ("key", "files", "requests", "responses"),
    [("v16", 78, 39, 39), ("v201", 128, 64, 64), ("v21", 181, 91, 90)],
)
def test_set_sizes(key: str, files: int, requests: int, responses: int) -> None:
    s = load_set(SCHEMAS / key)
    assert len(s.files) == files
    names = [f.name for f in s.files]
    assert sum(n.endswith("Response.json") for n in names) == responses
    assert len(names) - responses == requests


def test_1_6_has_28_core_and_11_security_actions() -> None:
    names = {f.name[:-5] for f in load_set(SCHEMAS / "v16").files}
    actions = {n for n in names if not n.endswith("Response")}
    security = {n for n in actions if json.loads((SCHEMAS / "v16" / f"{n}.json").read_text())["$schema"].endswith("draft-06/schema#")}
    assert len(actions) == 39 and len(security) == 11 and len(actions - security) == 28


def test_2_1_send_only_message_has_no_response() -> None:
    names = {f.name for f in load_set(SCHEMAS / "v21").files}
    assert "NotifyPeriodicEventStream.json" in names
    assert "NotifyPeriodicEventStreamResponse.json" not in names


@pytest.mark.parametrize("key", ["v16", "v201", "v21"])
def test_vendored_files_equal_the_oca_reference_copies(key: str) -> None:
    spec = require_shared_spec()
    reference = {p.name: p for d in REFERENCE_DIRS[key] for p in (spec / d).glob("*.json")}
    ours = {p.name: p for p in (SCHEMAS / key).glob("*.json") if p.name != "MANIFEST.json"}
    assert sorted(ours) == sorted(reference)
    different = [
        name
        for name in sorted(ours)
        if json.loads(ours[name].read_text(encoding="utf-8"))
        != json.loads(reference[name].read_text(encoding="utf-8-sig"))
    ]
    assert different == []


def test_manifests_carry_origin_edition_and_license() -> None:
    for key in ("v16", "v201", "v21"):
        manifest = json.loads((SCHEMAS / key / "MANIFEST.json").read_text())
        assert manifest["origin"] and manifest["edition"]
        assert "CC BY-ND 4.0" in manifest["license"]


def _copy_set(tmp_path: Path, key: str = "v201") -> Path:
    target = tmp_path / key
    shutil.copytree(SCHEMAS / key, target)
    return target


def test_an_altered_file_is_refused_by_name(tmp_path: Path) -> None:
    folder = _copy_set(tmp_path)
    path = folder / "HeartbeatRequest.json"
    path.write_text(path.read_text().replace('"type": "object"', '"type":"object"', 1))
    with pytest.raises(BuildError) as exc:
        load_set(folder)
    assert [d.file for d in exc.value.diagnostics] == [str(path)]
    assert "altered" in str(exc.value)


def test_a_missing_file_is_refused_by_name(tmp_path: Path) -> None:
    folder = _copy_set(tmp_path)
    (folder / "ResetResponse.json").unlink()
    with pytest.raises(BuildError, match=r"ResetResponse.json: missing \(listed in the manifest\)"):
        load_set(folder)


def test_an_unlisted_file_is_refused(tmp_path: Path) -> None:
    folder = _copy_set(tmp_path)
    (folder / "Sneaky.json").write_text("{}")
    with pytest.raises(BuildError, match=r"Sneaky.json: not listed in the manifest"):
        load_set(folder)


def test_a_missing_manifest_is_refused(tmp_path: Path) -> None:
    folder = _copy_set(tmp_path)
    (folder / "MANIFEST.json").unlink()
    with pytest.raises(BuildError, match="missing manifest"):
        load_set(folder)
    with pytest.raises(BuildError, match="no schema set: expected MANIFEST.json"):
        load_sets(folder)


def _vendor_module():  # noqa: ANN202
    spec = importlib.util.spec_from_file_location("vendor_oca", SCHEMAS / "vendor_oca.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_vendor_script_undoes_the_wheel_edits() -> None:
    """Re-apply the wheel's edits to our files, then check the script restores them byte for byte."""
    vendor = _vendor_module()
    for key, name, edit in [
        ("v16", "Heartbeat.json", lambda t: t.replace('    "id": "urn:OCPP:1.6:2019:12:HeartbeatRequest",\n', "")),
        (
            "v16",
            "StopTransaction.json",
            lambda t: t.replace('    "id": "urn:OCPP:1.6:2025:04:StopTransactionRequest",\n', ""),
        ),
        (
            "v201",
            "Get15118EVCertificateResponse.json",
            lambda t: t.replace('  "$id": "urn:OCPP:Cp:2:2020:3:Get15118EVCertificateResponse",\n', "").replace(
                '"maxLength": 5600', '"maxLength": 7500'
            ),
        ),
    ]:
        ours = (SCHEMAS / key / name).read_text(encoding="utf-8")
        wheel_like = edit(ours)
        assert wheel_like != ours
        assert vendor.RESTORE[key](name, wheel_like) == ours


def test_vendor_script_refuses_a_wheel_it_does_not_know() -> None:
    vendor = _vendor_module()
    ours = (SCHEMAS / "v16" / "MeterValues.json").read_text(encoding="utf-8")
    without_id = "\n".join(line for line in ours.split("\n") if '"id": "urn' not in line)
    with pytest.raises(vendor.VendorError, match="Hertz"):
        vendor.RESTORE["v16"]("MeterValues.json", without_id)  # no Hertz edit to undo
