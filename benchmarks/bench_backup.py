"""Size on disk, time and peak memory of one backup of the 500-study project, and of restoring it.

    python benchmarks/bench_backup.py [--large benchmarks/out/large-500.cmo]

Each step runs in its own process. The floor is the plain (uncompressed) SQLite copy that backups
used to be, made in the same run; the targets are a backup of at most half the project's size on
disk (so the cap of three times the project holds six or more backups, not three) and a peak
memory within 50 MiB of the floor (the file is streamed, never held in memory).
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
TARGET_SIZE_SHARE = 0.5
TARGET_EXTRA_MIB = 50

STEPS = {
    "plain": "from cmo_desk.store import backups as b; b.copy_database(P(a[1]), P(a[2]))",
    "compressed": "from cmo_desk.store import backups as b; print(b.make_backup(P(a[1]), 'manual'))",
    "restore": "from cmo_desk.store import backups as b; b.replace_with_copy(P(a[1]), P(a[2]))",
}


def run(step: str, *args: str) -> tuple[float, float, str]:
    """Wall seconds, peak RSS (MiB) and output of one step in a child process."""
    code = f"import sys; from pathlib import Path as P; a = sys.argv; {STEPS[step]}"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    start = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-c", code, *args], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    out = proc.stdout.read().decode() if proc.stdout else ""
    if os.waitstatus_to_exitcode(status) != 0:
        err = proc.stderr.read().decode() if proc.stderr else ""
        raise SystemExit(f"the {step} step failed: {err.strip().splitlines()[-1:]}")
    return wall, usage.ru_maxrss / 1024, out.strip()


def main() -> int:
    from largeproject import large_project_from_command_line

    large = large_project_from_command_line(__doc__)  # the cached project unless --large
    with tempfile.TemporaryDirectory() as tmp:
        project = Path(tmp) / "large.cmo"
        shutil.copyfile(large, project)
        size = project.stat().st_size
        plain = Path(tmp) / "plain-copy.cmo"
        floor_wall, floor_rss, _ = run("plain", str(project), str(plain))
        floor_size = plain.stat().st_size
        plain.unlink()
        wall, rss, made = run("compressed", str(project))
        packed = Path(made).stat().st_size
        back_wall, back_rss, _ = run("restore", str(project), made)
    mib = 2**20
    share = packed / size
    print(f"backup of the 500-study project ({size / mib:.0f} MiB file; load "
          f"{os.getloadavg()[0]:.1f})")
    print(f"size on disk {packed / mib:7.1f} MiB  floor (plain copy) {floor_size / mib:7.1f} MiB  "
          f"target <= {TARGET_SIZE_SHARE:.0%} of the project ({share:.0%})  "
          f"{'ok' if share <= TARGET_SIZE_SHARE else 'OVER'}")
    print(f"peak memory  {rss:7.0f} MiB  floor (plain copy) {floor_rss:7.0f} MiB  target <= "
          f"floor + {TARGET_EXTRA_MIB} MiB  "
          f"{'ok' if rss <= floor_rss + TARGET_EXTRA_MIB else 'OVER'}")
    print(f"wall         {wall:7.1f} s    floor (plain copy) {floor_wall:7.1f} s    (report)")
    print(f"restore      {back_wall:7.1f} s    peak memory {back_rss:.0f} MiB  (report)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
