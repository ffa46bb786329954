"""Reference-manager exports -> Study records: RIS, BibTeX/BibLaTeX, PubMed MEDLINE (.nbib),
EndNote XML and CSL-JSON.

Damaged records are skipped with a warning naming the record; a file that holds no readable
reference at all raises ImportFailed. Third-party parsers raise all sorts of exceptions on damaged
input, so each record is converted inside its own guard.
"""

from __future__ import annotations

import json
import logging
import os
import re
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from cmo_desk.domain.errors import ImportFailed
from cmo_desk.domain.i18n import tr, trn
from cmo_desk.domain.ids import new_id
from cmo_desk.domain.records import Study
from cmo_desk.importers.latex import decode_latex
from cmo_desk.importers.textnorm import normalise_doi, strip_controls

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

_YEAR_RE = re.compile(r"(?<!\d)(1[0-9]{3}|20[0-9]{2})(?!\d)")
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
        raise _damaged(name, fmt) from None
    except Exception:  # noqa: BLE001 - a damaged file must give a message, not a traceback
        raise _damaged(name, fmt) from None
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


def _damaged(name: str, fmt: str) -> ImportFailed:
    return ImportFailed(
        tr("{name} looks like {format} but is too damaged to read. Export it again from the reference manager.").format(
            name=name, format=fmt
        )
    )


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


# --- building studies ---------------------------------------------------------------------------


def _clean(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, (list, tuple)):
        value = " ".join(str(v) for v in value if v is not None)
    text = " ".join(strip_controls(str(value)).split())
    return text or None


def _year(value: Any) -> int | None:
    if value is None:
        return None
    if isinstance(value, int) and not isinstance(value, bool):
        return value if -9999 < value < 10000 else None
    match = _YEAR_RE.search(str(value))
    return int(match.group(1)) if match else None


#: Longest field kept, in characters. Real titles stay under 1,000 and abstracts under 20,000; a
#: 10 MB "title" (damage, or a crafted file) would make every comparison of it take seconds.
FIELD_LIMITS = {"abstract": 100_000, "title": 4_000, "author": 1_000, "other": 4_000}
_TRUNCATED = "\x00truncated"


def _capped(value: str | None, kind: str, cut: list[str]) -> str | None:
    limit = FIELD_LIMITS[kind]
    if value is None or len(value) <= limit:
        return value
    cut.append(kind)
    return value[:limit].rstrip() + "\u2026"


def _study(fields: dict[str, Any], extra: dict[str, Any] | None = None) -> Study:
    cut: list[str] = []
    raw_authors = fields.get("authors") or []
    authors = [_capped(a, "author", cut) for a in (_clean(a) for a in raw_authors) if a]
    extra = {k: v for k, v in (extra or {}).items() if v not in (None, "", [], {})}
    extra = {k: (_capped(v, "other", cut) if isinstance(v, str) else v) for k, v in extra.items()}

    def short(key: str) -> str | None:
        return _capped(_clean(fields.get(key)), "other", cut)

    study = Study(
        id=new_id(),
        authors=authors or None,
        year=fields.get("year"),
        title=_capped(_clean(fields.get("title")), "title", cut),
        journal=short("journal"),
        volume=short("volume"),
        issue=short("issue"),
        pages=short("pages"),
        doi=normalise_doi(short("doi")),
        pmid=short("pmid"),
        url=short("url"),
        abstract=_capped(_clean(fields.get("abstract")), "abstract", cut),
        reference_type=short("reference_type"),
        extra=extra or None,
    )
    if cut:
        study = replace(study, extra={**(study.extra or {}), _TRUNCATED: sorted(set(cut))})
    return study


def _usable(study: Study) -> bool:
    return bool(study.title or study.authors or study.doi or study.pmid)


def _pages(start: str | None, end: str | None) -> str | None:
    # "SP - No / EP - Specified" is Ovid's way of saying there are no page numbers.
    start, end = (v if v and re.search(r"\d", v) else None for v in (_clean(start), _clean(end)))
    if start and end and end != start:
        return f"{start}–{end}"
    return start or end


