"""Reading a project file without changing it, wherever it lies: a folder of one's own, a
write-protected USB stick, a disk that is full.

SQLite opens a file in WAL mode by creating its ``-shm`` (and ``-wal``) beside it. Where that is
impossible (a read-only medium, a full disk) and the file has no saved changes waiting in a
``-wal``, the main file alone is the whole project, and it is read as immutable instead.
"""

from __future__ import annotations

import os
import re
import shutil
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

from cmo_desk.domain.errors import ProjectError
from cmo_desk.domain.i18n import tr
from cmo_desk.store.logformat import LOG_PARTS

__all__ = ["attach_name", "connect_read_only", "copy_with_wal", "journal_pending",
           "new_log_file", "on_read_only_medium", "read_uri", "roll_back_cut_rewrite",
           "stranded_wal", "temporary_folder", "wal_pending"]


def _uri(path: Path, extra: str = "") -> str:
    # as_uri() escapes what SQLite would read as the start of options ("?", "#", "%")
    return f"{Path(path).absolute().as_uri()}?mode=ro{extra}"


def wal_pending(path: Path) -> bool:
    """Whether ``path`` has a ``-wal`` file with content (saved changes the main file may lack)."""
    try:
        return Path(str(path) + "-wal").stat().st_size > 0
    except OSError:
        return False


#: Temporary folders of this program are named ``cmo-desk-<kind>-<process id>-…``.
TEMPORARY_PREFIX = "cmo-desk-"
#: A temporary folder this old whose process is gone was left by a kill or a power cut.
STALE_AFTER_SECONDS = 24 * 3600
_TEMPORARY_NAME = re.compile(rf"^{re.escape(TEMPORARY_PREFIX)}[a-z]+-(\d+)-")


def temporary_folder(kind: str) -> Path:
    """A new temporary folder for ``kind`` of work (a copy to read, a bundle being packed...).

    Such folders are removed when the work ends; a process killed halfway (a power cut) leaves
    its folder behind, with copies of project data in it. The folders earlier processes left so
    are removed first, so that they do not pile up in a temporary folder nobody empties."""
    remove_stale_temporary_folders()
    return Path(tempfile.mkdtemp(prefix=f"{TEMPORARY_PREFIX}{kind}-{os.getpid()}-"))


def remove_stale_temporary_folders(now: float | None = None) -> list[Path]:
    """Delete the temporary folders of processes that are gone and that are older than
    ``STALE_AFTER_SECONDS``; returns them. A folder in use is never removed: its process is
    running (or, where that cannot be asked, its files are open and cannot be deleted)."""
    now = time.time() if now is None else now
    removed: list[Path] = []
    try:
        entries = list(os.scandir(tempfile.gettempdir()))
    except OSError:
        return removed
    for entry in entries:
        found = _TEMPORARY_NAME.match(entry.name)
        if not found or int(found.group(1)) == os.getpid():
            continue
        try:
            if not entry.is_dir(follow_symlinks=False) or \
                    now - entry.stat(follow_symlinks=False).st_mtime < STALE_AFTER_SECONDS:
                continue
        except OSError:
            continue
        if _running(int(found.group(1))):
            continue
        shutil.rmtree(entry.path, ignore_errors=True)
        removed.append(Path(entry.path))
    return removed


def _running(pid: int) -> bool:
    if sys.platform == "win32":
        return False  # (a folder whose files are open cannot be deleted there)
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True  # someone else's process
    return True


def journal_pending(path: Path) -> bool:
    """Whether ``path`` has a ``-journal`` with content: a rewrite through a rollback journal
    (compaction's VACUUM) was cut off, and the file may hold half-written pages until SQLite
    puts the old ones back from it."""
    try:
        return Path(str(path) + "-journal").stat().st_size > 0
    except OSError:
        return False


def roll_back_cut_rewrite(path: Path, wait: float = 5.0) -> None:
    """Put back what a cut-off rewrite of ``path`` half changed, from its ``-journal``.

    Only a connection that may write does this (SQLite does it on its first read); a read-only
    one refuses the file, and an immutable one would read the half-written pages as they are.
    A journal that a running rewrite still holds is not touched (SQLite sees its lock)."""
    if not journal_pending(path) or not Path(path).is_file() or on_read_only_medium(path):
        return  # (connecting to a missing file would create an empty one)
    try:
        con = sqlite3.connect(str(path), timeout=wait)
        try:
            con.execute("SELECT count(*) FROM sqlite_master").fetchone()
        finally:
            con.close()
    except sqlite3.Error:
        pass  # reading it read-only then says what is wrong


def stranded_wal(path: str | os.PathLike[str]) -> bool:
    """Whether saved edits wait in a ``-wal`` beside a file in a folder that cannot be written:
    SQLite cannot read them there (it must make a ``-shm`` first), so a copy of both is read."""
    return wal_pending(Path(path)) and on_read_only_medium(path)


