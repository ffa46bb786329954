"""`cmo-desk export` on the demo project: what a reader of the Word file or an analyst with pandas sees."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import docx
import pandas as pd
import pytest
from docx.enum.section import WD_ORIENT
from docx.oxml.ns import qn

from cmo_desk.domain.errors import Cancelled
from cmo_desk.domain.i18n import tr
from cmo_desk.exporters.tables import EVIDENCE_DATA_KEYS, EXCERPT_DATA_KEYS, ExportOptions
from cmo_desk.services import coding
from cmo_desk.services.exporting import export_project, preview_table
from cmo_desk.services.session import Session

KUNMING_STATEMENT = "如果服药者害怕被登记和监视，那么同伴支持小组会提高治疗保持率，因为同伴理解他们的难处。"
KUNMING_QUOTE = "同伴懂我们的难处，他不会看不起我。"


def expected_rows(project: Path) -> dict[str, list[str]]:
    """Study label -> statements of the CMOCs the default table shows: consensus CMOCs and every
    coder CMOC no consensus CMOC was built from."""
    with Session.open(project, read_only=True) as session:
        snap = session.store.snapshot()
    covered = {source for c in snap.consensus for source in c.source_ids}
    out: dict[str, list[str]] = {}
    for study in snap.studies:
        agreed = [c.statement for c in snap.consensus if c.study_id == study.id]
        own = [c.statement for c in snap.cmocs if c.study_id == study.id
               and c.status != "set_aside" and c.id not in covered]
        out[study.label] = agreed + own
    return out


def written(folder: Path) -> list[str]:
    """Files in the folder besides the project (and its SQLite companions)."""
    return sorted(p.name for p in folder.iterdir() if not p.name.startswith("demo.cmo"))


def data_rows(document) -> list:
    return [row for table in document.tables for row in table.rows[1:]]


def headings(document) -> list[str]:
    return [p.text for p in document.paragraphs if p.style.name == "Heading 2"]


def cell_texts(document) -> list[str]:
    return [cell.text for row in data_rows(document) for cell in row.cells]


def test_evidence_table_in_word_reads_like_a_published_table(cli, demo_path, tmp_path):
    out = tmp_path / "evidence.docx"
    code, stdout, stderr = cli("export", demo_path, "-o", out)
    assert code == 0, stderr
    expected = expected_rows(demo_path)
    total = sum(len(v) for v in expected.values())
    first, note = stdout.strip().split("\n")
    assert first == f"Wrote {out}: {total} CMOCs in {len(expected)} groups (by study)."
    assert note.strip() == (
        "This table shows 1 consensus CMOCs, 0 coders' CMOCs a consensus was built from and "
        f"{total - 1} coders' CMOCs not reconciled; 0 CMOCs set aside are left out.")

    document = docx.Document(str(out))
    assert all(s.orientation == WD_ORIENT.LANDSCAPE for s in document.sections)
    assert document.sections[0].page_width > document.sections[0].page_height
    for table in document.tables:
        first = table.rows[0]._tr
        assert first.trPr is not None and first.trPr.find(qn("w:tblHeader")) is not None
        assert [c.text for c in table.rows[0].cells][:3] == ["Study", "Context", "Mechanism: resource"]
    rows = data_rows(document)
    assert len(rows) == total
    # One heading per study, each followed by that study's CMOCs (consensus for Odessa).
    shown = headings(document)
    for label, statements in expected.items():
        assert any(label in h for h in shown), label
        for statement in statements:
            assert sum(statement in t for t in cell_texts(document)) == 1, statement
    # Odessa: the consensus CMOC, and the CMOC no consensus covers, marked as not reconciled.
    odessa = [r for r in rows if "Odessa" in r.cells[0].text]
    assert len(odessa) == 2 and "Consensus" in odessa[0].cells[-1].text
    assert "If policing targets people carrying syringes" in odessa[1].cells[5].text
    assert odessa[1].cells[-1].text.endswith("(not reconciled)")
    texts = "\n".join(cell_texts(document))
    # Quotes carry their page: the demo documents have pages.
    assert re.search(r"“[^”]+” \(p\. \d+\)", texts)
    assert KUNMING_STATEMENT in texts
    assert f"“{KUNMING_QUOTE}”" in texts


def test_chinese_table_has_chinese_headings_and_columns(cli, demo_path, tmp_path):
    out = tmp_path / "证据表.docx"
    code, stdout, stderr = cli("export", demo_path, "-o", out, "--lang", "zh_CN")
    assert code == 0, stderr
    assert stdout.startswith(f"已写入 {out}")
    document = docx.Document(str(out))
    header = [c.text for c in document.tables[0].rows[0].cells]
    for english in ("Study", "Context", "Mechanism: resource", "Outcome", "Supporting quotes"):
        assert tr(english, "zh_CN") != english
        assert tr(english, "zh_CN") in header
    body = "\n".join(p.text for p in document.paragraphs)
    assert tr("CMOC evidence table", "zh_CN") in body
    assert tr("References: included studies", "zh_CN") in body
    assert KUNMING_STATEMENT in "\n".join(cell_texts(document))


def test_grouping_by_code_lists_a_cmoc_under_each_of_its_codes(cli, demo_path, tmp_path):
    out = tmp_path / "by-code.docx"
    code, stdout, _ = cli("export", demo_path, "-o", out, "--group-by", "code", "--records", "coders")
    assert code == 0
    with Session.open(demo_path, read_only=True) as session:
        snap = session.store.snapshot()
    names = {c.id: c.name for c in snap.codes}
    kunming = next(c for c in snap.cmocs if c.statement == KUNMING_STATEMENT)
    document = docx.Document(str(out))
    shown = headings(document)
    for code_id in kunming.code_ids:
        assert any(names[code_id] in h for h in shown), names[code_id]
    assert sum(KUNMING_STATEMENT in t for t in cell_texts(document)) == len(kunming.code_ids)
    assert "(by code)" in stdout


def test_study_characteristics_follow_the_form_template(cli, demo_path, tmp_path):
    out = tmp_path / "studies.docx"
    assert cli("export", demo_path, "-o", out, "--table", "studies")[0] == 0
    document = docx.Document(str(out))
    header = [c.text for c in document.tables[0].rows[0].cells]
    with Session.open(demo_path, read_only=True) as session:
        template = session.template()
    labels = [
        f["label"] for section in template["sections"] for f in section["fields"]
        if f.get("in_table", True) is not False and not f["key"].endswith("_justification")
    ]
    assert len(labels) >= 6
    assert header == ["Study", "Citation", *labels]
    assert len(data_rows(document)) == 5
    assert "Characteristics of included studies" in "\n".join(p.text for p in document.paragraphs)

    # Another template gives other columns.
    template = {
        "id": "mini", "title": "Mini form",
        "sections": [
            {"key": "funding", "title": "Funding", "fields": [
                {"key": "funder", "label": "Funder", "type": "text"},
                {"key": "budget_note", "label": "Budget note", "type": "text", "in_table": False},
            ]},
        ],
    }
    tpl = tmp_path / "mini.json"
    tpl.write_text(json.dumps(template), encoding="utf-8")
    project = tmp_path / "mini.cmo"
    assert cli("new", project, "--template", tpl, "--coder", "Ana Diaz")[0] == 0
    with Session.open(project, coder="Ana Diaz") as session:
        sid, _ = coding.add_study(session, {"label": "Lima 2020"})
        coding.set_form_value(session, sid, "funder", "Ministry of Health")
    out2 = tmp_path / "mini.docx"
    assert cli("export", project, "-o", out2, "--table", "studies")[0] == 0
    document = docx.Document(str(out2))
    assert [c.text for c in document.tables[0].rows[0].cells] == ["Study", "Citation", "Funder"]
    assert data_rows(document)[0].cells[2].text == "Ministry of Health"


def test_spreadsheets_have_one_tidy_row_per_cmoc(cli, demo_path, tmp_path):
    expected = expected_rows(demo_path)
    total = sum(len(v) for v in expected.values())
    xlsx, csv = tmp_path / "evidence.xlsx", tmp_path / "evidence.csv"
    assert cli("export", demo_path, "-o", xlsx)[0] == 0
    assert cli("export", demo_path, "-o", csv, "--lang", "zh_CN")[0] == 0
    from_xlsx = pd.read_excel(xlsx, dtype=str, keep_default_na=False)
    from_csv = pd.read_csv(csv, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    # Column names are the same whatever the table language, so scripts keep working.
    for frame in (from_xlsx, from_csv):
        assert list(frame.columns) == list(EVIDENCE_DATA_KEYS)
        assert len(frame) == total
        assert frame["cmoc_id"].is_unique
        assert sorted(frame["statement"]) == sorted(s for v in expected.values() for s in v)
        assert KUNMING_STATEMENT in set(frame["statement"])
    assert set(from_xlsx["record_type"]) == {"consensus", "coder"}

    excerpts = tmp_path / "excerpts.csv"
    assert cli("export", demo_path, "-o", excerpts, "--table", "excerpts")[0] == 0
    frame = pd.read_csv(excerpts, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    assert list(frame.columns) == list(EXCERPT_DATA_KEYS)
    with Session.open(demo_path, read_only=True) as session:
        assert len(frame) == session.store.count("excerpt")
    assert KUNMING_QUOTE in set(frame["quote"])


@pytest.mark.parametrize("name", ["evidence.pdf", "evidence", "evidence.doc", "evidence.qdpx.bak"])
def test_an_unknown_extension_is_one_line_naming_the_formats(cli, demo_path, tmp_path, name):
    code, stdout, stderr = cli("export", demo_path, "-o", tmp_path / name)
    assert code != 0 and stdout == ""
    assert len(stderr.strip().splitlines()) == 1
    for fmt in (".docx", ".xlsx", ".csv", ".qdpx", ".qdc"):
        assert fmt in stderr
    assert "Traceback" not in stderr
    assert written(tmp_path) == []


def test_a_missing_folder_is_one_line_and_writes_nothing(cli, demo_path, tmp_path):
    code, _, stderr = cli("export", demo_path, "-o", tmp_path / "no" / "such" / "evidence.docx")
    assert code != 0 and len(stderr.strip().splitlines()) == 1
    assert "folder does not exist" in stderr
    (tmp_path / "tables.docx").mkdir()
    code, _, stderr = cli("export", demo_path, "-o", tmp_path / "tables.docx")
    assert code != 0 and "is a folder" in stderr
    assert list((tmp_path / "tables.docx").iterdir()) == []
    assert written(tmp_path) == ["tables.docx"]


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0,
                    reason="needs a folder the user cannot write to (root writes anywhere)")
@pytest.mark.parametrize("name", ["evidence.docx", "evidence.xlsx", "evidence.csv", "p.qdpx", "p.qdc"])
def test_a_read_only_folder_is_one_line(cli, demo_path, tmp_path, name):
    folder = tmp_path / "locked"
    folder.mkdir()
    folder.chmod(0o500)
    try:
        code, _, stderr = cli("export", demo_path, "-o", folder / name)
    finally:
        folder.chmod(0o700)
    assert code != 0 and len(stderr.strip().splitlines()) == 1
    assert list(folder.iterdir()) == []


@pytest.mark.parametrize("name", ["evidence.docx", "evidence.xlsx", "evidence.csv", "p.qdpx", "p.qdc"])
def test_a_failed_write_keeps_the_earlier_file_and_leaves_no_partial_file(
    cli, demo_path, tmp_path, monkeypatch, name
):
    target = tmp_path / name
    target.write_bytes(b"earlier export")

    def refuse(*_args, **_kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(os, "replace", refuse)
    code, _, stderr = cli("export", demo_path, "-o", target)
    assert code != 0 and len(stderr.strip().splitlines()) == 1
    assert "Permission denied" in stderr
    assert target.read_bytes() == b"earlier export"
    assert written(tmp_path) == [name]


def test_preview_shows_columns_and_groups_without_writing(demo_path, tmp_path):
    with Session.open(demo_path, read_only=True) as session:
        table = preview_table(session, ExportOptions(group_by="theory", lang="zh_CN"))
    assert tr("Relation to theory", "zh_CN") in [c.heading for c in table.columns]
    assert any("PT1 Trust" in g.heading for g in table.groups)
    assert written(tmp_path) == []


def test_a_cancelled_export_writes_nothing_and_progress_is_reported(demo_path, tmp_path):
    seen: list[tuple[int, int]] = []
    with Session.open(demo_path, read_only=True) as session:
        with pytest.raises(Cancelled):
            export_project(session, tmp_path / "e.docx", cancel=lambda: True)
        result = export_project(session, tmp_path / "e.docx", progress=lambda d, t: seen.append((d, t)))
    assert written(tmp_path) == ["e.docx"]
    assert seen and seen[-1] == (result.table_rows, result.table_rows)
    assert result.to_dict()["rows"] == result.rows == 8


def test_tables_are_built_without_the_documents_full_texts(demo_path, tmp_path, monkeypatch):
    """Full texts are most of a project's size; tables need only page boundaries."""
    import dataclasses

    from cmo_desk.store.project_store import ProjectStore

    asked: list[bool] = []
    original = ProjectStore.snapshot

    def spy(self, *, document_text=True):
        asked.append(document_text)
        return original(self, document_text=document_text)

    monkeypatch.setattr(ProjectStore, "snapshot", spy)
    with Session.open(demo_path, read_only=True) as session:
        full, lean = original(session.store), original(session.store, document_text=False)
        assert [dataclasses.replace(d, text=None) for d in full.documents] == list(lean.documents)
        assert all(d.page_starts for d in lean.documents)
        export_project(session, tmp_path / "t.csv")
        export_project(session, tmp_path / "t.qdpx")
    assert asked == [False, True]
    # Pages still come out right without the texts.
    frame = pd.read_csv(tmp_path / "t.csv", dtype=str, keep_default_na=False, encoding="utf-8-sig")
    assert {p for cell in frame["pages"] for p in cell.split("; ")} - {"1", "–", ""}


