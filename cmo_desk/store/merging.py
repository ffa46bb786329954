"""Merging another copy of the project: the union of two change logs, then re-projection.

Union is commutative, associative and idempotent, and the projection is a pure function of the
log, so merge order and repetition cannot matter. The other file is only read.
"""

from __future__ import annotations

import gc
import gzip
import hashlib
import json
import zlib
import shutil
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError

from cmo_desk.domain.atomic import replace_durably
from cmo_desk.domain.changelog import FUTURE_WARNING_MS, ChangeTuple, project_new_record
from cmo_desk.domain.errors import DamagedProjectError, ProjectError, WrongProjectError
from cmo_desk.domain.i18n import tr
from cmo_desk.domain.schema import ENTITIES, EXISTS
from cmo_desk.store import backups, crosschecks
from cmo_desk.store.files import (
    copy_with_wal,
    read_uri,
    stranded_wal,
    temporary_folder,
    wal_pending,
)
from cmo_desk.store.document_text import document_texts
from cmo_desk.store.fileinfo import FORMAT_VERSION, check_compatible, inspect_file
from cmo_desk.store.logformat import (
    COLUMNS as _COLUMNS,
    LOG_DDL,
    LOG_TABLE,
    append_from,
    compact_rows,
    id_text,
    is_numbered,
    known_records,
    lacking_sql,
    row_checker,
    stored_id,
    verified_row,
)
from cmo_desk.store.project_store import MergeStats, ProjectStore
from cmo_desk.store.projection import iter_chunks, reproject_many, write_projections

#: Page cache during a merge, in KiB as SQLite takes it (negative): 192 MiB, freed afterwards.
MERGE_CACHE_KIB = -196608

#: Rows of an incoming log in an older layout converted per step.
_CONVERT_STEP = 2000

GZIP_MAGIC = b"\x1f\x8b"


@dataclass(frozen=True)
class Incoming:
    """Another copy of the project (or a bundle), checked and ready to be read."""

    #: The file as the person chose it.
    path: Path
    #: A read-only SQLite URI for its contents (an unpacked bundle, or a copy of a file whose
    #: edits wait in a ``-wal``, lies in a temporary folder until the ``with`` block ends).
    uri: str
    meta: dict[str, str]


@contextmanager
def open_incoming(store: ProjectStore, other: Path) -> Iterator[Incoming]:
    """Check ``other`` once (a copy of this project, not the project itself, not from a newer
    version) and keep it readable for the ``with`` block: a bundle is unpacked only once
    however often it is read."""
    other = Path(other)
    if other.resolve() == store.path.resolve():
        raise ProjectError(tr("{name} is the project itself; choose another coder's copy.")
                           .format(name=other.name))
    with reading(other) as (plain, uri):
        yield Incoming(other, uri, _check_plain(store, plain, other))


def _check_plain(store: ProjectStore, plain: Path, other: Path) -> dict[str, str]:
    try:
        meta = inspect_file(plain)
    except DamagedProjectError as err:
        if isinstance(err.__context__, sqlite3.DatabaseError):
            # The advice for a damaged project (restore its backup) is wrong for someone else's
            # copy: the receiver's own project is sound and must not be restored.
            raise _unreadable(other, err.__context__) from None
        raise type(err)(str(err).replace(str(plain), str(other))) from None
    except ProjectError as err:
        raise type(err)(str(err).replace(str(plain), str(other))) from None
    check_compatible(meta, other)
    if not wal_pending(plain) and backups.cut_off(plain):
        # SQLite reads the missing pages as empty: the changes on them would silently be left
        # out of a merge that otherwise looks whole.
        raise _unreadable(other, tr(
            "The file is shorter than it should be: it was cut off while copying."))
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
    folder = temporary_folder("incoming")
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
            copy = copy_with_wal(path, folder)
        yield copy, read_uri(copy, immutable=False)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def merge_file(store: ProjectStore, other: Path | Incoming, dry_run: bool = False,
               before_write: Callable[[], object] | None = None) -> MergeStats:
    """Bring every sound change (and document bytes) of ``other`` into ``store`` in one
    transaction, and re-project the records they touch from the log.

    The other file is untrusted: each incoming change's id is recomputed from its content and
    what does not match is left out (and counted); its visible tables and conflict list are never
    read. ``before_write`` runs once it is known that something will be written (a backup); it
    may raise to stop the merge before anything is written. ``other`` may be a file already
    opened with :func:`open_incoming`.
    """
    if isinstance(other, Incoming):
        return _merge_from(store, other, dry_run, before_write)
    with open_incoming(store, Path(other)) as incoming:
        return _merge_from(store, incoming, dry_run, before_write)


