"""CSL-JSON, as Zotero and citation processors write it."""

from __future__ import annotations

import json
import re
from typing import Any

from cmo_desk.domain.records import Study
from cmo_desk.importers.references.studies import (
    clean_value,
    convert_records,
    damaged_file_error,
    study_from_fields,
    year_in,
)


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
    return year_in(value)


def _csl_study(item: Any) -> Study | None:
    if not isinstance(item, dict):
        return None

    def get(key: str) -> str | None:
        value = item.get(key)
        return clean_value(value) if value is not None and not isinstance(value, (dict, list)) else None

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
    return study_from_fields(fields, extra)


def parse_csl(text: str, name: str) -> tuple[list[Study], list[str], int]:
    """Studies of a CSL-JSON file, a warning per item skipped, and how many items."""
    try:
        data = json.loads(text)
    except (json.JSONDecodeError, RecursionError):
        raise damaged_file_error(name, "CSL-JSON") from None
    if isinstance(data, dict):
        data = data.get("items", [data]) if "items" in data or "title" in data else []
    if not isinstance(data, list):
        raise damaged_file_error(name, "CSL-JSON")
    def describe(i: int, item: Any) -> str:
        return str(item.get("id")) if isinstance(item, dict) and item.get("id") else str(i + 1)

    return convert_records(data, _csl_study, describe)
