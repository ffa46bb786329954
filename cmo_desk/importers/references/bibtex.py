"""BibTeX and BibLaTeX: LaTeX decoded, names split as BibTeX does, every entry given a citation
key of its own."""

from __future__ import annotations

import logging
import re
from dataclasses import replace
from typing import Any

from cmo_desk.domain.i18n import tr
from cmo_desk.domain.records import Study
from cmo_desk.importers.latex import decode_latex
from cmo_desk.importers.references.labels import label_suffix, surname
from cmo_desk.importers.references.studies import convert_records, study_from_fields, year_in


def split_bibtex_names(value: str) -> list[str]:
    """Split an author field on " and " outside braces; braces protect literal names."""
    names: list[str] = []
    depth = 0
    start = 0
    lowered = value
    i = 0
    while i < len(value):
        ch = value[i]
        if ch == "{":
            depth += 1
        elif ch == "}":
            depth = max(0, depth - 1)
        elif depth == 0 and lowered[i : i + 5].lower() == " and " :
            names.append(value[start:i])
            start = i + 5
            i += 5
            continue
        elif depth == 0 and ch in "\n\t" and lowered[i + 1 : i + 5].lower() == "and " :
            names.append(value[start:i])
            start = i + 5
            i += 5
            continue
        i += 1
    names.append(value[start:])
    result = []
    for raw in names:
        name = decode_latex(raw.strip())
        if name and name.lower() != "others":
            result.append(_bibtex_name(raw.strip(), name))
        elif name.lower() == "others":
            result.append("et al.")
    return result


def _bibtex_name(raw: str, decoded: str) -> str:
    """"First von Last" -> "von Last, First"; "Last, First" kept; a wholly braced name is literal."""
    if raw.startswith("{") and raw.endswith("}") and _balanced_outer(raw):
        return decoded
    if "," in decoded:
        return decoded
    parts = decoded.split()
    if len(parts) < 2:
        return decoded
    # A braced group written as the last word ("Jean {de la Fontaine}") is the surname.
    return f"{parts[-1]}, {' '.join(parts[:-1])}"


def _balanced_outer(raw: str) -> bool:
    depth = 0
    for i, ch in enumerate(raw):
        depth += ch == "{"
        depth -= ch == "}"
        if depth == 0 and i < len(raw) - 1:
            return False
    return True


_BIB_TYPES = {
    "article": "JOUR",
    "book": "BOOK",
    "incollection": "CHAP",
    "inbook": "CHAP",
    "inproceedings": "CONF",
    "conference": "CONF",
    "phdthesis": "THES",
    "mastersthesis": "THES",
    "thesis": "THES",
    "techreport": "RPRT",
    "report": "RPRT",
    "online": "ELEC",
    "misc": "GEN",
    "unpublished": "UNPB",
}


def _bib_study(entry: Any) -> Study:
    values: dict[str, str] = {}
    for fld in entry.fields:
        value = fld.value
        if isinstance(value, str):
            values[fld.key.lower()] = value
        elif value is not None:
            values[fld.key.lower()] = str(value)

    def get(*keys: str) -> str | None:
        for key in keys:
            if values.get(key):
                return decode_latex(values[key])
        return None

    authors = split_bibtex_names(values.get("author") or values.get("editor") or "")
    pages = get("pages")
    doi = get("doi")
    url = get("url")
    if not doi and url and "doi.org/10." in url:
        doi = url
    fields = {
        "authors": authors,
        "title": get("title"),
        "year": year_in(values.get("year") or values.get("date")),
        "journal": get("journal", "journaltitle", "booktitle", "publisher", "school", "institution"),
        "volume": get("volume"),
        "issue": get("number", "issue"),
        "pages": pages,
        "doi": doi,
        "pmid": get("pmid"),
        "url": url,
        "abstract": get("abstract"),
        "reference_type": _BIB_TYPES.get(entry.entry_type.lower(), entry.entry_type.upper()),
    }
    extra = {
        "citation_key": entry.key,
        "keywords": get("keywords"),
        "issn": get("issn"),
        "isbn": get("isbn"),
        "language": get("langid", "language"),
    }
    return study_from_fields(fields, extra)


def parse_bibtex(text: str, name: str) -> tuple[list[Study], list[str], int]:
    """Studies of a BibTeX/BibLaTeX file, a warning per entry skipped, and how many entries."""
    import bibtexparser
    from bibtexparser.model import DuplicateBlockKeyBlock

    # bibtexparser logs each damaged block; its raw messages must not reach the terminal. What was
    # not read is said below, entry by entry.
    logger = logging.getLogger("bibtexparser")
    if not any(isinstance(h, logging.NullHandler) for h in logger.handlers):
        logger.addHandler(logging.NullHandler())
    logger.propagate = False
    library = bibtexparser.parse_string(text)
    warnings: list[str] = []
    entries = list(library.entries)
    damaged: list[str] = []
    for block in library.failed_blocks:
        if isinstance(block, DuplicateBlockKeyBlock) and block.ignore_error_block is not None:
            # A second entry with a key already used (Mendeley writes "@article{," for every
            # entry without one) is a work of its own: it gets a key of its own below.
            entries.append(block.ignore_error_block)
            continue
        line = block.start_line + 1 if isinstance(getattr(block, "start_line", None), int) else "?"
        key = re.match(r"\s*@\s*\w+\s*[{(]\s*([^,\s]*)", getattr(block, "raw", "") or "")
        damaged.append(
            tr("{key} (line {line})").format(key=key.group(1), line=line)
            if key and key.group(1)
            else tr("line {line}").format(line=line)
        )
    if damaged:
        warnings.append(
            tr("{count} damaged entries could not be read and were not imported: {entries}. Fix them in the "
               "reference manager and import them again.").format(count=len(damaged), entries=", ".join(damaged))
        )
    entries.sort(key=lambda e: e.start_line if isinstance(getattr(e, "start_line", None), int) else 0)
    studies, record_warnings, found = convert_records(
        entries, _bib_study, lambda i, e: getattr(e, "key", None) or str(i + 1)
    )
    return _own_citation_keys(studies, warnings), warnings + record_warnings, found + len(damaged)


def _own_citation_keys(studies: list[Study], warnings: list[str]) -> list[Study]:
    """Give every study a citation key of its own ("Smith2018", "Smith2018a"), as Zotero and
    JabRef do; a re-keyed entry keeps the key it had under ``original_citation_key``."""
    used: set[str] = set()
    result: list[Study] = []
    rekeyed = 0
    for study in studies:
        extra = dict(study.extra or {})
        key = str(extra.get("citation_key") or "").strip()
        if key and key not in used:
            used.add(key)
            result.append(study)
            continue
        base = key or _generated_key(study)
        candidate, n = base, 0
        while candidate in used:
            candidate = base + label_suffix(n)
            n += 1
        used.add(candidate)
        if key:
            extra["original_citation_key"] = key
        extra["citation_key"] = candidate
        rekeyed += 1
        result.append(replace(study, extra=extra))
    if rekeyed:
        warnings.append(
            tr("{count} entries had an empty citation key or one used by another entry; each was imported "
               "with a key of its own.").format(count=rekeyed)
        )
    return result


def _generated_key(study: Study) -> str:
    name = re.sub(r"\W+", "", surname(study.authors[0])) if study.authors else ""
    return f"{name or 'anon'}{study.year or ''}"
