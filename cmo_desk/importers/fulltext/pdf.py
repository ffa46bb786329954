"""PDF full texts, read with pdfium: page by page, line-end hyphens and layout breaks mended,
with warnings for pages without text, truncation and copy restrictions."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from cmo_desk.domain.cancel import check_import_cancel
from cmo_desk.domain.errors import ImportFailed, PasswordRequired
from cmo_desk.domain.i18n import tr
from cmo_desk.importers.fulltext.extracted import (
    CancelCallback,
    ExtractedText,
    ProgressCallback,
    finish_extraction,
    library_version,
)
from cmo_desk.importers.fulltext.titles import ARTICLE_TYPE_PREFIX_RE, looks_like_junk_title, usable_title
from cmo_desk.importers.textnorm import (
    clean_text,
    find_doi,
    hyphenated_vocabulary,
    join_letter_spacing,
    reflow,
)

#: More pages than any report or book a review codes; a crafted file lists 200,000.
MAX_PDF_PAGES = 5_000


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
        text = ARTICLE_TYPE_PREFIX_RE.sub("", text).strip()
        if len(text.split()) >= 3 and not looks_like_junk_title(text):
            return text[:300]
    return None


def _copying_allowed(document: Any) -> bool:
    """Whether the PDF's permission flags allow copying text (bit 5 of the P entry)."""
    try:
        import pypdfium2.raw as pdfium_c

        flags = pdfium_c.FPDF_GetDocPermissions(document.raw) & 0xFFFFFFFF
    except Exception:  # an older pypdfium2 without the raw call: say nothing rather than guess
        return True
    return bool(flags & 0x10)


@dataclass
class _PdfRead:
    """What is read from a PDF while it is open."""

    raw_pages: list[str]
    #: Page numbers (from 1) pdfium could not read.
    unreadable: list[int]
    metadata: dict[str, str]
    #: The first page's largest text, looked for only when neither the metadata nor the first
    #: line gives a title.
    largest: str | None


def extract_pdf(
    data: bytes,
    filename: str,
    password: str | None,
    progress: ProgressCallback | None,
    cancel: CancelCallback | None,
) -> ExtractedText:
    """The text of a PDF, page by page, with warnings for pages that have no text layer."""
    _check_pdf_header(data, filename)
    document = _open_pdf(data, filename, password)
    warnings: list[str] = []
    try:
        read = _read_open_pdf(document, data, filename, warnings, progress, cancel)
    finally:
        document.close()
    if read.unreadable:
        warnings.append(
            tr("Pages {pages} could not be read; the file may be damaged.").format(pages=_page_list(read.unreadable))
        )
    pages = _mend_pages(read.raw_pages)
    needs_ocr = _text_layer_warnings(pages, read.unreadable, warnings)
    title = usable_title(read.metadata.get("Title")) or read.largest
    extractor = f"pypdfium2 {library_version('pypdfium2')}"
    return finish_extraction(pages, "application/pdf", extractor, data, warnings, title, _pdf_doi(read.metadata, pages),
                   needs_ocr)


def _check_pdf_header(data: bytes, filename: str) -> None:
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


def _open_pdf(data: bytes, filename: str, password: str | None) -> Any:
    import pypdfium2 as pdfium
    import pypdfium2.raw as pdfium_raw

    try:
        try:
            # Without the password first: a PDF with only an owner password (copy or print
            # restrictions) opens without one, and giving it one it does not have fails.
            return pdfium.PdfDocument(data)
        except pdfium.PdfiumError as err:
            if password is None or getattr(err, "err_code", None) != pdfium_raw.FPDF_ERR_PASSWORD:
                raise
            return pdfium.PdfDocument(data, password=password)
    except pdfium.PdfiumError as err:
        raise _open_failure(getattr(err, "err_code", None), filename, password) from None


