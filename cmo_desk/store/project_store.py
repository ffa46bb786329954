"""A project: one SQLite file holding the change log, its projection, and document bytes.

Every write goes through ``UnitOfWork``: it appends changes to the log and re-projects the touched
records in the same transaction, so the visible tables can always be rebuilt from the log.
SQLite-specific SQL (pragmas, FTS5, ATTACH for merging) stays in this module and ``merging.py``.
"""

from __future__ import annotations

import errno
import hashlib
import json
import os
import shutil
import sqlite3
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, delete, event, func, insert, select, text
from sqlalchemy.engine import Connection
from sqlalchemy.pool import QueuePool
from sqlalchemy.exc import DatabaseError, OperationalError

from cmo_desk import __version__
from cmo_desk.domain import records as rec
from cmo_desk.domain.changelog import (
    FUTURE_WARNING_MS,
    Change,
    EntityState,
    HybridClock,
    canonical_json,
    heads_of,
    make_change,
    project_entity,
)
from cmo_desk.domain.errors import (
    DamagedProjectError,
    NewerProjectError,
    ProjectError,
    ReadOnlyError,
    StorageError,
    ValidationError,
)
from cmo_desk.domain.ids import link_id, new_id
from cmo_desk.domain.schema import ENTITIES, ENTITY_ORDER, EXISTS
from cmo_desk.domain.snapshot import ProjectSnapshot
from cmo_desk.domain.textsearch import fts_query
from cmo_desk.domain.atomic import replace_durably
from cmo_desk.domain.i18n import tr
from cmo_desk.domain.storage import classify, storage_error
from cmo_desk.store import backups, crosschecks, locking, page_index
from cmo_desk.store.files import connect_read_only
from cmo_desk.store.logformat import change_to_row, row_to_change, value_json
from cmo_desk.store.models import Base, Blob, ChangeRow, ConflictRow, Meta, ROW_CLASSES
from cmo_desk.store.site import Site

#: A backup on opening is skipped when the newest backup is younger than this.
OPEN_BACKUP_EVERY = 30 * 60

#: Version of the file format (change log + meta). A file with a larger number is refused.
FORMAT_VERSION = 1
#: The newest Alembic revision this version ships.
HEAD_REVISION = "0005"
KNOWN_REVISIONS = ("0001", "0002", "0003", "0004", "0005")
SQLITE_HEADER = b"SQLite format 3\x00"
#: SQLite checkpoints after any commit that leaves at least this many pages in the -wal file.
CHECKPOINT_EVERY_PAGES = 1
#: The -wal file is cut back to this size after a checkpoint (bytes).
WAL_SIZE_LIMIT = 4 * 1024 * 1024

RECORD_CLASSES: dict[str, type[rec.Record]] = {
    "project": rec.Project,
    "coder": rec.Coder,
    "study": rec.Study,
    "document": rec.Document,
    "excerpt": rec.Excerpt,
    "code": rec.Code,
    "cmoc": rec.Cmoc,
    "consensus": rec.Consensus,
    "theory": rec.Theory,
    "form_value": rec.FormValue,
    "assignment": rec.Assignment,
    "review_cmoc": rec.ReviewCmoc,
    "review_link": rec.ReviewLink,
    "theory_version": rec.TheoryVersion,
}

#: Link types folded into records: (link type, owner field, other field, record attribute).
FOLDED_LINKS: dict[str, list[tuple[str, str, str, str]]] = {
    "excerpt": [("excerpt_code", "excerpt_id", "code_id", "code_ids")],
    "cmoc": [
        ("cmoc_code", "cmoc_id", "code_id", "code_ids"),
        ("cmoc_excerpt", "cmoc_id", "excerpt_id", "excerpt_ids"),
        ("cmoc_theory", "cmoc_id", "theory_id", "theories"),
    ],
    "consensus": [
        ("consensus_source", "consensus_id", "cmoc_id", "source_ids"),
        ("consensus_code", "consensus_id", "code_id", "code_ids"),
        ("consensus_excerpt", "consensus_id", "excerpt_id", "excerpt_ids"),
    ],
}

ORDER_BY: dict[str, tuple[str, ...]] = {
    "study": ("label", "id"),
    "document": ("filename", "id"),
    "excerpt": ("start", "end", "id"),
    "code": ("sort_order", "name", "id"),
    "cmoc": ("sort_order", "id"),
    "consensus": ("sort_order", "id"),
    "coder": ("name", "id"),
    "theory": ("label", "version", "id"),
    "review_cmoc": ("theory_id", "sort_order", "label", "id"),
    "theory_version": ("theory_id", "number", "id"),
}


def _set_pragmas(dbapi_conn: sqlite3.Connection, _record: object) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA busy_timeout=5000")
    # A larger page cache keeps merges of big logs (random-key index inserts) off the disk.
    cur.execute("PRAGMA cache_size=-32768")
    cur.execute("PRAGMA temp_store=MEMORY")
    cur.close()


def _make_engine(path: Path, read_only: bool = False) -> Engine:
    if read_only:
        engine = create_engine("sqlite://", creator=lambda: connect_read_only(path))
    else:
        # Connected by name, not by URL: a folder named "50% #2 ?x" must not be read as options.
        engine = create_engine(
            "sqlite://", poolclass=QueuePool,
            creator=lambda: sqlite3.connect(str(path), check_same_thread=False))
    event.listen(engine, "connect", _set_pragmas)
    event.listen(engine, "handle_error", _storage_error_hook(path))
    if not read_only:
        def _wal(dbapi_conn: sqlite3.Connection, _r: object) -> None:
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            # FULL: a commit reported to the user survives a power cut, not only a crash.
            cur.execute("PRAGMA synchronous=FULL")
            # Every commit is copied into the main file at once (when no reader holds an older
            # snapshot), so the .cmo file alone, copied by a file manager, holds every saved
            # edit, and a lost or damaged -wal file loses nothing.
            cur.execute(f"PRAGMA wal_autocheckpoint={CHECKPOINT_EVERY_PAGES}")
            cur.execute(f"PRAGMA journal_size_limit={WAL_SIZE_LIMIT}")
            cur.close()

        event.listen(engine, "connect", _wal)
    return engine


def _storage_error_hook(path: Path) -> Any:
    """Turn SQLite's storage failures (disk full, read-only, I/O error, damaged page, locked)
    into a StorageError in plain words, wherever in the store they happen."""

    def handle(ctx: Any) -> BaseException | None:
        return storage_error(ctx.original_exception, path)

    return handle


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


