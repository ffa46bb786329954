"""Spreadsheets read back with pandas: tidy rows, stable column names, text intact."""

import pandas as pd

from cmo_desk.exporters import write_table
from cmo_desk.exporters.tables import ExportOptions, build_table
from cmo_desk.exporters.spreadsheet import EXCEL_CELL_LIMIT

from .conftest import AR_QUOTE, DIRTY_CLEAN, ZH_QUOTE, make_snapshot

ID_COLUMNS = ["group", "record_type", "cmoc_id", "study_id", "study_label", "coder"]


def read(path):
    if path.suffix == ".csv":
        return pd.read_csv(path, dtype=str, keep_default_na=False)
    return pd.read_excel(path, dtype=str, keep_default_na=False)


def test_evidence_rows_are_tidy_in_both_formats(tmp_path):
    table = build_table(make_snapshot(), ExportOptions(records="all", lang="zh_CN"))
    for name in ("cmocs.csv", "cmocs.xlsx"):
        frame = read(write_table(table, tmp_path / name))
        # Column names stay English snake_case whatever the language of the headings.
        assert list(frame.columns[:6]) == ID_COLUMNS
        assert {"context", "mechanism_resource", "mechanism_reasoning", "outcome",
                "outcome_direction", "statement", "quotes", "pages", "appraisal"} <= set(frame)
        assert len(frame) == 6 and frame["cmoc_id"].is_unique
        by_id = frame.set_index("cmoc_id")
        assert by_id.loc["x-booth", "record_type"] == "consensus"
        assert by_id.loc["m-booth-li", "coder"] == "Li Wei"
        assert by_id.loc["m-zhang-li", "quotes"].startswith(f"“{ZH_QUOTE}”")
        assert by_id.loc["m-amin-ana", "context"] == AR_QUOTE
        assert by_id.loc["m-amin-ana", "outcome"] == DIRTY_CLEAN
        assert by_id.loc["m-amin-ana", "outcome_direction"] == "-"
        assert by_id.loc["x-booth", "pages"] == "4; 3"


def test_csv_has_a_byte_order_mark_for_excel(tmp_path):
    path = write_table(build_table(make_snapshot()), tmp_path / "c.csv")
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbfgroup,record_type,cmoc_id")
    assert "同伴教育者".encode() in raw


def test_excerpts_and_studies_tables(tmp_path):
    excerpts = read(write_table(build_table(make_snapshot(), ExportOptions(table="excerpts")),
                                tmp_path / "e.xlsx"))
    assert len(excerpts) == 5
    assert list(excerpts.columns[:4]) == ["group", "excerpt_id", "study_id", "study_label"]
    assert excerpts.set_index("excerpt_id").loc["e2", "page"] == "3"
    studies = read(write_table(build_table(make_snapshot(), ExportOptions(table="studies")),
                               tmp_path / "s.csv"))
    assert list(studies["study_label"]) == ["Amin 2020", "Booth 2016", "张 2019"]
    assert "countries" in studies.columns


def test_text_that_looks_like_a_formula_stays_text(tmp_path):
    from dataclasses import replace

    snap = make_snapshot()
    cmocs = (replace(snap.cmocs[0], context="=SUM(A1:A9)", status="submitted"),)
    snap = replace(snap, cmocs=cmocs, consensus=())
    frame = read(write_table(build_table(snap), tmp_path / "f.xlsx"))
    assert frame.loc[0, "context"] == "=SUM(A1:A9)"


def test_text_longer_than_an_excel_cell_is_cut_and_marked(tmp_path):
    from dataclasses import replace

    snap = make_snapshot()
    long_text = "peer " * 10_000
    snap = replace(snap, cmocs=(replace(snap.cmocs[0], context=long_text),), consensus=())
    frame = read(write_table(build_table(snap), tmp_path / "l.xlsx"))
    cell = frame.loc[0, "context"]
    assert len(cell) == EXCEL_CELL_LIMIT and cell.endswith("[…]")
    csv_frame = read(write_table(build_table(snap), tmp_path / "l.csv"))
    assert csv_frame.loc[0, "context"] == long_text.strip()


