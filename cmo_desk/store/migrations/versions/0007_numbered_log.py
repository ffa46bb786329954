"""a numbered change log: small numbers for what rows repeat, a key for each change

Record types, field names, laptop and coder ids, and each record's type and id are kept once
per file in side tables, and each row of the log (the table ``log``) names them by number. A row
keeps its change id's first 8 bytes as its key; the whole id is computed from the content when
needed. A value that is one UUID is kept as its 16 bytes. The view ``changes`` reads the log as
before (store/logformat.py). Every row keeps its place (``seq``), its content and its id, so
bundles, the hub and merges with older files are unchanged.

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

from typing import Any

from alembic import op

from cmo_desk.domain.errors import ProjectError
from cmo_desk.domain.i18n import tr
from cmo_desk.store import logformat

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

#: The log as 0006 kept it.
_COMPACT_TABLE = (
    "CREATE TABLE changes (change_id BLOB NOT NULL, entity_type VARCHAR(32) NOT NULL, "
    "entity_id BLOB NOT NULL, field VARCHAR(64) NOT NULL, value TEXT NOT NULL, "
    "wall INTEGER NOT NULL, counter INTEGER NOT NULL, site_id BLOB NOT NULL, coder_id BLOB, "
    "parents BLOB NOT NULL, seen BLOB NOT NULL, CONSTRAINT pk_changes PRIMARY KEY (change_id))")
_COMPACT_INDEXES = ("CREATE INDEX ix_changes_entity_id ON changes (entity_id)",
                    "CREATE INDEX ix_changes_clock ON changes (wall, counter)")


def _raw() -> Any:
    return op.get_bind().connection.driver_connection


def upgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return  # the hub keeps its own layout
    raw = _raw()
    raw.create_function("cmo_key", 1, logformat.compact_row_key, deterministic=True)
    raw.create_function("cmo_value", 1, logformat.compact_value, deterministic=True)
    raw.execute("ALTER TABLE changes RENAME TO changes_0006")
    for ddl in logformat.LOG_DDL:
        raw.execute(ddl)
    raw.execute("DROP TABLE IF EXISTS temp.log_up")
    raw.execute(
        "CREATE TEMP TABLE log_up AS SELECT cmo_key(change_id) AS change_id, entity_type, "
        "entity_id, field, cmo_value(value) AS value, wall, counter, site_id, coder_id, parents, "
        "seen, rowid AS seq FROM changes_0006 ORDER BY rowid")
    held = raw.execute("SELECT count(*) FROM changes_0006").fetchone()[0]
    written = logformat.append_from(raw, "temp.log_up", order="s.rowid", keep_seq=True)
    raw.execute("DROP TABLE temp.log_up")
    if written != held:
        raise ProjectError(tr(
            "The project could not be upgraded: {lost} of its {held} changes could not be "
            "carried over. Nothing was changed; keep using the version that made it and report "
            "this.").format(lost=held - written, held=held))
    raw.execute("DROP TABLE changes_0006")


def downgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    raw = _raw()
    rows = raw.execute(f"SELECT seq, {logformat.COLUMNS} FROM changes ORDER BY seq").fetchall()
    raw.execute("DROP VIEW changes")
    for name in ("log", "log_records", "log_ids", "log_names"):
        raw.execute(f"DROP TABLE {name}")
    raw.execute(_COMPACT_TABLE)
    for ddl in _COMPACT_INDEXES:
        raw.execute(ddl)
    raw.executemany(f"INSERT INTO changes (rowid, {logformat.COLUMNS}) VALUES "
                    "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    [(r[0], *logformat.old_row(*r[1:])) for r in rows])
    raw.execute("DELETE FROM meta WHERE key = ?", (logformat.CLOCK_KEY,))
