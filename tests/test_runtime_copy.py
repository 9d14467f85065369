"""The runtime in the generated package is a verbatim copy of runtime/, and self-contained."""

from __future__ import annotations

import ast

from ocppgen.render import runtime_files
from tests.conftest import ROOT


def test_generated_runtime_equals_source() -> None:
    source = sorted(p.name for p in (ROOT / "runtime").glob("*.py"))
    assert runtime_files() == source
    for name in source:
        assert (ROOT / "generated" / "runtime" / name).read_bytes() == (ROOT / "runtime" / name).read_bytes()


def test_generated_package_imports_only_stdlib_msgspec_and_itself() -> None:
    import sys

    allowed = set(sys.stdlib_module_names) | {"msgspec", "ocppgen"}
    for path in (ROOT / "generated").rglob("*.py"):
        if path.name == "transport.py":  # the one module that may add websockets
            allowed_here = allowed | {"websockets"}
        else:
            allowed_here = allowed
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
