"""The table model: which records appear, how they are grouped and what each cell says."""

import datetime as dt

import pytest

from cmo_desk.domain.errors import ValidationError
from cmo_desk.exporters.tables import ExportOptions, build_table

from .conftest import DIRTY_CLEAN, ZH_QUOTE, make_snapshot


def rows_by_id(table):
    return {row["cmoc_id"]: row for _, row in table.iter_rows()}


def test_consensus_where_reconciled_else_each_coders_own(snapshot):
    table = build_table(snapshot)
    rows = rows_by_id(table)
    # Booth has a consensus CMOC built from both Booth CMOCs; the duplicate study's CMOC (now
    # Booth's) was never reconciled and stays. Zhang and Amin were not reconciled at all.
    assert set(rows) == {"x-booth", "m-dup", "m-zhang-li", "m-amin-ana"}
    # a reader of the table can trace the consensus to the coders' CMOCs it was built from
    assert rows["x-booth"]["recorded_by"] == "Consensus (agreed)\nfrom AP, LW"
    assert rows["x-booth"]["record_type"] == "consensus"
    assert rows["m-zhang-li"]["recorded_by"] == "Li Wei (not reconciled)"
    assert rows["m-zhang-li"]["record_type"] == "coder"
    assert rows["m-zhang-li"]["consensus_ids"] == ""
    assert dict(table.title_block.counts)["CMOCs in this table"] == 4


def test_a_partly_reconciled_study_keeps_every_cmoc_no_consensus_covers():
    """Reconciling one CMOC of a study must not hide the coders' other CMOCs of that study."""
    import dataclasses

    from cmo_desk.domain.records import Cmoc

    base = make_snapshot()
    extra = Cmoc("m-booth-syringe", study_id="s-booth", owner_id="c-li", status="submitted",
                 context="If policing targets people carrying syringes")
    snap = dataclasses.replace(base, cmocs=base.cmocs + (extra,))
    table = build_table(snap)
    rows = rows_by_id(table)
    assert "m-booth-syringe" in rows
    assert rows["m-booth-syringe"]["recorded_by"] == "Li Wei (not reconciled)"
    assert "m-booth-ana" not in rows and "m-booth-li" not in rows
    booth = next(g for g in table.groups if g.key == "s-booth")
    assert [r["cmoc_id"] for r in booth.rows] == ["x-booth", "m-dup", "m-booth-syringe"]
    assert table.summary == {"consensus": 1, "coder_reconciled": 0, "coder_not_reconciled": 4,
                             "set_aside_left_out": 1}
    note = " ".join(table.title_block.notes)
    assert ("1 consensus CMOCs, 0 coders' CMOCs a consensus was built from and 4 coders' CMOCs "
            "not reconciled; 1 CMOCs set aside are left out") in note
    counts = dict(table.title_block.counts)
    assert counts["Coders' CMOCs not reconciled"] == 4
    assert counts["CMOCs set aside, left out"] == 1


def test_all_records_say_which_coder_cmocs_a_consensus_covers(snapshot):
    rows = rows_by_id(build_table(snapshot, ExportOptions(records="all")))
    assert rows["m-booth-ana"]["consensus_ids"] == "x-booth"
    assert rows["m-booth-ana"]["recorded_by"] == "Ana Petrova"
    assert rows["m-zhang-li"]["recorded_by"] == "Li Wei (not reconciled)"
    coders = rows_by_id(build_table(snapshot, ExportOptions(records="coders")))
    assert coders["m-zhang-li"]["recorded_by"] == "Li Wei"


def test_coders_and_all_records_leave_out_set_aside(snapshot):
    coders = rows_by_id(build_table(snapshot, ExportOptions(records="coders")))
    assert set(coders) == {"m-booth-ana", "m-booth-li", "m-zhang-li", "m-amin-ana", "m-dup"}
    everything = rows_by_id(build_table(snapshot, ExportOptions(records="all")))
    assert set(everything) == set(coders) | {"x-booth"}
    assert "m-amin-gone" not in everything


