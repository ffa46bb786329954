"""Long property runs, kept out of the everyday test run (which takes about 100 examples).

    python benchmarks/soak_properties.py [--examples 10000] [PYTEST_ARGS ...]

Runs the property tests with the ``soak`` hypothesis profile (tests/conftest.py) and the merge
state machine with CMO_MERGE_EXAMPLES examples. Tests that fix their own ``max_examples`` keep
it. Prints the wall time beside the floor of the same tests at the everyday count.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PROPERTY_TESTS = ["tests/teamwork/test_merge_properties.py", "tests/store/test_aggregates.py",
                  "tests/store/test_dump_stream.py", "tests/domain/test_changelog.py"]


def run(examples: int, extra: list[str]) -> float:
    env = {**os.environ, "HYPOTHESIS_PROFILE": "soak" if examples > 100 else "default",
           "CMO_MERGE_EXAMPLES": str(examples), "QT_QPA_PLATFORM": "offscreen",
           "PYTHONPATH": str(ROOT)}
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "pytest", "-q",
                           *(extra or PROPERTY_TESTS)], cwd=ROOT, env=env)
    if done.returncode != 0:
        raise SystemExit(done.returncode)
    return time.perf_counter() - start


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--examples", type=int, default=10_000)
    args, extra = ap.parse_known_args()
    floor = run(100, extra)
    wall = run(args.examples, extra)
    print(f"property tests at {args.examples} examples: {wall:.0f} s  "
          f"floor (100 examples) {floor:.0f} s  (report; no target)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
