"""A consensus CMOC whose sources changed after it was made, on another laptop, then merged.

The consensus was agreed on the wording, codes and passages the coders had then. When a coder
later edits, re-codes or deletes a source CMOC on their own laptop and the coordinator merges that
copy, the consensus must say so rather than stand silently on evidence that is no longer there.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from cmo_desk.services import coding, merging, reconcile
from cmo_desk.services.session import Session

from .conftest import study_id


def _doc(s: Session, sid: str) -> str:
    return next(d.id for d in s.store.list("document") if d.study_id == sid)


def _laptop(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, name: str) -> None:
    monkeypatch.setenv("CMO_DESK_CONFIG_DIR", str(tmp_path / f"config-{name}"))


@pytest.fixture
def reconciled(copies: Callable[[str], Path], base_project: Path, tmp_path: Path,
               monkeypatch: pytest.MonkeyPatch) -> dict[str, object]:
    """Ann and Bob code Ahmed 2019 on their laptops; the coordinator merges and reconciles."""
    ann, bob = copies("ann"), copies("bob")
    made: dict[str, object] = {"ann": ann, "bob": bob, "coordinator": base_project}
    with Session.open(base_project, coder="Coordinator") as s:
        trust = next(c.id for c in s.store.list("code") if c.name == "Trust")
        stigma = next(c.id for c in s.store.list("code") if c.name == "Stigma")
    made.update(trust=trust, stigma=stigma)
    for name, path, span in (("Ann", ann, (0, 60)), ("Bob", bob, (30, 90))):
        _laptop(monkeypatch, tmp_path, name)
        with Session.open(path, coder=name) as s:
            sid = study_id(s, "Ahmed 2019")
            eid, _ = coding.add_excerpt(s, _doc(s, sid), *span, code_ids=[trust])
            cid, _ = coding.create_cmoc(s, sid, {"outcome": f"{name}'s outcome"}, [eid], [trust])
            made[name] = cid
    _laptop(monkeypatch, tmp_path, "coordinator")
    with Session.open(base_project, coder="Coordinator") as s:
        merging.merge_projects(s, [ann])
        merging.merge_projects(s, [bob])
        sid = study_id(s, "Ahmed 2019")
        consensus_id, _ = reconcile.consensus_from(
            s, sid, [made["Ann"], made["Bob"]], {"outcome": "Agreed outcome"}, "merged")
        made.update(study=sid, consensus=consensus_id)
        assert reconcile.changed_sources(s, s.store.get("consensus", consensus_id)) == []
    return made


def _changed(path: Path, consensus_id: str) -> list[reconcile.SourceChange]:
    with Session.open(path, coder="Coordinator") as s:
        return reconcile.changed_sources(s, s.store.get("consensus", consensus_id))


def test_a_source_edited_on_the_coders_laptop_after_the_consensus_is_flagged(
        reconciled: dict, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _laptop(monkeypatch, tmp_path, "Bob")
    with Session.open(reconciled["bob"], coder="Bob") as s:
        coding.update_cmoc(s, reconciled["Bob"], {"outcome": "Bob's second thoughts"})
        coding.set_cmoc_codes(s, reconciled["Bob"], [])
    _laptop(monkeypatch, tmp_path, "coordinator")
    with Session.open(reconciled["coordinator"], coder="Coordinator") as s:
        merging.merge_projects(s, [reconciled["bob"]])
    found = _changed(reconciled["coordinator"], reconciled["consensus"])
    assert [(c.cmoc_id, c.deleted, c.slots, c.dropped) for c in found] == [
        (reconciled["Bob"], False, ("outcome",), True)]
    assert found[0].owner_name == "Bob"


def test_a_source_deleted_on_the_coders_laptop_after_the_consensus_is_flagged(
        reconciled: dict, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _laptop(monkeypatch, tmp_path, "Ann")
    with Session.open(reconciled["ann"], coder="Ann") as s:
        coding.delete_cmoc(s, reconciled["Ann"])
    _laptop(monkeypatch, tmp_path, "coordinator")
    with Session.open(reconciled["coordinator"], coder="Coordinator") as s:
        merging.merge_projects(s, [reconciled["ann"]])
    found = _changed(reconciled["coordinator"], reconciled["consensus"])
    assert [(c.cmoc_id, c.deleted) for c in found] == [(reconciled["Ann"], True)]


def test_a_code_and_a_passage_added_to_a_source_before_the_consensus_are_flagged(
        reconciled: dict, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Bob re-coded his CMOC before the coordinator reconciled again, but his copy arrived only
    after: the consensus lacks a code and a passage its source now has, whatever the clocks say."""
    _laptop(monkeypatch, tmp_path, "Bob")
    with Session.open(reconciled["bob"], coder="Bob") as s:
        eid, _ = coding.add_excerpt(s, _doc(s, reconciled["study"]), 200, 260,
                                    code_ids=[reconciled["stigma"]])
        coding.link_excerpt(s, reconciled["Bob"], eid)
        coding.set_cmoc_codes(s, reconciled["Bob"], [reconciled["trust"], reconciled["stigma"]])
    _laptop(monkeypatch, tmp_path, "coordinator")
    with Session.open(reconciled["coordinator"], coder="Coordinator") as s:
        later, _ = reconcile.consensus_from(
            s, reconciled["study"], [reconciled["Ann"], reconciled["Bob"]],
            {"outcome": "Agreed again"}, "merged")
        merging.merge_projects(s, [reconciled["bob"]])
    found = _changed(reconciled["coordinator"], later)
    assert len(found) == 1 and found[0].cmoc_id == reconciled["Bob"]
    assert found[0].missing_code_ids == (reconciled["stigma"],)
    assert found[0].missing_excerpt_ids == (eid,)


def test_merging_an_unchanged_copy_flags_nothing(reconciled: dict, tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    shutil.copy2(reconciled["coordinator"], tmp_path / "again.cmo")
    _laptop(monkeypatch, tmp_path, "coordinator")
    with Session.open(reconciled["coordinator"], coder="Coordinator") as s:
        merging.merge_projects(s, [reconciled["ann"]])
        merging.merge_projects(s, [reconciled["bob"]])
    assert _changed(reconciled["coordinator"], reconciled["consensus"]) == []
    assert os.path.exists(tmp_path / "again.cmo")


def test_the_evidence_table_marks_a_consensus_whose_source_changed_since(
        reconciled: dict, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The published table must not print a stale consensus as if it still held."""
    import docx

    from cmo_desk.services import exporting

    def consensus_cell(path: Path) -> str:
        with Session.open(path, coder="Coordinator") as s:
            table = exporting.preview_table(s)
        return next(row["recorded_by"] for _, row in table.iter_rows()
                    if row["cmoc_id"] == reconciled["consensus"])

    assert "changed since" not in consensus_cell(reconciled["coordinator"])
    _laptop(monkeypatch, tmp_path, "Bob")
    with Session.open(reconciled["bob"], coder="Bob") as s:
        coding.update_cmoc(s, reconciled["Bob"], {"context": "Only where police are absent"})
    _laptop(monkeypatch, tmp_path, "coordinator")
    with Session.open(reconciled["coordinator"], coder="Coordinator") as s:
        merging.merge_projects(s, [reconciled["bob"]])
        exporting.export_project(s, tmp_path / "evidence.docx")
    assert "a source changed since it was made" in consensus_cell(reconciled["coordinator"])
    text = "\n".join(cell.text for table in docx.Document(str(tmp_path / "evidence.docx")).tables
                     for row in table.rows for cell in row.cells)
    assert "a source changed since it was made" in text
