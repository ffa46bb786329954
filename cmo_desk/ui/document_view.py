"""A study's full text with page markers and excerpts highlighted in their role colours."""

from __future__ import annotations

import bisect
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QEvent, QPoint, QRect, QSize, Qt, Signal
from PySide6.QtGui import (
    QColor, QContextMenuEvent, QFont, QFontMetrics, QKeyEvent, QKeySequence, QMouseEvent, QPainter,
    QPaintEvent, QPen, QResizeEvent, QTextCharFormat, QTextCursor,
)
from PySide6.QtWidgets import QMenu, QPlainTextEdit, QTextEdit, QWidget

from cmo_desk.domain import records as rec
from cmo_desk.domain.i18n import mostly_rtl, tr
from cmo_desk.ui.coding_stripes import CodingStripes
from cmo_desk.ui.none_guard import top_up
from cmo_desk.ui.theme import ROLE_ORDER, reading_font, role_color, role_label, tinted

MARK_SHORTCUTS = {"context": "Ctrl+1", "mechanism": "Ctrl+2", "outcome": "Ctrl+3",
                  "other": "Ctrl+4"}


class OffsetMap:
    """Python offsets count code points, Qt's count UTF-16 units; they differ after astral chars."""

    def __init__(self, text: str) -> None:
        self._astral = [i for i, ch in enumerate(text) if ord(ch) > 0xFFFF] if any(
            ord(ch) > 0xFFFF for ch in text) else []
        self._qt_astral = [p + n for n, p in enumerate(self._astral)]

    def to_qt(self, pos: int) -> int:
        return pos + bisect.bisect_left(self._astral, pos) if self._astral else pos

    def to_py(self, qpos: int) -> int:
        if not self._astral:
            return qpos
        return qpos - bisect.bisect_right(self._qt_astral, qpos - 1)


@dataclass(frozen=True)
class Highlight:
    excerpt_id: str
    start: int
    end: int
    role: str | None
    #: colour of another coder whose work is shown; None for one's own excerpts
    coder_color: str | None = None
    #: shown in the coding stripes: the coder's initials, and name on hover
    coder_initials: str = ""
    coder_name: str = ""


def layer_depths(highlights: list[Highlight]) -> dict[str, int]:
    """How many earlier highlights each one overlaps, so overlaps can be drawn differently."""
    depth: dict[str, int] = {}
    active: list[tuple[int, int]] = []  # (end, depth)
    for h in sorted(highlights, key=lambda h: (h.start, -h.end, h.excerpt_id)):
        active = [(e, d) for e, d in active if e > h.start]
        used = {d for _, d in active}
        d = 0
        while d in used:
            d += 1
        depth[h.excerpt_id] = d
        active.append((h.end, d))
    return depth


class _PageGutter(QWidget):
    def __init__(self, view: DocumentView) -> None:
        super().__init__(view)
        self.view = view

    def sizeHint(self) -> QSize:
        return QSize(self.view.gutter_width(), 0)

    def paintEvent(self, event: QPaintEvent) -> None:
        self.view.paint_gutter(event)


