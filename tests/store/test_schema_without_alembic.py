"""A new project's schema is written from the models, without Alembic: it must equal, table by
table and index by index, the schema the migrations build, or upgrades and merges would differ."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine

from cmo_desk.store import project_store
from cmo_desk.store.project_store import HEAD_REVISION


def _shape(path: Path) -> dict[str, Any]:
    con = sqlite3.connect(path)
    try:
        master = sorted(con.execute(
            "SELECT type, name, tbl_name FROM sqlite_master WHERE name NOT LIKE 'sqlite_%'"))
        out: dict[str, Any] = {"master": master}
        for kind, name, _table in master:
            if kind != "table" or name.startswith("search_pages"):
                continue
            out[name] = {
                "columns": con.execute(f"PRAGMA table_info('{name}')").fetchall(),
                "indexes": sorted(
                    (ix[1], ix[2], tuple(c[2] for c in con.execute(
                        f"PRAGMA index_info('{ix[1]}')")))
                    for ix in con.execute(f"PRAGMA index_list('{name}')")),
            }
        out["search"] = con.execute(
            "SELECT sql FROM sqlite_master WHERE name = 'search_pages'").fetchone()
        out["revision"] = con.execute("SELECT version_num FROM alembic_version").fetchall()
        return out
    finally:
        con.close()


def _build(path: Path, how: Any) -> dict[str, Any]:
    engine = create_engine(f"sqlite:///{path}")
    with engine.begin() as conn:
        how(conn)
    engine.dispose()
    return _shape(path)


def test_direct_schema_equals_the_migrated_one(tmp_path: Path) -> None:
    migrated = _build(tmp_path / "migrated.db", project_store._run_migrations)
    direct = _build(tmp_path / "direct.db", project_store._create_schema)
    assert migrated["revision"] == [(HEAD_REVISION,)]
    assert direct == migrated


def test_creating_a_project_does_not_load_alembic(tmp_path: Path) -> None:
    code = (
        "import sys\n"
        "from cmo_desk.services.projects import new_project\n"
        f"new_project({str(tmp_path / 'p.cmo')!r}, coder='Ana').close()\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('alembic', 'mako')))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip().splitlines()[-1] == "[]"
