"""A seeded monkey: random clicks, wheel turns and key presses over the whole desk.

Anything that would wait for a person (a modal dialog, a file chooser, a right-click menu) is
answered at once, so the monkey keeps going; everything else is the real desk under real input.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from PySide6.QtCore import QPoint, Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import (
    QApplication, QDialog, QFileDialog, QInputDialog, QMenu, QMessageBox, QWidget,
)

from .realinput import wheel

KEYS = (
    [getattr(Qt.Key, f"Key_{c}") for c in "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"]
    + [Qt.Key.Key_Space, Qt.Key.Key_Tab, Qt.Key.Key_Backtab, Qt.Key.Key_Return,
       Qt.Key.Key_Escape, Qt.Key.Key_Up, Qt.Key.Key_Down, Qt.Key.Key_Left, Qt.Key.Key_Right,
       Qt.Key.Key_PageUp, Qt.Key.Key_PageDown, Qt.Key.Key_Home, Qt.Key.Key_End,
       Qt.Key.Key_Backspace, Qt.Key.Key_Delete]
)
MODIFIERS = (Qt.KeyboardModifier.NoModifier, Qt.KeyboardModifier.NoModifier,
             Qt.KeyboardModifier.ShiftModifier, Qt.KeyboardModifier.ControlModifier)


@contextmanager
def nobody_waits(monkeypatch: Any) -> Iterator[None]:
    """Modal dialogs, file choosers and menus return at once, as if dismissed."""
    monkeypatch.setattr(QDialog, "exec", lambda self, *a: int(QDialog.DialogCode.Rejected))
    monkeypatch.setattr(QMenu, "exec", lambda self, *a, **k: None)
    for name in ("information", "warning", "critical"):
        monkeypatch.setattr(QMessageBox, name, staticmethod(
            lambda *a, **k: QMessageBox.StandardButton.Ok))
    monkeypatch.setattr(QMessageBox, "question", staticmethod(
        lambda *a, **k: QMessageBox.StandardButton.No))
    for name in ("getOpenFileName", "getOpenFileNames", "getSaveFileName"):
        monkeypatch.setattr(QFileDialog, name, staticmethod(lambda *a, **k: ("", "")))
    monkeypatch.setattr(QFileDialog, "getExistingDirectory", staticmethod(lambda *a, **k: ""))
    monkeypatch.setattr(QInputDialog, "getText", staticmethod(lambda *a, **k: ("", False)))
    monkeypatch.setattr(QInputDialog, "getItem", staticmethod(lambda *a, **k: ("", False)))
    yield


def _target(window: QWidget, rng: random.Random) -> tuple[QWidget, QPoint]:
    point = QPoint(rng.randrange(window.width()), rng.randrange(window.height()))
    child = window.childAt(point)
    if child is None:
        return window, point
    return child, child.mapFrom(window, point)


def _close_strays(window: QWidget) -> None:
    for w in QApplication.topLevelWidgets():
        if w is not window and w.isVisible() and w.isWindow():
            w.close()


def wheel_only(window: QWidget, steps: int, seed: int) -> None:
    rng = random.Random(seed)
    for _ in range(steps):
        widget, point = _target(window, rng)
        wheel(widget, rng.choice((-2, -1, 1, 2)), point)


def run(window: QWidget, steps: int, seed: int) -> dict[str, int]:
    """Random clicks, wheel turns and key presses; returns how many of each."""
    rng = random.Random(seed)
    done = {"click": 0, "wheel": 0, "key": 0}
    for n in range(steps):
        kind = rng.choices(("click", "wheel", "key"), (5, 3, 4))[0]
        if not window.isVisible():
            window.show()
        if kind == "click":
            widget, point = _target(window, rng)
            if rng.random() < 0.15:
                QTest.mouseDClick(widget, Qt.MouseButton.LeftButton,
                                  Qt.KeyboardModifier.NoModifier, point)
            else:
                QTest.mouseClick(widget, Qt.MouseButton.LeftButton,
                                 rng.choice(MODIFIERS[:3]), point)
        elif kind == "wheel":
            widget, point = _target(window, rng)
            wheel(widget, rng.choice((-2, -1, 1, 2)), point)
        else:
            focus = QApplication.focusWidget() or window
            key = rng.choice(KEYS)
            modifier = rng.choice(MODIFIERS)
            if modifier == Qt.KeyboardModifier.ControlModifier and key == Qt.Key.Key_Q:
                modifier = Qt.KeyboardModifier.NoModifier  # quitting ends the day, not a crash
            QTest.keyClick(focus, key, modifier)
        done[kind] += 1
        QApplication.processEvents()
        if n % 25 == 0:
            _close_strays(window)
    _close_strays(window)
    return done
