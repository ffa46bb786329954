"""The real files in ../shared/corpus through `cmo-desk import` and `cmo-desk search`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cmo_desk.cli.main import run
from cmo_desk.services.projects import new_project
from cmo_desk.services.session import Session

from .conftest import CORPUS

pytestmark = pytest.mark.corpus

# Records in each reference file (as the reference parser tests count them).
REFERENCE_COUNTS = {
    "asreview-embase.ris": 6, "asreview-ovid-psycinfo.ris": 6, "asreview-ris_many_authors.ris": 1,
    "jabref-RisImporterCorrupted.ris": 1, "bbt-latex-escapes-506rec.bib": 506,
    "bbt-cjk-names.biblatex": 35, "reflib-medline-cancer-20rec.nbib": 20,
    "jabref-NbibImporterTest.nbib": 1, "biopython-pubmed_result2.txt": 4,
    "jabref-EndnoteXml-LabelAndMultiTitle.xml": 3, "reflib-endnote-sm-endnote19.xml": 5,
    "bbt-26rec-shortdoi.csl.json": 26, "bbt-edtf-dates.csl.json": 15,
}
#: The 506-record BibTeX file holds two pairs of the same study (same DOI); the CJK names file
#: cites "A Random Book" by John Smith twice ("John Smith", "Smith, John").
DUPLICATES_IN_CORPUS = 3


@pytest.fixture(scope="module")
def corpus() -> Path:
    if not CORPUS.is_dir():
        pytest.skip("the shared corpus is not present")
    return CORPUS


@pytest.fixture(scope="module")
def imported(corpus: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    """A project with every corpus reference, PDF and DOCX, imported once through the CLI."""
    path = tmp_path_factory.mktemp("corpus") / "corpus.cmo"
    new_project(path, coder="Ana").close()
    import contextlib
    import io

    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = run(["import", str(path), str(corpus / "refs"), str(corpus / "pdf"),
                    str(corpus / "docx"), "--json"])
    assert code == 0
    return path, json.loads(out.getvalue())


def test_every_reference_file_becomes_studies(imported, corpus):
    assert set(REFERENCE_COUNTS) == {p.name for p in (corpus / "refs").iterdir()}
    _, summary = imported
    references = sum(REFERENCE_COUNTS.values())
    files = len(list((corpus / "pdf").glob("*.pdf"))) + len(list((corpus / "docx").iterdir()))
    assert summary["errors"] == {}
    assert len(summary["duplicate_references"]) == DUPLICATES_IN_CORPUS
    assert summary["documents_added"] == files
    made_from_files = sum(1 for link in summary["linked"] if link["how"] == "new")
    assert summary["studies_added"] == references - DUPLICATES_IN_CORPUS + made_from_files


def test_full_texts_are_stored_with_pages(imported):
    path, summary = imported
    with Session.open(path, read_only=True) as session:
        docs = {d.filename: d for d in session.store.list("document")}
        assert docs["jss-2007-mullen-46pages.pdf"].page_count == 46
        assert "Dense Passage Retrieval" in docs["dpr-2020-two-column-13pages.pdf"].text
        scan = docs["scanned-image-only-abstract.pdf"]
        assert scan.needs_ocr is True
        assert any(link.endswith("scanned-image-only-abstract.pdf") for link in summary["needs_ocr"])
        # Encrypted with an owner password only: opens and reads without asking.
        locked = docs["encrypted-owner-pw-copy-protected.pdf"]
        assert "LayoutParser" in locked.text and not locked.needs_ocr
        assert "东阳市歌山镇" in docs["chinese-tender-doc-14-tables-libreoffice.docx"].text
        for doc in docs.values():
            assert session.store.get_blob(doc.sha256) is not None


def test_search_finds_english_and_chinese(imported, capsys):
    path, _ = imported
    assert run(["search", str(path), "heart failure", "--limit", "3"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 3
    assert all("  p." in line and "[" in line for line in lines)
    assert lines[0].startswith("hindawi-rrp-2010-heart-failure-qualitative  p.")
    assert run(["search", str(path), "歌山镇", "--json"]) == 0
    hits = json.loads(capsys.readouterr().out)
    assert hits and hits[0]["study_label"] == "chinese-tender-doc-14-tables-libreoffice"
    assert "[歌山镇]" in hits[0]["snippet"]


def test_importing_the_corpus_again_adds_nothing(imported, corpus, capsys):
    path, _ = imported
    assert run(["import", str(path), str(corpus / "pdf"), str(corpus / "refs")]) == 0
    out = capsys.readouterr().out
    assert "Studies added: 0" in out and "Documents added: 0" in out


def test_unreadable_input_exits_non_zero_with_one_line(corpus, tmp_path, capsys):
    path = tmp_path / "p.cmo"
    new_project(path, coder="Ana", codebook=False).close()
    assert run(["import", str(path), str(corpus / "xsd" / "Codebook-mrt2019.xsd")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "cannot be imported" in err
    assert run(["import", str(path), str(corpus / "refs" / "jabref-NbibImporterTest.nbib")]) == 0