@pytest.mark.parametrize("out, extra, option", [
    ("s.docx", ("--table", "studies", "--group-by", "code"), "--group-by"),
    ("s.csv", ("--table", "excerpts", "--records", "all"), "--records"),
    ("p.qdpx", ("--table", "evidence"), "--table"),
    ("e.docx", ("--tidy",), "--tidy"),
    ("e.csv", ("--empty", "NR"), "--empty"),
    ("s.docx", ("--table", "studies", "--columns", "actor"), "--columns"),
])
def test_options_that_do_not_apply_are_refused(cli, demo_path, tmp_path, out, extra, option):
    code, stdout, stderr = cli("export", demo_path, "-o", tmp_path / out, *extra)
    assert code == 2
    assert stderr.startswith(f"cmo-desk: {option} does not apply here:")
    assert stderr.count("\n") == 1 and "Traceback" not in stderr
    assert written(tmp_path) == []


def test_tidy_companions_beside_the_csv(cli, demo_path, tmp_path):
    out = tmp_path / "evidence.csv"
    code, stdout, stderr = cli("export", demo_path, "-o", out, "--tidy", "--lang", "zh_CN")
    assert code == 0, stderr
    assert written(tmp_path) == sorted(["evidence.csv", "evidence.studies.csv", "evidence.cmocs.csv",
                                        "evidence.cmoc_excerpts.csv", "evidence.form_values.csv"])
    cmocs = pd.read_csv(tmp_path / "evidence.cmocs.csv", dtype=str, keep_default_na=False,
                        encoding="utf-8-sig")
    with Session.open(demo_path, read_only=True) as session:
        snap = session.store.snapshot()
    assert sorted(cmocs["statement"]) == sorted(
        c.statement or "" for c in (*snap.cmocs, *snap.consensus))
    # Machine values whatever the language: statuses as stored, not translated.
    assert set(cmocs["status"]) <= {"draft", "submitted", "reconciled", "set_aside", ""}


def test_word_choices_from_the_command_line(cli, demo_path, tmp_path):
    out = tmp_path / "e.docx"
    code, _, stderr = cli("export", demo_path, "-o", out, "--columns", "intervention,theories",
                          "--empty", "dash", "--caption", "Table S2")
    assert code == 0, stderr
    document = docx.Document(str(out))
    assert document.paragraphs[0].text == "Table S2. CMOC evidence table"
    header = [c.text for c in document.tables[0].rows[0].cells]
    assert "Intervention" in header and "Programme theories" in header
    code, _, stderr = cli("export", demo_path, "-o", out, "--columns", "colour")
    assert code == 2 and "colour" in stderr and "intervention, actor, codes, theories" in stderr