def copy_with_wal(path: str | os.PathLike[str], folder: Path | None = None) -> Path:
    """A copy of ``path`` and its ``-wal`` (in ``folder``, default a new temporary folder), where
    SQLite can read every saved edit. The original is only read."""
    path = Path(path)
    folder = folder or temporary_folder("read")
    copy = folder / (path.stem + ".read.cmo")
    try:
        shutil.copyfile(path, copy)
        shutil.copyfile(Path(str(path) + "-wal"), Path(str(copy) + "-wal"))
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    return copy


def on_read_only_medium(path: str | os.PathLike[str]) -> bool:
    """Whether nothing can be written in the project's folder (a locked stick, a CD...)."""
    return not os.access(Path(path).resolve().parent, os.W_OK)


def read_uri(path: str | os.PathLike[str], immutable: bool | None = None) -> str:
    """A read-only SQLite URI for ``path`` (any characters in the name are quoted).

    ``immutable`` (no lock, no ``-shm``) defaults to: on a read-only medium with no saved edits
    waiting in a ``-wal`` file (those must not be missed).
    """
    path = Path(path)
    if immutable is None:
        immutable = on_read_only_medium(path) and not wal_pending(path)
    return _uri(path.resolve(), "&immutable=1" if immutable else "")


def attach_name(path: str | os.PathLike[str]) -> str:
    """What to ATTACH to read ``path``: its name, or an immutable URI when (as on a read-only
    medium) SQLite could not open it the usual way."""
    con = connect_read_only(path)
    try:
        immutable = isinstance(con, _ImmutableConnection)
    finally:
        con.close()
    return _uri(Path(path), "&immutable=1") if immutable else str(Path(path).resolve())


def connect_read_only(path: str | os.PathLike[str], wait: float = 5.0) -> sqlite3.Connection:
    """A read-only connection to a project file that never writes beside it when it need not;
    it waits up to ``wait`` seconds for a program holding the file locked.

    Raises ``sqlite3.DatabaseError`` when the file cannot be read, and ProjectError when saved
    changes wait in a ``-wal`` file that cannot be opened (a read-only copy of an open project).
    """
    path = Path(path)
    roll_back_cut_rewrite(path, wait)
    con = sqlite3.connect(_uri(path), uri=True, check_same_thread=False, timeout=wait)
    try:
        con.execute("SELECT count(*) FROM sqlite_master").fetchone()
        return con
    except sqlite3.OperationalError as err:
        con.close()
        text = str(err).lower()
        if "unable to open" not in text and "i/o error" not in text and "readonly" not in text:
            raise
        # Read as unchanging, the file would miss what waits beside it: the saved changes in a
        # -wal, or the old pages of a cut-off rewrite in a -journal.
        for waiting, ending in ((wal_pending, "-wal"), (journal_pending, "-journal")):
            if waiting(path):
                raise ProjectError(tr(
                    "{name} cannot be read here: saved changes wait in {wal}, and this disk "
                    "cannot be written. Copy {name} together with {wal} to a folder of your own "
                    "and open the copy.").format(name=path.name, wal=path.name + ending)) \
                    from None
    # Nothing waits in a -wal: the main file is the whole project and nobody is writing it
    # (a writer would have made its -shm), so it can be read as an unchanging file.
    con = _ImmutableConnection(_uri(path, "&immutable=1"), uri=True, check_same_thread=False,
                               timeout=wait)
    con.execute("SELECT count(*) FROM sqlite_master").fetchone()
    return con


class _ImmutableConnection(sqlite3.Connection):
    """A connection that reads the file as unchanging (no -shm, no -wal)."""


#: The tables (and their indexes) of a file that holds a change log and nothing else: a bundle, a
#: pull from the hub, a salvaged log. It merges like a whole project.
LOG_FILE_PARTS = ("meta", "blobs", "alembic_version", *LOG_PARTS,
                  # a log before 0007
                  "changes", "ix_changes_entity", "ix_changes_entity_id", "ix_changes_clock")


def new_log_file(dest: Path, layout_from: str | os.PathLike[str],
                 keep_meta: object = None) -> sqlite3.Connection:
    """Create ``dest`` with the log tables of the project ``layout_from`` (read, never changed),
    its ``meta`` rows (those ``keep_meta(key)`` accepts, when given) and its schema revision; the
    open connection is returned for the rows to be added."""
    src = connect_read_only(layout_from)
    try:
        names = ", ".join("?" * len(LOG_FILE_PARTS))
        schema = [r[0] for r in src.execute(
            "SELECT sql FROM sqlite_master WHERE type IN ('table', 'index', 'view') "
            f"AND sql IS NOT NULL AND name IN ({names}) ORDER BY type = 'view', rowid",
            LOG_FILE_PARTS)]
        meta = [(k, v) for k, v in src.execute("SELECT key, value FROM meta")
                if keep_meta is None or keep_meta(k)]  # type: ignore[operator]
        revision = src.execute("SELECT version_num FROM alembic_version").fetchall()
    finally:
        src.close()
    Path(dest).unlink(missing_ok=True)
    out = sqlite3.connect(dest)
    for sql in schema:
        out.execute(sql)
    out.executemany("INSERT INTO meta (key, value) VALUES (?, ?)", meta)
    out.executemany("INSERT INTO alembic_version (version_num) VALUES (?)", revision)
    return out
