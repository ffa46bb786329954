"""Reading and altering rows of a project's change log by hand, as tests that play an outside
program do. Ids go through the log's row format (store/logformat.py), and every alteration must
change at least one row: a tamper that silently changed nothing would let its test pass without
testing anything."""

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

__all__ = ["COLUMNS", "alter", "change_from_columns", "downgrade", "log_rows", "stored_change_id",
           "stored_id"]


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


def downgrade(path: Path, revision: str) -> None:
    """Turn a project back into an older layout, as an older CMO Desk left it."""
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
        command.downgrade(cfg, revision)
    engine.dispose()