def _merge_from(store: ProjectStore, incoming: Incoming, dry_run: bool,
                before_write: Callable[[], object] | None) -> MergeStats:
    with _no_cycle_collection():
        return _merge_from_log(store, incoming.path, incoming.uri,
                               is_numbered(incoming.meta.get("revision")), dry_run, before_write)


@contextmanager
def _no_cycle_collection() -> Iterator[None]:
    """Python's cycle collector paused for one merge: a merge makes hundreds of thousands of
    short-lived objects (one change per incoming row, checked, projected and dropped batch by
    batch), which the collector walked again and again for nothing (a tenth of a merge's time).
    They hold no reference cycles and are freed as each batch ends, so memory stays bounded."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


def _merge_from_log(store: ProjectStore, other: Path, source: str, numbered: bool,
                    dry_run: bool, before_write: Callable[[], object] | None) -> MergeStats:
    before = store.conflict_count()
    with store.engine.connect() as conn:
        conn.exec_driver_sql("ATTACH DATABASE ? AS other", (source,))
        # The merge commits with the store's synchronous=FULL: once it says "done", a power
        # cut cannot undo it.
        # The log's indexes take random-key inserts: a bigger page cache for the merge only.
        cache = int(conn.exec_driver_sql("PRAGMA cache_size").scalar_one())
        conn.exec_driver_sql(f"PRAGMA cache_size={MERGE_CACHE_KIB}")
        conn.commit()
        writing = False

        def begin_write() -> None:
            nonlocal writing
            if writing:
                return
            # Take the project's write lock first: when another program holds it, the merge
            # stops here, before a backup is made for a merge that cannot happen.
            conn.exec_driver_sql(
                "UPDATE main.meta SET value = value WHERE key = 'project_id'")
            if before_write is not None:
                before_write()
            writing = True

        try:
            names = {r[0] for r in conn.exec_driver_sql(
                "SELECT name FROM other.sqlite_master WHERE type IN ('table', 'view')").all()}
            if "changes" not in names:
                raise DamagedProjectError(tr(
                    "{name} has no change log, so it cannot be merged. Ask for a fresh copy "
                    "of the project.").format(name=Path(other).name))
            has_blobs = "blobs" in names
            conn.exec_driver_sql("DROP TABLE IF EXISTS temp.incoming")
            # The set difference is taken in SQL, comparing keys as they are stored; only the
            # changes this project lacks are read into Python. Sorted by record, so that each
            # record's changes arrive together and are checked and projected in one pass.
            # A log in an older layout is first turned into this one.
            log = "other.changes" if numbered else _converted(conn)
            lacking = f"FROM {log} o WHERE {lacking_sql('o')}"
            anything = conn.exec_driver_sql(f"SELECT 1 {lacking} LIMIT 1").first()
            future = store.clock.now() + FUTURE_WARNING_MS
            # Copied into a temporary table first, sorted by record, then checked there: what
            # does not match its id (or breaks the layout's rules: a change with no value in
            # another program's file) never reaches the log. (Copying straight into the log
            # and checking there was measured slower: the rows must be sorted either way.)
            conn.exec_driver_sql(
                f"CREATE TEMP TABLE incoming AS SELECT {_COLUMNS} {lacking} "
                f"{'' if anything else 'AND 0 '}ORDER BY entity_type, entity_id")
            sift = _Sift(conn, None if dry_run else begin_write, future)
            sift.run()
            rejected, new_changes, arrived = sift.rejected, sift.new_changes, sift.arrived
            coder_names, top = sift.coder_names, sift.top
            far_future, future_site = sift.far_future, sift.future_site
            incomplete = sift.incomplete
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
            touched = sift.touched
            stats = MergeStats(new_changes, new_blobs, arrived, touched, before, before,
                               far_future, dry_run, rejected, rejected_blobs, coder_names,
                               future_site)
            if dry_run or (not new_changes and not new_blobs):
                conn.exec_driver_sql("DROP TABLE IF EXISTS temp.incoming")
                conn.exec_driver_sql("DROP TABLE IF EXISTS temp.converted")
                conn.commit()
                return stats
            begin_write()
            append_from(conn, "temp.incoming", order="s.rowid")
            for chunk in iter_chunks(blob_ids, 200):
                conn.exec_driver_sql(
                    "INSERT INTO main.blobs (sha256, size, data) SELECT sha256, length(data), "
                    f"data FROM other.blobs WHERE sha256 IN ({','.join('?' * len(chunk))})",
                    tuple(chunk))
            # Records this project already had changes of are projected from the whole log,
            # now that it holds the incoming changes too.
            reproject_many(conn, sift.known, old_texts=sift.old_texts)
            crosschecks.refresh(conn)
            conn.exec_driver_sql("DROP TABLE IF EXISTS temp.incoming")
            conn.exec_driver_sql("DROP TABLE IF EXISTS temp.converted")
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
                      coder_names, future_site, incomplete)


def _converted(conn: Connection | sqlite3.Connection, schema: str = "other") -> str:
    """The changes of an incoming log in an older layout (whole ids, every name in each row),
    as the view ``changes`` gives a numbered log's, in ``temp.converted``; returns that table's
    name. Converted step by step, so that a large log is never all in memory."""
    raw = conn.connection.driver_connection if isinstance(conn, Connection) else conn
    assert raw is not None
    raw.execute("DROP TABLE IF EXISTS temp.converted")
    raw.execute(f"CREATE TEMP TABLE converted ({_COLUMNS})")
    cursor = raw.cursor()
    try:
        cursor.execute(f"SELECT {_COLUMNS} FROM {schema}.changes")
        while rows := cursor.fetchmany(_CONVERT_STEP):
            raw.executemany(f"INSERT INTO temp.converted VALUES ({','.join('?' * 11)})",
                            compact_rows(rows))
    finally:
        cursor.close()
    raw.execute("CREATE INDEX temp.ix_converted ON converted (entity_id, change_id)")
    return "temp.converted"


class _Sift:
    """One pass over the incoming changes, record by record: each change's id is recomputed
    from its content; a record with any change that does not match is held back whole (so no
    record arrives half: a CMOC without its owner, say; an intact copy of the file brings it
    later), and is taken out of ``temp.incoming``. Unless ``begin_write`` is None (a dry run),
    each sound record this project has no change of yet is projected from its incoming changes
    at once, and the others are listed in ``known`` to be projected from the whole log once the
    changes are in it."""

    #: Records checked and projected per step (fewer, larger statements; a step holds a few
    #: MB of changes).
    BATCH = 1500

    def __init__(self, conn: Connection, begin_write: Callable[[], None] | None,
                 future_from: int) -> None:
        self.conn = conn
        self.begin_write = begin_write
        self.rejected = 0
        self.touched = 0
        #: What arrives, for the summary: changes; coder -> record type -> records touched;
        #: coder id -> name (as the incoming log has it); the latest clock; how many changes
        #: are dated after ``future_from`` and which laptop made the latest of them.
        self.new_changes = 0
        self.arrived: dict[tuple[str | None, str], int] = {}
        self.coder_names: dict[str, str] = {}
        self.top: tuple[int, int] | None = None
        self.future_from = future_from
        self.far_future = 0
        self.future_site: str | None = None
        self.known: list[tuple[str, str]] = []
        #: Known documents the incoming changes give a text -> the text they show until then
        #: (the words the search index holds for them).
        self.old_texts: dict[str, str | None] = {}
        #: Records new to this project whose incoming changes do not create them.
        self.incomplete = 0
        self.held: list[tuple[Any, Any]] = []
        self.batch: dict[str, dict[str, list[ChangeTuple]]] = {}
        self.pending = 0

    def run(self) -> None:
        raw = self.conn.connection.driver_connection
        assert raw is not None
        cursor = raw.cursor()
        try:
            cursor.execute(f"SELECT {_COLUMNS} FROM temp.incoming ORDER BY rowid")
            key: tuple[Any, Any] | None = None
            group: list[ChangeTuple | None] = []
            for row in cursor:
                if (row[1], row[2]) != key:
                    if key is not None:
                        self._record(key, group)
                    key, group = (row[1], row[2]), []
                group.append(verified_row(*row))
            if key is not None:
                self._record(key, group)
        finally:
            cursor.close()
        self._flush()
        if self.held:
            self.conn.exec_driver_sql("DROP TABLE IF EXISTS temp.held_back")
            self.conn.exec_driver_sql("CREATE TEMP TABLE held_back (entity_type, entity_id)")
            raw.executemany("INSERT INTO temp.held_back VALUES (?, ?)", self.held)
            self.conn.exec_driver_sql(
                "DELETE FROM temp.incoming WHERE EXISTS (SELECT 1 FROM temp.held_back h "
                "WHERE h.entity_type IS temp.incoming.entity_type "
                "AND h.entity_id IS temp.incoming.entity_id)")
            self.conn.exec_driver_sql("DROP TABLE IF EXISTS temp.held_back")

    def _record(self, key: tuple[Any, Any], group: list[ChangeTuple | None]) -> None:
        if None in group:
            self.held.append(key)
            self.rejected += len(group)
            return
        self.touched += 1
        etype, stored = key
        self._count(etype, group[0][2], group)  # type: ignore[arg-type, index]
        if self.begin_write is None:
            return
        # keyed by the id as stored (the changes were checked to be stored as this layout
        # stores them), to be looked up in the log as it is
        self.batch.setdefault(etype, {})[stored] = group  # type: ignore[assignment]
        self.pending += 1
        if self.pending >= self.BATCH:
            self._flush()

    def _count(self, etype: str, eid: str, group: list[ChangeTuple]) -> None:
        # change tuples: [2] entity id, [3] field, [4] value, [5] wall, [6] counter,
        # [7] site id, [8] coder id
        self.new_changes += len(group)
        for coder in {c[8] for c in group}:
            self.arrived[(coder, etype)] = self.arrived.get((coder, etype), 0) + 1
        latest = max(group, key=lambda c: (c[5], c[6]))
        if self.top is None or (latest[5], latest[6]) > self.top:
            self.top = (latest[5], latest[6])
        if latest[5] > self.future_from:
            self.far_future += sum(1 for c in group if c[5] > self.future_from)
            if self.top == (latest[5], latest[6]):
                self.future_site = latest[7]
        if etype == "coder":
            names = [c for c in group if c[3] == "name"]
            if names:  # the latest, as Change.order_key orders them
                self.coder_names[eid] = str(max(names, key=lambda c: (c[5], c[6], c[7], c[0]))[4])

    def _flush(self) -> None:
        if not self.pending:
            return
        assert self.begin_write is not None
        self.begin_write()
        for etype, groups in self.batch.items():
            ids = list(groups)
            known = known_records(self.conn, etype, ids)
            self.known.extend((etype, groups[eid][0][2]) for eid in ids if eid in known)
            if etype == "document":  # read before the incoming changes join the log
                self.old_texts.update(document_texts(self.conn, [
                    groups[eid][0][2] for eid in ids
                    if eid in known and any(c[3] == "text" for c in groups[eid])]))
            # change tuples: [3] field; a record new here arrives whole only with its creation
            self.incomplete += sum(1 for eid in ids if eid not in known
                                   and not any(c[3] == EXISTS for c in groups[eid]))
            write_projections(self.conn, etype, {
                changes[0][2]: project_new_record(etype, changes[0][2], changes)
                for eid, changes in groups.items() if eid not in known})
        self.batch = {}
        self.pending = 0


def _unreadable(other: Path, err: BaseException | str) -> ProjectError:
    text_ = str(err)
    if "locked" in text_ or "busy" in text_:
        return ProjectError(tr(
            "The project is busy: another program is writing to it ({detail}). Nothing was "
            "merged. Close the other program or wait a moment, then merge again.").format(
            detail=text_))
    return DamagedProjectError(tr(
        "{name} could not be read to the end ({detail}); nothing was merged. Ask for a fresh "
        "copy of it.").format(name=Path(other).name, detail=text_))


#: Columns a person recognises a record by, in the order they are tried.
_LABEL_COLUMNS = ("label", "name", "filename", "statement", "quote", "key")


def log_mismatches(con: sqlite3.Connection, shown: int = 5) -> tuple[int, list[str], bool]:
    """Changes of a project's own log whose id does not match their content (the file was
    altered or damaged): how many, up to ``shown`` of the records they belong to in words (type
    and label), and whether more records have such changes. Every row is read once; nothing is
    written."""
    bad = 0
    records: dict[tuple[Any, Any], None] = {}
    more = False
    try:
        revision = con.execute("SELECT version_num FROM alembic_version").fetchone()
    except sqlite3.DatabaseError:  # no revision recorded: its rows are read as of any layout
        revision = None
    check = row_checker(revision[0] if revision else None)
    if is_numbered(revision[0] if revision else None):
        # a row whose numbers name nothing (a side table altered or damaged) is not in the view
        lost = con.execute(f"SELECT count(*) FROM {LOG_TABLE} c WHERE NOT EXISTS "
                           "(SELECT 1 FROM changes v WHERE v.seq = c.seq)").fetchone()[0]
        if lost:
            bad += lost
            records[("log", f"{lost} rows")] = None
    for row in con.execute(f"SELECT {_COLUMNS} FROM changes"):
        if check(*row) is None:
            bad += 1
            key = (row[1], row[2])
            if key in records:
                continue
            if len(records) < shown:
                records[key] = None
            else:
                more = True
    return bad, [_record_words(con, etype, eid) for etype, eid in records], more


def _record_words(con: sqlite3.Connection, etype: Any, eid: Any) -> str:
    try:
        eid = id_text(eid)
    except ValueError:
        eid = repr(eid)
    if etype not in ENTITIES:  # a type from a newer version, or written by another program
        return f"{etype!s:.32} {str(eid)[:8]}"
    try:
        columns = {r[1] for r in con.execute(f'PRAGMA table_info("{str(etype)}")')}
        for column in _LABEL_COLUMNS:
            if column in columns:
                row = con.execute(f'SELECT "{column}" FROM "{str(etype)}" WHERE id = ?',
                                  (eid,)).fetchone()
                if row and row[0]:
                    return f"{etype} \u00ab{' '.join(str(row[0]).split())[:60]}\u00bb"
    except sqlite3.DatabaseError:
        pass
    return f"{etype} {str(eid)[:8]}"


#: The tables a bundle takes from the project as they are (the log's are made afresh).
_BUNDLE_TABLES = ('meta', 'blobs', 'alembic_version')


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
        meta = _check_plain(store, plain, theirs)
        return _write_bundle(store, Path(dest), uri, is_numbered(meta.get("revision")))


def _write_bundle(store: ProjectStore, dest: Path, theirs_uri: str | None,
                  theirs_numbered: bool = True) -> tuple[int, int]:
    if dest.exists():
        raise ProjectError(tr("{path} already exists. Choose another name.").format(path=dest))
    folder = temporary_folder("bundle")
    tmp = dest.with_name(dest.name + ".partial")
    tmp.unlink(missing_ok=True)
    try:
        # edits waiting in a -wal on a write-protected stick are read from a copy of both
        mine = read_uri(copy_with_wal(store.path, folder) if stranded_wal(store.path)
                        else store.path)
        src = sqlite3.connect(mine, uri=True)
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
            for sql in (*schema, *LOG_DDL):
                out.execute(sql)
            out.execute("ATTACH DATABASE ? AS src", (mine,))
            out.execute("INSERT INTO meta SELECT * FROM src.meta")
            out.execute("INSERT INTO alembic_version SELECT * FROM src.alembic_version")
            blobs = 0
            if theirs_uri is None:
                append_from(out, "src.changes", order="s.seq")
            else:
                out.execute("ATTACH DATABASE ? AS theirs", (theirs_uri,))
                # a receiver's file in an older layout is read as this layout reads a log
                held = "theirs" if theirs_numbered else None
                if held is None:
                    _converted(out, "theirs")
                    lacking = ("NOT EXISTS (SELECT 1 FROM temp.converted t WHERE t.entity_id = "
                               "o.entity_id AND t.change_id = o.change_id AND t.entity_type = "
                               "o.entity_type)")
                else:
                    lacking = lacking_sql("o", "theirs")
                out.execute("DROP TABLE IF EXISTS temp.sending")
                out.execute(f"CREATE TEMP TABLE sending AS SELECT {_COLUMNS} FROM src.changes o "
                            f"WHERE {lacking} ORDER BY o.seq")
                append_from(out, "temp.sending", order="s.rowid")
                out.execute("DROP TABLE temp.sending")
                out.execute("DROP TABLE IF EXISTS temp.converted")
                has_blobs = out.execute(
                    "SELECT count(*) FROM theirs.sqlite_master WHERE name = 'blobs'").fetchone()[0]
                held_blobs = ("SELECT sha256 FROM theirs.blobs" if has_blobs else
                              "SELECT json_extract(value, '$') FROM theirs.changes "
                              "WHERE entity_type = 'document' AND field = 'sha256'")
                out.execute(
                    "INSERT INTO blobs (sha256, size, data) SELECT sha256, size, data "
                    f"FROM src.blobs WHERE sha256 NOT IN ({held_blobs})")
                blobs = out.execute("SELECT count(*) FROM blobs").fetchone()[0]
            n = out.execute("SELECT count(*) FROM log").fetchone()[0]
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
        return [id_text(r[0]) for r in conn.exec_driver_sql(
            "SELECT DISTINCT coder_id FROM changes WHERE site_id = ? AND coder_id IS NOT NULL "
            "LIMIT ?", (stored_id(site_id), limit))]
