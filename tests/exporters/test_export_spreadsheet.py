"""Spreadsheets read back with pandas: tidy rows, stable column names, text intact."""

import pandas as pd

from cmo_desk.exporters import write_table
from cmo_desk.exporters.evidence import ExportOptions, build_table
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
