"""Same inputs, byte-identical output, whatever the hash seed."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.conftest import ROOT


def _build(out: Path, seed: str) -> dict[str, bytes]:
    env = {**os.environ, "PYTHONHASHSEED": seed}
    subprocess.run(
        [sys.executable, "-m", "ocppgen", "build", "--package-dir", str(out)], check=True, env=env, capture_output=True
    )
    return {p.relative_to(out).as_posix(): p.read_bytes() for p in sorted(out.rglob("*")) if p.is_file()}


def test_two_builds_with_different_hash_seeds_are_byte_identical(tmp_path: Path) -> None:
    first = _build(tmp_path / "a", "1")
    second = _build(tmp_path / "b", "4242")
    assert first == second
    committed = {  # os.walk follows the generated/runtime link (Path.rglob does not)
        (Path(folder) / name).relative_to(ROOT / "generated").as_posix(): (Path(folder) / name).read_bytes()
        for folder, _, names in os.walk(ROOT / "generated", followlinks=True)
        for name in names
        if "__pycache__" not in Path(folder).parts
    }
    assert first == committed
    for name, data in first.items():
        assert b"\r\n" not in data, name
        assert str(tmp_path).encode() not in data, name
