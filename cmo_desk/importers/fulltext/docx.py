"""Word documents (.docx): WordprocessingML in reading order, with list numbers, footnotes and
endnotes as Word shows them, and the pages Word laid out when the file says as many."""

from __future__ import annotations

import re
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from cmo_desk.domain.cancel import check_import_cancel
from cmo_desk.domain.errors import ImportFailed
from cmo_desk.domain.i18n import tr
from cmo_desk.importers.fulltext.containers import DC_TITLE, open_zip_checked, parse_part_xml, read_member
from cmo_desk.importers.fulltext.extracted import (
    MEDIA_TYPES,
    CancelCallback,
    ExtractedText,
    ProgressCallback,
    finish_extraction,
    join_lines,
    library_version,
)
from cmo_desk.importers.textnorm import clean_text

W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
MC_FALLBACK = "{http://schemas.openxmlformats.org/markup-compatibility/2006}Fallback"


#: Where a hard page break sat, until the text is split into pages (never left in the text).
_PAGE_MARK = "\x0c"
#: Where Word's own layout last began a page (w:lastRenderedPageBreak), likewise.
_LAID_OUT_MARK = "\x0e"
#: One page break: a hard break and the laid-out page start Word records beside it are one.
_BREAK_RE = re.compile(r"\x0c[ \t\n]*\x0e|\x0e[ \t\n]*\x0c|[\x0c\x0e]")
#: The page count the saving program wrote in docProps/app.xml.
_PAGES_RE = re.compile(rb"<(?:\w+:)?Pages>\s*(\d+)\s*</(?:\w+:)?Pages>")


def _without_marks(line: str) -> str:
    """The line without page marks: a hard break parts words, a laid-out page start does not (the
    page may have ended inside a hyphenated word)."""
    return line.replace(_PAGE_MARK, " ").replace(_LAID_OUT_MARK, "")


def _roman(number: int) -> str:
    out = ""
    for value, letters in ((1000, "m"), (900, "cm"), (500, "d"), (400, "cd"), (100, "c"), (90, "xc"),
                           (50, "l"), (40, "xl"), (10, "x"), (9, "ix"), (5, "v"), (4, "iv"), (1, "i")):
        while number >= value:
            out += letters
            number -= value
    return out


class _NoteLabels:
    """Footnotes numbered 1, 2, 3 and endnotes i, ii, iii in the order they are referenced, as
    Word shows them (the XML ids are neither)."""

    def __init__(self) -> None:
        self.labels: dict[str, dict[str, str]] = {"footnotes": {}, "endnotes": {}}

    def label(self, part: str, note_id: str) -> str:
        known = self.labels[part]
        if note_id not in known:
            n = len(known) + 1
            known[note_id] = str(n) if part == "footnotes" else _roman(n)
        return known[note_id]


def _letters(number: int) -> str:
    out = ""
    while number > 0:
        number, rem = divmod(number - 1, 26)
        out = chr(ord("a") + rem) + out
    return out


_NUMBER_FORMATS: dict[str, Callable[[int], str]] = {
    "decimal": str,
    "decimalZero": lambda n: f"{n:02d}",
    "lowerLetter": _letters,
    "upperLetter": lambda n: _letters(n).upper(),
    "lowerRoman": _roman,
    "upperRoman": lambda n: _roman(n).upper(),
}
#: Levels read per list and lists per document: far more than any document has.
_MAX_LIST_LEVELS = 9


