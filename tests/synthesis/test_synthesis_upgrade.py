"""Opening a 0002 project upgrades it; synthesis rows its log already holds become visible."""

from __future__ import annotations

import sqlite3

from cmo_desk.services import synthesis
from cmo_desk.services.session import Session
from tests.logrows import downgrade


def test_synthesis_in_the_log_of_an_older_file_appears_after_the_upgrade(small) -> None:
    # A colleague's newer file was merged by a 0.1 desk: the log kept the synthesis changes,
    # but that desk had no tables to show them in.
    with Session.open(small.path, coder="Lan Nguyen") as s:
        rid, _ = synthesis.add_review_cmoc(s, small.theory_id, {"statement": "kept"})
        synthesis.link_source(s, rid, small.cmocs["Ahmed 2019"][0], "refutes", "a note")
        synthesis.record_version(s, small.theory_id, "first")
        before = s.store.dump()
    downgrade(small.path, "0002")
    con = sqlite3.connect(small.path)
    tables = {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert "review_cmoc" not in tables
    assert con.execute("SELECT count(*) FROM changes WHERE entity_type LIKE 'review%'"
                       ).fetchone()[0] > 0
    con.close()
    with Session.open(small.path, coder="Lan Nguyen") as s:
        assert s.store.dump() == before
        (review,) = synthesis.load_synthesis(s).review_cmocs
        assert review.record.statement == "kept"
        assert [(x.relation, x.note) for x in review.sources] == [("refutes", "a note")]
        assert [v.reason for v in s.store.list("theory_version")] == ["first"]
