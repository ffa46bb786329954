"""Backup copies of a project, their rotation, restoring one, and checking a file for damage.

Backups go to ``backups/`` beside the project, named ``<stem>_<YYYY-MM-DD_HH-MM-SS>_<reason>.cmo.gz``
(local time, so a user can find them by eye). When the project's folder cannot be written (a
read-only share, a locked USB stick) they go to the user data folder instead; listing looks in both.

A backup is a gzip-compressed SQLite file (any gzip tool opens it); its header's comment holds what
it contains (record counts, project id) so that listing need not decompress it. Backups made by
earlier versions are plain ``.cmo`` files; everything that reads backups reads both, and copies of
a damaged file (``damaged``) are kept byte for byte, uncompressed, with their -wal/-shm files.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import sqlite3
import struct
import tempfile
import time
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from platformdirs import user_data_dir

from cmo_desk.domain.atomic import replace_durably
from cmo_desk.domain.errors import ProjectError
from cmo_desk.domain.i18n import tr
from cmo_desk.domain.storage import busy_message, classify
from cmo_desk.store.files import connect_read_only, wal_pending
from cmo_desk.store.logformat import count_sql
from cmo_desk.store.site import APP_NAME

BACKUP_DIR_NAME = "backups"
#: Rotation: the newest KEEP_RECENT backups, plus the newest of each of the last KEEP_DAYS days.
KEEP_RECENT = 10
KEEP_DAYS = 7
#: All backups of a project together take at most this many times the project's size (or
#: MIN_CAP_BYTES, whichever is more); the oldest go first, the newest two are always kept.
CAP_FACTOR = 3
MIN_CAP_BYTES = 64 * 1024 * 1024
ALWAYS_KEEP = 2
#: Leftovers of an interrupted backup older than this are removed (seconds).
ORPHAN_AGE = 10 * 60
_LEFTOVER_ENDINGS = (".partial", ".partial-journal", ".partial-wal", ".partial-shm", "-journal")
REASONS = ("open", "timer", "manual", "merge", "upgrade", "before-restore", "damaged")
_STAMP = "%Y-%m-%d_%H-%M-%S"
SQLITE_HEADER = b"SQLite format 3\x00"
GZIP_MAGIC = b"\x1f\x8b"
COMPRESSED_SUFFIX = ".gz"
#: zlib level. On a 400 MB project level 1 packs to 31% of the size in a third of the time
#: level 6 takes to reach 28% (benchmarks/bench_backup.py): the time matters more on an old laptop.
COMPRESS_LEVEL = 1
_CHUNK = 1024 * 1024
_FEXTRA, _FNAME, _FCOMMENT = 0x04, 0x08, 0x10
_MAX_SUMMARY = 64 * 1024
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
                      rf"_([a-z-]+){re.escape(project.suffix or '.cmo')}"
                      rf"(?:{re.escape(COMPRESSED_SUFFIX)})?$")


def read_header(path: Path) -> bytes:
    with open(path, "rb") as fh:
        return fh.read(16)


def is_compressed(path: Path) -> bool:
    """Whether ``path`` is a gzip-compressed backup (by its first bytes, not its name)."""
    try:
        return read_header(path)[:2] == GZIP_MAGIC
    except OSError:
        return False


def _compress(src: Path, dest: Path, summary: dict[str, object], mtime: float) -> None:
    """Write ``src`` gzip-compressed to ``dest``, a megabyte at a time, with ``summary`` as JSON
    in the gzip header's comment field (RFC 1952; gzip tools skip it)."""
    comment = json.dumps(summary, ensure_ascii=True, sort_keys=True).encode("ascii")
    packer = zlib.compressobj(COMPRESS_LEVEL, zlib.DEFLATED, -zlib.MAX_WBITS)
    crc = size = 0
    with open(src, "rb") as fin, open(dest, "wb") as out:
        out.write(GZIP_MAGIC + bytes([8, _FCOMMENT]) + struct.pack("<I", int(mtime) & 0xFFFFFFFF)
                  + b"\x00\xff" + comment + b"\x00")
        while chunk := fin.read(_CHUNK):
            crc = zlib.crc32(chunk, crc)
            size += len(chunk)
            out.write(packer.compress(chunk))
        out.write(packer.flush())
        out.write(struct.pack("<II", crc & 0xFFFFFFFF, size & 0xFFFFFFFF))


