"""What a project file is and what it holds, read with the sqlite3 module alone.

The checks every opening makes first (not a project, damaged, written by a newer version) live
here, and so does the summary ``cmo-desk info`` prints: neither needs the database library, so a
command that only looks at a file starts in a fraction of the time.
"""

from __future__ import annotations

import errno
import os
import sqlite3
from pathlib import Path
from typing import Any

from cmo_desk import __version__
from cmo_desk.domain.errors import DamagedProjectError, NewerProjectError, ProjectError
from cmo_desk.domain.i18n import tr
from cmo_desk.domain.storage import busy_message, classify, storage_error
from cmo_desk.store import backups
from cmo_desk.store.files import connect_read_only, stranded_wal
from cmo_desk.store.logformat import count_sql

#: Version of the file format (change log + meta). A file with a larger number is refused.
FORMAT_VERSION = 1
#: The newest Alembic revision this version ships.
HEAD_REVISION = "0008"
KNOWN_REVISIONS = ("0001", "0002", "0003", "0004", "0005", "0006", "0007", "0008")
#: Older layouts whose counted tables are this version's (their upgrade changes only how the log,
#: texts and the search index are stored): ``info`` reads them as they are, with no upgrade.
SUMMARY_REVISIONS = ("0004", "0005", "0006", "0007", "0008")
SQLITE_HEADER = b"SQLite format 3\x00"

#: What ``info`` counts: (key in the summary, table). Live records only, as ProjectStore.count.
COUNTED = (("studies", "study"), ("documents", "document"), ("excerpts", "excerpt"),
           ("cmocs", "cmoc"), ("consensus_cmocs", "consensus"), ("codes", "code"),
           ("theories", "theory"), ("review_cmocs", "review_cmoc"),
           ("theory_versions", "theory_version"))
#: Tables whose records can be folded into another (``merged_into``).
FOLDABLE = frozenset({"study", "code"})


def refuse_broken_link(path: Path) -> None:
    """A link that leads nowhere (an unplugged drive, a loop) is never replaced by a new project."""
    if not path.is_symlink():
        return
    try:
        os.stat(path)
        return
    except OSError as err:
        if err.errno == errno.ELOOP:
            raise ProjectError(tr(
                "{path} is a link that leads back to itself, not a project. Open the project "
                "file it was meant to point to, or choose another name.").format(
                path=path)) from None
    raise ProjectError(tr(
        "{path} is a link to {target}, which cannot be found (perhaps its drive is not "
        "plugged in). Connect it and try again; nothing was created.").format(
        path=path, target=os.readlink(path)))


def read_header(path: Path) -> bytes:
    try:
        with open(path, "rb") as fh:
            return fh.read(16)
    except OSError as err:
        raise ProjectError(tr("Cannot read {path}: {reason}. Check the path and try again.").format(
            path=path, reason=err.strerror))


def inspect_file(path: Path, wait: float = 5.0) -> dict[str, str]:
    """Read a project's meta table without opening it for writing; refuse what is not a project.
    A file another program holds locked is waited for up to ``wait`` seconds, then refused as
    busy."""
    path = Path(path)
    refuse_broken_link(path)
    if not path.exists():
        raise ProjectError(tr(
            "{path} does not exist. Check the path, or create it with 'cmo-desk new'.").format(
            path=path))
    if path.is_dir():
        raise ProjectError(tr("{path} is a folder, not a project file (*.cmo).").format(path=path))
    header = read_header(path)
    if header != SQLITE_HEADER:
        if not header:
            raise DamagedProjectError(tr(
                "{path} is empty: it is not a CMO Desk project. Restore a backup with "
                "'cmo-desk backups'.").format(path=path), problem=tr(
                "{path} is empty: it is not a CMO Desk project.").format(path=path))
        raise DamagedProjectError(tr(
            "{path} is not a CMO Desk project (it is not an SQLite file). "
            "Choose a .cmo file, or restore a backup with 'cmo-desk backups'.").format(path=path),
            problem=tr("{path} is not a CMO Desk project (it is not an SQLite file).").format(
                path=path))
    try:
        con = connect_read_only(path, wait)
        try:
            rows = dict(con.execute("SELECT key, value FROM meta").fetchall())
            try:
                rev = con.execute("SELECT version_num FROM alembic_version").fetchone()
            except sqlite3.DatabaseError:
                rev = None
        finally:
            con.close()
    except (sqlite3.DatabaseError, UnicodeDecodeError) as err:  # a scribbled meta row
        if classify(err) == "locked":
            raise ProjectError(busy_message(path.name, str(err))) from None
        if "no such table" in str(err):
            raise DamagedProjectError(tr(
                "{path} is an SQLite file but not a CMO Desk project (no project record)."
            ).format(path=path)) from None
        raise DamagedProjectError(tr(
            "{path} is damaged ({detail}). Restore the latest good backup with "
            "'cmo-desk backups'.").format(path=path, detail=err), problem=tr(
            "{path} is damaged ({detail}).").format(path=path, detail=err)) from None
    if "project_id" not in rows:
        raise DamagedProjectError(tr(
            "{path} is not a CMO Desk project (no project id).").format(path=path))
    rows["revision"] = rev[0] if rev else ""
    return rows


