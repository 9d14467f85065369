"""Every Python code block of the integration guides runs as written (each as a script in a
fresh interpreter): docs/asgi.md, docs/metrics.md, docs/testing.md, docs/device-model.md."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT

GUIDES = ["asgi.md", "metrics.md", "testing.md", "device-model.md"]
BLOCKS = [
    (name, i, block)
    for name in GUIDES
    if (ROOT / "docs" / name).exists()
    for i, block in enumerate(re.findall(r"```python\n(.*?)```", (ROOT / "docs" / name).read_text(), re.S))
]


@pytest.mark.parametrize("name", GUIDES)
def test_each_guide_exists_and_has_code(name: str) -> None:
    assert any(guide == name for guide, _, _ in BLOCKS), f"docs/{name} has no Python block"


@pytest.mark.parametrize(("name", "index", "block"), BLOCKS, ids=[f"{n}-{i + 1}" for n, i, _ in BLOCKS])
def test_guide_code_block_runs(name: str, index: int, block: str, tmp_path: Path) -> None:
    script = tmp_path / f"guide_{name.split('.')[0]}_{index + 1}.py"  # a file: a block may run itself under pytest
    script.write_text(block)
    proc = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=90, cwd=ROOT)
    assert proc.returncode == 0, f"docs/{name} block {index + 1} failed:\n{proc.stdout}\n{proc.stderr}"