def inspect_file(path: Path) -> dict[str, str]:
    """Read a project's meta table without opening it for writing; refuse what is not a project."""
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
                "'cmo-desk backups'.").format(path=path))
        raise DamagedProjectError(tr(
            "{path} is not a CMO Desk project (it is not an SQLite file). "
            "Choose a .cmo file, or restore a backup with 'cmo-desk backups'.").format(path=path))
    try:
        con = connect_read_only(path)
        try:
            rows = dict(con.execute("SELECT key, value FROM meta").fetchall())
            try:
                rev = con.execute("SELECT version_num FROM alembic_version").fetchone()
            except sqlite3.DatabaseError:
                rev = None
        finally:
            con.close()
    except (sqlite3.DatabaseError, UnicodeDecodeError) as err:  # a scribbled meta row
        if "no such table" in str(err):
            raise DamagedProjectError(tr(
                "{path} is an SQLite file but not a CMO Desk project (no project record)."
            ).format(path=path)) from None
        raise DamagedProjectError(tr(
            "{path} is damaged ({detail}). Restore the latest good backup with "
            "'cmo-desk backups'.").format(path=path, detail=err)) from None
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


def damaged_with_backup_hint(path: Path, message: str) -> DamagedProjectError:
    """A DamagedProjectError naming the latest good backup (also as ``err.latest_backup``)."""
    good = backups.latest_good(path)
    # the generic advice in inspect_file's messages is replaced by the precise one
    message = message.rstrip().split(" Restore")[0].split(" Choose a .cmo")[0]
    if good is not None:
        message += " " + tr(
            "The file was left as it is. The latest good backup is {backup} (saved {when}); "
            "restore it with: cmo-desk restore \"{project}\" \"{backup}\"").format(
            backup=good.path.name, when=good.created.strftime("%Y-%m-%d %H:%M"), project=path)
        message += " " + tr("To keep the work done since that backup, rescue it into a new file "
                            "with: cmo-desk salvage \"{project}\"").format(project=path)
    else:
        message += " " + tr("The file was left as it is, and no backup of it was found.")
    err = DamagedProjectError(message)
    err.latest_backup = good.path if good else None  # type: ignore[attr-defined]
    return err


class _BackupOnOpen(threading.Thread):
    """The backup taken on opening, made beside the work so that opening stays fast.

    SQLite's backup reads a consistent snapshot while the desk goes on writing (WAL).
    ``close()`` waits for it, so a short command still leaves its backup behind.
    """

    def __init__(self, path: Path, meta: dict[str, str]) -> None:
        super().__init__(name="cmo-desk-open-backup", daemon=True)
        self.path, self.meta = path, meta
        self.store: ProjectStore | None = None

    def run(self) -> None:
        warning = _backup_on_open(self.path, self.meta)
        if warning and self.store is not None:
            self.store.backup_warning = warning


def _backup_on_open(path: Path, meta: dict[str, str]) -> str | None:
    try:
        created = datetime.fromisoformat(meta.get("created", ""))
        if (datetime.now(timezone.utc) - created).total_seconds() < OPEN_BACKUP_EVERY:
            return None  # a project this new has nothing a backup would save
    except (ValueError, TypeError):
        pass
    try:
        backups.backup_if_due(path, "open", OPEN_BACKUP_EVERY)
    except (OSError, sqlite3.Error) as err:
        return tr("No backup could be made when opening ({detail}). "
                  "Check the free space on the disk.").format(detail=err)
    return None


@dataclass(frozen=True)
class SearchHit:
    study_id: str
    study_label: str
    document_id: str
    page: int
    snippet: str


@dataclass(frozen=True)
class MergeStats:
    new_changes: int
    new_blobs: int
    #: (coder id or None, entity type) -> number of records that arrived or changed
    arrived: dict[tuple[str | None, str], int]
    touched: int
    conflicts_before: int
    conflicts_after: int
    far_future: int
    dry_run: bool
    #: Incoming changes left out because their content did not match their id (or was unreadable).
    rejected: int = 0
    #: Incoming document files left out because their bytes did not match their hash.
    rejected_blobs: int = 0
    #: Coder id -> name, as the incoming log records them (for coders new to this project).
    coder_names: dict[str, str] | None = None
    #: Site id of the laptop whose clock ran furthest ahead, when some changes were far ahead.
    future_site: str | None = None