def surname(author: str) -> str:
    """The family name of an author as written in reference files ("Booth, A." / "A Booth" /
    "Booth A" / a literal organisation or CJK name)."""
    author = author.strip()
    if "," in author:
        return author.split(",", 1)[0].strip()
    parts = author.split()
    if len(parts) <= 1:
        return author
    # MEDLINE style "Booth A" / "Booth AJ": trailing initials.
    if re.fullmatch(r"(?:[A-Z]\.?-?){1,4}", parts[-1]):
        return " ".join(parts[:-1])
    return parts[-1]


def make_label(study: Study) -> str:
    """"Surname Year" ("Booth 2016"); "Anon" / "n.d." when unknown."""
    name = surname(study.authors[0]) if study.authors else ""
    if not name:
        name = tr("Anon")
    if len(name) > 40:
        name = name[:40].rstrip()
    return f"{name} {study.year if study.year is not None else tr('n.d.')}"


def _suffix(index: int) -> str:
    letters = ""
    index += 1
    while index:
        index, rem = divmod(index - 1, 26)
        letters = chr(ord("a") + rem) + letters
    return letters


def assign_labels(studies: Iterable[Study], taken: Iterable[str] = ()) -> list[Study]:
    """Give each study a "Surname Year" label, with a/b/c... suffixes where two would read the
    same, also against ``taken`` (labels already in the project). A list is relabelled in place
    (each study is replaced as it is labelled, so seventy thousand are never held twice)."""
    if not isinstance(studies, list):
        studies = list(studies)
    taken_set = {t.casefold() for t in taken}
    bases = [make_label(s) for s in studies]
    counts = Counter(b.casefold() for b in bases)
    used: set[str] = set(taken_set)
    next_suffix: Counter[str] = Counter()
    for index, (study, base) in enumerate(zip(studies, bases)):
        key = base.casefold()
        if counts[key] == 1 and key not in taken_set:
            label = base
        else:
            while True:
                label = base + _suffix(next_suffix[key])
                next_suffix[key] += 1
                if label.casefold() not in used:
                    break
        used.add(label.casefold())
        studies[index] = replace(study, label=label)
    return studies


def _guarded(
    items: Iterable[Any], convert: Callable[[Any], Study | None], describe: Callable[[int, Any], str]
) -> tuple[list[Study], list[str], int]:
    """The studies converted from ``items``, a warning per item skipped, and how many items."""
    studies: list[Study] = []
    warnings: list[str] = []
    index = -1
    for index, item in enumerate(items):
        try:
            study = convert(item)
        except Exception:  # noqa: BLE001 - one damaged record must not lose the others
            study = None
        if study is None or not _usable(study):
            warnings.append(
                tr("Record {record} has no readable title, author or identifier; skipped.").format(
                    record=describe(index, item)
                )
            )
            continue
        if study.extra and _TRUNCATED in study.extra:
            extra = dict(study.extra)
            fields = extra.pop(_TRUNCATED)
            study = replace(study, extra=extra or None)
            warnings.append(
                tr("Record {record}: its {fields} was too long and was cut to {limit} characters; check "
                   "it against the original.").format(
                    record=describe(index, item),
                    fields=", ".join({"title": tr("title"), "author": tr("an author's name"),
                                      "abstract": tr("abstract"), "other": tr("another field")}[f]
                                     for f in fields),
                    limit=max(FIELD_LIMITS[f] for f in fields))
            )
        studies.append(study)
    return studies, warnings, index + 1


# --- RIS ----------------------------------------------------------------------------------------

_RIS_TAG_RE = re.compile(r"^([A-Z][A-Z0-9])  -(?: (.*))?$")
_RIS_IDENTIFYING_TAGS = frozenset({"TI", "T1", "CT", "BT", "AU", "A1", "DO"})


def _lines(text: str) -> Iterator[str]:
    """The lines of ``text`` one at a time (``io.StringIO`` would copy it at four bytes a
    character; ``splitlines`` would hold every line at once)."""
    start, end_of_text = 0, len(text)
    while start < end_of_text:
        end = text.find("\n", start)
        if end < 0:
            end = end_of_text
        yield text[start:end]
        start = end + 1


