"""The ``ocppgen`` command line: build, --check drift detection, where --out/--package/--package-dir
put the package, progress, named overlays, option names, and errors without tracebacks."""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
from importlib import metadata
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from ocppgen.cli import main
from ocppgen.load import write_manifest
from tests.conftest import ROOT

HERTZ = ROOT / "schemas" / "overlays" / "v16-hertz.json"


def invoke(*args: str) -> Result:
    result = CliRunner().invoke(main, list(args))
    assert "Traceback" not in result.output
    if result.exception is not None:
        assert isinstance(result.exception, SystemExit), result.exception
    return result


def run(*args: str) -> tuple[int, str]:
    result = invoke(*args)
    return result.exit_code, result.output


def probe(root: Path, code: str) -> subprocess.CompletedProcess[str]:
    """Run ``code`` in a new interpreter with ``root`` as the only extra import path."""
    env = {**os.environ, "PYTHONPATH": str(root)}
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=root)


# --- ocppgen's own package -------------------------------------------------------------------


def test_committed_generated_package_is_up_to_date(monkeypatch: pytest.MonkeyPatch) -> None:
    # the drift check of .ci/run, as it runs there: no options, from the checkout's root
    monkeypatch.chdir(ROOT)
    result = invoke("build", "--check")
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("ocppgen: ") and "files up to date in generated" in result.stdout


