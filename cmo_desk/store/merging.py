"""Merging another copy of the project: the union of two change logs, then re-projection.

Union is commutative, associative and idempotent, and the projection is a pure function of the
log, so merge order and repetition cannot matter. The other file is only read.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import zlib
import shutil
import sqlite3
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError

from cmo_desk.domain.atomic import replace_durably
from cmo_desk.domain.changelog import FUTURE_WARNING_MS, row_matches_id
from cmo_desk.domain.errors import DamagedProjectError, ProjectError, WrongProjectError
from cmo_desk.domain.i18n import tr
from cmo_desk.store import crosschecks
from cmo_desk.store.files import read_uri, wal_pending
from cmo_desk.store.opening import FORMAT_VERSION, check_compatible, inspect_file
from cmo_desk.store.project_store import MergeStats, ProjectStore
from cmo_desk.store.projection import iter_chunks, reproject_many

#: Page cache during a merge, in KiB as SQLite takes it (negative): 192 MiB, freed afterwards.
MERGE_CACHE_KIB = -196608

_COLUMNS = "change_id, entity_type, entity_id, field, value, wall, counter, site_id, coder_id, " \
    "parents, seen"


GZIP_MAGIC = b"\x1f\x8b"


def check_mergeable(store: ProjectStore, other: Path) -> dict[str, str]:
    """Refuse a file that is not a copy of this project (or is the project itself)."""
    other = Path(other)
    if other.resolve() == store.path.resolve():
        raise ProjectError(tr("{name} is the project itself; choose another coder's copy.")
                           .format(name=other.name))
    with reading(other) as (plain, _uri):
        return _check_plain(store, plain, other)


def _check_plain(store: ProjectStore, plain: Path, other: Path) -> dict[str, str]:
    try:
        meta = inspect_file(plain)
    except ProjectError as err:
        raise type(err)(str(err).replace(str(plain), str(other))) from None
    check_compatible(meta, other)
    if meta["project_id"] != store.project_id:
        raise WrongProjectError(tr(
            "{name} belongs to a different project (id {other_id}…, this project is "
            "{this_id}…). Nothing was done. Use only copies of this project.").format(
            name=other.name, other_id=meta["project_id"][:8], this_id=store.project_id[:8]))
    return meta


@contextmanager
def reading(path: Path) -> Iterator[tuple[Path, str]]:
    """A plain SQLite file for an incoming copy or bundle, and a read-only URI for it.

    The incoming file is never written to. A compressed bundle is unpacked into a temporary
    folder (a damaged one is refused whole). A file whose edits still sit in a ``-wal`` file
    beside it (a desk has it open, or it was copied with its log) is read from a temporary copy
    of both, so no saved edit is missed and nothing is written beside the original.
    """
    path = Path(path)
    try:
        with open(path, "rb") as fh:
            compressed = fh.read(2) == GZIP_MAGIC
    except OSError:
        compressed = False  # inspect_file says what is wrong with the path
    if not compressed and not wal_pending(path):
        # nobody may write the file while it is merged: read it as it stands, lock-free
        yield path, read_uri(path, immutable=True)
        return
    folder = Path(tempfile.mkdtemp(prefix="cmo-desk-incoming-"))
    try:
        copy = folder / (path.stem + ".cmo")
        if compressed:
            try:
                with gzip.open(path, "rb") as src, open(copy, "wb") as dst:
                    shutil.copyfileobj(src, dst, 1 << 20)
            except (OSError, EOFError, zlib.error) as err:
                raise DamagedProjectError(tr(
                    "{name} is damaged ({detail}); nothing was taken from it. Ask for the "
                    "bundle to be sent again.").format(name=path.name, detail=err)) from None
        else:
            shutil.copyfile(path, copy)
            shutil.copyfile(Path(str(path) + "-wal"), Path(str(copy) + "-wal"))
        yield copy, read_uri(copy, immutable=False)
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
    other = Path(other)
    if other.resolve() == store.path.resolve():
        raise ProjectError(tr("{name} is the project itself; choose another coder's copy.")
                           .format(name=other.name))
    with reading(other) as (plain, source):
        _check_plain(store, plain, other)
        return _merge_from(store, other, source, dry_run, before_write)


def _merge_from(store: ProjectStore, other: Path, source: str, dry_run: bool,
                before_write: Callable[[], object] | None) -> MergeStats:
    before = store.conflict_count()
    with store.engine.connect() as conn:
        conn.exec_driver_sql("ATTACH DATABASE ? AS other", (source,))
        # The merge commits with the store's synchronous=FULL: once it says "done", a power
        # cut cannot undo it.
        # The log's indexes take random-key inserts: a bigger page cache for the merge only.
        cache = int(conn.exec_driver_sql("PRAGMA cache_size").scalar_one())
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
            new_changes = int(conn.exec_driver_sql("SELECT count(*) FROM incoming").scalar_one())
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
            touched = int(conn.exec_driver_sql("SELECT count(*) FROM temp.touched").scalar_one())
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
    """Leave out every incoming change of a record that has a change whose id does not match
    its content; return how many changes were left out.

    A whole record is held back, not only its altered change, so that no record arrives half
    (a CMOC without its owner, say); an intact copy of the file brings it later.
    """
    bad: list[int] = []
    for row in conn.exec_driver_sql(f"SELECT rowid, {_COLUMNS} FROM temp.incoming"):
        if not row_matches_id(*row[1:]):
            bad.append(row[0])
    if not bad:
        return 0
    before = int(conn.exec_driver_sql("SELECT count(*) FROM temp.incoming").scalar_one())
    conn.exec_driver_sql("DROP TABLE IF EXISTS temp.held_back")
    conn.exec_driver_sql("CREATE TEMP TABLE held_back (entity_type, entity_id)")
    for chunk in iter_chunks(bad, 500):
        conn.exec_driver_sql(
            "INSERT INTO temp.held_back SELECT entity_type, entity_id FROM temp.incoming "
            f"WHERE rowid IN ({','.join('?' * len(chunk))})", tuple(chunk))
        conn.exec_driver_sql(
            f"DELETE FROM temp.incoming WHERE rowid IN ({','.join('?' * len(chunk))})",
            tuple(chunk))
    conn.exec_driver_sql(
        "DELETE FROM temp.incoming WHERE EXISTS (SELECT 1 FROM temp.held_back h "
        "WHERE h.entity_type IS temp.incoming.entity_type "
        "AND h.entity_id IS temp.incoming.entity_id)")
    conn.exec_driver_sql("DROP TABLE IF EXISTS temp.held_back")
    after = int(conn.exec_driver_sql("SELECT count(*) FROM temp.incoming").scalar_one())
    return len(bad) + before - after


_BUNDLE_TABLES = ('meta', 'changes', 'blobs', 'alembic_version')


def write_bundle(store: ProjectStore, dest: Path) -> int:
    """A small file with the change log but no document bytes; it merges like the full file."""
    n, _blobs = _write_bundle(store, Path(dest), None)
    return n


def write_delta_bundle(store: ProjectStore, dest: Path, theirs: Path) -> tuple[int, int]:
    """Only what ``theirs`` lacks: the changes it does not hold and the document files (by hash)
    it does not hold, compressed. Merging it into ``theirs`` gives what merging the whole
    project would. ``theirs`` is the receiver's project or the last file received from them.
    Returns how many changes and document files were written."""
    theirs = Path(theirs)
    if theirs.resolve() == store.path.resolve():
        raise ProjectError(tr(
            "{name} is this project itself; give the receiver's copy (or the last file you "
            "received from them) after --for.").format(name=theirs.name))
    with reading(theirs) as (plain, uri):
        _check_plain(store, plain, theirs)
        return _write_bundle(store, Path(dest), uri)


def _write_bundle(store: ProjectStore, dest: Path, theirs_uri: str | None) -> tuple[int, int]:
    if dest.exists():
        raise ProjectError(tr("{path} already exists. Choose another name.").format(path=dest))
    folder = Path(tempfile.mkdtemp(prefix="cmo-desk-bundle-", dir=None))
    tmp = dest.with_name(dest.name + ".partial")
    tmp.unlink(missing_ok=True)
    try:
        src = sqlite3.connect(read_uri(store.path), uri=True)
        try:
            marks = ",".join("?" * len(_BUNDLE_TABLES))
            schema = [r[0] for r in src.execute(
                "SELECT sql FROM sqlite_master WHERE type = 'table' AND sql IS NOT NULL "
                f"AND name IN ({marks})", _BUNDLE_TABLES)]
        finally:
            src.close()
        plain = folder / "bundle.cmo" if theirs_uri else tmp
        out = sqlite3.connect(plain)
        try:
            for sql in schema:
                out.execute(sql)
            out.execute("ATTACH DATABASE ? AS src", (read_uri(store.path),))
            out.execute("INSERT INTO meta SELECT * FROM src.meta")
            out.execute("INSERT INTO alembic_version SELECT * FROM src.alembic_version")
            blobs = 0
            if theirs_uri is None:
                out.execute(f"INSERT INTO changes ({_COLUMNS}) SELECT {_COLUMNS} FROM src.changes")
            else:
                out.execute("ATTACH DATABASE ? AS theirs", (theirs_uri,))
                out.execute(
                    f"INSERT INTO changes ({_COLUMNS}) SELECT {_COLUMNS} FROM src.changes s "
                    "WHERE NOT EXISTS (SELECT 1 FROM theirs.changes t "
                    "WHERE t.change_id = s.change_id)")
                has_blobs = out.execute(
                    "SELECT count(*) FROM theirs.sqlite_master WHERE name = 'blobs'").fetchone()[0]
                held = ("SELECT sha256 FROM theirs.blobs" if has_blobs else
                        "SELECT json_extract(value, '$') FROM theirs.changes "
                        "WHERE entity_type = 'document' AND field = 'sha256'")
                out.execute(
                    "INSERT INTO blobs (sha256, size, data) SELECT sha256, size, data "
                    f"FROM src.blobs WHERE sha256 NOT IN ({held})")
                blobs = out.execute("SELECT count(*) FROM blobs").fetchone()[0]
            n = out.execute("SELECT count(*) FROM changes").fetchone()[0]
            out.commit()
            out.execute("DETACH DATABASE src")
            if theirs_uri is not None:
                out.execute("DETACH DATABASE theirs")
        finally:
            out.close()
        if theirs_uri is not None:
            with open(plain, "rb") as fh, gzip.open(tmp, "wb", compresslevel=9) as gz:
                shutil.copyfileobj(fh, gz, 1 << 20)
        replace_durably(tmp, dest)
    except sqlite3.DatabaseError as err:
        tmp.unlink(missing_ok=True)
        raise ProjectError(tr("The bundle could not be written ({detail}); nothing was "
                              "written.").format(detail=err)) from None
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return int(n), int(blobs)


def bundle_format() -> str:
    return json.dumps({"format_version": FORMAT_VERSION})


def coders_of_site(store: ProjectStore, site_id: str, limit: int = 3) -> list[str]:
    """Ids of the coders who worked on one laptop (site), as the project's log records them."""
    with store.engine.connect() as conn:
        return [r[0] for r in conn.exec_driver_sql(
            "SELECT DISTINCT coder_id FROM changes WHERE site_id = ? AND coder_id IS NOT NULL "
            "LIMIT ?", (site_id, limit))]
