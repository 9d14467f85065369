"""Same inputs, byte-identical output, whatever the hash seed and the number of format workers."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.conftest import ROOT


def _build(out: Path, seed: str, jobs: str = "") -> dict[str, bytes]:
    # no format cache: black runs on every module (in worker processes unless jobs is "1")
    env = {**os.environ, "PYTHONHASHSEED": seed, "OCPPGEN_JOBS": jobs, "OCPPGEN_CACHE_DIR": ""}
    subprocess.run(
        [sys.executable, "-m", "ocppgen", "build", "--package-dir", str(out)], check=True, env=env, capture_output=True
    )
    return _files(out)


def _files(root: Path) -> dict[str, bytes]:
    """Every file under ``root``, following links (generated/runtime links to runtime/)."""
    found = {}
    for folder, dirs, names in os.walk(root, followlinks=True):
        dirs[:] = [d for d in dirs if d != "__pycache__"]
        for name in names:
            path = Path(folder, name)
            found[path.relative_to(root).as_posix()] = path.read_bytes()
    return dict(sorted(found.items()))


def test_two_builds_with_different_hash_seeds_are_byte_identical(tmp_path: Path) -> None:
    first = _build(tmp_path / "a", "1")
    second = _build(tmp_path / "b", "4242", jobs="1")  # and formatted in this process, not in workers
    assert first == second
    committed = _files(ROOT / "generated")
    assert first == committed
    for name, data in first.items():
        assert b"\r\n" not in data, name
        assert str(tmp_path).encode() not in data, name
