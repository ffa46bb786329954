"""A merge checks, projects and writes the incoming records batch by batch; wherever a batch
ends, and whichever record in it was altered, the project ends as a rebuild from its log."""

from __future__ import annotations

import sqlite3

import pytest

from cmo_desk.services import coding
from cmo_desk.services.session import Session
from cmo_desk.store import merging

from tests.logrows import alter, stored_id

from .conftest import study_id


def _coded(copies, name: str) -> tuple:
    path = copies(name)
    with Session.open(path, coder=name) as s:
        sid = study_id(s, "Ahmed 2019")
        ids = [coding.create_cmoc(s, sid, {"statement": f"{name} statement {n} 🙂"})[0]
               for n in range(7)]
        coding.update_cmoc(s, ids[1], {"statement": "edited once"})
        coding.update_cmoc(s, ids[1], {"statement": "edited twice"})
        coding.delete_cmoc(s, ids[2])
        coding.update_study(s, sid, {"label": f"Ahmed 2019 ({name})"})
    return path, ids


def _state(path) -> dict:
    with Session.open(path, read_only=True) as s:
        return s.store.dump()


@pytest.mark.parametrize("batch", [1, 2, 3, 400])
def test_every_batch_size_gives_the_project_its_log_holds(copies, monkeypatch, batch) -> None:
    monkeypatch.setattr(merging._Sift, "BATCH", batch)
    mine = copies("lan")
    theirs, ids = _coded(copies, "sam")
    con = sqlite3.connect(theirs)
    # one record in the middle is altered: it alone is held back, whole
    alter(con, "UPDATE log SET value = '\"a statement nobody wrote\"' "
               "WHERE value = '\"sam statement 4 🙂\"'")
    con.commit()
    held = con.execute("SELECT count(*) FROM changes WHERE entity_id = ?",
                       (stored_id(ids[4]),)).fetchone()[0]
    con.close()
    with Session.open(mine, coder="lan") as s:
        stats = merging.merge_file(s.store, theirs)
    assert held > 1 and stats.rejected == held  # the altered CMOC's changes, no others
    merged = _state(mine)
    statements = {c["statement"] for c in merged["cmoc"]}
    assert "edited twice" in statements and "sam statement 6 🙂" in statements
    assert "sam statement 4 🙂" not in statements and "a statement nobody wrote" not in statements
    assert "sam statement 2 🙂" not in statements  # deleted on their laptop
    assert "Ahmed 2019 (sam)" in {s["label"] for s in merged["study"]}
    with Session.open(mine, coder="lan") as s:
        s.store.rebuild()
    assert _state(mine) == merged


def test_a_failure_mid_merge_leaves_the_project_as_it_was(copies, monkeypatch) -> None:
    monkeypatch.setattr(merging._Sift, "BATCH", 2)
    mine = copies("lan")
    theirs, _ = _coded(copies, "sam")
    before = _state(mine)
    real = merging.write_projections
    calls = []

    def fails_on_the_third(*args, **kwargs):
        calls.append(1)
        if len(calls) == 3:
            raise OSError("disk full")
        return real(*args, **kwargs)

    monkeypatch.setattr(merging, "write_projections", fails_on_the_third)
    with Session.open(mine, coder="lan") as s:
        with pytest.raises(OSError):
            merging.merge_file(s.store, theirs)
    assert len(calls) == 3
    assert _state(mine) == before
    monkeypatch.setattr(merging, "write_projections", real)
    with Session.open(mine, coder="lan") as s:
        assert merging.merge_file(s.store, theirs).rejected == 0
    merged = _state(mine)
    assert merged != before and merged["cmoc"] == _state(theirs)["cmoc"]
