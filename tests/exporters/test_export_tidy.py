"""Tidy companions: one row per record, one column per variable, machine values in any language."""

from __future__ import annotations

import dataclasses

import pandas as pd

from cmo_desk.domain.records import Cmoc
from cmo_desk.exporters.tidy import COMPANIONS, companion_paths, tidy_frames, write_tidy

from .conftest import ZH_QUOTE, make_snapshot


def read_csv(path):
    return pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")


def test_csv_companions_read_back_with_pandas(tmp_path):
    snap = make_snapshot()
    written = write_tidy(snap, tmp_path / "review.csv")
    assert [p.name for p in written] == [f"review.{n}.csv" for n in COMPANIONS]
    studies, cmocs, links, forms = (read_csv(p) for p in written)

    # Studies: citation fields as columns, agreed or unanimous form values, machine values.
    booth = studies.set_index("study_id").loc["s-booth"]
    assert (booth["first_author"], booth["year"], booth["journal"]) == (
        "Booth RE", "2016", "Drug Alcohol Depend")
    assert booth["rigour"] == "high"            # agreed
    assert booth["countries"] == '["Ukraine", "Crimea"]'  # both coders gave it
    assert booth["relevance"] == ""             # coders differ: see form_values
    assert "s-dup" not in set(studies["study_id"])

    # CMOCs: every coder CMOC (set aside too) and every consensus CMOC, nothing dropped.
    assert set(cmocs["cmoc_id"]) == {c.id for c in snap.cmocs} | {c.id for c in snap.consensus}
    by_id = cmocs.set_index("cmoc_id")
    assert by_id.loc["m-amin-gone", "status"] == "set_aside"
    assert by_id.loc["m-booth-ana", "consensus_ids"] == "x-booth"
    assert by_id.loc["x-booth", "source_cmoc_ids"] == "m-booth-ana m-booth-li"
    assert by_id.loc["m-dup", "study_id"] == "s-booth"
    assert by_id.loc["m-booth-li", "code_ids"] == "k-trust"  # merged code followed

    # One row per CMOC and excerpt: quote and page side by side, in text order.
    booth_links = links[links["cmoc_id"] == "m-booth-ana"]
    assert list(booth_links["excerpt_id"]) == ["e1", "e2"]
    assert list(booth_links["page"]) == ["4", "3"]
    assert list(booth_links["position"]) == ["1", "2"]
    zhang = links[links["cmoc_id"] == "m-zhang-li"].iloc[0]
    assert (zhang["quote"], zhang["page"]) == (ZH_QUOTE, "7")
    assert len(links) == sum(len(c.excerpt_ids) for c in (*snap.cmocs, *snap.consensus))

    # Form values: one row per coder, key and item; the agreed value is marked.
    relevance = forms[forms["key"] == "relevance"].set_index("initials")["value"].to_dict()
    assert relevance == {"AP": "high", "LW": "moderate"}
    assert forms[forms["key"] == "rigour"]["agreed"].tolist() == ["true"]
    countries = forms[(forms["key"] == "countries") & (forms["initials"] == "AP")]
    assert countries["value"].tolist() == ["Ukraine", "Crimea"]
    assert countries["item"].tolist() == ["1", "2"]


def test_companions_are_the_same_in_chinese_and_numbers_are_numbers():
    frames = tidy_frames(make_snapshot())
    assert str(frames["studies"]["year"].dtype) == "Int64"
    assert str(frames["cmoc_excerpts"]["page"].dtype) == "Int64"
    assert list(frames["cmocs"].columns) == list(COMPANIONS["cmocs"])


def test_xlsx_companion_is_one_workbook_with_text_that_never_runs(tmp_path):
    base = make_snapshot()
    evil = Cmoc("m-evil", study_id="s-amin", owner_id="c-ana", context="=HYPERLINK(\"x\",\"y\")")
    snap = dataclasses.replace(base, cmocs=base.cmocs + (evil,))
    (book,) = write_tidy(snap, tmp_path / "review.xlsx")
    assert book == companion_paths(tmp_path / "review.xlsx")["workbook"]
    sheets = pd.read_excel(book, sheet_name=None, dtype=str, keep_default_na=False)
    assert list(sheets) == list(COMPANIONS)
    cmocs = sheets["cmocs"].set_index("cmoc_id")
    assert cmocs.loc["m-evil", "context"] == '=HYPERLINK("x","y")'
    from openpyxl import load_workbook

    cell = next(c for row in load_workbook(book)["cmocs"].iter_rows() for c in row
                if c.value == '=HYPERLINK("x","y")')
    assert cell.data_type == "s"
    csv_dir = tmp_path / "csv"
    csv_dir.mkdir()
    cmocs_csv = read_csv(write_tidy(snap, csv_dir / "r.csv")[1]).set_index("cmoc_id")
    assert cmocs_csv.loc["m-evil", "context"] == "'=HYPERLINK(\"x\",\"y\")"
