"""Conflicts between records, found in the projected tables after every write and merge.

A field conflict lives inside one record's changes (see ``changelog.project_entity``). These live
between records, when work on two laptops met without either seeing the other:

- a code deleted on one laptop while another coder applied it (and it was not merged into a live
  code, whose taggings would simply follow it): ``code_in_use``;
- a study deleted on one laptop while a CMOC on it was kept or edited on another:
  ``study_in_use``;
- codes moved under each other on two laptops, so that the codebook has a cycle: ``parent_cycle``.

Each is a pure function of the projected state, so every merge order gives the same rows. A
record already in a conflict of its own on the same key keeps that one; once it is settled, this
one is listed (one listed conflict per key, never two rows for one key).
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy.engine import Connection

from cmo_desk.domain.changelog import Change, heads_of
from cmo_desk.domain.ids import EntityType
from cmo_desk.domain.schema import CODE_LINKS, EXISTS
from cmo_desk.store.logformat import COLUMNS, change_from_columns, stored_id

CODE_IN_USE = "code_in_use"
STUDY_IN_USE = "study_in_use"
PARENT_CYCLE = "parent_cycle"
KINDS = (CODE_IN_USE, STUDY_IN_USE, PARENT_CYCLE)


#: Records touched by a write that can start or end a conflict between records.
WATCHED = frozenset({"code", "study", "cmoc", "excerpt", "consensus",
                     *(link for link, _, _ in CODE_LINKS)})


def _marks(items: list[Any]) -> str:
    return ",".join("?" * len(items))


def code_targets(conn: Connection) -> dict[str, str]:
    """Codes merged into another -> the live code their chain of ``merged_into`` ends at.

    The chain is followed through codes that were themselves merged (and deleted) later; a chain
    that ends at a deleted code or runs in a circle maps to nothing.
    """
    rows = conn.exec_driver_sql("SELECT id, merged_into, deleted FROM code").all()
    target = {r[0]: r[1] for r in rows if r[1]}
    deleted = {r[0]: bool(r[2]) for r in rows}
    out: dict[str, str] = {}
    for start in target:
        seen = {start}
        current = target[start]
        while current in target and deleted.get(current, True) and current not in seen:
            seen.add(current)
            current = target[current]
        if current in deleted and not deleted[current]:
            out[start] = current
    return out


def _changes(conn: Connection, etype: str, ids: list[str], field: str) -> dict[str, list[Change]]:
    out: dict[str, list[Change]] = {i: [] for i in ids}
    for start in range(0, len(ids), 400):
        chunk = ids[start:start + 400]
        for row in conn.exec_driver_sql(
                f"SELECT {COLUMNS} FROM changes WHERE entity_type = ? AND field = ? AND "
                f"entity_id IN ({_marks(chunk)})",
                (etype, field, *(stored_id(i) for i in chunk))):
            change = change_from_columns(*row)
            out[change.entity_id].append(change)
    return out


def _heads(conn: Connection, etype: str, ids: list[str], field: str = EXISTS) -> list[Change]:
    return [h for changes in _changes(conn, etype, ids, field).values()
            for h in heads_of(changes)]


def _row(etype: str, eid: str, field: str, kind: str, heads: list[Change]) -> dict[str, str]:
    ordered = sorted({h.change_id: h for h in heads}.values(), key=lambda c: c.order_key)
    return {"entity_type": etype, "entity_id": eid, "field": field, "kind": kind,
            "heads": json.dumps([h.change_id for h in ordered]), "ancestors": "[]"}


def _codes_in_use(conn: Connection) -> list[dict[str, str]]:
    deleted = [r[0] for r in conn.exec_driver_sql("SELECT id FROM code WHERE deleted = 1")]
    if not deleted:
        return []
    followed = code_targets(conn)
    deleted = [c for c in deleted if c not in followed]
    users: dict[str, list[tuple[EntityType, str]]] = {}
    for start in range(0, len(deleted), 400):
        chunk = deleted[start:start + 400]
        for link, own, owner in CODE_LINKS:
            for lid, code in conn.exec_driver_sql(
                    f"SELECT l.id, l.code_id FROM \"{link}\" l JOIN \"{owner}\" o "
                    f"ON o.id = l.\"{own}\" AND o.deleted = 0 WHERE l.deleted = 0 "
                    f"AND l.code_id IN ({_marks(chunk)})", tuple(chunk)):
                users.setdefault(code, []).append((link, lid))
    rows = []
    for code in sorted(users):
        heads = [h for h in _heads(conn, "code", [code]) if not h.value]
        for link in sorted({t for t, _ in users[code]}):
            heads += _heads(conn, link, sorted(i for t, i in users[code] if t == link))
        rows.append(_row("code", code, EXISTS, CODE_IN_USE, heads))
    return rows


def _studies_in_use(conn: Connection) -> list[dict[str, str]]:
    rows = conn.exec_driver_sql("SELECT id, merged_into FROM study WHERE deleted = 1").all()
    if not rows:
        return []
    live = {r[0] for r in conn.exec_driver_sql(
        "SELECT id FROM study WHERE deleted = 0 AND id IN "
        "(SELECT merged_into FROM study WHERE deleted = 1 AND merged_into IS NOT NULL)")}
    deleted = [sid for sid, target in rows if target not in live]
    found: dict[str, list[str]] = {}
    for start in range(0, len(deleted), 400):
        chunk = deleted[start:start + 400]
        for cid, sid in conn.exec_driver_sql(
                f"SELECT id, study_id FROM cmoc WHERE deleted = 0 AND study_id IN "
                f"({_marks(chunk)})", tuple(chunk)):
            found.setdefault(sid, []).append(cid)
    out = []
    for sid in sorted(found):
        heads = [h for h in _heads(conn, "study", [sid]) if not h.value]
        heads += _heads(conn, "cmoc", sorted(found[sid]))
        out.append(_row("study", sid, EXISTS, STUDY_IN_USE, heads))
    return out


def code_cycles(parent_of: dict[str, str | None]) -> list[list[str]]:
    """Every cycle of parent links, each as its members starting from the smallest id."""
    cycles: list[list[str]] = []
    done: set[str] = set()
    for start in sorted(parent_of):
        path: list[str] = []
        on_path: set[str] = set()
        current: str | None = start
        while current is not None and current in parent_of and current not in done:
            if current in on_path:
                cycle = path[path.index(current):]
                first = cycle.index(min(cycle))
                cycles.append(cycle[first:] + cycle[:first])
                break
            path.append(current)
            on_path.add(current)
            current = parent_of[current]
        done.update(path)
    return cycles


def _parent_cycles(conn: Connection) -> list[dict[str, str]]:
    parent_of: dict[str, str | None] = dict(conn.exec_driver_sql(
        "SELECT id, parent_id FROM code WHERE deleted = 0").all())
    out = []
    for cycle in code_cycles(parent_of):
        out.append(_row("code", cycle[0], "parent_id", PARENT_CYCLE,
                        _heads(conn, "code", cycle, "parent_id")))
    return out


def refresh(conn: Connection) -> None:
    """Recompute every conflict between records from the projected tables."""
    conn.exec_driver_sql(f"DELETE FROM conflicts WHERE kind IN ({_marks(list(KINDS))})", KINDS)
    rows = [*_codes_in_use(conn), *_studies_in_use(conn), *_parent_cycles(conn)]
    for r in rows:
        conn.exec_driver_sql(
            "INSERT OR IGNORE INTO conflicts (entity_type, entity_id, field, kind, heads, "
            "ancestors) VALUES (?, ?, ?, ?, ?, ?)",
            (r["entity_type"], r["entity_id"], r["field"], r["kind"], r["heads"],
             r["ancestors"]))
