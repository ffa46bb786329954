"""export --table theories | matrix | ledger, from the demo's synthesis."""

from __future__ import annotations

import csv
import json
import zipfile
from pathlib import Path

import pytest
from defusedxml import ElementTree

from cmo_desk.cli.main import run
from cmo_desk.domain.synthesis import Synthesis, TheoryEvidence
from cmo_desk.domain.records import ReviewCmoc, Theory
from cmo_desk.domain.synthesis import ReviewCmocEvidence
from cmo_desk.exporters.diagram import layout, to_svg, wrap


def docx_text(path: Path) -> str:
    from docx import Document

    doc = Document(str(path))
    parts = [p.text for p in doc.paragraphs]
    for t in doc.tables:
        for row in t.rows:
            parts += [c.text for c in row.cells]
    return "\n".join(parts)


def test_info_json_counts_review_cmocs_and_versions(demo_path, capsys) -> None:
    capsys.readouterr()
    assert run(["info", str(demo_path), "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["review_cmocs"] == 3 and info["theory_versions"] == 2


def test_theories_table_has_counts_confidence_quotes_history_and_diagram(demo_path, tmp_path,
                                                                        capsys) -> None:
    out = tmp_path / "theories.docx"
    assert run(["export", str(demo_path), "-o", str(out), "--table", "theories", "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["review_cmocs"] == 3 and summary["versions"] == 2
    text = docx_text(out)
    assert "PT1 Trust (v2)" in text
    # PT1-C1: Odessa (two coders + consensus) and Kunming support it, Nairobi refines it
    assert "2: Kunming 2016; Odessa 2017" in text
    assert "1: Nairobi 2021" in text
    assert "Moderate" in text and "rigour: moderate concerns" in text
    assert "no design had a comparison group" in text
    assert "“all with their own history of injecting” (Odessa 2017, p. 1)" in text
    assert "“police stop people" not in text  # a context quote is not the illustration
    assert "Initial programme theory" in text and "PT1-C3" in text
    with zipfile.ZipFile(out) as z:
        images = [n for n in z.namelist() if n.startswith("word/media/")]
    assert len(images) == 2  # one diagram per programme theory


def test_theories_table_in_chinese(demo_path, tmp_path, capsys) -> None:
    out = tmp_path / "theories.docx"
    assert run(["export", str(demo_path), "-o", str(out), "--table", "theories",
                "--lang", "zh_CN"]) == 0
    text = docx_text(out)
    assert "支持的研究" in text and "版本历史" in text and "可信度及依据" in text
    assert "严谨性：中等顾虑" in text or "严谨性: 中等顾虑" in text
    # quotes and the team's own wording keep their language
    assert "all with their own history of injecting" in text and "同伴懂我们的难处" in text


def test_diagram_svg_is_deterministic_and_escapes_text(demo_path, tmp_path, capsys) -> None:
    a, b = tmp_path / "a.svg", tmp_path / "b.svg"
    assert run(["export", str(demo_path), "-o", str(a), "--table", "theories"]) == 0
    assert run(["export", str(demo_path), "-o", str(b), "--table", "theories"]) == 0
    assert a.read_bytes() == b.read_bytes()
    root = ElementTree.fromstring(a.read_bytes())
    texts = [t.text for t in root.iter("{http://www.w3.org/2000/svg}text")]
    assert "PT1-C3" in texts and "Context" in texts
    png = tmp_path / "d.png"
    assert run(["export", str(demo_path), "-o", str(png), "--table", "theories"]) == 0
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_diagram_wraps_chinese_and_escapes_markup() -> None:
    assert all(sum(2 if ord(c) > 0x2e80 else 1 for c in line) <= 32
               for line in wrap("如果服药者害怕被登记和监视，那么同伴支持小组会提高治疗保持率，因为同伴理解他们的难处。"))
    r = ReviewCmoc(id="r", label="PT1-C1", context="<b>&\x00", outcome="x")
    lay = layout(TheoryEvidence(Theory(id="t", label="PT1"), (ReviewCmocEvidence(r),)))
    svg = to_svg(lay)
    ElementTree.fromstring(svg.encode())
    assert "&lt;b&gt;&amp;" in svg


def test_matrix_marks_each_linked_cell_and_lists_every_study(demo_path, tmp_path,
                                                            capsys) -> None:
    out = tmp_path / "m.csv"
    assert run(["export", str(demo_path), "-o", str(out), "--table", "matrix"]) == 0
    with open(out, encoding="utf-8-sig") as fh:
        rows = list(csv.reader(fh))
    assert rows[0] == ["Study", "PT1-C1", "PT1-C2", "PT1-C3"]
    by = {r[0]: r[1:] for r in rows[1:]}
    assert by["Odessa 2017"] == ["supports", "refines", "supports"]
    assert by["Nairobi 2021"] == ["refines", "", ""]
    assert by["Tbilisi 2018"] == ["", "", ""]  # an unlinked study still has its row
    for name in ("m.xlsx", "m.docx"):
        assert run(["export", str(demo_path), "-o", str(tmp_path / name),
                    "--table", "matrix"]) == 0
    from openpyxl import load_workbook

    ws = load_workbook(tmp_path / "m.xlsx").active
    assert [c.value for c in ws[1]] == ["Study", "PT1-C1", "PT1-C2", "PT1-C3"]


def test_ledger_lists_every_version_with_reason_and_author(demo_path, tmp_path, capsys) -> None:
    out = tmp_path / "l.csv"
    assert run(["export", str(demo_path), "-o", str(out), "--table", "ledger"]) == 0
    with open(out, encoding="utf-8-sig") as fh:
        rows = list(csv.DictReader(fh))
    assert [(r["Version"], r["Review CMOCs added"], r["Changed"]) for r in rows] == [
        ("v1", "PT1-C1, PT1-C2", "—"), ("v2", "PT1-C3", "PT1-C1")]
    assert all(r["By"] == "Lan Nguyen" and r["Why"] for r in rows)
    assert run(["export", str(demo_path), "-o", str(tmp_path / "l.docx"),
                "--table", "ledger"]) == 0
    assert "Odessa and Hanoi" in docx_text(tmp_path / "l.docx")


@pytest.mark.parametrize("table, name", [("ledger", "l.xlsx"), ("matrix", "m.png"),
                                         ("theories", "t.csv")])
def test_wrong_file_type_is_one_line_and_writes_nothing(demo_path, tmp_path, capsys,
                                                        table, name) -> None:
    capsys.readouterr()
    assert run(["export", str(demo_path), "-o", str(tmp_path / name), "--table", table]) != 0
    err = capsys.readouterr().err
    assert "can be written as" in err and "Traceback" not in err and err.count("\n") == 1
    assert list(tmp_path.iterdir()) == [demo_path] or not (tmp_path / name).exists()


def test_empty_synthesis_still_exports(tmp_path, capsys) -> None:
    from cmo_desk.services.session import Session

    path = tmp_path / "empty.cmo"
    Session.create(path, coder="Lan").close()
    for table, name in (("theories", "t.docx"), ("matrix", "m.csv"), ("ledger", "l.docx"),
                        ("theories", "t.png")):
        assert run(["export", str(path), "-o", str(tmp_path / name), "--table", table]) == 0
    assert "No programme theories yet." in docx_text(tmp_path / "t.docx")
    assert Synthesis("x").review_cmocs == []


def test_evidence_by_programme_theory_places_the_study_cmocs_behind_its_review_cmocs(
        demo_path, tmp_path, capsys) -> None:
    from docx import Document

    out = tmp_path / "evidence.docx"
    assert run(["export", str(demo_path), "-o", str(out), "--group-by", "theory",
                "--records", "all"]) == 0
    capsys.readouterr()
    doc = Document(str(out))
    # the heading before each table names its group
    groups: dict[str, list[tuple[str, str, str]]] = {}
    headings = [p.text for p in doc.paragraphs if p.text.startswith(("PT1", "PT2", "No "))]
    for heading, table in zip(headings, doc.tables, strict=True):
        head = [c.text for c in table.rows[0].cells]
        study, relation, who = (head.index(h) for h in ("Study", "Relation to theory",
                                                       "Coder or consensus"))
        groups[heading.split(":")[0]] = [
            (row.cells[study].text, row.cells[relation].text, row.cells[who].text)
            for row in table.rows[1:]]
    pt1 = groups["PT1 Trust (v2)"]
    # Hanoi's two CMOCs support PT1-C2 in the synthesis: they are evidence for PT1
    assert ("Hanoi 2019", "Supports PT1-C2", "Lan Nguyen") in [
        (s, r, w.split(" (")[0]) for s, r, w in pt1]
    assert "Kunming 2016" in {s for s, _, _ in pt1}
    assert not any(s in ("Hanoi 2019", "Kunming 2016")
                   for s, _, _ in groups.get("No programme theory", []))
