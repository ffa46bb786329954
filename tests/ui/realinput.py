"""Real mouse, keyboard and wheel input for desk tests: what a coder's hand does, not setters."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QWheelEvent
from PySide6.QtWidgets import QApplication, QStyle, QStyleOptionViewItem, QTreeWidget, QWidget
from PySide6.QtTest import QTest


def click_check_box(tree: QTreeWidget, item: Any, column: int = 0) -> None:
    """Click the check box of a tree item where the style draws it."""
    tree.scrollToItem(item)
    index = tree.indexFromItem(item, column)
    opt = QStyleOptionViewItem()
    opt.initFrom(tree)
    opt.rect = tree.visualRect(index)
    opt.features |= QStyleOptionViewItem.ViewItemFeature.HasCheckIndicator
    box = tree.style().subElementRect(QStyle.SubElement.SE_ItemViewItemCheckIndicator, opt, tree)
    QTest.mouseClick(tree.viewport(), Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier,
                     box.center())


def wheel(widget: QWidget, steps: int = -1, pos: QPoint | None = None) -> None:
    """Turn the mouse wheel over ``widget`` (negative: towards the user, i.e. scroll down)."""
    pos = pos or widget.rect().center()
    glob = widget.mapToGlobal(pos)
    event = QWheelEvent(QPointF(pos), QPointF(glob), QPoint(0, 0), QPoint(0, 120 * steps),
                        Qt.MouseButton.NoButton, Qt.KeyboardModifier.NoModifier,
                        Qt.ScrollPhase.NoScrollPhase, False)
    QApplication.sendEvent(widget, event)
    QApplication.processEvents()


def _offset_point(view: Any, offset: int) -> QPoint:
    from PySide6.QtGui import QTextCursor

    cur = QTextCursor(view.document())
    cur.setPosition(view._map.to_qt(offset))
    return view.cursorRect(cur).center()


def mouse_select(view: Any, start: int, end: int) -> None:
    """Select ``start``–``end`` of a document view as a hand does: click, then Shift+click."""
    view.show_offset(start)
    QApplication.processEvents()
    QTest.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier,
                     _offset_point(view, start))
    QTest.mouseClick(view.viewport(), Qt.MouseButton.LeftButton,
                     Qt.KeyboardModifier.ShiftModifier, _offset_point(view, end))
    QApplication.processEvents()


def double_click_item(tree: QTreeWidget, item: Any, column: int = 0) -> None:
    tree.scrollToItem(item)
    point = tree.visualItemRect(item).center()
    QTest.mouseClick(tree.viewport(), Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier,
                     point)
    QTest.mouseDClick(tree.viewport(), Qt.MouseButton.LeftButton,
                      Qt.KeyboardModifier.NoModifier, point)
    QApplication.processEvents()


def type_with_input_method(widget: QWidget, text: str) -> None:
    """Type ``text`` as a Chinese (or any) input method hands it over: composed, then committed
    (QTest's key clicks take ASCII only)."""
    from PySide6.QtGui import QInputMethodEvent

    widget.setFocus()
    QApplication.sendEvent(widget, QInputMethodEvent(text, []))
    done = QInputMethodEvent()
    done.setCommitString(text)
    QApplication.sendEvent(widget, done)
