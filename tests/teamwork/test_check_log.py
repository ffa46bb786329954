"""`cmo-desk check` recomputes the content id of every change in the project's own log: a value
altered in the file (by another program, a bad sector, a hand edit) is reported, even when the
visible records were altered to match it."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from tests.logrows import alter, name_number, record_number, stored_id

from cmo_desk.cli.main import run


def _forge_title(project: Path, title: str) -> str:
    con = sqlite3.connect(project)
    try:
        sid, = con.execute("SELECT id FROM study WHERE label = 'Ahmed 2019'").fetchone()
        alter(con, "UPDATE log SET value = ? WHERE entity = ? AND field = ?",
              (json.dumps(title, ensure_ascii=False),
               record_number(con, "study", stored_id(sid)), name_number(con, "title")))
        con.execute("UPDATE study SET title = ? WHERE id = ?", (title, sid))
        con.commit()
    finally:
        con.close()
    return str(sid)


@pytest.mark.parametrize("quick", [False, True])
def test_check_finds_a_change_altered_in_the_file(base_project: Path, capsys, quick) -> None:
    extra = ["--quick"] if quick else []
    assert run(["check", str(base_project), *extra]) == 0
    capsys.readouterr()
    sid = _forge_title(base_project, "Peer navigators 🙂 in harm reduction")
    assert run(["check", str(base_project), *extra]) == 1
    err = capsys.readouterr().err.strip()
    assert ": 1, in" in err and "Ahmed 2019" in err and sid not in err.split("Ahmed")[0]
    assert "Traceback" not in err

    assert run(["check", str(base_project), "--json", *extra]) == 1
    report = json.loads(capsys.readouterr().out)
    assert not report["ok"] and any("Ahmed 2019" in p for p in report["problems"])


def test_check_reads_a_sound_log_as_sound_after_edits(base_project: Path, capsys) -> None:
    from cmo_desk.services import coding
    from cmo_desk.services.session import Session

    with Session.open(base_project, coder="Lan") as s:
        sid = next(st.id for st in s.store.list("study") if st.label == "Brown 2021")
        coding.update_study(s, sid, {"title": "Trust, outreach — and “quotes” ü 🙂"})
        coding.update_study(s, sid, {"title": "Trust again"})
    assert run(["check", str(base_project)]) == 0
