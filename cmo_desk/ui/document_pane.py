"""The open study in the middle of the desk: its title, the marking buttons, who coded it, a
banner saying why it cannot be coded, and its full text or page image with a find bar below."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QTabWidget, QVBoxLayout, QWidget

from cmo_desk.domain import records as rec
from cmo_desk.domain.i18n import tr
from cmo_desk.ui.coder_legend import CoderLegend
from cmo_desk.ui.document_view import MARK_SHORTCUTS, DocumentView
from cmo_desk.ui.opening_state import page_for_later
from cmo_desk.ui.plain import plain_label
from cmo_desk.ui.theme import ROLE_COLORS, role_label

if TYPE_CHECKING:
    from cmo_desk.ui.find_bar import FindBar
    from cmo_desk.ui.page_image import PageImageView

#: Tabs of the centre.
TEXT_TAB, PAGE_TAB = 0, 1


class DocumentPane(QWidget):
    #: made by ``complete()``: the first frame shows neither
    page_view: PageImageView
    find_bar: FindBar

    #: a marking button was clicked: the role (None: from the codes chosen), and whether to
    #: choose codes
    mark_requested = Signal(object, bool)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        c_lay = QVBoxLayout(self)
        c_lay.setContentsMargins(0, 0, 0, 0)
        c_lay.setSpacing(0)
        header = QWidget()
        header.setStyleSheet("background: white; border-bottom: 1px solid #e0e4ea;")
        h_lay = QVBoxLayout(header)
        h_lay.setContentsMargins(14, 8, 14, 8)
        h_lay.setSpacing(2)
        self.study_title = QLabel(tr("Choose a study on the left"))
        self.study_title.setObjectName("studyTitle")
        self.study_title.setWordWrap(True)
        self.study_meta = QLabel("")
        self.study_meta.setObjectName("studyMeta")
        self.study_meta.setWordWrap(True)
        plain_label(self.study_title)
        plain_label(self.study_meta)
        h_lay.addWidget(self.study_title)
        h_lay.addWidget(self.study_meta)
        h_lay.addLayout(self._mark_row())
        self.banner = QLabel("")
        self.banner.setObjectName("banner")
        self.banner.setWordWrap(True)
        self.banner.hide()
        self.coder_legend = CoderLegend()
        h_lay.addWidget(self.coder_legend)
        h_lay.addWidget(self.banner)
        c_lay.addWidget(header)

        self.doc_tabs = QTabWidget()
        self.doc_tabs.setDocumentMode(True)
        self.doc_view = DocumentView()
        self._page_holder, self._page_layout = page_for_later()
        self.doc_tabs.addTab(self.doc_view, tr("Full text"))
        self.doc_tabs.addTab(self._page_holder, tr("Page image"))
        c_lay.addWidget(self.doc_tabs, 1)
        self._layout = c_lay

    def complete(self) -> None:
        """Make, once, what the first frame does not show: the page image and the find bar."""
        if hasattr(self, "page_view"):
            return
        from cmo_desk.ui.find_bar import FindBar
        from cmo_desk.ui.page_image import PageImageView

        self.page_view = PageImageView()
        self._page_layout.addWidget(self.page_view)
        self.find_bar = FindBar(self.doc_view)
        self.find_bar.hide()
        self._layout.addWidget(self.find_bar)

    def _mark_row(self) -> QHBoxLayout:
        marks = QHBoxLayout()
        marks.setSpacing(6)
        self.mark_buttons: dict[str, QPushButton] = {}
        for role in ("context", "mechanism", "outcome", "other"):
            b = QPushButton(f"{role_label(role)}  {MARK_SHORTCUTS[role].replace('Ctrl+', '⌃')}")
            color = ROLE_COLORS[role]
            b.setStyleSheet(
                f"QPushButton {{ border: 1px solid {color}; color: {color}; background: white;"
                f" border-radius: 11px; padding: 2px 10px; font-weight: 600; }}"
                f"QPushButton:hover {{ background: {color}; color: white; }}"
                f"QPushButton:disabled {{ border-color: #cfd8dc; color: #b0bec5; }}")
            b.setToolTip(tr("Mark the selected passage as {role} ({key})").format(
                role=role_label(role), key=MARK_SHORTCUTS[role]))
            b.clicked.connect(lambda _=False, r=role: self.mark_requested.emit(r, False))
            self.mark_buttons[role] = b
            marks.addWidget(b)
        self.with_codes_button = QPushButton(tr("With codes…"))
        self.with_codes_button.setToolTip(tr("Mark the selected passage and choose its codes "
                                             "(Ctrl+5)"))
        self.with_codes_button.clicked.connect(lambda: self.mark_requested.emit(None, True))
        marks.addWidget(self.with_codes_button)
        marks.addStretch(1)
        return marks

    def show_study(self, study: rec.Study, document: rec.Document | None,
                   blob: Callable[[str | None], bytes | None]) -> None:
        """Show a study's title and its text; its PDF's pages too when the original is kept."""
        self.show_heading(study)
        self.doc_view.set_document(document, tr("This study has no full text yet.") if (
            document is None) else tr(
            "No text was found in this file: it is probably a scanned image. Read it in the Page "
            "image tab, or run OCR on the PDF (for example with OCRmyPDF) and import it again to "
            "code it."))
        is_pdf = bool(document and document.media_type == "application/pdf"
                      and document.has_original)
        self.doc_tabs.setTabEnabled(PAGE_TAB, is_pdf)
        self.page_view.set_pdf(blob(document.sha256) if is_pdf and document else None)
        if not is_pdf:
            self.doc_tabs.setCurrentIndex(TEXT_TAB)

    def show_heading(self, study: rec.Study) -> None:
        """Show a study's title, label, authors and journal (again, when they changed)."""
        self.study_title.setText(study.title or study.label or "")
        meta = [study.label or ""]
        if study.authors:
            meta.append(", ".join(study.authors[:3]) + (rec.and_others(study.authors[0])
                                                         if len(study.authors) > 3 else ""))
        if study.journal:
            meta.append(study.journal)
        self.study_meta.setText(" · ".join(m for m in meta if m))

    def set_can_mark(self, enabled: bool) -> None:
        # Enabled without a selection too: a click then explains what to do.
        self.doc_view.can_mark = enabled
        for b in self.mark_buttons.values():
            b.setEnabled(enabled)
        self.with_codes_button.setEnabled(enabled)

    def show_banner(self, text: str) -> None:
        self.banner.setText(text)
        self.banner.setVisible(bool(text))


