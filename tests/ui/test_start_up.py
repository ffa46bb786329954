"""Starting the desk: the project file is opened once when it is known who is coding, the window
is painted before the first study fills it, and the first study still opens."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from cmo_desk.services.settings import Settings
from cmo_desk.store.project_store import ProjectStore
from cmo_desk.ui import app


def test_a_known_coder_opens_the_file_once(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    opened: list[Path] = []
    real = ProjectStore.open.__func__  # type: ignore[attr-defined]

    def counting(cls: Any, path: Any, **kw: Any) -> Any:
        opened.append(Path(path))
        return real(cls, path, **kw)

    monkeypatch.setattr(ProjectStore, "open", classmethod(counting))
    args = app.build_parser().parse_args([str(project), "--coder", "Lan Nguyen"])
    session, _ = app._open_session(args, Settings.load(), interactive=False)
    try:
        assert opened == [project]
        assert session.coder_name == "Lan Nguyen" and not session.read_only
    finally:
        session.close()

    opened.clear()
    args = app.build_parser().parse_args([str(project)])  # nobody named: read the coders first
    session, _ = app._open_session(args, Settings.load(), interactive=False)
    try:
        assert opened == [project, project]
        assert session.coder_name
    finally:
        session.close()


def test_the_window_is_shown_before_the_first_study_opens(project: Path) -> None:
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", app.QUIT_WHEN_SHOWN: "1",
           "CMO_DESK_CODER": "Lan Nguyen"}
    out = subprocess.run([sys.executable, "-m", "cmo_desk", str(project)], env=env,
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    times = dict(line.split("=") for line in out.stdout.splitlines() if "_s=" in line)
    assert float(times["window_shown_s"]) <= float(times["study_shown_s"])


PAINT_PROBE = """
import sys
from PySide6.QtWidgets import QMainWindow
from cmo_desk.ui import app
from cmo_desk.ui.main_window import MainWindow

painted = []
real_paint = MainWindow.paintEvent


def paint(self, event):
    painted.append(self.session is None)
    return real_paint(self, event)


MainWindow.paintEvent = paint
real_open = app._open_session


def style_name():
    from PySide6.QtWidgets import QApplication

    qapp = QApplication.instance()
    sheet = qapp.styleSheet()
    qapp.setStyleSheet("")  # (under a style sheet the style is a proxy without a name)
    name = qapp.style().name()
    qapp.setStyleSheet(sheet)
    return name


def probe(args, settings, interactive, parent=None):
    from cmo_desk.ui import no_wheel

    loaded = sorted({m.split('.')[0] for m in sys.modules} & {'sqlalchemy', 'alembic', 'pandas'})
    print('at_open', any(painted), parent.isVisible(), parent.centralWidget().isEnabled(),
          parent.study_title.text(), loaded, no_wheel._filter is not None,
          style_name(), all(hasattr(parent, pane) for pane in ('excerpt_panel', 'page_view',
                                                               'find_bar')),
          sep='|', flush=True)
    return real_open(args, settings, interactive, parent)


