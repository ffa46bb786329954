"""Every real file in ../shared/corpus imports with the expected counts or is refused clearly."""

from __future__ import annotations

import re

import pytest

from cmo_desk.domain.errors import ImportFailed
from cmo_desk.importers.dedupe import dedupe
from cmo_desk.importers.fulltext import extract_file
from cmo_desk.importers.references import parse_references

pytestmark = pytest.mark.corpus

# name -> (pages, needs_ocr, text that must be present)
PDFS = {
    "hindawi-rrp-2010-heart-failure-qualitative.pdf": (6, False, "Patient Experiences of Structured Heart Failure Programmes"),
    "jtmo-2010-dvt-systematic-review.pdf": (4, False, "deep venous thrombosis"),
    "jss-2007-mullen-46pages.pdf": (46, False, "TIMP"),
    "dpr-2020-two-column-13pages.pdf": (13, False, "Dense Passage Retrieval"),
    "scanned-image-only-abstract.pdf": (1, True, ""),
    "arabic-rtl-1page.pdf": (1, False, "Python"),
    "encrypted-owner-pw-copy-protected.pdf": (2, False, "LayoutParser"),
    "corrupted-zlib-stream.pdf": (1, False, "Beautiful is better than ugly"),
}


def test_every_corpus_pdf_is_covered(corpus):
    assert {p.name for p in (corpus / "pdf").glob("*.pdf")} == set(PDFS)


@pytest.mark.parametrize("name", sorted(PDFS))
def test_corpus_pdf(corpus, name):
    pages, needs_ocr, expected = PDFS[name]
    result = extract_file(corpus / "pdf" / name)
    assert len(result.page_starts) == pages
    assert result.needs_ocr is needs_ocr
    assert expected in result.text
    assert "\ufffe" not in result.text and "\r" not in result.text
    assert not re.search("[\x00-\x08\x0b-\x1f]", result.text)
    assert result.page_starts == sorted(result.page_starts)


def test_corpus_pdf_details(corpus):
    hindawi = extract_file(corpus / "pdf" / "hindawi-rrp-2010-heart-failure-qualitative.pdf")
    assert hindawi.doi == "10.1155/2010/157939"
    jtmo = extract_file(corpus / "pdf" / "jtmo-2010-dvt-systematic-review.pdf")
    assert jtmo.doi == "10.1186/1752-2897-4-1"
    assert jtmo.title and jtmo.title.startswith("Complications related to deep venous thrombosis")
    arabic = extract_file(corpus / "pdf" / "arabic-rtl-1page.pdf").text
    assert len(re.findall("[\u0600-\u06ff]", arabic)) > 500
    dpr = extract_file(corpus / "pdf" / "dpr-2020-two-column-13pages.pdf").text
    assert "efficient" in dpr and "dual-encoder" in dpr
    scanned = extract_file(corpus / "pdf" / "scanned-image-only-abstract.pdf")
    assert any("needs OCR" in w for w in scanned.warnings)
    corrupted = extract_file(corpus / "pdf" / "corrupted-zlib-stream.pdf")
    assert corrupted.title is None  # "zen_of_python.txt" is a file name, not a title
    protected = extract_file(corpus / "pdf" / "encrypted-owner-pw-copy-protected.pdf")
    assert "LayoutParser" in protected.text
    assert any("restricted copying" in w for w in protected.warnings)
    assert not any("restricted copying" in w for w in jtmo.warnings)


def test_corpus_docx_and_txt(corpus):
    folder = corpus / "docx"
    chinese = extract_file(folder / "chinese-tender-doc-14-tables-libreoffice.docx").text
    assert "东阳市歌山镇" in chinese and chinese.count(" | ") > 50
    example = extract_file(folder / "docx2python-example-footnotes-endnotes-tables-images.docx").text
    assert "Footnotes\n[1] First footnote\n[2] Second footnote" in example
    assert "Endnotes\n[i] First endnote\n[ii] Second endnote" in example
    assert "Reference footnote 1[1]" in example and "Reference endnote 1[i]" in example
    assert "Nested | Table A | B" in example
    docx_text = extract_file(folder / "sheffield-open-qual-interview-Ana.docx").text
    txt_text = extract_file(folder / "sheffield-open-qual-interview-Ana.txt").text
    assert docx_text.startswith("12-May-2023") and txt_text.startswith("12-May-2023")
    words = lambda t: t.split()  # noqa: E731
    assert abs(len(words(docx_text)) - len(words(txt_text))) < len(words(txt_text)) * 0.01