FORMULAS = [
    '=HYPERLINK("http://example.org/x","Click for the full text")',
    "+cmd|' /C calc'!A0",
    "-2+3+cmd|' /C notepad'!A0",
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "\t=1+1",
    "=1+1",
]


def test_csv_cells_that_would_run_as_formulas_are_written_as_text(tmp_path):
    import csv
    import dataclasses

    from cmo_desk.domain.records import Cmoc, Study

    base = make_snapshot()
    cmocs = tuple(
        Cmoc(f"m-f{i}", study_id="s-amin", owner_id="c-ana", status="submitted",
             context=formula, outcome="-2.5", outcome_direction="-", statement="- peers said so")
        for i, formula in enumerate(FORMULAS)
    )
    study = dataclasses.replace(base.studies[2], label="=1+2 Amin")
    assert isinstance(study, Study)
    snap = dataclasses.replace(base, cmocs=base.cmocs + cmocs,
                               studies=(base.studies[0], base.studies[1], study, base.studies[3]))
    path = write_table(build_table(snap, ExportOptions(records="coders")), tmp_path / "f.csv")
    with open(path, encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.DictReader(fh))
    by_id = {r["cmoc_id"]: r for r in rows}
    for i, formula in enumerate(FORMULAS):
        row = by_id[f"m-f{i}"]
        # Shown as typed, behind the apostrophe that tells a spreadsheet "this is text".
        assert row["context"] == "'" + formula.strip()  # cells are stripped of outer spaces
        assert row["statement"] == "'- peers said so"
        # Numbers and the direction sign are data, not formulas: left as they are.
        assert row["outcome"] == "-2.5"
        assert row["outcome_direction"] == "-"
        assert row["study_label"] == "'=1+2 Amin"
    for row in rows:
        for value in row.values():
            assert not value.startswith(("=", "@", "\t")), value
            assert not value.startswith(("+", "-")) or value in ("+", "-", "-2.5"), value


def test_csv_safe_keeps_plain_text_and_numbers():
    from cmo_desk.exporters.textclean import csv_safe

    assert csv_safe("Peers were trusted") == "Peers were trusted"
    assert csv_safe("-12") == "-12" and csv_safe("+3.5e2") == "+3.5e2"
    assert csv_safe("=A1") == "'=A1"
    assert csv_safe("-A1") == "'-A1"
    assert csv_safe(None) == ""


def test_agreement_csv_writes_formula_like_names_as_text(tmp_path):
    import csv

    from cmo_desk.domain.records import Assignment, Code, Coder, Excerpt, Project, Study
    from cmo_desk.domain.snapshot import ProjectSnapshot
    from cmo_desk.exporters.agreement_report import write_agreement
    from cmo_desk.agreement.agreement import study_code_agreement

    snap = ProjectSnapshot(
        project=Project("p"),
        coders=(Coder("a", name="=cmd|' /C calc'!A0"), Coder("b", name="Bo")),
        studies=(Study("s1", label="@SUM(1+1)"), Study("s2", label="Chang 2021")),
        codes=(Code("k1", name="+Trust"),),
        excerpts=(Excerpt("e1", study_id="s1", owner_id="a", code_ids=("k1",)),
                  Excerpt("e2", study_id="s1", owner_id="b", code_ids=("k1",)),
                  Excerpt("e3", study_id="s2", owner_id="a", code_ids=("k1",))),
        assignments=(Assignment("as1", study_id="s1", coder_id="a", status="submitted"),
                     Assignment("as2", study_id="s1", coder_id="b", status="submitted"),
                     Assignment("as3", study_id="s2", coder_id="a", status="submitted"),
                     Assignment("as4", study_id="s2", coder_id="b", status="submitted")),
    )
    out = write_agreement(study_code_agreement(snap), tmp_path / "agreement.csv")
    with open(out, encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert rows
    cells = [v for r in rows for v in r.values() if v]
    assert "'=cmd|' /C calc'!A0" in cells and "'+Trust" in cells
    assert not [v for v in cells if v.startswith(("=", "@")) or v.startswith("+T")]
