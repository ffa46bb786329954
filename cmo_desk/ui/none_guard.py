"""Protection against a PySide6 defect that would otherwise abort the desk mid-session.

With PySide6 6.12 on Python 3.11 every call to a Qt method that returns nothing drops one
reference to ``None`` (the bindings assume ``None`` is immortal, which it is only from Python
3.12). A coding session makes millions of such calls; when the count reaches zero the interpreter
aborts. When the defect is detected, a reserve of references is held and topped up from an
application-wide event filter, which runs often enough that the reserve never runs dry.
"""

from __future__ import annotations

import sys

from PySide6.QtCore import QCoreApplication, QEvent, QObject
from PySide6.QtGui import QColor

RESERVE = 500_000
_reserve: list[None] = []
_guard: _Guard | None = None


def defect_present() -> bool:
    color = QColor(0, 0, 0)
    before = sys.getrefcount(None)
    for _ in range(100):
        color.setAlpha(255)
    return sys.getrefcount(None) < before - 50


def top_up() -> None:
    if _guard is not None:
        _guard.top_up()


class _Guard(QObject):
    def __init__(self) -> None:
        super().__init__()
        _reserve.extend([None] * RESERVE)
        self.floor = sys.getrefcount(None) - RESERVE // 2

    def top_up(self) -> None:
        missing = self.floor + RESERVE // 2 - sys.getrefcount(None)
        if missing > RESERVE // 4:
            _reserve.extend([None] * missing)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if sys.getrefcount(None) < self.floor:
            self.top_up()
        return False


def install() -> bool:
    """Install once per application when the defect is present; True when it is."""
    global _guard
    app = QCoreApplication.instance()
    if app is None:
        return False
    if _guard is None:
        if sys.version_info >= (3, 12) or not defect_present():
            return False
        _guard = _Guard()
        app.installEventFilter(_guard)
    return True
