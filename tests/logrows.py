"""Reading and altering rows of a project's change log by hand, as tests that play an outside
program do. Ids go through the log's row format (store/logformat.py), and every alteration must
change at least one row: a tamper that silently changed nothing would let its test pass without
testing anything.

A project's log (schema 0007 on) is the table ``log`` and its side tables, read through the view
``changes``, which cannot be written to: a test that tampers with the log by SQL alters ``log``
(or ``log_names``, ``log_ids``, ``log_records``). The helpers here find the numbers a file gave
a record or a name."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

from cmo_desk.store.logformat import (
    COLUMNS,
    change_from_columns,
    stored_change_id,
    stored_id,
)

__all__ = ["COLUMNS", "alter", "change_from_columns", "downgrade", "is_numbered", "log_rows",
           "name_number", "record_number", "stored_change_id", "stored_id", "upgrade"]


def alter(con: sqlite3.Connection, sql: str, params: Any = ()) -> int:
    """Run one UPDATE, INSERT or DELETE on the log and return how many rows it changed; fails
    when it changed none."""
    before = con.total_changes
    con.execute(sql, params)
    changed = con.total_changes - before
    assert changed > 0, f"altered no row: {sql} {params!r}"
    return changed


def log_rows(con: sqlite3.Connection, where: str = "", params: Any = ()) -> list[Any]:
    """The changes of the log (optionally those ``where`` selects), read as the store reads
    them."""
    return [change_from_columns(*r) for r in con.execute(
        f"SELECT {COLUMNS} FROM changes {where}", params)]


def is_numbered(con: sqlite3.Connection) -> bool:
    """Whether the file ``con`` has open keeps its log numbered (the table ``log``)."""
    return con.execute("SELECT count(*) FROM sqlite_master WHERE type = 'table' "
                       "AND name = 'log'").fetchone()[0] == 1


def name_number(con: sqlite3.Connection, name: str) -> int:
    """The number a numbered log gives a record type or field name."""
    (n,) = con.execute("SELECT n FROM log_names WHERE name = ?", (name,)).fetchone()
    return int(n)


def record_number(con: sqlite3.Connection, entity_type: str, entity_id: Any) -> int:
    """The number a numbered log gives a record (``entity_id`` as the log stores it)."""
    (n,) = con.execute("SELECT r.n FROM log_records r JOIN log_names t ON t.n = r.type "
                       "WHERE t.name = ? AND r.id = ?", (entity_type, entity_id)).fetchone()
    return int(n)


def _migrate(path: Path, revision: str, down: bool) -> None:
    from alembic import command
    from alembic.config import Config
    from sqlalchemy import create_engine

    from cmo_desk.store import project_store

    cfg = Config()
    cfg.set_main_option("script_location",
                        str(Path(project_store.__file__).parent / "migrations"))
    engine = create_engine(f"sqlite:///{path}")
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        (command.downgrade if down else command.upgrade)(cfg, revision)
    engine.dispose()


def downgrade(path: Path, revision: str) -> None:
    """Turn a project back into an older layout, as an older CMO Desk left it."""
    _migrate(path, revision, down=True)


def upgrade(path: Path, revision: str) -> None:
    """Upgrade a project to ``revision`` only (not to the head), as the version that made that
    revision the head did."""
    _migrate(path, revision, down=False)