class ProjectStore:
    """An open project file. Not thread-safe: each worker thread opens its own store."""

    def __init__(self, path: Path, engine: Engine, site: Site, read_only: bool) -> None:
        self.path = path
        self.engine = engine
        self.site = site
        self.read_only = read_only
        #: The lock this store holds (write opens), or who holds it when opened read-only.
        self.lock: locking.Lock | None = None
        self.locked_by: locking.LockedBy | None = None
        #: Why a write open ended read-only, in words for the user; None when it did not.
        self.read_only_reason: str | None = None
        #: Why the backup on opening failed (disk full...), in words; None when it did not.
        self.backup_warning: str | None = None
        self._backup_thread: threading.Thread | None = None
        #: An upgraded copy read in place of an older project opened read-only; removed on close.
        self._read_copy: Path | None = None
        self.clock = HybridClock(site.wall, site.counter)
        #: True while a saved commit is still only in the -wal file (a reader held an older
        #: snapshot, or the disk filled while copying it over): :meth:`settle` finishes it.
        self.unsettled = False
        #: Recently edited records' change lists, topped up by rowid: an edit then reads only the
        #: rows added since (a field typed into many times would otherwise reload its history).
        self._history_cache: dict[tuple[str, str], tuple[list[Change], int]] = {}
        with engine.connect() as conn:
            meta = dict(conn.execute(select(Meta.key, Meta.value)).all())
            self.project_id: str = meta["project_id"]
            self.meta = meta
            row = conn.execute(
                select(ChangeRow.wall, ChangeRow.counter)
                .order_by(ChangeRow.wall.desc(), ChangeRow.counter.desc())
                .limit(1)
            ).first()
        if row:
            self.clock.observe(row[0], row[1])

    # -- opening and creating -------------------------------------------------------------

    @classmethod
    def create(
        cls,
        path: str | Path,
        *,
        title: str | None = None,
        template: dict[str, Any] | None = None,
        site: Site | None = None,
        coder_id: str | None = None,
        project_id: str | None = None,
    ) -> ProjectStore:
        path = Path(path)
        refuse_broken_link(path)
        if path.exists():
            raise ProjectError(tr(
                "{path} already exists. Choose another name or open it instead.").format(
                path=path))
        if not path.parent.exists():
            raise ProjectError(tr("The folder {folder} does not exist. Create it first.").format(
                folder=path.parent))
        tmp = path.with_name(path.name + ".creating")
        tmp.unlink(missing_ok=True)
        pid = project_id or str(uuid.uuid4())
        engine = _make_engine(tmp)
        try:
            with engine.begin() as conn:
                _create_schema(conn)
                conn.execute(
                    insert(Meta),
                    [
                        {"key": "project_id", "value": pid},
                        {"key": "format_version", "value": str(FORMAT_VERSION)},
                        {"key": "app_version", "value": __version__},
                        {"key": "created", "value": datetime.now(timezone.utc).isoformat()},
                    ],
                )
            store = cls(tmp, engine, site or Site.load(), read_only=False)
            with store.unit_of_work(coder_id) as uow:
                uow.create("project", {"title": title, "template": template}, id=pid)
            store.close()
            replace_durably(tmp, path)
        except BaseException:
            engine.dispose()
            for p in (tmp, Path(str(tmp) + "-wal"), Path(str(tmp) + "-shm")):
                p.unlink(missing_ok=True)
            raise
        return cls.open(path, site=site)

    @classmethod
    def open(
        cls,
        path: str | Path,
        *,
        site: Site | None = None,
        read_only: bool = False,
        upgrade_backup_dir: Path | None = None,
        coder: str | None = None,
    ) -> ProjectStore:
        """Open a project. A write open takes the project's lock; when another desk holds it the
        store opens read-only and ``locked_by`` says who. ``coder`` names this desk in the lock."""
        path = Path(path)
        try:
            meta = inspect_file(path)
        except DamagedProjectError as err:
            raise damaged_with_backup_hint(path, str(err)) from None
        check_compatible(meta, path)
        lock: locking.Lock | None = None
        locked_by: locking.LockedBy | None = None
        reason: str | None = None
        if not read_only:
            try:
                outcome = locking.acquire(path, coder)
            except OSError as err:
                outcome = None
                if classify(err) == "full":
                    reason = tr("The disk holding {name} is full, so it was opened read-only. "
                                "Free some space on it, then reopen the project to make "
                                "changes.").format(name=path.name)
                else:
                    reason = tr("{name} is in a folder that cannot be written to, so it was "
                                "opened read-only. Copy it to a folder of your own to make "
                                "changes.").format(name=path.name)
            if isinstance(outcome, locking.Lock):
                lock = outcome
            else:
                locked_by = outcome
                reason = outcome.message() if outcome else reason
                read_only = True
        try:
            problems = backups.quick_check(
                path, thorough=path.stat().st_size <= backups.THOROUGH_OPEN_CHECK_BYTES)
            if problems:
                raise damaged_with_backup_hint(path, tr(
                    "{path} is damaged ({detail}).").format(path=path, detail=problems[0]))
            backup_thread = None
            if lock is not None:
                backup_thread = _BackupOnOpen(path, meta)
            if not read_only and meta.get("revision") != HEAD_REVISION:
                if upgrade_backup_dir is not None:
                    backup_file(path, upgrade_backup_dir / (
                        f"{path.stem}.before-upgrade-{time.strftime('%Y%m%d-%H%M%S')}"
                        f"{path.suffix}"))
                else:
                    backups.make_backup(path, "upgrade")
                engine = _make_engine(path)
                try:  # a failed upgrade must not keep the file open
                    with engine.begin() as conn:
                        _run_migrations(conn)
                        conn.execute(
                            Meta.__table__.update().where(Meta.key == "app_version").values(
                                value=__version__))
                finally:
                    engine.dispose()
                if meta.get("revision", "") < COMPACT_REVISION:
                    _compact(path)
            data_path = path
            if read_only and meta.get("revision") != HEAD_REVISION:
                # Reading an older project must not change it: read an upgraded copy instead.
                data_path = Path(tempfile.mkdtemp(prefix="cmo-desk-read-")) / path.name
                backup_file(path, data_path)
                engine = _make_engine(data_path)
                with engine.begin() as conn:
                    _run_migrations(conn)
                engine.dispose()
            try:
                engine = _make_engine(data_path, read_only=read_only)
                store = cls(path, engine, site or Site.load(), read_only)
                if data_path != path:
                    store._read_copy = data_path
            except StorageError as err:
                if err.kind != "damaged":
                    raise
                raise damaged_with_backup_hint(path, tr(
                    "{path} could not be opened ({detail}).").format(
                    path=path, detail=err.__cause__ or err)) from None
            except (DatabaseError, OperationalError) as err:
                raise damaged_with_backup_hint(path, tr(
                    "{path} could not be opened ({detail}).").format(
                    path=path, detail=err.orig)) from None
        except BaseException:
            if lock is not None:
                locking.release(lock)
            raise
        store.lock, store.locked_by, store.read_only_reason = lock, locked_by, reason
        if backup_thread is not None:
            store._backup_thread = backup_thread
            backup_thread.store = store
            backup_thread.start()
        return store

    def become_read_only(self, reason: str) -> None:
        """Stop writing (the lock was lost): every later unit of work is refused with ``reason``."""
        self.settle()
        self.read_only = True
        self.read_only_reason = reason
        if self.lock is not None:
            locking.release(self.lock)  # removes the lock file only if it is still ours
            self.lock = None

    def settle(self, conn: Connection | None = None) -> bool:
        """Copy saved commits still only in the -wal file into the main file, without waiting
        for readers. True when the main file alone now holds every saved edit."""
        if self.read_only:
            return True
        try:
            if conn is None:
                with self.engine.connect() as own:
                    row = own.exec_driver_sql("PRAGMA wal_checkpoint(PASSIVE)").first()
            else:
                row = conn.exec_driver_sql("PRAGMA wal_checkpoint(PASSIVE)").first()
        except (DatabaseError, OperationalError, StorageError):
            self.unsettled = True
            return False
        # (busy, frames in the -wal, frames copied); -1 when the file is not in WAL mode
        self.unsettled = bool(row) and (row[0] != 0 or row[1] != row[2])
        return not self.unsettled

    def start_backup(self, work: Callable[[], str | None]) -> None:
        """Run ``work`` (a backup of this project's file) on its own thread, after any backup
        still being written. ``close()`` and ``wait_for_backup()`` wait for it; what it returns, a
        failure in words, becomes ``backup_warning``."""
        self.wait_for_backup()

        def run() -> None:
            warning = work()
            if warning:
                self.backup_warning = warning

        thread = threading.Thread(target=run, name="cmo-desk-backup", daemon=True)
        self._backup_thread = thread
        thread.start()

    def wait_for_backup(self) -> None:
        """Wait for the backup taken on opening, or by the timer (if it is still being written)."""
        if self._backup_thread is not None:
            self._backup_thread.join()
            self._backup_thread = None

    def close(self) -> None:
        self.wait_for_backup()
        self.site.wall, self.site.counter = max(
            (self.site.wall, self.site.counter), (self.clock.wall, self.clock.counter))
        try:
            self.site.save()
        except OSError:
            pass
        if not self.read_only:
            try:
                with self.engine.connect() as conn:
                    conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
            except (DatabaseError, OperationalError, StorageError):
                pass
        self.engine.dispose()
        if self._read_copy is not None:
            shutil.rmtree(self._read_copy.parent, ignore_errors=True)
            self._read_copy = None
        if self.lock is not None:
            locking.release(self.lock)

    def __enter__(self) -> ProjectStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- writing --------------------------------------------------------------------------

    def unit_of_work(self, coder_id: str | None) -> UnitOfWork:
        if self.read_only:
            raise ReadOnlyError(self.read_only_reason or tr(
                "This project is open read-only, so changes cannot be saved. "
                "Close the other desk that has it open, then reopen it."))
        return UnitOfWork(self, coder_id)

    # -- reading --------------------------------------------------------------------------

    def _history(self, conn: Connection, etype: str, eid: str) -> list[Change]:
        """All changes of one record (a fresh list), using the cache where it is still valid."""
        key = (etype, eid)
        cached, upto = self._history_cache.pop(key, ([], 0))
        table = ChangeRow.__table__
        rows = conn.execute(
            select(text("rowid"), table).where(
                table.c.entity_type == etype, table.c.entity_id == eid,
                text("rowid > :upto").bindparams(upto=upto)))
        changes = list(cached)
        for r in rows:
            changes.append(row_to_change(r))
            upto = max(upto, r[0])
        if len(self._history_cache) > 2000:
            self._history_cache.clear()
        self._history_cache[key] = (changes, upto)
        return list(changes)

    def connect(self) -> Connection:
        return self.engine.connect()

    def _fold_links(self, conn: Connection, etype: str, rows: list[dict[str, Any]]) -> None:
        links = FOLDED_LINKS.get(etype)
        if not links or not rows:
            return
        ids = [r["id"] for r in rows]
        # A code merged into another (even on another laptop, later) counts as its target.
        targets = crosschecks.code_targets(conn)
        for link_type, own, other, attr in links:
            table = ROW_CLASSES[link_type].__table__
            found: dict[str, list[Any]] = {}
            for chunk_start in range(0, len(ids), 500):
                chunk = ids[chunk_start:chunk_start + 500]
                q = select(table).where(table.c[own].in_(chunk), table.c.deleted.is_(False))
                for row in conn.execute(q).mappings():
                    item = (row[other], row["relation"]) if attr == "theories" else row[other]
                    if other == "code_id":
                        item = targets.get(item, item)
                    found.setdefault(row[own], []).append(item)
            for r in rows:
                r[attr] = tuple(sorted(set(found.get(r["id"], [])), key=lambda x: str(x)))

    def _select_rows(
        self, conn: Connection, etype: str, include_deleted: bool, filters: dict[str, Any],
        columns: Iterable[str] | None = None,
    ) -> list[dict[str, Any]]:
        table = ROW_CLASSES[etype].__table__
        cols = [table.c[c] for c in ("id", "deleted", *columns)] if columns else [table]
        q = select(*cols)
        if not include_deleted:
            q = q.where(table.c.deleted.is_(False))
        for key, value in filters.items():
            if isinstance(value, (list, tuple, set, frozenset)):
                q = q.where(table.c[key].in_(list(value)))
            elif value is None:
                q = q.where(table.c[key].is_(None))
            else:
                q = q.where(table.c[key] == value)
        q = q.order_by(*(table.c[c] for c in ORDER_BY.get(etype, ("id",))))
        return [dict(r) for r in conn.execute(q).mappings()]

    def list(
        self, etype: str, *, include_deleted: bool = False, columns: Iterable[str] | None = None,
        **filters: Any,
    ) -> list[Any]:
        """Records of a type (live ones unless ``include_deleted``), filtered by field equality."""
        with self.connect() as conn:
            rows = self._select_rows(conn, etype, include_deleted, filters, columns)
            cls = RECORD_CLASSES.get(etype)
            if cls is None:
                return rows
            self._fold_links(conn, etype, rows)
        return [cls.from_mapping(r) for r in rows]

    def get(self, etype: str, entity_id: str, include_deleted: bool = False) -> Any:
        found = self.list(etype, include_deleted=include_deleted, id=entity_id)
        return found[0] if found else None

    def links(self, link_type: str, **filters: Any) -> list[dict[str, Any]]:
        with self.connect() as conn:
            return self._select_rows(conn, link_type, False, filters)

    def project(self) -> rec.Project:
        return self.get("project", self.project_id) or rec.Project(id=self.project_id)

    def count(self, etype: str, **filters: Any) -> int:
        table = ROW_CLASSES[etype].__table__
        q = select(func.count()).select_from(table).where(table.c.deleted.is_(False))
        for key, value in filters.items():
            q = q.where(table.c[key] == value)
        with self.connect() as conn:
            return int(conn.execute(q).scalar_one())

    # -- aggregates: what a screen shows, counted in SQL instead of from every record ------

    def coding_progress(self, study_ids: Iterable[str] | None = None) -> set[tuple[str, str]]:
        """(study id, coder id) for each coder with a live excerpt in a study (of ``study_ids``
        when given)."""
        table = ROW_CLASSES["excerpt"].__table__
        q = select(table.c.study_id, table.c.owner_id).distinct().where(
            table.c.deleted.is_(False), table.c.owner_id.is_not(None),
            table.c.study_id.is_not(None))
        return self._pairs(q, table.c.study_id, study_ids)

    def studies_with_text(self, study_ids: Iterable[str] | None = None) -> set[str]:
        """Ids of studies (of ``study_ids`` when given) with a live document."""
        table = ROW_CLASSES["document"].__table__
        q = select(table.c.study_id).distinct().where(
            table.c.deleted.is_(False), table.c.study_id.is_not(None))
        return {row[0] for row in self._pairs(q, table.c.study_id, study_ids)}

    def excerpts_per_code(self, owner_id: str | None = None) -> dict[str, int]:
        """Live excerpts each code marks, counted in SQL; only ``owner_id``'s excerpts when given
        (a coder working blind must not learn from the counts how others coded)."""
        links = ROW_CLASSES["excerpt_code"].__table__
        excerpts = ROW_CLASSES["excerpt"].__table__
        q = (select(links.c.code_id, func.count())
             .join(excerpts, excerpts.c.id == links.c.excerpt_id)
             .where(links.c.deleted.is_(False), excerpts.c.deleted.is_(False))
             .group_by(links.c.code_id))
        if owner_id is not None:
            q = q.where(excerpts.c.owner_id == owner_id)
        with self.connect() as conn:
            return {key: int(n) for key, n in conn.execute(q) if key is not None}

    def values_of(self, etype: str, ids: Iterable[str], column: str = "study_id") -> set[str]:
        """One column of the records of a type with these ids, deleted records included (a
        deleted excerpt still changes its study's row): e.g. the studies they belong to."""
        table = ROW_CLASSES[etype].__table__
        found: set[str] = set()
        with self.connect() as conn:
            for chunk in iter_chunks(sorted(set(ids)), 500):
                found.update(value for (value,) in conn.execute(
                    select(table.c[column]).where(table.c.id.in_(chunk))) if value)
        return found

    def log_mark(self) -> int:
        """A mark in the change log: ``changed_since(mark)`` names what was written after it."""
        with self.connect() as conn:
            return int(conn.execute(select(func.coalesce(func.max(text("rowid")), 0))
                                    .select_from(ChangeRow)).scalar_one())

    def changed_since(self, mark: int) -> rec.Changed:
        """Every record written after ``mark``, by any path (unit of work, merge, exchange)."""
        table = ChangeRow.__table__
        entities: dict[str, set[str]] = {}
        count = 0
        with self.connect() as conn:
            for etype, eid in conn.execute(
                    select(table.c.entity_type, table.c.entity_id)
                    .where(text("rowid > :mark").bindparams(mark=mark))):
                entities.setdefault(etype, set()).add(eid)
                count += 1
        return rec.Changed({t: frozenset(ids) for t, ids in entities.items()}, count)

    def _pairs(self, q: Any, study_column: Any, study_ids: Iterable[str] | None) -> set[Any]:
        with self.connect() as conn:
            if study_ids is None:
                return {tuple(r) for r in conn.execute(q)}
            found: set[Any] = set()
            for chunk in iter_chunks(sorted(set(study_ids)), 500):
                found.update(tuple(r) for r in conn.execute(q.where(study_column.in_(chunk))))
            return found

    def get_blob(self, sha256: str | None) -> bytes | None:
        if not sha256:
            return None
        with self.connect() as conn:
            return conn.execute(select(Blob.data).where(Blob.sha256 == sha256)).scalar()

    def snapshot(self, *, document_text: bool = True) -> ProjectSnapshot:
        """Every live record. ``document_text=False`` leaves the documents' full texts out (their
        page boundaries stay): what tables need, at a fraction of the memory."""
        def live(etype: str) -> tuple[Any, ...]:
            return tuple(self.list(etype))

        if document_text:
            documents = live("document")
        else:
            columns = [f for f in ENTITIES["document"].field_names if f != "text"]
            documents = tuple(self.list("document", columns=columns))
        return ProjectSnapshot(
            project=self.project(),
            coders=live("coder"),
            studies=live("study"),
            documents=documents,
            excerpts=live("excerpt"),
            codes=live("code"),
            cmocs=live("cmoc"),
            consensus=live("consensus"),
            theories=live("theory"),
            form_values=live("form_value"),
            assignments=live("assignment"),
            get_blob=self.get_blob,
        )

    def changes_for(self, etype: str, entity_id: str) -> list[Change]:
        with self.connect() as conn:
            rows = conn.execute(
                select(ChangeRow.__table__).where(
                    ChangeRow.entity_type == etype, ChangeRow.entity_id == entity_id)
            )
            return [row_to_change(r) for r in rows]

    def change(self, change_id: str) -> Change | None:
        with self.connect() as conn:
            row = conn.execute(
                select(ChangeRow.__table__).where(ChangeRow.change_id == change_id)).first()
            return row_to_change(row) if row else None

    def conflicts(self) -> list[rec.Conflict]:
        with self.connect() as conn:
            rows = conn.execute(
                select(ConflictRow.__table__).order_by(
                    ConflictRow.entity_type, ConflictRow.entity_id, ConflictRow.field)
            ).all()
            names = {r.id: r.name for r in (rec.Coder.from_mapping(d) for d in
                                              self._select_rows(conn, "coder", True, {}))}
            out = []
            for row in rows:
                head_ids = json.loads(row.heads)
                anc_ids = json.loads(row.ancestors)
                wanted = head_ids + anc_ids
                changes = {
                    c.change_id: row_to_change(c)
                    for c in conn.execute(
                        select(ChangeRow.__table__).where(ChangeRow.change_id.in_(wanted)))
                }
                heads = [changes[h] for h in head_ids if h in changes]
                values = tuple(
                    rec.ConflictValue(h.value, h.coder_id, names.get(h.coder_id or ""), h.wall,
                                      h.change_id)
                    for h in heads
                )
                shown = max(heads, key=lambda c: c.order_key).value if heads else None
                if row.field == EXISTS:
                    shown = False
                out.append(rec.Conflict(
                    row.entity_type, row.entity_id, row.field, shown, values,
                    tuple(changes[a].value for a in anc_ids if a in changes), row.kind))
            return out

    def conflict_count(self) -> int:
        with self.connect() as conn:
            return int(conn.execute(select(func.count()).select_from(ConflictRow)).scalar_one())

    def search(self, query: str, limit: int = 50) -> list[SearchHit]:
        """Pages whose text has every word of ``query`` (CJK words found inside longer runs)."""
        q = fts_query(query)
        if not q:
            return []
        sql = text(
            "SELECT p.document_id, d.study_id, p.page FROM search_pages "
            "JOIN search_page p ON p.id = search_pages.rowid "
            "JOIN document d ON d.id = p.document_id "
            "WHERE search_pages MATCH :q ORDER BY rank LIMIT :n"
        )
        doc_table = ROW_CLASSES["document"].__table__
        study_table = ROW_CLASSES["study"].__table__
        with self.connect() as conn:
            try:
                rows = conn.execute(sql, {"q": q, "n": limit}).all()
            except OperationalError as err:
                raise ValidationError(tr(
                    "The search '{query}' could not be understood ({detail}). "
                    "Use plain words.").format(query=query, detail=err.orig)) from None
            doc_ids = sorted({r[0] for r in rows})
            docs = {
                d.id: (d.text or "", list(d.page_starts or [0]))
                for d in conn.execute(select(doc_table.c.id, doc_table.c.text,
                                             doc_table.c.page_starts)
                                      .where(doc_table.c.id.in_(doc_ids)))
            }
            labels = dict(conn.execute(select(study_table.c.id, study_table.c.label)).all())
        hits = []
        for did, sid, page in rows:
            body, starts = docs.get(did, ("", [0]))
            page = int(page)
            a = starts[page - 1] if 0 < page <= len(starts) else 0
            b = starts[page] if page < len(starts) else len(body)
            hits.append(SearchHit(sid, labels.get(sid) or "", did, page,
                                  make_snippet(body[a:b], query)))
        return hits

    def info(self) -> dict[str, Any]:
        coders = self.list("coder")
        return {
            "project_id": self.project_id,
            "title": self.project().title,
            "schema_version": HEAD_REVISION,
            "format_version": FORMAT_VERSION,
            "studies": self.count("study"),
            "documents": self.count("document"),
            "excerpts": self.count("excerpt"),
            "cmocs": self.count("cmoc"),
            "consensus_cmocs": self.count("consensus"),
            "codes": self.count("code"),
            "theories": self.count("theory"),
            "review_cmocs": self.count("review_cmoc"),
            "theory_versions": self.count("theory_version"),
            "coders": [c.name for c in coders],
            "conflicts": self.conflict_count(),
            "changes": self.change_count(),
        }

    def meta_value(self, key: str) -> str | None:
        """This file's own bookkeeping (not project content, not in the change log)."""
        with self.connect() as conn:
            return conn.execute(select(Meta.value).where(Meta.key == key)).scalar()

    def set_meta_value(self, key: str, value: str) -> None:
        if self.read_only:
            raise ReadOnlyError(tr("The project is open read-only; nothing was changed."))
        with self.engine.begin() as conn:
            conn.execute(delete(Meta).where(Meta.key == key))
            conn.execute(insert(Meta), [{"key": key, "value": value}])

    def change_count(self) -> int:
        with self.connect() as conn:
            return int(conn.execute(select(func.count()).select_from(ChangeRow)).scalar_one())

    def dump(self) -> dict[str, Any]:
        """Canonical visible state: stable order, no machine-local data (``iter_dump_json`` writes
        the same as text without holding it)."""
        out: dict[str, Any] = {"project_id": self.project_id, "format_version": FORMAT_VERSION}
        with self.connect() as conn:
            for etype in ENTITY_ORDER:
                table = ROW_CLASSES[etype].__table__
                rows = conn.execute(select(table).order_by(table.c.id)).mappings()
                live, deleted = [], []
                for r in rows:
                    d = {k: r[k] for k in ("id", *ENTITIES[etype].field_names)}
                    (deleted if r["deleted"] else live).append(d)
                out[etype] = live
                out[etype + "_deleted"] = [d["id"] for d in deleted]
            out["conflicts"] = [
                {"entity_type": c.entity_type, "entity_id": c.entity_id, "field": c.field,
                 "kind": c.kind, "heads": json.loads(c.heads)}
                for c in conn.execute(select(ConflictRow.__table__).order_by(
                    ConflictRow.entity_type, ConflictRow.entity_id, ConflictRow.field))
            ]
            out["blobs"] = sorted(conn.execute(select(Blob.sha256)).scalars())
        return out

    def dump_json(self) -> str:
        return "".join(self.iter_dump_json())

    def iter_dump_json(self) -> Iterator[str]:
        """``dump()`` as canonical JSON text, piece by piece: the same text as
        ``json.dumps(dump(), sort_keys=True, ensure_ascii=False, indent=1)`` plus a newline, but
        one record at a time, so that a large project is never held in memory whole."""
        def one(value: Any, depth: int) -> str:
            text = json.dumps(value, sort_keys=True, ensure_ascii=False, indent=1)
            return text.replace("\n", "\n" + " " * depth)

        with self.connect() as conn:
            parts: dict[str, Any] = {"project_id": self.project_id,
                                     "format_version": FORMAT_VERSION}
            for etype in ENTITY_ORDER:
                table = ROW_CLASSES[etype].__table__
                names = ("id", *ENTITIES[etype].field_names)
                parts[etype] = (lambda t=table, n=names: (
                    {k: r[k] for k in n} for r in conn.execute(
                        select(t).where(t.c.deleted.is_(False)).order_by(t.c.id)).mappings()))
                parts[etype + "_deleted"] = (lambda t=table: conn.execute(
                    select(t.c.id).where(t.c.deleted.is_(True)).order_by(t.c.id)).scalars())
            parts["conflicts"] = lambda: (
                {"entity_type": c.entity_type, "entity_id": c.entity_id, "field": c.field,
                 "kind": c.kind, "heads": json.loads(c.heads)}
                for c in conn.execute(select(ConflictRow.__table__).order_by(
                    ConflictRow.entity_type, ConflictRow.entity_id, ConflictRow.field)))
            parts["blobs"] = lambda: conn.execute(
                select(Blob.sha256).order_by(Blob.sha256)).scalars()
            yield "{"
            for n, key in enumerate(sorted(parts)):
                yield ("," if n else "") + "\n " + json.dumps(key, ensure_ascii=False) + ": "
                value = parts[key]
                if not callable(value):
                    yield one(value, 1)
                    continue
                empty = True
                for item in value():
                    yield ("[" if empty else ",") + "\n  " + one(item, 2)
                    empty = False
                yield "[]" if empty else "\n ]"
            yield "\n}\n"

    def reset_clock_if_ahead(self) -> int | None:
        """Set this laptop's clock back when it runs far ahead of the real time (an earlier
        version followed a laptop whose clock was years fast). Returns the old wall time."""
        now = self.clock.now()
        if self.clock.wall - now <= FUTURE_WARNING_MS:
            return None
        old = self.clock.wall
        self.clock.wall, self.clock.counter = now, 0
        self.site.wall, self.site.counter = now, 0
        try:
            self.site.save()
        except OSError:
            pass
        return old

    def rebuild(self) -> int:
        """Throw the visible tables away and project them again from the log."""
        with self.engine.begin() as conn:
            for etype in ENTITY_ORDER:
                conn.execute(delete(ROW_CLASSES[etype].__table__))
            conn.execute(delete(ConflictRow.__table__))
            _clear_search(conn)
            entities = conn.execute(
                select(ChangeRow.entity_type, ChangeRow.entity_id).distinct()).all()
            reproject_many(conn, [(t, i) for t, i in entities])
            crosschecks.refresh(conn)
            return len(entities)

    def integrity_check(self) -> list[str]:
        with self.connect() as conn:
            rows = [r[0] for r in conn.exec_driver_sql("PRAGMA integrity_check").all()]
        return [] if rows == ["ok"] else rows

    def backup(self, dest: Path) -> Path:
        """A consistent copy of the project (safe while it is open)."""
        backup_file(self.path, dest)
        return dest


