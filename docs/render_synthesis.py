"""Screenshots of the synthesis workspace (English and Chinese), for docs/synthesis.md.

    QT_QPA_PLATFORM=offscreen python docs/render_synthesis.py DEMO.cmo [-o docs]

Opens the desk on the project at 1366×768, opens Team → Synthesis, shows the evidence matrix
with a cell clicked (and the review CMOC tab), and saves each as PNG.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("project", type=Path)
    ap.add_argument("-o", "--out", type=Path, default=Path(__file__).resolve().parent)
    args = ap.parse_args()
    from PySide6.QtTest import QTest
    from PySide6.QtCore import Qt
    from PySide6.QtWidgets import QApplication

    from cmo_desk.domain.i18n import set_language
    from cmo_desk.services.session import Session
    from cmo_desk.services.settings import Settings
    from cmo_desk.ui.main_window import MainWindow
    from cmo_desk.ui.synthesis_view import open_synthesis

    app = QApplication.instance() or QApplication([])
    for lang, suffix in (("en", ""), ("zh_CN", "-zh")):
        set_language(lang)
        session = Session.open(args.project, coder="Lan Nguyen", read_only=True)
        window = MainWindow(session, Settings.load())
        window.resize(1366, 768)
        window.show()
        view = open_synthesis(window)
        view.move(0, 0)
        view.resize(1340, 700)
        app.processEvents()
        view.tabs.setCurrentIndex(1)
        rows = [view.matrix.verticalHeaderItem(i).text() for i in range(view.matrix.rowCount())]
        rect = view.matrix.visualRect(view.matrix.model().index(rows.index("Odessa 2017"), 0))
        QTest.mouseClick(view.matrix.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
        app.processEvents()
        view.grab().save(str(args.out / f"screenshot-synthesis{suffix}.png"))
        view.tabs.setCurrentIndex(0)
        app.processEvents()
        view.grab().save(str(args.out / f"screenshot-synthesis-editor{suffix}.png"))
        view.close()
        window.close()
        session.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
