"""a compact change log: ids stored as their bytes

A change id is stored as the 32 bytes its hex digits spell, a record, laptop or coder id that is
a canonical UUID as its 16 bytes (any other id stays text), and a change's parents and the heads
it had seen as their ids' bytes one after the other (store/logformat.py). Every row keeps its
place (rowid), its content and its id, which is computed over the canonical change as before, so
bundles, the hub and merges with older files are unchanged. Half of the log's bytes go.

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

import json
from typing import Any

from alembic import op

from cmo_desk.store import logformat

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

_OLD_COLUMNS = (
    ("change_id", "VARCHAR(64) NOT NULL"), ("entity_type", "VARCHAR(32) NOT NULL"),
    ("entity_id", "VARCHAR(36) NOT NULL"), ("field", "VARCHAR(64) NOT NULL"),
    ("value", "TEXT NOT NULL"), ("wall", "INTEGER NOT NULL"), ("counter", "INTEGER NOT NULL"),
    ("site_id", "VARCHAR(36) NOT NULL"), ("coder_id", "VARCHAR(36)"),
    ("parents", "TEXT NOT NULL"), ("seen", "TEXT NOT NULL"))
#: The compact layout: the columns that hold ids take bytes or text, and convert neither.
_COMPACT_COLUMNS = tuple(
    (name, kind.replace("VARCHAR(64)", "BLOB").replace("VARCHAR(36)", "BLOB")
     if name not in ("field", "value") else kind) for name, kind in _OLD_COLUMNS[:9]) + (
    ("parents", "BLOB NOT NULL"), ("seen", "BLOB NOT NULL"))


def _text_or_same(read: Any) -> Any:
    def convert(stored: Any) -> Any:
        try:
            return read(stored)
        except (ValueError, TypeError):
            return stored  # a row no version wrote: kept as it is, for the checks to find
    return convert


def _ids_json(stored: Any) -> Any:
    if stored.__class__ is not bytes:
        return stored
    return json.dumps(list(logformat.ids_tuple(stored)))


#: SQL functions each upgrade or downgrade step uses: name -> what it does to one column.
_UP = {"cmo_change_id": logformat.old_change_id, "cmo_id": logformat.stored_id,
       "cmo_ids": logformat.compact_ids}
_DOWN = {"cmo_change_id": _text_or_same(logformat.change_id_text),
         "cmo_id": _text_or_same(logformat.id_text), "cmo_ids": _text_or_same(_ids_json)}


def _rewrite_log(functions: dict[str, Any], create_table: str) -> None:
    """Rewrite ``changes`` row by row (each keeping its rowid) through ``functions``, into the
    table ``create_table`` makes as ``changes_new``, then put it in the old one's place."""
    conn = op.get_bind()
    raw = conn.connection.driver_connection
    for name, function in functions.items():
        raw.create_function(name, 1, function, deterministic=True)  # type: ignore[union-attr]
    op.execute(create_table)
    op.execute(
        "INSERT INTO changes_new (rowid, change_id, entity_type, entity_id, field, value, wall, "
        "counter, site_id, coder_id, parents, seen) SELECT rowid, cmo_change_id(change_id), "
        "entity_type, cmo_id(entity_id), field, value, wall, counter, cmo_id(site_id), "
        "cmo_id(coder_id), cmo_ids(parents), cmo_ids(seen) FROM changes ORDER BY rowid")
    op.execute("DROP TABLE changes")
    op.execute("ALTER TABLE changes_new RENAME TO changes")
    op.execute("CREATE INDEX ix_changes_entity_id ON changes (entity_id)")
    op.execute("CREATE INDEX ix_changes_clock ON changes (wall, counter)")


def _create(columns: Any) -> str:
    body = ", ".join(f"{name} {kind}" for name, kind in columns)
    return f"CREATE TABLE changes_new ({body}, CONSTRAINT pk_changes PRIMARY KEY (change_id))"


def upgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return  # the hub keeps its own layout
    _rewrite_log(_UP, _create(_COMPACT_COLUMNS))


def downgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    _rewrite_log(_DOWN, _create(_OLD_COLUMNS))