def make_snippet(page_text: str, query: str, width: int = 90) -> str:
    """The page text around the first word of the query found in it, with the word in [ ]."""
    folded = page_text.casefold()
    best = -1
    word = ""
    for token in query.replace('"', " ").split():
        pos = folded.find(token.casefold())
        if pos >= 0 and (best < 0 or pos < best):
            best, word = pos, page_text[pos:pos + len(token)]
    flat = " ".join
    if best < 0:
        return flat(page_text[:width * 2].split())
    start = max(0, best - width)
    end = min(len(page_text), best + len(word) + width)
    before = flat(page_text[start:best].split())
    after = flat(page_text[best + len(word):end].split())
    return (("…" if start > 0 else "") + before + (" " if page_text[best - 1:best].isspace() else "")
            + f"[{word}]" + (" " if page_text[best + len(word):best + len(word) + 1].isspace() else "")
            + after + ("…" if end < len(page_text) else ""))


def backup_file(src: Path, dest: Path) -> None:
    """Copy a project with SQLite's online backup, to a temp name first so no half-copy remains."""
    try:
        backups.copy_database(src, dest)
    except sqlite3.DatabaseError:
        shutil.copy2(src, dest)


#: The full-text index over document pages (page_index.py); a test compares it with the migrations'.
SEARCH_TABLE_DDL = page_index.SEARCH_TABLE_DDL


