"""Project files exactly as each released schema revision wrote them open and upgrade.

``released/demo-schema-NNNN.cmo`` is the demo project written by the version that shipped schema
revision NNNN (not a current file downgraded), with its journal as that version left it.
"""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

import pytest

from cmo_desk.services.session import Session
from cmo_desk.store import project_store
from cmo_desk.store.project_store import ProjectStore

RELEASED = Path(__file__).parent / "released"
FILES = sorted(RELEASED.glob("demo-schema-*.cmo"))
#: Schema revisions that shipped in a release (0.1: 0001 and 0002). Add the newest here, with its
#: file, when a release ships it.
RELEASED_REVISIONS = ("0001", "0002")

def _revision(path: Path) -> str:
    con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        return con.execute("SELECT version_num FROM alembic_version").fetchone()[0]
    finally:
        con.close()


def test_a_file_per_released_revision_is_kept() -> None:
    assert [_revision(f) for f in FILES] == list(RELEASED_REVISIONS)
    assert set(RELEASED_REVISIONS) <= set(project_store.KNOWN_REVISIONS)


@pytest.mark.parametrize("released", FILES, ids=lambda p: p.stem)
def test_released_file_opens_and_upgrades_with_its_content(released: Path, tmp_path: Path) -> None:
    path = tmp_path / "review.cmo"
    shutil.copy(released, path)
    with ProjectStore.open(path, read_only=True) as store:
        before = store.dump()
        changes = store.change_count()
    with Session.open(path, coder="Ana") as s:
        info = s.store.info()
        assert sorted(st.label for st in s.store.list("study")) == sorted(
            st["label"] for st in before["study"])
        assert info["changes"] == changes
        after = s.store.dump()
    assert _revision(path) == project_store.HEAD_REVISION
    for etype in ("study", "document", "excerpt", "code", "cmoc", "consensus", "theory",
                  "form_value", "coder"):
        assert after[etype] == before[etype], etype


@pytest.mark.parametrize("released", FILES, ids=lambda p: p.stem)
def test_released_file_read_only_is_left_unchanged(released: Path, tmp_path: Path) -> None:
    path = tmp_path / "review.cmo"
    shutil.copy(released, path)
    data = path.read_bytes()
    with ProjectStore.open(path, read_only=True) as store:
        assert store.info()["studies"] == 5
        assert store.info()["cmocs"] == 9
    assert path.read_bytes() == data
