"""DOCX: the pages Word laid out make pages (so excerpts cite the page a reader finds them on) when
the file's own page count agrees; hard page breaks alone are no page numbers (text flows over many
pages between them). Footnotes and endnotes keep the markers Word shows (1, 2 and i, ii), not one
"[1]" for both."""

from __future__ import annotations

import io
import zipfile

import re
from pathlib import Path

import pytest

from cmo_desk.importers.fulltext import extract_bytes

def _saying_pages(data: bytes, pages: int | None) -> bytes:
    """The package with docProps/app.xml stating ``pages`` pages (None: no count at all, as
    LibreOffice writes it), the way the program that saved it counted them."""
    src, buf = zipfile.ZipFile(io.BytesIO(data)), io.BytesIO()
    with zipfile.ZipFile(buf, "w") as out:
        for item in src.infolist():
            body = src.read(item.filename)
            if item.filename == "docProps/app.xml":
                body = re.sub(rb"<Pages>\d*</Pages>", b"" if pages is None else b"<Pages>%d</Pages>" % pages, body)
            out.writestr(item, body)
    return buf.getvalue()


def _docx_with_breaks() -> bytes:
    import docx
    from docx.enum.text import WD_BREAK

    document = docx.Document()
    document.add_paragraph("Page one: peers in Lilongwe.")
    document.add_page_break()
    document.add_paragraph("Page two: trust grew slowly.")
    run = document.add_paragraph("Still page two. ").add_run("Then a break inside a paragraph")
    run.add_break(WD_BREAK.PAGE)
    document.add_paragraph("Page three: outcomes.")
    table = document.add_table(rows=1, cols=1)
    table.cell(0, 0).text = "a table on page three"
    buf = io.BytesIO()
    document.save(buf)
    return _saying_pages(buf.getvalue(), 3)


def test_hard_page_breaks_are_pages_when_the_file_counts_as_many():
    result = extract_bytes(_docx_with_breaks(), "study.docx")
    doc_pages = [result.text[a:b] for a, b in zip(result.page_starts, [*result.page_starts[1:], len(result.text)])]
    assert len(result.page_starts) == 3
    assert "Page one" in doc_pages[0] and "Page two" not in doc_pages[0]
    assert "trust grew" in doc_pages[1] and "Then a break" in doc_pages[1]
    assert "Page three" in doc_pages[2] and "a table on page three" in doc_pages[2]
    assert "\x0c" not in result.text
    # Offsets agree with the pages: what page_at says is where the words are.
    from cmo_desk.domain.records import Document

    doc = Document(id="d", text=result.text, page_starts=result.page_starts)
    assert doc.page_at(result.text.index("outcomes")) == 3
    assert doc.page_at(result.text.index("trust grew")) == 2


@pytest.mark.parametrize("stated", [None, 1, 7])
def test_hard_page_breaks_are_no_page_numbers_when_the_text_flows_over_more_pages(stated):
    """A report converted by LibreOffice: two hard breaks, but its text fills many pages (or the
    file does not say how many). Its page numbers are not known, so none is made up."""
    result = extract_bytes(_saying_pages(_docx_with_breaks(), stated), "study.docx")
    assert result.page_starts == [0]
    for words in ("Page one", "trust grew", "Then a break", "outcomes", "a table on page three"):
        assert words in result.text
    from cmo_desk.domain.records import Document

    doc = Document(id="d", text=result.text, page_starts=result.page_starts,
                   media_type=result.media_type)
    assert doc.known_page_at(result.text.index("outcomes")) is None


def _docx_laid_out_by_word(stated: int) -> bytes:
    """What Word saves: w:lastRenderedPageBreak where its layout started each new page, inside a
    paragraph, at the start of a table row that moved to the next page, and after a hard break."""
    body = (f'<w:document {W}><w:body>'
            '<w:p><w:r><w:t>Peers met clients at the flats and</w:t><w:lastRenderedPageBreak/>'
            '<w:t xml:space="preserve"> walked with them to the clinic.</w:t></w:r></w:p>'
            '<w:tbl><w:tr><w:tc><w:p><w:r><w:t>Site</w:t></w:r></w:p></w:tc>'
            '<w:tc><w:p><w:r><w:t>Visits</w:t></w:r></w:p></w:tc></w:tr>'
            '<w:tr><w:tc><w:p><w:r><w:lastRenderedPageBreak/><w:t>Lilongwe</w:t></w:r></w:p></w:tc>'
            '<w:tc><w:p><w:r><w:lastRenderedPageBreak/><w:t>42</w:t></w:r></w:p></w:tc></w:tr></w:tbl>'
            '<w:p><w:r><w:t>Trust grew slowly.</w:t><w:br w:type="page"/></w:r></w:p>'
            '<w:p><w:r><w:lastRenderedPageBreak/><w:t>Outcomes after a year.</w:t></w:r></w:p>'
            '<w:p><w:r><w:t>A text box </w:t><w:pict><w:txbxContent><w:p><w:r><w:lastRenderedPageBreak/>'
            '<w:t>floats</w:t></w:r></w:p></w:txbxContent></w:pict></w:r></w:p>'
            '</w:body></w:document>')
    app = ('<Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/extended-properties">'
           f'<Template>Normal.dotm</Template><Pages>{stated}</Pages><Application>Microsoft Office Word</Application>'
           '</Properties>')
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr("word/document.xml", body)
        z.writestr("docProps/app.xml", app)
    return buf.getvalue()


