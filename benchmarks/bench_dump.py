"""Peak memory and time of ``cmo-desk dump`` on the 500-study project, written to /dev/null.

    python benchmarks/bench_dump.py [--large benchmarks/out/large-500.cmo]

The floor is ``cmo-desk info`` on the same file in the same run (the same start-up, opening and
lock, but no content read); the target is a peak of at most 200 MiB.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))
TARGET_MIB = 200


def peak(cmd: list[str], env: dict[str, str]) -> tuple[float, float]:
    """Wall seconds and peak RSS (MiB) of a child whose output is thrown away."""
    start = time.perf_counter()
    with open(os.devnull, "wb") as sink:
        proc = subprocess.Popen(cmd, env=env, stdout=sink, stderr=subprocess.PIPE)
        _, status, usage = os.wait4(proc.pid, 0)
    if os.waitstatus_to_exitcode(status) != 0:
        raise RuntimeError(f"{cmd[2:4]} failed: {proc.stderr.read().decode()[-500:]}")
    return time.perf_counter() - start, usage.ru_maxrss / 1024


def main() -> int:
    from largeproject import large_project_from_command_line

    large = large_project_from_command_line(__doc__)  # the cached project unless --large
    with tempfile.TemporaryDirectory() as tmp:
        copy = Path(tmp) / "large.cmo"
        shutil.copyfile(large, copy)
        env = {**os.environ, "CMO_DESK_CONFIG_DIR": str(Path(tmp) / "cfg"),
               "PYTHONPATH": str(ROOT)}
        py = [sys.executable, "-m", "cmo_desk"]
        floor_wall, floor_rss = peak([*py, "info", str(copy)], env)
        wall, rss = peak([*py, "dump", str(copy)], env)
    size = large.stat().st_size / 2**20
    print(f"cmo-desk dump, 500-study project ({size:.0f} MiB file; load "
          f"{os.getloadavg()[0]:.1f})")
    print(f"peak memory {rss:6.0f} MiB  floor (info) {floor_rss:5.0f} MiB  target <= "
          f"{TARGET_MIB} MiB  {'ok' if rss <= TARGET_MIB else 'OVER'}")
    print(f"wall        {wall:6.2f} s    floor (info) {floor_wall:5.2f} s  (report)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
