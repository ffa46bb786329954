"""Windows that fit the screen they open on, and a desk that reopens as it was left.

Old laptops have 1366×768 screens with a task bar: a window sized to the whole screen loses its
status bar below the task bar. Every window is sized to the screen's available area, and the
desk remembers its geometry, dock and splitter positions, and the last study of each project.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QByteArray, QSettings
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QMainWindow, QSplitter, QWidget

# room for a window's title bar and borders, which its own size does not include
FRAME_WIDTH = 16
FRAME_HEIGHT = 40


def available_size(widget: QWidget) -> tuple[int, int]:
    """Width and height a window's content can take on the screen it is on."""
    screen = widget.screen() or QGuiApplication.primaryScreen()
    area = screen.availableGeometry()
    return area.width() - FRAME_WIDTH, area.height() - FRAME_HEIGHT


def fit_to_screen(widget: QWidget, width: int, height: int) -> None:
    """Size a window to ``width``×``height``, or less where the screen is smaller; centre it."""
    max_w, max_h = available_size(widget)
    widget.resize(max(200, min(width, max_w)), max(150, min(height, max_h)))
    screen = widget.screen() or QGuiApplication.primaryScreen()
    area = screen.availableGeometry()
    if widget.parentWidget() is None:
        widget.move(area.x() + max(0, (area.width() - widget.width() - FRAME_WIDTH) // 2),
                    area.y() + max(0, (area.height() - widget.height() - FRAME_HEIGHT) // 2))


class LayoutMemory:
    """Window geometry, docks, splitters and each project's last study, kept per laptop."""

    def __init__(self, folder: Path | None) -> None:
        self.store: QSettings | None = None
        if folder is not None:
            self.store = QSettings(str(folder / "desk-layout.ini"), QSettings.Format.IniFormat)

    @staticmethod
    def _key(project: Path) -> str:
        import hashlib  # (only once a project is open: not needed for the first paint)

        return hashlib.sha1(str(Path(project).resolve()).encode("utf-8")).hexdigest()[:16]

    def restore_window(self, window: QMainWindow) -> bool:
        """Put the window back as it was left; False when nothing was remembered."""
        if self.store is None:
            return False
        geometry = self.store.value("window/geometry")
        if not isinstance(geometry, QByteArray) or not window.restoreGeometry(geometry):
            return False
        max_w, max_h = available_size(window)
        if window.width() > max_w or window.height() > max_h:
            fit_to_screen(window, window.width(), window.height())
        state = self.store.value("window/state")
        if isinstance(state, QByteArray):
            window.restoreState(state)
        for split in window.findChildren(QSplitter):
            if split.objectName():
                sizes = self.store.value(f"splitters/{split.objectName()}")
                if isinstance(sizes, QByteArray):
                    split.restoreState(sizes)
        return True

    def save_window(self, window: QMainWindow) -> None:
        if self.store is None:
            return
        self.store.setValue("window/geometry", window.saveGeometry())
        self.store.setValue("window/state", window.saveState())
        for split in window.findChildren(QSplitter):
            if split.objectName():
                self.store.setValue(f"splitters/{split.objectName()}", split.saveState())
        self.store.sync()

    def last_study(self, project: Path) -> str | None:
        if self.store is None:
            return None
        value = self.store.value(f"last_study/{self._key(project)}")
        return str(value) if value else None

    def remember_study(self, project: Path, study_id: str | None) -> None:
        if self.store is not None and study_id:
            self.store.setValue(f"last_study/{self._key(project)}", study_id)
            self.store.sync()