def _create_schema(conn: Connection) -> None:
    """The head schema of a new project, written straight from the models: creating a file does
    not load Alembic (and Mako) just to replay every migration on an empty database. A test
    checks that it equals the schema the migrations build."""
    Base.metadata.create_all(conn)
    if conn.dialect.name == "sqlite":
        conn.exec_driver_sql(SEARCH_TABLE_DDL)
    conn.exec_driver_sql(
        "CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL, "
        "CONSTRAINT alembic_version_pkc PRIMARY KEY (version_num))")
    conn.execute(text("INSERT INTO alembic_version (version_num) VALUES (:v)"),
                 {"v": HEAD_REVISION})


#: From this revision on, the file's layout is compact; an upgrade to it gives the space back.
COMPACT_REVISION = "0005"


def _compact(path: Path) -> None:
    """Give back the space an upgrade freed (the index's copy of the text). VACUUM rewrites the
    file through its journal, so a power cut leaves the upgraded file as it was; when it cannot
    run (no room for its temporary copy) the file simply stays larger."""
    con = sqlite3.connect(str(path), isolation_level=None)
    try:
        con.execute("PRAGMA journal_mode=WAL")
        con.execute("VACUUM")
    except sqlite3.Error:
        pass
    finally:
        try:  # the -wal file held the whole rewritten file: cut it back
            con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        except sqlite3.Error:
            pass
        con.close()