app._open_session = probe
sys.exit(app.run_desk(sys.argv[1:]))
"""


def _desk(project: Path, *argv: str, probe: str = PAINT_PROBE) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", app.QUIT_WHEN_SHOWN: "1",
           "CMO_DESK_CODER": "Lan Nguyen"}
    return subprocess.run([sys.executable, "-c", probe, str(project), *argv], env=env,
                          capture_output=True, text=True, timeout=120)


def test_the_window_is_painted_before_the_project_opens_or_the_database_library_loads(
        project: Path) -> None:
    out = _desk(project)
    assert out.returncode == 0, out.stderr[-2000:]
    probe = next(line for line in out.stdout.splitlines() if line.startswith("at_open"))
    _, painted, visible, enabled, title, loaded, wheel_guarded, style, panes = probe.split("|")
    # the panes the first frame does not show are made after it, before the project opens
    assert panes == "True"
    assert (painted, visible, enabled) == ("True", "True", "False")
    assert style == "fusion"  # named when the application is made, not set afterwards
    # the wheel guard comes after the first paint, yet before any question is asked
    assert wheel_guarded == "True"
    assert title == "Opening project.cmo…"
    assert loaded == "[]"
    times = dict(line.split("=") for line in out.stdout.splitlines() if "_s=" in line)
    assert float(times["window_shown_s"]) <= float(times["lists_shown_s"]) \
        <= float(times["study_shown_s"])


def test_a_project_that_cannot_be_opened_says_so_in_one_line_after_the_window(
        tmp_path: Path) -> None:
    bad = tmp_path / "notes.cmo"
    bad.write_bytes(b"These are my notes, not a project.\n" * 200)
    out = _desk(bad)
    assert out.returncode == 2
    # (the offscreen test display adds its own warnings; the desk's message is one line)
    err = "\n".join(line for line in out.stderr.strip().splitlines()
                    if "This plugin does not support" not in line)
    assert err and "\n" not in err and "Traceback" not in err, err
    assert "notes.cmo is not a CMO Desk project" in err
    assert "study_shown_s" not in out.stdout
    assert bad.read_bytes() == b"These are my notes, not a project.\n" * 200


def test_while_the_project_opens_nothing_can_be_typed_and_nothing_is_called_saved(
        qtbot: Any, project: Path) -> None:
    from PySide6.QtCore import Qt
    from PySide6.QtTest import QTest

    from cmo_desk.services.session import Session
    from cmo_desk.ui.main_window import MainWindow

    window = MainWindow(None, Settings.load(), opening=project.name)
    qtbot.addWidget(window)
    window.resize(1366, 768)
    window.show()
    qtbot.waitExposed(window)
    assert window.study_title.text() == "Opening project.cmo…"
    assert "saved" not in window.saved_label.text().lower()
    # keys and clicks that would write, before there is a project to write to
    QTest.keyClick(window.doc_view, Qt.Key.Key_N,
                   Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
    QTest.keyClick(window.doc_view, Qt.Key.Key_1, Qt.KeyboardModifier.ControlModifier)
    QTest.mouseClick(window.cmoc_panel.new_button, Qt.MouseButton.LeftButton)
    QTest.keyClick(window.study_filter, Qt.Key.Key_H)
    assert window.study_filter.text() == ""
    assert not window.menuBar().isEnabled() and not window.import_action.isEnabled()
    assert window.study_model.rowCount() == 0

    session = Session.open(project, coder="Lan Nguyen")
    before = session.log_mark()
    try:
        window.attach(session)
        assert session.log_mark() == before  # nothing was written while opening
        assert window.study_title.text() == "Choose a study on the left"
        assert window.saved_label.text() == "All changes saved"
        assert window.menuBar().isEnabled() and window.import_action.isEnabled()
        assert not window.undo_action.isEnabled()  # nothing to undo yet: stays off
        assert window.study_model.rowCount() == 5
        QTest.keyClicks(window.study_filter, "Hanoi")
        assert window.study_proxy.rowCount() == 1
        view = window.study_view
        QTest.mouseClick(view.viewport(), Qt.MouseButton.LeftButton,
                         pos=view.visualRect(window.study_proxy.index(0, 0)).center())
        assert window.study_id and window.document is not None
        assert window.study_title.text().startswith("Women who use drugs")
    finally:
        window.close()
        session.close()


def test_closing_the_window_while_the_project_opens_loses_nothing(qtbot: Any) -> None:
    from cmo_desk.ui.main_window import MainWindow

    window = MainWindow(None, Settings.load(), opening="p.cmo")
    qtbot.addWidget(window)
    window.show()
    qtbot.waitExposed(window)
    assert window.close()
    assert not window.isVisible()


def test_drop_downs_built_before_the_wheel_guard_still_ignore_the_wheel(
        qtbot: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """The first window is built before the wheel guard is installed (building is faster without
    it); the drop-downs it already holds must still not answer an unchosen wheel turn."""
    from PySide6.QtWidgets import (
        QApplication, QComboBox, QLineEdit, QScrollArea, QVBoxLayout, QWidget,
    )

    from PySide6.QtCore import Qt

    from cmo_desk.ui import no_wheel

    from .realinput import wheel

    qapp = QApplication.instance()
    earlier = no_wheel._filter
    if earlier is not None:
        qapp.removeEventFilter(earlier)
    monkeypatch.setattr(no_wheel, "_filter", None)
    area = QScrollArea()
    inner = QWidget()
    lay = QVBoxLayout(inner)
    first = QLineEdit()  # holds the focus, as the coder's typing does
    lay.addWidget(first)
    combos = []
    for _ in range(40):
        combo = QComboBox()
        combo.addItems(["draft", "submitted", "reconciled"])
        lay.addWidget(combo)
        combos.append(combo)
    area.setWidget(inner)
    area.resize(300, 200)
    qtbot.addWidget(area)
    area.show()
    qtbot.waitExposed(area)
    first.setFocus()
    try:
        no_wheel.install()
        assert not combos[0].hasFocus()
        # a wheel turn must not first give a box the focus (and then change it)
        assert {c.focusPolicy() for c in combos} == {Qt.FocusPolicy.StrongFocus}
        for _ in range(3):
            wheel(combos[0], -1)
        assert [c.currentIndex() for c in combos] == [0] * 40
        assert area.verticalScrollBar().value() > 0  # the turn scrolled the view instead
        assert not combos[0].hasFocus()
    finally:
        qapp.removeEventFilter(no_wheel._filter)
        if earlier is not None:
            qapp.installEventFilter(earlier)
        monkeypatch.setattr(no_wheel, "_filter", earlier)



def test_a_window_painted_before_its_project_opens_guards_its_drop_downs_once_attached(
        qtbot: Any, project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The wheel guard is installed after the first paint; once the project is attached, turning
    the wheel over a CMOC's drop-down still scrolls instead of changing the coded value."""
    from PySide6.QtWidgets import QApplication

    from cmo_desk.services.session import Session
    from cmo_desk.ui import no_wheel
    from cmo_desk.ui.main_window import MainWindow

    from .realinput import wheel

    qapp = QApplication.instance()
    earlier = no_wheel._filter
    if earlier is not None:
        qapp.removeEventFilter(earlier)
    monkeypatch.setattr(no_wheel, "_filter", None)
    window = MainWindow(None, Settings.load(), opening=project.name)
    qtbot.addWidget(window)
    window.resize(1366, 768)
    window.show()
    qtbot.waitExposed(window)
    assert no_wheel._filter is None  # not while building and painting the first frame
    session = Session.open(project, coder="Lan Nguyen")
    try:
        window.attach(session)
        assert no_wheel._filter is not None
        app._open_first_study(window)
        panel = window.cmoc_panel
        assert panel.model.rowCount(), "the demo's first study has CMOCs"
        panel.list.setCurrentIndex(panel.model.index(0, 0))
        box = panel.combos["confidence"]
        before = (box.currentIndex(), session.log_mark())
        for _ in range(3):
            wheel(box, -1)
        assert (box.currentIndex(), session.log_mark()) == before
        assert not box.hasFocus()
    finally:
        window.close()
        session.close()
        qapp.removeEventFilter(no_wheel._filter)
        if earlier is not None:
            qapp.installEventFilter(earlier)


