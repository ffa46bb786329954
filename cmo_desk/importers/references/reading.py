"""Reading a reference file: its bytes within a size limit, its text decoded, its format told by
content first, then the parser for that format."""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from cmo_desk.domain.errors import ImportFailed
from cmo_desk.domain.i18n import tr
from cmo_desk.domain.records import Study
from cmo_desk.importers.references.bibtex import parse_bibtex
from cmo_desk.importers.references.csl import parse_csl
from cmo_desk.importers.references.endnote import parse_endnote
from cmo_desk.importers.references.labels import assign_labels
from cmo_desk.importers.references.medline import parse_medline
from cmo_desk.importers.references.ris import parse_ris
from cmo_desk.importers.references.studies import damaged_file_error

FORMATS = ("ris", "bibtex", "medline", "endnote-xml", "csl-json")
FORMAT_NAMES = "RIS, BibTeX/BibLaTeX, PubMed MEDLINE (.nbib), EndNote XML, CSL-JSON"

_EXTENSIONS = {
    ".ris": "ris",
    ".bib": "bibtex",
    ".bibtex": "bibtex",
    ".biblatex": "bibtex",
    ".nbib": "medline",
    ".medline": "medline",
    ".xml": "endnote-xml",
    ".json": "csl-json",
}

_MAX_BYTES = 200 * 1024 * 1024


@dataclass(frozen=True)
class ParsedReferences:
    records: list[Study]
    warnings: list[str] = field(default_factory=list)
    format: str = ""
    #: Records found in the file, read or not (damaged entries, records without a title, author
    #: or identifier): ``len(records)`` of ``found`` were read.
    found: int = 0


def parse_references(source: str | os.PathLike[str] | bytes, filename: str | None = None) -> ParsedReferences:
    """Parse a reference file (path or bytes). ``filename`` names the file in messages and helps
    detect the format; it defaults to the path's name."""
    if isinstance(source, (bytes, bytearray)):
        data = bytes(source)
        name = filename or "references"
    else:
        path = Path(source)
        name = filename or path.name
        try:
            if path.stat().st_size > _MAX_BYTES:
                raise ImportFailed(
                    tr("{name} is larger than 200 MB; export the references in smaller batches.").format(name=name)
                )
            data = path.read_bytes()
        except OSError as err:
            raise ImportFailed(
                tr("Cannot read {name}: {reason}. Check that the file exists and is not open elsewhere.").format(
                    name=name, reason=err.strerror or err
                )
            ) from None
    text, warnings = _decode(data, name)
    del data  # a 50 MB export need not be held twice while it is parsed
    fmt = detect_format(text, name)
    if fmt is None:
        raise ImportFailed(
            tr("{name} is not a reference file this program reads. Export the references as one of: {formats}.").format(
                name=name, formats=FORMAT_NAMES
            )
        )
    parser = _PARSERS[fmt]
    try:
        records, record_warnings, found = parser(text, name)
    except ImportFailed:
        raise
    except RecursionError:
        raise damaged_file_error(name, fmt) from None
    except Exception:  # noqa: BLE001 - a damaged file must give a message, not a traceback
        raise damaged_file_error(name, fmt) from None
    warnings += record_warnings
    if not records:
        if warnings:
            raise ImportFailed(
                tr("No readable references in {name}: {problems}").format(name=name, problems="; ".join(warnings[:5]))
            )
        raise ImportFailed(
            tr("No references found in {name}. Check that it is an export in one of: {formats}.").format(
                name=name, formats=FORMAT_NAMES
            )
        )
    return ParsedReferences(records=assign_labels(records), warnings=warnings, format=fmt, found=found)



def _decode(data: bytes, name: str) -> tuple[str, list[str]]:
    from cmo_desk.importers.fulltext import decode_text

    try:
        text, warnings = decode_text(data, name)
    except ImportFailed:
        text, warnings = "\x00", []  # binary data
    nuls = text.count("\x00")
    if nuls:
        if nuls > len(text) // 20:
            raise ImportFailed(
                tr("{name} is not a reference file this program reads. Export the references as one of: {formats}.").format(
                    name=name, formats=FORMAT_NAMES
                )
            )
        text = text.replace("\x00", "")
        warnings.append(tr("{count} NUL bytes (damage) were removed from the file.").format(count=nuls))
    text = text.lstrip("\ufeff")
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    return text, warnings


def detect_format(text: str, filename: str = "") -> str | None:
    """The format of a reference export: sniffed from the content first, then the extension."""
    head = text.lstrip("\ufeff \t\n")[:4000]
    lower_name = filename.lower()
    if re.match(r"(\d+\.\s*\n\s*)?TY  -", head) or re.search(r"^TY  - ", head[:2000], re.M):
        return "ris"
    if re.search(r"^PMID- ?\d", head, re.M):
        return "medline"
    if head.startswith("<") and ("<record" in head or "<records" in head or "<xml" in head[:200]):
        return "endnote-xml"
    if head[:1] in "[{" and (lower_name.endswith(".json") or '"title"' in head or '"type"' in head):
        return "csl-json"
    if re.search(r"^\s*@\s*[A-Za-z]+\s*[{(]", head, re.M):
        return "bibtex"
    suffix = Path(lower_name).suffix
    if lower_name.endswith(".csl.json"):
        return "csl-json"
    if suffix in _EXTENSIONS:
        fmt = _EXTENSIONS[suffix]
        # A RIS file damaged at the top (no TY line) is still recognisably RIS by its tag lines.
        if fmt == "ris" and not re.search(r"^[A-Z][A-Z0-9]  - ", head, re.M):
            return None
        return fmt
    if re.search(r"^[A-Z][A-Z0-9]  - ", head, re.M) and re.search(r"^ER  -", text, re.M):
        return "ris"
    return None



_PARSERS: dict[str, Callable[[str, str], tuple[list[Study], list[str], int]]] = {
    "ris": parse_ris,
    "bibtex": parse_bibtex,
    "medline": parse_medline,
    "endnote-xml": parse_endnote,
    "csl-json": parse_csl,
}
