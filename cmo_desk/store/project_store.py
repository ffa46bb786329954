"""A project: one SQLite file holding the change log, its projection, and document bytes.

``ProjectStore`` is the door to an open project; the work is done in rooms named for their job:

- ``opening``: what a file is, whether this version reads it, its lock, backups on opening,
  upgrades, a new file's schema (``files`` reads a file without changing it);
- ``unit_of_work``: the one way to write; it appends to the log and projects what it touched;
- ``projection``: the visible tables and the page index, written from the log;
- ``queries``: reading records, aggregates, the log, conflicts and the canonical dump;
- ``search``: full-text search and snippets; ``logformat``: a change as a row and back;
- ``document_text``: documents' texts, which the log alone holds, as each document shows its own.

The rooms never import this module.
"""

from __future__ import annotations

import builtins
import shutil
import threading
import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, overload

from sqlalchemy import Engine, delete, insert, select
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DatabaseError, OperationalError

from cmo_desk.domain import records as rec
from cmo_desk.domain.changelog import FUTURE_WARNING_MS, Change, HybridClock
from cmo_desk.domain.errors import ReadOnlyError, StorageError
from cmo_desk.domain.i18n import tr
from cmo_desk.domain.ids import CodeId, CoderId, EntityType, StudyId
from cmo_desk.domain.schema import ENTITIES, ENTITY_ORDER
from cmo_desk.domain.snapshot import ProjectSnapshot
from cmo_desk.store import crosschecks, locking, opening, projection, queries, search
from cmo_desk.store.models import BLOBS, CHANGES, CONFLICTS, ENTITY_TABLES, META
from cmo_desk.store.logformat import id_text, latest_clock
from cmo_desk.store.fileinfo import (
    FORMAT_VERSION,
    HEAD_REVISION,
    KNOWN_REVISIONS,
    check_compatible,
    inspect_file,
    summarise,
)
from cmo_desk.store.opening import backup_file, create_schema, make_engine, run_migrations
from cmo_desk.store.projection import iter_chunks, reproject_many
from cmo_desk.store.search import SearchHit
from cmo_desk.store.files import copy_with_wal, stranded_wal
from cmo_desk.store.site import Site
from cmo_desk.store.unit_of_work import ChangeHistory, UnitOfWork

#: Names other modules imported from here before the store was split into rooms.
_make_engine, _run_migrations, _create_schema = make_engine, run_migrations, create_schema