def _run_migrations(conn: Connection) -> None:
    from alembic import command
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(Path(__file__).parent / "migrations"))
    cfg.attributes["connection"] = conn
    command.upgrade(cfg, "head")


def _clear_search(conn: Connection) -> None:
    page_index.clear(conn)


def write_projection(conn: Connection, etype: str, eid: str, state: EntityState | None) -> None:
    """Replace one record's row and conflicts with its state projected from the log."""
    write_projections(conn, etype, {eid: state})


def write_projections(
    conn: Connection, etype: str, states: dict[str, EntityState | None]
) -> None:
    """Replace records' rows and conflicts with their states projected from the log, in bulk."""
    row_cls = ROW_CLASSES.get(etype)
    if row_cls is None or not states:
        return  # an entity type from a newer version: kept in the log only
    table = row_cls.__table__
    ids = list(states)
    indexed: dict[str, list[tuple[int, str]]] = {}
    for chunk in iter_chunks(ids, 500):
        if etype == "document" and conn.dialect.name == "sqlite":
            # what the search index holds for them, before their rows are replaced
            for old in conn.execute(select(*page_index.old_columns())
                                    .where(table.c.id.in_(chunk))).mappings():
                indexed[old["id"]] = page_index.indexed(dict(old))
        conn.execute(delete(table).where(table.c.id.in_(chunk)))
        conn.execute(delete(ConflictRow.__table__).where(
            ConflictRow.entity_type == etype, ConflictRow.entity_id.in_(chunk)))
    rows = [{"id": eid, "deleted": not st.exists, **st.values}
            for eid, st in states.items() if st is not None]
    if rows:
        conn.execute(insert(table), rows)
    conflicts = [
        {"entity_type": etype, "entity_id": eid, "field": fc.field, "kind": fc.kind,
         "heads": json.dumps([h.change_id for h in fc.heads]),
         "ancestors": json.dumps([a.change_id for a in fc.ancestors])}
        for eid, st in states.items() if st is not None
        for fc in st.conflicts
    ]
    if conflicts:
        conn.execute(insert(ConflictRow.__table__), conflicts)
    if etype == "document":
        for eid, st in states.items():
            after = [] if st is None or not st.exists else page_index.page_bodies(
                st.values.get("text"), st.values.get("page_starts"))
            page_index.reindex(conn, eid, indexed.get(eid, []), after)


