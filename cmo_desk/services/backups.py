"""Backups as the desk and the command line use them: timed, before risky work, listing, restoring.

The desk calls :func:`maybe_backup` from a timer (every few minutes) and :func:`backup_before` before
a merge; opening a project already backs it up (at most once per half hour).
"""

from __future__ import annotations

import os
import sqlite3
from dataclasses import dataclass
from pathlib import Path

from cmo_desk.domain.errors import ProjectError, ReadOnlyError, ValidationError
from cmo_desk.domain.i18n import tr
from cmo_desk.services.session import Session
from cmo_desk.store import backups as files
from cmo_desk.store import locking
from cmo_desk.store.backups import BackupInfo

__all__ = ["BackupInfo", "RestoreResult", "backup_before", "find_backup", "list_backups",
           "maybe_backup", "restore_backup"]

#: The desk's timer backs up at most this often, and only when something changed.
TIMER_EVERY_MINUTES = 10


@dataclass(frozen=True)
class RestoreResult:
    project: Path
    restored_from: Path
    #: The project as it was before the restore, kept as a backup (None if there was no file).
    previous_kept_as: Path | None


def list_backups(project: str | os.PathLike[str]) -> list[BackupInfo]:
    """Backups of a project, newest first, with their size and record counts."""
    return files.list_backups(Path(project))


def maybe_backup(session: Session, every_minutes: float = TIMER_EVERY_MINUTES,
                 background: bool = False) -> Path | None:
    """For the desk's timer: a backup if the last one is older than ``every_minutes`` and the
    project changed since. Returns the new backup, or None. Never raises for a full disk: a
    failed backup must not stop the coder working; why it failed is kept, in words, as
    ``session.store.backup_warning`` for the desk to show.

    With ``background`` the backup is written on its own thread (compressing a large project
    takes seconds) and None is returned; closing the project waits for it."""
    if session.read_only:
        return None
    session.store.wait_for_backup()
    if background:
        path = session.path
        session.store.start_backup(lambda: _timer_backup(path, every_minutes)[1])
        return None
    made, warning = _timer_backup(session.path, every_minutes)
    if warning:
        session.store.backup_warning = warning
    return made


def _timer_backup(path: Path, every_minutes: float) -> tuple[Path | None, str | None]:
    try:
        return files.backup_if_due(path, "timer", every_minutes * 60), None
    except (OSError, sqlite3.Error) as err:
        return None, tr(
            "No backup of {name} could be made ({detail}). Your work is saved in the project "
            "itself; free some space on the disk so that backups can be made again.").format(
            name=path.name, detail=err)


def backup_before(session_or_path: Session | str | os.PathLike[str], reason: str = "merge") -> Path:
    """A backup right now, before a merge, an import or an upgrade (``reason`` names it)."""
    path = session_or_path.path if isinstance(session_or_path, Session) else Path(session_or_path)
    if isinstance(session_or_path, Session):
        session_or_path.store.wait_for_backup()
    if reason not in files.REASONS:
        raise ValidationError(f"Unknown backup reason {reason!r}.")
    try:
        if reason == "merge":
            # Nothing changed since the last backup: it already is the copy before the merge,
            # and a second full copy would only fill the disk.
            fresh = files.up_to_date_backup(path)
            if fresh is not None:
                return fresh
        return files.make_backup(path, reason)
    except (OSError, sqlite3.Error) as err:
        raise ProjectError(tr(
            "No backup of {name} could be made ({detail}). Free some disk space and try "
            "again; nothing was changed.").format(name=path.name, detail=err)) from None


def find_backup(project: str | os.PathLike[str], which: str | os.PathLike[str]) -> Path:
    """A backup given as a path, a file name from the list, or its number in the list (1 =
    newest)."""
    project = Path(project)
    text = str(which)
    candidates = list_backups(project)
    if text.isdigit() and not Path(text).exists():
        n = int(text)
        if 1 <= n <= len(candidates):
            return candidates[n - 1].path
        raise ValidationError(tr("There is no backup number {n}; {count} backups were found. "
                                 "List them with 'cmo-desk backups'.").format(
            n=n, count=len(candidates)))
    for b in candidates:
        if b.path.name == text:
            return b.path
    path = Path(text)
    if path.is_file():
        return path
    raise ValidationError(tr("{name} is not a backup of {project}. List them with "
                             "'cmo-desk backups'.").format(name=text, project=project.name))


def restore_backup(
    project: str | os.PathLike[str], backup: str | os.PathLike[str], coder: str | None = None,
) -> RestoreResult:
    """Replace the project with a backup, keeping the current file as a backup first.

    Refused while any desk (this one included) has the project open: close it, restore, reopen.
    """
    project = Path(project)
    source = find_backup(project, backup)
    problems = files.quick_check(source)
    if problems:
        raise ValidationError(tr("The backup {name} is damaged too ({detail}); choose an older "
                                 "one.").format(name=source.name, detail=problems[0]))
    if source.resolve() == project.resolve():
        raise ValidationError(tr("That is the project itself, not a backup."))
    if locking.holders_in_process(project):
        raise ReadOnlyError(tr("Close {name} before restoring a backup of it.").format(
            name=project.name))
    outcome = locking.acquire(project, coder)
    if isinstance(outcome, locking.LockedBy):
        who = outcome.info.describe() if outcome.info else tr("another program")
        raise ReadOnlyError(tr("{name} is open for editing by {who}. Ask them to close it, "
                               "then restore the backup.").format(name=project.name, who=who))
    try:
        kept: Path | None = None
        if project.exists():
            current_id = files.project_id_of(project)
            source_id = files.project_id_of(source)
            if current_id and source_id and current_id != source_id:
                raise ValidationError(tr(
                    "{backup} is a backup of a different project, not of {name}; nothing was "
                    "changed.").format(backup=source.name, name=project.name))
            kept = _keep_current(project)
        files.replace_with_copy(project, source)
    finally:
        locking.release(outcome)
    return RestoreResult(project, source, kept)


def _keep_current(project: Path) -> Path:
    if not files.quick_check(project):
        try:
            files.checkpoint(project)
            return files.make_backup(project, "before-restore")
        except (OSError, sqlite3.Error):
            pass
    # A damaged file is kept byte for byte (with its WAL): it may still hold rescuable work.
    return files.keep_raw_copy(project, "damaged")


# -- how a backup is described, in the desk's Backups window and by `cmo-desk backups` --


def reason_title(reason: str) -> str:
    return {
        "open": tr("when opened"), "timer": tr("while editing"), "manual": tr("by hand"),
        "merge": tr("before a merge"), "upgrade": tr("before an upgrade"),
        "before-restore": tr("before a restore"), "damaged": tr("damaged file kept"),
    }.get(reason, reason)


def size_text(size: int) -> str:
    if size >= 1024 * 1024:
        return tr("{n} MB").format(n=f"{size / 1024 / 1024:.1f}")
    return tr("{n} KB").format(n=max(1, round(size / 1024)))


def contents_text(info: BackupInfo) -> str:
    if not info.readable:
        return tr("cannot be read")
    c = info.counts
    return tr("{studies} studies, {excerpts} excerpts, {cmocs} CMOCs").format(
        studies=c.get("study", 0), excerpts=c.get("excerpt", 0), cmocs=c.get("cmoc", 0))
