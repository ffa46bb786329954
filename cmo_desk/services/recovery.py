"""Damage and crashes: checking a project, finding the latest good backup, keeping the lock alive.

The desk opens a project with ``Session.open``; on ``DamagedProjectError`` the message already names
the latest good backup, and :func:`latest_good_backup` gives it to offer a "Restore" button that
calls ``services.backups.restore_backup``. Nothing here ever writes to a damaged file.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from cmo_desk.domain.errors import DamagedProjectError, ProjectError
from cmo_desk.domain.i18n import tr
from cmo_desk.services.session import Session
from cmo_desk.store import backups as files
from cmo_desk.store import locking
from cmo_desk.store.backups import BackupInfo

__all__ = ["CheckReport", "SalvageResult", "check_project", "latest_good_backup", "lock_holder",
           "lost_lock", "refresh_lock", "release_lock", "salvage"]


@dataclass(frozen=True)
class CheckReport:
    project: Path
    problems: list[str] = field(default_factory=list)
    latest_backup: BackupInfo | None = None

    @property
    def ok(self) -> bool:
        return not self.problems

    def summary(self) -> str:
        if self.ok:
            return tr("{name}: no damage found.").format(name=self.project.name)
        shown = "; ".join(self.problems[:5]) + ("; …" if len(self.problems) > 5 else "")
        if str(self.project) in shown or shown.startswith(self.project.name):
            text = shown  # the message already names the file
        else:
            text = tr("{name} is damaged: {problems}").format(name=self.project.name,
                                                              problems=shown)
        if self.latest_backup is not None:
            text += " " + tr("Restore the latest good backup with: cmo-desk restore \"{project}\" "
                             "\"{backup}\"").format(project=self.project,
                                                    backup=self.latest_backup.path.name)
            text += " " + tr("To keep the work done since that backup, rescue it into a new "
                             "file with: cmo-desk salvage \"{project}\"").format(
                project=self.project)
        else:
            text += " " + tr("No good backup of it was found.")
        return text


def check_project(path: str | os.PathLike[str], projection: bool = True) -> CheckReport:
    """Integrity check, foreign keys, and (unless ``projection`` is False) that the visible
    records match the change log. Read-only: the file is never changed."""
    path = Path(path)
    try:
        problems = files.full_check(path, projection=projection)
    except DamagedProjectError as err:  # a file held by another program is not damage
        problems = [str(err).split(" Restore")[0].split(" The file was left")[0]]
    return CheckReport(path, problems, latest_good_backup(path) if problems else None)


def latest_good_backup(path: str | os.PathLike[str]) -> BackupInfo | None:
    """The newest backup of the project that passes SQLite's quick check, or None."""
    return files.latest_good(Path(path))


def refresh_lock(session: Session) -> bool:
    """For the desk's timer (every minute or so): keep this desk's lock fresh so other laptops
    do not take it for abandoned. False means the lock was lost (another machine cleared it):
    the desk should tell the user and reopen the project."""
    lock = session.store.lock
    return True if lock is None else locking.heartbeat(lock)


def lost_lock(session: Session) -> str:
    """This desk's lock was taken over by another desk: stop saving (read-only from now on) and
    say so. Returns the message, also kept as the store's ``read_only_reason``."""
    holder = locking.read_lock(session.path)
    who = holder.describe() if holder else tr("another program")
    message = tr("Another desk ({who}) took over {name}, so this desk stopped saving and is now "
                 "read-only. Everything saved until now is in the file. Close the project and "
                 "reopen it when the other desk has finished.").format(
        who=who, name=session.path.name)
    session.store.become_read_only(message)
    return message


def release_lock(session: Session) -> None:
    """Give up the lock early (closing the session does this too)."""
    if session.store.lock is not None:
        locking.release(session.store.lock)


def lock_holder(path: str | os.PathLike[str]) -> str | None:
    """Who has the project open for editing, in words, or None when nobody (or a stale lock)."""
    path = Path(path)
    info = locking.read_lock(path)
    lock_file = locking.lock_path_for(path)
    if not lock_file.exists() or locking.is_stale(info, lock_file):
        return None
    return info.describe() if info else tr("another program")


@dataclass(frozen=True)
class SalvageResult:
    """A new project: the latest good backup with every readable change of the damaged file."""

    project: Path
    backup: Path
    salvaged: Path
    #: Changes read from the damaged file, and how many of them the backup lacked.
    changes_read: int
    changes_recovered: int
    documents_recovered: int
    #: Rows of the damaged file that could not be read (lost unless the backup has them).
    unreadable: int
    #: The damaged file's change log could not be read at all.
    log_lost: bool = False

    def summary(self) -> str:
        text = tr("Wrote {salvaged}: the backup {backup} with {recovered} changes from the damaged "
                  "file that the backup lacked ({read} readable changes in all, {docs} documents)."
                  ).format(salvaged=self.salvaged, backup=self.backup.name,
                           recovered=self.changes_recovered, read=self.changes_read,
                           docs=self.documents_recovered)
        if self.log_lost:
            text += " " + tr("The change log of the damaged file could not be read at all, so "
                             "the result holds only what the backup held.")
        elif self.unreadable:
            text += " " + tr("{n} rows of the damaged file could not be read; what they held is "
                             "lost unless the backup has it.").format(n=self.unreadable)
        text += " " + tr("Check the result, then put it in place of the damaged file with: "
                         "cmo-desk restore \"{project}\" \"{salvaged}\"").format(
            project=self.project, salvaged=self.salvaged)
        return text


def salvage(path: str | os.PathLike[str], backup: str | os.PathLike[str] | None = None,
            out: str | os.PathLike[str] | None = None) -> SalvageResult:
    """Merge every readable change of a damaged project into its latest good backup, as a new
    file beside it. Neither the damaged file nor the backup is changed."""
    import tempfile

    from cmo_desk.services.backups import find_backup
    from cmo_desk.store import salvage as rescue

    path = Path(path)
    if backup is not None:
        source = find_backup(path, backup)
    else:
        good = latest_good_backup(path)
        if good is None:
            raise ProjectError(tr(
                "No good backup of {name} was found to rescue its changes into.").format(
                name=path.name))
        source = good.path
    problems = files.quick_check(source)
    if problems:
        raise ProjectError(tr("The backup {name} is damaged too ({detail}); choose an older "
                              "one.").format(name=source.name, detail=problems[0]))
    dest = Path(out) if out is not None else path.with_name(f"{path.stem}.salvaged{path.suffix}")
    if dest.exists():
        raise ProjectError(tr("{path} already exists. Move it away or choose another name with "
                              "--output.").format(path=dest))
    with tempfile.TemporaryDirectory(prefix="cmo-desk-salvage-") as tmp, \
            files.readable_copy(source) as plain:
        log = rescue.read_log(path, Path(tmp) / "log.cmo", schema_from=plain)
        new_changes, new_blobs = rescue.merge_into_copy(plain, log.path, dest)
    return SalvageResult(path, source, dest, log.changes, new_changes, new_blobs,
                         log.unreadable_rows, log.log_lost)
