"""Coding stripes: a margin beside the text with one bar per excerpt, overlapping excerpts side
by side, each headed by its coder's initials; hover names the coder and role, a click selects."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QPoint, QRect, QSize, Qt
from PySide6.QtGui import QColor, QFont, QFontMetrics, QMouseEvent, QPainter, QPaintEvent, QTextCursor
from PySide6.QtWidgets import QApplication, QToolTip, QWidget

from cmo_desk.domain.i18n import tr
from cmo_desk.ui.theme import role_color, role_label

if TYPE_CHECKING:
    from cmo_desk.ui.document_view import DocumentView

LANE = 16
LANES = 3


class CodingStripes(QWidget):
    def __init__(self, view: DocumentView) -> None:
        super().__init__(view)
        self.view = view
        self.setMouseTracking(True)
        self._bars: list[tuple[QRect, Any]] = []  # (rectangle, highlight), drawn order

    @staticmethod
    def width_needed() -> int:
        return LANE * LANES + 4

    @staticmethod
    def head_font() -> QFont:
        small = QApplication.font()  # the desk's font, not the reading font of the text beside
        small.setPointSizeF(6.5)
        small.setBold(True)
        return small

    def head_text(self, h: Any) -> str:
        """The coder's initials as far as they fit a stripe's head: "LN", but only 欧 of 欧阳
        (two wide characters would be cut in half)."""
        metrics = QFontMetrics(self.head_font())
        shown = h.coder_initials[:2]
        while len(shown) > 1 and metrics.horizontalAdvance(shown) > LANE - 1:
            shown = shown[:-1]
        return shown

    def sizeHint(self) -> QSize:
        return QSize(self.width_needed(), 0)

    def bars(self) -> list[tuple[QRect, Any]]:
        """The stripes on screen now: where each is, and its highlight. Stripes whose lines
        overlap (overlapping excerpts, or two on one line) stand in lanes side by side."""
        view = self.view
        doc = view.document()
        limit = doc.characterCount() - 1
        height = view.viewport().height()
        spans = []
        for h in view._highlights:
            a, b = QTextCursor(doc), QTextCursor(doc)
            a.setPosition(min(view._map.to_qt(h.start), limit))
            b.setPosition(min(view._map.to_qt(max(h.start, h.end - 1)), limit))
            top, bottom = view.cursorRect(a).top(), view.cursorRect(b).bottom()
            if bottom >= 0 and top <= height:
                spans.append((top, max(top + 8, bottom), h))
        spans.sort(key=lambda s: (s[0], -s[1], s[2].excerpt_id))
        out = []
        active: list[tuple[int, int]] = []  # (bottom, lane)
        for top, bottom, h in spans:
            active = [(end, lane) for end, lane in active if end >= top]
            used = {lane for _, lane in active}
            lane = next(n for n in range(len(used) + 1) if n not in used)
            active.append((bottom, lane))
            out.append((QRect(2 + min(lane, LANES - 1) * LANE, top, LANE - 3, bottom - top), h))
        return out

    def paintEvent(self, event: QPaintEvent) -> None:
        p = QPainter(self)
        p.fillRect(event.rect(), QColor("#f7f8fa"))
        p.setFont(self.head_font())
        self._bars = self.bars()
        current = self.view._current
        for rect, h in self._bars:
            color = QColor(h.coder_color) if h.coder_color else role_color(h.role)
            if h.excerpt_id not in current:
                color.setAlpha(170)
            p.fillRect(rect, color)
            if h.coder_initials:
                head = QRect(rect.left() - 1, rect.top(), rect.width() + 2, 11)
                p.fillRect(head, QColor("#ffffff"))
                p.setPen(QColor(h.coder_color).darker(160) if h.coder_color else
                         role_color(h.role).darker(130))
                p.drawText(head, int(Qt.AlignmentFlag.AlignCenter), self.head_text(h))
        p.end()

    def stripes_at(self, point: QPoint) -> list[Any]:
        return [h for rect, h in (self._bars or self.bars()) if rect.contains(point)]

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        hits = self.stripes_at(event.position().toPoint())
        if hits:
            lines = [tr("{role} — {coder}").format(role=role_label(h.role),
                                                   coder=h.coder_name or tr("you"))
                     for h in hits]
            QToolTip.showText(event.globalPosition().toPoint(), "\n".join(lines), self)
        else:
            QToolTip.hideText()

    def mousePressEvent(self, event: QMouseEvent) -> None:
        hits = self.stripes_at(event.position().toPoint())
        if event.button() == Qt.MouseButton.LeftButton and hits:
            self.view.excerpts_clicked.emit([h.excerpt_id for h in hits])
            event.accept()
            return
        super().mousePressEvent(event)
