"""Reading a project: records as the domain's types, counts and aggregates computed in SQL, the
change log, conflicts, and the canonical dump.

Every function takes an open connection and never writes; the store's facade opens one per call.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.engine import Connection

from cmo_desk.domain import records as rec
from cmo_desk.domain.changelog import Change
from cmo_desk.domain.ids import CodeId, CoderId, StudyId
from cmo_desk.domain.schema import ENTITIES, ENTITY_ORDER, EXISTS
from cmo_desk.store import crosschecks
from cmo_desk.store.logformat import (
    LOG_TABLE,
    id_text,
    row_to_change,
    stored_change_id,
    stored_id,
)
from cmo_desk.store.document_text import STEP as TEXT_STEP
from cmo_desk.store.document_text import document_texts
from cmo_desk.store.models import BLOBS, CHANGES, CONFLICTS, ENTITY_TABLES
from cmo_desk.store.projection import iter_chunks

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


# -- records ------------------------------------------------------------------------------


def fold_links(conn: Connection, etype: str, rows: list[dict[str, Any]]) -> None:
    """Add to each row the ids its live links point to (codes, excerpts, theories, sources)."""
    links = FOLDED_LINKS.get(etype)
    if not links or not rows:
        return
    ids = [r["id"] for r in rows]
    # A code merged into another (even on another laptop, later) counts as its target.
    targets = crosschecks.code_targets(conn)
    for link_type, own, other, attr in links:
        table = ENTITY_TABLES[link_type]
        found: dict[str, list[Any]] = {}
        for chunk_start in range(0, len(ids), 500):
            chunk = ids[chunk_start:chunk_start + 500]
            q = select(table).where(table.c[own].in_(chunk), table.c.deleted.is_(False))
            for row in conn.execute(q).mappings():
                item: Any = (row[other], row["relation"]) if attr == "theories" else row[other]
                if other == "code_id":
                    item = targets.get(item, item)
                found.setdefault(row[own], []).append(item)
        for r in rows:
            r[attr] = tuple(sorted(set(found.get(r["id"], [])), key=lambda x: str(x)))


def select_rows(
    conn: Connection, etype: str, include_deleted: bool, filters: dict[str, Any],
    columns: Iterable[str] | None = None,
) -> list[dict[str, Any]]:
    """Rows of one table as plain dicts, filtered by field equality, in the type's display order."""
    table = ENTITY_TABLES[etype]
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
    rows = [dict(r) for r in conn.execute(q).mappings()]
    if etype == "document" and (not columns or "text" in columns):
        with_texts(conn, rows)
    return rows


