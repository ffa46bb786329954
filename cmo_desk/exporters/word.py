"""Write an evidence table as a Word document a journal would accept as it is.

Landscape A4 with narrow margins, a title block, one table per group under a heading, the header
row repeated on every page, rows free to break across pages, and the included studies' reference
list at the end. python-docx keeps the document model (styles, sections, footer); table bodies
are written as WordprocessingML directly because its per-cell API costs seconds on thousands of rows.
"""

from __future__ import annotations

import datetime as _dt
import io
import os
import re
import uuid
import zipfile
from collections.abc import Callable, Iterator
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any
from xml.sax.saxutils import escape

from cmo_desk.domain.cancel import check_export_cancel
from cmo_desk.domain.i18n import is_rtl, tr
from cmo_desk.exporters import ExportFailed, atomic_target
from cmo_desk.exporters.tables import SLOT_COLUMNS, Column, Table
from cmo_desk.exporters.textclean import clean_text, one_line

if TYPE_CHECKING:
    from docx.document import Document as DocxDocument

W_NS = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"

#: Fonts: Latin/Cyrillic text, Chinese (present on every Chinese Windows; LibreOffice substitutes
#: Noto/WenQuanYi elsewhere), and the complex-script font Word uses for Arabic.
LATIN_FONT = "Calibri"
EAST_ASIAN_FONT = "SimSun"
COMPLEX_SCRIPT_FONT = "Arial"

TABLE_STYLE_ID = "CMOTableText"
TABLE_STYLE_NAME = "CMO Evidence Table"
TABLE_STYLE_NAME_ID = "CMOEvidenceTable"
#: Estimated lines below which a row is kept on one page; a longer row may break.
_KEEP_WHOLE_LINES = 18
#: Lines of 9-point text a landscape A4 page holds under the title and the header row, roughly:
#: a row longer than this continues in a row of its own.
_PAGE_LINES = 34
_FONT_HALF_POINTS = 18  # 9 pt
_WIDE_TABLE_FONT_HALF_POINTS = 16  # 8 pt, so that words still fit in a table of many columns
_WIDE_TABLE_COLUMNS = 10
_PAGE_WIDTH_MM = 297.0
_PAGE_HEIGHT_MM = 210.0
_MARGIN_MM = 12.7  # Word's "Narrow" margins
_TWIPS_PER_MM = 1440 / 25.4
_CANCEL_CHECK_ROWS = 200

def write_docx(
    table: Table,
    path: str | os.PathLike[str],
    progress: Callable[[int, int], None] | None = None,
    cancel: Callable[[], bool] | None = None,
) -> Path:
    """Write ``table`` to ``path`` (.docx). Replaces an existing file only once writing succeeded.

    ``progress(done_rows, total_rows)`` is called as groups are written; when ``cancel()`` returns
    True the export stops with ``Cancelled`` and no file is written.
    """
    target = Path(path)
    total = table.row_count
    done = 0

    check_cancel = partial(check_export_cancel, cancel)
    check_cancel()
    doc = _new_document(table)
    writer = _TableXml(table, heading_style=doc.styles["Heading 2"].style_id)
    # python-docx keeps the document model (styles, title block, footer, references); the table
    # body is streamed into word/document.xml group by group where a marker paragraph stands,
    # so neither the body's XML nor its element tree is ever held whole in memory.
    marker = f"CMO-DESK-TABLE-BODY-{uuid.uuid4().hex}"
    doc.add_paragraph(marker)
    _add_references(doc, table)
    check_cancel()
    model = io.BytesIO()
    doc.save(model)
    del doc

    def body() -> Iterator[str]:
        nonlocal done
        for group in table.groups:
            check_cancel()
            if group.heading:
                yield writer.heading_xml(group.heading)
            if group.rows:
                yield from writer.table_chunks(group.rows, check_cancel)
            else:
                yield writer.paragraph_xml(tr("No records to show.", table.lang))
            done += len(group.rows)
            if progress is not None:
                progress(done, total)
        if not table.groups:
            yield writer.paragraph_xml(tr("No records to show.", table.lang))

    with atomic_target(target) as tmp:
        try:
            _write_with_body(model, tmp, marker, body())
        except OSError as err:
            raise ExportFailed(
                tr("Cannot write {path}: {reason}. Check the disk has free space and try again.",
                   table.lang).format(path=target, reason=err.strerror or err)
            ) from err
        check_cancel()
    if progress is not None:
        progress(total, total)
    return target


