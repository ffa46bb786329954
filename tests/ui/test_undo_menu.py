"""Edit → Undo and Redo follow the undo stack of services/undo.py: enabled when there is
something to undo or redo, and Ctrl+Z / Ctrl+Shift+Z take a marked passage back and forth."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QKeySequence

from .realinput import mouse_select

PHRASE = "Ten women living with HIV were trained as peer navigators"


def test_undo_and_redo_by_keyboard_follow_what_was_marked(open_window: Any, qtbot: Any) -> None:
    window = open_window()
    window.activateWindow()
    qtbot.waitActive(window)
    assert not window.undo_action.isEnabled() and not window.redo_action.isEnabled()

    start = window.doc_view.text().index(PHRASE)
    mouse_select(window.doc_view, start, start + len(PHRASE))
    window.doc_view.setFocus()
    qtbot.keyClick(window.doc_view, Qt.Key.Key_2, Qt.KeyboardModifier.ControlModifier)
    (created,) = [e for e in window.session.store.list("excerpt") if e.quote == PHRASE]
    assert window.undo_action.isEnabled() and not window.redo_action.isEnabled()

    undo_keys = QKeySequence(QKeySequence.StandardKey.Undo)[0]
    redo_keys = QKeySequence(QKeySequence.StandardKey.Redo)[0]
    qtbot.keyClick(window.doc_view, undo_keys.key(), undo_keys.keyboardModifiers())
    assert window.session.store.get("excerpt", created.id) is None
    assert not window.undo_action.isEnabled() and window.redo_action.isEnabled()

    qtbot.keyClick(window.doc_view, redo_keys.key(), redo_keys.keyboardModifiers())
    assert window.session.store.get("excerpt", created.id).quote == PHRASE
    assert window.undo_action.isEnabled() and not window.redo_action.isEnabled()