class _Numbering:
    """List numbers as Word shows them ("I.", "A.", "1.", "a)", "•"), from ``numbering.xml``."""

    def __init__(self, root: Any | None = None) -> None:
        self.levels: dict[str, dict[int, tuple[int, str, str]]] = {}  # numId -> ilvl -> (start, fmt, text)
        self.counters: dict[str, list[int]] = {}
        if root is None:
            return
        abstract: dict[str, dict[int, tuple[int, str, str]]] = {}
        for node in root.iter(W + "abstractNum"):
            levels: dict[int, tuple[int, str, str]] = {}
            for lvl in node.iter(W + "lvl"):
                level = _int_attr(lvl, "ilvl")
                if level is None or not 0 <= level < _MAX_LIST_LEVELS:
                    continue
                start = lvl.find(W + "start")
                fmt = lvl.find(W + "numFmt")
                text = lvl.find(W + "lvlText")
                levels[level] = (
                    _int_attr(start, "val") if start is not None and _int_attr(start, "val") is not None else 1,
                    fmt.get(W + "val", "decimal") if fmt is not None else "decimal",
                    text.get(W + "val", "") if text is not None else "",
                )
            abstract[node.get(W + "abstractNumId", "")] = levels
        for num in root.iter(W + "num"):
            ref = num.find(W + "abstractNumId")
            levels = dict(abstract.get(ref.get(W + "val", "") if ref is not None else "", {}))
            for override in num.iter(W + "lvlOverride"):
                level = _int_attr(override, "ilvl")
                start = override.find(W + "startOverride")
                if level in levels and start is not None and _int_attr(start, "val") is not None:
                    levels[level] = (_int_attr(start, "val") or 0, *levels[level][1:])
            self.levels[num.get(W + "numId", "")] = levels

    def label(self, num_id: str, level: int) -> str:
        levels = self.levels.get(num_id)
        if not levels or level not in levels:
            return ""
        counters = self.counters.setdefault(num_id, [0] * _MAX_LIST_LEVELS)
        start, fmt, _ = levels[level]
        counters[level] = counters[level] + 1 if counters[level] else start
        for deeper in range(level + 1, _MAX_LIST_LEVELS):
            counters[deeper] = 0
        if fmt == "bullet":
            return "\u2022"
        if fmt == "none":
            return ""

        def value(match: re.Match[str]) -> str:
            k = int(match.group(1)) - 1
            if not 0 <= k < _MAX_LIST_LEVELS or k not in levels:
                return ""
            n = counters[k] or levels[k][0]
            return _NUMBER_FORMATS.get(levels[k][1], str)(n)

        return re.sub(r"%([1-9])", value, levels[level][2]).strip()


def _int_attr(element: Any, name: str) -> int | None:
    try:
        return int(element.get(W + name))
    except (TypeError, ValueError):
        return None


