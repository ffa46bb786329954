from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cmo_desk.domain.errors import Cancelled, ImportFailed, PasswordRequired
from cmo_desk.domain.records import Document
from cmo_desk.importers.fulltext import extract_bytes, extract_file
from cmo_desk.importers.textnorm import clean_text, normalise_doi

W_NS = 'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"'


def test_pdf_pages_have_offsets_that_cite_the_right_page(pdf_builder, write_file):
    data = pdf_builder(
        [["Peer support improved adherence", "doi:10.1234/ABC.5678"], ["Second page: trust mattered"]],
        title="Peer support and adherence",
    )
    result = extract_file(write_file("study.pdf", data))
    assert result.page_starts[0] == 0 and len(result.page_starts) == 2
    doc = Document(id="d", text=result.text, page_starts=result.page_starts)
    assert doc.page_at(result.text.index("trust mattered")) == 2
    assert doc.page_at(result.text.index("adherence")) == 1
    assert result.title == "Peer support and adherence"
    assert result.doi == "10.1234/abc.5678"
    assert result.original == data and len(result.sha256) == 64
    assert result.extractor.startswith("pypdfium2 ")
    assert not result.needs_ocr and result.warnings == []


def test_encrypted_pdf_asks_for_password_and_rejects_a_wrong_one(pdf_builder):
    data = pdf_builder([["Confidential interview findings"]], user_password="s3cret")
    with pytest.raises(PasswordRequired, match="--password"):
        extract_bytes(data, "locked.pdf")
    with pytest.raises(ImportFailed, match="password is wrong"):
        extract_bytes(data, "locked.pdf", password="guess")
    assert "Confidential interview findings" in extract_bytes(data, "locked.pdf", password="s3cret").text


def test_image_only_pdf_is_imported_but_flagged_for_ocr(pdf_builder):
    result = extract_bytes(pdf_builder([[], []], image_only_pages=(0, 1)), "scan.pdf")
    assert result.needs_ocr
    assert any("needs OCR" in w for w in result.warnings)
    assert len(result.page_starts) == 2


def test_a_blank_page_among_text_pages_is_reported(pdf_builder):
    lines = ["A line of ordinary article text that is long enough"] * 3
    result = extract_bytes(pdf_builder([lines, [], lines], image_only_pages=(1,)), "gap.pdf")
    assert not result.needs_ocr
    assert any("Pages 2 have no text" in w for w in result.warnings)


def test_damaged_and_fake_pdfs_are_refused_with_reasons(pdf_builder):
    with pytest.raises(ImportFailed, match="web page"):
        extract_bytes(b"<!DOCTYPE html><html><body>Login</body></html>", "article.pdf")
    with pytest.raises(ImportFailed, match="not a PDF"):
        extract_bytes(b"\x00\x01 random bytes", "article.pdf")
    with pytest.raises(ImportFailed, match="damaged"):
        extract_bytes(b"%PDF-1.4\n" + b"\x00garbage" * 20, "article.pdf")
    whole = pdf_builder([["Some text that survives the cut"]])
    result = extract_bytes(whole[: whole.rindex(b"%%EOF")], "cut.pdf")
    assert "survives the cut" in result.text
    assert any("truncated" in w for w in result.warnings)
    with pytest.raises(ImportFailed, match="damaged"):
        extract_bytes(whole[: len(whole) // 2], "half.pdf")


def test_progress_is_reported_per_page_and_cancel_stops(pdf_builder):
    data = pdf_builder([["page one"], ["page two"], ["page three"]])
    seen: list[tuple[int, int]] = []
    extract_bytes(data, "p.pdf", progress=lambda done, total: seen.append((done, total)))
    assert seen == [(1, 3), (2, 3), (3, 3)]
    with pytest.raises(Cancelled):
        extract_bytes(data, "p.pdf", cancel=lambda: True)


def test_clean_text_fixes_pdf_artefacts_but_keeps_scripts():
    raw = "e\ufb03cient \ufb01ndings\r\nhealth-\r\ncare wor\u00adkers\u0007 trust-\nbased\t\u4e2d\u6587 \u0627\u0644\u0639\u0631\u0628\u064a\u0629 \uff08full\uff09"
    text = clean_text(raw, hyphenated_words=frozenset({"trust-based"}))
    assert "efficient findings" in text
    assert "healthcare workers" in text
    assert "trust-based" in text
    assert "\u0007" not in text and "\r" not in text
    assert "\u4e2d\u6587 \u0627\u0644\u0639\u0631\u0628\u064a\u0629 \uff08full\uff09" in text  # no NFKC on CJK/Arabic


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("https://doi.org/10.1000/ABC", "10.1000/abc"),
        ("doi: 10.1000/xyz.", "10.1000/xyz"),
        ("http://dx.doi.org/10.1002/cpp.2398", "10.1002/cpp.2398"),
        ("10/fqd6hj", "10/fqd6hj"),
        ("not a doi", None),
    ],
)
def test_doi_normalisation(raw, expected):
    assert normalise_doi(raw) == expected


