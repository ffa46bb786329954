"""Backup copies of a project, their rotation, restoring one, and checking a file for damage.

Backups go to ``backups/`` beside the project, named ``<stem>_<YYYY-MM-DD_HH-MM-SS>_<reason>.cmo``
(local time, so a user can find them by eye). When the project's folder cannot be written (a
read-only share, a locked USB stick) they go to the user data folder instead; listing looks in both.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import sqlite3
import tempfile
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from platformdirs import user_data_dir

from cmo_desk.domain.i18n import tr
from cmo_desk.store.readonly import read_uri
from cmo_desk.store.site import APP_NAME

BACKUP_DIR_NAME = "backups"
#: Rotation: the newest KEEP_RECENT backups, plus the newest of each of the last KEEP_DAYS days.
KEEP_RECENT = 10
KEEP_DAYS = 7
REASONS = ("open", "timer", "manual", "merge", "upgrade", "before-restore", "damaged")
_STAMP = "%Y-%m-%d_%H-%M-%S"
SQLITE_HEADER = b"SQLite format 3\x00"
COUNTED = ("study", "document", "excerpt", "cmoc", "consensus", "code")


@dataclass(frozen=True)
class BackupInfo:
    path: Path
    created: datetime
    reason: str
    size: int
    #: Live records per type, read from the backup itself; empty when it cannot be read.
    counts: dict[str, int]
    changes: int | None
    readable: bool

    def as_dict(self) -> dict[str, object]:
        return {"path": str(self.path), "name": self.path.name,
                "created": self.created.isoformat(timespec="seconds"), "reason": self.reason,
                "size": self.size, "counts": self.counts, "changes": self.changes,
                "readable": self.readable}


def data_dir() -> Path:
    override = os.environ.get("CMO_DESK_DATA_DIR")
    return Path(override) if override else Path(user_data_dir(APP_NAME, appauthor=False))


def fallback_dir(project: Path) -> Path:
    """The user-data folder for a project whose own folder is read-only (one per project path)."""
    digest = hashlib.sha1(os.path.normcase(str(project.resolve())).encode("utf-8")).hexdigest()
    return data_dir() / BACKUP_DIR_NAME / f"{project.stem}-{digest[:10]}"


def beside_dir(project: Path) -> Path:
    return project.parent / BACKUP_DIR_NAME


def _writable(folder: Path) -> bool:
    # os.access lies on network shares and Windows ACLs; trying is the only reliable test.
    try:
        folder.mkdir(parents=True, exist_ok=True)
        fd, probe = tempfile.mkstemp(prefix=".probe", dir=folder)
        os.close(fd)
        os.unlink(probe)
        return True
    except OSError:
        return False


def backup_dir_for(project: Path) -> Path:
    """Where new backups of ``project`` go."""
    here = beside_dir(project)
    return here if _writable(here) else fallback_dir(project)


def _pattern(project: Path) -> re.Pattern[str]:
    return re.compile(rf"^{re.escape(project.stem)}_(\d{{4}}-\d\d-\d\d_\d\d-\d\d-\d\d)(?:-(\d+))?"
                      rf"_([a-z-]+){re.escape(project.suffix or '.cmo')}$")


def read_header(path: Path) -> bytes:
    with open(path, "rb") as fh:
        return fh.read(16)


def _counts(path: Path) -> tuple[dict[str, int], int | None, bool]:
    try:
        if read_header(path) != SQLITE_HEADER:
            return {}, None, False
        con = sqlite3.connect(read_uri(path), uri=True)
        try:
            counts = {}
            for etype in COUNTED:
                try:
                    counts[etype] = int(con.execute(
                        f'SELECT count(*) FROM "{etype}" WHERE deleted = 0').fetchone()[0])
                except sqlite3.OperationalError:
                    pass
            changes = int(con.execute("SELECT count(*) FROM changes").fetchone()[0])
            con.execute("SELECT value FROM meta WHERE key='project_id'").fetchone()
        finally:
            con.close()
        return counts, changes, True
    except (OSError, sqlite3.DatabaseError):
        return {}, None, False


def list_backups(project: str | os.PathLike[str], with_counts: bool = True) -> list[BackupInfo]:
    """Backups of ``project``, newest first, from both places backups may be kept."""
    project = Path(project)
    pattern = _pattern(project)
    found: dict[Path, BackupInfo] = {}
    written: dict[Path, int] = {}
    for folder in (beside_dir(project), fallback_dir(project)):
        if not folder.is_dir():
            continue
        for entry in folder.iterdir():
            m = pattern.match(entry.name)
            if not m or not entry.is_file():
                continue
            try:
                created = datetime.strptime(m.group(1), _STAMP)
                stat = entry.stat()
                size, written[entry] = stat.st_size, stat.st_mtime_ns
            except (ValueError, OSError):
                continue
            counts, changes, readable = _counts(entry) if with_counts else ({}, None, True)
            found[entry] = BackupInfo(entry, created, m.group(3), size, counts, changes, readable)
    # within one second, the file written last is the newest
    return sorted(found.values(), key=lambda b: (b.created, written[b.path], b.path.name),
                  reverse=True)


def _new_name(folder: Path, project: Path, reason: str) -> Path:
    stamp = time.strftime(_STAMP)
    suffix = project.suffix or ".cmo"
    candidate = folder / f"{project.stem}_{stamp}_{reason}{suffix}"
    n = 2
    while candidate.exists():
        candidate = folder / f"{project.stem}_{stamp}-{n}_{reason}{suffix}"
        n += 1
    return candidate


def copy_database(src: Path, dest: Path) -> None:
    """A consistent copy of a live SQLite file (WAL included), written under a temp name first."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_name(dest.name + ".partial")
    tmp.unlink(missing_ok=True)
    try:
        s = sqlite3.connect(read_uri(src), uri=True)
        d = sqlite3.connect(tmp)
        try:
            s.backup(d)
            d.execute("PRAGMA journal_mode=DELETE")
        finally:
            d.close()
            s.close()
        _fsync(tmp)
        os.replace(tmp, dest)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def _fsync(path: Path) -> None:
    try:
        with open(path, "rb+") as fh:
            os.fsync(fh.fileno())
    except OSError:
        pass


