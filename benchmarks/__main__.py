"""Run every benchmark and write its markdown table: python -m benchmarks [--quick]"""

from __future__ import annotations

import sys
from pathlib import Path

from benchmarks import codec, e2e

RESULTS = Path(__file__).resolve().parent / "results"


def main() -> int:
    quick = "--quick" in sys.argv[1:]
    codec.main(["--repeat", "3" if quick else "9", "--seconds", "0.02" if quick else "0.1", "--out", str(RESULTS / "codec.md")])
    args = ["--stations", "1,10", "--idle", "200", "--repeat", "1"] if quick else []
    e2e.main([*args, "--out", str(RESULTS / "e2e.md")])
    return 0


if __name__ == "__main__":
    sys.exit(main())