# -- the open study, when someone else changes it (a merge, a settled conflict) ---------------


def study_gone(window: Any) -> bool:
    """The window's open study was deleted meanwhile (in a merged copy): shown, not coded."""
    return bool(window.study_id) and window.session.store.get("study", window.study_id) is None


def gone_text(window: Any) -> str:
    """The banner over a study deleted meanwhile, or "" while it is in the project."""
    return tr("This study was deleted in a copy merged into the project, so it can no longer "
              "be coded. If it has coding, Team → Conflicts… offers to restore it.") if (
        study_gone(window)) else ""


def follow_open_study(window: Any, changed: rec.Changed) -> bool:
    """Show the open study as ``changed`` left it: its heading as it now is; deleted (or
    restored), with the coding locked (or not) and the form with it. When it was folded into
    another study, its coding moved there: that study is opened and True returned."""
    sid = window.study_id
    if not sid or sid not in changed.touched("study"):
        return False
    store = window.session.store
    study = store.get("study", sid)
    kept, seen = study, {sid}
    while kept is not None and kept.merged_into and kept.merged_into not in seen:
        target = store.get("study", kept.merged_into)
        if target is None:
            break
        kept = target
        seen.add(kept.id)
    if study is not None and kept is not None and kept.id != sid and window.open_study(kept.id):
        window.statusBar().showMessage(tr("{study} was merged into {kept}, which is open now.")
                                       .format(study=study.label or study.title or "",
                                               kept=kept.label or kept.title or ""), 15000)
        return True
    if study is not None:
        window.document_pane.show_heading(study)
    window.refresh_study()  # the form too: it is locked with a deleted study, open again after
    return False