def decompress(src: Path, dest: Path) -> None:
    """Write the content of the compressed backup ``src`` to ``dest``, a megabyte at a time.

    A cut-off or damaged backup raises ``OSError`` (the gzip checksum and length are checked);
    ``dest`` is then left for the caller to remove.
    """
    import gzip

    try:
        with gzip.open(src, "rb") as fin, open(dest, "wb") as out:
            shutil.copyfileobj(fin, out, _CHUNK)
    except EOFError as err:
        raise OSError(tr("The file is shorter than it should be: it was cut off while copying.")
                      ) from err
    except zlib.error as err:
        raise OSError(str(err)) from err


def _summary(path: Path) -> dict[str, object] | None:
    """What a compressed backup's header says it holds, or None when it says nothing readable."""
    def until_nul(fh: object) -> bytes:
        out = bytearray()
        while len(out) <= _MAX_SUMMARY:
            b = fh.read(1)  # type: ignore[attr-defined]
            if not b:
                raise ValueError("cut off")
            if b == b"\x00":
                return bytes(out)
            out += b
        raise ValueError("too long")

    try:
        with open(path, "rb") as fh:
            head = fh.read(10)
            if len(head) < 10 or head[:3] != GZIP_MAGIC + b"\x08":
                return None
            flags = head[3]
            if flags & _FEXTRA:
                (xlen,) = struct.unpack("<H", fh.read(2))
                fh.read(xlen)
            if flags & _FNAME:
                until_nul(fh)
            if not flags & _FCOMMENT:
                return None
            found = json.loads(until_nul(fh).decode("ascii"))
        return found if isinstance(found, dict) else None
    except (OSError, ValueError, struct.error):
        return None


@contextmanager
def readable_copy(path: Path) -> Iterator[Path]:
    """A backup as a plain SQLite file: the file itself, or (compressed) decompressed into a
    temporary folder that is removed afterwards. Raises ``OSError`` for a damaged backup."""
    if not is_compressed(path):
        yield path
        return
    with tempfile.TemporaryDirectory(prefix="cmo-desk-backup-") as tmp:
        plain = Path(tmp) / path.name.removesuffix(COMPRESSED_SUFFIX)
        decompress(path, plain)
        yield plain


def _counts(path: Path) -> tuple[dict[str, int], int | None, bool]:
    if is_compressed(path):
        found = _summary(path)
        if found is None:
            return {}, None, False
        held, logged = found.get("counts"), found.get("changes")
        return ({str(k): int(v) for k, v in held.items()} if isinstance(held, dict) else {},
                logged if isinstance(logged, int) else None, True)
    try:
        if read_header(path) != SQLITE_HEADER:
            return {}, None, False
        con = connect_read_only(path)
        try:
            counts: dict[str, int] = {}
            for etype in COUNTED:
                try:
                    counts[etype] = int(con.execute(
                        f'SELECT count(*) FROM "{etype}" WHERE deleted = 0').fetchone()[0])
                except sqlite3.OperationalError:
                    pass
            changes = int(con.execute(count_sql(con)).fetchone()[0])
            con.execute("SELECT value FROM meta WHERE key='project_id'").fetchone()
        finally:
            con.close()
        return counts, changes, True
    except (OSError, sqlite3.DatabaseError, UnicodeDecodeError):
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


def _new_name(folder: Path, project: Path, reason: str, compressed: bool = False) -> Path:
    stamp = time.strftime(_STAMP)
    suffix = (project.suffix or ".cmo") + (COMPRESSED_SUFFIX if compressed else "")
    candidate = folder / f"{project.stem}_{stamp}_{reason}{suffix}"
    n = 2
    while candidate.exists():
        candidate = folder / f"{project.stem}_{stamp}-{n}_{reason}{suffix}"
        n += 1
    return candidate


