from __future__ import annotations

import pytest

from cmo_desk.domain.errors import ImportFailed
from cmo_desk.domain.records import Study
from cmo_desk.importers.cmoc_sheet import locate_quote, read_cmoc_sheet
from cmo_desk.importers.dedupe import dedupe, find_duplicate, similar_title
from cmo_desk.importers.fulltext import ExtractedText
from cmo_desk.importers.linking import link_files

EXISTING = [
    Study(id="e1", title="Peer support in rural clinics", year=2016, doi="10.1/abc"),
    Study(id="e2", title="Trust and adherence: a realist review", year=2018, pmid="555"),
]


def test_duplicates_by_doi_pmid_and_title_year():
    assert find_duplicate(Study(id="n", doi="https://doi.org/10.1/ABC"), EXISTING) == "e1"
    assert find_duplicate(Study(id="n", pmid="555"), EXISTING) == "e2"
    assert find_duplicate(Study(id="n", title="TRUST and adhérence — a realist review.", year=2018), EXISTING) == "e2"
    assert find_duplicate(Study(id="n", title="Trust and adherence: a realist review", year=2019), EXISTING) is None
    # Same title but different DOIs: two versions of a paper, not a duplicate.
    assert find_duplicate(Study(id="n", title="Peer support in rural clinics", year=2016, doi="10.2/x"), EXISTING) is None


def test_dedupe_within_the_import_and_against_the_project():
    new = [
        Study(id="a", title="A new study of nurses", year=2020),
        Study(id="b", title="A new study of nurses!", year=2020),
        Study(id="c", doi="10.1/abc"),
        Study(id="d", title="Editorial", year=2020),
        Study(id="e", title="Editorial", year=2020),
    ]
    kept, duplicates = dedupe(new, EXISTING)
    assert [s.id for s in kept] == ["a", "d", "e"]  # short generic titles prove nothing
    assert [(s.id, target) for s, target in duplicates] == [("b", "a"), ("c", "e1")]


def test_similar_title_scores():
    assert similar_title("Realist review of trust", "realist review of trust.") == 1.0
    assert similar_title("Realist reviw of trust in nursing teams", "Realist review of trust in nursing teams") > 0.9
    assert similar_title("Patient experiences of heart failure programmes", "Patient experiences of heart failure programmes: a qualitative study") >= 0.9
    assert similar_title("Trust in nursing teams", "Costs of hip replacement surgery") < 0.3
    assert similar_title(None, "x") == 0.0


def _text(text: str, doi: str | None = None, title: str | None = None) -> ExtractedText:
    return ExtractedText(text=text, page_starts=[0], media_type="text/plain", extractor="t", doi=doi, title=title)


def test_link_files_by_doi_then_title_else_new():
    studies = [
        Study(id="s1", title="Peer support in rural clinics", doi="10.1/abc"),
        Study(id="s2", title="How community health workers build trust with families", year=2021,
              authors=["Tembo, Grace"]),
    ]
    decisions = link_files(
        [
            ("a.pdf", _text("Some header\nAnother line", doi="10.1/ABC")),
            ("b.pdf", _text("Journal of Things 2021\nHow community health workers build\ntrust with families\n"
                            "Grace Tembo\nAbstract")),
            ("c.pdf", _text("", title=None)),
            ("d.pdf", _text("\n\nAn unrelated article on hip surgery costs\nBody")),
        ],
        studies,
    )
    assert [(d.study_id, d.how) for d in decisions] == [("s1", "doi"), ("s2", "title"), (None, "new"), (None, "new")]
    assert decisions[2].title == "c"
    assert decisions[3].title == "An unrelated article on hip surgery costs"


def test_cmoc_csv_with_bom_semicolons_and_header_variants(write_file):
    csv_text = (
        "\ufeffStudy;Context;Mechanism Resource;MECHANISM-reasoning;Outcome;Statement;Quote;Page;Codes;Coder;Notes\r\n"
        "Booth 2016;rural;peer mentors;feel understood;adherence;If..then;\"We felt \"\"seen\"\"\";p. 4;\"trust; peer support ;trust\";Ann;x\r\n"
        ";;;;;;;;;;\r\n"
        ";only context;;;;;;;;;\r\n"
        "10.1/abc;;;;;;;four;;;\r\n"
    )
    rows, warnings = read_cmoc_sheet(write_file("cmocs.csv", csv_text.encode("utf-8")))
    first, second = rows
    assert (first.row_number, first.study, first.mechanism_resource, first.mechanism_reasoning) == (2, "Booth 2016", "peer mentors", "feel understood")
    assert first.quote == 'We felt "seen"' and first.page == 4 and first.coder == "Ann"
    assert first.codes == ["trust", "peer support"]
    assert second.study == "10.1/abc" and second.page is None
    assert any("Row 4 has no study" in w for w in warnings)
    assert any("four" in w for w in warnings)
    assert any("Notes" in w for w in warnings)


def test_cmoc_xlsx(tmp_path):
    import openpyxl

    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(["study", "context", "outcome", "page", "codes"])
    sheet.append(["Wong 2018", "urban", "uptake", 7, "a;b"])
    path = tmp_path / "cmocs.xlsx"
    workbook.save(path)
    (row,), warnings = read_cmoc_sheet(path)
    assert (row.study, row.context, row.outcome, row.page, row.codes) == ("Wong 2018", "urban", "uptake", 7, ["a", "b"])
    assert warnings == []


def test_cmoc_sheet_without_study_column_is_refused(write_file):
    with pytest.raises(ImportFailed, match="'study'"):
        read_cmoc_sheet(write_file("c.csv", "context,outcome\nrural,uptake\n"))
    with pytest.raises(ImportFailed, match=".csv or .xlsx"):
        read_cmoc_sheet(write_file("c.ods", "x"))
    with pytest.raises(ImportFailed, match="Excel"):
        read_cmoc_sheet(write_file("c.xlsx", b"PK\x03\x04broken"))


def test_locate_quote_tolerates_layout_differences():
    text = "Intro.\nNurses said the “peer sup-\nport” groups made them feel  un-\nderstood ﬁnally. Then more."
    span = locate_quote(text, 'peer support" groups made them feel understood finally')
    assert span is not None
    assert text[span[0] : span[1]] == "peer sup-\nport” groups made them feel  un-\nderstood ﬁnally"
    assert locate_quote(text, "something never said") is None
    assert locate_quote(text, "   ") is None


def test_locate_quote_with_ellipsis_and_page_preference():
    text = "Trust grew slowly.\n\nOn page two: trust grew slowly over months of visits."
    starts = [0, 20]
    span = locate_quote(text, "trust grew slowly", page=2, page_starts=starts)
    assert span is not None and span[0] >= 20
    span = locate_quote(text, "On page two ... months of visits")
    assert span is not None and text[span[0] : span[1]] == "On page two: trust grew slowly over months of visits"
