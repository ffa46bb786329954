"""Read the Word files back with python-docx and check what a reader sees."""

import docx
import pytest
from docx.enum.section import WD_ORIENT
from docx.oxml.ns import qn

from cmo_desk.domain.errors import Cancelled, ValidationError
from cmo_desk.exporters import ExportFailed, write_table
from cmo_desk.exporters.tables import ExportOptions, build_table
from cmo_desk.exporters.word import write_docx

from .conftest import AR_QUOTE, DIRTY_CLEAN, RU_QUOTE, ZH_QUOTE, make_snapshot


def export(tmp_path, name="out.docx", **options):
    path = tmp_path / name
    write_docx(build_table(make_snapshot(), ExportOptions(**options)), path)
    return docx.Document(str(path))


def data_rows(document):
    return [row for table in document.tables for row in table.rows[1:]]


def headings(document, level=2):
    return [p.text for p in document.paragraphs if p.style.name == f"Heading {level}"]


def test_landscape_a4_narrow_margins(tmp_path):
    section = export(tmp_path).sections[0]
    assert section.orientation == WD_ORIENT.LANDSCAPE
    assert section.page_width > section.page_height
    assert round(section.page_width.mm) == 297 and round(section.page_height.mm) == 210
    assert round(section.left_margin.mm, 1) == 12.7


def test_header_row_repeats_and_short_rows_are_kept_whole(tmp_path):
    document = export(tmp_path)
    assert len(document.tables) == 3  # one per study with CMOCs
    for table in document.tables:
        first = table.rows[0]._tr
        assert first.trPr is not None and first.trPr.find(qn("w:tblHeader")) is not None
        assert [c.text for c in table.rows[0].cells][:2] == ["Study", "Context"]
        for row in table.rows[1:]:
            assert row._tr.trPr is None or row._tr.trPr.find(qn("w:tblHeader")) is None
            # These rows are short: each stays on one page.
            assert row._tr.trPr is not None and row._tr.trPr.find(qn("w:cantSplit")) is not None


def test_one_row_per_cmoc_under_study_headings(tmp_path):
    document = export(tmp_path)
    rows = data_rows(document)
    assert len(rows) == 4
    assert [h.split(" — ")[0] for h in headings(document)] == [
        "Amin 2020", "Booth 2016", "张 2019", "References: included studies"]
    assert [r.cells[0].text for r in rows] == ["Amin 2020", "Booth 2016", "Booth 2016", "张 2019"]
    assert [r.cells[-1].text for r in rows] == [
        "Ana Petrova (not reconciled)", "Consensus (agreed)\nfrom AP, LW",
        "Ana Petrova (not reconciled)",
        "Li Wei (not reconciled)"]


def test_grouping_by_code_repeats_a_cmoc_under_each_code(tmp_path):
    document = export(tmp_path, group_by="code", records="all")
    assert headings(document)[:3] == ["Mechanism – reasoning › Trust", "HIV incidence", "Uncoded"]
    assert [len(t.rows) - 1 for t in document.tables] == [3, 1, 3]


def test_quotes_with_pages_and_scripts_intact(tmp_path):
    document = export(tmp_path)
    amin, booth, _dup, zhang = data_rows(document)
    quotes = booth.cells[6].text.split("\n")
    assert quotes == ["“Peers were trusted because they had been there.” (p. 4)",
                      "“Incidence fell in the intervention arm.” (p. 3)"]
    assert zhang.cells[1].text == "社区对吸毒者的歧视"
    assert zhang.cells[6].text == f"“{ZH_QUOTE}” (p. 7)"
    assert amin.cells[1].text == AR_QUOTE
    assert amin.cells[2].text == RU_QUOTE
    # Control characters from a PDF are gone; the vertical tab became a line break.
    assert amin.cells[4].text == DIRTY_CLEAN + " (−) [unintended]"


