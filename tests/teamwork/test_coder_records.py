"""A coder's record is made by one rule, however the project first meets them: opening it,
being assigned a study, or owning rows of an imported CMOC spreadsheet."""

from __future__ import annotations

import csv
from pathlib import Path

from cmo_desk.domain.initials import initials_of
from cmo_desk.services.agreement import coder_ids_from_names
from cmo_desk.services.cmoc_import import import_cmoc_sheet
from cmo_desk.services.session import CODER_COLORS, Session


def test_every_new_coder_gets_the_same_initials_rule_and_a_colour_of_their_own(
        base_project: Path, tmp_path: Path) -> None:
    sheet = tmp_path / "cmocs.csv"
    with open(sheet, "w", newline="", encoding="utf-8") as fh:
        csv.writer(fh).writerows([
            ["study", "context", "outcome", "coder"],
            ["Ahmed 2019", "Night shelter", "More visits", "Maria Alves Santos"],
            ["Brown 2021", "Outreach van", "Trust", "Lan Nguyen"],
        ])
    with Session.open(base_project, coder="Mai Suzuki") as s:
        s.ensure_coder()
        coder_ids_from_names(s, ["Anna Pavlova", "José da Silva"])
        import_cmoc_sheet(s, sheet)
        coders = {c.name: c for c in s.store.list("coder")}

    names = ["Coordinator", "Mai Suzuki", "Anna Pavlova", "José da Silva", "Maria Alves Santos",
             "Lan Nguyen"]
    assert sorted(coders) == sorted(names)
    for name in names:
        assert coders[name].initials == initials_of(name), name
        assert coders[name].color in CODER_COLORS, name
    assert len({coders[n].color for n in names}) == len(names)
