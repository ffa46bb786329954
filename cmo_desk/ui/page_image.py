"""The original PDF page, rendered on demand (pypdfium2 is imported only when first needed)."""

from __future__ import annotations

from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QColor, QImage, QPainter, QPixmap
from PySide6.QtWidgets import (
    QHBoxLayout, QLabel, QPushButton, QScrollArea, QSpinBox, QVBoxLayout, QWidget,
)

from cmo_desk.domain.i18n import tr


class PageImageView(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._pdf_bytes: bytes | None = None
        self._pdf = None
        self._rendered: tuple[int, int] | None = None
        #: (page, quote, colour) of the excerpts to draw on the page image
        self.highlights: list[tuple[int, str, str]] = []
        self.drawn: list[tuple[str, int]] = []  # (quote, rectangles) drawn on the current page
        self.fit_width = True
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        bar = QHBoxLayout()
        bar.setContentsMargins(6, 4, 6, 0)
        bar.addWidget(QLabel(tr("Page")))
        self.page = QSpinBox()
        self.page.setMinimum(1)
        self.page.valueChanged.connect(lambda _: self.render())
        bar.addWidget(self.page)
        self.count = QLabel("")
        bar.addWidget(self.count)
        bar.addStretch(1)
        self.zoom_out = QPushButton("−")
        self.zoom_in = QPushButton("+")
        self.scale = 1.25
        self.zoom_out.clicked.connect(lambda: self._zoom(1 / 1.2))
        self.zoom_in.clicked.connect(lambda: self._zoom(1.2))
        self.fit_button = QPushButton(tr("Fit width"))
        self.fit_button.clicked.connect(self._fit)
        bar.addWidget(self.fit_button)
        bar.addWidget(self.zoom_out)
        bar.addWidget(self.zoom_in)
        lay.addLayout(bar)
        self.scroll = QScrollArea()
        self.scroll.setAlignment(Qt.AlignmentFlag.AlignHCenter)
        self.image = QLabel(tr("No page image: this study's text was not imported from a PDF."))
        self.image.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.scroll.setWidget(self.image)
        self.scroll.setWidgetResizable(True)
        lay.addWidget(self.scroll, 1)

    def set_pdf(self, data: bytes | None) -> None:
        self._pdf_bytes = data
        if self._pdf is not None:
            self._pdf.close()
        self._pdf = None
        self._rendered = None
        self.fit_width = True
        self.image.setPixmap(QPixmap())
        self.image.setText(tr("No page image: this study's text was not imported from a PDF.")
                           if data is None else "")

    def show_page(self, page: int) -> None:
        self.page.setValue(page)
        self.render()

    def set_highlights(self, highlights: list[tuple[int, str, str]]) -> None:
        self.highlights = list(highlights)
        self._rendered = None
        self.render()

    def _fit(self) -> None:
        self.fit_width = True
        self._rendered = None
        self.render()

    def _zoom(self, factor: float) -> None:
        self.fit_width = False
        self.scale = max(0.5, min(4.0, self.scale * factor))
        self._rendered = None
        self.render()

    def render(self) -> None:
        if self._pdf_bytes is None or not self.isVisible():
            return
        if self._pdf is None:
            import pypdfium2 as pdfium  # noqa: PLC0415 - heavy, and only PDFs need it

            try:
                self._pdf = pdfium.PdfDocument(self._pdf_bytes)
            except Exception as err:  # noqa: BLE001 - a damaged PDF shows a message, not a crash
                self.image.setText(tr("The original PDF could not be shown: {error}").format(
                    error=err))
                self._pdf_bytes = None
                return
            self.page.setMaximum(len(self._pdf))
            self.count.setText(tr("of {n}").format(n=len(self._pdf)))
        n = self.page.value()
        if self.fit_width and 1 <= n <= len(self._pdf):
            room = self.scroll.viewport().width() - 24
            self.scale = max(0.3, min(4.0, room / max(1.0, self._pdf[n - 1].get_width())))
        key = (n, int(self.scale * 100))
        if self._rendered == key or not 1 <= n <= len(self._pdf):
            return
        bitmap = self._pdf[n - 1].render(scale=self.scale * self.devicePixelRatioF())
        arr = bitmap.buffer
        fmt = QImage.Format.Format_BGR888 if bitmap.n_channels == 3 else QImage.Format.Format_ARGB32
        img = QImage(arr, bitmap.width, bitmap.height, bitmap.stride, fmt).copy()
        img.setDevicePixelRatio(self.devicePixelRatioF())
        self._draw_highlights(img, n)
        self.image.setPixmap(QPixmap.fromImage(img))
        self._rendered = key

    def _draw_highlights(self, img: QImage, n: int) -> None:
        """Tint the passages of this page's excerpts, found by their words in the page text."""
        self.drawn = []
        wanted = [(q, c) for page, q, c in self.highlights if page == n and q.strip()]
        if not wanted:
            return
        page = self._pdf[n - 1]  # type: ignore[index]
        height = page.get_height()
        textpage = page.get_textpage()
        ratio = self.scale * self.devicePixelRatioF()
        painter = QPainter(img)
        painter.setCompositionMode(QPainter.CompositionMode.CompositionMode_Multiply)
        try:
            for quote, color in wanted:
                words = " ".join(quote.split())
                probe = words[:60]
                searcher = textpage.search(probe, match_case=False)
                found = searcher.get_next()
                if not found:
                    continue
                index, _count = found
                count = min(len(words), textpage.count_chars() - index)
                tint = QColor(color)
                tint.setAlpha(110)
                rects = 0
                for i in range(textpage.count_rects(index, count)):
                    left, bottom, right, top = textpage.get_rect(i)
                    painter.fillRect(QRectF(left * ratio, (height - top) * ratio,
                                            (right - left) * ratio, (top - bottom) * ratio), tint)
                    rects += 1
                self.drawn.append((quote, rects))
        finally:
            painter.end()
            textpage.close()

    def resizeEvent(self, event: object) -> None:  # type: ignore[override]
        super().resizeEvent(event)  # type: ignore[arg-type]
        if self.fit_width:
            self._rendered = None
            self.render()

    def showEvent(self, event: object) -> None:  # type: ignore[override]
        super().showEvent(event)  # type: ignore[arg-type]
        self.render()

    def close_pdf(self) -> None:
        if self._pdf is not None:
            self._pdf.close()
            self._pdf = None