def _open_failure(code: int | None, filename: str, password: str | None) -> ImportFailed:
    """What to tell the user when pdfium cannot open the file."""
    import pypdfium2.raw as pdfium_raw

    if code == pdfium_raw.FPDF_ERR_PASSWORD:
        if password is None:
            return PasswordRequired(
                tr("{name} is protected by a password. Import it again with its password (use --password).").format(
                    name=filename
                )
            )
        return ImportFailed(
            tr("{name}: the password is wrong. Check it and import the file again.").format(name=filename)
        )
    if code == pdfium_raw.FPDF_ERR_SECURITY:
        return ImportFailed(
            tr("{name} uses an encryption scheme that cannot be opened. Save an unprotected copy and import that.").format(
                name=filename
            )
        )
    return ImportFailed(
        tr("{name} is damaged and cannot be read as a PDF. Download it again or re-save it from a PDF viewer.").format(
            name=filename
        )
    )


def _read_open_pdf(
    document: Any,
    data: bytes,
    filename: str,
    warnings: list[str],
    progress: ProgressCallback | None,
    cancel: CancelCallback | None,
) -> _PdfRead:
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
    raw_pages, unreadable = _page_texts(document, total, progress, cancel)
    metadata = _metadata(document)
    return _PdfRead(raw_pages, unreadable, metadata, _title_from_layout(document, metadata, raw_pages))


def _page_texts(document: Any, total: int, progress: ProgressCallback | None, cancel: CancelCallback | None
                ) -> tuple[list[str], list[int]]:
    """The raw text of every page (empty for a page that cannot be read), and the unreadable pages."""
    import pypdfium2 as pdfium

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
    return raw_pages, unreadable


def _metadata(document: Any) -> dict[str, str]:
    import pypdfium2 as pdfium

    try:
        return document.get_metadata_dict()
    except pdfium.PdfiumError:
        return {}


def _title_from_layout(document: Any, metadata: dict[str, str], raw_pages: list[str]) -> str | None:
    """The first page's largest text, when the metadata has no usable title and the first line is
    boilerplate (or there is none)."""
    import pypdfium2 as pdfium

    if usable_title(metadata.get("Title")) is not None or not raw_pages:
        return None
    first_line = next((line.strip() for line in raw_pages[0].splitlines() if line.strip()), "")
    if first_line and not looks_like_junk_title(first_line):
        return None
    try:
        return _largest_text(document)
    except pdfium.PdfiumError:
        return None


def _mend_pages(raw_pages: list[str]) -> list[str]:
    # The join mark U+FFFE sits where pdfium removed a line-end hyphen; decide like a line-end
    # hyphen whether it was a real hyphen, using the words the document hyphenates elsewhere.
    joined_raw = "\n".join(raw_pages)
    vocabulary = hyphenated_vocabulary(joined_raw.replace("\ufffe", " "))
    # Paragraphs read as paragraphs: lines the layout broke inside a sentence are joined, and
    # headings set in spaced capitals closed up; each page on its own, so page starts stay true.
    return [
        reflow(join_letter_spacing(clean_text(_PDFIUM_JOIN_RE.sub(_pdfium_join, page), vocabulary)))
        for page in raw_pages
    ]


def _text_layer_warnings(pages: list[str], unreadable: list[int], warnings: list[str]) -> bool:
    """Warn of a missing text layer (returns True: the PDF needs OCR) or of pages without text."""
    total = len(pages)
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
    return needs_ocr


def _pdf_doi(metadata: dict[str, str], pages: list[str]) -> str | None:
    for key in ("Subject", "Keywords", "Title"):
        doi = find_doi(metadata.get(key) or "")
        if doi:
            return doi
    return find_doi("\n".join(pages[:2]))


_PDFIUM_JOIN_RE = re.compile("\ufffe(?=(.?))", re.S)


def _pdfium_join(match: re.Match[str]) -> str:
    # Before a lower-case letter the break may have split one word: let clean_text decide as for
    # any line-end hyphen. Otherwise ("Lucene-BM25") the hyphen is part of the text.
    return "-\n" if match.group(1).islower() else "-"


def _page_list(numbers: list[int]) -> str:
    shown = ", ".join(str(n) for n in numbers[:20])
    return shown + (" …" if len(numbers) > 20 else "")
