"""The text of a source file: a plain-text file in any of the encodings programs write, or the
text of a PDF when the file carries no text representation of it."""

from __future__ import annotations

from cmo_desk.domain.errors import ImportFailed
from cmo_desk.domain.i18n import tr


def decode_source_text(data: bytes) -> tuple[str, bool]:
    """Text of a source file and whether characters had to be replaced."""
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    elif data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16"), False
        except UnicodeDecodeError:
            return data.decode("utf-16", "replace"), True
    try:
        return data.decode("utf-8"), False
    except UnicodeDecodeError:
        return data.decode("utf-8", "replace"), True


def extract_pdf_text(data: bytes) -> tuple[str, list[int]]:
    """Text and page starts of a PDF; raises ImportFailed when it cannot be read."""
    try:
        import pypdfium2 as pdfium  # imported here: only PDFs without a text representation need it
    except ImportError as err:  # pragma: no cover - a declared dependency
        raise ImportFailed(tr("The PDF reader is not installed; reinstall CMO Desk.")) from err
    pages: list[str] = []
    try:
        pdf = pdfium.PdfDocument(data)
        try:
            for index in range(len(pdf)):
                page = pdf[index]
                textpage = page.get_textpage()
                pages.append(textpage.get_text_range())
                textpage.close()
                page.close()
        finally:
            pdf.close()
    except Exception as err:  # pdfium reports every failure (password, damage) as its own error
        raise ImportFailed(str(err) or type(err).__name__) from err
    starts: list[int] = []
    parts: list[str] = []
    offset = 0
    for text in pages:
        text = text.replace("\r\n", "\n").replace("\ufffe", "").replace("\x00", "")
        starts.append(offset)
        parts.append(text)
        offset += len(text) + 2
    return "\n\n".join(parts), starts or [0]



def pdf_pages_of(original: bytes | None, text: str) -> list[int] | None:
    """Page starts of a PDF whose own text is exactly ``text``; None when they are not known.

    A representation written by another program is one long text: its page boundaries are
    known only when reading the PDF gives the very same text.
    """
    if original is None:
        return None
    try:
        extracted, starts = extract_pdf_text(original)
    except ImportFailed:
        return None
    return starts if extracted == text else None

