"""An incoming copy is untrusted input: only changes whose content matches their id get in."""

from __future__ import annotations

import json
import re
import shutil
import sqlite3
from pathlib import Path

import pytest

from cmo_desk.cli.main import run
from cmo_desk.services import coding
from cmo_desk.services.session import Session
from cmo_desk.store.logformat import COLUMNS, append_rows

from tests.logrows import alter, stored_change_id

from .conftest import study_id


def coded_copy(copies, name: str = "sam") -> tuple[Path, str]:
    path = copies(name)
    with Session.open(path, coder="Sam Okafor") as s:
        sid = study_id(s, "Ahmed 2019")
        coding.update_study(s, sid, {"label": "Ahmed 2019a"})
        cid, _ = coding.create_cmoc(s, sid, {"statement": "Peers who share lived experience"})
    return path, cid


#: A statement that alters the change log: the table ``log`` or one of its side tables (the
#: view ``changes`` that reads them cannot be written to).
_ON_THE_LOG = re.compile(
    r"^(UPDATE|INSERT INTO|DELETE FROM) (log|log_names|log_ids|log_records) ")
#: A WHERE term selecting the rows of ``log`` that hold changes of records of type ``etype`` to
#: the field ``field``: what ``entity_type = etype AND field = field`` selects in ``changes``.
_OF_FIELD = ("field = (SELECT n FROM log_names WHERE name = '{field}') AND entity IN "
             "(SELECT r.n FROM log_records r JOIN log_names t ON t.n = r.type "
             "WHERE t.name = '{etype}')")


def tamper(path: Path, *sql: str) -> None:
    """Alter a file as another program could; each statement on the change log must change
    some row (the visible tables may hold nothing to alter)."""
    con = sqlite3.connect(path)
    try:
        for statement in sql:
            if _ON_THE_LOG.match(statement):
                alter(con, statement)
            else:
                con.execute(statement)
        con.commit()
    finally:
        con.close()


def visible(path: Path) -> dict:
    with Session.open(path, read_only=True) as s:
        return s.store.dump()


def test_visible_rows_edited_outside_the_log_never_enter(copies, capsys) -> None:
    a = copies("lan")
    b, cid = coded_copy(copies)
    tamper(b, "UPDATE study SET label = 'Forged 1999' WHERE label = 'Ahmed 2019a'",
           "UPDATE cmoc SET statement = 'Words nobody wrote'")
    assert run(["merge", str(a), str(b)]) == 0
    labels = {s["label"] for s in visible(a)["study"]}
    assert "Ahmed 2019a" in labels and "Forged 1999" not in labels
    assert [c["statement"] for c in visible(a)["cmoc"]] == ["Peers who share lived experience"]


def test_an_emptied_conflicts_table_does_not_hide_a_conflict(copies, capsys) -> None:
    a, b, c = copies("lan"), copies("sam"), copies("ana")
    for path, coder, label in ((b, "Sam", "Ahmed B"), (c, "Ana", "Ahmed C")):
        with Session.open(path, coder=coder) as s:
            coding.update_study(s, study_id(s, "Ahmed 2019"), {"label": label})
    assert run(["merge", str(b), str(c)]) == 0
    tamper(b, "DELETE FROM conflicts")
    assert run(["merge", str(a), str(b)]) == 0
    assert [x["field"] for x in visible(a)["conflicts"]] == ["label"]


@pytest.mark.parametrize("forgery", ["flipped", "forged", "not_json", "bad_parents", "owner"])
def test_a_tampered_change_is_left_out_and_reported(copies, capsys, forgery) -> None:
    a = copies("lan")
    b, cid = coded_copy(copies)
    clean = copies("clean")
    shutil.copy2(b, clean)
    if forgery == "flipped":
        tamper(b, "UPDATE log SET value = '\"Peers who share lived experiencE\"' "
                  "WHERE value = '\"Peers who share lived experience\"'")
    elif forgery == "forged":
        con = sqlite3.connect(b)
        row = list(con.execute(f"SELECT {COLUMNS} FROM changes "
                               "WHERE field = 'statement'").fetchone())
        # the statement's change again, with another value, under a key its content does not
        # give, written as the store writes a row (the numbers of its record, field, laptop...)
        row[0] = stored_change_id("f" * 64)
        row[4] = json.dumps("A statement nobody made")
        held = con.execute("SELECT count(*) FROM log").fetchone()[0]
        assert append_rows(con, [row]) == 1
        con.commit()
        assert con.execute("SELECT count(*) FROM log").fetchone()[0] == held + 1
        con.close()
    elif forgery == "not_json":
        tamper(b, "UPDATE log SET value = 'not json {' "
                  "WHERE value = '\"Peers who share lived experience\"'")
    elif forgery == "owner":
        tamper(b, "UPDATE log SET value = '\"someone else\"' "
                  "WHERE " + _OF_FIELD.format(etype="cmoc", field="owner_id"))
    else:
        tamper(b, "UPDATE log SET parents = '{\"a\": 1}' "
                  "WHERE value = '\"Peers who share lived experience\"'")
    capsys.readouterr()
    assert run(["merge", str(a), str(b)]) == 0
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err
    assert "left out" in captured.err and b.name in captured.err
    # the whole altered record is held back, never half of it: no CMOC without its owner
    with Session.open(a, read_only=True) as s:
        assert all(c.owner_id for c in s.store.list("cmoc", include_deleted=True))
    state = visible(a)
    texts = json.dumps(state, ensure_ascii=False)
    assert "nobody made" not in texts and "experiencE" not in texts
    # the good changes of the same file did arrive
    assert "Ahmed 2019a" in {s["label"] for s in state["study"]}
    # the intact copy then brings what was left out, and the project matches a clean merge
    assert run(["merge", str(a), str(clean)]) == 0
    fresh = copies("fresh")
    assert run(["merge", str(fresh), str(clean)]) == 0
    assert visible(a) == visible(fresh)


def test_repair_rebuilds_the_visible_tables_from_the_log(copies, capsys) -> None:
    a = copies("lan")
    before = visible(a)
    tamper(a, "UPDATE study SET label = 'Forged 1999' WHERE label = 'Ahmed 2019'",
           "DELETE FROM conflicts", "DELETE FROM code")
    assert run(["check", str(a)]) == 1
    capsys.readouterr()
    assert run(["repair", str(a)]) == 0
    out = capsys.readouterr().out
    assert "study" in out and "code" in out
    assert visible(a) == before
    assert run(["check", str(a)]) == 0