def make_backup(project: str | os.PathLike[str], reason: str) -> Path:
    """Copy the project into its backup folder and rotate old copies. Returns the new copy."""
    project = Path(project)
    dest = _new_name(backup_dir_for(project), project, reason)
    copy_database(project, dest)
    rotate(project)
    return dest


def keep_raw_copy(project: Path, reason: str = "damaged") -> Path:
    """Byte-for-byte copy of a (possibly damaged) project with its -wal/-shm files, for rescue."""
    dest = _new_name(backup_dir_for(project), project, reason)
    shutil.copyfile(project, dest)
    for extra in ("-wal", "-shm"):
        side = Path(str(project) + extra)
        if side.exists():
            shutil.copyfile(side, Path(str(dest) + extra))
    return dest


def to_keep(backups: list[BackupInfo], now: datetime | None = None) -> set[Path]:
    """The newest KEEP_RECENT, plus the newest of each of the last KEEP_DAYS calendar days."""
    now = now or datetime.now()
    ordered = sorted(backups, key=lambda b: (b.created, b.path.name), reverse=True)
    keep = {b.path for b in ordered[:KEEP_RECENT]}
    days_seen: set[object] = set()
    for b in ordered:
        day = b.created.date()
        if (now.date() - day).days < KEEP_DAYS and day not in days_seen:
            days_seen.add(day)
            keep.add(b.path)
    return keep


def rotate(project: str | os.PathLike[str], now: datetime | None = None) -> list[Path]:
    """Delete backups the rotation no longer keeps. Returns what was deleted."""
    backups = list_backups(project, with_counts=False)
    keep = to_keep(backups, now)
    removed = []
    for b in backups:
        if b.path not in keep:
            for p in (b.path, Path(str(b.path) + "-wal"), Path(str(b.path) + "-shm")):
                try:
                    p.unlink()
                except FileNotFoundError:
                    pass
                except OSError:
                    break
            else:
                removed.append(b.path)
    return removed


def last_modified(project: Path) -> float:
    """When the project's content last changed on disk (WAL included)."""
    times = []
    for p in (project, Path(str(project) + "-wal")):
        try:
            times.append(p.stat().st_mtime)
        except OSError:
            pass
    return max(times, default=0.0)


def _truncated(path: Path) -> bool:
    """Whether the file is shorter than the database its header describes (a cut-off copy)."""
    with open(path, "rb") as fh:
        header = fh.read(100)
    if len(header) < 100:
        return True
    page_size = int.from_bytes(header[16:18], "big")
    page_size = 65536 if page_size == 1 else page_size
    pages = int.from_bytes(header[28:32], "big")
    # The header's page count is only trustworthy when it was written with the current content.
    if pages == 0 or header[24:28] != header[92:96]:
        return False
    return path.stat().st_size < pages * page_size


#: Files up to this size get SQLite's full quick check on opening; larger ones a cheaper check,
#: so that opening a big project stays fast (``cmo-desk check`` always checks everything).
THOROUGH_OPEN_CHECK_BYTES = 64 * 1024 * 1024


def quick_check(path: Path, thorough: bool = True) -> list[str]:
    """Problems found by SQLite's quick check and a look at the meta table; empty when fine.

    With ``thorough=False`` the page-by-page check is replaced by a test for truncation.
    """
    try:
        if read_header(path) != SQLITE_HEADER:
            return [tr("It is not an SQLite file.")]
        if _truncated(path):
            return [tr("The file is shorter than it should be: it was cut off while copying.")]
        con = sqlite3.connect(read_uri(path), uri=True)
        try:
            rows = ["ok"] if not thorough else [
                str(r[0]).replace("\n", "; ") for r in con.execute("PRAGMA quick_check").fetchall()]
            if rows != ["ok"]:
                return rows[:10]
            if not con.execute("SELECT value FROM meta WHERE key='project_id'").fetchone():
                return [tr("It has no project id.")]
        finally:
            con.close()
    except (OSError, sqlite3.DatabaseError) as err:
        return [str(err)]
    return []


