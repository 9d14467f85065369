"""The build benchmark's table (no build is timed here: `python -m benchmarks.build` reports it)."""

from __future__ import annotations

from benchmarks import build


def test_build_table_reports_both_builds_and_the_load() -> None:
    samples = {
        "ours": {"cold": [(3.0, 5.0), (3.2, 5.1), (2.9, 4.9)], "warm": [(0.4, 0.4)] * 3},
        "reference": {"cold": [(6.0, 11.0), (6.4, 11.2), (5.9, 10.9)], "warm": [(0.5, 0.5)] * 3},
    }
    text = build.table({"samples": samples, "load": (2.5, 3.0), "repeat": 3, "jobs": None})
    assert "| ours | cold | 3.00 (2.90-3.20) | 5.00 (4.90-5.10) |" in text
    assert "| reference | cold | 6.00 (5.90-6.40) |" in text
    assert "cold: ours / reference wall time 0.50x" in text
    assert "load average 2.5 before, 3.0 after" in text
