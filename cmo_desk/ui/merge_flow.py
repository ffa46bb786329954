"""File → Merge…: coders' copies merged in the background, then a summary of what arrived.

Every file is read once: checked before anything is written, and Cancel is honoured up to
that point, so a cancelled merge leaves the project exactly as it was. Once writing has begun the
merge is allowed to finish (each file is one short transaction) and the summary says so.
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QDialog, QDialogButtonBox, QLabel, QPushButton, QScrollArea, QVBoxLayout, QWidget,
)

from cmo_desk.domain.errors import Cancelled, CmoDeskError
from cmo_desk.domain.i18n import tr, trn
from cmo_desk.services import merging
from cmo_desk.services.session import Session
from cmo_desk.ui.workers import ProjectWork, Task, run_with_progress
from cmo_desk.ui.window_fit import fit_to_screen

#: Result code of the summary dialog when the user asks to see the conflicts.
OPEN_CONFLICTS = 2


def summary_html(reports: Sequence[merging.MergeReport], written_after_cancel: bool = False) -> str:
    parts = []
    if written_after_cancel:
        parts.append("<p><b>" + escape(tr(
            "Cancel came after writing had begun, so the merge was completed.")) + "</b></p>")
    for r in reports:
        head = f"<h3>{escape(r.source.name)}</h3>"
        if r.changed_nothing:
            parts.append(head + "<p>" + escape(tr(
                "Nothing new: everything in this file was already in the project.")) + "</p>")
            continue
        rows = []
        for coder, per_type in r.arrived.items():
            who = coder or tr("no coder (project set-up)")
            what = merging.arrived_text(per_type)
            rows.append(f"<tr><td style='padding-right:12px'><b>{escape(who)}</b></td>"
                        f"<td>{escape(what)}</td></tr>")
        body = (f"<table cellpadding=2>{''.join(rows)}</table>" if rows else "")
        notes = [trn("{n} change arrived.", "{n} changes arrived.", r.new_changes).format(n=r.new_changes)]
        if r.new_blobs:
            notes.append(trn("{n} document file arrived.", "{n} document files arrived.",
                             r.new_blobs).format(n=r.new_blobs))
        if r.new_conflicts:
            notes.append(trn("{n} new conflict to settle.", "{n} new conflicts to settle.",
                             r.new_conflicts).format(n=r.new_conflicts))
        if r.far_future:
            notes.append(tr("{n} changes carry a clock far in the future; check that laptop's "
                            "date.").format(n=r.far_future))
        if r.rejected or r.rejected_blobs:
            notes.append(tr("{n} changes (and {m} document files) were left out: they, or "
                            "other changes to the same records, did not match their content; "
                            "the file was altered or damaged. Ask for a fresh copy.").format(
                n=r.rejected, m=r.rejected_blobs))
        if r.incomplete:
            notes.append(r.incomplete_note)
        if r.backup:
            notes.append(tr("The project was backed up first: {name}").format(
                name=r.backup.name))
        parts.append(head + body + "<p>" + "<br>".join(escape(n) for n in notes) + "</p>")
    total = reports[-1].conflicts_total if reports else 0
    parts.append("<p>" + escape(tr("Open conflicts in the project: {n}").format(n=total))
                 + "</p>")
    return "".join(parts)


class MergeSummary(QDialog):
    def __init__(self, reports: Sequence[merging.MergeReport], written_after_cancel: bool = False,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.reports = list(reports)
        self.setWindowTitle(tr("Merge finished"))
        fit_to_screen(self, 620, 460)
        lay = QVBoxLayout(self)
        self.text = QLabel(summary_html(self.reports, written_after_cancel))
        self.text.setWordWrap(True)
        self.text.setTextFormat(Qt.TextFormat.RichText)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        holder = QWidget()
        QVBoxLayout(holder).addWidget(self.text)
        holder.layout().addStretch(1)
        scroll.setWidget(holder)
        lay.addWidget(scroll, 1)
        box = QDialogButtonBox()
        self.conflicts_button: QPushButton | None = None
        if self.reports and self.reports[-1].conflicts_total:
            self.conflicts_button = QPushButton(tr("Open conflicts…"))
            self.conflicts_button.setObjectName("primary")
            box.addButton(self.conflicts_button, QDialogButtonBox.ButtonRole.ActionRole)
            self.conflicts_button.clicked.connect(lambda: self.done(OPEN_CONFLICTS))
        close = box.addButton(QDialogButtonBox.StandardButton.Close)
        close.setText(tr("Close"))
        box.rejected.connect(self.reject)
        lay.addWidget(box)


def choose_and_merge(window: Any) -> Task | None:
    paths = window.dialogs.open_paths(tr("Merge coders' copies"), tr(
        "CMO Desk projects and bundles (*.cmo *.cmobundle);;All files (*)"))
    return start_merge(window, paths) if paths else None


def start_merge(window: Any, paths: Sequence[str | Path]) -> Task | None:
    """Merge ``paths`` into the window's project in the background; the summary follows."""
    if not paths:
        return None
    if window.session.read_only:
        window.report_error(window.session.store.read_only_reason or tr(
            "This project is open read-only; nothing can be merged into it."))
        return None
    window.flush_edits()
    path, coder = window.session.path, window.session.coder_name
    files = [str(p) for p in paths]
    state: dict[str, Any] = {"reports": None}

    def merge(session: Session, progress: Any, cancelled: Any) -> Any:
        progress(0, 0)

        def before_write() -> None:
            # every file has been read once and checked (right project, compatible version)
            # and nothing is written yet: the last moment a Cancel leaves the project as it was
            if cancelled():
                raise Cancelled(tr("Cancelled; nothing was merged."))
            state["writing"] = True

        state["reports"] = merging.merge_projects(session, files, before_write=before_write)
        return state["reports"]

    work = ProjectWork(path, coder, merge)

    def finished(reports: Any, after_cancel: bool = False) -> None:
        window.publish(work)
        summary = MergeSummary(reports, after_cancel, window)
        window._merge_summary = summary
        try:
            if window.dialogs.run_dialog(summary) == OPEN_CONFLICTS:
                from cmo_desk.ui.conflicts_view import open_conflicts

                open_conflicts(window)
        finally:
            summary.deleteLater()

    def cancelled() -> None:
        if state["reports"] is not None:
            finished(state["reports"], True)
        else:
            window.publish(work)
            window.statusBar().showMessage(tr("Merge cancelled; nothing was merged."), 8000)

    def failed(message: str) -> None:
        window.publish(work)
        window.report_error(message)

    task, dialog = run_with_progress(window.runner, window, tr("Merging"), work, finished,
                                     failed, cancelled)
    window._progress_dialog = dialog
    window._merge_task = task
    return task


