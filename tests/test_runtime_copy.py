"""One runtime: generated/runtime is the hand-written runtime/ itself (a link), so every test
runs the source; a vendored build copies it verbatim, and the copy is self-contained."""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from collections.abc import Iterator
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
    # the asyncio modules may add websockets; signing.py and the certificate modules import the
    # optional cryptography package inside the functions that need it; metrics.py its exporters;
    # nothing else leaves the standard library
    with_websockets = {"connection.py", "server.py", "client.py", "transport.py", "asgi.py"}
    for path in (ROOT / "generated").rglob("*.py"):
        allowed_here = allowed | {"websockets"} if path.name in with_websockets else allowed
        if path.name in WITH_CRYPTOGRAPHY:
            allowed_here = allowed | {"cryptography"}
        if path.name == "metrics.py":  # the exporters, imported when made (ocppgen[prometheus], ocppgen[otel])
            allowed_here = allowed | {"prometheus_client", "opentelemetry"}
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


WITH_CRYPTOGRAPHY = {"signing.py", "certificates.py", "certificate_management.py"}


def test_signing_imports_cryptography_only_lazily() -> None:
    """The runtime imports with only the standard library and msgspec: cryptography is loaded
    by signing.py's functions when they run, never at import time."""
    def imported_at_import_time(node: ast.AST) -> Iterator[str]:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
                continue  # runs later, when called
            if isinstance(child, ast.Import):
                yield from (a.name for a in child.names)
            elif isinstance(child, ast.ImportFrom):
                yield child.module or ""
            yield from imported_at_import_time(child)

    tree = ast.parse((ROOT / "runtime" / "signing.py").read_text())
    eager = {name.split(".")[0] for name in imported_at_import_time(tree)}
    assert "msgspec" in eager and "cryptography" not in eager
    lazy = {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.module}
    assert "cryptography.hazmat.primitives" in lazy  # the walk above does see function bodies
    code = (
        "import sys; sys.modules['cryptography'] = None\n"
        "import ocppgen.generated.runtime.signing as s\n"
        "assert 'cryptography' not in [m.split('.')[0] for m in sys.modules if sys.modules[m] is not None]\n"
        "try:\n    s.SigningKey(b'-----BEGIN PRIVATE KEY-----', None)\n"
        "except s.SigningUnavailable as e:\n    assert isinstance(e, ImportError) and 'cryptography' in str(e)\n"
        "else:\n    raise SystemExit('no SigningUnavailable')\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr


def test_generated_package_ships_py_typed_and_the_oca_notice() -> None:
    assert (ROOT / "generated" / "py.typed").exists()
    notice = (ROOT / "generated" / "NOTICE.md").read_text()
    assert "Open Charge Alliance" in notice and "CC BY-ND 4.0" in notice