class DocumentView(QPlainTextEdit):
    """Read-only text; selecting a passage and pressing Ctrl+1..4 marks it as an excerpt."""

    mark_requested = Signal(str, bool)  # role, choose codes first
    excerpts_clicked = Signal(list)  # excerpt ids under the click
    add_to_cmoc_requested = Signal()
    code_dropped = Signal(str)  # a code dragged from the codebook onto the selected text

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("documentView")
        self.setReadOnly(True)
        self.setAcceptDrops(True)  # a code from the codebook, dropped on the selected text
        self.viewport().setAcceptDrops(True)
        self.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse
                                     | Qt.TextInteractionFlag.TextSelectableByKeyboard)
        self.setFont(reading_font())
        self.setLineWrapMode(QPlainTextEdit.LineWrapMode.WidgetWidth)
        self.document().setDocumentMargin(18)
        self._text = ""
        self._map = OffsetMap("")
        self._page_starts: list[int] = [0]
        self._highlights: list[Highlight] = []
        self._current: set[str] = set()
        self._find: list[tuple[int, int]] = []
        self.gutter = _PageGutter(self)
        self.stripes = CodingStripes(self)
        self.updateRequest.connect(self._on_update_request)
        self.setViewportMargins(self.gutter_width(), 0, self.stripes.width_needed(), 0)
        self.can_mark = True

    # -- content --

    def set_document(self, doc: rec.Document | None, placeholder: str = "") -> None:
        self._text = (doc.text or "") if doc else ""
        if not self._text.strip():
            self._text = ""  # a scanned PDF's blank pages: the placeholder says why
        self._map = OffsetMap(self._text)
        self._page_starts = list(doc.page_starts or [0]) if doc else [0]
        self._highlights, self._current, self._find = [], set(), []
        self.setExtraSelections([])
        self.setPlaceholderText(placeholder)
        self.setPlainText(self._text)
        # Each paragraph already reads in its own direction; a mostly Arabic or Hebrew text is also
        # aligned to the right (a plain-text layout aligns the whole document one way).
        option = self.document().defaultTextOption()
        option.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignAbsolute
                            if mostly_rtl(self._text) else Qt.AlignmentFlag.AlignLeft)
        self.document().setDefaultTextOption(option)
        self.moveCursor(QTextCursor.MoveOperation.Start)

    def text(self) -> str:
        return self._text

    def set_highlights(self, highlights: list[Highlight], current: set[str] | None = None) -> None:
        self._highlights = list(highlights)
        if current is not None:
            self._current = set(current)
        self._apply_selections()

    def set_current(self, excerpt_ids: set[str]) -> None:
        self._current = set(excerpt_ids)
        self._apply_selections()

    def set_find_matches(self, spans: list[tuple[int, int]]) -> None:
        self._find = spans
        self._apply_selections()

    def _cursor_for(self, start: int, end: int) -> QTextCursor:
        cur = QTextCursor(self.document())
        limit = self.document().characterCount() - 1
        cur.setPosition(min(self._map.to_qt(start), limit))
        cur.setPosition(min(self._map.to_qt(end), limit), QTextCursor.MoveMode.KeepAnchor)
        return cur

    def _apply_selections(self) -> None:
        depths = layer_depths(self._highlights)
        selections = []
        for h in sorted(self._highlights, key=lambda h: depths[h.excerpt_id]):
            depth = depths[h.excerpt_id]
            fmt = QTextCharFormat()
            base = QColor(h.coder_color) if h.coder_color else role_color(h.role)
            current = h.excerpt_id in self._current
            alpha = 95 if current else (58 if depth == 0 else 34)
            fmt.setBackground(tinted(base, alpha))
            if h.coder_color:
                fmt.setUnderlineStyle(QTextCharFormat.UnderlineStyle.DotLine)
                fmt.setUnderlineColor(base)
            elif depth > 0 or current:
                # An overlapping passage keeps its own colour as an underline so both show.
                fmt.setUnderlineStyle(QTextCharFormat.UnderlineStyle.SingleUnderline
                                      if current else QTextCharFormat.UnderlineStyle.DashUnderline)
                fmt.setUnderlineColor(base.darker(115))
            sel = QTextEdit.ExtraSelection()
            sel.cursor = self._cursor_for(h.start, h.end)  # type: ignore[attr-defined]
            sel.format = fmt  # type: ignore[attr-defined]
            selections.append(sel)
        for a, b in self._find:
            fmt = QTextCharFormat()
            fmt.setBackground(QColor("#ffe066"))
            fmt.setForeground(QColor("#000"))
            sel = QTextEdit.ExtraSelection()
            sel.cursor = self._cursor_for(a, b)  # type: ignore[attr-defined]
            sel.format = fmt  # type: ignore[attr-defined]
            selections.append(sel)
        self.setExtraSelections(selections)
        self.stripes.update()
        top_up()

    # -- positions --

    def selection_span(self) -> tuple[int, int] | None:
        cur = self.textCursor()
        if not cur.hasSelection():
            return None
        a = self._map.to_py(cur.selectionStart())
        b = self._map.to_py(cur.selectionEnd())
        return (a, b) if b > a else None

    def select_span(self, start: int, end: int) -> None:
        self.setTextCursor(self._cursor_for(start, end))

    def show_offset(self, offset: int) -> None:
        cur = QTextCursor(self.document())
        cur.setPosition(min(self._map.to_qt(offset), self.document().characterCount() - 1))
        self.setTextCursor(cur)
        self.centerCursor()

    def show_page(self, page: int) -> None:
        if 1 <= page <= len(self._page_starts):
            cur = QTextCursor(self.document())
            cur.setPosition(min(self._map.to_qt(self._page_starts[page - 1]),
                                self.document().characterCount() - 1))
            self.setTextCursor(cur)
            # Put the page start at the top rather than in the middle.
            self.verticalScrollBar().setValue(self.verticalScrollBar().maximum())
            self.ensureCursorVisible()

    def current_page(self) -> int:
        cur = self.cursorForPosition(QPoint(10, 10))
        return max(1, bisect.bisect_right(self._page_starts, self._map.to_py(cur.position())))

    def excerpts_at(self, offset: int) -> list[str]:
        hits = [h for h in self._highlights if h.start <= offset < h.end]
        hits.sort(key=lambda h: h.end - h.start)
        return [h.excerpt_id for h in hits]

    # -- interaction --

    def _mark_key(self, event: QKeyEvent) -> tuple[str | None, bool] | None:
        if event.modifiers() != Qt.KeyboardModifier.ControlModifier:
            return None
        return {Qt.Key.Key_1: ("context", False), Qt.Key.Key_2: ("mechanism", False),
                Qt.Key.Key_3: ("outcome", False), Qt.Key.Key_4: ("other", False),
                Qt.Key.Key_5: (None, True)}.get(Qt.Key(event.key()))

    def event(self, event: QEvent) -> bool:
        # The text claims its marking keys so they work even when the window's menu
        # shortcuts cannot fire (no active window, a dock floated elsewhere).
        if event.type() == QEvent.Type.ShortcutOverride and self._mark_key(event):  # type: ignore[arg-type]
            event.accept()
            return True
        return super().event(event)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        mark = self._mark_key(event)
        if mark is not None:
            role, with_codes = mark
            self.mark_requested.emit(role or "", with_codes)
            event.accept()
            return
        super().keyPressEvent(event)

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        super().mouseReleaseEvent(event)
        if event.button() == Qt.MouseButton.LeftButton and not self.textCursor().hasSelection():
            qpos = self.cursorForPosition(event.position().toPoint()).position()
            ids = self.excerpts_at(self._map.to_py(qpos))
            self.excerpts_clicked.emit(ids)

    # -- a code dropped on the selection --

    def _code_of(self, event: Any) -> str | None:
        from cmo_desk.ui.codebook import CODE_MIME

        mime = event.mimeData()
        if not mime.hasFormat(CODE_MIME) or not self.textCursor().hasSelection():
            return None
        return bytes(mime.data(CODE_MIME).data()).decode("utf-8", "replace") or None

    def dragEnterEvent(self, event: Any) -> None:
        if self._code_of(event):
            event.acceptProposedAction()
        else:
            event.ignore()

    def dragMoveEvent(self, event: Any) -> None:
        if self._code_of(event):
            event.acceptProposedAction()
        else:
            event.ignore()

    def dropEvent(self, event: Any) -> None:
        code = self._code_of(event)
        if code:
            # a copy: the codebook keeps its code (a move would take it out of the tree)
            event.setDropAction(Qt.DropAction.CopyAction)
            event.accept()
            self.code_dropped.emit(code)
        else:
            event.ignore()

    def contextMenuEvent(self, event: QContextMenuEvent) -> None:
        menu = QMenu(self)
        has_sel = self.textCursor().hasSelection() and self.can_mark
        for role in ("context", "mechanism", "outcome", "other"):
            act = menu.addAction(tr("Mark as {role}").format(role=role_label(role)))
            act.setShortcut(QKeySequence(MARK_SHORTCUTS[role]))
            act.setEnabled(has_sel)
            act.triggered.connect(lambda _=False, r=role: self.mark_requested.emit(r, False))
        sub = menu.addMenu(tr("Mark with codes…"))
        sub.setEnabled(has_sel)
        for role in ROLE_ORDER:
            act = sub.addAction(role_label(role))
            act.triggered.connect(lambda _=False, r=role: self.mark_requested.emit(r, True))
        menu.addSeparator()
        copy = menu.addAction(tr("Copy"))
        copy.setShortcut(QKeySequence.StandardKey.Copy)
        copy.setEnabled(self.textCursor().hasSelection())
        copy.triggered.connect(self.copy)
        menu.exec(event.globalPos())

    # -- page gutter --

    def page_label(self, n: int) -> str:
        return tr("p. {page}").format(page=n)

    def gutter_font(self) -> QFont:
        small = self.font()
        small.setPointSizeF(max(7.5, small.pointSizeF() - 2.5))
        return small

    def gutter_width(self) -> int:
        # wide enough for the longest page label in the desk's language ("第 999 页" in Chinese)
        label = QFontMetrics(self.gutter_font()).horizontalAdvance(self.page_label(999))
        return max(self.fontMetrics().horizontalAdvance("p. 999"), label) + 14

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        cr = self.contentsRect()
        self.gutter.setGeometry(QRect(cr.left(), cr.top(), self.gutter_width(), cr.height()))
        vp = self.viewport().geometry()
        self.stripes.setGeometry(QRect(vp.right() + 1, vp.top(), self.stripes.width_needed(),
                                       vp.height()))

    def _on_update_request(self, rect: QRect, dy: int) -> None:
        if dy:
            self.gutter.scroll(0, dy)
        else:
            self.gutter.update(0, rect.y(), self.gutter.width(), rect.height())
        self.stripes.update()

    def _page_tops(self) -> list[tuple[int, int]]:
        """(page number, y in viewport) for page starts currently on screen."""
        out = []
        height = self.viewport().height()
        first = self.firstVisibleBlock()
        if not first.isValid():
            return out
        top_pos = first.position()
        for n, start in enumerate(self._page_starts, 1):
            q = self._map.to_qt(start)
            if q < top_pos and n < len(self._page_starts) and self._map.to_qt(
                    self._page_starts[n]) <= top_pos:
                continue
            cur = QTextCursor(self.document())
            cur.setPosition(min(q, self.document().characterCount() - 1))
            y = self.cursorRect(cur).top()
            if y > height:
                break
            out.append((n, y))
        return out

    def paint_gutter(self, event: QPaintEvent) -> None:
        p = QPainter(self.gutter)
        p.fillRect(event.rect(), QColor("#f1f3f6"))
        p.setPen(QColor("#8a96a3"))
        p.setFont(self.gutter_font())
        if len(self._page_starts) > 1 or self._text:
            for n, y in self._page_tops():
                p.drawText(QRect(0, max(y, 2), self.gutter.width() - 6, 18),
                           int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignTop),
                           self.page_label(n))
        p.end()

    def paintEvent(self, event: QPaintEvent) -> None:
        super().paintEvent(event)
        if len(self._page_starts) < 2:
            return
        p = QPainter(self.viewport())
        pen = QPen(QColor("#b0bac5"))
        pen.setStyle(Qt.PenStyle.DashLine)
        p.setPen(pen)
        p.setFont(self.gutter_font())
        width = self.viewport().width()
        for n, y in self._page_tops():
            if n == 1 or y < 0:
                continue
            label = tr("— page {n} —").format(n=n)
            tw = p.fontMetrics().horizontalAdvance(label) + 12
            # Drawn in the blank line that separates pages, so no text is covered.
            mid = y - self.fontMetrics().lineSpacing() // 2
            p.setPen(pen)
            p.drawLine(12, mid, width - tw - 16, mid)
            p.setPen(QColor("#8a96a3"))
            p.drawText(QRect(width - tw - 12, mid - 8, tw, 16),
                       int(Qt.AlignmentFlag.AlignCenter), label)
        p.end()

    def minimumSizeHint(self) -> QSize:
        return QSize(320, 200)


