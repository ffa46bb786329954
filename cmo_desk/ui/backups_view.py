"""File → Backups…: the project's backups, restoring one, and rescuing a damaged project on open.

Restoring goes through ``services.backups.restore_backup``, which keeps the current file as a
backup first (byte for byte when it is damaged), so nothing is ever lost by restoring.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QDialog, QDialogButtonBox, QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget,
)

from cmo_desk.domain.errors import Cancelled, CmoDeskError, DamagedProjectError
from cmo_desk.domain.i18n import tr
from cmo_desk.services import backups, recovery
from cmo_desk.services.backups import BackupInfo, contents_text, reason_title, size_text
from cmo_desk.services.session import Session
from cmo_desk.ui.conflicts_view import RowsTableModel, primary_button, selected_row, table_view
from cmo_desk.ui.dialogs import Dialogs
from cmo_desk.ui.language import local_datetime
from cmo_desk.ui.window_fit import fit_to_screen

if TYPE_CHECKING:
    from cmo_desk.ui.main_window import MainWindow


class BackupsView(QDialog):
    """The backups of the window's project, newest first."""

    def __init__(self, window: MainWindow, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.window = window
        self.project: Path = window.session.path
        self.setWindowTitle(tr("Backups of {name}").format(name=self.project.name))
        fit_to_screen(self, 760, 460)
        lay = QVBoxLayout(self)
        intro = QLabel(tr("CMO Desk backs up the project when it is opened, every few minutes "
                          "while you edit, and before a merge. Restoring one keeps the project "
                          "as it is now as a backup too."))
        intro.setWordWrap(True)
        intro.setObjectName("hint")
        lay.addWidget(intro)
        self.model = RowsTableModel([tr("Saved"), tr("Why"), tr("Size"), tr("Contents"),
                                     tr("File")], self)
        self.model.right_aligned = {2}
        self.table = table_view(self.model, stretch=4)
        lay.addWidget(self.table, 1)
        buttons = QHBoxLayout()
        self.backup_button = QPushButton(tr("Back up now"))
        self.restore_button = primary_button(tr("Restore…"))
        buttons.addWidget(self.backup_button)
        buttons.addStretch(1)
        buttons.addWidget(self.restore_button)
        lay.addLayout(buttons)
        close = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        close.button(QDialogButtonBox.StandardButton.Close).setText(tr("Close"))
        close.rejected.connect(self.reject)
        lay.addWidget(close)
        self.backup_button.clicked.connect(self.back_up_now)
        self.restore_button.clicked.connect(lambda: self.restore_selected())
        self.table.doubleClicked.connect(lambda *_: self.restore_selected())
        self.backup_button.setEnabled(not window.session.read_only)
        self.refresh()

    def refresh(self) -> None:
        self.backups = backups.list_backups(self.project)
        self.model.set_rows([
            ((local_datetime(b.created, seconds=True), reason_title(b.reason), size_text(b.size),
              contents_text(b), b.path.name), b) for b in self.backups])
        if self.backups:
            self.table.selectRow(0)
        self.restore_button.setEnabled(bool(self.backups))

    def back_up_now(self) -> Path | None:
        try:
            made = backups.backup_before(self.window.session, "manual")
        except CmoDeskError as err:
            self.window.report_error(str(err))
            return None
        self.refresh()
        return made

    def restore_selected(self) -> Any:
        info = self.model.item(selected_row(self.table))
        if info is None:
            return None
        return restore_into_window(self.window, info, before=self.accept)


def restore_into_window(window: MainWindow, info: BackupInfo, before: Any = None) -> Any:
    """Restore a backup over the window's project and reopen it; returns the new window.

    ``before`` runs once the user has confirmed (the backups list closes itself with it)."""
    if not window.dialogs.confirm(tr(
            "Restore the backup saved {when} ({contents})? The project as it is now is kept as "
            "a backup too, and the project is reopened.").format(
            when=local_datetime(info.created), contents=contents_text(info))):
        return None
    if before is not None:
        before()
    path, coder = window.session.path, window.session.coder_name
    # the service refuses while this desk holds the project open, so let go of it first
    window.shutdown()
    window.session.close()
    window.owns_session = False
    message = None
    try:
        result = backups.restore_backup(path, info.path, coder)
        kept = result.previous_kept_as
        message = tr("Restored the backup {backup}.").format(backup=info.path.name)
        if kept:
            message += " " + tr("The project as it was is kept as {name}.").format(name=kept.name)
    except CmoDeskError as err:
        window.report_error(str(err))
    try:
        session = Session.open(path, coder=coder)
    except CmoDeskError as err:
        window.report_error(str(err))
        window.close()
        return None
    successor = window.switch_to(session)
    if successor is not None and message:
        successor.statusBar().showMessage(message, 15000)
    return successor


def open_backups(window: MainWindow) -> BackupsView:
    view = BackupsView(window, window)
    view.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    view.show()
    window.keep_open("backups", view)
    return view


def open_with_recovery(path: str | os.PathLike[str], coder: str | None,
                       dialogs: Dialogs | None) -> Session:
    """Open a project; when it is damaged, offer to rescue its work or restore its latest good
    backup.

    The damaged file is never written to. Rescuing writes a new file beside it (the backup with
    every change still readable in the damaged file) and opens that; restoring keeps the damaged
    file (byte for byte) as a backup, then copies the good backup over the project's name.
    Declining leaves everything as it was.
    """
    try:
        return Session.open(path, coder=coder)
    except DamagedProjectError as err:
        if dialogs is None:
            raise
        backup = getattr(err, "latest_backup", None)
        if backup is None:
            good = recovery.latest_good_backup(path)
            backup = good.path if good else None
        if backup is None:
            raise
        choice = dialogs.ask_recovery(str(err), Path(backup).name)
        if choice == "rescue":
            rescued = recovery.salvage(path, backup)
            session = Session.open(rescued.salvaged, coder=coder)
            dialogs.info(rescued.summary())
            return session
        if choice != "restore":
            raise Cancelled(tr("The damaged project was left as it is.")) from None
        result = backups.restore_backup(path, backup, coder)
        session = Session.open(path, coder=coder)
        dialogs.info(tr("Restored the backup {backup}.").format(backup=result.restored_from.name))
        return session


__all__ = ["BackupsView", "open_backups", "open_with_recovery", "restore_into_window"]
