"""Merging another copy of the project: the union of two change logs, then re-projection.

Union is commutative, associative and idempotent, and the projection is a pure function of the
log, so merge order and repetition cannot matter. The other file is only read.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import sqlite3
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import quote

from sqlalchemy import text
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError

from cmo_desk.domain.changelog import FUTURE_WARNING_MS, row_matches_id
from cmo_desk.domain.errors import DamagedProjectError, ProjectError, WrongProjectError
from cmo_desk.domain.i18n import tr
from cmo_desk.store import crosschecks
from cmo_desk.store.project_store import (
    FORMAT_VERSION,
    MergeStats,
    ProjectStore,
    _fsync_path,
    check_compatible,
    inspect_file,
    iter_chunks,
    reproject_many,
)

#: Page cache during a merge, in KiB as SQLite takes it (negative): 192 MiB, freed afterwards.
MERGE_CACHE_KIB = -196608

_COLUMNS = "change_id, entity_type, entity_id, field, value, wall, counter, site_id, coder_id, " \
    "parents, seen"


def check_mergeable(store: ProjectStore, other: Path) -> dict[str, str]:
    other = Path(other)
    if other.resolve() == store.path.resolve():
        raise ProjectError(f"{other.name} is the project itself; choose another coder's copy.")
    meta = inspect_file(other)
    check_compatible(meta, other)
    if meta["project_id"] != store.project_id:
        raise WrongProjectError(
            f"{other.name} belongs to a different project (id {meta['project_id'][:8]}…, this "
            f"project is {store.project_id[:8]}…). Nothing was merged. Merge only copies of "
            "this project.")
    return meta


def read_only_uri(path: Path) -> str:
    """An SQLite URI that only reads a file: safe on a write-protected stick, never writes -shm.

    ``immutable`` tells SQLite that nobody changes the file while it is read, so it needs no
    lock or shared-memory file beside it (which a read-only folder cannot hold). Only for a file
    with no write-ahead log beside it (see ``reading``).
    """
    return "file:" + quote(str(Path(path).resolve())) + "?mode=ro&immutable=1"


@contextmanager
def reading(path: Path) -> Iterator[str]:
    """A read-only URI for an incoming file, which is never written to.

    A file whose edits still sit in a ``-wal`` file beside it (a desk has it open, or it was
    copied with its log) is read from a temporary copy of both, so no saved edit is missed and
    nothing is written beside the original.
    """
    path = Path(path)
    wal = Path(str(path) + "-wal")
    try:
        pending = wal.exists() and wal.stat().st_size > 0
    except OSError:
        pending = False
    if not pending:
        yield read_only_uri(path)
        return
    folder = Path(tempfile.mkdtemp(prefix="cmo-desk-incoming-"))
    try:
        copy = folder / path.name
        shutil.copyfile(path, copy)
        shutil.copyfile(wal, Path(str(copy) + "-wal"))
        yield "file:" + quote(str(copy)) + "?mode=ro"
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def merge_file(store: ProjectStore, other: Path, dry_run: bool = False,
               before_write: Callable[[], object] | None = None) -> MergeStats:
    """Bring every sound change (and document bytes) of ``other`` into ``store`` in one
    transaction, and re-project the records they touch from the log.

    The other file is untrusted: each incoming change's id is recomputed from its content and
    what does not match is left out (and counted); its visible tables and conflict list are never
    read. ``before_write`` runs once it is known that something will be written (a backup).
    """
    check_mergeable(store, other)
    with reading(other) as source:
        return _merge_from(store, other, source, dry_run, before_write)


def _merge_from(store: ProjectStore, other: Path, source: str, dry_run: bool,
                before_write: Callable[[], object] | None) -> MergeStats:
    before = store.conflict_count()
    with store.engine.connect() as conn:
        conn.exec_driver_sql("ATTACH DATABASE ? AS other", (source,))
        # A merge is atomic either way; skipping the final fsync only means that a power cut in
        # the next moments could undo the whole merge (the copy and the backup are still there).
        sync = int(conn.exec_driver_sql("PRAGMA synchronous").scalar())
        conn.exec_driver_sql(f"PRAGMA synchronous={min(sync, 1)}")
        # The log's indexes take random-key inserts: a bigger page cache for the merge only.
        cache = int(conn.exec_driver_sql("PRAGMA cache_size").scalar())
        conn.exec_driver_sql(f"PRAGMA cache_size={MERGE_CACHE_KIB}")
        conn.commit()
        try:
            names = {r[0] for r in conn.exec_driver_sql(
                "SELECT name FROM other.sqlite_master WHERE type = 'table'").all()}
            if "changes" not in names:
                raise DamagedProjectError(tr(
                    "{name} has no change log, so it cannot be merged. Ask for a fresh copy "
                    "of the project.").format(name=Path(other).name))
            has_blobs = "blobs" in names
            conn.exec_driver_sql("DROP TABLE IF EXISTS temp.incoming")
            conn.exec_driver_sql(
                f"CREATE TEMP TABLE incoming AS SELECT {_COLUMNS} FROM other.changes o "
                "WHERE NOT EXISTS (SELECT 1 FROM main.changes m WHERE m.change_id = o.change_id)")
            rejected = _drop_unsound(conn)
            new_changes = int(conn.exec_driver_sql("SELECT count(*) FROM incoming").scalar())
            arrived: dict[tuple[str | None, str], int] = {}
            for coder, etype, n in conn.exec_driver_sql(
                "SELECT coder_id, entity_type, count(DISTINCT entity_id) FROM incoming "
                "GROUP BY coder_id, entity_type"
            ).all():
                arrived[(coder, etype)] = int(n)
            coder_names = {
                str(eid): str(json.loads(value)) for eid, value in conn.exec_driver_sql(
                    "SELECT entity_id, value FROM incoming WHERE entity_type = 'coder' "
                    "AND field = 'name' ORDER BY wall DESC, counter DESC").all()}
            top = conn.exec_driver_sql(
                "SELECT wall, counter FROM incoming ORDER BY wall DESC, counter DESC LIMIT 1"
            ).first()
            far_future, future_site = 0, None
            if top:
                limit = store.clock.now() + FUTURE_WARNING_MS
                far_future = int(conn.execute(
                    text("SELECT count(*) FROM incoming WHERE wall > :lim"),
                    {"lim": limit}).scalar() or 0)
                if far_future:
                    future_site = conn.execute(text(
                        "SELECT site_id FROM incoming WHERE wall > :lim "
                        "ORDER BY wall DESC, counter DESC LIMIT 1"), {"lim": limit}).scalar()
            blob_ids: list[str] = []
            rejected_blobs = 0
            if has_blobs:
                for sha, data in conn.exec_driver_sql(
                        "SELECT sha256, data FROM other.blobs o WHERE NOT EXISTS "
                        "(SELECT 1 FROM main.blobs m WHERE m.sha256 = o.sha256)"):
                    if isinstance(data, bytes) and hashlib.sha256(data).hexdigest() == sha:
                        blob_ids.append(sha)
                    else:
                        rejected_blobs += 1
            new_blobs = len(blob_ids)
            conn.exec_driver_sql("DROP TABLE IF EXISTS temp.touched")
            conn.exec_driver_sql(
                "CREATE TEMP TABLE touched AS SELECT DISTINCT entity_type, entity_id "
                "FROM temp.incoming ORDER BY entity_type, entity_id")
            touched = int(conn.exec_driver_sql("SELECT count(*) FROM temp.touched").scalar())
            stats = MergeStats(new_changes, new_blobs, arrived, touched, before, before,
                               far_future, dry_run, rejected, rejected_blobs, coder_names,
                               future_site)
            if dry_run or (not new_changes and not new_blobs):
                conn.exec_driver_sql("DROP TABLE IF EXISTS temp.incoming")
                conn.commit()
                return stats
            # Take the project's write lock first: when another program holds it, the merge
            # stops here, before a backup is made for a merge that cannot happen.
            conn.exec_driver_sql(
                "UPDATE main.meta SET value = value WHERE key = 'project_id'")
            if before_write is not None:
                before_write()
            conn.exec_driver_sql(f"INSERT INTO main.changes ({_COLUMNS}) "
                                 f"SELECT {_COLUMNS} FROM incoming")
            for chunk in iter_chunks(blob_ids, 200):
                conn.exec_driver_sql(
                    "INSERT INTO main.blobs (sha256, size, data) SELECT sha256, length(data), "
                    f"data FROM other.blobs WHERE sha256 IN ({','.join('?' * len(chunk))})",
                    tuple(chunk))
            rest = conn.exec_driver_sql("SELECT entity_type, entity_id FROM temp.touched").all()
            reproject_many(conn, [(t, i) for t, i in rest])
            crosschecks.refresh(conn)
            conn.exec_driver_sql("DROP TABLE IF EXISTS temp.incoming")
            conn.exec_driver_sql("DROP TABLE IF EXISTS temp.touched")
            conn.commit()
        except sqlite3.DatabaseError as err:
            conn.rollback()
            raise _unreadable(other, err) from None
        except DBAPIError as err:
            conn.rollback()
            if isinstance(err.orig, sqlite3.DatabaseError):
                raise _unreadable(other, err.orig) from None
            raise
        except BaseException:
            conn.rollback()
            raise
        finally:
            conn.exec_driver_sql("DETACH DATABASE other")
            conn.exec_driver_sql(f"PRAGMA synchronous={sync}")
            conn.exec_driver_sql(f"PRAGMA cache_size={cache}")
    if top:
        store.clock.observe(int(top[0]), int(top[1]))
    return MergeStats(new_changes, new_blobs, arrived, touched, before,
                      store.conflict_count(), far_future, False, rejected, rejected_blobs,
                      coder_names, future_site)


def _unreadable(other: Path, err: BaseException) -> ProjectError:
    text_ = str(err)
    if "locked" in text_ or "busy" in text_:
        return ProjectError(tr(
            "The project is busy: another program is writing to it ({detail}). Nothing was "
            "merged. Close the other program or wait a moment, then merge again.").format(
            detail=text_))
    return DamagedProjectError(tr(
        "{name} could not be read to the end ({detail}); nothing was merged. Ask for a fresh "
        "copy of it.").format(name=Path(other).name, detail=text_))


def _drop_unsound(conn: Connection) -> int:
    """Remove incoming changes whose id does not match their content; return how many."""
    bad: list[int] = []
    for row in conn.exec_driver_sql(f"SELECT rowid, {_COLUMNS} FROM temp.incoming"):
        if not row_matches_id(*row[1:]):
            bad.append(row[0])
    for chunk in iter_chunks(bad, 500):
        conn.exec_driver_sql(
            f"DELETE FROM temp.incoming WHERE rowid IN ({','.join('?' * len(chunk))})",
            tuple(chunk))
    return len(bad)


def write_bundle(store: ProjectStore, dest: Path) -> int:
    """A small file with the change log but no document bytes; it merges like the full file."""
    dest = Path(dest)
    if dest.exists():
        raise ProjectError(f"{dest} already exists. Choose another name.")
    tmp = dest.with_name(dest.name + ".partial")
    tmp.unlink(missing_ok=True)
    src = sqlite3.connect(f"file:{store.path}?mode=ro", uri=True)
    try:
        schema = [
            r[0] for r in src.execute(
                "SELECT sql FROM sqlite_master WHERE type IN ('table','index') AND sql IS NOT NULL "
                "AND name IN ('meta','changes','blobs','alembic_version','ix_changes_entity',"
                "'ix_changes_clock')")
        ]
        src.close()
        out = sqlite3.connect(tmp)
        try:
            for sql in schema:
                out.execute(sql)
            out.execute("ATTACH DATABASE ? AS src", (str(store.path.resolve()),))
            out.execute("INSERT INTO meta SELECT * FROM src.meta")
            out.execute("INSERT INTO alembic_version SELECT * FROM src.alembic_version")
            out.execute(f"INSERT INTO changes ({_COLUMNS}) SELECT {_COLUMNS} FROM src.changes")
            n = out.execute("SELECT count(*) FROM changes").fetchone()[0]
            out.commit()
            out.execute("DETACH DATABASE src")
        finally:
            out.close()
        _fsync_path(tmp)
        tmp.replace(dest)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    finally:
        try:
            src.close()
        except sqlite3.Error:
            pass
    return int(n)


def bundle_format() -> str:
    return json.dumps({"format_version": FORMAT_VERSION})