FAILING_OPEN = """
import sqlite3, sys
from cmo_desk.ui import app

def failing(args, settings, interactive, parent=None):
    raise {error}

app._open_session = failing
sys.exit(app.run_desk(sys.argv[1:]))
"""


@pytest.mark.parametrize("error, words", [
    ("sqlite3.OperationalError('disk I/O error')", "read or write error"),
    ("OSError(28, 'No space left on device')", "full"),
])
def test_a_disk_that_fails_while_opening_is_named_in_one_line(project: Path, error: str,
                                                              words: str) -> None:
    out = _desk(project, probe=FAILING_OPEN.format(error=error))
    assert out.returncode == 2
    err = [line for line in out.stderr.strip().splitlines()
           if "This plugin does not support" not in line]
    assert len(err) == 1 and words in err[0] and "Traceback" not in out.stderr, out.stderr


def test_an_unexpected_failure_while_opening_ends_the_desk_instead_of_hanging(
        project: Path) -> None:
    out = _desk(project, probe=FAILING_OPEN.format(error="RuntimeError('boom')"))
    assert out.returncode != 0
    assert "RuntimeError: boom" in out.stderr
    assert "study_shown_s" not in out.stdout



SHEET_PROBE = """
import os, sys
from cmo_desk.ui import app, theme

if os.environ.get("SHEET_FIRST"):  # the style sheet set before the window is built
    real_theme, real_sheet = theme.apply_theme, theme.apply_style_sheet

    def sheet_first(qapp, style_sheet=True, style=True):
        real_theme(qapp, style_sheet=False, style=style)
        real_sheet(qapp)

    theme.apply_theme, theme.apply_style_sheet = sheet_first, lambda qapp: None
out = sys.argv[1]
real_open, real_grab = app._open_session, app._grab


def opening(args, settings, interactive, parent=None):
    parent.grab().save(out + "-opening.png")
    return real_open(args, settings, interactive, parent)


def opened(window, path):
    from PySide6.QtWidgets import QApplication
    for tab in range(window.coding_tabs.count()):  # the study form, the CMOCs, the excerpts
        window.coding_tabs.setCurrentIndex(tab)
        QApplication.processEvents()
        window.grab().save(f"{out}-tab{tab}.png")
    real_grab(window, path)


app._open_session, app._grab = opening, opened
sys.exit(app.run_desk(sys.argv[2:]))
"""


