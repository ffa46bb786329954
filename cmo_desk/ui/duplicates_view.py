"""Team → Duplicates…: the same study or code added by two coders, proposed as one.

Accepting is written as data, so the decision travels to the other laptops with the next merge.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QDialog, QDialogButtonBox, QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget,
)

from cmo_desk.domain.errors import CmoDeskError
from cmo_desk.domain.i18n import tr, trn
from cmo_desk.services import duplicates
from cmo_desk.ui.conflicts_view import RowsTableModel, primary_button, selected_row, table_view
from cmo_desk.ui.desk_host import DeskHost
from cmo_desk.ui.workers import follow_changes
from cmo_desk.ui.window_fit import fit_to_screen


class DuplicatesView(QDialog):
    def __init__(self, window: DeskHost, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.window = window
        self.session = window.session
        self.proposals: list[duplicates.DuplicateProposal] = []
        self.setWindowTitle(tr("Duplicates"))
        fit_to_screen(self, 860, 460)
        lay = QVBoxLayout(self)
        intro = QLabel(tr("Studies and codes that look like the same thing added twice. "
                          "Accepting one moves everything attached to the duplicate onto the "
                          "record that is kept; nothing is deleted."))
        intro.setWordWrap(True)
        intro.setObjectName("hint")
        lay.addWidget(intro)
        self.model = RowsTableModel([tr("Kind"), tr("Keep"), tr("Duplicate"), tr("Why")], self)
        self.table = table_view(self.model, stretch=1)
        lay.addWidget(self.table, 1)
        row = QHBoxLayout()
        self.summary = QLabel("")
        self.summary.setObjectName("hint")
        row.addWidget(self.summary, 1)
        self.reject_button = QPushButton(tr("Not the same"))
        self.reject_button.setToolTip(tr("Keep both; this pair is not proposed again"))
        row.addWidget(self.reject_button)
        self.accept_button = primary_button(tr("Accept"))
        row.addWidget(self.accept_button)
        lay.addLayout(row)
        close = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        close.button(QDialogButtonBox.StandardButton.Close).setText(tr("Close"))
        close.rejected.connect(self.reject)
        lay.addWidget(close)
        self.accept_button.clicked.connect(self.accept_selected)
        self.reject_button.clicked.connect(self.reject_selected)
        self.refresh()

    def refresh(self) -> None:
        try:
            self.proposals = duplicates.find_duplicates(self.session)
        except CmoDeskError as err:
            self.proposals = []
            self.window.report_error(str(err))
        self.model.set_rows([((duplicates.kind_title(p.kind), p.keep_label, p.duplicate_label,
                               p.reason), p) for p in self.proposals])
        self.summary.setText(trn("{n} proposal", "{n} proposals",
                                 len(self.proposals)).format(n=len(self.proposals))
                             if self.proposals else tr("No duplicates found."))
        if self.proposals:
            self.table.selectRow(0)
        self.accept_button.setEnabled(bool(self.proposals) and not self.session.read_only)
        self.reject_button.setEnabled(self.accept_button.isEnabled())

    def accept_selected(self) -> bool:
        proposal = self.model.item(selected_row(self.table))
        if proposal is None:
            return False
        actions = getattr(self.window, "actions", None)
        if actions is not None:  # at the desk: a study folded by mistake can be taken back
            if not actions.accept_duplicate(proposal):
                return False
        else:
            try:
                duplicates.accept_duplicate(self.session, proposal)
            except CmoDeskError as err:
                self.window.report_error(str(err))
                return False
        self.window.statusBar().showMessage(tr("Merged {dup} into {keep}.").format(
            dup=proposal.duplicate_label, keep=proposal.keep_label), 8000)
        self.refresh()
        return True

    def reject_selected(self) -> bool:
        proposal = self.model.item(selected_row(self.table))
        if proposal is None:
            return False
        try:
            duplicates.reject_duplicate(self.session, proposal)
        except CmoDeskError as err:
            self.window.report_error(str(err))
            return False
        self.refresh()
        return True


def open_duplicates(window: DeskHost) -> DuplicatesView:
    view = DuplicatesView(window, window.window())
    view.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    follow_changes(view, window.session, view.refresh,
                   lambda changed: bool(changed.touched("study") or changed.touched("code")))
    view.show()
    window.keep_open("duplicates", view)
    return view


__all__ = ["DuplicatesView", "open_duplicates"]