def reproject_many(conn: Connection, entities: list[tuple[str, str]]) -> None:
    """Re-project many records, reading their changes and writing their rows in batches."""
    by_type: dict[str, list[str]] = {}
    for t, i in entities:
        by_type.setdefault(t, []).append(i)
    for etype, all_ids in by_type.items():
        row_cls = ROW_CLASSES.get(etype)
        for start in range(0, len(all_ids), 400):
            ids = all_ids[start:start + 400]
            grouped: dict[str, list[Change]] = {i: [] for i in ids}
            # Plain tuples and no JSON parsing of empty lists: merges read tens of thousands of
            # rows, and row objects were most of their time.
            marks = ",".join("?" * len(ids))
            rows = conn.exec_driver_sql(
                "SELECT change_id, entity_id, field, value, wall, counter, site_id, coder_id, "
                f"parents, seen FROM changes WHERE entity_type = ? AND entity_id IN ({marks})",
                (etype, *ids)).all()
            loads = json.loads
            for cid, eid, fname, value, wall, counter, site, coder, parents, seen in rows:
                grouped[eid].append(Change(
                    cid, etype, eid, fname,
                    loads(value if value.__class__ is str else value_json(value)),
                    wall, counter, site, coder,
                    tuple(loads(parents)) if parents != "[]" else (),
                    tuple(loads(seen)) if seen != "[]" else ()))
            if row_cls is not None:
                write_projections(conn, etype, {eid: project_entity(etype, eid, changes)
                                                for eid, changes in grouped.items()})


#: Changes a unit of work holds in memory before it writes them into its (still open) transaction.
FLUSH_EVERY = 20_000


