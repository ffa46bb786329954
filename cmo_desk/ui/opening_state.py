"""The desk's window while its project opens: painted at once, closed to input, and claiming
nothing saved, until the project is attached (start-up paints first, then opens the file)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtGui import QAction
from PySide6.QtWidgets import QVBoxLayout, QWidget

from cmo_desk.domain.i18n import tr

if TYPE_CHECKING:
    from cmo_desk.ui.main_window import MainWindow


class WhileOpening:
    """Close ``window`` to input while ``name`` opens; ``end()`` opens it again."""

    def __init__(self, window: MainWindow, name: str) -> None:
        self.window = window
        window.setWindowTitle("CMO Desk")
        window.study_title.setText(tr("Opening {name}…").format(name=name))
        window.saved_label.setText("")
        self.actions = [a for a in window.findChildren(QAction) if a.isEnabled()]
        for act in self.actions:  # their shortcuts too
            act.setEnabled(False)
        self._enable_parts(False)

    def _enable_parts(self, enabled: bool) -> None:
        w = self.window
        for part in (w.menuBar(), w.centralWidget(), w.studies_dock, w.codebook_dock):
            part.setEnabled(enabled)

    def end(self) -> None:
        for act in self.actions:
            act.setEnabled(True)
        self._enable_parts(True)
        if self.window.focusWidget() is None:
            self.window.study_filter.setFocus()


def announce_upgrade(window: MainWindow, path: Path) -> None:
    """Before a project of an older layout is opened (updated once, for a minute at most on a
    large project), say so where the user is looking, and paint it now: the update follows on
    this thread."""
    from cmo_desk.services.projects import needs_upgrade

    if not needs_upgrade(path):
        return
    text = tr("Updating {name} to this version's file layout. This happens once and can take "
              "a minute for a large project…").format(name=path.name)
    if window.session is None:  # the desk's first window, still empty
        window.study_title.setText(text)
    window.statusBar().showMessage(text)
    window.repaint()


def page_for_later() -> tuple[QWidget, QVBoxLayout]:
    """An empty tab page for a pane the first frame does not show, made and added later."""
    page = QWidget()
    layout = QVBoxLayout(page)
    layout.setContentsMargins(0, 0, 0, 0)
    return page, layout