def test_cmoc_of_a_merged_duplicate_study_moves_to_the_kept_study(snapshot):
    row = rows_by_id(build_table(snapshot, ExportOptions(records="coders")))["m-dup"]
    assert row["study_id"] == "s-booth"
    assert row["study_label"] == "Booth 2016"


def test_group_by_study_headings_name_the_study_and_citation(snapshot):
    table = build_table(snapshot)
    headings = [g.heading for g in table.groups]
    assert headings[0].startswith("Amin 2020 — Amin N (2020)")
    assert any(h.startswith("Booth 2016 — Booth RE et al. (2016)") for h in headings)
    assert all(row["group"] == g.heading for g in table.groups for row in g.rows)


def test_outcome_direction_quotes_and_pages(snapshot):
    rows = rows_by_id(build_table(snapshot))
    booth = rows["x-booth"]
    assert booth["outcome_shown"] == "Lower HIV incidence (+)"
    # e2 has no stored page: it is found from the document's page boundaries (offset 210 -> p. 3)
    assert booth["quotes"].split("\n") == [
        "“Peers were trusted because they had been there.” (p. 4)",
        "“Incidence fell in the intervention arm.” (p. 3)",
    ]
    assert booth["pages"] == "4; 3"
    amin = rows["m-amin-ana"]
    assert amin["outcome_shown"] == DIRTY_CLEAN + " (−) [unintended]"
    assert rows["m-zhang-li"]["outcome_shown"].endswith("(mixed)")
    assert ZH_QUOTE in rows["m-zhang-li"]["quotes"]


def test_appraisal_says_whose_value_when_coders_disagree(snapshot):
    rows = rows_by_id(build_table(snapshot, ExportOptions(records="all")))
    # Agreed rigour (no coder) is shown plainly; relevance differs between coders.
    assert rows["x-booth"]["appraisal"] == "Relevance: high (AP); moderate (LW)\nRigour: high"
    # A coder's own row shows that coder's value.
    assert rows["m-booth-li"]["appraisal"] == "Relevance: moderate\nRigour: high"
    assert rows["m-zhang-li"]["appraisal"] == "Confidence: Moderate"


def test_group_by_code_lists_a_cmoc_under_each_code(snapshot):
    table = build_table(snapshot, ExportOptions(group_by="code", records="all"))
    groups = {g.heading: [r["cmoc_id"] for r in g.rows] for g in table.groups}
    assert groups["Mechanism – reasoning › Trust"] == ["x-booth", "m-booth-ana", "m-booth-li"]
    assert groups["HIV incidence"] == ["x-booth"]
    assert set(groups["Uncoded"]) == {"m-zhang-li", "m-amin-ana", "m-dup"}
    assert list(groups)[-1] == "Uncoded"
    # A CMOC under two codes is still one CMOC in the counts.
    assert dict(table.title_block.counts)["CMOCs in this table"] == 6


def test_group_by_theory_shows_relation_and_consensus_inherits_theory(snapshot):
    table = build_table(snapshot, ExportOptions(group_by="theory"))
    assert [c.key for c in table.columns][-2] == "theory_relation"
    first, rest = table.groups
    assert first.heading.startswith("PT1 (v2): Peers who are 'one of us'")
    assert [(r["cmoc_id"], r["theory_relation"]) for r in first.rows] == [("x-booth", "Supports")]
    assert rest.heading == "No programme theory"


