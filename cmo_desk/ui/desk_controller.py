"""The project behind the desk: background work, opening other projects, the team's exchanges,
settings, and the timers that keep the file locked, backed up and saved.

It receives the session, the dialogs and the runner, and reports through the desk's window,
which also refreshes the open study and moves to another project.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, QTimer
from PySide6.QtWidgets import QMenu, QMessageBox

from cmo_desk.domain.i18n import current_language, tr
from cmo_desk.services.session import Session
from cmo_desk.services.settings import Settings
from cmo_desk.ui.dialogs import Dialogs
from cmo_desk.ui.coding_actions import CodingActions
from cmo_desk.ui.workers import BackgroundRunner, ProjectWork, Task, run_with_progress

if TYPE_CHECKING:
    from cmo_desk.ui.main_window import MainWindow

LOCK_REFRESH_MS = 60_000
BACKUP_CHECK_MS = 5 * 60_000
#: How often changes the disk refused are tried again (and the -wal copied into the file).
SAVE_RETRY_MS = 3_000


class DeskController(QObject):
    def __init__(self, session: Session | None, dialogs: Dialogs, runner: BackgroundRunner,
                 window: MainWindow, settings: Settings, actions: CodingActions) -> None:
        super().__init__(window)
        self.session = session  # type: ignore[assignment]
        self.dialogs = dialogs
        self.runner = runner
        self.window = window
        self.settings = settings
        self.actions = actions
        self.timers: list[QTimer] = []
        self.progress_dialog: Any = None
        if session is not None:
            self.attach(session)

    def attach(self, session: Session) -> None:
        """Work for ``session`` (the desk paints before its project is open)."""
        self.session = session
        if not session.read_only and not self.timers:
            # (the same list the window holds: filled in place)
            self.timers.extend([self._every(LOCK_REFRESH_MS, self.refresh_lock),
                                self._every(BACKUP_CHECK_MS, self.maybe_backup),
                                self._every(SAVE_RETRY_MS, self.retry_saves)])

    def _every(self, ms: int, fn: Callable[[], None]) -> QTimer:
        timer = QTimer(self)
        timer.setInterval(ms)
        timer.timeout.connect(fn)
        timer.start()
        return timer

    def _status(self, message: str, ms: int) -> None:
        self.window.statusBar().showMessage(message, ms)

    # -- background work -----------------------------------------------------------------

    def run_task(self, title: str, work: Any, on_success: Any) -> Task:
        """Run ``work(session, progress, cancelled)`` in the background with its own session."""
        job = ProjectWork(self.session.path, self.session.coder_name, work)

        def done(result: Any) -> None:
            self.window.publish(job)
            on_success(result)

        def failed(message: str) -> None:
            self.window.publish(job)
            self.window.report_error(message)

        def cancelled() -> None:
            self.window.publish(job)
            self._status(tr("Cancelled; nothing was changed."), 6000)

        task, dialog = run_with_progress(self.runner, self.window, title, job, done, failed,
                                         cancelled)
        self.progress_dialog = dialog
        return task

    # -- other projects ------------------------------------------------------------------

    def new_project(self) -> None:
        path = self.dialogs.save_path(tr("New project"), tr("CMO Desk projects (*.cmo)"))
        if not path:
            return
        if not path.endswith(".cmo"):
            path += ".cmo"
        from cmo_desk.services.projects import new_project

        ok, session = self.actions.run(lambda: new_project(path, coder=self.session.coder_name))
        if ok:
            self.window.switch_to(session)

    def open_project(self) -> None:
        paths = self.dialogs.open_paths(tr("Open project"), tr("CMO Desk projects (*.cmo)"))
        if paths:
            self.open_path(paths[0])

    def open_path(self, path: str) -> None:
        from cmo_desk.ui.backups_view import open_with_recovery
        from cmo_desk.ui.opening_state import announce_upgrade

        announce_upgrade(self.window, Path(path))
        ok, session = self.actions.run(
            lambda: open_with_recovery(path, self.session.coder_name, self.dialogs))
        if ok:
            self.window.switch_to(session)

    def fill_recent(self, menu: QMenu) -> None:
        menu.clear()
        for p in self.settings.recent:
            menu.addAction(p, lambda path=p: self.open_path(path))  # type: ignore[misc]
        if not self.settings.recent:
            menu.addAction(tr("(none yet)")).setEnabled(False)

    # -- bringing work in and sending it out ---------------------------------------------

    def import_files(self) -> None:
        paths = self.dialogs.open_paths(tr("Import references and full texts"), tr(
            "References and full texts (*.ris *.bib *.nbib *.txt *.xml *.json *.pdf *.docx "
            "*.odt *.html *.htm);;All files (*)"))
        if paths:
            self.start_import(paths)

    def import_folder(self) -> None:
        folder = self.dialogs.open_folder(tr("Import a folder of references and full texts"))
        if folder:
            self.start_import([folder])

    def start_import(self, paths: list[str]) -> Any:
        from cmo_desk.ui.import_flow import start_desk_import

        return start_desk_import(self.window, paths)

    def export_project(self) -> Any:
        from cmo_desk.ui.export_dialog import open_export

        return open_export(self.window)

    def sync_with_hub(self) -> Any:
        from cmo_desk.ui.hub_flow import sync_with_hub

        return sync_with_hub(self.window)

    def merge_projects(self) -> None:
        from cmo_desk.ui.merge_flow import choose_and_merge

        choose_and_merge(self.window)

    def send_my_work(self) -> Any:
        from cmo_desk.ui.merge_flow import send_my_work

        return send_my_work(self.window)

    # -- settings and help ---------------------------------------------------------------

    def preferences(self) -> None:
        answer = self.dialogs.preferences(self.settings.coder_name or "",
                                          self.settings.language or current_language())
        if answer:
            name, lang = answer
            self.settings.coder_name = name or self.settings.coder_name
            self.settings.language = lang
            try:
                self.settings.save()
            except OSError as err:
                self.window.report_error(str(err))
            self._status(tr("Saved. Restart CMO Desk to use the new settings."), 8000)

    def show_shortcuts(self) -> None:
        rows = [
            ("Ctrl+1 / 2 / 3 / 4", tr("Mark the selected passage as Context / Mechanism / "
                                      "Outcome / Other")),
            ("Ctrl+5", tr("Mark with codes…")),
            ("Ctrl+Shift+N", tr("New CMOC from the selected excerpts")),
            ("Ctrl+Z / Ctrl+Shift+Z", tr("Undo / redo a coding action")),
            ("Ctrl+F", tr("Find in this study")),
            ("Ctrl+Shift+F", tr("Search all studies")),
            ("Ctrl+PgUp / PgDown", tr("Previous / next study")),
            ("Ctrl+Shift+O", tr("Show or hide other coders' work")),
        ]
        html = "<table cellpadding=4>" + "".join(
            f"<tr><td><b>{k}</b></td><td>{v}</td></tr>" for k, v in rows) + "</table>"
        QMessageBox.information(self.window, tr("Keyboard shortcuts"), html)

    # -- keeping the file locked, backed up and saved ------------------------------------

    def refresh_lock(self) -> None:
        from cmo_desk.services import recovery

        try:
            if not recovery.refresh_lock(self.session):
                # Saving on would mix two desks' writes under one lock: stop saving here.
                recovery.lost_lock(self.session)
                self.stop()
                self.window.report_error(self.session.store.read_only_reason or "")
                self.window.refresh_study()
        except Exception:  # noqa: BLE001 - a network share hiccup must not close the desk
            pass

    def maybe_backup(self) -> None:
        from cmo_desk.services import backups

        # written on its own thread; a failure is shown at the next check
        backups.maybe_backup(self.session, background=True)
        warning, self.session.store.backup_warning = self.session.store.backup_warning, None
        if warning:
            self._status(warning, 30_000)

    def retry_saves(self) -> None:
        if self.actions.unsaved:
            self.actions.retry_unsaved()
        elif self.session.store.unsettled:
            self.session.store.settle()

    def stop(self) -> None:
        for t in self.timers:
            t.stop()
