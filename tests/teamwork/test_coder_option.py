"""Who did the work: the name on the command line wins over the environment."""

from __future__ import annotations

import csv
import json

from cmo_desk.cli.main import run
from cmo_desk.domain.ids import coder_id
from cmo_desk.services.session import Session


def test_coder_option_wins_over_environment_in_import_cmocs(base_project, tmp_path,
                                                            monkeypatch, capsys) -> None:
    sheet = tmp_path / "cmocs.csv"
    with open(sheet, "w", newline="", encoding="utf-8") as fh:
        csv.writer(fh).writerows([["study", "statement"],
                                  ["Ahmed 2019", "Peers build trust"],
                                  ["Brown 2021", "Outreach builds trust"]])
    monkeypatch.setenv("CMO_DESK_CODER", "Env Person")
    capsys.readouterr()
    assert run(["import-cmocs", str(base_project), str(sheet), "--coder", "Lan Nguyen",
                "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["by_coder"] == {"Lan Nguyen": 2}
    with Session.open(base_project, read_only=True) as s:
        owners = {c.owner_id for c in s.store.list("cmoc")}
        names = {c.name for c in s.store.list("coder")}
    assert owners == {coder_id("Lan Nguyen")}
    assert "Env Person" not in names
    # without --coder, the environment names the coder
    assert run(["import-cmocs", str(base_project), str(sheet), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["by_coder"] == {"Env Person": 2}
