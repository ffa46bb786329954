"""PubMed MEDLINE (.nbib): tagged lines, indented continuations, records starting at PMID."""

from __future__ import annotations

import re

from cmo_desk.domain.records import Study
from cmo_desk.importers.references.studies import convert_records, first_value, iter_lines, study_from_fields, year_in

#: "TAG - value"; PubMed also writes "PMID-22664220" with no space after the dash.
_MEDLINE_TAG_RE = re.compile(r"^([A-Z][A-Z0-9]{0,3}) {0,3}- ?(.*)$")


def medline_records(text: str) -> list[dict[str, list[str]]]:
    """MEDLINE display format: "TAG - value" lines (tag padded to four characters), continuation
    lines indented by six spaces, records separated by blank lines or starting at PMID."""
    records: list[dict[str, list[str]]] = []
    current: dict[str, list[str]] | None = None
    last_tag: str | None = None
    for line in iter_lines(text):
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
    pmid = first_value(record, "PMID")
    fields = {
        "authors": record.get("FAU") or record.get("AU") or record.get("CN") or [],
        "title": first_value(record, "TI", "BTI"),
        "year": year_in(first_value(record, "DP", "DEP", "DA")),
        "journal": first_value(record, "JT", "TA"),
        "volume": first_value(record, "VI"),
        "issue": first_value(record, "IP"),
        "pages": first_value(record, "PG"),
        "doi": doi,
        "pmid": pmid if pmid and pmid.isdigit() else None,
        "url": f"https://pubmed.ncbi.nlm.nih.gov/{pmid}/" if pmid and pmid.isdigit() else None,
        "abstract": first_value(record, "AB"),
        "reference_type": first_value(record, "PT"),
    }
    extra = {
        "keywords": (record.get("MH") or []) + (record.get("OT") or []) or None,
        "issn": first_value(record, "IS"),
        "language": first_value(record, "LA"),
        "pmc": first_value(record, "PMC"),
    }
    return study_from_fields(fields, extra)


def parse_medline(text: str, name: str) -> tuple[list[Study], list[str], int]:
    """Studies of a PubMed MEDLINE (.nbib) file, a warning per record skipped, and how many records."""
    return convert_records(medline_records(text), _medline_study, lambda i, r: first_value(r, "PMID") or str(i + 1))