def test_without_package_outside_a_checkout_the_command_says_what_to_give(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "someone-else"\n')
    code, text = run("build")
    assert code == 2
    assert f"{tmp_path} is not the root of one" in text
    assert "ocppgen build --package acme.ocpp [--out DIR]" in text
    assert list(tmp_path.iterdir()) == [tmp_path / "pyproject.toml"]  # nothing written


# --- where the package goes --------------------------------------------------------------------


def test_out_is_the_folder_under_which_the_package_path_is_created(tmp_path: Path) -> None:
    code, text = run("build", "--ocpp", "1.6", "--out", str(tmp_path), "--package", "acme.ocpp")
    assert code == 0, text
    out = tmp_path / "acme" / "ocpp"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["acme"]
    assert sorted(p.name for p in (tmp_path / "acme").iterdir()) == ["ocpp"]  # no __init__.py: a namespace
    sources = {p: p.read_text() for p in out.rglob("*.py")}
    assert sorted(p.relative_to(out).parts[0] for p in sources if p.name == "messages.py") == ["v16"]
    assert not any("ocppgen" in line for s in sources.values() for line in s.splitlines() if "import" in line)
    proc = probe(
        tmp_path,
        "import msgspec\n"
        "from acme.ocpp.v16.messages import HeartbeatResponse\n"
        "print(msgspec.json.decode(b'{\"currentTime\":\"2024-01-02T00:00:00Z\"}', type=HeartbeatResponse))\n",
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("HeartbeatResponse(")


def test_without_out_the_package_path_starts_in_the_current_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    code, text = run("build", "--ocpp", "1.6", "--package", "acme_ocpp", "-q")
    assert code == 0, text
    assert (tmp_path / "acme_ocpp" / "v16" / "messages.py").is_file()
    assert probe(tmp_path, "import acme_ocpp.v16.routing").returncode == 0


def test_package_dir_is_the_package_folder_itself(tmp_path: Path) -> None:
    code, text = run("build", "--ocpp", "1.6", "--package", "acme.ocpp", "--package-dir", str(tmp_path / "src"))
    assert code == 0, text
    assert (tmp_path / "src" / "v16" / "messages.py").is_file()
    assert "from acme.ocpp.v16.enums import" in (tmp_path / "src" / "v16" / "messages.py").read_text()


def test_out_and_package_dir_exclude_each_other(tmp_path: Path) -> None:
    code, text = run("build", "--package", "a", "--out", str(tmp_path), "--package-dir", str(tmp_path / "a"))
    assert code == 2
    assert "error: --out and --package-dir both say where the package goes" in text
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("name", ["not-a-name", "class.ocpp", "acme..ocpp", "acme.", "1acme"])
def test_bad_package_name_is_a_usage_error(tmp_path: Path, name: str) -> None:
    code, text = run("build", "--out", str(tmp_path), "--package", name)
    assert code == 2
    assert f"error: Invalid value for '--package': {name!r} is not a dotted Python name" in text


def test_an_existing_file_is_no_output_folder(tmp_path: Path) -> None:
    (tmp_path / "f").write_text("")
    for option in ("--out", "--package-dir"):
        code, text = run("build", "--package", "a", option, str(tmp_path / "f"))
        assert code == 2 and f"Invalid value for '{option}'" in text and "is a file" in text


# --- --check -----------------------------------------------------------------------------------


def test_check_lists_stale_missing_and_unexpected_files(tmp_path: Path) -> None:
    common = ["--ocpp", "1.6", "--out", str(tmp_path), "--package", "pkg"]
    out = tmp_path / "pkg"
    assert run("build", *common)[0] == 0
    assert run("build", *common, "--check")[0] == 0
    (out / "v16" / "enums.py").write_text("# edited\n")
    (out / "v16" / "datatypes.py").unlink()
    (out / "v16" / "leftover.py").write_text("")
    before = {p: p.read_bytes() for p in out.rglob("*") if p.is_file()}
    result = invoke("build", *common, "--check")
    assert result.exit_code == 1
    assert result.stdout.splitlines() == [
        "missing: v16/datatypes.py",
        "stale: v16/enums.py",
        "unexpected: v16/leftover.py",
    ]
    assert {p: p.read_bytes() for p in out.rglob("*") if p.is_file()} == before  # --check writes nothing
    assert run("build", *common)[0] == 0
    assert run("build", *common, "--check")[0] == 0
    assert not (out / "v16" / "leftover.py").exists()


def test_check_reports_a_file_it_cannot_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    common = ["--ocpp", "1.6", "--out", str(tmp_path), "--package", "pkg", "-q"]
    assert run("build", *common)[0] == 0
    _deny(monkeypatch, tmp_path / "pkg" / "v16" / "enums.py")
    result = invoke("build", *common, "--check")
    assert result.exit_code == 1 and result.stdout == "unreadable: v16/enums.py (Permission denied)\n"


def test_check_hint_repeats_the_options_and_regenerates(tmp_path: Path) -> None:
    out = tmp_path / "out dir"  # a space, so the hint must quote
    given = ["--ocpp", "1.6", "--overlay", "v16-hertz", "--package", "acme.ocpp", "--out", str(out)]
    result = invoke("build", *given, "--check")
    assert result.exit_code == 1
    hint = result.stderr.strip().splitlines()[-1]
    expected = shlex.join(["ocppgen", "build", *given])
    assert re.fullmatch(r"ocppgen: \d+ file\(s\) out of date in (.*); regenerate with: (.*)", hint)
    assert hint.endswith(f" out of date in {out / 'acme' / 'ocpp'}; regenerate with: {expected}")
    command = shlex.split(hint.split("regenerate with: ", 1)[1])
    assert command[:2] == ["ocppgen", "build"]
    assert invoke(*command[1:]).exit_code == 0
    assert invoke(*command[1:], "--check").exit_code == 0
    assert 'Hertz = "Hertz"' in (out / "acme" / "ocpp" / "v16" / "enums.py").read_text()


def test_check_hint_names_package_dir_and_schemas(tmp_path: Path) -> None:
    result = invoke("build", "--schemas", str(ROOT / "schemas" / "v16"), "--package-dir", str(tmp_path / "p"), "--check")
    assert result.exit_code == 1
    expected = shlex.join(["ocppgen", "build", "--schemas", str(ROOT / "schemas" / "v16"), "--package-dir", str(tmp_path / "p")])
    assert result.stderr.rstrip().endswith(f"regenerate with: {expected}")


# --- progress and --quiet ----------------------------------------------------------------------


def test_progress_line_per_version_on_stderr_and_summary_on_stdout(tmp_path: Path) -> None:
    result = invoke("build", "--ocpp", "1.6", "--ocpp", "2.0.1", "--out", str(tmp_path), "--package", "p")
    assert result.exit_code == 0, result.output
    lines = result.stderr.splitlines()
    assert lines[0] == f"ocppgen: building p (OCPP 1.6, 2.0.1) in {tmp_path / 'p'}"
    assert lines[1].startswith("ocppgen: OCPP 1.6: 78 schema files -> ") and lines[1].endswith("s)")
    assert lines[2].startswith("ocppgen: OCPP 2.0.1: 128 schema files -> ")
    assert len(lines) == 3
    assert result.stdout.startswith(f"ocppgen: 1.6, 2.0.1: ") and f"changed, in {tmp_path / 'p'}" in result.stdout


def test_progress_arrives_while_the_build_works(tmp_path: Path) -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "ocppgen", "build", "--ocpp", "1.6", "--ocpp", "2.1", "--out", str(tmp_path), "--package", "p"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stderr is not None
    try:
        assert proc.stderr.readline().startswith("ocppgen: building p (OCPP 1.6, 2.1)")
        assert proc.stderr.readline().startswith("ocppgen: OCPP 1.6: ")
        assert proc.poll() is None  # 2.1 (most of the work) is still to come
        assert proc.stderr.readline().startswith("ocppgen: OCPP 2.1: ")
    finally:
        proc.communicate(timeout=120)
    assert proc.returncode == 0


def test_quiet_prints_nothing_on_success_and_problems_on_failure(tmp_path: Path) -> None:
    common = ["--ocpp", "1.6", "--out", str(tmp_path), "--package", "p", "-q"]
    result = invoke("build", *common)
    assert result.exit_code == 0 and result.output == ""
    assert invoke("build", *common, "--check").output == ""
    (tmp_path / "p" / "v16" / "enums.py").write_text("")
    result = invoke("build", *common, "--check")
    assert result.exit_code == 1 and "stale: v16/enums.py" in result.stdout and "regenerate with" in result.stderr


# --- overlays by name --------------------------------------------------------------------------


def test_overlays_command_lists_the_shipped_overlays() -> None:
    code, text = run("overlays")
    assert code == 0
    assert text.splitlines()[0] == "v16-hertz  (OCPP 1.6)"
    assert "many 1.6 chargers report Measurand Frequency" in " ".join(text.split())
    assert "ocppgen build --overlay NAME" in text


def test_build_help_names_the_shipped_overlays_and_options() -> None:
    code, text = run("build", "--help")
    assert code == 0
    flat = " ".join(text.split())
    assert "(v16-hertz; see 'ocppgen overlays')" in flat
    for option in ("--ocpp", "--schemas", "--overlay NAME|FILE", "--package", "--out", "--package-dir", "--check", "--quiet"):
        assert option in flat
    assert "--version" not in flat  # the deprecated spelling is hidden


def test_overlay_by_name_equals_overlay_by_file(tmp_path: Path) -> None:
    for package, overlay in (("by_name", "v16-hertz"), ("by_file", str(HERTZ))):
        assert run("build", "--ocpp", "1.6", "-q", "--out", str(tmp_path), "--package", package, "--overlay", overlay)[0] == 0
    named = (tmp_path / "by_name" / "v16" / "enums.py").read_text()
    assert 'Hertz = "Hertz"' in named
    assert named.replace("by_name", "by_file") == (tmp_path / "by_file" / "v16" / "enums.py").read_text()


def test_unknown_overlay_name_lists_the_shipped_ones(tmp_path: Path) -> None:
    code, text = run("build", "--out", str(tmp_path), "--package", "p", "--overlay", "v16-herz")
    assert code == 2
    assert "no shipped overlay named 'v16-herz' (shipped: v16-hertz)" in text
    assert "(e.g. ./v16-herz.json)" in text


def test_missing_overlay_file_is_a_usage_error(tmp_path: Path) -> None:
    code, text = run("build", "--out", str(tmp_path), "--package", "p", "--overlay", str(tmp_path / "nope.json"))
    assert code == 2 and f"{tmp_path / 'nope.json'}: no such file" in text
    (tmp_path / "d.json").mkdir()
    code, text = run("build", "--out", str(tmp_path), "--package", "p", "--overlay", str(tmp_path / "d.json"))
    assert code == 2 and f"{tmp_path / 'd.json'}: not a file" in text


def test_overlay_that_cannot_be_read_is_an_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    overlay = Path(_overlay(tmp_path, {"description": "d", "version": "1.6", "patches": {}}))
    _deny(monkeypatch, overlay)
    code, text = run("build", "--ocpp", "1.6", "--out", str(tmp_path), "--package", "p", "--overlay", str(overlay))
    assert code == 1 and f"error: {overlay}: cannot read overlay: Permission denied" in text


def _overlay(tmp_path: Path, doc: object | str) -> str:
    path = tmp_path / "o.json"
    path.write_text(doc if isinstance(doc, str) else json.dumps(doc))
    return str(path)


@pytest.mark.parametrize(
    ("doc", "message"),
    [
        ("{not json", "o.json: unreadable overlay: Expecting property name"),
        ([], "o.json: an overlay is an object with 'description', 'version' and 'patches'"),
        ({"description": "d", "version": "1.7", "patches": {}}, "o.json#/version: 'version' must be one of 1.6, 2.0.1, 2.1, not '1.7'"),
        ({"description": "d", "version": "1.6", "patches": {"Reset.json": "add"}}, "o.json#/patches/Reset.json: expected a list"),
        ({"description": "d", "version": "1.6", "patches": {"Reset.json": ["add"]}}, 'o.json#/patches/Reset.json/0: expected {"op": add|remove'),
        ({"description": "d", "version": "1.6", "patches": {"Reset.json": [{"op": "frob", "path": "/x"}]}}, "o.json#/patches/Reset.json/0: expected"),
        ({"description": "d", "version": "1.6", "patches": {"Reset.json": [{"op": "copy", "path": "/x"}]}}, "o.json#/patches/Reset.json/0: 'copy' needs 'from'"),
        ({"description": "d", "version": "1.6", "patches": {"Reset.json": [{"op": "add", "path": "/x"}]}}, "o.json#/patches/Reset.json/0: 'add' needs 'value'"),
    ],
)
def test_bad_overlay_names_the_file_and_what_is_wrong(tmp_path: Path, doc: object | str, message: str) -> None:
    code, text = run("build", "--ocpp", "1.6", "--out", str(tmp_path / "o"), "--package", "p", "--overlay", _overlay(tmp_path, doc))
    assert code == 1
    assert f"error: {tmp_path}/{message}" in text
    assert text.rstrip().endswith("nothing written") and not (tmp_path / "o").exists()


def test_overlay_for_a_version_not_built_is_an_error(tmp_path: Path) -> None:
    code, text = run("build", "--ocpp", "2.1", "--out", str(tmp_path), "--package", "p", "--overlay", "v16-hertz")
    assert code == 1
    assert "error: v16-hertz: this overlay is for OCPP 1.6, which is not built here (2.1); add --ocpp 1.6" in text
    assert list(tmp_path.iterdir()) == []


# --- option names: --version is ocppgen's, --ocpp names OCPP versions --------------------------


def test_version_prints_the_tool_version() -> None:
    code, text = run("--version")
    assert code == 0 and text == f"ocppgen {metadata.version('ocppgen')}\n"


def test_deprecated_version_option_still_selects_ocpp_versions_with_a_warning(tmp_path: Path) -> None:
    result = invoke("build", "--version", "1.6", "--out", str(tmp_path), "--package", "p", "-q")
    assert result.exit_code == 0, result.output
    assert result.stderr == "warning: --version is deprecated here (it names OCPP versions): use --ocpp 1.6\n"
    assert sorted(p.name for p in (tmp_path / "p").iterdir() if p.is_dir()) == ["runtime", "v16"]


def test_version_after_a_command_without_a_value_points_to_ocppgen_version(tmp_path: Path) -> None:
    code, text = run("build", "--version", "--out", str(tmp_path), "--package", "p")
    assert code == 2
    assert "needs an OCPP version (--ocpp 1.6|2.0.1|2.1); ocppgen's own version is printed by 'ocppgen --version'" in text
    code, text = run("build", "--version", "1.7", "--out", str(tmp_path), "--package", "p")
    assert code == 2 and "'1.7' is not an OCPP version (1.6, 2.0.1, 2.1); use --ocpp" in text


def test_unknown_ocpp_version_is_a_usage_error(tmp_path: Path) -> None:
    code, text = run("build", "--ocpp", "1.5", "--out", str(tmp_path), "--package", "p")
    assert code == 2 and "error: Invalid value for '--ocpp': '1.5' is not one of '1.6', '2.0.1', '2.1'." in text


# --- no traceback on bad input -------------------------------------------------------------------


def test_unwritable_out_is_an_error_with_the_path(tmp_path: Path) -> None:
    code, text = run("build", "--ocpp", "1.6", "--out", "/proc/nope", "--package", "p")
    assert code == 1
    assert "error: /proc/nope: cannot write: No such file or directory (nothing written)" in text
    assert text.rstrip().endswith("ocppgen: 1 error(s); the build stopped")


def test_out_under_a_file_is_an_error_with_the_path(tmp_path: Path) -> None:
    (tmp_path / "f").write_text("")
    code, text = run("build", "--ocpp", "1.6", "--out", str(tmp_path / "f" / "x"), "--package", "p")
    assert code == 1 and f"error: {tmp_path / 'f' / 'x' / 'p'}: cannot write: Not a directory" in text


def test_schemas_folder_must_exist(tmp_path: Path) -> None:
    code, text = run("build", "--schemas", str(tmp_path / "nope"), "--out", str(tmp_path), "--package", "p")
    assert code == 2 and f"error: Invalid value for '--schemas': Directory '{tmp_path / 'nope'}' does not exist." in text


def test_unreadable_version_folder_is_an_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # (an unreadable --schemas folder itself is refused by the option, exit 2.) CI runs as root,
    # which reads anything: the permission answer is simulated, the folders are real
    folder = _user_set(tmp_path, {"PingRequest.json": _message({})})
    root = tmp_path / "root"
    root.mkdir()
    folder.rename(root / "v201")
    monkeypatch.setattr(os, "access", lambda path, mode: Path(path) != root / "v201")
    code, text = run("build", "--schemas", str(root), "--out", str(tmp_path / "o"), "--package", "p")
    assert code == 1 and f"error: {root / 'v201'}: cannot read: permission denied" in text


def test_unreadable_schema_file_is_an_error(tmp_path: Path) -> None:
    folder = _user_set(tmp_path, {"PingRequest.json": _message({}), "PingResponse.json": _message({})})
    (folder / "PingResponse.json").unlink()
    (folder / "PingResponse.json").mkdir()  # listed, present, and not a file
    code, text = run("build", "--schemas", str(folder), "--out", str(tmp_path / "o"), "--package", "p")
    assert code == 1 and f"error: {folder / 'PingResponse.json'}: cannot read: Is a directory" in text


def _deny(monkeypatch: pytest.MonkeyPatch, *denied: Path) -> None:
    """Reading these files raises PermissionError (CI runs as root, which reads anything)."""
    real_text, real_bytes = Path.read_text, Path.read_bytes

    def refuse(path: Path) -> None:
        if path in denied:
            raise PermissionError(13, "Permission denied", str(path))

    monkeypatch.setattr(Path, "read_text", lambda self, *a, **k: refuse(self) or real_text(self, *a, **k))
    monkeypatch.setattr(Path, "read_bytes", lambda self: refuse(self) or real_bytes(self))


def test_schema_files_that_cannot_be_read_are_errors(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = _user_set(tmp_path, {"PingRequest.json": _message({}), "PingResponse.json": _message({})})
    _deny(monkeypatch, folder / "PingRequest.json", folder / "DIRECTIONS.json")
    code, text = run("build", "--schemas", str(folder), "--out", str(tmp_path / "o"), "--package", "p")
    assert code == 1
    assert f"error: {folder / 'PingRequest.json'}: cannot read: Permission denied" in text
    assert f"error: {folder / 'DIRECTIONS.json'}: cannot read: Permission denied" in text
    _deny(monkeypatch, folder / "MANIFEST.json")
    code, text = run("build", "--schemas", str(folder), "--out", str(tmp_path / "o"), "--package", "p")
    assert code == 1 and f"error: {folder / 'MANIFEST.json'}: cannot read: Permission denied" in text


def test_unreadable_manifest_is_an_error(tmp_path: Path) -> None:
    folder = _user_set(tmp_path, {"PingRequest.json": _message({})})
    root = tmp_path / "root"
    root.mkdir()
    folder.rename(root / "v201")
    (root / "v201" / "MANIFEST.json").unlink()
    (root / "v201" / "MANIFEST.json").mkdir()
    code, text = run("build", "--schemas", str(root), "--out", str(tmp_path / "o"), "--package", "p")
    assert code == 1 and f"error: {root / 'v201' / 'MANIFEST.json'}: missing manifest" in text


def test_manifest_into_an_unwritable_folder_is_an_error() -> None:
    code, text = run("manifest", "/proc/self", "--ocpp", "2.1", "--origin", "o", "--edition", "e", "--license", "l")
    assert code == 1 and text.startswith("error: /proc/self/MANIFEST.json: ")


def test_unknown_command_is_a_usage_error() -> None:
    code, text = run("nope")
    assert code == 2 and "error: No such command 'nope'." in text


# --- user-supplied schema sets -------------------------------------------------------------------


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
    code, text = run("build", "--schemas", str(folder), "--out", str(tmp_path), "--package", "ping")
    assert code == 0, text
    assert "class PingRequest(Payload, kw_only=True):" in (tmp_path / "ping" / "v201" / "messages.py").read_text()


def test_manifest_command_writes_a_manifest_the_build_accepts(tmp_path: Path) -> None:
    folder = tmp_path / "set"
    folder.mkdir()
    (folder / "PingRequest.json").write_text(json.dumps(_message({})))
    (folder / "PingResponse.json").write_text(json.dumps(_message({})))
    (folder / "DIRECTIONS.json").write_text(json.dumps({"Ping": {"initiator": "CSMS", "cite": "test"}}))
    code, text = run("manifest", str(folder), "--ocpp", "2.0.1", "--origin", "o", "--edition", "e", "--license", "l")
    assert code == 0 and text == f"ocppgen: wrote {folder / 'MANIFEST.json'}\n"
    assert json.loads((folder / "MANIFEST.json").read_text())["version"] == "2.0.1"
    assert run("build", "--schemas", str(folder), "--out", str(tmp_path), "--package", "p", "-q")[0] == 0
    code, text = run("manifest", str(folder), "--origin", "o", "--edition", "e", "--license", "l")
    assert code == 2 and "give exactly one OCPP version: --ocpp 1.6|2.0.1|2.1" in text


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


# --- ir ------------------------------------------------------------------------------------------


def test_ir_command_prints_the_ir() -> None:
    result = invoke("ir", "--ocpp", "1.6")
    assert result.exit_code == 0, result.output
    ir = json.loads(result.stdout)
    assert ir["version"] == "1.6" and len(ir["messages"]) == 78
    assert "ChargePointStatus" in {e["name"] for e in ir["enums"]}


def test_ir_command_applies_a_named_overlay_and_needs_one_version() -> None:
    result = invoke("ir", "--ocpp", "1.6", "--overlay", "v16-hertz")
    units = next(e for e in json.loads(result.stdout)["enums"] if e["name"] == "UnitOfMeasure")
    assert "Hertz" in {m["value"] for m in units["members"]}
    code, text = run("ir")
    assert code == 2 and "give exactly one OCPP version" in text
    result = invoke("ir", "--version", "2.1")  # deprecated spelling
    assert result.exit_code == 0 and json.loads(result.stdout)["version"] == "2.1"
    assert "use --ocpp 2.1" in result.stderr
