"""The coding desk's figures: cold start, opening a long PDF study with 300 highlights, memory.

    .venv/bin/python benchmarks/bench_desk.py [--rounds 3] [--large benchmarks/out/large-500.cmo]

- cold start: a fresh process runs the desk on the demo project (offscreen) and quits as soon as
  the main window is shown (the CMO_DESK_QUIT_WHEN_SHOWN switch); wall time and the time the
  desk reports from its own start;
- opening the 46-page corpus PDF study with 300 highlights: the study is imported through the
  import service, 300 excerpts are added, then ``MainWindow.open_study`` is timed until the
  window has processed its events (median of rounds);
- peak resident memory (ru_maxrss) of a desk process with the 500-study benchmark project open.
Targets (issue 4): start <= 1.5 s, open <= 300 ms, memory <= 300 MB.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CORPUS_PDF = ROOT / ".." / "shared" / "corpus" / "pdf" / "jss-2007-mullen-46pages.pdf"
sys.path.insert(0, str(ROOT))


def child_run(args: list[str], env: dict[str, str]) -> tuple[float, float, str]:
    """Wall seconds, peak RSS (MiB) and stdout of one desk process."""
    start = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "cmo_desk", *args], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, cwd=ROOT)
    assert proc.stdout is not None
    out = proc.stdout.read().decode()
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    return time.perf_counter() - start, usage.ru_maxrss / 1024, out


def desk_env(config: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.update(QT_QPA_PLATFORM="offscreen", CMO_DESK_QUIT_WHEN_SHOWN="1",
               CMO_DESK_CONFIG_DIR=str(config), CMO_DESK_CODER="Bench Coder")
    return env


def cold_start(work: Path, rounds: int) -> None:
    from cmo_desk.services.demo import build_demo

    demo = work / "demo.cmo"
    env = desk_env(work / "config")
    os.environ["CMO_DESK_CONFIG_DIR"] = env["CMO_DESK_CONFIG_DIR"]
    build_demo(demo).close()
    walls, shown, rss = [], [], []
    for _ in range(rounds):
        wall, mem, out = child_run([str(demo)], env)
        walls.append(wall)
        rss.append(mem)
        for line in out.splitlines():
            if line.startswith("window_shown_s="):
                shown.append(float(line.split("=", 1)[1]))
    print(f"cold start, demo project: process wall {statistics.median(walls):.2f} s, "
          f"window shown {statistics.median(shown):.2f} s after the desk module loaded "
          f"(median of {rounds}); peak RSS {statistics.median(rss):.0f} MiB")


def open_long_pdf(work: Path, rounds: int) -> None:
    if not CORPUS_PDF.exists():
        print("open 46-page PDF: skipped (corpus not found)")
        return
    os.environ["QT_QPA_PLATFORM"] = "offscreen"
    from cmo_desk.services import importing
    from cmo_desk.services.projects import new_project
    from cmo_desk.services.settings import Settings

    path = work / "pdf.cmo"
    session = new_project(path, coder="Bench Coder")
    importing.import_paths(session, [CORPUS_PDF.resolve()])
    doc = session.store.list("document")[0]
    text = doc.text or ""
    rnd = random.Random(4)
    with session.write() as uow:
        for _ in range(300):
            a = rnd.randrange(0, max(1, len(text) - 400))
            b = a + rnd.randint(30, 350)
            uow.create("excerpt", {"document_id": doc.id, "study_id": doc.study_id, "start": a,
                                   "end": b, "quote": text[a:b], "page": doc.page_at(a),
                                   "role": rnd.choice(["context", "mechanism", "outcome",
                                                       "other"]),
                                   "owner_id": session.coder_id})
    from cmo_desk.services.coding import add_study

    other, _ = add_study(session, {"label": "Empty study"})

    from PySide6.QtWidgets import QApplication

    from cmo_desk.ui.main_window import MainWindow
    from cmo_desk.ui.theme import apply_theme

    app = QApplication.instance() or QApplication([])
    apply_theme(app)  # type: ignore[arg-type]
    window = MainWindow(session, Settings.load())
    window.resize(1366, 768)
    window.show()
    app.processEvents()
    times = []
    for _ in range(rounds):
        window.open_study(other)
        app.processEvents()
        start = time.perf_counter()
        window.open_study(doc.study_id or "")
        app.processEvents()
        window.doc_view.viewport().repaint()
        times.append(time.perf_counter() - start)
    shown = len(window.doc_view._highlights)
    print(f"open the 46-page PDF study ({len(text):,} characters, {doc.page_count} pages) with "
          f"{shown} highlights: {statistics.median(times) * 1000:.0f} ms (median of {rounds})")
    window.close()
    session.close()


def large_memory(work: Path, large: Path | None) -> None:
    if large is None or not large.exists():
        print("memory with the 500-study project: skipped (generate it with "
              "benchmarks/largeproject.py or give --large)")
        return
    copy = work / "large.cmo"
    shutil.copyfile(large, copy)
    wall, mem, out = child_run([str(copy)], desk_env(work / "config"))
    print(f"500-study project open in the desk: peak RSS {mem:.0f} MiB, process wall {wall:.2f} s")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--large", type=Path, default=ROOT / "benchmarks" / "out" / "large-500.cmo")
    args = ap.parse_args()
    print(f"machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}")
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        cold_start(work, args.rounds)
        large_memory(work, args.large)
        open_long_pdf(work, max(args.rounds, 5))
    return 0


if __name__ == "__main__":
    sys.exit(main())
