"""The projection: the visible tables (one row per record, its unresolved conflicts, the search
index of its pages) written from the change log.

Every row here can be thrown away and written again from the log: a record's row is always its
changes projected (``domain.changelog.project_entity``), never edited in place.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
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
    conn: Connection, etype: str, states: dict[str, EntityState | None]
) -> None:
    """Replace records' rows and conflicts with their states projected from the log, in bulk."""
    table = ENTITY_TABLES.get(etype)
    if table is None or not states:
        return  # an entity type from a newer version: kept in the log only
    sqlite = conn.dialect.name == "sqlite"
    quote = conn.dialect.identifier_preparer.quote
    ids = list(states)
    indexed: dict[str, list[tuple[int, str]]] = {}
    for chunk in iter_chunks(ids, 500):
        if etype == "document" and conn.dialect.name == "sqlite":
            # what the search index holds for them, before their rows are replaced
            for old in conn.execute(select(*page_index.old_columns())
                                    .where(table.c.id.in_(chunk))).mappings():
                indexed[old["id"]] = page_index.indexed(dict(old))
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
    rows = [{"id": eid, "deleted": not st.exists, **st.values}
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
    if etype == "document":
        for eid, st in states.items():
            after = [] if st is None or not st.exists else page_index.page_bodies(
                st.values.get("text"), st.values.get("page_starts"))
            page_index.reindex(conn, eid, indexed.get(eid, []), after)


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
                   compact: bool = True) -> None:
    """Re-project many records, reading their changes and writing their rows in batches.
    ``compact`` False: the log is still in the layout before 0006 (an upgrade under way)."""
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
                                                for eid, changes in grouped.items()})