def test_studies_table_follows_the_template():
    template = {
        "id": "t", "title": "T",
        "sections": [
            {"key": "place", "title": "Place", "fields": [
                {"key": "countries", "label": "Countries", "label_zh_CN": "国家", "type": "list"},
                {"key": "income_group", "label": "Income", "type": "choice", "options": ["x"]},
                {"key": "income_fiscal_year", "label": "FY", "type": "text", "in_table": False},
                {"key": "income_basis", "label": "Basis", "type": "text", "in_table": False},
            ]},
            {"key": "appraisal", "title": "Appraisal", "fields": [
                {"key": "relevance", "label": "Relevance", "type": "ordinal",
                 "options": ["high"], "justification": True},
            ]},
        ],
    }
    table = build_table(make_snapshot(template), ExportOptions(table="studies"))
    assert [c.key for c in table.columns] == [
        "study_label", "citation", "countries", "income_group", "relevance"]
    assert table.data_keys == ["study_id", "study_label", "citation", "countries",
                               "income_group", "relevance"]
    booth = next(r for _, r in table.iter_rows() if r["study_id"] == "s-booth")
    assert booth["countries"] == "Ukraine; Crimea"
    assert booth["income_group"] == "lower-middle (FY2016; at time of study)"
    assert booth["relevance"] == (
        "high (AP); moderate (LW) — Peer outreach arm described in detail")
    assert booth["citation"].startswith("Booth RE, Davis JM, Dvoryak S (2016).")
    # The merged duplicate is not a study of its own.
    assert [r["study_label"] for _, r in table.iter_rows()] == ["Amin 2020", "Booth 2016", "张 2019"]
    zh = build_table(make_snapshot(template), ExportOptions(table="studies", lang="zh_CN"))
    assert [c.heading for c in zh.columns][:3] == ["研究", "文献", "国家"]


def test_studies_table_without_template_uses_the_review_defaults(snapshot):
    keys = [c.key for c in build_table(snapshot, ExportOptions(table="studies")).columns]
    for key in ("countries", "income_group", "setting", "population", "peer_role", "design",
                "relevance", "rigour", "richness"):
        assert key in keys
    assert "income_basis" not in keys


def test_excerpts_table_one_row_per_excerpt(snapshot):
    table = build_table(snapshot, ExportOptions(table="excerpts"))
    rows = [r for _, r in table.iter_rows()]
    assert len(rows) == 5
    e1 = next(r for r in rows if r["excerpt_id"] == "e1")
    assert (e1["page"], e1["role_shown"], e1["codes"], e1["coder"], e1["memo"]) == (
        "4", "Mechanism", "Mechanism – reasoning › Trust", "Ana Petrova", "key passage")


def test_chinese_headings_and_labels():
    table = build_table(make_snapshot(), ExportOptions(lang="zh_CN"), today=dt.date(2025, 3, 1))
    assert table.title_block.title == "CMOC 证据表"
    assert [c.heading for c in table.columns] == [
        "研究", "情境", "机制：资源", "机制：推理", "结果", "“如果……那么……因为……”陈述",
        "支持性引文", "评价", "编码者或共识"]
    assert table.title_block.date == "2025-03-01"
    rows = rows_by_id(table)
    assert rows["x-booth"]["recorded_by"].split("\n")[0] == "共识（一致同意）"
    assert "AP, LW" in rows["x-booth"]["recorded_by"].split("\n")[1]
    assert "（第4页）" in rows["x-booth"]["quotes"]
    for options in (ExportOptions(lang="zh_CN", group_by="code", records="all"),
                    ExportOptions(lang="zh_CN", group_by="theory"),
                    ExportOptions(lang="zh_CN", table="excerpts")):
        zh = build_table(make_snapshot(), options)
        en = build_table(make_snapshot(), ExportOptions(options.table, options.group_by,
                                                         options.records, "en"))
        for zc, ec in zip(zh.columns, en.columns, strict=True):
            assert zc.heading != ec.heading
        assert zh.title_block.notes == () or zh.title_block.notes != en.title_block.notes


@pytest.mark.parametrize("bad", [{"table": "charts"}, {"group_by": "year"},
                                 {"records": "mine"}, {"lang": "de"}])
def test_unknown_options_are_refused_with_the_choices(bad):
    with pytest.raises(ValidationError, match="choose"):
        ExportOptions(**bad)


def test_empty_project_gives_an_empty_table():
    from cmo_desk.domain.records import Project
    from cmo_desk.domain.snapshot import ProjectSnapshot

    for kind in ("evidence", "studies", "excerpts"):
        table = build_table(ProjectSnapshot(project=Project("p")), ExportOptions(table=kind))
        assert table.row_count == 0
        assert table.title_block.project_title == "Untitled project"


