"""What one keystroke costs in the desk, through the desk's own path, as the project grows.

    python benchmarks/bench_keystroke.py [--rounds 7] [--large benchmarks/out/large-500.cmo]

Each figure is the wall time from the key press until the window has processed its events and
repainted the text: marking a selected passage (Ctrl+1), undoing it (Ctrl+Z), and saving a field
of the study form (typing, then Return). The floor is the same action on the five-study demo
project, measured in the same run; the target is 100 ms whatever the project size.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))
TARGET_MS = 100.0


def _settle(app: Any, window: Any) -> None:
    app.processEvents()
    window.doc_view.viewport().repaint()


def measure(path: Path, rounds: int) -> dict[str, float]:
    """Median milliseconds per action on one project (a copy is changed, not ``path``)."""
    from PySide6.QtCore import Qt
    from PySide6.QtTest import QTest
    from PySide6.QtWidgets import QApplication, QLineEdit

    from cmo_desk.services import coding
    from cmo_desk.services.session import Session
    from cmo_desk.services.settings import Settings
    from cmo_desk.ui.dialogs import Dialogs
    from cmo_desk.ui.main_window import MainWindow

    class Quiet(Dialogs):
        def error(self, message: str) -> None:
            raise RuntimeError(message)

    app = QApplication.instance() or QApplication([])
    session = Session.open(path, coder="Bench Coder")
    window = MainWindow(session, Settings.load(), dialogs=Quiet(None))
    window.resize(1366, 768)
    window.show()
    app.processEvents()
    model = window.study_model
    studies = [model.study(i) for i in range(model.rowCount()) if model.study(i).has_text]
    window.open_study(studies[len(studies) // 2].id)
    _settle(app, window)
    text = window.doc_view.text()
    marks, undos, saves = [], [], []
    window.activateWindow()
    for i in range(rounds):
        a = (20 + 97 * i) % max(1, len(text) - 60)
        window.doc_view.select_span(a, a + 40)
        window.doc_view.setFocus()
        start = time.perf_counter()
        QTest.keyClick(window.doc_view, Qt.Key.Key_1, Qt.KeyboardModifier.ControlModifier)
        _settle(app, window)
        marks.append(time.perf_counter() - start)
        if i % 2:
            start = time.perf_counter()
            QTest.keyClick(window.doc_view, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
            _settle(app, window)
            undos.append(time.perf_counter() - start)
    window.coding_tabs.setCurrentWidget(window.form_holder)
    edit = window.study_form.findChild(QLineEdit, "field_region")
    for i in range(rounds):
        edit.setFocus()
        edit.selectAll()
        QTest.keyClicks(edit, f"Region {i}")
        start = time.perf_counter()
        QTest.keyClick(edit, Qt.Key.Key_Return)
        _settle(app, window)
        saves.append(time.perf_counter() - start)
        assert coding.form_values(session, window.study_id)["region"] == f"Region {i}"
    window.close()
    session.close()
    return {"mark a passage (Ctrl+1)": statistics.median(marks) * 1000,
            "undo it (Ctrl+Z)": statistics.median(undos) * 1000,
            "save a form field (Return)": statistics.median(saves) * 1000}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--rounds", type=int, default=7)
    ap.add_argument("--large", type=Path, default=ROOT / "benchmarks" / "out" / "large-500.cmo")
    args = ap.parse_args()
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    print(f"machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}")
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        os.environ["CMO_DESK_CONFIG_DIR"] = str(work / "config")
        from cmo_desk.services.demo import build_demo

        demo = work / "demo.cmo"
        build_demo(demo).close()
        floor = measure(demo, args.rounds)
        if not args.large.exists():
            from largeproject import cached_large_project

            args.large = cached_large_project()
        copy = work / "large.cmo"
        shutil.copyfile(args.large, copy)
        large = measure(copy, args.rounds)
    print(f"{'action':32} {'500 studies':>12} {'floor (demo)':>13} {'target':>8}")
    for name, ms in large.items():
        verdict = "ok" if ms <= TARGET_MS else "OVER"
        print(f"{name:32} {ms:9.0f} ms {floor[name]:10.0f} ms {TARGET_MS:5.0f} ms  {verdict}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
