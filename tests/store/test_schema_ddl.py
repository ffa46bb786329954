"""A new project's schema, byte for byte: the SQL SQLite keeps for every table and index of a file
made today must equal ``head-schema.sql``, the schema of the head revision as written when the
tables were declared through the ORM. Declaring the tables differently must not change the file
layout by a byte; only a migration (with a new head revision) may, and then this file with it.

To write the file again after such a migration: ``python tests/store/test_schema_ddl.py``."""

from __future__ import annotations

import sqlite3
import sys
import tempfile
from pathlib import Path

from cmo_desk.services.projects import new_project
from cmo_desk.store.fileinfo import HEAD_REVISION
from cmo_desk.store.logformat import LOG_DDL

EXPECTED = Path(__file__).with_name("head-schema.sql")


def schema_text(path: Path) -> str:
    """Every entry of ``sqlite_master`` (type, name, table, SQL), in a stable order."""
    con = sqlite3.connect(path)
    try:
        rows = con.execute(
            "SELECT type, name, tbl_name, sql FROM sqlite_master ORDER BY type, name").fetchall()
        revision = con.execute("SELECT version_num FROM alembic_version").fetchall()
    finally:
        con.close()
    out = [f"-- head revision {revision[0][0]}" if revision else "-- no revision", ""]
    for kind, name, table, sql in rows:
        out.append(f"-- {kind} {name} on {table}")
        out.append(f"{sql};" if sql is not None else "-- (made by SQLite)")
        out.append("")
    return "\n".join(out)


def _new_project_schema(folder: Path) -> str:
    path = folder / "p.cmo"
    new_project(str(path), coder="Ana").close()
    return schema_text(path)


def test_a_new_project_has_exactly_the_head_schema(tmp_path: Path) -> None:
    expected = EXPECTED.read_text(encoding="utf-8")
    assert expected.startswith(f"-- head revision {HEAD_REVISION}\n"), (
        "the head revision moved: write head-schema.sql again (see this module's docstring)")
    assert _new_project_schema(tmp_path) == expected


def test_the_expected_schema_names_every_table() -> None:
    """The fixture is not empty or cut short: it holds the log, the projection and the index."""
    expected = EXPECTED.read_text(encoding="utf-8")
    for table in ("log", "log_names", "log_ids", "log_records", "conflicts", "meta", "blobs",
                  "search_page", "study", "document", "cmoc", "theory_version", "search_pages",
                  "alembic_version"):
        assert f"-- table {table} on {table}\nCREATE " in expected, table
    # the numbered log is read through the view ``changes``; the log has no table of that name
    assert "-- view changes on changes\nCREATE VIEW changes AS " in expected
    assert "-- table changes on changes" not in expected
    assert "CREATE UNIQUE INDEX ix_log_entity_key ON log (entity, key);" in expected
    # every statement that makes the log is in it as logformat declares it
    for ddl in LOG_DDL:
        assert f"\n{ddl};\n" in expected, ddl


if __name__ == "__main__":
    with tempfile.TemporaryDirectory() as folder:
        EXPECTED.write_text(_new_project_schema(Path(folder)), encoding="utf-8")
    sys.stdout.write(f"wrote {EXPECTED}\n")
