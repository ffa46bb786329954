"""OpenDocument text (.odt): paragraphs, headings and tables in reading order, notes gathered
at the end."""

from __future__ import annotations

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


TEXT_NS = "{urn:oasis:names:tc:opendocument:xmlns:text:1.0}"
TABLE_NS = "{urn:oasis:names:tc:opendocument:xmlns:table:1.0}"
OFFICE_NS = "{urn:oasis:names:tc:opendocument:xmlns:office:1.0}"


#: Most spaces one ``<text:s text:c="N"/>`` gives: a page is never wider; a crafted file asks
#: for two thousand million (gigabytes of spaces).
MAX_ODT_SPACES = 200


def _space_count(value: str | None) -> int:
    try:
        count = int(value or 1)
    except ValueError:
        count = 1
    return max(1, min(count, MAX_ODT_SPACES))


def _odt_inline(element: Any, parts: list[str], notes: list[str]) -> None:
    if element.text:
        parts.append(element.text)
    for child in element:
        tag = child.tag
        if tag == TEXT_NS + "s":
            parts.append(" " * _space_count(child.get(TEXT_NS + "c")))
        elif tag == TEXT_NS + "tab":
            parts.append("\t")
        elif tag == TEXT_NS + "line-break":
            parts.append("\n")
        elif tag == TEXT_NS + "note":
            citation = child.findtext(TEXT_NS + "note-citation") or str(len(notes) + 1)
            body = child.find(TEXT_NS + "note-body")
            note_parts: list[str] = []
            if body is not None:
                for para in body.iter(TEXT_NS + "p"):
                    _odt_inline(para, note_parts, notes)
                    note_parts.append(" ")
            notes.append(f"[{citation}] {''.join(note_parts).strip()}")
            parts.append(f"[{citation}]")
        elif tag in (TEXT_NS + "tracked-changes", "{urn:oasis:names:tc:opendocument:xmlns:office:1.0}annotation"):
            pass
        elif isinstance(tag, str):
            _odt_inline(child, parts, notes)
        if child.tail:
            parts.append(child.tail)


def _odt_block(element: Any, lines: list[str], notes: list[str]) -> None:
    for child in element:
        tag = child.tag
        if tag in (TEXT_NS + "p", TEXT_NS + "h"):
            parts: list[str] = []
            _odt_inline(child, parts, notes)
            lines.append("".join(parts))
        elif tag == TABLE_NS + "table":
            for row in child.iter(TABLE_NS + "table-row"):
                cells = []
                for cell in row:
                    if cell.tag != TABLE_NS + "table-cell":
                        continue
                    inner: list[str] = []
                    _odt_block(cell, inner, notes)
                    cells.append(" ".join(s.strip() for s in inner if s.strip()))
                if any(cells):
                    lines.append(" | ".join(cells))
        elif tag == TEXT_NS + "tracked-changes":
            continue
        elif isinstance(tag, str):
            _odt_block(child, lines, notes)


def extract_odt(
    data: bytes, filename: str, progress: ProgressCallback | None, cancel: CancelCallback | None
) -> ExtractedText:
    """The text of an OpenDocument (.odt) file, with its notes."""
    kind = "OpenDocument (.odt)"
    with open_zip_checked(data, filename, kind) as archive:
        content = read_member(archive, "content.xml", filename, kind)
        meta = read_member(archive, "meta.xml", filename, kind)
    if content is None:
        raise ImportFailed(
            tr("{name} is damaged or is not a real {kind} file. Open it in a word processor and save it again.").format(
                name=filename, kind=kind
            )
        )
    check_import_cancel(cancel)
    root = parse_part_xml(content, filename, kind)
    body = root.find(f"{OFFICE_NS}body/{OFFICE_NS}text")
    lines: list[str] = []
    notes: list[str] = []
    if body is not None:
        _odt_block(body, lines, notes)
    if notes:
        lines += ["", tr("Notes"), *notes]
    title = None
    if meta:
        try:
            title = parse_part_xml(meta, filename, kind).findtext(f".//{DC_TITLE}")
        except ImportFailed:
            title = None
    text = clean_text(join_lines(lines))
    warnings = [] if text.strip() else [tr("The document has no text.")]
    extractor = f"lxml {library_version('lxml')} (odt)"
    return finish_extraction([text], MEDIA_TYPES[".odt"], extractor, data, warnings, title, None)