def latest_good(project: str | os.PathLike[str]) -> BackupInfo | None:
    """The newest backup that passes the quick check."""
    for b in list_backups(project, with_counts=False):
        if b.reason != "damaged" and not quick_check(b.path):
            return list_backups_one(b.path)
    return None


def list_backups_one(path: Path) -> BackupInfo:
    counts, changes, readable = _counts(path)
    m = re.search(r"_(\d{4}-\d\d-\d\d_\d\d-\d\d-\d\d)(?:-\d+)?_([a-z-]+)\.[^.]+$", path.name)
    created = (datetime.strptime(m.group(1), _STAMP) if m
               else datetime.fromtimestamp(path.stat().st_mtime))
    return BackupInfo(path, created, m.group(2) if m else "manual", path.stat().st_size, counts,
                      changes, readable)


def project_id_of(path: Path) -> str | None:
    try:
        con = sqlite3.connect(read_uri(path), uri=True)
        try:
            row = con.execute("SELECT value FROM meta WHERE key='project_id'").fetchone()
        finally:
            con.close()
        return row[0] if row else None
    except (OSError, sqlite3.DatabaseError):
        return None


def checkpoint(project: Path) -> None:
    """Fold the WAL into the main file so the file alone is the whole project."""
    con = sqlite3.connect(project)
    try:
        con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        con.close()


def replace_with_copy(project: Path, source: Path) -> None:
    """Make ``project`` a copy of ``source``, atomically: a crash leaves the old or the new file.

    The old -wal/-shm files are removed before the swap: SQLite would otherwise replay the old
    WAL onto the restored file and damage it.
    """
    tmp = project.with_name(project.name + ".restoring")
    tmp.unlink(missing_ok=True)
    try:
        copy_database(source, tmp)
    except sqlite3.DatabaseError:
        tmp.unlink(missing_ok=True)
        raise
    for extra in ("-wal", "-shm"):
        Path(str(project) + extra).unlink(missing_ok=True)
    os.replace(tmp, project)
    try:
        dir_fd = os.open(project.parent, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)
    except OSError:
        pass  # Windows cannot fsync a folder; the replace itself is atomic there


def backup_if_due(project: str | os.PathLike[str], reason: str, every_seconds: float) -> Path | None:
    """Back up unless the newest backup is younger than ``every_seconds`` or the project has not
    changed since it was taken."""
    project = Path(project)
    newest = next(iter(list_backups(project, with_counts=False)), None)
    if newest is not None:
        try:
            taken = newest.path.stat().st_mtime
        except OSError:
            taken = 0.0
        if time.time() - taken < every_seconds or last_modified(project) <= taken:
            return None
    return make_backup(project, reason)


def full_check(project: str | os.PathLike[str], projection: bool = True) -> list[str]:
    """Every problem found in a project file, in plain words; empty when it is sound.

    Runs SQLite's integrity and foreign-key checks, then (unless ``projection`` is False) rebuilds
    the visible tables from the change log in a temporary copy and compares the two.
    """
    from cmo_desk.store.project_store import ProjectStore, _make_engine, inspect_file
    from cmo_desk.store.site import Site

    project = Path(project)
    inspect_file(project)  # raises DamagedProjectError / ProjectError with its own message
    problems: list[str] = []
    try:
        con = sqlite3.connect(read_uri(project), uri=True)
        try:
            rows = [line.strip() for r in con.execute("PRAGMA integrity_check").fetchall()
                    for line in str(r[0]).splitlines()
                    if line.strip() and not line.startswith("*** in database")]
            if rows and rows != ["ok"]:
                problems += [tr("Integrity check: {detail}").format(detail=r) for r in rows[:20]]
            fk = con.execute("PRAGMA foreign_key_check").fetchall()
            for table, rowid, parent, _ in fk[:20]:
                problems.append(tr("Row {rowid} of {table} points to a missing {parent}.").format(
                    rowid=rowid, table=table, parent=parent))
        finally:
            con.close()
    except sqlite3.DatabaseError as err:
        return [tr("The file cannot be read: {detail}").format(detail=err)]
    if problems or not projection:
        return problems
    with tempfile.TemporaryDirectory(prefix="cmo-desk-check-") as tmpdir:
        copy = Path(tmpdir) / "check.cmo"
        try:
            copy_database(project, copy)
            store = ProjectStore(copy, _make_engine(copy), Site(site_id="check"), read_only=False)
            try:
                before = store.dump()
                store.rebuild()
                after = store.dump()
            finally:
                store.engine.dispose()
        except (sqlite3.DatabaseError, Exception) as err:  # noqa: BLE001 - any failure is damage
            return [tr("The records could not be rebuilt from the change log: {detail}").format(
                detail=getattr(err, "orig", err))]
        for key in sorted(set(before) | set(after)):
            if before.get(key) != after.get(key):
                problems.append(tr(
                    "The visible {what} differ from what the change log says.").format(
                    what=key.replace("_", " ")))
    return problems