_DOCUMENT_PART = "word/document.xml"
_APP_PART = "docProps/app.xml"
_FONT_TABLE_PART = "word/fontTable.xml"


def _app_xml() -> bytes:
    """Extended properties naming the program that wrote the file (the template's name Word for
    Mac, version 14)."""
    import cmo_desk

    return (
        "<?xml version='1.0' encoding='UTF-8' standalone='yes'?>\n"
        '<Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/'
        'extended-properties">'
        f"<Application>CMO Desk {escape(cmo_desk.__version__)}</Application>"
        "<DocSecurity>0</DocSecurity><ScaleCrop>false</ScaleCrop>"
        "<LinksUpToDate>false</LinksUpToDate><SharedDoc>false</SharedDoc>"
        "<HyperlinksChanged>false</HyperlinksChanged></Properties>"
    ).encode("utf-8")
_FLUSH_CHARS = 1 << 20


def _write_with_body(model: io.BytesIO, out: Path, marker: str, body: Iterator[str]) -> None:
    """Copy the .docx in ``model`` to ``out``, putting ``body`` where the marker paragraph is."""
    with zipfile.ZipFile(model) as source, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dest:
        for info in source.infolist():
            if info.filename == _APP_PART:
                dest.writestr(info, _app_xml())
                continue
            if info.filename == _FONT_TABLE_PART:
                table_xml = source.read(info).decode("utf-8")
                dest.writestr(info, _UNUSED_TEMPLATE_FONTS.sub("", table_xml).encode("utf-8"))
                continue
            if info.filename != _DOCUMENT_PART:
                dest.writestr(info, source.read(info))
                continue
            xml = source.read(info).decode("utf-8")
            at = xml.index(marker)
            start = max(xml.rfind("<w:p>", 0, at), xml.rfind("<w:p ", 0, at))
            end = xml.index("</w:p>", at) + len("</w:p>")
            entry = zipfile.ZipInfo(info.filename, date_time=info.date_time)
            entry.compress_type = zipfile.ZIP_DEFLATED
            with dest.open(entry, "w") as stream:
                stream.write(xml[:start].encode("utf-8"))
                pending: list[str] = []
                size = 0
                for chunk in body:
                    pending.append(chunk)
                    size += len(chunk)
                    if size >= _FLUSH_CHARS:
                        stream.write("".join(pending).encode("utf-8"))
                        pending, size = [], 0
                stream.write("".join(pending).encode("utf-8"))
                stream.write(xml[end:].encode("utf-8"))


def _new_document(table: Table) -> DocxDocument:
    import docx
    from docx.enum.section import WD_ORIENT
    from docx.shared import Mm, Pt, RGBColor

    doc = docx.Document()
    lang = table.lang
    block = table.title_block
    props = doc.core_properties
    props.title = f"{block.title} — {block.project_title}"
    props.author = ", ".join(block.coders)
    props.last_modified_by = ""
    props.comments = ""
    props.keywords = "realist review; CMOC"
    # python-docx's template says it was made in 2013 in Word for Mac; say when and how it was.
    now = _dt.datetime.now(_dt.timezone.utc).replace(microsecond=0, tzinfo=None)
    props.created = now
    props.modified = now
    props.last_printed = now
    props.revision = 1
    props.subject = block.project_title
    props.category = ""

    section = doc.sections[0]
    section.orientation = WD_ORIENT.LANDSCAPE
    section.page_width = Mm(_PAGE_WIDTH_MM)
    section.page_height = Mm(_PAGE_HEIGHT_MM)
    for side in ("left_margin", "right_margin", "top_margin", "bottom_margin"):
        setattr(section, side, Mm(_MARGIN_MM))
    section.header_distance = Mm(6)
    section.footer_distance = Mm(6)

    styles = doc.styles
    normal = styles["Normal"]
    normal.font.name = LATIN_FONT
    normal.font.size = Pt(10)
    _style_fonts(normal, lang)
    normal.paragraph_format.space_after = Pt(3)
    for name, size in (("Heading 1", 15), ("Heading 2", 11)):
        style = styles[name]
        style.font.name = LATIN_FONT
        style.font.size = Pt(size)
        style.font.color.rgb = RGBColor(0, 0, 0)
        _style_fonts(style, lang)
        style.paragraph_format.space_before = Pt(10 if name == "Heading 2" else 0)
        style.paragraph_format.space_after = Pt(4)
        style.paragraph_format.keep_with_next = True
    from docx.enum.style import WD_STYLE_TYPE

    cell_style = styles.add_style("CMO Table Text", WD_STYLE_TYPE.PARAGRAPH)
    cell_style.element.set(f"{{{W_NS}}}styleId", TABLE_STYLE_ID)
    cell_style.base_style = normal
    wide = len(table.columns) > _WIDE_TABLE_COLUMNS
    cell_style.font.size = Pt((_WIDE_TABLE_FONT_HALF_POINTS if wide else _FONT_HALF_POINTS) / 2)
    _style_fonts(cell_style, lang)
    fmt = cell_style.paragraph_format
    fmt.space_before = Pt(0)
    fmt.space_after = Pt(1)
    fmt.line_spacing = 1.0
    _add_table_style(doc)
    _one_east_asian_font(doc)

    heading = doc.add_heading(level=1)
    _add_text_run(heading, f"{block.caption}. {block.title}" if block.caption else block.title, lang)
    for label, value in (
        (table.labels.get("project", "Project"), block.project_title),
        (table.labels.get("date", "Date"), block.date),
        (table.labels.get("coders", "Coders"), ", ".join(block.coders)),
    ):
        if value:
            para = doc.add_paragraph()
            _add_text_run(para, f"{label}: ", lang).bold = True
            _add_text_run(para, value, lang)
    counts = " · ".join(f"{label}: {number}" for label, number in block.counts)
    if counts:
        _add_text_run(doc.add_paragraph(), counts, lang)
    for note in (*block.notes, *block.legend):
        para = doc.add_paragraph()
        _add_text_run(para, note, lang).italic = True

    _add_footer(doc, table)
    return doc


