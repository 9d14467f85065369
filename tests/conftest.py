import os
from pathlib import Path

import pytest
from hypothesis import settings

# CI runs the property tests with a fixed seed, so a red run reproduces; locally they explore.
settings.register_profile("ci", derandomize=True)
if os.environ.get("CI"):
    settings.load_profile("ci")

pytest_plugins = ["pytester"]  # tests/test_testing_kit.py runs a user's test file through the ocppgen plugin

ROOT = Path(__file__).resolve().parent.parent
SHARED_SPEC = ROOT.parent / "shared" / "spec"


def require_shared_spec() -> Path:
    """The OCA reference documents beside the checkout; CI always has them."""
    if not SHARED_SPEC.is_dir():
        if os.environ.get("CI"):
            pytest.fail(f"{SHARED_SPEC} is missing; CI must run with shared/ beside the checkout")
        pytest.skip(f"{SHARED_SPEC} not present (outside CI)")
    return SHARED_SPEC


def pytest_terminal_summary(terminalreporter, exitstatus, config):  # noqa: ANN001
    from tests import test_fidelity

    lines = test_fidelity.report_lines()
    if lines:
        terminalreporter.section("schema fidelity (reference validator vs generated decoder)")
        for line in lines:
            terminalreporter.write_line(line)
