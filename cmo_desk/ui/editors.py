"""Small editing widgets that save themselves: a text box that saves after a pause in typing."""

from __future__ import annotations

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QDragEnterEvent, QDropEvent, QFocusEvent, QResizeEvent
from PySide6.QtWidgets import QDialog, QPlainTextEdit, QWidget

from cmo_desk.ui.models import EXCERPT_MIME, excerpt_ids_from_mime

SAVE_DELAY_MS = 400

class AutoSaveText(QPlainTextEdit):
    """Multi-line text saved ~400 ms after typing stops, and at once when focus leaves."""

    committed = Signal(str)
    excerpts_dropped = Signal(list)

    def __init__(self, parent: QWidget | None = None, lines: int = 3,
                 accepts_excerpts: bool = False) -> None:
        super().__init__(parent)
        self.setTabChangesFocus(True)
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(SAVE_DELAY_MS)
        self._timer.timeout.connect(self.flush)
        self._saved = ""
        self._loading = False
        self.textChanged.connect(self._on_changed)
        self._min_lines, self._max_lines = lines, lines + 5
        self._fit_height()
        self.textChanged.connect(self._fit_height)
        self.setAcceptDrops(accepts_excerpts)
        self._accepts_excerpts = accepts_excerpts

    def _fit_height(self) -> None:
        # Grow with the text up to a limit, so short slots stay compact and long ones readable.
        width = max(40, self.viewport().width() - 2 * int(self.document().documentMargin()))
        text = self.toPlainText()
        line = self.fontMetrics().lineSpacing()
        shown = 0
        if text:
            rect = self.fontMetrics().boundingRect(0, 0, width, 100_000,
                                                   int(Qt.TextFlag.TextWordWrap), text)
            shown = -(-rect.height() // line)
        lines = max(self._min_lines, min(self._max_lines, shown))
        height = int(line * lines + 14)
        if self.height() != height:
            self.setFixedHeight(height)

    def set_saved_text(self, text: str | None) -> None:
        """Show the stored value, unless the user is typing into this box right now."""
        text = text or ""
        if self._timer.isActive():
            return
        self._saved = text
        if self.toPlainText() != text:
            self._loading = True
            self.setPlainText(text)
            self._loading = False

    def _on_changed(self) -> None:
        if self._loading or self.isReadOnly():
            return
        self._timer.start()

    def flush(self) -> None:
        self._timer.stop()
        text = self.toPlainText()
        if text.strip() != self._saved.strip():
            self._saved = text
            self.committed.emit(text)

    def has_pending(self) -> bool:
        return self._timer.isActive()

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._fit_height()

    def focusOutEvent(self, event: QFocusEvent) -> None:
        super().focusOutEvent(event)
        if self._timer.isActive():
            self.flush()

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if self._accepts_excerpts and event.mimeData().hasFormat(EXCERPT_MIME):
            event.acceptProposedAction()
        else:
            super().dragEnterEvent(event)

    def dragMoveEvent(self, event: QDragEnterEvent) -> None:  # type: ignore[override]
        if self._accepts_excerpts and event.mimeData().hasFormat(EXCERPT_MIME):
            event.acceptProposedAction()
        else:
            super().dragMoveEvent(event)

    def dropEvent(self, event: QDropEvent) -> None:
        ids = excerpt_ids_from_mime(event.mimeData())
        if self._accepts_excerpts and ids:
            event.acceptProposedAction()
            self.excerpts_dropped.emit(ids)
        else:
            super().dropEvent(event)


def flush_typing(root: QWidget, ask: bool = False) -> None:
    """Save whatever is being typed in ``root``'s text boxes, and in the windows opened over it
    that keep an editor of their own (``flush_edits``: the synthesis workspace). Those windows
    ask about what cannot be saved yet only with ``ask`` (the desk closing): a merge, an export
    or a study opened leaves it in their editor, as it is."""
    for box in root.findChildren(AutoSaveText):
        if box.has_pending():
            box.flush()
    for window in root.findChildren(QDialog):
        flush = getattr(window, "flush_edits", None)
        if callable(flush):
            flush(ask=ask)