def _add_table_style(doc: DocxDocument) -> None:
    """The named table style every evidence table uses: borders, cell margins, a shaded and
    repeated header row. A journal's editor can restyle all tables by changing this one style."""
    from docx.enum.style import WD_STYLE_TYPE

    style = doc.styles.add_style(TABLE_STYLE_NAME, WD_STYLE_TYPE.TABLE)
    element = style.element
    element.set(f"{{{W_NS}}}styleId", TABLE_STYLE_NAME_ID)
    border = '<w:{side} w:val="single" w:sz="4" w:space="0" w:color="{color}"/>'
    borders = "".join(
        border.format(side=side, color=color)
        for side, color in (("top", "404040"), ("left", "BFBFBF"), ("bottom", "404040"),
                            ("right", "BFBFBF"), ("insideH", "A6A6A6"), ("insideV", "BFBFBF"))
    )
    xml = (
        f'<w:root xmlns:w="{W_NS}"><w:tblPr><w:tblBorders>{borders}</w:tblBorders>'
        '<w:tblCellMar><w:top w:w="28" w:type="dxa"/><w:left w:w="68" w:type="dxa"/>'
        '<w:bottom w:w="28" w:type="dxa"/><w:right w:w="68" w:type="dxa"/></w:tblCellMar>'
        '</w:tblPr><w:tblStylePr w:type="firstRow"><w:rPr><w:b/><w:bCs/></w:rPr>'
        '<w:tcPr><w:shd w:val="clear" w:color="auto" w:fill="E7E6E6"/></w:tcPr>'
        "</w:tblStylePr></w:root>"
    )
    from docx.oxml import parse_xml

    for child in parse_xml(xml):
        element.append(child)


def _one_east_asian_font(doc: DocxDocument) -> None:
    """Every style names the same Chinese font: python-docx's template points many styles at
    theme fonts that Word resolves to Japanese ones (MS Mincho, MS Gothic), so a heading and the
    text beneath it would show Chinese in two different typefaces."""
    from docx.oxml.ns import qn

    for fonts in doc.styles.element.iter(qn("w:rFonts")):
        if fonts.get(qn("w:eastAsiaTheme")) is not None or fonts.get(qn("w:eastAsia")):
            fonts.attrib.pop(qn("w:eastAsiaTheme"), None)
            fonts.set(qn("w:eastAsia"), EAST_ASIAN_FONT)


#: Fonts of python-docx's template that no part of an export uses once every style names
#: ``EAST_ASIAN_FONT``; listing them would make Word substitute them for nothing.
_UNUSED_TEMPLATE_FONTS = re.compile(r'<w:font w:name="(?:ＭＳ 明朝|ＭＳ ゴシック)">.*?</w:font>', re.S)


