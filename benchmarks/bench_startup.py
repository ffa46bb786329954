"""Start-up, memory and open-time costs of the desk and of commands: each figure beside its floor,
measured in the same run, and its target.

    python benchmarks/bench_startup.py [--rounds 5] [--binary dist/cmo-desk/cmo-desk]
                                       [--large benchmarks/out/large-500.cmo]

- ``--version``, ``info`` (floor: a bare Python counting the file's rows with sqlite3) and ``new``;
- the desk's painted window (floor: a bare PySide6 window), timed by this script from starting the
  process to the line the desk prints once its window is painted (CMO_DESK_QUIT_WHEN_SHOWN);
  then when its lists are filled and the first study is shown, on the demo and the 500-study project;
- peak resident memory of those runs; what opening costs on the large project: quick check, backup
  on open, lock.

Every child runs from compiled bytecode kept in a temporary cache (as an installed copy does: pip and
the built program ship it), so a checkout run with PYTHONDONTWRITEBYTECODE does not time the
compiler. Rounds are interleaved (floor, then figure) so that a busy machine hits both alike, and
each run starts once what earlier runs wrote is on disk (the desk's first backup of the 400 MB
project would otherwise be written back during the next runs).
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


def run_measured(cmd: list[str], env: dict[str, str]) -> tuple[float, float, dict[str, float]]:
    """Wall seconds, peak RSS in MiB, and when (seconds after starting it, as seen from here)
    the child printed each ``NAME_s=`` line."""
    os.sync()  # what earlier runs wrote (a first backup of a large project) is not timed here
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    marks: dict[str, float] = {}
    assert proc.stdout is not None
    for raw in proc.stdout:
        line = raw.decode(errors="replace")
        if "_s=" in line:
            name, value = line.strip().split("_s=", 1)
            # NAME_cpu_s=: the CPU seconds the child had used then (steadier on a busy machine)
            marks.setdefault(name, float(value) if name.endswith("_cpu")
                             else time.perf_counter() - start)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    err = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise RuntimeError(f"{cmd[:3]} failed: {err[-800:]}")
    return wall, usage.ru_maxrss / 1024, marks


class Runs:
    """Interleaved rounds of several commands; medians of wall time, peak memory and marks."""

    def __init__(self, rounds: int, env: dict[str, str]) -> None:
        self.rounds, self.env = rounds, env

    def measure(self, *cmds: list[str]) -> list[tuple[float, float, dict[str, float]]]:
        got: list[list[tuple[float, float, dict[str, float]]]] = [[] for _ in cmds]
        for cmd in cmds:  # warm the disk cache and the bytecode cache first
            run_measured(cmd, self.env)
        for _ in range(self.rounds):
            for i, cmd in enumerate(cmds):
                got[i].append(run_measured(cmd, self.env))
        out = []
        for runs in got:
            names = set.intersection(*(set(m) for _, _, m in runs))
            out.append((statistics.median(w for w, _, _ in runs),
                        statistics.median(r for _, r, _ in runs),
                        {n: statistics.median(m[n] for _, _, m in runs) for n in names}))
        return out


def fmt(label: str, wall: float, rss: float | None = None) -> None:
    mem = f"  {rss:6.0f} MiB peak RSS" if rss is not None else ""
    print(f"{label:<48} {wall:6.2f} s{mem}")


def compare(label: str, wall: float, floor: float, target: str, ok: bool) -> None:
    """One figure beside its floor (measured in the same run) and its target."""
    print(f"{label:<48} {wall:6.2f} s  floor {floor:5.2f} s  = {wall / floor:4.1f}x  "
          f"target {target:<10} {'ok' if ok else 'OVER'}")


BARE_WINDOW = (
    "import time\n"
    "t = time.perf_counter()\n"
    "from PySide6.QtCore import QTimer\n"
    "from PySide6.QtWidgets import QApplication, QMainWindow\n"
    "app = QApplication([])\n"
    "w = QMainWindow(); w.resize(1366, 768); w.show(); w.repaint()\n"
    "def shown():\n"
    "    print(f'window_shown_s={time.perf_counter() - t:.3f}', flush=True)\n"
    "    print(f'window_shown_cpu_s={time.process_time():.3f}', flush=True)\n"
    "    app.quit()\n"
    "QTimer.singleShot(0, shown)\n"
    "app.exec()\n")

BARE_INFO = (
    "import sqlite3, sys\n"
    "con = sqlite3.connect('file:' + sys.argv[1] + '?mode=ro', uri=True)\n"
    "tables = [t for (t,) in con.execute(\"SELECT name FROM sqlite_master WHERE type='table' \"\n"
    "                                   \"AND name NOT LIKE 'search_pages%'\")]\n"
    "print({t: con.execute(f'SELECT count(*) FROM \"{t}\"').fetchone()[0] for t in tables})\n")


def desk_figures(label: str, runs: Runs, cmd: list[str], window: list[str], times: float) -> None:
    """The painted window against the bare one, then the lists and the first study."""
    (floor, _, floor_marks), (wall, rss, marks) = runs.measure(window, cmd)
    bare = floor_marks.get("window_shown", floor)
    painted = marks["window_shown"]
    compare(f"painted window, {label}", painted, bare, f"<= {times:g}x", painted <= times * bare)
    if "window_shown_cpu" in marks and "window_shown_cpu" in floor_marks:
        compare("  CPU time until painted", marks["window_shown_cpu"],
                floor_marks["window_shown_cpu"], "(report)", True)
    for mark, what in (("lists_shown", "lists filled"), ("study_shown", "first study shown")):
        if mark in marks:
            compare(f"  {what}", marks[mark], bare, "(report)", True)
    fmt("  whole run, until the desk quits", wall, rss)


DEFAULT_LARGE = ROOT / "benchmarks" / "out" / "large-500.cmo"


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--binary", type=Path, default=ROOT / "dist" / "cmo-desk" / "cmo-desk")
    ap.add_argument("--large", type=Path, default=DEFAULT_LARGE)
    args = ap.parse_args()

    work = Path(tempfile.mkdtemp(prefix="cmo-bench-"))
    env = {**os.environ, "CMO_DESK_CONFIG_DIR": str(work / "cfg"), "XDG_DATA_HOME": str(work),
           "QT_QPA_PLATFORM": "offscreen", "CMO_DESK_QUIT_WHEN_SHOWN": "1",
           "CMO_DESK_CODER": "Lan Nguyen", "PYTHONPYCACHEPREFIX": str(work / "pyc"),
           "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    py = sys.executable
    demo = work / "demo.cmo"
    subprocess.run([py, "-m", "cmo_desk", "demo", str(demo)], env=env, check=True,
                   capture_output=True)
    runs = Runs(args.rounds, env)

    print(f"CMO Desk start-up, median of {args.rounds} interleaved rounds "
          f"({os.cpu_count()} cores, load {os.getloadavg()[0]:.1f}, "
          f"Python {sys.version.split()[0]})")
    (bare, _, _), (wall, _, _) = runs.measure([py, "-c", "pass"],
                                              [py, "-m", "cmo_desk", "--version"])
    compare("cmo-desk --version (floor: bare python)", wall, bare, "<= 0.15 s", wall <= 0.15)
    (floor, _, _), (wall, rss, _) = runs.measure([py, "-c", BARE_INFO, str(demo)],
                                                 [py, "-m", "cmo_desk", "info", str(demo)])
    compare("cmo-desk info DEMO (floor: sqlite3 counts)", wall, floor, "<= 8x", wall <= 8 * floor)
    made: list[Path] = []

    def new_path() -> str:
        made.append(work / f"new-{len(made)}.cmo")
        return str(made[-1])

    walls = [run_measured([py, "-m", "cmo_desk", "new", new_path()], env)[0]
             for _ in range(args.rounds)]
    compare("cmo-desk new (floor: bare python)", statistics.median(walls), bare, "(report)", True)

    window = [py, "-c", BARE_WINDOW]
    desk_figures("demo (floor: bare window)", runs, [py, "-m", "cmo_desk", str(demo)],
                 window, 2.5)
    if args.binary.exists():
        wall, rss, _ = run_measured([str(args.binary), "--version"], env)
        fmt("built program --version", wall, rss)
        desk_figures("demo, built program", runs, [str(args.binary), str(demo)], window, 2.5)
    else:
        print(f"(no built program at {args.binary}; run packaging/build_linux.sh)")

    if args.large.exists():
        if args.large == DEFAULT_LARGE:
            sys.path.insert(0, str(ROOT / "benchmarks"))
            from largeproject import cached_large_project

            cached_large_project()  # a cached file of an older layout is upgraded first
        large = work / "large.cmo"
        shutil.copy(args.large, large)
        with open(large, "rb+") as fh:  # on disk now: its write-back is not timed with the desk
            os.fsync(fh.fileno())
        size = large.stat().st_size / 2**20
        (floor, _, _), (wall, rss, _) = runs.measure([py, "-c", BARE_INFO, str(large)],
                                                     [py, "-m", "cmo_desk", "info", str(large)])
        compare("cmo-desk info, 500 studies (floor: sqlite3)", wall, floor, "<= 8x",
                wall <= 8 * floor)
        desk_figures("500 studies", runs, [py, "-m", "cmo_desk", str(large)], window, 3)
        if args.binary.exists():
            desk_figures("500 studies, built", runs, [str(args.binary), str(large)], window, 3)
        sys.path.insert(0, str(ROOT))
        from cmo_desk.store import backups, locking

        t = time.perf_counter()
        backups.quick_check(large)
        fmt(f"quick check on open ({size:.0f} MB file)", time.perf_counter() - t)
        t = time.perf_counter()
        made_backup = backups.make_backup(large, "open")
        fmt("backup on open (at most once per 30 min)", time.perf_counter() - t)
        made_backup.unlink()
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
