"""The merge state machine of tests/teamwork with many examples (the test suite runs about 100).

Usage: python benchmarks/bench_merge_properties.py [--examples N] [--steps S]
Prints how many examples ran (and every 100, the count so far), the time taken, and the target:
10,000 examples with every guarantee of MERGE.md holding after every step.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT))

from hypothesis import HealthCheck, settings  # noqa: E402
from hypothesis.stateful import run_state_machine_as_test  # noqa: E402

from teamwork.test_merge_properties import MergeMachine  # noqa: E402

TARGET = 10_000


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--examples", type=int, default=TARGET)
    parser.add_argument("--steps", type=int, default=15)
    args = parser.parse_args()
    count = [0]
    started = time.perf_counter()

    class Counted(MergeMachine):
        def teardown(self) -> None:
            super().teardown()
            count[0] += 1
            if count[0] % 100 == 0:
                print(f"  {count[0]} examples so far ({time.perf_counter() - started:.0f} s)",
                      flush=True)

    ok = True
    try:
        run_state_machine_as_test(Counted, settings=settings(
            max_examples=args.examples, stateful_step_count=args.steps, deadline=None,
            database=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much]))
    except Exception as err:  # noqa: BLE001 - the failing example is printed by hypothesis
        ok = False
        print(f"FAILED: {type(err).__name__}: {err}", flush=True)
    elapsed = time.perf_counter() - started
    print(f"merge state machine: {count[0]} examples run in {elapsed:.0f} s "
          f"(target {TARGET}, {args.steps} steps each): {'all passed' if ok else 'FAILED'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
