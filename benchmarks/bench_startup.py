"""Start-up, memory and open-time costs of the desk (figures printed, not asserted).

    python benchmarks/bench_startup.py [--rounds 3] [--binary dist/cmo-desk/cmo-desk]
                                       [--large benchmarks/out/large-500.cmo]

- import time of ``cmo_desk.cli.main`` (what every command pays);
- time to the first window of the installed package (``python -m cmo_desk DEMO``) and, when built,
  of the one-folder program, using the desk's CMO_DESK_QUIT_WHEN_SHOWN switch (offscreen);
- peak resident memory of those runs, with the demo and with the 500-study project open;
- what opening costs on the large project: quick check, backup on open, lock.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def run_measured(cmd: list[str], env: dict[str, str]) -> tuple[float, float, str]:
    """Wall seconds, peak RSS in MiB, and stdout of one child process."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    out = proc.stdout.read().decode(errors="replace") if proc.stdout else ""
    err = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise RuntimeError(f"{cmd[:3]} failed: {err[-800:]}")
    return wall, usage.ru_maxrss / 1024, out


def median_of(rounds: int, cmd: list[str], env: dict[str, str]) -> tuple[float, float, float | None]:
    walls, rss, shown = [], [], []
    for _ in range(rounds):
        wall, peak, out = run_measured(cmd, env)
        walls.append(wall)
        rss.append(peak)
        for line in out.splitlines():
            if line.startswith("window_shown_s="):
                shown.append(float(line.split("=")[1]))
    return (statistics.median(walls), statistics.median(rss),
            statistics.median(shown) if shown else None)


def fmt(label: str, wall: float, rss: float | None = None, shown: float | None = None) -> None:
    extra = f"  (window shown at {shown:.2f} s inside the process)" if shown else ""
    mem = f"  {rss:6.0f} MiB peak RSS" if rss is not None else ""
    print(f"{label:<48} {wall:6.2f} s{mem}{extra}")


def compare(label: str, wall: float, floor: float, target: str, ok: bool) -> None:
    """One figure beside its floor (measured in the same run) and its target."""
    print(f"{label:<44} {wall:6.2f} s  floor {floor:5.2f} s  = {wall / floor:4.1f}x  "
          f"target {target:<16} {'ok' if ok else 'OVER'}")


BARE_WINDOW = (
    "from PySide6.QtCore import QTimer\n"
    "from PySide6.QtWidgets import QApplication, QMainWindow\n"
    "app = QApplication([])\n"
    "w = QMainWindow(); w.resize(1366, 768); w.show()\n"
    "QTimer.singleShot(0, app.quit)\n"
    "app.exec()\n")

BARE_INFO = (
    "import sqlite3, sys\n"
    "con = sqlite3.connect('file:' + sys.argv[1] + '?mode=ro', uri=True)\n"
    "tables = [t for (t,) in con.execute(\"SELECT name FROM sqlite_master WHERE type='table' \"\n"
    "                                   \"AND name NOT LIKE 'search_pages%'\")]\n"
    "print({t: con.execute(f'SELECT count(*) FROM \"{t}\"').fetchone()[0] for t in tables})\n")


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--binary", type=Path, default=ROOT / "dist" / "cmo-desk" / "cmo-desk")
    ap.add_argument("--large", type=Path, default=ROOT / "benchmarks" / "out" / "large-500.cmo")
    args = ap.parse_args()

    work = Path(tempfile.mkdtemp(prefix="cmo-bench-"))
    env = {**os.environ, "CMO_DESK_CONFIG_DIR": str(work / "cfg"), "XDG_DATA_HOME": str(work),
           "QT_QPA_PLATFORM": "offscreen", "CMO_DESK_QUIT_WHEN_SHOWN": "1",
           "CMO_DESK_CODER": "Lan Nguyen"}
    py = sys.executable
    demo = work / "demo.cmo"
    subprocess.run([py, "-m", "cmo_desk", "demo", str(demo)], env=env, check=True,
                   capture_output=True)
    rounds = args.rounds

    def timed(cmd: list[str]) -> tuple[float, float, float | None]:
        return median_of(rounds, cmd, env)

    print(f"CMO Desk start-up, median of {rounds} rounds "
          f"({os.cpu_count()} cores, load {os.getloadavg()[0]:.1f}, "
          f"Python {sys.version.split()[0]})")
    bare, _, _ = timed([py, "-c", "pass"])
    wall, _, _ = timed([py, "-m", "cmo_desk", "--version"])
    compare("cmo-desk --version", wall, bare, "<= 0.15 s", wall <= 0.15)
    floor, _, _ = timed([py, "-c", BARE_INFO, str(demo)])
    wall, rss, _ = timed([py, "-m", "cmo_desk", "info", str(demo)])
    compare("cmo-desk info DEMO (floor: sqlite3 counts)", wall, floor, "<= 8x", wall <= 8 * floor)
    made: list[Path] = []

    def new_path() -> str:
        made.append(work / f"new-{len(made)}.cmo")
        return str(made[-1])

    walls = []
    for _ in range(rounds):
        walls.append(run_measured([py, "-m", "cmo_desk", "new", new_path()], env)[0])
    wall = statistics.median(walls)
    compare("cmo-desk new (floor: bare python)", wall, bare, "(report)", True)
    window, _, _ = timed([py, "-c", BARE_WINDOW])
    wall, rss, shown = timed([py, "-m", "cmo_desk", str(demo)])
    compare("first window, demo (floor: bare window)", wall, window, "<= 2.5x",
            wall <= 2.5 * window)
    fmt("  of which", wall, rss, shown)
    if args.binary.exists():
        wall, rss, _ = median_of(args.rounds, [str(args.binary), "--version"], env)
        fmt("built program --version", wall, rss)
        wall, rss, shown = median_of(args.rounds, [str(args.binary), str(demo)], env)
        fmt("first window, demo (built program)", wall, rss, shown)
    else:
        print(f"(no built program at {args.binary}; run packaging/build_linux.sh)")

    if args.large.exists():
        large = work / "large.cmo"
        shutil.copy(args.large, large)
        size = large.stat().st_size / 2**20
        for label, cmd in (("first window, 500-study project (package)",
                            [py, "-m", "cmo_desk", str(large)]),
                           ("first window, 500-study project (built)",
                            [str(args.binary), str(large)])):
            if cmd[0] == str(args.binary) and not args.binary.exists():
                continue
            wall, rss, shown = median_of(args.rounds, cmd, env)
            compare(label, wall, window, "<= 3x", wall <= 3 * window)
            fmt("  of which", wall, rss, shown)
        sys.path.insert(0, str(ROOT))
        from cmo_desk.store import backups, locking

        t = time.perf_counter()
        backups.quick_check(large)
        fmt(f"quick check on open ({size:.0f} MB file)", time.perf_counter() - t)
        t = time.perf_counter()
        made = backups.make_backup(large, "open")
        fmt("backup on open (at most once per 30 min)", time.perf_counter() - t)
        made.unlink()
        t = time.perf_counter()
        lock = locking.acquire(large, "bench")
        locking.release(lock)  # type: ignore[arg-type]
        fmt("take and release the lock", time.perf_counter() - t)
    else:
        print(f"(no large project at {args.large}; build it with benchmarks/largeproject.py)")
    shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
