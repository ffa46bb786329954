"""What reading a full text gives: plain text with page boundaries, the original bytes, and
what was noticed on the way (a title, a DOI, warnings)."""

from __future__ import annotations

import hashlib
import re
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from cmo_desk.domain.cancel import Cancel
from cmo_desk.importers.fulltext.titles import usable_title
from cmo_desk.importers.textnorm import find_doi

ProgressCallback = Callable[[int, int], None]
CancelCallback = Cancel

PAGE_SEPARATOR = "\n\n"
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


def finish_extraction(
    pages: list[str],
    media_type: str,
    extractor: str,
    data: bytes,
    warnings: list[str],
    title: str | None,
    doi: str | None,
    needs_ocr: bool = False,
) -> ExtractedText:
    """The ExtractedText of ``pages``: joined, with page starts, a usable title, a DOI when found
    and the original's hash."""
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
        title=usable_title(title),
        doi=doi,
        original=data,
        sha256=hashlib.sha256(data).hexdigest(),
    )


def join_lines(lines: list[str]) -> str:
    """Lines joined into paragraphs, never more than one blank line in a row."""
    text = "\n".join(lines)
    return re.sub(r"\n{3,}", "\n\n", text).strip("\n")


@lru_cache(maxsize=None)
def library_version(distribution: str) -> str:
    """The installed version of ``distribution`` ("?" when unknown), to name the extractor."""
    found = _version_beside_module(distribution)
    if found:
        return found
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(distribution)
    except PackageNotFoundError:
        return "?"


def _version_beside_module(distribution: str) -> str | None:
    """The ``Version`` of the metadata installed beside the loaded module of that name, read
    without ``importlib.metadata`` (loading which took a reading child longer than the rest of
    its first file); None when there is no such module or metadata."""
    module = sys.modules.get(distribution)
    where = getattr(module, "__file__", None)
    if not where:
        return None
    folder = Path(where).resolve().parent.parent
    infos = sorted(folder.glob(f"{distribution}-*.dist-info"))
    if len(infos) != 1:
        return None
    try:
        with open(infos[0] / "METADATA", encoding="utf-8") as fh:
            for line in fh:
                if not line.strip():
                    break  # the headers end at the first blank line
                if line.startswith("Version:"):
                    return line.split(":", 1)[1].strip() or None
    except OSError:
        return None
    return None
