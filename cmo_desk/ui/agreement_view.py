"""Team → Agreement…: how well the coders agree, per code and pooled, from their own records."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import (
    QDialog, QDialogButtonBox, QHBoxLayout, QLabel, QListWidget, QListWidgetItem, QPushButton,
    QSplitter, QTabWidget, QVBoxLayout, QWidget,
)

from cmo_desk.domain.errors import CmoDeskError
from cmo_desk.domain.i18n import current_language, tr
from cmo_desk.agreement.agreement import AgreementReport, CodeAgreement
from cmo_desk.services import agreement
from cmo_desk.services.session import Session
from cmo_desk.ui.conflicts_view import RowsTableModel, table_view
from cmo_desk.ui.desk_host import DeskHost
from cmo_desk.ui.window_fit import fit_to_screen


def number(value: float | None, digits: int = 2) -> str:
    return "—" if value is None else f"{value:.{digits}f}"


def percent(value: float | None) -> str:
    return "—" if value is None else f"{value:.1f} %"


class AgreementView(QDialog):
    # Up to this many studies the report takes a blink, and a "Computing…" flash would be noise;
    # beyond it the report is computed in the background so the desk stays responsive.
    INLINE_STUDIES = 40

    def __init__(self, window: DeskHost, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.window = window
        self.session = window.session
        self.report: AgreementReport | None = None
        self.computing = False
        self._task: Any = None
        self.setWindowTitle(tr("Agreement between coders"))
        fit_to_screen(self, 980, 620)
        lay = QVBoxLayout(self)
        intro = QLabel(tr("Computed from each coder's own excerpts and CMOCs, never from "
                          "consensus CMOCs. Cohen's κ compares two coders; Krippendorff's α "
                          "(nominal) works for any number."))
        intro.setWordWrap(True)
        intro.setObjectName("hint")
        lay.addWidget(intro)
        split = QSplitter(Qt.Orientation.Horizontal)
        left = QWidget()
        left_lay = QVBoxLayout(left)
        left_lay.setContentsMargins(0, 0, 0, 0)
        left_lay.addWidget(QLabel(tr("Coders")))
        self.coder_list = QListWidget()
        for c in self.session.coders():
            item = QListWidgetItem(c.name or c.id)
            item.setData(Qt.ItemDataRole.UserRole, c.id)
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            item.setCheckState(Qt.CheckState.Checked)
            self.coder_list.addItem(item)
        left_lay.addWidget(self.coder_list, 1)
        self.compute_button = QPushButton(tr("Compute"))
        self.compute_button.setObjectName("primary")
        left_lay.addWidget(self.compute_button)
        split.addWidget(left)
        right = QWidget()
        right_lay = QVBoxLayout(right)
        right_lay.setContentsMargins(0, 0, 0, 0)
        self.headline = QLabel("")
        self.headline.setWordWrap(True)
        right_lay.addWidget(self.headline)
        self.tabs = QTabWidget()
        self.codes_model = RowsTableModel([tr("Code"), tr("Units"), tr("κ"), tr("α"),
                                           tr("Agreement"), tr("Applied by each coder")], self)
        self.codes_model.right_aligned = {1, 2, 3, 4}
        self.codes_table = table_view(self.codes_model, stretch=0)
        # long code names wrap instead of being cut
        self.codes_table.setWordWrap(True)
        self.codes_model.modelReset.connect(self.codes_table.resizeRowsToContents)
        self.tabs.addTab(self.codes_table, tr("Study × code"))
        self.overlap_model = RowsTableModel([tr("Study"), tr("Document"), tr("Code"),
                                             tr("Coders"), tr("Agreement"), tr("κ")], self)
        self.overlap_model.right_aligned = {4, 5}
        self.overlap_table = table_view(self.overlap_model, stretch=1)
        self.tabs.addTab(self.overlap_table, tr("Character overlap"))
        right_lay.addWidget(self.tabs, 1)
        self.notes = QLabel("")
        self.notes.setWordWrap(True)
        self.notes.setObjectName("hint")
        right_lay.addWidget(self.notes)
        split.addWidget(right)
        split.setSizes([160, 800])
        lay.addWidget(split, 1)
        buttons = QHBoxLayout()
        self.save_button = QPushButton(tr("Save as .docx or .csv…"))
        buttons.addWidget(self.save_button)
        buttons.addStretch(1)
        lay.addLayout(buttons)
        close = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        close.button(QDialogButtonBox.StandardButton.Close).setText(tr("Close"))
        close.rejected.connect(self.reject)
        lay.addWidget(close)
        self.compute_button.clicked.connect(self.refresh)
        self.save_button.clicked.connect(self.save)
        self.refresh()

    def refresh(self) -> None:
        """Compute for the ticked coders: at once for a small project, else in the background."""
        studies = self.session.store.count("study", merged_into=None)
        if studies > self.INLINE_STUDIES:
            self.compute_in_background()
        else:
            self.compute()

    def _coder_filter(self) -> list[str] | None:
        chosen = self.chosen_coders()
        return None if len(chosen) == self.coder_list.count() else chosen

    def compute_in_background(self) -> Any:
        """Start computing the report on the window's runner; the tables fill when it is done."""
        self._cancel_pending()
        coders = self._coder_filter()
        path, coder = self.session.path, self.session.coder_name

        def job(_progress: Any, cancelled: Any) -> AgreementReport | None:
            if cancelled():
                return None
            with Session.open(path, coder=coder) as session:
                return agreement.agreement_report(session, coders)

        self._set_computing(True)
        task = self.window.runner.start(job)
        task.signals.succeeded.connect(self._computed)
        task.signals.failed.connect(self._failed)
        self._task = task
        return task

    def _cancel_pending(self) -> None:
        if self._task is not None:
            # a superseded run reports "cancelled" instead of overwriting the newer result
            for signal, slot in ((self._task.signals.succeeded, self._computed),
                                 (self._task.signals.failed, self._failed)):
                try:
                    signal.disconnect(slot)
                except (RuntimeError, TypeError):
                    pass
            self._task.cancel()
            self._task = None

    def _set_computing(self, on: bool) -> None:
        self.computing = on
        self.compute_button.setEnabled(not on)
        self.save_button.setEnabled(not on)
        if on:
            self.headline.setText(tr("Computing…"))

    def _computed(self, report: AgreementReport | None) -> None:
        self._task = None
        self._set_computing(False)
        if report is not None:
            self.report = report
            self._show(report)

    def _failed(self, message: str) -> None:
        self._task = None
        self._set_computing(False)
        self._show_error(message)

    def _show_error(self, message: str) -> None:
        self.report = None
        self.headline.setText(message)
        self.codes_model.set_rows([])
        self.overlap_model.set_rows([])
        self.notes.setText("")

    def done(self, result: int) -> None:
        self._cancel_pending()
        super().done(result)

    def closeEvent(self, event: Any) -> None:
        self._cancel_pending()
        super().closeEvent(event)

    def chosen_coders(self) -> list[str]:
        out = []
        for row in range(self.coder_list.count()):
            item = self.coder_list.item(row)
            if item.checkState() == Qt.CheckState.Checked:
                out.append(str(item.data(Qt.ItemDataRole.UserRole)))
        return out

    def compute(self) -> AgreementReport | None:
        """Compute the report now, on this thread, and show it."""
        self._cancel_pending()
        self._set_computing(False)
        QGuiApplication.setOverrideCursor(Qt.CursorShape.WaitCursor)
        try:
            self.report = agreement.agreement_report(self.session, self._coder_filter())
        except CmoDeskError as err:
            self._show_error(str(err))
            return None
        finally:
            QGuiApplication.restoreOverrideCursor()
        self._show(self.report)
        return self.report

    def _code_row(self, row: CodeAgreement, title: str | None = None) -> tuple[tuple[str, ...],
                                                                                   Any]:
        names = self.report.coder_names if self.report else ()
        applied = " · ".join(f"{name}: {n}" for name, n in zip(names, row.applied))
        return ((title or tr(row.code_name), str(row.units), number(row.kappa),
                 number(row.alpha), percent(row.percent), applied), row)

    def _show(self, report: AgreementReport) -> None:
        share = percent(report.double_coded_share * 100) if report.double_coded_share is not None \
            else "—"
        self.headline.setText(
            "<b>" + tr("Coders: {names}").format(names=", ".join(report.coder_names)) + "</b><br>"
            + tr("Studies double-coded: {n} of {total} ({share})").format(
                n=report.studies_double_coded, total=report.studies_total, share=share))
        rows = [self._code_row(report.pooled, tr("All codes (pooled)"))]
        rows += [self._code_row(r) for r in report.per_code]
        self.codes_model.set_rows(rows)
        names = dict(zip(report.coder_ids, report.coder_names))
        self.overlap_model.set_rows([
            ((o.study_label, o.document_name, tr(o.code_name),
              f"{names.get(o.coder_a, '?')} · {names.get(o.coder_b, '?')}",
              percent(o.result.percent), number(o.result.kappa)), o)
            for o in report.overlaps])
        self.notes.setText("\n".join(report.notes))

    def save(self) -> str | None:
        if self.report is None:
            return None
        path = self.window.dialogs.save_path(
            tr("Save agreement report"), tr("Word (*.docx);;CSV (*.csv)"),
            str(self.session.path.with_name(self.session.path.stem + "-agreement.docx")))
        if not path:
            return None
        try:
            written = agreement.export_agreement(self.report, path, current_language())
        except CmoDeskError as err:
            self.window.report_error(str(err))
            return None
        self.window.statusBar().showMessage(tr("Saved {path}").format(path=written), 10000)
        return str(written)


def open_agreement(window: DeskHost) -> AgreementView:
    view = AgreementView(window, window.window())
    view.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    view.show()
    window.keep_open("agreement", view)
    return view


__all__ = ["AgreementView", "open_agreement"]
