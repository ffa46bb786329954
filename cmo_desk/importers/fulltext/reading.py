"""Reading a full-text file of any supported kind: its bytes read within a size limit, then the
reader for its kind."""

from __future__ import annotations

import os
from pathlib import Path

from cmo_desk.domain.errors import ImportFailed
from cmo_desk.domain.i18n import tr
from cmo_desk.importers.fulltext.extracted import (
    SUPPORTED_EXTENSIONS,
    CancelCallback,
    ExtractedText,
    ProgressCallback,
)
from cmo_desk.importers.fulltext.pdf import extract_pdf
from cmo_desk.importers.fulltext.plaintext import extract_txt

MAX_FILE_BYTES = 1024 * 1024 * 1024




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
        result = extract_pdf(data, filename, password, progress, cancel)
    elif suffix == ".docx":
        from cmo_desk.importers.fulltext.docx import extract_docx

        result = extract_docx(data, filename, progress, cancel)
    elif suffix == ".odt":
        from cmo_desk.importers.fulltext.odt import extract_odt

        result = extract_odt(data, filename, progress, cancel)
    elif suffix in (".txt", ".text", ".md"):
        result = extract_txt(data, filename)
    elif suffix in (".html", ".htm", ".xhtml"):
        from cmo_desk.importers.fulltext.webpage import extract_html

        result = extract_html(data, filename)
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