def _ris_record_stream(text: str) -> tuple[Iterator[dict[str, list[str]]], list[int]]:
    """Records one at a time, in a single pass over the lines, holding one record at a time (a
    50 MB export is not copied line by line). The list counts groups of tag lines found outside a
    TY...ER record that held a reference and were read as generic references; it is complete once
    the records are consumed."""
    without_type = [0]

    def records() -> Iterator[dict[str, list[str]]]:
        current: dict[str, list[str]] | None = None  # inside TY...ER
        orphan: dict[str, list[str]] = {}  # tag lines outside a record
        last: list[str] | None = None  # the value list a continuation line extends

        def orphan_record() -> dict[str, list[str]] | None:
            # Some exports append stray tags after ER (Ovid), and a damaged file may have lost
            # its TY line: such a group is kept only if it holds a reference.
            if any(tag in _RIS_IDENTIFYING_TAGS for tag in orphan):
                without_type[0] += 1
                return {"TY": ["GEN"], **orphan}
            return None

        for raw in _lines(text):
            line = raw.rstrip()
            match = _RIS_TAG_RE.match(line)
            if match:
                tag, value = match.group(1), (match.group(2) or "").strip()
                if tag == "TY":
                    found = orphan_record()
                    orphan, last = {}, None
                    if found:
                        yield found
                    if current is not None:
                        yield current
                    current = {"TY": [value]}
                elif tag == "ER":
                    if current is not None:
                        yield current
                    else:
                        found = orphan_record()
                        if found:
                            yield found
                    current, orphan, last = None, {}, None
                else:
                    target = current if current is not None else orphan
                    last = target.setdefault(tag, [])
                    last.append(value)
            elif line.strip() and last is not None:
                # A continuation of the previous value.
                last[-1] = (last[-1] + " " + line.strip()).strip()
        if current is not None:
            yield current
        found = orphan_record()
        if found:
            yield found

    return records(), without_type


def _first(record: dict[str, list[str]], *tags: str) -> str | None:
    for tag in tags:
        for value in record.get(tag, ()):
            if value and value.strip():
                return value.strip()
    return None


def _ris_study(record: dict[str, list[str]]) -> Study:
    authors = record.get("AU") or record.get("A1") or []
    doi = _first(record, "DO", "DI")
    if not doi:
        for url in record.get("UR", []) + record.get("L2", []) + record.get("M3", []):
            if "doi.org/10." in url or url.lower().startswith("doi:") or url.startswith("10."):
                doi = url
                break
    pmid = None
    an = _first(record, "AN")
    database = " ".join(record.get("DB", []) + record.get("DP", [])).lower()
    # EndNote and Zotero libraries fed from PubMed write "DP  - NLM" (the data provider).
    if an and an.isdigit() and ("pubmed" in database or "medline" in database or "nlm" in database.split()):
        pmid = an
    for note in record.get("C2", []) + record.get("N1", []) + record.get("M2", []):
        match = re.search(r"PMID:?\s*(\d{4,9})", note)
        if match and not pmid:
            pmid = match.group(1)
    fields = {
        "authors": authors,
        "title": _first(record, "TI", "T1", "CT", "BT"),
        "year": _year(_first(record, "PY", "Y1", "DA", "Y2")),
        "journal": _first(record, "JF", "T2", "JO", "JA", "J2", "J1"),
        "volume": _first(record, "VL"),
        "issue": _first(record, "IS", "CP"),
        "pages": _pages(_first(record, "SP"), _first(record, "EP")),
        "doi": doi,
        "pmid": pmid,
        "url": _first(record, "UR", "L2"),
        "abstract": _first(record, "AB", "N2"),
        "reference_type": _first(record, "TY"),
    }
    extra = {
        "keywords": record.get("KW"),
        "issn": _first(record, "SN"),
        "publisher": _first(record, "PB"),
        "language": _first(record, "LA"),
        "source_id": _first(record, "ID"),
    }
    return _study(fields, extra)


def _parse_ris(text: str, name: str) -> tuple[list[Study], list[str], int]:
    records, without_type = _ris_record_stream(text)
    studies, record_warnings, found = _guarded(records, _ris_study, lambda i, r: str(i + 1))
    warnings: list[str] = []
    if without_type[0]:
        warnings.append(
            trn("{count} record had no TY (type) line; read as a generic reference. Check it.",
                "{count} records had no TY (type) line; read as generic references. Check them.",
                without_type[0]).format(count=without_type[0])
        )
    return studies, warnings + record_warnings, found


# --- BibTeX / BibLaTeX --------------------------------------------------------------------------


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
        "year": _year(values.get("year") or values.get("date")),
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
    return _study(fields, extra)


