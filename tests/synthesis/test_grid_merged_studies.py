"""The C×M×O grid counts studies as the review does: a study merged into its duplicate is one
study, even for a CMOC made on the duplicate on a laptop that had not yet heard of the merge."""

from __future__ import annotations

from cmo_desk.domain.records import Cmoc, Code
from cmo_desk.domain.synthesis import cmo_grid

CODES = [Code(id="ctx", name="Policing", kind="context"),
         Code(id="mech", name="Trust in peers", kind="mechanism"),
         Code(id="out", name="More NSP contacts", kind="outcome")]


def _cmoc(cid: str, study: str) -> Cmoc:
    return Cmoc(id=cid, study_id=study, code_ids=("ctx", "mech", "out"))


def test_a_cmoc_left_on_a_merged_duplicate_counts_for_the_study_it_became() -> None:
    cmocs = [_cmoc("a", "odessa"), _cmoc("b", "odessa-dup"), _cmoc("c", "hanoi")]
    grid = cmo_grid(CODES, cmocs, [], merged_into={"odessa-dup": "odessa"})
    cell = grid.cells[("Policing", "Trust in peers")]
    assert cell.study_ids == frozenset({"odessa", "hanoi"})
    assert cell.cmoc_ids == ("a", "b", "c")  # every CMOC still shown
    assert cell.outcomes == {"More NSP contacts": 3}


def test_without_merges_each_study_counts_once() -> None:
    grid = cmo_grid(CODES, [_cmoc("a", "odessa"), _cmoc("b", "hanoi")], [])
    assert grid.cells[("Policing", "Trust in peers")].study_ids == frozenset({"odessa", "hanoi"})
