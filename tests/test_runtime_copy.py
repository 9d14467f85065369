"""One runtime: generated/runtime is the hand-written runtime/ itself (a link), so every test
runs the source; a vendored build copies it verbatim, and the copy is self-contained."""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path

from ocppgen.render import runtime_files
from tests.conftest import ROOT


def test_the_committed_runtime_is_the_source_itself() -> None:
    link = ROOT / "generated" / "runtime"
    assert link.is_symlink() and os.readlink(link) == "../runtime"
    import ocppgen.generated.runtime as rt

    assert Path(rt.__file__).resolve().parent == (ROOT / "runtime").resolve()


def test_only_one_runtime_is_importable() -> None:
    code = "import importlib.util, sys; sys.exit(importlib.util.find_spec('ocppgen.runtime') is not None)"
    assert subprocess.run([sys.executable, "-c", code]).returncode == 0


def test_a_vendored_build_copies_the_runtime_verbatim(tmp_path: Path) -> None:
    out = tmp_path / "acme_ocpp"
    proc = subprocess.run(
        [sys.executable, "-m", "ocppgen", "build", "--ocpp", "1.6", "--out", str(tmp_path), "--package", "acme_ocpp"],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0, proc.stderr
    source = sorted(p.name for p in (ROOT / "runtime").glob("*.py"))
    assert runtime_files() == source
    copied = out / "runtime"
    assert not copied.is_symlink()
    for name in source:
        assert (copied / name).read_bytes() == (ROOT / "runtime" / name).read_bytes()


def test_generated_package_imports_only_stdlib_msgspec_and_itself() -> None:
    allowed = set(sys.stdlib_module_names) | {"msgspec", "ocppgen"}
    # the asyncio modules may add websockets; nothing else leaves the standard library
    with_websockets = {"connection.py", "server.py", "client.py", "transport.py"}
    for path in (ROOT / "generated").rglob("*.py"):
        allowed_here = allowed | {"websockets"} if path.name in with_websockets else allowed
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                roots = {a.name.split(".")[0] for a in node.names}
            elif isinstance(node, ast.ImportFrom) and node.level == 0:
                roots = {(node.module or "").split(".")[0]}
            else:
                continue
            assert roots <= allowed_here, f"{path}: imports {roots - allowed_here}"
            if "ocppgen" in roots and isinstance(node, ast.ImportFrom):
                assert (node.module or "").startswith("ocppgen.generated"), path


def test_generated_package_ships_py_typed_and_the_oca_notice() -> None:
    assert (ROOT / "generated" / "py.typed").exists()
    notice = (ROOT / "generated" / "NOTICE.md").read_text()
    assert "Open Charge Alliance" in notice and "CC BY-ND 4.0" in notice
