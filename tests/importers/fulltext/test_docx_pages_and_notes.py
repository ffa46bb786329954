"""DOCX: hard page breaks make pages (so excerpts cite the right page), and footnotes and endnotes
keep the markers Word shows (1, 2 and i, ii), not one "[1]" for both."""

from __future__ import annotations

import io
import zipfile

from cmo_desk.importers.fulltext import extract_bytes


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
    return buf.getvalue()


def test_hard_page_breaks_are_pages():
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