class _DocxWriter:
    """Walks WordprocessingML in reading order, emitting paragraphs and table rows as lines."""

    def __init__(self, notes: _NoteLabels | None = None, numbering: _Numbering | None = None) -> None:
        self.lines: list[str] = []
        self.notes = notes or _NoteLabels()
        self.numbering = numbering or _Numbering()

    def block(self, element: Any) -> None:
        for child in element:
            tag = child.tag
            if tag == W + "p":
                if child.find(f"{W}pPr/{W}pageBreakBefore") is not None and child.find(
                    f"{W}pPr/{W}pageBreakBefore"
                ).get(W + "val") not in ("0", "false", "off"):
                    self.lines.append(_PAGE_MARK)
                self.lines.append(self.paragraph(child))
            elif tag == W + "tbl":
                self.table(child)
            elif tag in (W + "sdt", W + "sdtContent", W + "customXml", W + "ins", W + "smartTag"):
                self.block(child)

    def paragraph(self, element: Any) -> str:
        parts: list[str] = []
        self._runs(element, parts)
        text = "".join(parts)
        num = element.find(f"{W}pPr/{W}numPr")
        if num is not None:
            num_id, level = num.find(W + "numId"), num.find(W + "ilvl")
            label = self.numbering.label(
                num_id.get(W + "val", "") if num_id is not None else "",
                (_int_attr(level, "val") or 0) if level is not None else 0,
            )
            if label and text.strip():
                text = f"{label} {text}"
        return text

    def _runs(self, element: Any, parts: list[str]) -> None:
        for child in element:
            tag = child.tag
            if not isinstance(tag, str) or tag == MC_FALLBACK or tag in (W + "del", W + "moveFrom"):
                continue
            if tag == W + "t":
                parts.append(child.text or "")
            elif tag == W + "tab" or tag == W + "ptab":
                parts.append("\t")
            elif tag == W + "br" and child.get(W + "type") == "page":
                parts.append("\n" + _PAGE_MARK + "\n")
            elif tag == W + "lastRenderedPageBreak":
                parts.append(_LAID_OUT_MARK)
            elif tag in (W + "br", W + "cr"):
                parts.append("\n")
            elif tag == W + "noBreakHyphen":
                parts.append("-")
            elif tag in (W + "footnoteReference", W + "endnoteReference"):
                part = "footnotes" if tag == W + "footnoteReference" else "endnotes"
                parts.append(f"[{self.notes.label(part, child.get(W + 'id', ''))}]")
            elif tag == W + "txbxContent":
                inner = _DocxWriter(self.notes, self.numbering)
                inner.block(child)
                text = " ".join(_without_marks(line) for line in inner.lines if line.strip())
                if text:
                    parts.append(" " + text + " ")
            elif tag in (W + "instrText", W + "delText", W + "rPr", W + "pPr"):
                continue
            else:
                self._runs(child, parts)

    def cell_text(self, cell: Any) -> str:
        inner = _DocxWriter(self.notes, self.numbering)
        inner.block(cell)
        return " ".join(_without_marks(line).strip() for line in inner.lines
                        if _without_marks(line).strip())

    def table(self, element: Any) -> None:
        for row in element.iter(W + "tr"):
            if row.getparent() is not element and row.getparent().tag != W + "sdtContent":
                continue  # rows of nested tables are read as part of their cell
            cells: list[str] = []
            for cell in row:
                if cell.tag == W + "sdt":
                    cell = next(cell.iter(W + "tc"), None)
                    if cell is None:
                        continue
                if cell.tag != W + "tc":
                    continue
                merge = cell.find(f"{W}tcPr/{W}vMerge")
                if merge is not None and merge.get(W + "val") in (None, "continue"):
                    continue  # continuation of a vertically merged cell: its text is above
                cells.append(self.cell_text(cell))
            if row.find(f".//{W}lastRenderedPageBreak") is not None:
                self.lines.append(_LAID_OUT_MARK)  # the row moved to a new page when Word laid it out
            if any(cells):
                self.lines.append(" | ".join(c for c in cells))


_DOCX = "Word (.docx)"
#: Word's own marks between the notes and the text; not notes.
_NOTE_SEPARATORS = ("separator", "continuationSeparator", "continuationNotice")


@dataclass
class _DocxParts:
    """The parts of a Word package that hold text: the body, its notes, its list definitions, its
    core properties (the title) and its application properties (the page count)."""

    body: bytes
    notes: dict[str, bytes | None]
    core: bytes | None
    numbering: bytes | None
    app: bytes | None = None


def extract_docx(
    data: bytes, filename: str, progress: ProgressCallback | None, cancel: CancelCallback | None
) -> ExtractedText:
    """The text of a Word (.docx) file, with list numbers, notes and page breaks."""
    parts = _read_docx_parts(data, filename, cancel)
    root = parse_part_xml(parts.body, filename, _DOCX)
    body = root.find(W + "body")
    writer = _DocxWriter(numbering=_numbering(parts.numbering, filename))
    if body is not None:
        writer.block(body)
    lines = writer.lines
    labels = {"footnotes": tr("Footnotes"), "endnotes": tr("Endnotes")}
    for part, raw in parts.notes.items():
        if not raw:
            continue
        check_import_cancel(cancel)
        note_lines = _note_lines(part, parse_part_xml(raw, filename, _DOCX), writer.notes)
        if note_lines:
            lines += ["", labels[part], *note_lines]
    pages = _docx_pages(lines, _stated_pages(parts.app))
    warnings: list[str] = []
    if not any(page.strip() for page in pages):
        warnings.append(tr("The document has no text."))
    title = _core_title(parts.core, filename)
    extractor = f"lxml {library_version('lxml')} (docx)"
    return finish_extraction(pages, MEDIA_TYPES[".docx"], extractor, data, warnings, title, None)


