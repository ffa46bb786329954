"""RIS, as reference managers and databases write it (Ovid's stray tags and lost TY lines too)."""

from __future__ import annotations

import re
from collections.abc import Iterator

from cmo_desk.domain.i18n import trn
from cmo_desk.domain.records import Study
from cmo_desk.importers.references.studies import (
    convert_records,
    first_value,
    iter_lines,
    page_range,
    study_from_fields,
    year_in,
)

_RIS_TAG_RE = re.compile(r"^([A-Z][A-Z0-9])  -(?: (.*))?$")
_RIS_IDENTIFYING_TAGS = frozenset({"TI", "T1", "CT", "BT", "AU", "A1", "DO"})



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

        for raw in iter_lines(text):
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



def _ris_study(record: dict[str, list[str]]) -> Study:
    authors = record.get("AU") or record.get("A1") or []
    doi = first_value(record, "DO", "DI")
    if not doi:
        for url in record.get("UR", []) + record.get("L2", []) + record.get("M3", []):
            if "doi.org/10." in url or url.lower().startswith("doi:") or url.startswith("10."):
                doi = url
                break
    pmid = None
    an = first_value(record, "AN")
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
        "title": first_value(record, "TI", "T1", "CT", "BT"),
        "year": year_in(first_value(record, "PY", "Y1", "DA", "Y2")),
        "journal": first_value(record, "JF", "T2", "JO", "JA", "J2", "J1"),
        "volume": first_value(record, "VL"),
        "issue": first_value(record, "IS", "CP"),
        "pages": page_range(first_value(record, "SP"), first_value(record, "EP")),
        "doi": doi,
        "pmid": pmid,
        "url": first_value(record, "UR", "L2"),
        "abstract": first_value(record, "AB", "N2"),
        "reference_type": first_value(record, "TY"),
    }
    extra = {
        "keywords": record.get("KW"),
        "issn": first_value(record, "SN"),
        "publisher": first_value(record, "PB"),
        "language": first_value(record, "LA"),
        "source_id": first_value(record, "ID"),
    }
    return study_from_fields(fields, extra)


def parse_ris(text: str, name: str) -> tuple[list[Study], list[str], int]:
    """Studies of a RIS file, a warning per record skipped, and how many records."""
    records, without_type = _ris_record_stream(text)
    studies, record_warnings, found = convert_records(records, _ris_study, lambda i, r: str(i + 1))
    warnings: list[str] = []
    if without_type[0]:
        warnings.append(
            trn("{count} record had no TY (type) line; read as a generic reference. Check it.",
                "{count} records had no TY (type) line; read as generic references. Check them.",
                without_type[0]).format(count=without_type[0])
        )
    return studies, warnings + record_warnings, found
