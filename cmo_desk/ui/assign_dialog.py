"""Team → Assign this study…: the coders who code a study blind."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QLabel, QVBoxLayout, QWidget

from cmo_desk.domain.errors import CmoDeskError
from cmo_desk.domain.i18n import tr
from cmo_desk.services import coding
from cmo_desk.services.session import Session
from cmo_desk.ui.desk_host import DeskHost
from cmo_desk.ui.window_fit import fit_to_screen


class AssignDialog(QDialog):
    """Tick the coders who code a study blind; a new name adds a coder."""

    def __init__(self, session: Session, study_label: str, parent: QWidget | None = None,
                 study_id: str | None = None) -> None:
        from PySide6.QtWidgets import QLineEdit, QListWidget, QListWidgetItem

        super().__init__(parent)
        self.setWindowTitle(tr("Assign study"))
        fit_to_screen(self, 420, 420)
        lay = QVBoxLayout(self)
        lay.addWidget(QLabel(tr("Who codes {study}?").format(study=study_label)))
        self.coder_list = QListWidget()
        # those already coding it are shown ticked; assigning adds coders, it takes none away
        on_it = coding.study_status(session, study_id) if study_id else {}
        for c in session.coders():
            item = QListWidgetItem(c.name or c.id)
            item.setData(Qt.ItemDataRole.UserRole, c.name or c.id)
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            if c.id in on_it:
                item.setFlags(item.flags() & ~Qt.ItemFlag.ItemIsEnabled)
            item.setCheckState(Qt.CheckState.Checked if c.id in on_it
                               else Qt.CheckState.Unchecked)
            self.coder_list.addItem(item)
        lay.addWidget(self.coder_list, 1)
        self.new_names = QLineEdit()
        self.new_names.setPlaceholderText(tr("Other coders, separated by commas"))
        lay.addWidget(self.new_names)
        box = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok
                               | QDialogButtonBox.StandardButton.Cancel)
        box.button(QDialogButtonBox.StandardButton.Ok).setText(tr("Assign"))
        box.button(QDialogButtonBox.StandardButton.Cancel).setText(tr("Cancel"))
        box.accepted.connect(self.accept)
        box.rejected.connect(self.reject)
        lay.addWidget(box)

    def check(self, name: str) -> None:
        for row in range(self.coder_list.count()):
            item = self.coder_list.item(row)
            if item.text() == name:
                item.setCheckState(Qt.CheckState.Checked)

    def names(self) -> list[str]:
        out = []
        for row in range(self.coder_list.count()):
            item = self.coder_list.item(row)
            if item.checkState() == Qt.CheckState.Checked and \
                    item.flags() & Qt.ItemFlag.ItemIsEnabled:
                out.append(str(item.data(Qt.ItemDataRole.UserRole)))
        out += [n.strip() for n in self.new_names.text().split(",") if n.strip()]
        return out


def assign_study(window: DeskHost) -> bool:
    """Team → Assign this study…: choose the coders of the open study."""
    from cmo_desk.services import agreement

    session: Session = window.session
    if not window.study_id:
        window.report_error(tr("Choose a study first."))
        return False
    study = session.store.get("study", window.study_id)
    dialog = AssignDialog(session, (study.label or study.title or "") if study else "",
                          window.window(), window.study_id)
    try:
        if window.dialogs.run_dialog(dialog) != QDialog.DialogCode.Accepted:
            return False
        names = dialog.names()
    finally:
        dialog.deleteLater()
    try:
        ids = agreement.coder_ids_from_names(session, names)
        coding.assign(session, window.study_id, ids)
    except CmoDeskError as err:
        window.report_error(str(err))
        return False
    window.statusBar().showMessage(tr("Assigned {study} to {n} coders.").format(
        study=study.label if study else "", n=len(ids)), 8000)
    return True