def test_runs_name_the_east_asian_font_and_arabic_is_right_to_left(tmp_path):
    document = export(tmp_path)
    amin, _booth, _dup, zhang = data_rows(document)
    run = zhang.cells[1].paragraphs[0].runs[0]
    assert run._r.rPr.rFonts.get(qn("w:eastAsia"))
    arabic = amin.cells[1].paragraphs[0]
    assert arabic._p.pPr.find(qn("w:bidi")) is not None
    assert arabic.runs[0]._r.rPr.find(qn("w:rtl")) is not None
    assert amin.cells[2].paragraphs[0]._p.pPr.find(qn("w:bidi")) is None


def test_title_block_and_reference_list(tmp_path):
    document = export(tmp_path)
    texts = [p.text for p in document.paragraphs]
    assert texts[0] == "Table S1. CMOC evidence table"
    assert "Project: Peer involvement in harm reduction" in texts
    assert "Coders: Ana Petrova, Li Wei" in texts
    assert any("Studies: 3" in t and "CMOCs in this table: 4" in t for t in texts)
    references = texts[texts.index("References: included studies") + 1:]
    assert references == [
        "[Amin 2020] Amin N (2020). Peer outreach.",
        "[Booth 2016] Booth RE, Davis JM, Dvoryak S (2016). HIV incidence among people who "
        "inject drugs in Ukraine. Drug Alcohol Depend 162:24-32.",
        "[张 2019] 张伟 (2019). 同伴教育对注射吸毒者美沙酮维持治疗的影响. 中国艾滋病性病.",
    ]


def test_chinese_export_translates_headings(tmp_path):
    document = export(tmp_path, lang="zh_CN", group_by="theory")
    assert document.paragraphs[0].text == "表 S1. CMOC 证据表"
    header = [c.text for c in document.tables[0].rows[0].cells]
    assert header[:3] == ["研究", "情境", "机制：资源"]
    assert "与理论的关系" in header
    assert headings(document)[-2:] == ["无项目理论", "参考文献：纳入的研究"]
    assert "（第4页）" in document.tables[0].rows[1].cells[6].text


def test_study_characteristics_table(tmp_path):
    document = export(tmp_path, table="studies")
    assert len(document.tables) == 1
    table = document.tables[0]
    header = [c.text for c in table.rows[0].cells]
    assert header[:3] == ["Study", "Citation", "Countries"]
    assert len(table.rows) == 4
    booth = table.rows[2].cells
    assert booth[2].text == "Ukraine; Crimea"
    assert table.rows[3].cells[2].text == "中国"


def test_chinese_study_table_names_countries_in_chinese(tmp_path):
    """The desk's study list says 乌克兰; the Word table and the spreadsheets say it too, and a place
    the catalogue does not know is kept as the coder typed it."""
    from cmo_desk.exporters.spreadsheet import write_csv

    table = export(tmp_path, table="studies", lang="zh_CN").tables[0]
    assert table.rows[2].cells[2].text == "乌克兰; Crimea"
    assert table.rows[3].cells[2].text == "中国"
    path = tmp_path / "studies.csv"
    write_csv(build_table(make_snapshot(), ExportOptions(table="studies", lang="zh_CN")), path)
    text = path.read_text(encoding="utf-8-sig")
    assert "乌克兰; Crimea" in text and "Ukraine; Crimea" not in text


def test_column_widths_follow_weights(tmp_path):
    table = export(tmp_path).tables[0]
    widths = [int(c.get(qn("w:w"))) for c in table._tbl.tblGrid.findall(qn("w:gridCol"))]
    assert len(widths) == 9
    assert widths[6] > 2 * widths[0]  # quotes get more room than the study label
    usable_twips = (297 - 2 * 12.7) * 1440 / 25.4
    assert abs(sum(widths) - usable_twips) < 20