def _style_fonts(style: Any, lang: str) -> None:
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    rpr = style.element.get_or_add_rPr()
    fonts = rpr.find(qn("w:rFonts"))
    if fonts is None:
        fonts = OxmlElement("w:rFonts")
        rpr.insert(0, fonts)
    for attr in ("w:asciiTheme", "w:hAnsiTheme", "w:eastAsiaTheme", "w:cstheme"):
        fonts.attrib.pop(qn(attr), None)
    fonts.set(qn("w:ascii"), LATIN_FONT)
    fonts.set(qn("w:hAnsi"), LATIN_FONT)
    fonts.set(qn("w:eastAsia"), EAST_ASIAN_FONT)
    fonts.set(qn("w:cs"), COMPLEX_SCRIPT_FONT)
    lang_el = rpr.find(qn("w:lang"))
    if lang_el is None:
        lang_el = OxmlElement("w:lang")
        rpr.append(lang_el)
    # w:val is the language of Latin-script text; marking it Chinese makes LibreOffice break
    # English words at any letter. Chinese text is covered by w:eastAsia.
    lang_el.set(qn("w:val"), "en-GB")
    lang_el.set(qn("w:eastAsia"), "zh-CN")
    lang_el.set(qn("w:bidi"), "ar-SA")


def _add_text_run(paragraph: Any, text: str, lang: str) -> Any:
    """Add cleaned ``text`` as a run with the East Asian font named and right-to-left marked."""
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    text = clean_text(text).replace("\n", " ")
    run = paragraph.add_run(text)
    rpr = run._r.get_or_add_rPr()
    fonts = OxmlElement("w:rFonts")
    fonts.set(qn("w:eastAsia"), EAST_ASIAN_FONT)
    rpr.insert(0, fonts)
    if is_rtl(text):
        rpr.append(OxmlElement("w:rtl"))
        ppr = paragraph._p.get_or_add_pPr()
        if ppr.find(qn("w:bidi")) is None:
            ppr.append(OxmlElement("w:bidi"))
    return run


def _add_footer(doc: DocxDocument, table: Table) -> None:
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    footer = doc.sections[0].footer
    para = footer.paragraphs[0] if footer.paragraphs else footer.add_paragraph()
    block = table.title_block
    # The page number is a field; the words around it follow the language ("Page 3", "第 3 页").
    before, _, after = tr("Page {page}", table.lang).partition("{page}")
    _add_text_run(para, f"{block.project_title} — {block.title} — {before}", table.lang)
    run = para.add_run()
    for kind, text in (("begin", None), (None, "PAGE"), ("separate", None), (None, None), ("end", None)):
        if kind:
            fld = OxmlElement("w:fldChar")
            fld.set(qn("w:fldCharType"), kind)
            run._r.append(fld)
        elif text:
            instr = OxmlElement("w:instrText")
            instr.set(qn("xml:space"), "preserve")
            instr.text = f" {text} "
            run._r.append(instr)
        else:
            shown = OxmlElement("w:t")
            shown.text = "1"
            run._r.append(shown)
    if after:
        _add_text_run(para, after, table.lang)


def _add_references(doc: DocxDocument, table: Table) -> None:
    from docx.shared import Mm

    if not table.studies:
        return
    heading = doc.add_heading(level=2)
    _add_text_run(heading, table.references_heading or "References", table.lang)
    for study in table.studies:
        para = doc.add_paragraph()
        para.paragraph_format.left_indent = Mm(8)
        para.paragraph_format.first_line_indent = Mm(-8)
        label = one_line(study.label)
        citation = one_line(study.citation())
        if label and label != citation:
            _add_text_run(para, f"[{label}] ", table.lang).bold = True
        _add_text_run(para, citation or label, table.lang)


# Runs a line cannot break inside: anything but spaces, hyphens and CJK characters
# (which break between any two characters).
_UNBREAKABLE = re.compile(
    "[^\\s\\-\u2010-\u2015\u2e80-\u9fff\uac00-\ud7af\uf900-\ufaff\uff00-\uffef]+"
)
#: Average advance of a character in em, generous enough for the wide fonts LibreOffice
#: substitutes for Calibri; a longer word than this allows would be split mid-word.
_EM_PER_CHAR = 0.7
_BOLD_EM_PER_CHAR = 0.76
_CELL_PADDING_TWIPS = 2 * 68 + 40
#: Tokens longer than this (URLs, DOIs) break whatever the width; they do not size columns.
_MAX_WORD_CHARS = 20