class UnitOfWork:
    """One transaction: changes are appended to the log and projected before it commits."""

    def __init__(self, store: ProjectStore, coder_id: str | None) -> None:
        self.store = store
        self.coder_id = coder_id
        self._conn: Connection | None = None
        self._cache: dict[tuple[str, str], list[Change]] = {}
        #: every record written (what the Changed names) / written since the last flush
        self._touched: dict[str, set[str]] = {}
        self._dirty: dict[str, set[str]] = {}
        self._pending: list[dict[str, Any]] = []
        self._count = 0
        self.changed = rec.Changed()

    def __enter__(self) -> UnitOfWork:
        self._conn = self.store.engine.connect()
        self._conn.begin()
        return self

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        conn = self._conn
        assert conn is not None
        try:
            if exc_type is None:
                self._flush()
                if crosschecks.WATCHED.intersection(self._touched):
                    crosschecks.refresh(conn)
                conn.commit()
                self.changed = rec.Changed(
                    {t: frozenset(ids) for t, ids in self._touched.items()}, self._count)
                # Saved now (in the -wal at least); make the main file hold it too.
                self.store.settle(conn)
            else:
                conn.rollback()
        finally:
            conn.close()
            self._conn = None

    @property
    def conn(self) -> Connection:
        if self._conn is None:
            raise RuntimeError("UnitOfWork used outside 'with'")
        return self._conn

    # -- internals --

    def _flush(self) -> None:
        """Write what is pending into the open transaction and project the records written since
        the last flush. Their histories then live in the database (read again if written again),
        so a unit of work of any size holds at most FLUSH_EVERY changes in memory."""
        conn = self.conn
        if self._pending:
            conn.execute(insert(ChangeRow.__table__), self._pending)
            self._pending = []
        for etype, ids in self._dirty.items():
            write_projections(conn, etype, {
                eid: project_entity(etype, eid, self._cache[(etype, eid)])
                for eid in sorted(ids)})
            for eid in ids:
                self._cache.pop((etype, eid), None)
            self._touched.setdefault(etype, set()).update(ids)
        self._dirty = {}

    def _changes(self, etype: str, eid: str) -> list[Change]:
        key = (etype, eid)
        if key not in self._cache:
            self._cache[key] = self.store._history(self.conn, etype, eid)
        return self._cache[key]

    def _heads(self, etype: str, eid: str, field_name: str) -> list[Change]:
        return heads_of(c for c in self._changes(etype, eid) if c.field == field_name)

    def _append(self, etype: str, eid: str, field_name: str, value: Any,
                parents: Iterable[str], seen: Iterable[str] = ()) -> Change:
        wall, counter = self.store.clock.tick()
        change = make_change(etype, eid, field_name, value, wall, counter,
                             self.store.site.site_id, self.coder_id, parents, seen)
        self._changes(etype, eid).append(change)
        self._pending.append(change_to_row(change))
        self._dirty.setdefault(etype, set()).add(eid)
        self._count += 1
        if len(self._pending) >= FLUSH_EVERY:
            self._flush()
        return change

    def _state(self, etype: str, eid: str) -> EntityState | None:
        return project_entity(etype, eid, self._changes(etype, eid))

    def _check_values(self, etype: str, values: dict[str, Any]) -> None:
        spec = ENTITIES.get(etype)
        if spec is None:
            raise ValidationError(f"Unknown record type {etype!r}.")
        for key in values:
            if key not in spec.field_names:
                raise ValidationError(f"A {etype} has no field {key!r}.")

    # -- the write API --

    def create(self, etype: str, values: dict[str, Any] | None = None, id: str | None = None) -> str:
        values = values or {}
        self._check_values(etype, values)
        if id is None:
            eid = new_id()
            self._cache[(etype, eid)] = []  # a fresh random id has no history to read
        else:
            eid = id
        state = self._state(etype, eid)
        if state is not None and state.exists:
            raise ValidationError(f"A {etype} with id {eid} already exists.")
        self._append(etype, eid, EXISTS, True,
                     [h.change_id for h in self._heads(etype, eid, EXISTS)])
        for key, value in values.items():
            if value is None and state is None:
                continue
            self._write_field(etype, eid, key, value, force=state is None)
        return eid

    def _write_field(self, etype: str, eid: str, key: str, value: Any, force: bool = False) -> bool:
        spec = ENTITIES[etype].field(key)
        heads = self._heads(etype, eid, key)
        if spec.immutable and heads:
            return False  # fixed at creation (owner, link ends, extracted text)
        if not force and len(heads) == 1 and canonical_json(heads[0].value) == canonical_json(value):
            return False
        if not force and not heads and value is None:
            return False
        self._append(etype, eid, key, value, [h.change_id for h in heads])
        return True

    def update(self, etype: str, eid: str, values: dict[str, Any]) -> bool:
        """Write fields of a live record. Returns whether anything changed."""
        self._check_values(etype, values)
        state = self._state(etype, eid)
        if state is None:
            raise ValidationError(f"There is no {etype} with id {eid}.")
        if not state.exists:
            raise ValidationError(tr(
                "This record has been deleted; restore it before editing it."))
        changed = False
        for key, value in values.items():
            changed |= self._write_field(etype, eid, key, value)
        return changed

    def delete(self, etype: str, eid: str) -> bool:
        state = self._state(etype, eid)
        if state is None or not state.exists:
            return False
        seen = [h.change_id for name, hs in state.heads.items() if name != EXISTS for h in hs]
        self._append(etype, eid, EXISTS, False,
                     [h.change_id for h in state.heads.get(EXISTS, [])], seen)
        return True

    def restore(self, etype: str, eid: str) -> bool:
        state = self._state(etype, eid)
        if state is None or state.exists:
            return False
        seen = [h.change_id for name, hs in state.heads.items() if name != EXISTS for h in hs]
        self._append(etype, eid, EXISTS, True,
                     [h.change_id for h in state.heads.get(EXISTS, [])], seen)
        return True

    def link(self, link_type: str, **values: Any) -> str:
        """Create (or restore) a link row; its id is derived from what it links."""
        spec = ENTITIES[link_type]
        lid = link_id(link_type, *(str(values[k]) for k in spec.key))
        state = self._state(link_type, lid)
        if state is None:
            self.create(link_type, values, id=lid)
        else:
            if not state.exists:
                self.restore(link_type, lid)
            extra = {k: v for k, v in values.items() if k not in spec.key}
            if extra:
                self.update(link_type, lid, extra)
        return lid

    def unlink(self, link_type: str, **keys: Any) -> bool:
        spec = ENTITIES[link_type]
        lid = link_id(link_type, *(str(keys[k]) for k in spec.key))
        done = self.delete(link_type, lid)
        if "code_id" in spec.key:
            # a tagging made with a code since merged into this one shows as this code
            for alias, target in crosschecks.code_targets(self.conn).items():
                if target == keys["code_id"]:
                    other = {**keys, "code_id": alias}
                    done |= self.delete(link_type, link_id(
                        link_type, *(str(other[k]) for k in spec.key)))
        return done

    def resolve(self, etype: str, eid: str, field_name: str, value: Any) -> None:
        """Write one value that supersedes every concurrent value of a field."""
        state = self._state(etype, eid)
        if state is None:
            raise ValidationError(f"There is no {etype} with id {eid}.")
        if field_name == EXISTS:
            seen = [h.change_id for name, hs in state.heads.items() if name != EXISTS for h in hs]
            self._append(etype, eid, EXISTS, bool(value),
                         [h.change_id for h in state.heads.get(EXISTS, [])], seen)
            return
        self._check_values(etype, {field_name: value})
        self._append(etype, eid, field_name, value,
                     [h.change_id for h in state.heads.get(field_name, [])])

    def put_blob(self, data: bytes) -> str:
        sha = hashlib.sha256(data).hexdigest()
        exists = self.conn.execute(select(Blob.sha256).where(Blob.sha256 == sha)).scalar()
        if not exists:
            self.conn.execute(insert(Blob.__table__).values(sha256=sha, size=len(data), data=data))
        return sha

    def current(self, etype: str, eid: str) -> dict[str, Any] | None:
        """The record's values as this unit of work sees them (including its own writes)."""
        state = self._state(etype, eid)
        return None if state is None else {"id": eid, "deleted": not state.exists, **state.values}


def iter_chunks(items: list[Any], size: int) -> Iterator[list[Any]]:
    for i in range(0, len(items), size):
        yield items[i:i + size]