def test_every_string_the_table_translates_has_chinese():
    import ast
    from pathlib import Path

    from cmo_desk.domain.i18n import catalogue
    from cmo_desk.exporters import tables
    from cmo_desk.exporters.tables import evidence

    literals = {
        node.args[0].value
        for path in sorted(Path(tables.__file__).parent.glob("*.py"))
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
        and node.func.attr == "t" and node.args and isinstance(node.args[0], ast.Constant)
    }
    literals |= {heading for _, heading, _ in evidence._EVIDENCE_COLUMNS}
    literals |= set(evidence._RESOLUTION.values()) | set(tables._RECORDS_NOTE.values())
    literals |= {tables._FORM_NOTE, "(mixed)", "Supports", "Refutes", "Refines", "New",
                 "High", "Moderate", "Low", "Context", "Mechanism", "Outcome"}
    zh = catalogue("zh_CN")
    assert len(literals) > 40
    assert sorted(s for s in literals if s not in zh) == []


def test_quotes_are_one_paragraph_in_text_order_and_match_their_pages():
    """Linked in the order p. 1, 3, 9, 4, 2, 7; shown in text order, one line and page each."""
    import dataclasses

    from cmo_desk.domain.records import Cmoc, Document, Excerpt

    text = "".join(f"Page {n} text. " * 10 for n in range(1, 11))
    starts = [text.index(f"Page {n} ") for n in range(1, 11)]
    doc = Document("d-long", study_id="s-amin", text=text, page_starts=starts,
                   media_type="application/pdf")
    linked = (1, 3, 9, 4, 2, 7)
    excerpts = tuple(
        Excerpt(f"ex{p}", document_id="d-long", study_id="s-amin", start=starts[p - 1] + 2,
                end=starts[p - 1] + 40, owner_id="c-ana",
                quote=f"peers on page {p} said\nthey were treat-\nment  partners\n\nand friends")
        for p in linked
    )
    no_page = Excerpt("ex-nopage", study_id="s-amin", quote="a quote with no page", owner_id="c-ana")
    cmoc = Cmoc("m-pages", study_id="s-amin", owner_id="c-ana", status="submitted",
                excerpt_ids=tuple(f"ex{p}" for p in linked) + ("ex-nopage",))
    base = make_snapshot()
    snap = dataclasses.replace(base, documents=base.documents + (doc,),
                               excerpts=base.excerpts + excerpts + (no_page,), cmocs=(cmoc,),
                               consensus=())
    row = rows_by_id(build_table(snap, ExportOptions(records="coders")))["m-pages"]
    quotes = row["quotes"].split("\n")
    pages = row["pages"].split("; ")
    ids = row["excerpt_ids"].split(" ")
    assert len(quotes) == len(pages) == len(ids) == 7
    assert pages == ["1", "2", "3", "4", "7", "9", "–"]
    assert ids == ["ex1", "ex2", "ex3", "ex4", "ex7", "ex9", "ex-nopage"]
    assert quotes[1] == ("“peers on page 2 said they were treat-ment partners and friends” (p. 2)")
    assert quotes[-1] == "“a quote with no page”"
    for quote, page in zip(quotes[:-1], pages[:-1]):
        assert f"page {page} said" in quote and quote.endswith(f"(p. {page})")
    # The excerpts table gives the same one-paragraph quote.
    table = build_table(snap, ExportOptions(table="excerpts"))
    by_id = {r["excerpt_id"]: r for _, r in table.iter_rows()}
    assert by_id["ex2"]["quote"] == "peers on page 2 said they were treat-ment partners and friends"