def _longest_words(table: Table) -> list[tuple[int, int]]:
    """Per column: (longest unbreakable run in the heading, longest in any cell)."""
    out = []
    for column in table.columns:
        heading = max((len(w) for w in _UNBREAKABLE.findall(column.heading)), default=0)
        longest = 0
        seen: set[str] = set()
        for _group, row in table.iter_rows():
            text = row.get(column.key, "")
            if not text or text in seen:
                continue
            seen.add(text)
            for word in _UNBREAKABLE.findall(text):
                if longest < len(word) <= _MAX_WORD_CHARS:
                    longest = len(word)
        out.append((min(heading, _MAX_WORD_CHARS), longest))
    return out


def _fit_longest_words(
    widths: list[int], longest: list[tuple[int, int]], size_pt: float, usable: int
) -> list[int]:
    """Widen columns whose longest word would be split, taking the room from columns with spare."""
    twips_per_em = size_pt * 20
    # Calibri needs about 0.5 em a character, the wide substitutes up to 0.7: allow for the
    # widest font whose words still all fit, so that Word and LibreOffice alike keep them whole.
    for scale in (1.0, 0.9, 0.8, 0.72):
        needed = [
            int(max(h * _BOLD_EM_PER_CHAR, c * _EM_PER_CHAR) * scale * twips_per_em)
            + _CELL_PADDING_TWIPS
            for h, c in longest
        ]
        if sum(needed) < usable:
            break
    else:
        # No layout fits every word: share the page in proportion to what each column needs.
        return [int(usable * n / sum(needed)) for n in needed]
    short = sum(max(0, n - w) for n, w in zip(needed, widths, strict=True))
    if short == 0:
        return widths
    spare = [max(0, w - n) for n, w in zip(needed, widths, strict=True)]
    total_spare = sum(spare)
    return [
        max(w, n) if n >= w else w - int(short * s / total_spare)
        for n, w, s in zip(needed, widths, spare, strict=True)
    ]