def copy_database(src: Path, dest: Path, durable: bool = True) -> None:
    """A consistent copy of a live SQLite file (WAL included), written under a temp name first
    (and, unless ``durable`` is False, flushed to disk before it takes the name ``dest``)."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_name(dest.name + ".partial")
    tmp.unlink(missing_ok=True)
    started = time.time()
    try:
        s = connect_read_only(src)
        d = sqlite3.connect(tmp)
        try:
            s.backup(d)
            d.execute("PRAGMA journal_mode=DELETE")
        finally:
            d.close()
            s.close()
        # The copy is dated when its snapshot was read, not when it was finished, so that an
        # edit made while it was written is never taken to be in it.
        os.utime(tmp, (started, started))
        if durable:
            replace_durably(tmp, dest)
        else:
            os.replace(tmp, dest)
    except BaseException:
        # (the copy of a project in WAL mode is in WAL mode until it is switched back)
        for ending in ("", "-journal", "-wal", "-shm"):
            Path(str(tmp) + ending).unlink(missing_ok=True)
        raise


def make_backup(project: str | os.PathLike[str], reason: str) -> Path:
    """Copy the project, compressed, into its backup folder and rotate old copies. Returns the
    new copy."""
    project = Path(project)
    remove_orphans(project)
    dest = _new_name(backup_dir_for(project), project, reason, compressed=True)
    write_compressed_copy(project, dest)
    rotate(project)
    return dest


def write_compressed_copy(src: Path, dest: Path) -> None:
    """A consistent, compressed copy of a live project: a plain snapshot is taken next to
    ``dest``, compressed under a temporary name, and moved into place durably. Both temporary
    files end in ``.partial``, so what an interruption leaves is removed as an orphan later."""
    plain = dest.with_name(dest.name + ".plain.partial")
    packed = dest.with_name(dest.name + ".partial")
    try:
        copy_database(src, plain, durable=False)
        taken = plain.stat().st_mtime
        counts, changes, _ = _counts(plain)
        _compress(plain, packed, {"counts": counts, "changes": changes,
                                  "project_id": project_id_of(plain)}, taken)
        # dated when its snapshot was read (see copy_database)
        os.utime(packed, (taken, taken))
        replace_durably(packed, dest)
    finally:
        for leftover in (plain, packed, Path(str(plain) + ".partial")):
            leftover.unlink(missing_ok=True)


def remove_orphans(project: str | os.PathLike[str], now: float | None = None) -> list[Path]:
    """Delete what interrupted backups left behind (``.partial`` copies and their journals)."""
    project = Path(project)
    now = time.time() if now is None else now
    removed = []
    for folder in (beside_dir(project), fallback_dir(project)):
        if not folder.is_dir():
            continue
        for entry in folder.iterdir():
            if not entry.name.startswith(project.stem + "_") or \
                    not entry.name.endswith(_LEFTOVER_ENDINGS):
                continue
            try:
                if now - entry.stat().st_mtime < ORPHAN_AGE:
                    continue  # perhaps still being written
                entry.unlink()
                removed.append(entry)
            except OSError:
                pass
    return removed


def up_to_date_backup(project: str | os.PathLike[str]) -> Path | None:
    """The newest backup, if nothing in the project changed since it was taken."""
    project = Path(project)
    newest = next(iter(list_backups(project, with_counts=False)), None)
    if newest is None or newest.reason == "damaged":
        return None
    try:
        taken = newest.path.stat().st_mtime
    except OSError:
        return None
    return newest.path if last_modified(project) <= taken else None


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


def within_cap(backups: list[BackupInfo], keep: set[Path], cap: int) -> set[Path]:
    """The kept backups, newest first, while their sizes add up to at most ``cap`` bytes
    (the newest ALWAYS_KEEP whatever their size; copies of a damaged file are never dropped)."""
    ordered = sorted((b for b in backups if b.path in keep),
                     key=lambda b: (b.created, b.path.name), reverse=True)
    total, kept = 0, set()
    for n, b in enumerate(ordered):
        total += b.size
        if n < ALWAYS_KEEP or total <= cap or b.reason == "damaged":
            kept.add(b.path)
    return kept


def cap_bytes(project: Path) -> int:
    try:
        size = project.stat().st_size
    except OSError:
        size = 0
    return max(MIN_CAP_BYTES, CAP_FACTOR * size)


def rotate(project: str | os.PathLike[str], now: datetime | None = None) -> list[Path]:
    """Delete backups the rotation no longer keeps. Returns what was deleted."""
    backups = list_backups(project, with_counts=False)
    keep = within_cap(backups, to_keep(backups, now), cap_bytes(Path(project)))
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


def cut_off(path: Path) -> bool:
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

    With ``thorough=False`` the page-by-page check is replaced by a test for truncation. A
    compressed backup is decompressed into a temporary folder and checked there.
    """
    if is_compressed(path):
        try:
            with readable_copy(path) as plain:
                return quick_check(plain, thorough)
        except OSError as err:
            return [str(err)]
    try:
        if read_header(path) != SQLITE_HEADER:
            return [tr("It is not an SQLite file.")]
        # With saved pages waiting in the -wal (a checkpoint cut short by a full disk), the
        # main file may be shorter than its header says; SQLite reads those pages from the -wal.
        if not wal_pending(path) and cut_off(path):
            return [tr("The file is shorter than it should be: it was cut off while copying.")]
        con = connect_read_only(path)
        try:
            rows = ["ok"] if not thorough else [
                str(r[0]).replace("\n", "; ") for r in con.execute("PRAGMA quick_check").fetchall()]
            if rows != ["ok"]:
                return rows[:10]
            if not con.execute("SELECT value FROM meta WHERE key='project_id'").fetchone():
                return [tr("It has no project id.")]
        finally:
            con.close()
    except (OSError, sqlite3.DatabaseError, UnicodeDecodeError) as err:
        # (a damaged page can make even SQLite's own report undecodable)
        return [str(err)]
    except UnicodeDecodeError:  # scribbled bytes inside the meta table
        return [tr("Its project record is unreadable.")]
    return []