def test_the_pages_word_laid_out_are_the_pages_cited():
    result = extract_bytes(_docx_laid_out_by_word(4), "interview.docx")
    assert "\x0c" not in result.text and "\x0e" not in result.text
    from cmo_desk.domain.records import Document

    doc = Document(id="d", text=result.text, page_starts=result.page_starts,
                   media_type=result.media_type)
    assert doc.page_count == 4
    where = {words: doc.known_page_at(result.text.index(words)) for words in (
        "Peers met", "walked with them", "Site | Visits", "Lilongwe | 42", "Trust grew",
        "Outcomes after", "floats")}
    assert where == {"Peers met": 1, "walked with them": 2, "Site | Visits": 2, "Lilongwe | 42": 3,
                     "Trust grew": 3, "Outcomes after": 4, "floats": 4}


def test_word_pages_that_disagree_with_the_files_count_are_not_cited():
    result = extract_bytes(_docx_laid_out_by_word(9), "interview.docx")
    assert result.page_starts == [0]
    assert "walked with them" in result.text and "Lilongwe | 42" in result.text


def test_real_files_pages_are_the_ones_a_reader_sees(corpus: Path):
    word, converted = (corpus / "docx" / "sheffield-open-qual-interview-Ana.docx",
                       corpus / "docx" / "chinese-tender-doc-14-tables-libreoffice.docx")
    interview = extract_bytes(word.read_bytes(), word.name)
    assert len(interview.page_starts) == 16  # Word saved it as 16 pages and marked where each began
    # LibreOffice wrote no page count and only two hard breaks; it prints as 59 pages.
    assert extract_bytes(converted.read_bytes(), converted.name).page_starts == [0]


W = 'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"'


def _docx_with_notes() -> bytes:
    body = (f'<w:document {W}><w:body>'
            '<w:p><w:r><w:t>Peers helped</w:t></w:r><w:r><w:footnoteReference w:id="2"/></w:r>'
            '<w:r><w:t> and clinics listened</w:t></w:r><w:r><w:endnoteReference w:id="2"/></w:r></w:p>'
            '<w:p><w:r><w:t>Outcomes improved</w:t></w:r><w:r><w:footnoteReference w:id="3"/></w:r></w:p>'
            '</w:body></w:document>')
    notes = ('<w:{kind}s {W}><w:{kind} w:type="separator" w:id="0"><w:p><w:r><w:t>--</w:t></w:r></w:p></w:{kind}>'
             '<w:{kind} w:id="2"><w:p><w:r><w:t>{first}</w:t></w:r></w:p></w:{kind}>'
             '<w:{kind} w:id="3"><w:p><w:r><w:t>{second}</w:t></w:r></w:p></w:{kind}></w:{kind}s>')
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr("word/document.xml", body)
        z.writestr("word/footnotes.xml", notes.format(kind="footnote", W=W, first="Interview 3.", second="Table 2."))
        z.writestr("word/endnotes.xml", notes.format(kind="endnote", W=W, first="See protocol.", second="Unused."))
    return buf.getvalue()


def test_footnote_and_endnote_markers_differ_as_in_word():
    text = extract_bytes(_docx_with_notes(), "notes.docx").text
    assert "Peers helped[1] and clinics listened[i]" in text
    assert "Outcomes improved[2]" in text
    assert "[1] Interview 3." in text and "[2] Table 2." in text
    assert "[i] See protocol." in text and "[ii] Unused." in text


def _docx_with_lists() -> bytes:
    def item(text: str, num: int, level: int) -> str:
        return (f'<w:p><w:pPr><w:numPr><w:ilvl w:val="{level}"/><w:numId w:val="{num}"/></w:numPr></w:pPr>'
                f'<w:r><w:t>{text}</w:t></w:r></w:p>')

    body = (f'<w:document {W}><w:body>'
            + item("Peers", 1, 0) + item("trusted", 1, 1) + item("listened", 1, 1) + item("Clinics", 1, 0)
            + item("first step", 2, 0) + item("second step", 2, 0) + item("a bullet", 3, 0)
            + '</w:body></w:document>')

    def lvl(level: int, fmt: str, text: str, start: int = 1) -> str:
        return (f'<w:lvl w:ilvl="{level}"><w:start w:val="{start}"/><w:numFmt w:val="{fmt}"/>'
                f'<w:lvlText w:val="{text}"/></w:lvl>')

    numbering = (f'<w:numbering {W}>'
                 f'<w:abstractNum w:abstractNumId="0">{lvl(0, "upperRoman", "%1.")}{lvl(1, "lowerLetter", "%1.%2)")}</w:abstractNum>'
                 f'<w:abstractNum w:abstractNumId="1">{lvl(0, "decimal", "Step %1:", start=3)}</w:abstractNum>'
                 f'<w:abstractNum w:abstractNumId="2">{lvl(0, "bullet", "x")}</w:abstractNum>'
                 '<w:num w:numId="1"><w:abstractNumId w:val="0"/></w:num>'
                 '<w:num w:numId="2"><w:abstractNumId w:val="1"/></w:num>'
                 '<w:num w:numId="3"><w:abstractNumId w:val="2"/></w:num></w:numbering>')
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr("word/document.xml", body)
        z.writestr("word/numbering.xml", numbering)
    return buf.getvalue()


def test_list_numbers_are_kept_as_word_shows_them():
    lines = extract_bytes(_docx_with_lists(), "lists.docx").text.split("\n")
    assert lines == ["I. Peers", "I.a) trusted", "I.b) listened", "II. Clinics", "Step 3: first step",
                     "Step 4: second step", "\u2022 a bullet"]
