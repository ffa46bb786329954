"""EndNote XML: parsed without entities or network, recovering what a damaged file still holds."""

from __future__ import annotations

import re
from typing import Any

from cmo_desk.domain.i18n import tr
from cmo_desk.domain.records import Study
from cmo_desk.importers.textnorm import normalise_doi
from cmo_desk.importers.references.studies import (
    clean_value,
    convert_records,
    damaged_file_error,
    study_from_fields,
    year_in,
)


def _xml_text(element: Any) -> str | None:
    if element is None:
        return None
    return clean_value("".join(element.itertext()))


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
        "year": year_in(text("dates/year") or text("dates/pub-dates/date")),
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
    return study_from_fields(fields, extra)


def parse_endnote(text: str, name: str) -> tuple[list[Study], list[str], int]:
    """Studies of an EndNote XML file, a warning per record skipped, and how many records."""
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
        raise damaged_file_error(name, "EndNote XML")
    records = list(root.iter("record"))
    return_ = convert_records(records, _endnote_study, lambda i, r: _xml_text(r.find("rec-number")) or str(i + 1))
    return return_[0], warnings + return_[1], return_[2]
