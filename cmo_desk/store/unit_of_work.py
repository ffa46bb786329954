"""The unit of work: the one way anything is written to a project.

A unit of work is one transaction. Each write appends changes to the log; before it commits, the
records it touched are projected again from their changes, so the visible tables always agree with
the log. What it wrote is reported as a :class:`~cmo_desk.domain.records.Changed`.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any, Protocol

from sqlalchemy import Engine, insert, select
from sqlalchemy.engine import Connection

from cmo_desk.domain import records as rec
from cmo_desk.domain.changelog import (
    Change,
    EntityState,
    HybridClock,
    canonical_json,
    heads_of,
    make_change,
    project_entity,
)
from cmo_desk.domain.errors import ValidationError
from cmo_desk.domain.i18n import tr
from cmo_desk.domain.ids import EntityType, link_id, new_id
from cmo_desk.domain.packed_text import packing_ahead
from cmo_desk.domain.schema import ENTITIES, EXISTS
from cmo_desk.store import crosschecks, page_index
from cmo_desk.store.logformat import (
    COLUMNS,
    PACKED_FIELDS,
    change_from_columns,
    append_rows,
    change_to_row,
    stored_id,
)
from cmo_desk.store.models import BLOBS
from cmo_desk.store.projection import iter_chunks, write_projections
from cmo_desk.store.site import Site


class ChangeHistory:
    """Recently edited records' change lists, topped up by place in the log (``seq``): an edit then reads only the rows
    added since (a field typed into many times would otherwise reload its history)."""

    def __init__(self) -> None:
        self._cache: dict[tuple[str, str], tuple[list[Change], int]] = {}

    def read(self, conn: Connection, etype: str, eid: str) -> list[Change]:
        """All changes of one record (a fresh list), using the cache where it is still valid."""
        key = (etype, eid)
        cached, upto = self._cache.pop(key, ([], 0))
        # A plain statement: an import that creates thousands of records reads each one's.
        rows = conn.exec_driver_sql(
            f"SELECT seq, {COLUMNS} FROM changes "
            "WHERE entity_type = ? AND entity_id = ? AND seq > ?",
            (etype, stored_id(eid), upto))
        changes = list(cached)
        for rowid, *columns in rows:
            changes.append(change_from_columns(*columns))
            upto = max(upto, rowid)
        if len(self._cache) > 2000:
            self._cache.clear()
        self._cache[key] = (changes, upto)
        return list(changes)


@contextmanager
def writing_ahead() -> Iterator[Callable[[EntityType, Mapping[str, Any]], None]]:
    """A function ``ahead(etype, values)`` that does now the work that writing ``values`` into a
    new record of ``etype`` will do with its long texts, while the ``with`` block lasts: each
    packed field's log value (its canonical JSON, ``logformat.stored_value``) packed
    (``packed_text.packing_ahead``; the projection holds no copy of it), a document's pages cut and folded for the search
    index (``page_index.bodies_ahead``). An import calls it as each file arrives, while the
    others are still being read; the unit of work then writes the same bytes sooner."""
    with packing_ahead() as pack, page_index.bodies_ahead() as index:

        def ahead(etype: EntityType, values: Mapping[str, Any]) -> None:
            for key, value in values.items():
                if (etype, key) in PACKED_FIELDS and isinstance(value, str):
                    pack(canonical_json(value))
            if etype == "document" and isinstance(values.get("text"), str):
                index(values["text"], values.get("page_starts"))

        yield ahead


class LogWriter(Protocol):
    """What a unit of work needs of the open project it writes to."""

    engine: Engine
    site: Site
    clock: HybridClock
    history: ChangeHistory

    def settle(self, conn: Connection | None = None) -> bool: ...


#: Changes a unit of work holds in memory before it writes them into its (still open) transaction.
FLUSH_EVERY = 20_000


class UnitOfWork:
    """One transaction: changes are appended to the log and projected before it commits."""

    def __init__(self, store: LogWriter, coder_id: str | None) -> None:
        self.store = store
        self.coder_id = coder_id
        self._conn: Connection | None = None
        self._cache: dict[tuple[str, str], list[Change]] = {}
        #: every record written (what the Changed names) / written since the last flush
        self._touched: dict[str, set[str]] = {}
        self._dirty: dict[str, set[str]] = {}
        self._pending: list[tuple[Any, ...]] = []
        #: documents given a text since the last flush -> the text they showed before it
        self._old_texts: dict[str, str | None] = {}
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
            append_rows(conn, self._pending)
            self._pending = []
        for etype, ids in self._dirty.items():
            write_projections(conn, etype, {
                eid: project_entity(etype, eid, self._cache[(etype, eid)])
                for eid in sorted(ids)}, self._old_texts if etype == "document" else None)
            for eid in ids:
                self._cache.pop((etype, eid), None)
            self._touched.setdefault(etype, set()).update(ids)
        self._dirty = {}
        self._old_texts = {}

    def prefetch(self, etype: EntityType, ids: Iterable[str]) -> None:
        """Read the change lists of many records of one type at once (a statement per 500), as
        writing each would read its own: an import that creates thousands of studies with the
        ids it gave them reads them in a few statements rather than one each."""
        wanted = [eid for eid in dict.fromkeys(ids) if (etype, eid) not in self._cache]
        for chunk in iter_chunks(wanted, 500):
            found: dict[str, list[Change]] = {eid: [] for eid in chunk}
            marks = ",".join("?" * len(chunk))
            for row in self.conn.exec_driver_sql(
                    f"SELECT {COLUMNS} FROM changes WHERE entity_type = ? "
                    f"AND entity_id IN ({marks})", (etype, *(stored_id(i) for i in chunk))):
                change = change_from_columns(*row)
                found.setdefault(change.entity_id, []).append(change)
            for eid, changes in found.items():
                self._cache[(etype, eid)] = changes

    def _changes(self, etype: EntityType, eid: str) -> list[Change]:
        key = (etype, eid)
        if key not in self._cache:
            self._cache[key] = self.store.history.read(self.conn, etype, eid)
        return self._cache[key]

    def _heads(self, etype: EntityType, eid: str, field_name: str) -> list[Change]:
        return heads_of(c for c in self._changes(etype, eid) if c.field == field_name)

    def _append(self, etype: EntityType, eid: str, field_name: str, value: Any,
                parents: Iterable[str], seen: Iterable[str] = ()) -> Change:
        if etype == "document" and field_name == "text" and eid not in self._old_texts:
            # the text it shows until this write is projected: the words the index holds
            before = self._state(etype, eid)
            self._old_texts[eid] = None if before is None else before.values.get("text")
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

    def _state(self, etype: EntityType, eid: str) -> EntityState | None:
        return project_entity(etype, eid, self._changes(etype, eid))

    def _check_values(self, etype: EntityType, values: dict[str, Any]) -> None:
        spec = ENTITIES.get(etype)
        if spec is None:
            raise ValidationError(f"Unknown record type {etype!r}.")
        names = spec.field_names  # (a tuple made on each call)
        for key in values:
            if key not in names:
                raise ValidationError(f"A {etype} has no field {key!r}.")

    # -- the write API --

    def create(self, etype: EntityType, values: dict[str, Any] | None = None, id: str | None = None) -> str:
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

    def _write_field(self, etype: EntityType, eid: str, key: str, value: Any, force: bool = False) -> bool:
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

    def update(self, etype: EntityType, eid: str, values: dict[str, Any]) -> bool:
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

    def delete(self, etype: EntityType, eid: str) -> bool:
        state = self._state(etype, eid)
        if state is None or not state.exists:
            return False
        seen = [h.change_id for name, hs in state.heads.items() if name != EXISTS for h in hs]
        self._append(etype, eid, EXISTS, False,
                     [h.change_id for h in state.heads.get(EXISTS, [])], seen)
        return True

    def restore(self, etype: EntityType, eid: str) -> bool:
        state = self._state(etype, eid)
        if state is None or state.exists:
            return False
        seen = [h.change_id for name, hs in state.heads.items() if name != EXISTS for h in hs]
        self._append(etype, eid, EXISTS, True,
                     [h.change_id for h in state.heads.get(EXISTS, [])], seen)
        return True

    def link(self, link_type: EntityType, **values: Any) -> str:
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

    def unlink(self, link_type: EntityType, **keys: Any) -> bool:
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

    def resolve(self, etype: EntityType, eid: str, field_name: str, value: Any) -> None:
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
        if self.conn.dialect.name == "sqlite":  # plain statements: an import writes hundreds
            self.conn.exec_driver_sql(
                "INSERT INTO blobs (sha256, size, data) VALUES (?, ?, ?) "
                "ON CONFLICT (sha256) DO NOTHING", (sha, len(data), data))
            return sha
        exists = self.conn.execute(select(BLOBS.c.sha256).where(BLOBS.c.sha256 == sha)).scalar()
        if not exists:
            self.conn.execute(insert(BLOBS).values(sha256=sha, size=len(data), data=data))
        return sha

    def current(self, etype: EntityType, eid: str) -> dict[str, Any] | None:
        """The record's values as this unit of work sees them (including its own writes)."""
        state = self._state(etype, eid)
        return None if state is None else {"id": eid, "deleted": not state.exists, **state.values}