def test_chinese_tables_translate_the_forms_choices_not_only_headings():
    from cmo_desk.domain.templates import default_template

    snap = make_snapshot(template=default_template())
    zh = build_table(snap, ExportOptions(table="studies", lang="zh_CN"))
    booth = next(r for _, r in zh.iter_rows() if r["study_id"] == "s-booth")
    assert booth["rigour"] == "高"
    assert booth["income_group"].startswith("中低")
    en = build_table(snap, ExportOptions(table="studies", lang="en"))
    assert next(r for _, r in en.iter_rows() if r["study_id"] == "s-booth")["rigour"] == "high"


def test_no_page_is_cited_that_the_document_does_not_have():
    import dataclasses

    from cmo_desk.domain.records import Cmoc, Document, Excerpt

    docs = (
        Document("d-docx", study_id="s-amin", text="x" * 200, page_starts=[0],
                 media_type="application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
        Document("d-pdf1", study_id="s-amin", text="y" * 200, page_starts=[0],
                 media_type="application/pdf"),
        Document("d-pdf?", study_id="s-amin", text="z" * 200, page_starts=None,
                 media_type="application/pdf"),
    )
    excerpts = tuple(Excerpt(f"x-{d.id}", document_id=d.id, study_id="s-amin", start=10, end=20,
                             quote=f"from {d.id}", owner_id="c-ana") for d in docs)
    cmoc = Cmoc("m-p", study_id="s-amin", owner_id="c-ana", excerpt_ids=tuple(e.id for e in excerpts))
    base = make_snapshot()
    snap = dataclasses.replace(base, documents=docs, excerpts=excerpts, cmocs=(cmoc,), consensus=())
    row = rows_by_id(build_table(snap, ExportOptions(records="coders")))["m-p"]
    assert row["quotes"].split("\n") == ["“from d-docx”", "“from d-pdf1” (p. 1)", "“from d-pdf?”"]
    assert row["pages"] == "–; 1; –"


def test_a_consensus_row_says_a_source_was_deleted():
    """A source deleted since (the coder's laptop, then a merge) is not named as if it stood,
    nor silently dropped from the row."""
    import dataclasses

    base = make_snapshot()
    snap = dataclasses.replace(base, cmocs=tuple(c for c in base.cmocs if c.id != "m-booth-li"))
    rows = rows_by_id(build_table(snap))
    assert rows["x-booth"]["recorded_by"] == "Consensus (agreed)\nfrom AP, deleted CMOC"


def test_a_page_kept_on_an_excerpt_is_not_cited_when_its_text_has_no_pages():
    """Excerpts marked before pages were checked kept p. 1 for any Word or plain text; the table
    asks the document, which knows it has no pages to cite."""
    import dataclasses

    from cmo_desk.domain.records import Cmoc, Document, Excerpt

    docs = (
        Document("d-docx", study_id="s-amin", text="x" * 200, page_starts=[0],
                 media_type="application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
        Document("d-pdf3", study_id="s-amin", text="y" * 300, page_starts=[0, 100, 200],
                 media_type="application/pdf"),
    )
    excerpts = (
        Excerpt("x-docx", document_id="d-docx", study_id="s-amin", start=10, end=20, page=1,
                quote="from the Word file", owner_id="c-ana"),
        Excerpt("x-pdf", document_id="d-pdf3", study_id="s-amin", start=250, end=260, page=3,
                quote="from the PDF", owner_id="c-ana"),
        Excerpt("x-gone", document_id="d-missing", study_id="s-amin", start=10, end=20, page=7,
                quote="from a file not in this project", owner_id="c-ana"),
    )
    cmoc = Cmoc("m-p", study_id="s-amin", owner_id="c-ana", excerpt_ids=tuple(e.id for e in excerpts))
    base = make_snapshot()
    snap = dataclasses.replace(base, documents=docs, excerpts=excerpts, cmocs=(cmoc,), consensus=())
    row = rows_by_id(build_table(snap, ExportOptions(records="coders")))["m-p"]
    assert row["quotes"].split("\n") == ["“from the Word file”", "“from the PDF” (p. 3)",
                                         "“from a file not in this project” (p. 7)"]
    assert row["pages"] == "–; 3; 7"
