"""The projection: the visible tables (one row per record, its unresolved conflicts, the search
index of its pages) written from the change log.

Every row here can be thrown away and written again from the log: a record's row is always its
changes projected (``domain.changelog.project_entity``), never edited in place.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from typing import Any

from sqlalchemy import Table, delete, insert, select
from sqlalchemy.engine import Connection

from cmo_desk.domain.changelog import Change, EntityState, project_entity
from cmo_desk.store import page_index
from cmo_desk.store.logformat import COLUMNS, change_from_columns, stored_id
from cmo_desk.store.models import CONFLICTS, ENTITY_TABLES


def iter_chunks(items: list[Any], size: int) -> Iterator[list[Any]]:
    """``items`` in lists of at most ``size`` (SQLite limits the values one statement binds)."""
    for i in range(0, len(items), size):
        yield items[i:i + size]


def clear_search(conn: Connection) -> None:
    page_index.clear(conn)


def write_projection(conn: Connection, etype: str, eid: str, state: EntityState | None) -> None:
    """Replace one record's row and conflicts with its state projected from the log."""
    write_projections(conn, etype, {eid: state})


def write_projections(
    conn: Connection, etype: str, states: dict[str, EntityState | None],
    old_texts: Mapping[str, str | None] | None = None,
) -> None:
    """Replace records' rows and conflicts with their states projected from the log, in bulk.

    A document's row leaves its text out (the log holds it: ``document_text``); its pages are
    indexed for the search. ``old_texts`` names, for each document whose shown text the changes
    just written may have altered (a text written to a record that had one, or had none), the
    text it showed before them: the words the index holds for it. For every other document the
    shown text is its state's."""
    table = ENTITY_TABLES.get(etype)
    if table is None or not states:
        return  # an entity type from a newer version: kept in the log only
    sqlite = conn.dialect.name == "sqlite"
    quote = conn.dialect.identifier_preparer.quote
    ids = list(states)
    #: documents' rows before they are replaced: (deleted, page starts)
    before: dict[str, tuple[bool, Any]] = {}
    for chunk in iter_chunks(ids, 500):
        if etype == "document" and sqlite:
            for did, deleted, starts in conn.execute(
                    select(table.c.id, table.c.deleted, table.c.page_starts)
                    .where(table.c.id.in_(chunk))):
                before[did] = (bool(deleted), starts)
        if sqlite:  # plain statements: merges write tens of thousands of rows
            marks = ",".join("?" * len(chunk))
            conn.exec_driver_sql(f"DELETE FROM {quote(table.name)} WHERE id IN ({marks})",
                                 tuple(chunk))
            conn.exec_driver_sql(f"DELETE FROM {quote(CONFLICTS.name)} WHERE "
                                 f"entity_type = ? AND entity_id IN ({marks})", (etype, *chunk))
        else:
            conn.execute(delete(table).where(table.c.id.in_(chunk)))
            conn.execute(delete(CONFLICTS).where(
                CONFLICTS.c.entity_type == etype, CONFLICTS.c.entity_id.in_(chunk)))
    document = etype == "document"
    rows = [{"id": eid, "deleted": not st.exists, **st.values, **({"text": None} if document
                                                                 else {})}
            for eid, st in states.items() if st is not None]
    if rows:
        _insert_rows(conn, table, rows)
    conflicts = [
        {"entity_type": etype, "entity_id": eid, "field": fc.field, "kind": fc.kind,
         "heads": json.dumps([h.change_id for h in fc.heads]),
         "ancestors": json.dumps([a.change_id for a in fc.ancestors])}
        for eid, st in states.items() if st is not None
        for fc in st.conflicts
    ]
    if conflicts:
        conn.execute(insert(CONFLICTS), conflicts)
    if document and sqlite:
        for eid, st in states.items():
            _reindex(conn, eid, st, before.get(eid), old_texts)


def _reindex(conn: Connection, eid: str, st: EntityState | None,
             old: tuple[bool, Any] | None, old_texts: Mapping[str, str | None] | None) -> None:
    """Make the search index hold a document's pages as its new state shows them."""
    text = None if st is None else st.values.get("text")
    starts = None if st is None else st.values.get("page_starts")
    live = st is not None and st.exists
    old_text = old_texts[eid] if old_texts is not None and eid in old_texts else text
    if old is not None and old[0] == (not live) and old[1] == starts and old_text == text:
        return  # the same pages, shown as before: the index already holds them
    was = [] if old is None or old[0] else page_index.page_bodies(old_text, old[1])
    page_index.reindex(conn, eid, was, page_index.page_bodies(text, starts) if live else [])


def _insert_rows(conn: Connection, table: Table, rows: list[dict[str, Any]]) -> None:
    """Insert rows that all have the same keys (a projected state has every field of its type).

    On SQLite, one statement with plain tuples, each value passed through its column type's bind
    processor as SQLAlchemy does: merges write tens of thousands of rows, and SQLAlchemy's
    parameters, built row by row, were most of the time of writing them."""
    keys = list(rows[0])
    if conn.dialect.name != "sqlite" or any(k not in table.c for k in keys) or any(
            c.name not in rows[0] and (c.default is not None or c.server_default is not None)
            for c in table.columns):
        conn.execute(insert(table), rows)
        return
    dialect = conn.dialect
    quote = dialect.identifier_preparer.quote
    procs = [table.c[k].type.dialect_impl(dialect).bind_processor(dialect) for k in keys]
    sql = (f"INSERT INTO {quote(table.name)} ({', '.join(quote(k) for k in keys)}) "
           f"VALUES ({', '.join('?' * len(keys))})")
    pairs = list(zip(keys, procs))
    conn.exec_driver_sql(sql, [tuple(r[k] if p is None else p(r[k]) for k, p in pairs)
                               for r in rows])


def reproject_many(conn: Connection, entities: list[tuple[str, str]],
                   compact: bool = True,
                   old_texts: Mapping[str, str | None] | None = None) -> None:
    """Re-project many records, reading their changes and writing their rows in batches.
    ``compact`` False: the log is still in the layout before 0006 (an upgrade under way).
    ``old_texts``: as for :func:`write_projections`."""
    log_id = stored_id if compact else (lambda i: i)
    by_type: dict[str, list[str]] = {}
    for t, i in entities:
        by_type.setdefault(t, []).append(i)
    for etype, all_ids in by_type.items():
        known = etype in ENTITY_TABLES
        for start in range(0, len(all_ids), 400):
            ids = all_ids[start:start + 400]
            grouped: dict[str, list[Change]] = {i: [] for i in ids}
            # Plain tuples: merges read tens of thousands of rows, and row objects were most of
            # their time.
            marks = ",".join("?" * len(ids))
            rows = conn.exec_driver_sql(
                f"SELECT {COLUMNS} FROM changes WHERE entity_type = ? AND entity_id IN ({marks})",
                (etype, *(log_id(i) for i in ids))).all()
            for row in rows:
                change = change_from_columns(*row)
                grouped[change.entity_id].append(change)
            if known:
                write_projections(conn, etype, {eid: project_entity(etype, eid, changes)
                                                for eid, changes in grouped.items()},
                                  old_texts)
