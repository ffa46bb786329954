"""CMOC spreadsheets into the demo project: CMOCs with anchored excerpts, codes, reports."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from cmo_desk.cli.main import run
from cmo_desk.domain.errors import ImportFailed, ValidationError
from cmo_desk.domain.ids import coder_id
from cmo_desk.services.cmoc_import import import_cmoc_sheet
from cmo_desk.services.session import Session

HEADER = ["study", "context", "mechanism_resource", "mechanism_reasoning", "outcome",
          "statement", "quote", "page", "codes", "coder"]


def _studies(session: Session) -> dict[str, tuple]:
    out = {}
    for study in session.store.list("study"):
        (doc,) = session.store.list("document", study_id=study.id)
        out[study.label] = (study, doc)
    return out


def _rows(session: Session) -> list[list[str]]:
    studies = _studies(session)
    odessa, odessa_doc = studies["Odessa 2017"]
    kunming, kunming_doc = studies["Kunming 2016"]
    hanoi, _ = studies["Hanoi 2019"]
    # Quotes as people paste them: other spacing, other case, curly quotes.
    page2 = odessa_doc.text[odessa_doc.page_starts[1]:]
    quote = page2[page2.index("He has been where I am"):][:60]
    pasted = "  " + quote.upper().replace(" ", "\n ") + " "
    chinese = "同伴懂我们的难处"
    assert chinese in kunming_doc.text
    return [
        HEADER,
        ["odessa 2017", "Fear of police registration", "Peers with lived experience",
         "Clients trust peers", "More NSP contacts", "", pasted, "2",
         "trust; Brand-new code", "Reviewer C"],
        [kunming.title, "Stigma from family", "Support groups", "同伴理解服药者",
         "Retention", "", chinese, "", "brand-new CODE", "Reviewer D"],
        [hanoi.title, "Late stipends", "", "Role strain", "Navigators leave", "",
         "A sentence that is nowhere in the study", "3", "", "Reviewer C"],
        ["Nobody 1999", "x", "", "", "", "", "", "", "", "Reviewer C"],
    ]


def _write_csv(path: Path, rows: list[list[str]]) -> Path:
    with open(path, "w", newline="", encoding="utf-8") as fh:
        csv.writer(fh).writerows(rows)
    return path


def test_sheet_round_trips_into_cmocs_with_anchored_excerpts(demo_path, tmp_path):
    with Session.open(demo_path, coder="Ana") as session:
        sheet = _write_csv(tmp_path / "cmocs.csv", _rows(session))
        codes_before = session.store.count("code")
        summary = import_cmoc_sheet(session, sheet)
        studies = _studies(session)

        assert summary.cmocs_added == 3 and summary.excerpts_added == 2
        assert summary.by_coder == {"Reviewer C": 2, "Reviewer D": 1}
        assert summary.codes_created == ["Brand-new code"]
        assert [(p.row, p.study) for p in summary.unmatched_rows] == [(5, "Nobody 1999")]
        assert [p.row for p in summary.quotes_not_found] == [4]
        assert session.store.count("code") == codes_before + 1
        (new_code,) = [c for c in session.store.list("code") if c.name == "Brand-new code"]
        assert new_code.kind == "other"

        odessa, odessa_doc = studies["Odessa 2017"]
        (cmoc,) = session.store.list("cmoc", study_id=odessa.id, owner_id=coder_id("Reviewer C"))
        assert cmoc.context == "Fear of police registration"
        assert cmoc.status == "draft"
        (excerpt_id,) = cmoc.excerpt_ids
        excerpt = session.store.get("excerpt", excerpt_id)
        assert excerpt.quote == odessa_doc.text[excerpt.start:excerpt.end]
        assert excerpt.quote.startswith("He has been where I am")
        assert excerpt.page == 2 == odessa_doc.page_at(excerpt.start)
        assert excerpt.owner_id == coder_id("Reviewer C")
        code_names = {session.store.get("code", c).name for c in cmoc.code_ids}
        assert code_names == {"Trust", "Brand-new code"}

        kunming, kunming_doc = studies["Kunming 2016"]
        (cn,) = session.store.list("cmoc", study_id=kunming.id, owner_id=coder_id("Reviewer D"))
        cn_excerpt = session.store.get("excerpt", cn.excerpt_ids[0])
        assert cn_excerpt.quote == "同伴懂我们的难处"
        assert kunming_doc.text[cn_excerpt.start:cn_excerpt.end] == cn_excerpt.quote
        assert new_code.id in cn.code_ids

        hanoi, _ = studies["Hanoi 2019"]
        (missing,) = session.store.list("cmoc", study_id=hanoi.id, owner_id=coder_id("Reviewer C"))
        assert missing.excerpt_ids == ()
        assert "A sentence that is nowhere in the study" in missing.memo
        assert {c.name for c in session.coders()} >= {"Reviewer C", "Reviewer D"}

        # The same sheet again: every row is already there.
        changes = session.store.change_count()
        again = import_cmoc_sheet(session, sheet)
        assert again.cmocs_added == 0 and len(again.duplicate_rows) == 3
        assert session.store.change_count() == changes


def test_xlsx_through_the_cli_owned_by_the_given_coder(demo_path, tmp_path, capsys):
    import openpyxl

    with Session.open(demo_path) as session:
        rows = _rows(session)
    workbook = openpyxl.Workbook()
    for row in rows:
        workbook.active.append(row[:-1])  # no coder column
    workbook.save(tmp_path / "cmocs.xlsx")
    assert run(["import-cmocs", str(demo_path), str(tmp_path / "cmocs.xlsx"), "--coder",
                "Reviewer E", "--json"]) == 0
    import json

    result = json.loads(capsys.readouterr().out)
    assert result["by_coder"] == {"Reviewer E": 3}
    assert result["unmatched_rows"][0]["study"] == "Nobody 1999"
    with Session.open(demo_path, read_only=True) as session:
        assert session.store.count("cmoc", owner_id=coder_id("Reviewer E")) == 3


def test_rows_that_match_nothing_are_reported_not_guessed(demo_path, tmp_path, capsys):
    sheet = _write_csv(tmp_path / "cmocs.csv", [
        HEADER, ["Odessa", "near miss", "", "", "", "", "", "", "", "Reviewer C"]])
    assert run(["import-cmocs", str(demo_path), str(sheet)]) == 1
    captured = capsys.readouterr()
    assert "No study matches 'Odessa'" in captured.out
    assert "no row matched a study" in captured.err


def test_a_bad_row_leaves_nothing_half_written(demo_path, tmp_path):
    with Session.open(demo_path) as session:
        rows = _rows(session)
        rows[3][-1] = "x" * 100  # a coder name no one could have
        sheet = _write_csv(tmp_path / "cmocs.csv", rows)
        changes = session.store.change_count()
        with pytest.raises(ValidationError, match="longer than 80"):
            import_cmoc_sheet(session, sheet)
        rows[3][-1] = ""  # no coder in the row, none given, none in the session
        sheet = _write_csv(tmp_path / "cmocs.csv", rows)
        with pytest.raises(ValidationError, match="coder"):
            import_cmoc_sheet(session, sheet)
        assert session.store.change_count() == changes


def test_an_empty_sheet_is_refused(demo_path, tmp_path):
    sheet = _write_csv(tmp_path / "cmocs.csv", [HEADER])
    with Session.open(demo_path, coder="Ana") as session:
        with pytest.raises(ImportFailed, match="no CMOC rows"):
            import_cmoc_sheet(session, sheet)
