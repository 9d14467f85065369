"""docs/conformance.md is what the catalogue and this run's script outcomes make of it."""

from __future__ import annotations

import os

import pytest

from tests.conformance import table


def test_the_conformance_table_is_current() -> None:
    if not table.RESULTS.complete:
        pytest.skip("only part of tests/conformance ran: the table needs every script's outcome")
    rendered = table.render(table.RESULTS)
    if os.environ.get(table.WRITE):
        table.DOC.write_text(rendered)
    assert table.DOC.read_text() == rendered, "docs/conformance.md is stale: run python -m tests.conformance.table"


def test_the_catalogue_lists_the_core_profile_once() -> None:
    """The 237 test cases of 2.0.1 Part 5 section 4.2, each once (render() refuses a side that
    has neither a script nor a reason)."""
    data = table.catalogue()
    ids = [tc["id"] for tc in data["tc"]]  # type: ignore[index, union-attr, attr-defined]
    assert len(ids) == len(set(ids)) == 237