# name -> (format, records, DOIs)
REFS = {
    "asreview-embase.ris": ("ris", 6, 6),
    "asreview-ovid-psycinfo.ris": ("ris", 6, 6),
    "asreview-ris_many_authors.ris": ("ris", 1, 0),
    "jabref-RisImporterCorrupted.ris": ("ris", 1, 1),
    "bbt-latex-escapes-506rec.bib": ("bibtex", 506, 410),
    "bbt-cjk-names.biblatex": ("bibtex", 35, 0),
    "reflib-medline-cancer-20rec.nbib": ("medline", 20, 20),
    "jabref-NbibImporterTest.nbib": ("medline", 1, 1),
    "biopython-pubmed_result2.txt": ("medline", 4, 3),
    "jabref-EndnoteXml-LabelAndMultiTitle.xml": ("endnote-xml", 3, 0),
    "reflib-endnote-sm-endnote19.xml": ("endnote-xml", 5, 0),
    "bbt-26rec-shortdoi.csl.json": ("csl-json", 26, 15),
    "bbt-edtf-dates.csl.json": ("csl-json", 15, 0),
}


def test_every_corpus_reference_file_is_covered(corpus):
    assert {p.name for p in (corpus / "refs").iterdir()} == set(REFS)


@pytest.mark.parametrize("name", sorted(REFS))
def test_corpus_references(corpus, name):
    fmt, count, dois = REFS[name]
    parsed = parse_references(corpus / "refs" / name)
    assert parsed.format == fmt
    assert len(parsed.records) == count
    assert sum(1 for s in parsed.records if s.doi) == dois
    labels = [s.label for s in parsed.records]
    assert len(set(labels)) == len(labels)


def test_corpus_reference_details(corpus):
    refs = corpus / "refs"
    bib = parse_references(refs / "bbt-latex-escapes-506rec.bib").records
    assert not any("\\" in (s.title or "") or "{" in (s.title or "") for s in bib)
    titles = " ".join(s.title or "" for s in bib)
    assert "Caractérisation" in titles and "Opto-Électroniques" in titles
    authors = {a for s in bib for a in s.authors or []}
    assert "Müller, M." in authors
    (many,) = parse_references(refs / "asreview-ris_many_authors.ris").records
    assert len(many.authors) > 7000
    corrupted = parse_references(refs / "jabref-RisImporterCorrupted.ris")
    assert corrupted.warnings and corrupted.records[0].title.startswith("Editorial: Open Source")
    cjk = parse_references(refs / "bbt-cjk-names.biblatex").records
    assert cjk[0].authors == ["东方不败"] and cjk[0].label == "东方不败 n.d."
    csl = parse_references(refs / "bbt-26rec-shortdoi.csl.json").records
    assert csl[0].doi == "10/fqd6hj"
    edtf = parse_references(refs / "bbt-edtf-dates.csl.json").records
    assert [s.year for s in edtf][:4] == [2011, 2011, 2011, 2017]
    ovid = parse_references(refs / "asreview-ovid-psycinfo.ris").records
    assert ovid[0].pages is None  # "No / Specified" is not a page range
    embase = parse_references(refs / "asreview-embase.ris").records
    assert embase[0].label.startswith("Liu 2014")


def test_importing_the_same_export_twice_finds_every_duplicate(corpus):
    first = parse_references(corpus / "refs" / "reflib-medline-cancer-20rec.nbib").records
    again = parse_references(corpus / "refs" / "reflib-medline-cancer-20rec.nbib").records
    kept, duplicates = dedupe(again, first)
    assert kept == [] and len(duplicates) == 20


def test_non_reference_corpus_files_are_refused_clearly(corpus):
    with pytest.raises(ImportFailed, match="not a reference file"):
        parse_references(corpus / "xsd" / "Codebook-mrt2019.xsd")
    with pytest.raises(ImportFailed):
        parse_references(corpus / "pdf" / "corrupted-zlib-stream.pdf")