def test_the_style_sheet_set_once_the_window_is_built_paints_the_same_desk(
        project: Path, tmp_path: Path) -> None:
    """Start-up sets the style sheet after building the first window (it is then styled once,
    not again at every step of building); the user sees the same desk, pixel for pixel, as when
    the sheet came first: the window while opening, then each tab with the first study open."""
    from PySide6.QtGui import QImage

    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "CMO_DESK_CODER": "Lan Nguyen"}
    env.pop(app.QUIT_WHEN_SHOWN, None)
    for order in ("first", "after"):
        out = subprocess.run(
            [sys.executable, "-c", SHEET_PROBE, str(tmp_path / order), str(project),
             "--screenshot", str(tmp_path / f"{order}.png")],
            env={**env, "SHEET_FIRST": "1"} if order == "first" else env,
            capture_output=True, text=True, timeout=120)
        assert out.returncode == 0, out.stderr[-2000:]
    frames = ["opening", "tab0", "tab1", "tab2"]
    for frame in frames:
        first = QImage(str(tmp_path / f"first-{frame}.png"))
        after = QImage(str(tmp_path / f"after-{frame}.png"))
        assert not first.isNull() and first.size() == after.size(), frame
        assert first == after, f"the {frame} frame differs"
    assert QImage(str(tmp_path / "after-tab1.png")) != QImage(str(tmp_path / "after-tab2.png"))


UPGRADE_PROBE = """
import sys
from PySide6.QtWidgets import QApplication
from cmo_desk.store.project_store import ProjectStore
from cmo_desk.ui import app

real_open = ProjectStore.open.__func__


def probe(cls, path, **kw):
    titles = [w.study_title.text() for w in QApplication.topLevelWidgets()
              if hasattr(w, 'study_title')]
    print('at_store_open', *titles, sep='|', flush=True)
    return real_open(cls, path, **kw)


ProjectStore.open = classmethod(probe)
sys.exit(app.run_desk(sys.argv[1:]))
"""


@pytest.mark.parametrize("older", [True, False])
def test_a_project_of_an_older_layout_says_it_is_being_updated(project: Path,
                                                               older: bool) -> None:
    """The one-time upgrade of a large project takes a while: the window says so while it
    runs, where a project of this layout just says it is opening."""
    from cmo_desk.store.fileinfo import HEAD_REVISION, inspect_file
    from tests.logrows import downgrade

    if older:
        downgrade(project, "0005")
    out = _desk(project, probe=UPGRADE_PROBE)
    assert out.returncode == 0, out.stderr[-2000:]
    title = next(line for line in out.stdout.splitlines()
                 if line.startswith("at_store_open")).split("|")[1]
    if older:
        assert title.startswith("Updating project.cmo to this version's file layout")
    else:
        assert title == "Opening project.cmo…"
    assert inspect_file(project)["revision"] == HEAD_REVISION
