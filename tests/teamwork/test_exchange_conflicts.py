"""Conflicts that a merge must list for a person, never crash on and never drop silently."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from cmo_desk.cli.main import run
from cmo_desk.services import coding
from cmo_desk.services.session import Session

from .conftest import study_id


def laptop(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, name: str) -> None:
    """Work as another installation: its own config folder, so its own site id."""
    folder = tmp_path / f"config-{name}"
    folder.mkdir(exist_ok=True)
    monkeypatch.setenv("CMO_DESK_CONFIG_DIR", str(folder))


def shared_excerpt(project: Path) -> str:
    with Session.open(project, coder="Lan") as s:
        sid = study_id(s, "Ahmed 2019")
        doc = s.store.list("document", study_id=sid)[0]
        ex, _ = coding.add_excerpt(s, doc.id, 0, 20, "mechanism", memo="first")
    return ex


def conflicts_of(path: Path) -> list:
    with Session.open(path, read_only=True) as s:
        return s.store.conflicts()


def test_delete_on_one_laptop_delete_restore_edit_on_another_is_one_conflict(
        base_project, tmp_path, monkeypatch, capsys) -> None:
    ex = shared_excerpt(base_project)
    a, b = tmp_path / "a.cmo", tmp_path / "b.cmo"
    shutil.copy2(base_project, a)
    shutil.copy2(base_project, b)
    laptop(monkeypatch, tmp_path, "one")
    with Session.open(a, coder="Lan") as s:
        coding.delete_excerpt(s, ex)
    laptop(monkeypatch, tmp_path, "two")
    with Session.open(b, coder="Lan") as s:
        coding.delete_excerpt(s, ex)
        coding.restore_excerpt(s, ex)
        coding.update_excerpt(s, ex, {"memo": "second thoughts"})
    a2 = tmp_path / "a2.cmo"
    shutil.copy2(a, a2)
    capsys.readouterr()
    assert run(["merge", str(a), str(b)]) == 0, capsys.readouterr().err
    assert run(["merge", str(b), str(a2)]) == 0, capsys.readouterr().err
    for path in (a, b):
        found = [c for c in conflicts_of(path) if c.entity_id == ex]
        assert len(found) == 1
        # every side is listed: the deletion, the restore and the edit the deleter never saw
        values = [v.value for v in found[0].values]
        assert False in values and True in values and "second thoughts" in values
    # settling it once settles it for good
    with Session.open(a, coder="Coordinator") as s:
        coding.resolve_conflict(s, "excerpt", ex, "exists", True)
        assert not [c for c in s.store.conflicts() if c.entity_id == ex]
        assert s.store.get("excerpt", ex).memo == "second thoughts"


def test_two_coordinators_settle_differently_then_one_edits(
        base_project, tmp_path, monkeypatch, capsys) -> None:
    ex = shared_excerpt(base_project)
    a, b = tmp_path / "a.cmo", tmp_path / "b.cmo"
    shutil.copy2(base_project, a)
    shutil.copy2(base_project, b)
    laptop(monkeypatch, tmp_path, "one")
    with Session.open(a, coder="Lan") as s:
        coding.delete_excerpt(s, ex)
    laptop(monkeypatch, tmp_path, "two")
    with Session.open(b, coder="Lan") as s:
        coding.update_excerpt(s, ex, {"memo": "edited"})
    assert run(["merge", str(a), str(b)]) == 0
    assert run(["merge", str(b), str(a)]) == 0
    assert [c.kind for c in conflicts_of(a)] == ["edit_vs_delete"]
    laptop(monkeypatch, tmp_path, "one")
    with Session.open(a, coder="Coordinator A") as s:
        coding.resolve_conflict(s, "excerpt", ex, "exists", False)
    laptop(monkeypatch, tmp_path, "two")
    with Session.open(b, coder="Coordinator B") as s:
        coding.resolve_conflict(s, "excerpt", ex, "exists", True)
    with Session.open(b, coder="Lan") as s:
        coding.update_excerpt(s, ex, {"memo": "edited again"})
    capsys.readouterr()
    assert run(["merge", str(a), str(b)]) == 0, capsys.readouterr().err
    assert run(["merge", str(b), str(a)]) == 0, capsys.readouterr().err
    found = [c for c in conflicts_of(a) if c.entity_id == ex]
    assert len(found) == 1 and found[0].field == "exists"
    assert "edited again" in [v.value for v in found[0].values]
    assert run(["conflicts", str(a)]) == 0
    assert "edited again" in capsys.readouterr().out