class _TableXml:
    """WordprocessingML for one table per group, as text: one parse per table, not per cell."""

    def __init__(self, table: Table, heading_style: str = "Heading2") -> None:
        self.heading_style = heading_style
        self.columns: list[Column] = list(table.columns)
        usable = (_PAGE_WIDTH_MM - 2 * _MARGIN_MM) * _TWIPS_PER_MM
        weights = [max(c.width_weight, 0.1) for c in self.columns] or [1.0]
        total = sum(weights)
        self.widths = [int(usable * w / total) for w in weights]
        if self.columns:
            wide = len(self.columns) > _WIDE_TABLE_COLUMNS
            size = (_WIDE_TABLE_FONT_HALF_POINTS if wide else _FONT_HALF_POINTS) / 2
            self.widths = _fit_longest_words(self.widths, _longest_words(table), size, int(usable))
        # No w:hint="eastAsia": it makes Latin words in Chinese exports wrap like CJK text,
        # breaking them at any letter.
        self.fonts = f'<w:rFonts w:eastAsia="{EAST_ASIAN_FONT}"/>'
        grid = "".join(f'<w:gridCol w:w="{w}"/>' for w in self.widths)
        # Borders, margins and the header's look come from the named table style.
        self.head = (
            f'<w:tbl xmlns:w="{W_NS}"><w:tblPr><w:tblStyle w:val="{TABLE_STYLE_NAME_ID}"/>'
            f'<w:tblW w:w="{sum(self.widths)}" w:type="dxa"/>'
            '<w:tblLayout w:type="fixed"/>'
            '<w:tblLook w:val="04A0" w:firstRow="1" w:lastRow="0" w:firstColumn="0" '
            'w:lastColumn="0" w:noHBand="1" w:noVBand="1"/>'
            f"</w:tblPr><w:tblGrid>{grid}</w:tblGrid>"
        )
        size = (_WIDE_TABLE_FONT_HALF_POINTS if len(self.columns) > _WIDE_TABLE_COLUMNS
                else _FONT_HALF_POINTS) / 2
        #: Characters a line of each column holds, roughly (for keeping short rows whole).
        self.line_chars = [max(4, int((w - _CELL_PADDING_TWIPS) / (size * 20 * 0.55)))
                           for w in self.widths]
        self.empty_mark = {"NR": "NR", "dash": "–"}.get(table.options.empty, "")
        self.continued = tr("{label}, cont.", table.lang)
        header_cells = "".join(
            self._cell(column.heading, width, bold=True)
            for column, width in zip(self.columns, self.widths, strict=False)
        )
        # tblHeader repeats the row at the top of every page; no cantSplit, so a long row may break.
        self.header_row = f"<w:tr><w:trPr><w:tblHeader/></w:trPr>{header_cells}</w:tr>"

    def heading_xml(self, text: str) -> str:
        return self._paragraph(one_line(text), bold=False, style=self.heading_style)

    def paragraph_xml(self, text: str) -> str:
        return self._paragraph(one_line(text), bold=False, style=None)

    def table_chunks(
        self, rows: list[dict[str, str]], check_cancel: Callable[[], None]
    ) -> Iterator[str]:
        """One table: its head, then one string per row, then its end."""
        yield self.head + self.header_row
        keys = [c.key for c in self.columns]
        cell = self._cell
        widths = self.widths
        slots = [key in SLOT_COLUMNS and bool(self.empty_mark) for key in keys]
        for n, row in enumerate(rows, 1):
            texts = [row.get(key, "") or (self.empty_mark if slot else "")
                     for key, slot in zip(keys, slots, strict=False)]
            # A short row stays on one page. A row longer than a page continues in rows of its
            # own whose first cell says "(continued)", so a reader on the next page knows whose
            # evidence it is; a paragraph longer than a page may still break.
            parts = self._parts(texts)
            # A part of a split row is at most about a page: keep it whole too.
            keep = _PAGE_LINES if len(parts) > 1 else _KEEP_WHOLE_LINES
            for part in parts:
                props = "<w:trPr><w:cantSplit/></w:trPr>" if self._lines(part) <= keep else ""
                yield f"<w:tr>{props}" + "".join(
                    cell(text, width) for text, width in zip(part, widths, strict=False)
                ) + "</w:tr>"
            if n % _CANCEL_CHECK_ROWS == 0:
                check_cancel()
        yield "</w:tbl>"

    def _lines(self, texts: list[str]) -> int:
        """Lines the tallest cell needs, roughly."""
        return max((sum(1 + len(p) // chars for p in text.split("\n"))
                    for text, chars in zip(texts, self.line_chars, strict=False)), default=1)

    def _parts(self, texts: list[str]) -> list[list[str]]:
        """The row as one or more rows of at most about a page each, split between paragraphs."""
        if self._lines(texts) <= _PAGE_LINES:
            return [texts]
        columns: list[list[str]] = []
        for text, chars in zip(texts, self.line_chars, strict=False):
            pieces: list[str] = []
            current: list[str] = []
            used = 0
            for paragraph in text.split("\n"):
                need = 1 + len(paragraph) // chars
                if current and used + need > _PAGE_LINES:
                    pieces.append("\n".join(current))
                    current, used = [], 0
                current.append(paragraph)
                used += need
            pieces.append("\n".join(current))
            columns.append(pieces)
        count = max(len(p) for p in columns)
        if count == 1:
            return [texts]
        parts = [[p[i] if i < len(p) else "" for p in columns] for i in range(count)]
        label = one_line(texts[0]) if texts else ""
        for part in parts[1:]:
            part[0] = self.continued.format(label=label)
        return parts

    def _cell(self, text: str, width: int, bold: bool = False) -> str:
        props = f'<w:tcPr><w:tcW w:w="{width}" w:type="dxa"/></w:tcPr>'
        lines = clean_text(text).split("\n") if text else [""]
        paragraphs = "".join(self._paragraph(line, bold) for line in lines)
        return f"<w:tc>{props}{paragraphs}</w:tc>"

    def _paragraph(self, line: str, bold: bool, style: str | None = TABLE_STYLE_ID) -> str:
        rtl = is_rtl(line)
        style_xml = f'<w:pStyle w:val="{style}"/>' if style else ""
        ppr = f'<w:pPr>{style_xml}{"<w:bidi/>" if rtl else ""}</w:pPr>'
        if not line:
            return f"<w:p>{ppr}</w:p>"
        rpr = f"<w:rPr>{self.fonts}{'<w:b/><w:bCs/>' if bold else ''}{'<w:rtl/>' if rtl else ''}</w:rPr>"
        segments = line.split("\t")
        body = "<w:tab/>".join(
            f'<w:t xml:space="preserve">{escape(seg)}</w:t>' if seg else "" for seg in segments
        )
        return f"<w:p>{ppr}<w:r>{rpr}{body}</w:r></w:p>"