def _read_docx_parts(data: bytes, filename: str, cancel: CancelCallback | None) -> _DocxParts:
    kind = _DOCX
    with open_zip_checked(data, filename, kind) as archive:
        body_xml = read_member(archive, "word/document.xml", filename, kind)
        if body_xml is None:
            body_xml = _body_named_by_relationships(archive, filename)
        if body_xml is None:
            raise ImportFailed(
                tr("{name} is damaged or is not a real {kind} file. Open it in a word processor and save it again.").format(
                    name=filename, kind=kind
                )
            )
        check_import_cancel(cancel)
        return _DocxParts(
            body=body_xml,
            notes={
                "footnotes": read_member(archive, "word/footnotes.xml", filename, kind),
                "endnotes": read_member(archive, "word/endnotes.xml", filename, kind),
            },
            core=read_member(archive, "docProps/core.xml", filename, kind),
            app=read_member(archive, "docProps/app.xml", filename, kind),
            numbering=read_member(archive, "word/numbering.xml", filename, kind),
        )


def _body_named_by_relationships(archive: zipfile.ZipFile, filename: str) -> bytes | None:
    """Some writers use a different part name for the body; the package relationships say which."""
    rels = read_member(archive, "_rels/.rels", filename, _DOCX)
    target = None
    if rels:
        match = re.search(rb'Target="/?([^"]+)"[^>]*officeDocument|officeDocument"[^>]*Target="/?([^"]+)"', rels)
        if match:
            target = (match.group(1) or match.group(2)).decode("utf-8", "replace")
    return read_member(archive, target, filename, _DOCX) if target else None


def _numbering(raw: bytes | None, filename: str) -> _Numbering:
    try:
        return _Numbering(parse_part_xml(raw, filename, _DOCX) if raw else None)
    except ImportFailed:
        return _Numbering()  # damaged list definitions: the text without its numbers


def _note_lines(part: str, note_root: Any, labels_of: _NoteLabels) -> list[str]:
    """One line per footnote or endnote, "[label] text", labelled as the body referred to it."""
    note_lines: list[str] = []
    for note in note_root:
        if note.get(W + "type") in _NOTE_SEPARATORS:
            continue
        inner = _DocxWriter(labels_of)
        inner.block(note)
        text = " ".join(_without_marks(line).strip() for line in inner.lines
                        if _without_marks(line).strip())
        if text:
            note_lines.append(f"[{labels_of.label(part, note.get(W + 'id', ''))}] {text}")
    return note_lines


def _core_title(core: bytes | None, filename: str) -> str | None:
    if not core:
        return None
    try:
        title_el = parse_part_xml(core, filename, _DOCX).find(DC_TITLE)
    except ImportFailed:
        return None
    return title_el.text if title_el is not None else None


def _stated_pages(app: bytes | None) -> int | None:
    """How many pages the program that saved the file counted, when it wrote that down."""
    match = _PAGES_RE.search(app or b"")
    return int(match.group(1)) if match else None


def _docx_pages(lines: list[str], stated: int | None) -> list[str]:
    """The text cut into the pages a reader finds it on: where Word laid out each page, and at
    hard page breaks. Those are page numbers only when they come to the page count the file
    states; otherwise (a file converted by another program, text flowing over many pages between
    two hard breaks) the text is one run without pages, and no page is made up for it."""
    joined = "\n".join(lines)
    pages = [clean_text(join_lines(chunk.split("\n"))) for chunk in _BREAK_RE.split(joined)]
    while len(pages) > 1 and not pages[-1].strip():
        pages.pop()  # a break at the very end starts no page
    if len(pages) > 1 and stated != len(pages):
        return [clean_text(join_lines(_without_marks(joined).split("\n")))]
    return pages
