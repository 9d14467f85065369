"""mypy --strict on the committed generated package, on correct usage, and on misuse."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT

HERE = Path(__file__).resolve().parent / "typing"


@pytest.fixture(scope="module")
def tree(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The committed generated/ laid out as the installed ``ocppgen.generated`` package."""
    root = tmp_path_factory.mktemp("typing")
    (root / "ocppgen").mkdir()
    (root / "ocppgen" / "__init__.py").write_text("")
    shutil.copytree(ROOT / "generated", root / "ocppgen" / "generated", ignore=shutil.ignore_patterns("__pycache__"), symlinks=False)
    for name in ("usage_ok.py", "usage_bad.py"):
        shutil.copy(HERE / name, root / name)
    from tests.test_readme import BLOCKS

    for i, block in enumerate(BLOCKS):
        (root / f"readme_{i}.py").write_text(block)
    return root


def mypy(tree: Path, *targets: str) -> tuple[int, str]:
    proc = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--no-incremental", "--show-error-codes", *targets],
        cwd=tree,
        capture_output=True,
        text=True,
    )
    return proc.returncode, proc.stdout + proc.stderr


def test_generated_package_and_correct_usage_pass_mypy_strict(tree: Path) -> None:
    code, out = mypy(tree, "ocppgen", "usage_ok.py")
    assert code == 0, out


def test_the_readme_code_passes_mypy_strict(tree: Path) -> None:
    code, out = mypy(tree, *sorted(p.name for p in tree.glob("readme_*.py")))
    assert code == 0, out


def test_misuse_gives_exactly_the_expected_errors(tree: Path) -> None:
    expected = {
        (n, code.strip())
        for n, line in enumerate((HERE / "usage_bad.py").read_text().splitlines(), 1)
        if (m := re.search(r"# E: ([\w, -]+)$", line))
        for code in m.group(1).split(",")
    }
    code, out = mypy(tree, "usage_bad.py")
    found = {
        (int(m.group(1)), m.group(2))
        for m in re.finditer(r"^usage_bad\.py:(\d+): error: .*\[([\w-]+)\]$", out, re.M)
    }
    assert code == 1
    assert found == expected, out
