"""A long seeded monkey day at the desk: thousands of random clicks, wheel turns and key presses
on the demo project (offscreen). The test suite runs a few hundred; this runs many more.

    .venv/bin/python benchmarks/bench_monkey.py [--actions 3000] [--wheel 1500] [--seed 11]

Figures, each beside its floor and target:
- wheel turns alone add no change to the log (floor 0, target 0);
- the desk survives every action (target: all);
- ``check`` finds no damage afterwards (target: ok);
- milliseconds per action (floor: a bare event round trip on an empty widget).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--actions", type=int, default=3000)
    parser.add_argument("--wheel", type=int, default=1500)
    parser.add_argument("--seed", type=int, default=11)
    args = parser.parse_args()

    import pytest
    from PySide6.QtCore import Qt
    from PySide6.QtTest import QTest
    from PySide6.QtWidgets import QApplication, QWidget

    from cmo_desk.services import recovery
    from cmo_desk.services.demo import CODER_A, build_demo
    from cmo_desk.services.session import Session
    from cmo_desk.services.settings import Settings
    from cmo_desk.ui.main_window import MainWindow
    from tests.ui import monkey
    from tests.ui.conftest import ScriptedDialogs

    app = QApplication.instance() or QApplication([])
    folder = Path(tempfile.mkdtemp(prefix="cmo-monkey-"))
    os.environ["CMO_DESK_CONFIG_DIR"] = str(folder / "config")
    path = folder / "demo.cmo"
    build_demo(path).close()
    session = Session.open(path, coder=CODER_A)
    window = MainWindow(session, Settings.load(), dialogs=ScriptedDialogs())
    window.resize(1366, 768)
    window.show()
    window.open_study_by_label("Hanoi 2019")
    window.others_action.trigger()

    # floor: one click on an empty widget, with the same event processing
    empty = QWidget()
    empty.resize(200, 200)
    empty.show()
    start = time.perf_counter()
    for _ in range(500):
        QTest.mouseClick(empty, Qt.MouseButton.LeftButton)
        app.processEvents()
    floor_ms = (time.perf_counter() - start) * 1000 / 500
    empty.close()

    patch = pytest.MonkeyPatch()
    with monkey.nobody_waits(patch):
        before = session.store.change_count()
        for tab in range(window.coding_tabs.count()):
            window.coding_tabs.setCurrentIndex(tab)
            monkey.wheel_only(window, args.wheel // window.coding_tabs.count(), args.seed + tab)
        wheel_changes = session.store.change_count() - before
        start = time.perf_counter()
        done = monkey.run(window, args.actions, args.seed)
        per_action = (time.perf_counter() - start) * 1000 / max(1, args.actions)
    patch.undo()
    window.flush_edits()
    window.runner.wait(30000)
    written = session.store.change_count() - before
    window.close()
    session.close()
    report = recovery.check_project(path)

    print(f"wheel turns: {args.wheel}; changes they wrote: {wheel_changes} (floor 0, target 0)")
    print(f"actions survived: {sum(done.values())} of {args.actions} {done} "
          f"(target: all); changes written by the day: {written}")
    print(f"check after the day: {'ok' if report.ok else report.problems} (target: ok)")
    print(f"ms per action: {per_action:.1f} (floor {floor_ms:.2f}, target <= 50)")
    return 0 if wheel_changes == 0 and report.ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