def _docx(body: str, footnotes: str | None = None, zip_builder=None) -> bytes:
    members = {"word/document.xml": f'<w:document {W_NS}><w:body>{body}</w:body></w:document>'}
    if footnotes:
        members["word/footnotes.xml"] = f"<w:footnotes {W_NS}>{footnotes}</w:footnotes>"
    members["docProps/core.xml"] = (
        '<cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/core-properties" '
        'xmlns:dc="http://purl.org/dc/elements/1.1/"><dc:title>Realist interview study</dc:title></cp:coreProperties>'
    )
    return zip_builder(members)


def test_docx_reads_paragraphs_tables_and_footnotes_in_order(zip_builder):
    body = (
        "<w:p><w:r><w:t>Before the table</w:t></w:r><w:r><w:footnoteReference w:id=\"1\"/></w:r></w:p>"
        "<w:tbl><w:tr><w:tc><w:p><w:r><w:t>Context</w:t></w:r></w:p></w:tc>"
        "<w:tc><w:p><w:r><w:t>Outcome</w:t></w:r></w:p></w:tc></w:tr></w:tbl>"
        "<w:p><w:r><w:t xml:space=\"preserve\">After </w:t></w:r><w:del><w:r><w:delText>gone</w:delText></w:r></w:del>"
        "<w:r><w:tab/><w:t>the table</w:t></w:r></w:p>"
    )
    notes = (
        '<w:footnote w:type="separator" w:id="-1"><w:p><w:r><w:t>----</w:t></w:r></w:p></w:footnote>'
        '<w:footnote w:id="1"><w:p><w:r><w:t>Interviews were recorded.</w:t></w:r></w:p></w:footnote>'
    )
    result = extract_bytes(_docx(body, notes, zip_builder), "study.docx")
    text = result.text
    assert text.index("Before the table[1]") < text.index("Context | Outcome") < text.index("After \tthe table")
    assert "gone" not in text and "----" not in text
    assert text.rstrip().endswith("Footnotes\n[1] Interviews were recorded.")
    assert result.title == "Realist interview study"
    assert result.page_starts == [0]


def test_docx_made_with_python_docx(tmp_path):
    import docx

    document = docx.Document()
    document.add_paragraph("Nurses trusted the programme.")
    table = document.add_table(rows=1, cols=2)
    table.rows[0].cells[0].text = "C: rural"
    table.rows[0].cells[1].text = "O: uptake"
    path = tmp_path / "made.docx"
    document.save(path)
    text = extract_file(path).text
    assert "Nurses trusted the programme.\nC: rural | O: uptake" in text


def test_zip_bombs_and_broken_docx_are_refused(zip_builder):
    bomb = zip_builder({"word/document.xml": b"<" + b"a" * (12 * 1024 * 1024)})
    with pytest.raises(ImportFailed, match="unsafe"):
        extract_bytes(bomb, "bomb.docx")
    with pytest.raises(ImportFailed, match="damaged"):
        extract_bytes(b"PK\x03\x04 not really", "broken.docx")
    with pytest.raises(ImportFailed, match="damaged"):
        extract_bytes(zip_builder({"word/document.xml": "<w:document"}), "broken.docx")


