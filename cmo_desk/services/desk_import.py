"""What the desk needs to import files itself: which PDFs are locked, and whether a password
opens one, so the coder is asked for each file's password instead of told to use a command."""

from __future__ import annotations

import os
from pathlib import Path


def _open_pdf(path: Path, password: str | None) -> str:
    """'open', 'password' (a password is needed or wrong) or 'other'."""
    import pypdfium2 as pdfium
    import pypdfium2.raw as pdfium_raw

    try:
        doc = pdfium.PdfDocument(str(path), password=password)
    except pdfium.PdfiumError as err:
        code = getattr(err, "err_code", None)
        return "password" if code == pdfium_raw.FPDF_ERR_PASSWORD else "other"
    except OSError:
        return "other"
    doc.close()
    return "open"


def locked_pdfs(paths: list[str | os.PathLike[str]]) -> list[Path]:
    """The PDFs among ``paths`` (files, or PDFs anywhere inside given folders) that need a
    password to open."""
    found: list[Path] = []
    for given in (Path(p) for p in paths):
        members = sorted(given.rglob("*")) if given.is_dir() else [given]
        for path in members:
            if path.is_file() and path.suffix.lower() == ".pdf" and \
                    _open_pdf(path, None) == "password":
                found.append(path)
    return found


def password_opens(path: str | os.PathLike[str], password: str) -> bool:
    return _open_pdf(Path(path), password) == "open"
