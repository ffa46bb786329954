"""The mouse wheel scrolls; it never changes a drop-down or a number box the coder did not choose.

Qt lets the wheel change the value of any combo box or spin box under the pointer, so turning the
wheel to scroll a form silently rewrote coded values. One application-wide event filter turns the
wheel over an unfocused drop-down or number box into a scroll of the view around it; a focused
one (the coder clicked or tabbed into it) still answers the wheel.
"""

from __future__ import annotations

from PySide6.QtCore import QCoreApplication, QEvent, QObject, Qt
from PySide6.QtGui import QWheelEvent
from PySide6.QtWidgets import (
    QAbstractScrollArea, QAbstractSpinBox, QApplication, QComboBox, QWidget,
)

_filter: _WheelGuard | None = None


def _guarded(obj: QObject) -> bool:
    return isinstance(obj, (QComboBox, QAbstractSpinBox))


def _scroll_area_of(widget: QWidget) -> QAbstractScrollArea | None:
    parent = widget.parentWidget()
    while parent is not None:
        if isinstance(parent, QAbstractScrollArea):
            return parent
        parent = parent.parentWidget()
    return None


def _no_wheel_focus(box: QWidget) -> None:
    # without this the wheel would first give the box focus, then change it
    if box.focusPolicy() == Qt.FocusPolicy.WheelFocus:
        box.setFocusPolicy(Qt.FocusPolicy.StrongFocus)


_POLISH = QEvent.Type.Polish
_WHEEL = QEvent.Type.Wheel


class _WheelGuard(QObject):
    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        kind = event.type()
        if kind == _POLISH and _guarded(watched):
            _no_wheel_focus(watched)  # type: ignore[arg-type]
            return False
        if kind != _WHEEL or not _guarded(watched):
            return False
        box: QWidget = watched  # type: ignore[assignment]
        if box.hasFocus():
            return False
        area = _scroll_area_of(box)
        if area is not None and isinstance(event, QWheelEvent):
            vertical = abs(event.angleDelta().y()) >= abs(event.angleDelta().x())
            bar = area.verticalScrollBar() if vertical else area.horizontalScrollBar()
            QCoreApplication.sendEvent(bar, event.clone())
        event.ignore()
        return True


def install() -> None:
    """Install once per application; harmless to call again.

    Boxes made before the guard (a window built first, then guarded: every event while building
    would otherwise pass through this filter) are set right when it is installed."""
    global _filter
    app = QCoreApplication.instance()
    if app is None or _filter is not None:
        return
    _filter = _WheelGuard(app)
    app.installEventFilter(_filter)
    for top in QApplication.topLevelWidgets() if isinstance(app, QApplication) else ():
        for box in (*top.findChildren(QComboBox), *top.findChildren(QAbstractSpinBox)):
            _no_wheel_focus(box)