def latest_good(project: str | os.PathLike[str]) -> BackupInfo | None:
    """The newest backup that passes the quick check."""
    for b in list_backups(project, with_counts=False):
        if b.reason != "damaged" and not quick_check(b.path):
            return list_backups_one(b.path)
    return None


def list_backups_one(path: Path) -> BackupInfo:
    counts, changes, readable = _counts(path)
    m = re.search(r"_(\d{4}-\d\d-\d\d_\d\d-\d\d-\d\d)(?:-\d+)?_([a-z-]+)\.[^.]+(?:\.gz)?$",
                  path.name)
    created = (datetime.strptime(m.group(1), _STAMP) if m
               else datetime.fromtimestamp(path.stat().st_mtime))
    return BackupInfo(path, created, m.group(2) if m else "manual", path.stat().st_size, counts,
                      changes, readable)


def project_id_of(path: Path) -> str | None:
    if is_compressed(path):
        found = _summary(path) or {}
        pid = found.get("project_id")
        return pid if isinstance(pid, str) else None
    try:
        con = connect_read_only(path)
        try:
            row = con.execute("SELECT value FROM meta WHERE key='project_id'").fetchone()
        finally:
            con.close()
        return row[0] if row else None
    except (OSError, sqlite3.DatabaseError, UnicodeDecodeError):  # damaged meta row: unknown
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
        if is_compressed(source):
            # a compressed backup is already a whole, self-contained database
            decompress(source, tmp)
        else:
            copy_database(source, tmp)
    except (sqlite3.DatabaseError, OSError):
        tmp.unlink(missing_ok=True)
        raise
    for extra in ("-wal", "-shm"):
        Path(str(project) + extra).unlink(missing_ok=True)
    replace_durably(tmp, project)


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


def _log_problems(con: sqlite3.Connection) -> list[str]:
    """The changes of the log whose content no longer matches their id, in words."""
    from cmo_desk.store.merging import log_mismatches

    bad, records, more = log_mismatches(con)
    if not bad:
        return []
    return [tr("Changes in the change log that no longer match their content id (the file "
               "was altered or damaged): {n}, in {records}.").format(
        n=bad, records=", ".join(records) + (", …" if more else ""))]


def full_check(project: str | os.PathLike[str], projection: bool = True) -> list[str]:
    """Every problem found in a project file, in plain words; empty when it is sound.

    Runs SQLite's integrity and foreign-key checks, then (unless ``projection`` is False) rebuilds
    the visible tables from the change log in a temporary copy and compares the two.
    """
    from cmo_desk.store.fileinfo import HEAD_REVISION, inspect_file
    from cmo_desk.store.opening import make_engine, run_migrations
    from cmo_desk.store.project_store import ProjectStore
    from cmo_desk.store.site import Site

    project = Path(project)
    meta = inspect_file(project)  # raises DamagedProjectError / ProjectError with its own message
    problems: list[str] = []
    try:
        con = connect_read_only(project)
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
            if not problems:
                problems += _log_problems(con)
        finally:
            con.close()
    except sqlite3.DatabaseError as err:
        if classify(err) == "locked":
            raise ProjectError(busy_message(project.name, str(err))) from None
        return [tr("The file cannot be read: {detail}").format(detail=err)]
    if problems or not projection:
        return problems
    with tempfile.TemporaryDirectory(prefix="cmo-desk-check-") as tmpdir:
        copy = Path(tmpdir) / "check.cmo"
        try:
            copy_database(project, copy)
            if meta.get("revision") != HEAD_REVISION:
                # An older project is read as this version would read it: upgrade the copy first.
                engine = make_engine(copy)
                with engine.begin() as conn:
                    run_migrations(conn)
                engine.dispose()
            store = ProjectStore(copy, make_engine(copy), Site(site_id="check"), read_only=False)
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
