"""Full texts -> plain text with page boundaries, keeping the original bytes.

Pages are joined with a blank line ("\\n\\n") rather than a form feed: a form feed is illegal in
XML, and the text ends up in Word and QDPX exports. ``page_starts[i]`` is the character offset at
which page ``i + 1`` begins, so ``Document.page_at(offset)`` can cite pages.

Heavy libraries (pypdfium2, lxml, charset-normalizer) are imported inside the functions that need
them, so that opening the desk does not pay for them.
"""

from __future__ import annotations

import hashlib
import os
import re
import zipfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from cmo_desk.domain.cancel import Cancel, check_import_cancel
from cmo_desk.domain.errors import ImportFailed, PasswordRequired
from cmo_desk.domain.i18n import tr
from cmo_desk.importers.textnorm import (
    clean_text,
    find_doi,
    hyphenated_vocabulary,
    join_letter_spacing,
    reflow,
    strip_controls,
)

ProgressCallback = Callable[[int, int], None]
CancelCallback = Cancel

PAGE_SEPARATOR = "\n\n"

#: Zip containers (DOCX, ODT) larger than this once unpacked are refused: real articles are far
#: smaller, and a zip bomb would exhaust an old laptop's memory.
MAX_UNZIPPED_BYTES = 200 * 1024 * 1024
#: A member this big that compresses better than MAX_RATIO:1 is treated as a bomb.
BIG_MEMBER_BYTES = 10 * 1024 * 1024
MAX_RATIO = 100
MAX_FILE_BYTES = 1024 * 1024 * 1024
#: More pages than any report or book a review codes; a crafted file lists 200,000.
MAX_PDF_PAGES = 5_000
#: Roughly one printed page: where a DOI of the document itself would appear.
FIRST_PAGE_CHARS = 6000

MEDIA_TYPES = {
    ".pdf": "application/pdf",
    ".docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    ".odt": "application/vnd.oasis.opendocument.text",
    ".txt": "text/plain",
    ".text": "text/plain",
    ".md": "text/plain",
    ".html": "text/html",
    ".htm": "text/html",
    ".xhtml": "text/html",
}
SUPPORTED_EXTENSIONS = (".pdf", ".docx", ".odt", ".txt", ".html", ".htm")