def check_compatible(meta: dict[str, str], path: Path) -> None:
    try:
        fmt = int(meta.get("format_version", "1"))
    except ValueError:
        fmt = 999
    if fmt > FORMAT_VERSION or (meta.get("revision") and meta["revision"] not in KNOWN_REVISIONS):
        made_by = meta.get("app_version") or "?"
        if made_by != __version__:
            raise NewerProjectError(tr(
                "{name} was saved by CMO Desk {made_by}, which is newer than this version "
                "({version}). Install the newer CMO Desk to open it; the file was not changed."
            ).format(name=path.name, made_by=made_by, version=__version__))
        # Same version number, newer file layout: a development build wrote it.
        raise NewerProjectError(tr(
            "{name} uses a newer file layout ({revision}) than this CMO Desk {version} "
            "understands. Install the CMO Desk that saved it to open it; the file was not "
            "changed.").format(name=path.name, revision=meta.get("revision") or fmt,
                               version=__version__))


def damaged_with_backup_hint(path: Path, problem: str) -> DamagedProjectError:
    """A DamagedProjectError saying ``problem`` (what is wrong, without advice) and naming the
    latest good backup (also as ``err.latest_backup``)."""
    good = backups.latest_good(path)
    message = problem.rstrip()
    if good is not None:
        message += " " + tr(
            "The file was left as it is. The latest good backup is {backup} (saved {when}); "
            "restore it with: cmo-desk restore \"{project}\" \"{backup}\"").format(
            backup=good.path.name, when=good.created.strftime("%Y-%m-%d %H:%M"), project=path)
        message += " " + tr("To keep the work done since that backup, rescue it into a new file "
                            "with: cmo-desk salvage \"{project}\"").format(project=path)
    else:
        message += " " + tr("The file was left as it is, and no backup of it was found.")
    return DamagedProjectError(message, problem=problem, latest_backup=good.path if good else None)


def read_info(path: str | os.PathLike[str]) -> dict[str, Any] | None:
    """The summary ``ProjectStore.info`` gives, read after the same checks as opening read-only
    (and refused with the same messages); None for a file of a layout older than
    ``SUMMARY_REVISIONS``, or one whose saved edits wait in a -wal that cannot be read in place:
    opening reads those through a copy."""
    path = Path(path)
    if stranded_wal(path):
        return None  # saved edits wait in a -wal on a write-protected stick: opening copies both
    try:
        meta = inspect_file(path)
    except DamagedProjectError as err:
        raise damaged_with_backup_hint(path, err.problem) from None
    check_compatible(meta, path)
    if meta.get("revision") not in SUMMARY_REVISIONS:
        return None
    problems = backups.quick_check(
        path, thorough=path.stat().st_size <= backups.THOROUGH_OPEN_CHECK_BYTES)
    if problems:
        raise damaged_with_backup_hint(path, tr(
            "{path} is damaged ({detail}).").format(path=path, detail=problems[0]))
    try:
        con = connect_read_only(path)
        try:
            con.execute("PRAGMA busy_timeout=5000")
            return summarise(con, meta["project_id"], meta["revision"])
        finally:
            con.close()
    except sqlite3.Error as err:
        problem = storage_error(err, path)
        if problem is None:
            raise
        if problem.kind == "damaged":
            raise damaged_with_backup_hint(path, tr(
                "{path} could not be opened ({detail}).").format(path=path, detail=err)) from None
        raise problem from None


def summarise(con: sqlite3.Connection, pid: str,
              revision: str = HEAD_REVISION) -> dict[str, Any]:
    """What a project holds: its title, live records of each kind, coders, conflicts, changes
    (``ProjectStore.info`` reads it here too), for a file of layout ``revision``."""
    def count(sql: str, *args: object) -> int:
        return int(con.execute(sql, args).fetchone()[0])

    title = con.execute("SELECT title FROM project WHERE id = ? AND deleted IS 0",
                        (pid,)).fetchone()
    info: dict[str, Any] = {
        "project_id": pid,
        "title": title[0] if title else None,
        "schema_version": revision,
        "format_version": FORMAT_VERSION,
    }
    for key, table in COUNTED:
        # a study folded into its duplicate, a code merged into another: counted once, as the
        # record they were folded into
        folded = " AND merged_into IS NULL" if table in FOLDABLE else ""
        info[key] = count(f'SELECT count(*) FROM "{table}" WHERE deleted IS 0{folded}')
    info["coders"] = [name for (name,) in con.execute(
        "SELECT name FROM coder WHERE deleted IS 0 ORDER BY name, id")]
    info["conflicts"] = count("SELECT count(*) FROM conflicts")
    info["changes"] = count(count_sql(con))
    return info
