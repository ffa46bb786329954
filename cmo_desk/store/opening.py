"""Opening a project file: what the file is, whether this version can read it, its lock, a backup
on the way in, upgrading an older file, and a new file's first schema.

A file is refused before anything is written to it: not a project, damaged, or from a newer
version. An older one is backed up and upgraded (or, opened read-only, read as an upgraded copy).
SQLite-specific connection settings (pragmas, WAL) live here.
"""

from __future__ import annotations

import shutil
import sqlite3
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Generic, TypeVar

from sqlalchemy import Engine, create_engine, delete, event, insert, text, update
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DatabaseError, OperationalError
from sqlalchemy.pool import QueuePool

from cmo_desk import __version__
from cmo_desk.domain.atomic import replace_durably
from cmo_desk.domain.errors import DamagedProjectError, ProjectError, StorageError
from cmo_desk.domain.i18n import tr
from cmo_desk.domain.storage import classify, storage_error
from cmo_desk.store import backups, locking
from cmo_desk.store.fileinfo import (  # the checks every opening makes, read with sqlite3 alone
    FORMAT_VERSION,
    HEAD_REVISION,
    check_compatible,
    damaged_with_backup_hint,
    inspect_file,
    refuse_broken_link,
)
from cmo_desk.store.files import connect_read_only, temporary_folder
from cmo_desk.store.models import META, METADATA
from cmo_desk.store.logformat import LOG_DDL
from cmo_desk.store.page_index import SEARCH_TABLE_DDL

#: A backup on opening is skipped when the newest backup is younger than this.
OPEN_BACKUP_EVERY = 30 * 60

#: SQLite checkpoints after any commit that leaves at least this many pages in the -wal file.
CHECKPOINT_EVERY_PAGES = 1
#: The -wal file is cut back to this size after a checkpoint (bytes).
WAL_SIZE_LIMIT = 4 * 1024 * 1024
#: The page size of a project file this version creates or compacts (bytes). Larger pages than
#: SQLite's 4 KiB make shallower trees for the change log's random-key indexes: merging three
#: 500-study copies was about a tenth faster, keystrokes no slower, the file the same size.
PAGE_SIZE = 16384

S = TypeVar("S")


def set_pragmas(dbapi_conn: sqlite3.Connection, _record: object) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA busy_timeout=5000")
    # A larger page cache keeps merges of big logs (random-key index inserts) off the disk.
    cur.execute("PRAGMA cache_size=-32768")
    cur.execute("PRAGMA temp_store=MEMORY")
    cur.close()


def make_engine(path: Path, read_only: bool = False) -> Engine:
    """An engine on one project file, with the store's pragmas and its storage errors in words."""
    if read_only:
        engine = create_engine("sqlite://", creator=lambda: connect_read_only(path))
    else:
        # Connected by name, not by URL: a folder named "50% #2 ?x" must not be read as options.
        engine = create_engine(
            "sqlite://", poolclass=QueuePool,
            creator=lambda: sqlite3.connect(str(path), check_same_thread=False))
    event.listen(engine, "connect", set_pragmas)
    event.listen(engine, "handle_error", storage_error_hook(path))
    if not read_only:
        def _wal(dbapi_conn: sqlite3.Connection, _r: object) -> None:
            cur = dbapi_conn.cursor()
            # Takes effect on a new, empty file only (an existing file keeps its page size
            # until it is compacted: see compact_file).
            cur.execute(f"PRAGMA page_size={PAGE_SIZE}")
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


def storage_error_hook(path: Path) -> Callable[[Any], BaseException | None]:
    """Turn SQLite's storage failures (disk full, read-only, I/O error, damaged page, locked)
    into a StorageError in plain words, wherever in the store they happen."""

    def handle(ctx: Any) -> BaseException | None:
        return storage_error(ctx.original_exception, path)

    return handle


class BackupOnOpen(threading.Thread):
    """The backup taken on opening, made beside the work so that opening stays fast.

    SQLite's backup reads a consistent snapshot while the desk goes on writing (WAL).
    The store's ``close()`` waits for it, so a short command still leaves its backup behind.
    A failure, in words, is handed to ``report`` (set before the thread starts).
    """

    def __init__(self, path: Path, meta: dict[str, str]) -> None:
        super().__init__(name="cmo-desk-open-backup", daemon=True)
        self.path, self.meta = path, meta
        self.report: Callable[[str], None] | None = None

    def run(self) -> None:
        warning = backup_on_open(self.path, self.meta)
        if warning and self.report is not None:
            self.report(warning)