_FILENAME_LIKE_TITLE = re.compile(
    r"(^microsoft (word|powerpoint) - )|(\.(docx?|pdf|txt|tex|dvi|rtf|odt|indd|qxd|ps)$)|"
    r"^(untitled|title|document\d*|doi:.*|\s*)$",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class ExtractedText:
    text: str
    page_starts: list[int]
    media_type: str
    #: Library name and version, e.g. "pypdfium2 5.1".
    extractor: str
    warnings: list[str] = field(default_factory=list)
    needs_ocr: bool = False
    title: str | None = None
    doi: str | None = None
    original: bytes = b""
    sha256: str = ""

    @property
    def page_count(self) -> int:
        return len(self.page_starts)


def supported_extensions() -> tuple[str, ...]:
    return SUPPORTED_EXTENSIONS


def extract_file(
    path: str | os.PathLike[str],
    password: str | None = None,
    progress: ProgressCallback | None = None,
    cancel: CancelCallback | None = None,
) -> ExtractedText:
    """Read a full-text file. Raises ImportFailed (or PasswordRequired, Cancelled) with a message
    saying what is wrong and what to do."""
    path = Path(path)
    suffix = path.suffix.lower()
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            raise ImportFailed(
                tr("{name} is larger than 1 GB; split it or import a smaller copy.").format(
                    name=path.name
                )
            )
        data = path.read_bytes()
    except ImportFailed:
        raise
    except OSError as err:
        raise ImportFailed(
            tr("Cannot read {name}: {reason}. Check that the file exists and is not open elsewhere.").format(
                name=path.name, reason=err.strerror or err
            )
        ) from None
    if not suffix and data[:1024].lstrip().startswith(b"%PDF"):
        suffix = ".pdf"
    return extract_bytes(data, path.name, suffix, password=password, progress=progress, cancel=cancel)


def extract_bytes(
    data: bytes,
    filename: str,
    suffix: str | None = None,
    password: str | None = None,
    progress: ProgressCallback | None = None,
    cancel: CancelCallback | None = None,
) -> ExtractedText:
    """As :func:`extract_file`, for bytes already in memory (``suffix`` defaults to the filename's)."""
    suffix = (suffix or Path(filename).suffix).lower()
    if suffix == ".pdf":
        result = _extract_pdf(data, filename, password, progress, cancel)
    elif suffix == ".docx":
        result = _extract_docx(data, filename, progress, cancel)
    elif suffix == ".odt":
        result = _extract_odt(data, filename, progress, cancel)
    elif suffix in (".txt", ".text", ".md"):
        result = _extract_txt(data, filename)
    elif suffix in (".html", ".htm", ".xhtml"):
        result = _extract_html(data, filename)
    elif suffix in (".doc", ".rtf", ".wpd"):
        raise ImportFailed(
            tr("{name}: old Word/RTF files cannot be read. Save it as .docx or PDF and import that.").format(
                name=filename
            )
        )
    else:
        raise ImportFailed(
            tr("{name}: this kind of file cannot be imported as a full text. Supported: {types}.").format(
                name=filename, types=", ".join(SUPPORTED_EXTENSIONS)
            )
        )
    if progress and suffix != ".pdf":
        progress(1, 1)
    return result


def join_pages(pages: list[str]) -> tuple[str, list[int]]:
    """The pages as one text, and the offset at which each page begins."""
    page_starts: list[int] = []
    offset = 0
    for index, page in enumerate(pages):
        if index:
            offset += len(PAGE_SEPARATOR)
        page_starts.append(offset)
        offset += len(page)
    return PAGE_SEPARATOR.join(pages), page_starts


def _finish(
    pages: list[str],
    media_type: str,
    extractor: str,
    data: bytes,
    warnings: list[str],
    title: str | None,
    doi: str | None,
    needs_ocr: bool = False,
) -> ExtractedText:
    text, page_starts = join_pages(pages)
    if doi is None and media_type != "application/pdf":
        # Only the opening of the text: a DOI further down is usually in the reference list.
        doi = find_doi(text[:FIRST_PAGE_CHARS])
    if not page_starts:
        page_starts = [0]
    return ExtractedText(
        text=text,
        page_starts=page_starts,
        media_type=media_type,
        extractor=extractor,
        warnings=warnings,
        needs_ocr=needs_ocr,
        title=_usable_title(title),
        doi=doi,
        original=data,
        sha256=hashlib.sha256(data).hexdigest(),
    )


def _usable_title(title: str | None) -> str | None:
    if not title:
        return None
    title = " ".join(strip_controls(title).split())
    if len(title) < 4 or _FILENAME_LIKE_TITLE.search(title) or looks_like_junk_title(title):
        return None
    return title


#: Lines at the top of a first page, or PDF metadata, that are not a study's title.
_JUNK_TITLE_RE = re.compile(
    r"publishing corporation|^(hindawi|elsevier|springer|biomed central|bmc|wiley|plos one|frontiers)\b|"
    r"^(research|original|review|short|brief)( article| report| communication)?$|open access$|"
    r"^arxiv:|\d{8,}|\d\s*\.\.\s*\d|^(volume|vol\.)\s*\d|^page \d|^\d+$",
    re.IGNORECASE,
)
_ARTICLE_TYPE_PREFIX_RE = re.compile(
    r"^(research|original|review|short|brief)( article| report| communication)?\s+(?=[A-Z])", re.IGNORECASE
)


def looks_like_junk_title(text: str) -> bool:
    """Publisher boilerplate, identifiers and page ranges ("Hindawi Publishing Corporation",
    "6489122611071476 1..10"), or a line that is mostly not letters."""
    text = " ".join(text.split())
    letters = sum(ch.isalpha() for ch in text)
    return bool(_JUNK_TITLE_RE.search(text)) or letters < max(4, len(text.replace(" ", "")) // 2)


def _largest_text(document: Any) -> str | None:
    """The first page's text set in the largest type that reads as a title (three words or more,
    not boilerplate): the whole title block, whatever its line breaks."""
    import ctypes

    import pypdfium2.raw as pdfium_raw

    if len(document) == 0:
        return None
    page = document[0]
    textpage = page.get_textpage()
    try:
        rect = pdfium_raw.FS_RECTF()
        groups: dict[int, list[list[str]]] = {}
        size: int | None = None
        run: list[str] = []
        for index in range(min(textpage.count_chars(), 20_000)):
            ch = chr(pdfium_raw.FPDFText_GetUnicode(textpage.raw, index))
            if ch.isspace() or ch in "\x02\ufffe\x00":
                run.append(" ")
                continue
            if pdfium_raw.FPDFText_GetLooseCharBox(textpage.raw, index, ctypes.byref(rect)):
                this = round(abs(rect.top - rect.bottom))
            else:
                this = size or 0
            if this != size and run:
                groups.setdefault(size or 0, []).append(run)
                run = []
            size = this
            run.append(ch)
        if run:
            groups.setdefault(size or 0, []).append(run)
    finally:
        textpage.close()
        page.close()
    for _, runs in sorted(groups.items(), reverse=True):
        text = " ".join(" ".join("".join(r).split()) for r in runs)
        text = _ARTICLE_TYPE_PREFIX_RE.sub("", text).strip()
        if len(text.split()) >= 3 and not looks_like_junk_title(text):
            return text[:300]
    return None


# --- PDF -------------------------------------------------------------------------------------


def _copying_allowed(document: Any) -> bool:
    """Whether the PDF's permission flags allow copying text (bit 5 of the P entry)."""
    try:
        import pypdfium2.raw as pdfium_c

        flags = pdfium_c.FPDF_GetDocPermissions(document.raw) & 0xFFFFFFFF
    except Exception:  # an older pypdfium2 without the raw call: say nothing rather than guess
        return True
    return bool(flags & 0x10)


def _extract_pdf(
    data: bytes,
    filename: str,
    password: str | None,
    progress: ProgressCallback | None,
    cancel: CancelCallback | None,
) -> ExtractedText:
    import pypdfium2 as pdfium
    import pypdfium2.raw as pdfium_raw

    warnings: list[str] = []
    head = data[:1024]
    if b"%PDF" not in head:
        looks_html = b"<html" in head.lower() or b"<!doctype" in head.lower()
        raise ImportFailed(
            (
                tr("{name} is a web page saved with a .pdf name, not a PDF. Download the article's PDF again.")
                if looks_html
                else tr("{name} is not a PDF (it has no PDF header). Check the file or download it again.")
            ).format(name=filename)
        )
    try:
        try:
            # Without the password first: a PDF with only an owner password (copy or print
            # restrictions) opens without one, and giving it one it does not have fails.
            document = pdfium.PdfDocument(data)
        except pdfium.PdfiumError as err:
            if password is None or getattr(err, "err_code", None) != pdfium_raw.FPDF_ERR_PASSWORD:
                raise
            document = pdfium.PdfDocument(data, password=password)
    except pdfium.PdfiumError as err:
        code = getattr(err, "err_code", None)
        if code == pdfium_raw.FPDF_ERR_PASSWORD:
            if password is None:
                raise PasswordRequired(
                    tr("{name} is protected by a password. Import it again with its password (use --password).").format(
                        name=filename
                    )
                ) from None
            raise ImportFailed(
                tr("{name}: the password is wrong. Check it and import the file again.").format(name=filename)
            ) from None
        if code == pdfium_raw.FPDF_ERR_SECURITY:
            raise ImportFailed(
                tr("{name} uses an encryption scheme that cannot be opened. Save an unprotected copy and import that.").format(
                    name=filename
                )
            ) from None
        raise ImportFailed(
            tr("{name} is damaged and cannot be read as a PDF. Download it again or re-save it from a PDF viewer.").format(
                name=filename
            )
        ) from None

    try:
        if b"%%EOF" not in data[-2048:]:
            warnings.append(
                tr("The file looks truncated (no end-of-file marker); some pages or text may be missing.")
            )
        if not _copying_allowed(document):
            # The text is still read (quoting for research is the user's call), but they are told.
            warnings.append(
                tr("The PDF's owner restricted copying its text; check the licence before quoting it in an export.")
            )
        total = len(document)
        if total > MAX_PDF_PAGES:
            raise ImportFailed(
                tr("{name} has {pages} pages, more than the {limit} a study's full text can have; it is not "
                   "imported. Import the chapters or the part the review needs.").format(
                    name=filename, pages=f"{total:,}", limit=f"{MAX_PDF_PAGES:,}")
            )
        raw_pages: list[str] = []
        unreadable: list[int] = []
        for index in range(total):
            check_import_cancel(cancel)
            try:
                page = document[index]
                textpage = page.get_textpage()
                raw_pages.append(textpage.get_text_range())
                textpage.close()
                page.close()
            except pdfium.PdfiumError:
                unreadable.append(index + 1)
                raw_pages.append("")
            if progress:
                progress(index + 1, total)
        metadata = {}
        try:
            metadata = document.get_metadata_dict()
        except pdfium.PdfiumError:
            pass
        largest = None
        if _usable_title(metadata.get("Title")) is None and raw_pages:
            first_line = next((line.strip() for line in raw_pages[0].splitlines() if line.strip()), "")
            if not first_line or looks_like_junk_title(first_line):
                # Junk metadata and a boilerplate first line: the title is the first page's
                # largest text.
                try:
                    largest = _largest_text(document)
                except pdfium.PdfiumError:
                    largest = None
    finally:
        document.close()

    if unreadable:
        warnings.append(
            tr("Pages {pages} could not be read; the file may be damaged.").format(pages=_page_list(unreadable))
        )
    # The join mark U+FFFE sits where pdfium removed a line-end hyphen; decide like a line-end
    # hyphen whether it was a real hyphen, using the words the document hyphenates elsewhere.
    joined_raw = "\n".join(raw_pages)
    vocabulary = hyphenated_vocabulary(joined_raw.replace("\ufffe", " "))
    # Paragraphs read as paragraphs: lines the layout broke inside a sentence are joined, and
    # headings set in spaced capitals closed up; each page on its own, so page starts stay true.
    pages = [
        reflow(join_letter_spacing(clean_text(_PDFIUM_JOIN_RE.sub(_pdfium_join, page), vocabulary)))
        for page in raw_pages
    ]

    visible = sum(len("".join(page.split())) for page in pages)
    needs_ocr = total == 0 or visible < 10 * total
    if needs_ocr:
        warnings.append(tr("No text layer — needs OCR before coding."))
    else:
        empty = [i + 1 for i, page in enumerate(pages) if not page.strip() and i + 1 not in unreadable]
        if empty:
            warnings.append(
                tr("Pages {pages} have no text (scanned or blank).").format(pages=_page_list(empty))
            )

    title = _usable_title(metadata.get("Title")) or largest
    doi = None
    for key in ("Subject", "Keywords", "Title"):
        doi = find_doi(metadata.get(key) or "")
        if doi:
            break
    if doi is None:
        doi = find_doi("\n".join(pages[:2]))
    extractor = f"pypdfium2 {_version('pypdfium2')}"
    return _finish(pages, "application/pdf", extractor, data, warnings, title, doi, needs_ocr)


_PDFIUM_JOIN_RE = re.compile("\ufffe(?=(.?))", re.S)


def _pdfium_join(match: re.Match[str]) -> str:
    # Before a lower-case letter the break may have split one word: let clean_text decide as for
    # any line-end hyphen. Otherwise ("Lucene-BM25") the hyphen is part of the text.
    return "-\n" if match.group(1).islower() else "-"


def _page_list(numbers: list[int]) -> str:
    shown = ", ".join(str(n) for n in numbers[:20])
    return shown + (" …" if len(numbers) > 20 else "")


@lru_cache(maxsize=None)
def _version(distribution: str) -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(distribution)
    except PackageNotFoundError:
        return "?"


# --- zip containers (DOCX, ODT) --------------------------------------------------------------


#: What zipfile raises on damaged archives (bad headers, unknown methods, bad CRC, bad deflate data).
_ZIP_ERRORS = (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError, ValueError, NotImplementedError, RuntimeError, zlib.error, KeyError)


def open_zip_checked(data: bytes, filename: str, kind: str) -> zipfile.ZipFile:
    """Open a zip container, refusing archives that would unpack to an unsafe size."""
    import io

    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except _ZIP_ERRORS:
        raise ImportFailed(
            tr("{name} is damaged or is not a real {kind} file. Open it in a word processor and save it again.").format(
                name=filename, kind=kind
            )
        ) from None
    total = 0
    for info in archive.infolist():
        total += info.file_size
        ratio = info.file_size / max(info.compress_size, 1)
        if total > MAX_UNZIPPED_BYTES or (info.file_size > BIG_MEMBER_BYTES and ratio > MAX_RATIO):
            archive.close()
            raise ImportFailed(
                tr("{name} unpacks to an implausibly large size and was refused as unsafe. Re-save it from a word processor.").format(
                    name=filename
                )
            )
    return archive


def _read_member(archive: zipfile.ZipFile, name: str, filename: str, kind: str) -> bytes | None:
    if name not in archive.NameToInfo:
        return None
    try:
        # Read through a cap rather than trusting the size the archive declares: a crafted
        # header can claim kilobytes for a member that unpacks to gigabytes.
        chunks: list[bytes] = []
        total = 0
        with archive.open(name) as fh:
            while chunk := fh.read(1 << 20):
                total += len(chunk)
                if total > MAX_UNZIPPED_BYTES:
                    raise ImportFailed(
                        tr("{name} unpacks to an implausibly large size and was refused as unsafe. Re-save it from a word processor.").format(
                            name=filename
                        )
                    )
                chunks.append(chunk)
        return b"".join(chunks)
    except _ZIP_ERRORS:
        raise ImportFailed(
            tr("{name} is damaged or is not a real {kind} file. Open it in a word processor and save it again.").format(
                name=filename, kind=kind
            )
        ) from None


def _parse_xml(raw: bytes, filename: str, kind: str) -> Any:
    from lxml import etree

    parser = etree.XMLParser(
        resolve_entities=False, no_network=True, huge_tree=False, remove_comments=True, load_dtd=False
    )
    try:
        return etree.fromstring(raw, parser)
    except etree.XMLSyntaxError:
        raise ImportFailed(
            tr("{name} is damaged or is not a real {kind} file. Open it in a word processor and save it again.").format(
                name=filename, kind=kind
            )
        ) from None


W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
MC_FALLBACK = "{http://schemas.openxmlformats.org/markup-compatibility/2006}Fallback"
DC_TITLE = "{http://purl.org/dc/elements/1.1/}title"


#: Where a hard page break sat, until the text is split into pages (never left in the text).
_PAGE_MARK = "\x0c"


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
                text = " ".join(line.replace(_PAGE_MARK, " ") for line in inner.lines if line.strip())
                if text:
                    parts.append(" " + text + " ")
            elif tag in (W + "instrText", W + "delText", W + "rPr", W + "pPr"):
                continue
            else:
                self._runs(child, parts)

    def cell_text(self, cell: Any) -> str:
        inner = _DocxWriter(self.notes, self.numbering)
        inner.block(cell)
        return " ".join(line.replace(_PAGE_MARK, " ").strip() for line in inner.lines
                        if line.replace(_PAGE_MARK, " ").strip())

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
            if any(cells):
                self.lines.append(" | ".join(c for c in cells))


def _extract_docx(
    data: bytes, filename: str, progress: ProgressCallback | None, cancel: CancelCallback | None
) -> ExtractedText:
    kind = "Word (.docx)"
    with open_zip_checked(data, filename, kind) as archive:
        body_xml = _read_member(archive, "word/document.xml", filename, kind)
        if body_xml is None:
            # Some writers use a different part name; the package relationships say which.
            rels = _read_member(archive, "_rels/.rels", filename, kind)
            target = None
            if rels:
                match = re.search(rb'Target="/?([^"]+)"[^>]*officeDocument|officeDocument"[^>]*Target="/?([^"]+)"', rels)
                if match:
                    target = (match.group(1) or match.group(2)).decode("utf-8", "replace")
            body_xml = _read_member(archive, target, filename, kind) if target else None
        if body_xml is None:
            raise ImportFailed(
                tr("{name} is damaged or is not a real {kind} file. Open it in a word processor and save it again.").format(
                    name=filename, kind=kind
                )
            )
        check_import_cancel(cancel)
        notes = {
            "footnotes": _read_member(archive, "word/footnotes.xml", filename, kind),
            "endnotes": _read_member(archive, "word/endnotes.xml", filename, kind),
        }
        core = _read_member(archive, "docProps/core.xml", filename, kind)
        numbering_xml = _read_member(archive, "word/numbering.xml", filename, kind)

    root = _parse_xml(body_xml, filename, kind)
    body = root.find(W + "body")
    try:
        numbering = _Numbering(_parse_xml(numbering_xml, filename, kind) if numbering_xml else None)
    except ImportFailed:
        numbering = _Numbering()  # damaged list definitions: the text without its numbers
    writer = _DocxWriter(numbering=numbering)
    if body is not None:
        writer.block(body)
    lines = writer.lines
    labels_of = writer.notes
    labels = {"footnotes": tr("Footnotes"), "endnotes": tr("Endnotes")}
    for part, raw in notes.items():
        if not raw:
            continue
        check_import_cancel(cancel)
        note_root = _parse_xml(raw, filename, kind)
        note_lines: list[str] = []
        for note in note_root:
            if note.get(W + "type") in ("separator", "continuationSeparator", "continuationNotice"):
                continue
            inner = _DocxWriter(labels_of)
            inner.block(note)
            text = " ".join(line.replace(_PAGE_MARK, " ").strip() for line in inner.lines
                            if line.replace(_PAGE_MARK, " ").strip())
            if text:
                note_lines.append(f"[{labels_of.label(part, note.get(W + 'id', ''))}] {text}")
        if note_lines:
            lines += ["", labels[part], *note_lines]
    title = None
    if core:
        try:
            title_el = _parse_xml(core, filename, kind).find(DC_TITLE)
            title = title_el.text if title_el is not None else None
        except ImportFailed:
            title = None
    # Hard page breaks make pages, so that an excerpt cites the page a reader finds it on.
    pages = [clean_text(_join_lines(chunk.split("\n"))) for chunk in "\n".join(lines).split(_PAGE_MARK)]
    while len(pages) > 1 and not pages[-1].strip():
        pages.pop()  # a break at the very end starts no page
    warnings: list[str] = []
    if not any(page.strip() for page in pages):
        warnings.append(tr("The document has no text."))
    return _finish(pages, MEDIA_TYPES[".docx"], f"lxml {_version('lxml')} (docx)", data, warnings, title, None)


def _join_lines(lines: list[str]) -> str:
    text = "\n".join(lines)
    return re.sub(r"\n{3,}", "\n\n", text).strip("\n")


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


def _extract_odt(
    data: bytes, filename: str, progress: ProgressCallback | None, cancel: CancelCallback | None
) -> ExtractedText:
    kind = "OpenDocument (.odt)"
    with open_zip_checked(data, filename, kind) as archive:
        content = _read_member(archive, "content.xml", filename, kind)
        meta = _read_member(archive, "meta.xml", filename, kind)
    if content is None:
        raise ImportFailed(
            tr("{name} is damaged or is not a real {kind} file. Open it in a word processor and save it again.").format(
                name=filename, kind=kind
            )
        )
    check_import_cancel(cancel)
    root = _parse_xml(content, filename, kind)
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
            title = _parse_xml(meta, filename, kind).findtext(f".//{DC_TITLE}")
        except ImportFailed:
            title = None
    text = clean_text(_join_lines(lines))
    warnings = [] if text.strip() else [tr("The document has no text.")]
    return _finish([text], MEDIA_TYPES[".odt"], f"lxml {_version('lxml')} (odt)", data, warnings, title, None)


# --- plain text and HTML ---------------------------------------------------------------------

_BOMS = (
    (b"\xef\xbb\xbf", "utf-8-sig"),
    (b"\xff\xfe\x00\x00", "utf-32-le"),
    (b"\x00\x00\xfe\xff", "utf-32-be"),
    (b"\xff\xfe", "utf-16-le"),
    (b"\xfe\xff", "utf-16-be"),
)


#: How telling a letter is of the languages each code page serves (1 common, 0.5 rarer): a cp1250
#: reading is believed over cp1252 only when its letters are the likelier ones (otherwise Western
#: text is misread: "naïve" as "naďve", "Seán" as "Seįn").
_WESTERN_LETTERS = dict.fromkeys("éáíóúàèçñãõâêôüöäïëîûßÉÁÍÓÚÀÈÇÑÃÕÂÊÔÜÖÄÏËÎÛ", 1.0) | dict.fromkeys(
    "ìòùåæøÌÒÙÅÆØýÝ", 0.5
)
_CENTRAL_EUROPEAN_LETTERS = dict.fromkeys("čřšžěůłąęśćńźżőűățșşČŘŠŽĚŮŁĄĘŚĆŃŹŻŐŰĂȚȘŞ", 1.0) | dict.fromkeys(
    "ďťňľĺŕţĎŤŇĽĹŔŢ", 0.5
)
_CENTRAL_EUROPEAN_PAGES = frozenset({"cp1250", "iso8859_2", "latin_2", "mac_latin2", "cp852"})


def _letter_scores(western: str, central: str) -> tuple[float, float]:
    """How telling the letters are where the two readings differ."""
    pairs = [(a, b) for a, b in zip(western, central) if a != b]
    return (sum(_WESTERN_LETTERS.get(a, 0.0) for a, _ in pairs),
            sum(_CENTRAL_EUROPEAN_LETTERS.get(b, 0.0) for _, b in pairs))


def _bomless_utf16(data: bytes) -> str | None:
    """"utf-16-le"/"utf-16-be" when the bytes read as UTF-16 without a byte-order mark."""
    sample = data[:8192]
    if len(sample) < 8:
        return None
    sample = sample[: len(sample) - len(sample) % 2]
    even, odd = sample[0::2], sample[1::2]
    zeros_even, zeros_odd = even.count(0), odd.count(0)
    half = len(even)
    for encoding, zeros, other in (("utf-16-le", zeros_odd, zeros_even), ("utf-16-be", zeros_even, zeros_odd)):
        if zeros >= 2 and zeros * 5 >= half and other <= half // 100:
            try:
                data[: len(data) - len(data) % 2].decode(encoding)
            except UnicodeDecodeError:
                continue
            return encoding
    return None


def _guess_single_byte(data: bytes, sample: bytes) -> str:
    from charset_normalizer import from_bytes

    matches = list(from_bytes(sample))
    best = matches[0].encoding if matches else "cp1252"
    try:
        western = data.decode("cp1252")
    except UnicodeDecodeError:
        western = None
    if western is None:
        return best
    if best in _CENTRAL_EUROPEAN_PAGES:
        try:
            central = data.decode(best)
        except (UnicodeDecodeError, LookupError):
            return "cp1252"
        west, centre = _letter_scores(western, central)
        if centre > west:
            return best
    # Western European text decodes as many code pages; cp1252 is by far the most common for it.
    return "cp1252"


def decode_text(data: bytes, filename: str) -> tuple[str, list[str]]:
    """Decode bytes of unknown encoding: BOM, then UTF-16 without a BOM, then UTF-8, then a guess
    (with a warning)."""
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            body = data[len(bom):] if encoding != "utf-8-sig" else data
            return body.decode(encoding, errors="replace"), []
    utf16 = _bomless_utf16(data)
    if utf16 is not None:
        return data.decode(utf16, errors="replace"), []
    try:
        return data.decode("utf-8"), []
    except UnicodeDecodeError:
        pass
    sample = data[:2_000_000]
    controls = sum(1 for byte in sample[:65536] if byte < 9 or 13 < byte < 32)
    if controls > len(sample[:65536]) // 50:
        raise ImportFailed(
            tr("{name} is not readable text (it looks like binary data). Check that it is the right file.").format(
                name=filename
            )
        )
    encoding = _guess_single_byte(data, sample)
    text = data.decode(encoding, errors="replace")
    warning = tr("The file is not UTF-8; it was read as {encoding} (a guess). Check accented letters.").format(
        encoding=encoding
    )
    return text, [warning]


def _extract_txt(data: bytes, filename: str) -> ExtractedText:
    text, warnings = decode_text(data, filename)
    if "\x00" in text[:4096] and text.count("\x00") > len(text) // 10:
        raise ImportFailed(
            tr("{name} is not readable text (it looks like binary data). Check that it is the right file.").format(
                name=filename
            )
        )
    text = clean_text(text)
    if not text.strip():
        raise ImportFailed(
            tr("{name} is empty: it holds no text, so no study was made from it. Check that it is the right file.").format(
                name=filename
            )
        )
    first_line = next((line.strip() for line in text.splitlines() if line.strip()), None)
    title = first_line if first_line and len(first_line) <= 300 else None
    return _finish([text], "text/plain", "cmo-desk text", data, warnings, title, None)


_BLOCK_TAGS = frozenset(
    "p div section article header footer aside nav main h1 h2 h3 h4 h5 h6 ul ol li dl dt dd table "
    "thead tbody tfoot tr blockquote pre figure figcaption address hr form fieldset caption".split()
)
_SKIP_TAGS = frozenset("script style noscript template head svg math iframe object button select".split())


def _extract_html(data: bytes, filename: str) -> ExtractedText:
    import lxml.html
    from lxml import etree

    warnings: list[str] = []
    try:
        root = lxml.html.document_fromstring(data)
    except (etree.ParserError, ValueError, etree.XMLSyntaxError):
        text, warnings = decode_text(data, filename)
        try:
            root = lxml.html.document_fromstring(text)
        except (etree.ParserError, ValueError, etree.XMLSyntaxError):
            raise ImportFailed(
                tr("{name} could not be read as a web page. Save it as PDF or text and import that.").format(
                    name=filename
                )
            ) from None
    title = root.findtext(".//title")
    parts: list[str] = []

    def walk(element: Any, preformatted: bool) -> None:
        tag = element.tag if isinstance(element.tag, str) else ""
        tag = tag.lower()
        if tag in _SKIP_TAGS:
            if element.tail:
                parts.append(_html_space(element.tail, preformatted))
            return
        block = tag in _BLOCK_TAGS
        pre = preformatted or tag == "pre"
        if block:
            parts.append("\n\n")
        elif tag == "br":
            parts.append("\n")
        elif tag in ("td", "th"):
            parts.append(" | ")
        if element.text and tag:
            parts.append(_html_space(element.text, pre))
        for child in element:
            walk(child, pre)
        if block:
            parts.append("\n\n")
        if element.tail:
            parts.append(_html_space(element.tail, preformatted))

    body = root.find("body")
    walk(body if body is not None else root, False)
    text = "".join(parts)
    text = re.sub(r"[ \t]*\n[ \t]*", "\n", text)
    text = re.sub(r"\n(\s*\|\s*)", "\n", text)
    text = re.sub(r"\n{3,}", "\n\n", text).strip()
    text = clean_text(text)
    if not text:
        warnings.append(tr("The document has no text."))
    return _finish([text], "text/html", f"lxml {_version('lxml')} (html)", data, warnings, title, None)


def _html_space(text: str, preformatted: bool) -> str:
    return text if preformatted else re.sub(r"\s+", " ", text)
