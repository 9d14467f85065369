"""Conformance scripts: the ``tc`` marker and the record of outcomes the table is built from."""

from __future__ import annotations

from collections.abc import Generator
from pathlib import Path
from typing import Any

import pytest

from tests.conformance import table


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "tc(id, *requirements): the OCA test case a test scripts, and its requirement ids")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """The table's drift test runs after every script it reports on."""
    last = [i for i in items if i.name == "test_the_conformance_table_is_current"]
    items[:] = [i for i in items if i not in last] + last
    table.RESULTS.expected = {i.nodeid for i in items if table.is_script(i)}
    table.RESULTS.modules = {Path(str(i.fspath)).name for i in items if Path(str(i.fspath)).parent == table.HERE}


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Generator[None, Any, None]:
    outcome = yield
    report: pytest.TestReport = outcome.get_result()
    if table.is_script(item) and (report.when == "call" or report.outcome != "passed"):
        table.RESULTS.record(item, report)
