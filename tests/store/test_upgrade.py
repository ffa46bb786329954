"""A project saved by the previous schema revision is backed up and upgraded when opened."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from cmo_desk.services import coding
from cmo_desk.services.session import Session
from cmo_desk.store import project_store
from cmo_desk.store.backups import readable_copy
from cmo_desk.store.project_store import ProjectStore
from tests.logrows import downgrade


def _make_revision_0001(path: Path) -> str:
    """A project as the first released schema (0001) wrote it."""
    with Session.create(path, coder="Ana") as s:
        sid, _ = coding.add_study(s, {"label": "Kept 2010", "title": "Old work"})
        coding.create_cmoc(s, sid, {"context": "saved before the upgrade"})
    downgrade(path, "0001")
    return sid


def test_older_project_is_backed_up_then_upgraded(tmp_path: Path) -> None:
    path = tmp_path / "old.cmo"
    sid = _make_revision_0001(path)
    con = sqlite3.connect(path)
    assert con.execute("SELECT version_num FROM alembic_version").fetchone()[0] == "0001"
    con.close()
    with Session.open(path, coder="Ana") as s:
        assert s.store.get("study", sid).label == "Kept 2010"
        assert s.store.list("cmoc")[0].context == "saved before the upgrade"
        assert s.store.links("duplicate_decision") == []  # the new table exists
    backups = sorted((tmp_path / "backups").glob("*upgrade*"))
    assert len(backups) == 1
    with readable_copy(backups[0]) as plain:
        con = sqlite3.connect(plain)
        assert con.execute("SELECT version_num FROM alembic_version").fetchone()[0] == "0001"
        con.close()
    con = sqlite3.connect(path)
    assert con.execute("SELECT version_num FROM alembic_version").fetchone()[0] == \
        project_store.HEAD_REVISION
    con.close()


def test_reading_an_older_project_leaves_it_unchanged(tmp_path: Path) -> None:
    path = tmp_path / "old.cmo"
    _make_revision_0001(path)
    before = path.read_bytes()
    with ProjectStore.open(path, read_only=True) as store:
        assert store.info()["studies"] == 1
        assert store.links("duplicate_decision") == []
    assert path.read_bytes() == before


def test_the_upgraded_copy_read_in_place_of_an_old_project_is_removed(tmp_path: Path) -> None:
    path = tmp_path / "old.cmo"
    _make_revision_0001(path)
    store = ProjectStore.open(path, read_only=True)
    copy = store._read_copy
    assert copy is not None and copy.exists() and copy != path
    store.close()
    assert not copy.exists()