def with_texts(conn: Connection, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Documents' rows given their texts, read from the log (the table holds none)."""
    texts = document_texts(conn, [r["id"] for r in rows])
    for r in rows:
        r["text"] = texts.get(r["id"])
    return rows


def _rows_with_texts(conn: Connection, rows: Iterable[dict[str, Any]]
                     ) -> Iterator[dict[str, Any]]:
    """Documents' rows given their texts from the log, a few documents at a time."""
    batch: list[dict[str, Any]] = []
    for r in rows:
        batch.append(r)
        if len(batch) >= TEXT_STEP:
            yield from with_texts(conn, batch)
            batch = []
    yield from with_texts(conn, batch)


def records(
    conn: Connection, etype: str, include_deleted: bool, filters: dict[str, Any],
    columns: Iterable[str] | None = None,
) -> list[Any]:
    """Records of a type as the domain's record class (plain dicts for link types)."""
    rows = select_rows(conn, etype, include_deleted, filters, columns)
    cls = RECORD_CLASSES.get(etype)
    if cls is None:
        return rows
    fold_links(conn, etype, rows)
    return [cls.from_mapping(r) for r in rows]


def count(conn: Connection, etype: str, filters: dict[str, Any]) -> int:
    table = ENTITY_TABLES[etype]
    q = select(func.count()).select_from(table).where(table.c.deleted.is_(False))
    for key, value in filters.items():
        q = q.where(table.c[key] == value)
    return int(conn.execute(q).scalar_one())


# -- aggregates: what a screen shows, counted in SQL instead of from every record ----------


def _pairs(conn: Connection, q: Any, study_column: Any,
           study_ids: Iterable[str] | None) -> set[Any]:
    if study_ids is None:
        return {tuple(r) for r in conn.execute(q)}
    found: set[Any] = set()
    for chunk in iter_chunks(sorted(set(study_ids)), 500):
        found.update(tuple(r) for r in conn.execute(q.where(study_column.in_(chunk))))
    return found


def coding_progress(conn: Connection,
                    study_ids: Iterable[StudyId] | None) -> set[tuple[StudyId, CoderId]]:
    """(study id, coder id) for each coder with a live excerpt in a study (of ``study_ids``
    when given)."""
    table = ENTITY_TABLES["excerpt"]
    q = select(table.c.study_id, table.c.owner_id).distinct().where(
        table.c.deleted.is_(False), table.c.owner_id.is_not(None),
        table.c.study_id.is_not(None))
    return _pairs(conn, q, table.c.study_id, study_ids)


def studies_with_text(conn: Connection, study_ids: Iterable[StudyId] | None) -> set[StudyId]:
    """Ids of studies (of ``study_ids`` when given) with a live document."""
    table = ENTITY_TABLES["document"]
    q = select(table.c.study_id).distinct().where(
        table.c.deleted.is_(False), table.c.study_id.is_not(None))
    return {row[0] for row in _pairs(conn, q, table.c.study_id, study_ids)}


def excerpts_per_code(conn: Connection, owner_id: CoderId | None) -> dict[CodeId, int]:
    """Live excerpts each code marks, counted in SQL; only ``owner_id``'s excerpts when given
    (a coder working blind must not learn from the counts how others coded)."""
    links = ENTITY_TABLES["excerpt_code"]
    excerpts = ENTITY_TABLES["excerpt"]
    q = (select(links.c.code_id, func.count())
         .join(excerpts, excerpts.c.id == links.c.excerpt_id)
         .where(links.c.deleted.is_(False), excerpts.c.deleted.is_(False))
         .group_by(links.c.code_id))
    if owner_id is not None:
        q = q.where(excerpts.c.owner_id == owner_id)
    return {key: int(n) for key, n in conn.execute(q) if key is not None}


def values_of(conn: Connection, etype: str, ids: Iterable[str], column: str) -> set[str]:
    """One column of the records of a type with these ids, deleted records included."""
    table = ENTITY_TABLES[etype]
    found: set[str] = set()
    for chunk in iter_chunks(sorted(set(ids)), 500):
        found.update(value for (value,) in conn.execute(
            select(table.c[column]).where(table.c.id.in_(chunk))) if value)
    return found


# -- the change log -------------------------------------------------------------------------


def log_mark(conn: Connection) -> int:
    """A mark in the change log: ``changed_since(mark)`` names what was written after it."""
    return int(conn.exec_driver_sql(
        f"SELECT coalesce(max(seq), 0) FROM {LOG_TABLE}").scalar_one())


def changed_since(conn: Connection, mark: int) -> rec.Changed:
    """Every record written after ``mark``, by any path (unit of work, merge, exchange)."""
    table = CHANGES
    entities: dict[str, set[str]] = {}
    n = 0
    for etype, eid in conn.execute(
            select(table.c.entity_type, table.c.entity_id)
            .where(table.c.seq > mark)):
        entities.setdefault(etype, set()).add(id_text(eid))
        n += 1
    return rec.Changed({t: frozenset(ids) for t, ids in entities.items()}, n)


def changes_for(conn: Connection, etype: str, entity_id: str) -> list[Change]:
    rows = conn.execute(
        select(CHANGES).where(
            CHANGES.c.entity_type == etype, CHANGES.c.entity_id == stored_id(entity_id))
    )
    return [row_to_change(r) for r in rows]


def change(conn: Connection, change_id: str,
           record: tuple[str, str] | None = None) -> Change | None:
    """The change with this id; ``record`` (its type and id), when known, finds it at once."""
    q = select(CHANGES).where(CHANGES.c.change_id == stored_change_id(change_id))
    if record is not None:
        q = q.where(CHANGES.c.entity_type == record[0],
                    CHANGES.c.entity_id == stored_id(record[1]))
    for row in conn.execute(q):
        found = row_to_change(row)
        if found.change_id == change_id:
            return found
    return None


def _changes_by_id(conn: Connection, wanted: list[str],
                   record: tuple[str, str] | None) -> dict[str, Change]:
    """The changes with these ids, of one record when ``record`` is given."""
    out: dict[str, Change] = {}
    for start in range(0, len(wanted), 500):
        q = select(CHANGES).where(
            CHANGES.c.change_id.in_([stored_change_id(w) for w in wanted[start:start + 500]]))
        if record is not None:
            q = q.where(CHANGES.c.entity_type == record[0],
                        CHANGES.c.entity_id == stored_id(record[1]))
        for r in conn.execute(q):
            c = row_to_change(r)
            out[c.change_id] = c
    return out


def change_count(conn: Connection) -> int:
    return int(conn.exec_driver_sql(f"SELECT count(*) FROM {LOG_TABLE}").scalar_one())


# -- conflicts ------------------------------------------------------------------------------


def conflicts(conn: Connection) -> list[rec.Conflict]:
    """Every unresolved conflict with its concurrent values and who wrote them."""
    rows = conn.execute(
        select(CONFLICTS).order_by(
            CONFLICTS.c.entity_type, CONFLICTS.c.entity_id, CONFLICTS.c.field)
    ).all()
    names = {r.id: r.name for r in (rec.Coder.from_mapping(d) for d in
                                      select_rows(conn, "coder", True, {}))}
    # Most conflicts are about one record's field and its changes are that record's; a
    # conflict the cross-checks find (a deleted code still used) lists other records' changes:
    # those are looked for in one pass over the log.
    found: dict[str, Change] = {}
    for row in rows:
        wanted = json.loads(row.heads) + json.loads(row.ancestors)
        found.update(_changes_by_id(conn, wanted, (row.entity_type, row.entity_id)))
    loose = {w for row in rows for w in json.loads(row.heads) + json.loads(row.ancestors)
             if w not in found}
    if loose:
        found.update(_changes_by_id(conn, sorted(loose), None))
    out = []
    for row in rows:
        head_ids = json.loads(row.heads)
        anc_ids = json.loads(row.ancestors)
        changes = found
        heads = [changes[h] for h in head_ids if h in changes]
        values = tuple(
            rec.ConflictValue(h.value, h.coder_id, names.get(h.coder_id or ""), h.wall,
                              h.change_id, (h.entity_type, h.entity_id))
            for h in heads
        )
        shown = max(heads, key=lambda c: c.order_key).value if heads else None
        if row.field == EXISTS:
            shown = False
        out.append(rec.Conflict(
            row.entity_type, row.entity_id, row.field, shown, values,
            tuple(changes[a].value for a in anc_ids if a in changes), row.kind))
    return out


def conflict_count(conn: Connection) -> int:
    return int(conn.execute(select(func.count()).select_from(CONFLICTS)).scalar_one())


# -- the canonical dump ---------------------------------------------------------------------


def dump(conn: Connection, header: dict[str, Any]) -> dict[str, Any]:
    """Canonical visible state after ``header``: stable order, no machine-local data."""
    out: dict[str, Any] = dict(header)
    for etype in ENTITY_ORDER:
        table = ENTITY_TABLES[etype]
        rows: Iterable[Any] = conn.execute(select(table).order_by(table.c.id)).mappings()
        if etype == "document":
            rows = _rows_with_texts(conn, (dict(r) for r in rows))
        live: list[dict[str, Any]] = []
        deleted: list[dict[str, Any]] = []
        for r in rows:
            d = {k: r[k] for k in ("id", *ENTITIES[etype].field_names)}
            (deleted if r["deleted"] else live).append(d)
        out[etype] = live
        out[etype + "_deleted"] = [d["id"] for d in deleted]
    out["conflicts"] = [
        {"entity_type": c.entity_type, "entity_id": c.entity_id, "field": c.field,
         "kind": c.kind, "heads": json.loads(c.heads)}
        for c in conn.execute(select(CONFLICTS).order_by(
            CONFLICTS.c.entity_type, CONFLICTS.c.entity_id, CONFLICTS.c.field))
    ]
    out["blobs"] = sorted(conn.execute(select(BLOBS.c.sha256)).scalars())
    return out


def _live_rows(conn: Connection, etype: str) -> Iterator[dict[str, Any]]:
    """The live rows of one table by id, one at a time (documents with their texts)."""
    table = ENTITY_TABLES[etype]
    rows = (dict(r) for r in conn.execute(
        select(table).where(table.c.deleted.is_(False)).order_by(table.c.id)).mappings())
    return _rows_with_texts(conn, rows) if etype == "document" else rows


def iter_dump_json(conn: Connection, header: dict[str, Any]) -> Iterator[str]:
    """``dump()`` as canonical JSON text, piece by piece: the same text as
    ``json.dumps(dump(), sort_keys=True, ensure_ascii=False, indent=1)`` plus a newline, but
    one record at a time, so that a large project is never held in memory whole."""
    def one(value: Any, depth: int) -> str:
        text = json.dumps(value, sort_keys=True, ensure_ascii=False, indent=1)
        return text.replace("\n", "\n" + " " * depth)

    parts: dict[str, Any] = dict(header)
    for etype in ENTITY_ORDER:
        table = ENTITY_TABLES[etype]
        names = ("id", *ENTITIES[etype].field_names)
        parts[etype] = (lambda e=etype, n=names: (
            {k: r[k] for k in n} for r in _live_rows(conn, e)))
        parts[etype + "_deleted"] = (lambda t=table: conn.execute(
            select(t.c.id).where(t.c.deleted.is_(True)).order_by(t.c.id)).scalars())
    parts["conflicts"] = lambda: (
        {"entity_type": c.entity_type, "entity_id": c.entity_id, "field": c.field,
         "kind": c.kind, "heads": json.loads(c.heads)}
        for c in conn.execute(select(CONFLICTS).order_by(
            CONFLICTS.c.entity_type, CONFLICTS.c.entity_id, CONFLICTS.c.field)))
    parts["blobs"] = lambda: conn.execute(
        select(BLOBS.c.sha256).order_by(BLOBS.c.sha256)).scalars()
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