def _parse_bibtex(text: str, name: str) -> tuple[list[Study], list[str], int]:
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
    studies, record_warnings, found = _guarded(
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
            candidate = base + _suffix(n)
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


# --- PubMed MEDLINE -----------------------------------------------------------------------------

#: "TAG - value"; PubMed also writes "PMID-22664220" with no space after the dash.
_MEDLINE_TAG_RE = re.compile(r"^([A-Z][A-Z0-9]{0,3}) {0,3}- ?(.*)$")


def medline_records(text: str) -> list[dict[str, list[str]]]:
    """MEDLINE display format: "TAG - value" lines (tag padded to four characters), continuation
    lines indented by six spaces, records separated by blank lines or starting at PMID."""
    records: list[dict[str, list[str]]] = []
    current: dict[str, list[str]] | None = None
    last_tag: str | None = None
    for line in _lines(text):
        match = _MEDLINE_TAG_RE.match(line)
        if match and len(line) >= 6 and line[4] == "-":
            tag, value = match.group(1), match.group(2).strip()
            if tag == "PMID" or current is None:
                if current:
                    records.append(current)
                current = {}
            current.setdefault(tag, []).append(value)
            last_tag = tag
        elif line.startswith("      ") and current is not None and last_tag:
            current[last_tag][-1] += " " + line.strip()
        elif not line.strip():
            if current:
                records.append(current)
            current = None
            last_tag = None
    if current:
        records.append(current)
    return records


def _medline_study(record: dict[str, list[str]]) -> Study:
    doi = None
    for value in record.get("LID", []) + record.get("AID", []):
        if value.endswith("[doi]"):
            doi = value[: -len("[doi]")].strip()
            break
    pmid = _first(record, "PMID")
    fields = {
        "authors": record.get("FAU") or record.get("AU") or record.get("CN") or [],
        "title": _first(record, "TI", "BTI"),
        "year": _year(_first(record, "DP", "DEP", "DA")),
        "journal": _first(record, "JT", "TA"),
        "volume": _first(record, "VI"),
        "issue": _first(record, "IP"),
        "pages": _first(record, "PG"),
        "doi": doi,
        "pmid": pmid if pmid and pmid.isdigit() else None,
        "url": f"https://pubmed.ncbi.nlm.nih.gov/{pmid}/" if pmid and pmid.isdigit() else None,
        "abstract": _first(record, "AB"),
        "reference_type": _first(record, "PT"),
    }
    extra = {
        "keywords": (record.get("MH") or []) + (record.get("OT") or []) or None,
        "issn": _first(record, "IS"),
        "language": _first(record, "LA"),
        "pmc": _first(record, "PMC"),
    }
    return _study(fields, extra)


def _parse_medline(text: str, name: str) -> tuple[list[Study], list[str], int]:
    return _guarded(medline_records(text), _medline_study, lambda i, r: _first(r, "PMID") or str(i + 1))


# --- EndNote XML --------------------------------------------------------------------------------


def _xml_text(element: Any) -> str | None:
    if element is None:
        return None
    return _clean("".join(element.itertext()))


def _endnote_study(record: Any) -> Study:
    def text(path: str) -> str | None:
        return _xml_text(record.find(path))

    authors = [a for a in (_xml_text(el) for el in record.iterfind("contributors/authors/author")) if a]
    ref_type = record.find("ref-type")
    doi = text("electronic-resource-num")
    urls = [u for u in (_xml_text(el) for el in record.iterfind("urls/related-urls/url")) if u]
    if doi and not normalise_doi(doi):
        doi = None
    if not doi:
        for url in urls:
            if "doi.org/10." in url:
                doi = url
                break
    accession = text("accession-num")
    fields = {
        "authors": authors,
        "title": text("titles/title"),
        "year": _year(text("dates/year") or text("dates/pub-dates/date")),
        "journal": text("titles/secondary-title") or text("periodical/full-title"),
        "volume": text("volume"),
        "issue": text("number") or text("issue"),
        "pages": text("pages"),
        "doi": doi,
        "pmid": accession if accession and accession.isdigit() else None,
        "url": urls[0] if urls else None,
        "abstract": text("abstract"),
        "reference_type": (ref_type.get("name") if ref_type is not None else None),
    }
    extra = {
        "keywords": [k for k in (_xml_text(el) for el in record.iterfind("keywords/keyword")) if k] or None,
        "label": text("label"),
        "short_title": text("titles/short-title"),
        "isbn": text("isbn"),
        "language": text("language"),
    }
    return _study(fields, extra)


def _parse_endnote(text: str, name: str) -> tuple[list[Study], list[str], int]:
    from lxml import etree

    warnings: list[str] = []
    raw = text.encode("utf-8")
    raw = re.sub(rb"^\s*<\?xml[^>]*\?>", b"", raw)
    safe = {"resolve_entities": False, "no_network": True, "load_dtd": False, "huge_tree": False}
    try:
        root = etree.fromstring(raw, etree.XMLParser(**safe))
    except etree.XMLSyntaxError:
        root = etree.fromstring(raw, etree.XMLParser(recover=True, **safe))
        warnings.append(tr("The file is damaged; only the records that could be read were imported."))
    if root is None:
        raise _damaged(name, "EndNote XML")
    records = list(root.iter("record"))
    return_ = _guarded(records, _endnote_study, lambda i, r: _xml_text(r.find("rec-number")) or str(i + 1))
    return return_[0], warnings + return_[1], return_[2]


# --- CSL-JSON -----------------------------------------------------------------------------------


def _csl_name(person: Any) -> str | None:
    if isinstance(person, str):
        return person
    if not isinstance(person, dict):
        return None
    if person.get("literal"):
        return str(person["literal"])
    family = " ".join(str(p) for p in (person.get("non-dropping-particle"), person.get("family")) if p)
    given = str(person.get("given") or "")
    if family and given:
        return f"{family}, {given}"
    return family or given or None


def _csl_year(issued: Any) -> int | None:
    if isinstance(issued, dict):
        parts = issued.get("date-parts")
        if isinstance(parts, list) and parts and isinstance(parts[0], list) and parts[0]:
            try:
                year = int(str(parts[0][0]).strip())
            except ValueError:
                year = None
            if year:
                return year
        for key in ("raw", "literal", "edtf"):
            if issued.get(key):
                return _edtf_year(str(issued[key]))
        return None
    if isinstance(issued, (str, int)):
        return _edtf_year(str(issued))
    return None


def _edtf_year(value: str) -> int | None:
    match = re.match(r"\s*(-?\d{1,4})", value)
    if match:
        year = int(match.group(1))
        return year or None
    return _year(value)


def _csl_study(item: Any) -> Study | None:
    if not isinstance(item, dict):
        return None

    def get(key: str) -> str | None:
        value = item.get(key)
        return _clean(value) if value is not None and not isinstance(value, (dict, list)) else None

    authors = item.get("author") or item.get("editor") or []
    if not isinstance(authors, list):
        authors = []
    doi = get("DOI")
    url = get("URL")
    if not doi and url and "doi.org/10." in url:
        doi = url
    fields = {
        "authors": [n for n in (_csl_name(p) for p in authors) if n],
        "title": get("title"),
        "year": _csl_year(item.get("issued")),
        "journal": get("container-title"),
        "volume": get("volume"),
        "issue": get("issue"),
        "pages": get("page"),
        "doi": doi,
        "pmid": get("PMID"),
        "url": url,
        "abstract": get("abstract"),
        "reference_type": get("type"),
    }
    extra = {
        "citation_key": get("citation-key") or get("id"),
        "issn": get("ISSN"),
        "isbn": get("ISBN"),
        "language": get("language"),
        "keywords": get("keyword"),
        "pmcid": get("PMCID"),
    }
    return _study(fields, extra)


def _parse_csl(text: str, name: str) -> tuple[list[Study], list[str], int]:
    try:
        data = json.loads(text)
    except (json.JSONDecodeError, RecursionError):
        raise _damaged(name, "CSL-JSON") from None
    if isinstance(data, dict):
        data = data.get("items", [data]) if "items" in data or "title" in data else []
    if not isinstance(data, list):
        raise _damaged(name, "CSL-JSON")
    return _guarded(data, _csl_study, lambda i, item: str(item.get("id")) if isinstance(item, dict) and item.get("id") else str(i + 1))


_PARSERS: dict[str, Callable[[str, str], tuple[list[Study], list[str], int]]] = {
    "ris": _parse_ris,
    "bibtex": _parse_bibtex,
    "medline": _parse_medline,
    "endnote-xml": _parse_endnote,
    "csl-json": _parse_csl,
}