def backup_on_open(path: Path, meta: dict[str, str]) -> str | None:
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


def backup_file(src: Path, dest: Path) -> None:
    """Copy a project with SQLite's online backup, to a temp name first so no half-copy remains."""
    try:
        backups.copy_database(src, dest)
    except sqlite3.DatabaseError:
        shutil.copy2(src, dest)


def create_schema(conn: Connection) -> None:
    """The head schema of a new project, written straight from the models: creating a file does
    not load Alembic (and Mako) just to replay every migration on an empty database. A test
    checks that it equals the schema the migrations build."""
    METADATA.create_all(conn)
    for ddl in LOG_DDL:
        conn.exec_driver_sql(ddl)
    if conn.dialect.name == "sqlite":
        conn.exec_driver_sql(SEARCH_TABLE_DDL)
    conn.exec_driver_sql(
        "CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL, "
        "CONSTRAINT alembic_version_pkc PRIMARY KEY (version_num))")
    conn.execute(text("INSERT INTO alembic_version (version_num) VALUES (:v)"),
                 {"v": HEAD_REVISION})


def run_migrations(conn: Connection) -> None:
    from alembic import command
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(Path(__file__).parent / "migrations"))
    cfg.attributes["connection"] = conn
    command.upgrade(cfg, "head")


def create_file(path: Path, project_id: str, fill: Callable[[Path, Engine], None]) -> None:
    """Create a project at ``path``: the schema and meta rows, then ``fill(temporary path,
    engine)`` writes the first records; only a complete file takes the name ``path``."""
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
    engine = make_engine(tmp)
    try:
        with engine.begin() as conn:
            create_schema(conn)
            conn.execute(
                insert(META),
                [
                    {"key": "project_id", "value": project_id},
                    {"key": "format_version", "value": str(FORMAT_VERSION)},
                    {"key": "app_version", "value": __version__},
                    {"key": "created", "value": datetime.now(timezone.utc).isoformat()},
                ],
            )
        fill(tmp, engine)
        replace_durably(tmp, path)
    except BaseException:
        engine.dispose()
        for p in (tmp, Path(str(tmp) + "-wal"), Path(str(tmp) + "-shm")):
            p.unlink(missing_ok=True)
        raise


@dataclass
class Opened(Generic[S]):
    """A project file opened by :func:`open_file`, with what its opening found out."""

    store: S
    #: The lock taken (write opens), or who holds it when the file was opened read-only.
    lock: locking.Lock | None
    locked_by: locking.LockedBy | None
    #: Why a write open ended read-only, in words for the user; None when it did not.
    read_only_reason: str | None
    #: An upgraded copy read in place of an older project opened read-only.
    read_copy: Path | None
    #: The backup on opening, not yet started.
    backup: BackupOnOpen | None


def _take_lock(path: Path, coder: str | None) -> tuple[
        locking.Lock | None, locking.LockedBy | None, str | None]:
    """The lock, or (None, who holds it or None, why the file opens read-only)."""
    try:
        outcome = locking.acquire(path, coder)
    except OSError as err:
        if classify(err) == "full":
            return None, None, tr(
                "The disk holding {name} is full, so it was opened read-only. "
                "Free some space on it, then reopen the project to make "
                "changes.").format(name=path.name)
        return None, None, tr(
            "{name} is in a folder that cannot be written to, so it was "
            "opened read-only. Copy it to a folder of your own to make "
            "changes.").format(name=path.name)
    if isinstance(outcome, locking.Lock):
        return outcome, None, None
    return None, outcome, outcome.message() if outcome else None


def _upgrade(path: Path, upgrade_backup_dir: Path | None) -> None:
    """Back an older project up, then bring it to the head revision in place."""
    try:
        if upgrade_backup_dir is not None:
            backup_file(path, upgrade_backup_dir / (
                f"{path.stem}.before-upgrade-{time.strftime('%Y%m%d-%H%M%S')}"
                f"{path.suffix}"))
        else:
            backups.make_backup(path, "upgrade")
    except (OSError, sqlite3.Error) as err:
        # No upgrade without its backup. A disk that fills up while the copy is made is often
        # reported as a read or write error: the advice is the free space either way.
        raise StorageError(tr("No backup could be made when opening ({detail}). "
                              "Check the free space on the disk.").format(detail=err),
                           classify(err) or "io") from err
    engine = make_engine(path)
    revision = inspect_file(path).get("revision", "")
    try:  # a failed upgrade must not keep the file open
        with engine.begin() as conn:
            run_migrations(conn)
            conn.execute(
                update(META).where(META.c.key == "app_version").values(
                    value=__version__))
            if revision < COMPACT_REVISION:
                # Noted with the upgrade itself, so that a power cut before the compaction ends
                # leaves the next opening the job to finish.
                conn.execute(delete(META).where(META.c.key == COMPACT_PENDING))
                conn.execute(insert(META), [{"key": COMPACT_PENDING, "value": revision}])
    finally:
        engine.dispose()
    if revision < COMPACT_REVISION:
        compact_file(path)