def test_cancel_leaves_no_file_and_old_file_survives(tmp_path):
    table = build_table(make_snapshot())
    target = tmp_path / "out.docx"
    target.write_bytes(b"previous export")
    with pytest.raises(Cancelled):
        write_docx(table, target, progress=lambda done, total: None, cancel=lambda: True)
    assert target.read_bytes() == b"previous export"
    calls = []
    with pytest.raises(Cancelled):
        write_docx(table, target, progress=lambda d, t: calls.append(d),
                   cancel=lambda: len(calls) >= 1)
    assert target.read_bytes() == b"previous export"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.docx"]


def test_progress_reaches_the_total(tmp_path):
    seen = []
    write_docx(build_table(make_snapshot()), tmp_path / "o.docx", progress=lambda d, t: seen.append((d, t)))
    assert seen[-1] == (4, 4)
    assert [d for d, _ in seen] == sorted(d for d, _ in seen)


def test_bad_targets_give_clear_errors(tmp_path):
    table = build_table(make_snapshot())
    with pytest.raises(ExportFailed, match="folder does not exist"):
        write_table(table, tmp_path / "missing" / "out.docx")
    with pytest.raises(ValidationError, match=r"\.docx, \.xlsx or \.csv"):
        write_table(table, tmp_path / "out.pdf")


def test_empty_project_still_makes_a_readable_document(tmp_path):
    from cmo_desk.domain.records import Project
    from cmo_desk.domain.snapshot import ProjectSnapshot

    path = write_table(build_table(ProjectSnapshot(project=Project("p", title="Empty"))),
                       tmp_path / "e.docx")
    document = docx.Document(str(path))
    assert document.tables == []
    assert "No records to show." in [p.text for p in document.paragraphs]


# --- what review authors expect of a Word table --------------------------------------------


def test_tables_use_one_named_style_not_direct_borders(tmp_path):
    document = export(tmp_path)
    style = document.styles["CMO Evidence Table"]
    assert style.element.find(qn("w:tblPr")).find(qn("w:tblBorders")) is not None
    for table in document.tables:
        props = table._tbl.tblPr
        assert props.find(qn("w:tblStyle")).get(qn("w:val")) == "CMOEvidenceTable"
        assert props.find(qn("w:tblBorders")) is None
        assert not table._tbl.xpath(".//w:tcPr/w:shd")


def test_document_properties_are_truthful(tmp_path):
    import datetime as dt
    import zipfile

    path = tmp_path / "out.docx"
    write_docx(build_table(make_snapshot()), path)
    props = docx.Document(str(path)).core_properties
    now = dt.datetime.now(dt.timezone.utc)
    assert abs((props.created.replace(tzinfo=dt.timezone.utc) - now).total_seconds()) < 3600
    assert props.modified == props.created
    assert props.author == "Ana Petrova, Li Wei"
    assert "python-docx" not in (props.comments or "") and props.revision == 1
    with zipfile.ZipFile(path) as zf:
        app = zf.read("docProps/app.xml").decode()
    assert "<Application>CMO Desk " in app and "Microsoft" not in app


def test_caption_columns_and_empty_slots_are_the_authors_choice(tmp_path):
    document = export(tmp_path, records="coders", columns=("intervention", "actor", "codes",
                                                            "theories"), empty="NR",
                      caption="Table S3")
    assert document.paragraphs[0].text == "Table S3. CMOC evidence table"
    header = [c.text for c in document.tables[0].rows[0].cells]
    assert header[:4] == ["Study", "Intervention", "Actor", "Context"]
    assert header[-4:-1] == ["Codes", "Programme theories", "Appraisal"]
    rows = {r.cells[3].text: [c.text for c in r.cells] for r in data_rows(document)}
    booth_li = rows["Police harassment"]
    assert booth_li[1] == "NR" and booth_li[2] == "NR"  # no intervention, no actor recorded
    assert booth_li[header.index("Mechanism: resource")] == "NR"
    assert booth_li[header.index("Codes")] == "Mechanism – reasoning › Trust"
    assert booth_li[header.index("Supporting quotes")] != "NR"  # only CMOC slots are marked
    ana = rows["Criminalisation and police harassment"]
    assert ana[header.index("Programme theories")] == "PT1 (v2)"
    texts = [p.text for p in document.paragraphs]
    assert "NR: not reported in the study or not recorded by the coder." in texts
    assert any(t.startswith("Coders' initials: AP = Ana Petrova; LW = Li Wei") for t in texts)
    none = export(tmp_path, name="plain.docx", caption="")
    assert none.paragraphs[0].text == "CMOC evidence table"