def send_my_work(window: Any) -> Path | None:
    """File → Send my work…: a small compressed bundle of only what the receiver lacks.

    The person chooses the receiver's copy (or the last file received from them), then where to
    save the bundle; the status bar says what it holds."""
    chosen = window.dialogs.open_paths(
        tr("Send my work: choose their copy, or the last file you received from them"),
        tr("CMO Desk projects and bundles (*.cmo *.cmobundle);;All files (*)"))
    if not chosen:
        return None
    theirs = Path(chosen[0])
    mine = window.session.path
    # a name not taken yet: last time's bundle for the same person is not offered again
    stem = f"{mine.stem}-for-{theirs.stem}"
    names = (mine.with_name(f"{stem}{'' if n == 1 else f'-{n}'}{merging.BUNDLE_SUFFIX}")
             for n in range(1, 1000))
    default = str(next((p for p in names if not p.exists()),
                       mine.with_name(stem + merging.BUNDLE_SUFFIX)))
    dest = window.dialogs.save_path(tr("Save my work as"),
                                    tr("CMO Desk bundles (*.cmobundle)"), default)
    if not dest:
        return None
    window.flush_edits()
    try:
        out, n, blobs = merging.make_delta_bundle(window.session, dest, theirs)
    except CmoDeskError as err:
        window.report_error(str(err))
        return None
    window.statusBar().showMessage(tr(
        "Wrote {path}: {n} changes and {blobs} document file(s) that {theirs} lacks "
        "({size} KB).").format(path=out.name, n=n, blobs=blobs, theirs=theirs.name,
                               size=max(1, out.stat().st_size // 1024)), 15000)
    return out


__all__ = ["MergeSummary", "OPEN_CONFLICTS", "choose_and_merge", "send_my_work", "start_merge",
           "summary_html"]