def test_xml_entities_are_not_expanded(zip_builder):
    body = '<!DOCTYPE d [<!ENTITY x SYSTEM "file:///etc/passwd">]><w:document ' + W_NS + "><w:body><w:p><w:r><w:t>&x;safe</w:t></w:r></w:p></w:body></w:document>"
    result = extract_bytes(zip_builder({"word/document.xml": body}), "evil.docx")
    assert "root:" not in result.text


def test_odt_paragraphs_tables_and_notes(zip_builder):
    content = (
        '<office:document-content xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
        'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" '
        'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0"><office:body><office:text>'
        "<text:h>Findings</text:h><text:p>Staff<text:s text:c=\"2\"/>felt valued"
        '<text:note><text:note-citation>1</text:note-citation><text:note-body><text:p>Focus groups.</text:p>'
        "</text:note-body></text:note>.</text:p>"
        "<table:table><table:table-row><table:table-cell><text:p>A</text:p></table:table-cell>"
        "<table:table-cell><text:p>B</text:p></table:table-cell></table:table-row></table:table>"
        "</office:text></office:body></office:document-content>"
    )
    text = extract_bytes(zip_builder({"content.xml": content}), "s.odt").text
    assert text.startswith("Findings\nStaff  felt valued[1].\nA | B")
    assert text.endswith("Notes\n[1] Focus groups.")


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ("Café €".encode("utf-16"), "Café €"),
        ("\ufeffCafé".encode("utf-8"), "Café"),
        ("Café".encode("utf-8"), "Café"),
    ],
)
def test_txt_encodings_with_bom_or_utf8(data, expected):
    result = extract_bytes(data, "notes.txt")
    assert result.text == expected and result.warnings == []


def test_legacy_encoding_is_guessed_with_a_warning():
    data = ("Les infirmières ont été très impliquées dans la décision. " * 5).encode("cp1252")
    result = extract_bytes(data, "notes.txt")
    assert "infirmières" in result.text
    assert any("not UTF-8" in w for w in result.warnings)


def test_binary_data_named_txt_is_refused():
    with pytest.raises(ImportFailed, match="binary"):
        extract_bytes(bytes(range(256)) * 20, "data.txt")


def test_html_drops_scripts_and_keeps_paragraphs():
    html = (
        b"<html><head><title>Realist evaluation</title><style>p{color:red}</style></head><body>"
        b"<script>var x = 1;</script><p>First   paragraph.</p><p>Second<br>line</p></body></html>"
    )
    result = extract_bytes(html, "page.html")
    assert result.text == "First paragraph.\n\nSecond\nline"
    assert result.title == "Realist evaluation"


def test_unsupported_types_name_what_is_supported(write_file):
    with pytest.raises(ImportFailed, match=r"\.pdf, \.docx"):
        extract_file(write_file("slides.pptx", b"x"))
    with pytest.raises(ImportFailed, match=r"\.docx"):
        extract_file(write_file("old.doc", b"x"))
    with pytest.raises(ImportFailed, match="Cannot read"):
        extract_file(write_file("a.pdf", b"x").with_name("missing.pdf"))


def _sample_docx() -> bytes:
    import io

    import docx

    document = docx.Document()
    document.add_paragraph("Managers listened to staff.")
    document.add_table(rows=2, cols=2).rows[0].cells[0].text = "cell"
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


_DOCX = _sample_docx()


@settings(max_examples=50, deadline=2000)
@given(flips=st.lists(st.tuples(st.integers(0, len(_DOCX) - 1), st.integers(0, 255)), min_size=1, max_size=10))
def test_damaged_docx_is_read_or_refused_never_crashes(flips):
    damaged = bytearray(_DOCX)
    for position, value in flips:
        damaged[position] = value
    try:
        extract_bytes(bytes(damaged), "damaged.docx")
    except ImportFailed as err:
        assert "damaged" in str(err) or "unsafe" in str(err)
