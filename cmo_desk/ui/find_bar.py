"""Ctrl+F: find words in the open study's text."""

from __future__ import annotations

import re
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QHBoxLayout, QLabel, QLineEdit, QToolButton, QWidget

from cmo_desk.domain.i18n import tr
from cmo_desk.ui.document_view import DocumentView


class FindBar(QWidget):
    """Ctrl+F: find words in the open study's text."""

    def __init__(self, view: DocumentView, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.view = view
        self.matches: list[tuple[int, int]] = []
        self.index = -1
        lay = QHBoxLayout(self)
        lay.setContentsMargins(6, 3, 6, 3)
        self.query = QLineEdit()
        self.query.setPlaceholderText(tr("Find in this study"))
        self.query.setClearButtonEnabled(True)
        self.count = QLabel("")
        self.count.setObjectName("hint")
        prev_b, next_b, close_b = QToolButton(), QToolButton(), QToolButton()
        prev_b.setText("↑")
        next_b.setText("↓")
        close_b.setText("✕")
        prev_b.setToolTip(tr("Previous (Shift+Enter)"))
        next_b.setToolTip(tr("Next (Enter)"))
        for w in (self.query, self.count, prev_b, next_b, close_b):
            lay.addWidget(w)
        lay.setStretch(0, 1)
        self.query.textChanged.connect(self.search)
        self.query.returnPressed.connect(self.next)
        next_b.clicked.connect(self.next)
        prev_b.clicked.connect(self.previous)
        close_b.clicked.connect(self.close_bar)

    def keyPressEvent(self, event: Any) -> None:
        if event.key() == Qt.Key.Key_Escape:
            self.close_bar()
        elif event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter) and \
                event.modifiers() & Qt.KeyboardModifier.ShiftModifier:
            self.previous()
        else:
            super().keyPressEvent(event)

    def open_bar(self) -> None:
        self.show()
        self.query.setFocus()
        self.query.selectAll()
        self.search(self.query.text())

    def close_bar(self) -> None:
        self.hide()
        self.view.set_find_matches([])
        self.view.setFocus()

    def search(self, text: str) -> None:
        text = text.strip()
        self.matches = [m.span() for m in re.finditer(re.escape(text), self.view.text(),
                                                      re.IGNORECASE)] if text else []
        self.view.set_find_matches(self.matches)
        self.index = -1
        self.count.setText(tr("{n} found").format(n=len(self.matches)) if text else "")
        if self.matches:
            self.next()

    def next(self) -> None:
        self._go(1)

    def previous(self) -> None:
        self._go(-1)

    def _go(self, step: int) -> None:
        if not self.matches:
            return
        self.index = (self.index + step) % len(self.matches)
        a, b = self.matches[self.index]
        self.view.show_offset(a)
        self.count.setText(tr("{i} of {n}").format(i=self.index + 1, n=len(self.matches)))