def test_empty_slot_marks_never_reach_the_data(tmp_path):
    import pandas as pd

    table = build_table(make_snapshot(), ExportOptions(records="coders", empty="NR"))
    frame = pd.read_csv(write_table(table, tmp_path / "d.csv"), dtype=str, keep_default_na=False)
    assert "NR" not in set(frame["intervention"]) and "" in set(frame["intervention"])


def test_a_long_row_may_break_across_pages(tmp_path):
    import dataclasses

    base = make_snapshot()
    long_cmoc = dataclasses.replace(base.cmocs[0], id="m-long", context="Policing. " * 600)
    snap = dataclasses.replace(base, cmocs=(long_cmoc,), consensus=())
    path = tmp_path / "long.docx"
    write_docx(build_table(snap, ExportOptions(records="coders")), path)
    (row,) = data_rows(docx.Document(str(path)))
    assert row._tr.trPr is None or row._tr.trPr.find(qn("w:cantSplit")) is None


def test_a_row_longer_than_a_page_continues_in_rows_marked_cont(tmp_path):
    import dataclasses

    from cmo_desk.domain.records import Excerpt

    base = make_snapshot()
    quotes = tuple(Excerpt(f"q{i}", study_id="s-amin", owner_id="c-ana", page=i,
                           quote=f"Quote number {i}: " + "peers were there for us. " * 6)
                   for i in range(1, 41))
    cmoc = dataclasses.replace(base.cmocs[3], excerpt_ids=tuple(q.id for q in quotes))
    snap = dataclasses.replace(base, excerpts=base.excerpts + quotes, cmocs=(cmoc,), consensus=())
    path = tmp_path / "long.docx"
    write_docx(build_table(snap, ExportOptions(records="coders")), path)
    rows = data_rows(docx.Document(str(path)))
    assert len(rows) >= 2
    assert rows[0].cells[0].text == "Amin 2020"
    assert all(r.cells[0].text == "Amin 2020, cont." for r in rows[1:])
    # Each part is at most about a page, so each is kept whole.
    assert all(r._tr.trPr.find(qn("w:cantSplit")) is not None for r in rows)
    # Every quote is there once, in order, whatever row it landed in.
    shown = [line for r in rows for line in r.cells[6].text.split("\n") if line]
    assert [line.split(":")[0] for line in shown] == [f"“Quote number {i}" for i in range(1, 41)]
    # The other cells are not repeated in the continuation rows.
    assert rows[1].cells[1].text == ""


@pytest.mark.parametrize("bad", [{"columns": ("colour",)}, {"empty": "N/A"}])
def test_unknown_column_or_empty_mark_is_refused(bad):
    with pytest.raises(ValidationError, match="choose one of"):
        ExportOptions(**bad)


def test_one_chinese_font_family_throughout(tmp_path):
    import zipfile

    path = tmp_path / "zh.docx"
    write_docx(build_table(make_snapshot(), ExportOptions(lang="zh_CN")), path)
    with zipfile.ZipFile(path) as zf:
        styles = zf.read("word/styles.xml").decode()
        body = zf.read("word/document.xml").decode()
        fonts = zf.read("word/fontTable.xml").decode()
    assert "eastAsiaTheme" not in styles
    import re

    named = set(re.findall(r'w:eastAsia="([^"]+)"', styles + body)) - {"zh-CN", "en-US"}
    assert named == {"SimSun"}
    assert "ＭＳ 明朝" not in fonts and "ＭＳ ゴシック" not in fonts
    assert docx.Document(str(path)).paragraphs[0].text.startswith("表 S1")