#: From this revision on, the file's layout is as compact as this version makes it; an upgrade to
#: it gives the space back.
COMPACT_REVISION = HEAD_REVISION
#: The meta key of a file upgraded to the compact layout whose compaction has not yet run.
COMPACT_PENDING = "compact_pending"


def compact_file(path: Path) -> None:
    """Give back the space an upgrade freed (the copies of the text it dropped), and bring the file to
    this version's page size. VACUUM rewrites the file through its rollback journal, so a power
    cut leaves the file as it was; when it cannot run (no room for its temporary copy) the file
    simply stays as it is, and an upgraded file's note that it awaits compaction (see
    ``COMPACT_PENDING``) has the next opening try again. Nothing else may have the file open."""
    con = sqlite3.connect(str(path), isolation_level=None)
    try:
        # The page size can only change outside WAL mode.
        con.execute("PRAGMA journal_mode=DELETE")
        con.execute(f"PRAGMA page_size={PAGE_SIZE}")
        con.execute("VACUUM")
        con.execute("DELETE FROM meta WHERE key = ?", (COMPACT_PENDING,))
    except sqlite3.Error:
        pass
    finally:
        try:
            con.execute("PRAGMA journal_mode=WAL")
        except sqlite3.Error:
            pass
        con.close()


def _upgraded_copy(path: Path) -> Path:
    """Reading an older project must not change it: an upgraded copy to read instead."""
    data_path = temporary_folder("read") / path.name
    backup_file(path, data_path)
    return _upgrade_copy(data_path)


def _upgrade_copy(data_path: Path) -> Path:
    """Upgrade a temporary copy in place (never the user's own file)."""
    engine = make_engine(data_path)
    try:
        with engine.begin() as conn:
            run_migrations(conn)
    finally:
        engine.dispose()
    return data_path


def open_file(
    path: Path,
    build: Callable[[Engine, bool], S],
    *,
    read_only: bool = False,
    upgrade_backup_dir: Path | None = None,
    coder: str | None = None,
    source: Path | None = None,
) -> Opened[S]:
    """Open a project file: refuse what cannot be read, take the lock (or open read-only when
    another desk holds it), check it, upgrade an older one, and ``build(engine, read_only)`` the
    store over it. The lock is released again when any step fails. ``source``, when given, is a
    copy of ``path`` to read instead (opened read-only; messages still name ``path``)."""
    if source is not None:
        read_only = True
    data_path = source or path
    try:
        meta = inspect_file(data_path)
    except DamagedProjectError as err:
        raise damaged_with_backup_hint(path, err.problem.replace(str(data_path), str(path))) \
            from None
    check_compatible(meta, path)
    lock: locking.Lock | None = None
    locked_by: locking.LockedBy | None = None
    reason: str | None = None
    if not read_only:
        lock, locked_by, reason = _take_lock(path, coder)
        read_only = lock is None
    try:
        problems = backups.quick_check(
            data_path, thorough=data_path.stat().st_size <= backups.THOROUGH_OPEN_CHECK_BYTES)
        if problems:
            raise damaged_with_backup_hint(path, tr(
                "{path} is damaged ({detail}).").format(path=path, detail=problems[0]))
        backup_thread = BackupOnOpen(path, meta) if lock is not None else None
        if not read_only and meta.get("revision") != HEAD_REVISION:
            _upgrade(path, upgrade_backup_dir)
        elif not read_only and COMPACT_PENDING in meta:
            compact_file(path)  # an upgrade whose compaction a power cut interrupted
        if read_only and meta.get("revision") != HEAD_REVISION:
            # Reading an older project must not change it: read an upgraded copy instead.
            data_path = _upgraded_copy(path) if source is None else _upgrade_copy(source)
        try:
            store = build(make_engine(data_path, read_only=read_only), read_only)
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
    return Opened(store, lock, locked_by, reason, data_path if data_path != path else None,
                  backup_thread)
