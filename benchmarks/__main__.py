"""Run every benchmark and write its markdown table: python -m benchmarks [--quick]

--quick: tiny sizes (a check that everything runs, not numbers to publish). The full run
measures N=100 and N=1000 end to end, the descriptor limit's worth of idle stations, and
storms of 10,000 stations and of the most the limit allows: it takes about half an hour on
the 2-core machine and opens up to 20,000 connections, so run it on a quiet machine.
"""

from __future__ import annotations

import sys
from pathlib import Path

from benchmarks import build, codec, e2e, idle, profile, storm

RESULTS = Path(__file__).resolve().parent / "results"


def main() -> int:
    quick = "--quick" in sys.argv[1:]
    codec.main(["--repeat", "3" if quick else "9", "--seconds", "0.02" if quick else "0.1", "--out", str(RESULTS / "codec.md")])
    e2e.main([*(["--stations", "10", "--repeat", "1"] if quick else []), "--out", str(RESULTS / "e2e.md")])
    build.main([*(["--repeat", "1"] if quick else []), "--out", str(RESULTS / "build.md")])
    profile.main([*(["--stations", "10", "--calls-per-station", "50"] if quick else []), "--out", str(RESULTS / "profile.md")])
    idle.main([*(["--stations", "200", "--per-process", "100"] if quick else []), "--out", str(RESULTS / "idle.md")])
    storm.main([*(["--stations", "200", "--per-process", "100", "--admission", "100,50,10"] if quick else []),
                "--out", str(RESULTS / "storm.md")])
    return 0


if __name__ == "__main__":
    sys.exit(main())