def test_a_study_by_chinese_authors_is_cited_with_deng_not_et_al(tmp_path):
    """Chinese references write 等 after the first authors (GB/T 7714), English ones et al.; a
    table shows each reference as its own language writes it."""
    from dataclasses import replace

    from cmo_desk.exporters.tables.context import short_citation

    snapshot = make_snapshot()
    zhang = next(s for s in snapshot.studies if s.id == "s-zhang")
    many = replace(zhang, authors=["张伟", "欧阳娜娜", "Smith, John", "李娜", "王芳", "陈静", "刘洋"])
    assert short_citation(many).startswith("张伟等 (2019). 同伴教育")
    assert many.citation().startswith("张伟, 欧阳娜娜, Smith, John, 李娜, 王芳, 陈静, 等 (2019).")
    english = replace(zhang, authors=["Smith, John", "张伟"])
    assert short_citation(english).startswith("Smith, John et al. (2019)")
    snapshot = replace(snapshot, studies=tuple(many if s.id == "s-zhang" else s for s in snapshot.studies))
    path = tmp_path / "zh.docx"
    write_docx(build_table(snapshot, ExportOptions(lang="zh_CN")), path)
    text = "\n".join(p.text for p in docx.Document(str(path)).paragraphs)
    assert "张伟等 (2019)" in text or "张伟, 欧阳娜娜, Smith, John, 李娜, 王芳, 陈静, 等" in text
    assert "张伟 et al." not in text and "陈静, et al." not in text


def test_chinese_tables_name_the_starter_codes_in_chinese(tmp_path):
    """The desk shows the starter codebook's codes in Chinese; the tables say the same names (a
    code the team named itself stays as they wrote it)."""
    document = export(tmp_path, table="excerpts", lang="zh_CN")
    text = "\n".join(cell.text for row in data_rows(document) for cell in row.cells)
    assert "› 信任" in text and "› Trust" not in text
    assert "HIV incidence" in text  # not a starter code: as the team wrote it
    grouped = export(tmp_path, name="by-code.docx", lang="zh_CN", group_by="code")
    assert any(h.endswith("信任") for h in headings(grouped)), headings(grouped)


def test_a_title_ending_in_a_question_keeps_its_mark_without_a_stray_full_stop(tmp_path):
    import dataclasses

    from cmo_desk.domain.records import Study

    base = make_snapshot()
    asking = Study("s-ask", label="Fink 2015", authors=["Fink JS"], year=2015,
                   title="Have we really 'come a long way, baby'?", journal="Sport Manag Rev",
                   volume="18", pages="331-342")
    crowd = Study("s-many", label="Verylongname n.d.",
                  authors=[f"Author{i} A" for i in range(8)], title="Peers in prisons!",
                  journal="Appl. Phys. Lett.")
    snap = dataclasses.replace(base, studies=(*base.studies, asking, crowd))
    path = tmp_path / "refs.docx"
    write_docx(build_table(snap, ExportOptions()), path)
    texts = [p.text for p in docx.Document(str(path)).paragraphs]
    references = texts[texts.index("References: included studies") + 1:]
    assert ("[Fink 2015] Fink JS (2015). Have we really 'come a long way, baby'? "
            "Sport Manag Rev 18:331-342.") in references
    assert ("[Verylongname n.d.] Author0 A, Author1 A, Author2 A, Author3 A, Author4 A, "
            "Author5 A, et al. Peers in prisons! Appl. Phys. Lett.") in references
    studies = build_table(snap, ExportOptions(table="studies"))
    cited = {r["study_id"]: r["citation"] for _, r in studies.iter_rows()}
    assert cited["s-ask"].startswith("Fink JS (2015). Have we really 'come a long way, baby'? Sport")