__all__ = [
    "FORMAT_VERSION", "HEAD_REVISION", "KNOWN_REVISIONS", "MergeStats", "ProjectStore", "SearchHit",
    "UnitOfWork", "check_compatible", "inspect_file", "iter_chunks", "reproject_many",
]


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
    #: Records the incoming changes alter whose creation is neither in them nor in this project
    #: (a bundle made for another copy): kept, and completed by the sender's own copy.
    incomplete: int = 0


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
        #: Recently edited records' change lists, for the next unit of work.
        self.history = ChangeHistory()
        with engine.connect() as conn:
            meta = dict(conn.execute(select(META.c.key, META.c.value)).all())
            self.project_id: str = meta["project_id"]
            self.meta = meta
            row = latest_clock(conn)
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
        pid = project_id or str(uuid.uuid4())

        def fill(tmp: Path, engine: Engine) -> None:
            store = cls(tmp, engine, site or Site.load(), read_only=False)
            with store.unit_of_work(coder_id) as uow:
                uow.create("project", {"title": title, "template": template}, id=pid)
            store.close()

        opening.create_file(path, pid, fill)
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
        # Edits waiting in a -wal on a write-protected stick: a copy of both is read instead.
        wal_copy = copy_with_wal(path) if stranded_wal(path) else None
        try:
            opened = opening.open_file(
                path, lambda engine, ro: cls(path, engine, site or Site.load(), ro),
                read_only=read_only, upgrade_backup_dir=upgrade_backup_dir, coder=coder,
                source=wal_copy)
        except BaseException:
            if wal_copy is not None:
                shutil.rmtree(wal_copy.parent, ignore_errors=True)
            raise
        store = opened.store
        store.lock, store.locked_by = opened.lock, opened.locked_by
        store.read_only_reason = opened.read_only_reason
        if wal_copy is not None and not read_only:
            store.read_only_reason = tr(
                "{name} is in a folder that cannot be written to, so it was opened "
                "read-only. Copy it to a folder of your own to make changes.").format(
                name=path.name)
        store._read_copy = opened.read_copy
        if opened.backup is not None:
            store._backup_thread = opened.backup
            opened.backup.report = store._report_backup_failure
            opened.backup.start()
        return store

    def _report_backup_failure(self, warning: str) -> None:
        self.backup_warning = warning

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
        self.unsettled = row is not None and (row[0] != 0 or row[1] != row[2])
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

    def connect(self) -> Connection:
        return self.engine.connect()

    # Each kind of record is read as its class in domain.records (links as plain dicts).
    @overload
    def list(self, etype: Literal["project"], *, include_deleted: bool = ...,
             columns: Iterable[str] | None = ..., **filters: Any) -> builtins.list[rec.Project]: ...
    @overload
    def list(self, etype: Literal["coder"], *, include_deleted: bool = ...,
             columns: Iterable[str] | None = ..., **filters: Any) -> builtins.list[rec.Coder]: ...
    @overload
    def list(self, etype: Literal["study"], *, include_deleted: bool = ...,
             columns: Iterable[str] | None = ..., **filters: Any) -> builtins.list[rec.Study]: ...
    @overload
    def list(self, etype: Literal["document"], *, include_deleted: bool = ...,
             columns: Iterable[str] | None = ..., **filters: Any) -> builtins.list[rec.Document]: ...
    @overload
    def list(self, etype: Literal["excerpt"], *, include_deleted: bool = ...,
             columns: Iterable[str] | None = ..., **filters: Any) -> builtins.list[rec.Excerpt]: ...
    @overload
    def list(self, etype: Literal["code"], *, include_deleted: bool = ...,
             columns: Iterable[str] | None = ..., **filters: Any) -> builtins.list[rec.Code]: ...
    @overload
    def list(self, etype: Literal["cmoc"], *, include_deleted: bool = ...,
             columns: Iterable[str] | None = ..., **filters: Any) -> builtins.list[rec.Cmoc]: ...
    @overload
    def list(self, etype: Literal["consensus"], *, include_deleted: bool = ...,
             columns: Iterable[str] | None = ..., **filters: Any) -> builtins.list[rec.Consensus]: ...
    @overload
    def list(self, etype: Literal["theory"], *, include_deleted: bool = ...,
             columns: Iterable[str] | None = ..., **filters: Any) -> builtins.list[rec.Theory]: ...
    @overload
    def list(self, etype: Literal["form_value"], *, include_deleted: bool = ...,
             columns: Iterable[str] | None = ..., **filters: Any) -> builtins.list[rec.FormValue]: ...
    @overload
    def list(self, etype: Literal["assignment"], *, include_deleted: bool = ...,
             columns: Iterable[str] | None = ..., **filters: Any) -> builtins.list[rec.Assignment]: ...
    @overload
    def list(self, etype: Literal["review_cmoc"], *, include_deleted: bool = ...,
             columns: Iterable[str] | None = ..., **filters: Any) -> builtins.list[rec.ReviewCmoc]: ...
    @overload
    def list(self, etype: Literal["review_link"], *, include_deleted: bool = ...,
             columns: Iterable[str] | None = ..., **filters: Any) -> builtins.list[rec.ReviewLink]: ...
    @overload
    def list(self, etype: Literal["theory_version"], *, include_deleted: bool = ...,
             columns: Iterable[str] | None = ..., **filters: Any) -> builtins.list[rec.TheoryVersion]: ...
    @overload
    def list(self, etype: EntityType, *, include_deleted: bool = ...,
             columns: Iterable[str] | None = ..., **filters: Any) -> builtins.list[Any]: ...

    def list(
        self, etype: EntityType, *, include_deleted: bool = False,
        columns: Iterable[str] | None = None, **filters: Any,
    ) -> builtins.list[Any]:
        """Records of a type (live ones unless ``include_deleted``), filtered by field equality."""
        with self.connect() as conn:
            return queries.records(conn, etype, include_deleted, filters, columns)

    @overload
    def get(self, etype: Literal["project"], entity_id: str,
            include_deleted: bool = ...) -> rec.Project | None: ...
    @overload
    def get(self, etype: Literal["coder"], entity_id: str,
            include_deleted: bool = ...) -> rec.Coder | None: ...
    @overload
    def get(self, etype: Literal["study"], entity_id: str,
            include_deleted: bool = ...) -> rec.Study | None: ...
    @overload
    def get(self, etype: Literal["document"], entity_id: str,
            include_deleted: bool = ...) -> rec.Document | None: ...
    @overload
    def get(self, etype: Literal["excerpt"], entity_id: str,
            include_deleted: bool = ...) -> rec.Excerpt | None: ...
    @overload
    def get(self, etype: Literal["code"], entity_id: str,
            include_deleted: bool = ...) -> rec.Code | None: ...
    @overload
    def get(self, etype: Literal["cmoc"], entity_id: str,
            include_deleted: bool = ...) -> rec.Cmoc | None: ...
    @overload
    def get(self, etype: Literal["consensus"], entity_id: str,
            include_deleted: bool = ...) -> rec.Consensus | None: ...
    @overload
    def get(self, etype: Literal["theory"], entity_id: str,
            include_deleted: bool = ...) -> rec.Theory | None: ...
    @overload
    def get(self, etype: Literal["form_value"], entity_id: str,
            include_deleted: bool = ...) -> rec.FormValue | None: ...
    @overload
    def get(self, etype: Literal["assignment"], entity_id: str,
            include_deleted: bool = ...) -> rec.Assignment | None: ...
    @overload
    def get(self, etype: Literal["review_cmoc"], entity_id: str,
            include_deleted: bool = ...) -> rec.ReviewCmoc | None: ...
    @overload
    def get(self, etype: Literal["review_link"], entity_id: str,
            include_deleted: bool = ...) -> rec.ReviewLink | None: ...
    @overload
    def get(self, etype: Literal["theory_version"], entity_id: str,
            include_deleted: bool = ...) -> rec.TheoryVersion | None: ...
    @overload
    def get(self, etype: EntityType, entity_id: str, include_deleted: bool = ...) -> Any: ...

    def get(self, etype: EntityType, entity_id: str, include_deleted: bool = False) -> Any:
        found = self.list(etype, include_deleted=include_deleted, id=entity_id)
        return found[0] if found else None

    def links(self, link_type: EntityType, **filters: Any) -> builtins.list[dict[str, Any]]:
        with self.connect() as conn:
            return queries.select_rows(conn, link_type, False, filters)

    def project(self) -> rec.Project:
        return self.get("project", self.project_id) or rec.Project(id=self.project_id)

    def count(self, etype: EntityType, **filters: Any) -> int:
        with self.connect() as conn:
            return queries.count(conn, etype, filters)

    # -- aggregates: what a screen shows, counted in SQL instead of from every record ------

    def coding_progress(
        self, study_ids: Iterable[StudyId] | None = None,
    ) -> set[tuple[StudyId, CoderId]]:
        """(study id, coder id) for each coder with a live excerpt in a study (of ``study_ids``
        when given)."""
        with self.connect() as conn:
            return queries.coding_progress(conn, study_ids)

    def studies_with_text(self, study_ids: Iterable[StudyId] | None = None) -> set[StudyId]:
        """Ids of studies (of ``study_ids`` when given) with a live document."""
        with self.connect() as conn:
            return queries.studies_with_text(conn, study_ids)

    def excerpts_per_code(self, owner_id: CoderId | None = None) -> dict[CodeId, int]:
        """Live excerpts each code marks, counted in SQL; only ``owner_id``'s excerpts when given
        (a coder working blind must not learn from the counts how others coded)."""
        with self.connect() as conn:
            return queries.excerpts_per_code(conn, owner_id)

    def values_of(self, etype: EntityType, ids: Iterable[str], column: str = "study_id") -> set[str]:
        """One column of the records of a type with these ids, deleted records included (a
        deleted excerpt still changes its study's row): e.g. the studies they belong to."""
        with self.connect() as conn:
            return queries.values_of(conn, etype, ids, column)

    def log_mark(self) -> int:
        """A mark in the change log: ``changed_since(mark)`` names what was written after it."""
        with self.connect() as conn:
            return queries.log_mark(conn)

    def changed_since(self, mark: int) -> rec.Changed:
        """Every record written after ``mark``, by any path (unit of work, merge, exchange)."""
        with self.connect() as conn:
            return queries.changed_since(conn, mark)

    def get_blob(self, sha256: str | None) -> bytes | None:
        if not sha256:
            return None
        with self.connect() as conn:
            return conn.execute(select(BLOBS.c.data).where(BLOBS.c.sha256 == sha256)).scalar()

    def snapshot(self, *, document_text: bool = True) -> ProjectSnapshot:
        """Every live record. ``document_text=False`` leaves the documents' full texts out (their
        page boundaries stay): what tables need, at a fraction of the memory."""
        def live(etype: EntityType) -> tuple[Any, ...]:
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
            review_cmocs=live("review_cmoc"),
            review_links=live("review_link"),
            get_blob=self.get_blob,
        )

    def changes_for(self, etype: EntityType, entity_id: str) -> builtins.list[Change]:
        with self.connect() as conn:
            return queries.changes_for(conn, etype, entity_id)

    def change(self, change_id: str, record: tuple[str, str] | None = None) -> Change | None:
        """The change with this id; ``record`` (its type and id), when known, finds it at once."""
        with self.connect() as conn:
            return queries.change(conn, change_id, record)

    def conflicts(self) -> builtins.list[rec.Conflict]:
        with self.connect() as conn:
            return queries.conflicts(conn)

    def conflict_count(self) -> int:
        with self.connect() as conn:
            return queries.conflict_count(conn)

    def search(self, query: str, limit: int = 50) -> builtins.list[SearchHit]:
        """Pages whose text has every word of ``query`` (CJK words found inside longer runs)."""
        with self.connect() as conn:
            return search.search(conn, query, limit)

    def info(self) -> dict[str, Any]:
        """What the project holds (the summary ``cmo-desk info`` prints, from its one home)."""
        raw = self.engine.raw_connection()
        try:
            return summarise(raw.driver_connection, self.project_id)  # type: ignore[arg-type]
        finally:
            raw.close()

    def meta_value(self, key: str) -> str | None:
        """This file's own bookkeeping (not project content, not in the change log)."""
        with self.connect() as conn:
            return conn.execute(select(META.c.value).where(META.c.key == key)).scalar()

    def set_meta_value(self, key: str, value: str) -> None:
        if self.read_only:
            raise ReadOnlyError(tr("The project is open read-only; nothing was changed."))
        with self.engine.begin() as conn:
            conn.execute(delete(META).where(META.c.key == key))
            conn.execute(insert(META), [{"key": key, "value": value}])

    def change_count(self) -> int:
        with self.connect() as conn:
            return queries.change_count(conn)

    def dump(self) -> dict[str, Any]:
        """Canonical visible state: stable order, no machine-local data (``iter_dump_json`` writes
        the same as text without holding it)."""
        with self.connect() as conn:
            return queries.dump(conn, self._dump_header())

    def dump_json(self) -> str:
        return "".join(self.iter_dump_json())

    def iter_dump_json(self) -> Iterator[str]:
        """``dump()`` as canonical JSON text, piece by piece, never held in memory whole."""
        with self.connect() as conn:
            yield from queries.iter_dump_json(conn, self._dump_header())

    def _dump_header(self) -> dict[str, Any]:
        return {"project_id": self.project_id, "format_version": FORMAT_VERSION}

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
                conn.execute(delete(ENTITY_TABLES[etype]))
            conn.execute(delete(CONFLICTS))
            projection.clear_search(conn)
            entities = conn.execute(
                select(CHANGES.c.entity_type, CHANGES.c.entity_id).distinct()).all()
            reproject_many(conn, [(t, id_text(i)) for t, i in entities])
            crosschecks.refresh(conn)
            return len(entities)

    def integrity_check(self) -> builtins.list[str]:
        with self.connect() as conn:
            rows = [r[0] for r in conn.exec_driver_sql("PRAGMA integrity_check").all()]
        return [] if rows == ["ok"] else rows

    def backup(self, dest: Path) -> Path:
        """A consistent copy of the project (safe while it is open)."""
        backup_file(self.path, dest)
        return dest
