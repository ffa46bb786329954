"""A reference record as a Study: values cleaned and capped, records converted one at a time so
that a damaged one is named and skipped, never fatal to the others."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import replace
from typing import Any

from cmo_desk.domain.errors import ImportFailed
from cmo_desk.domain.i18n import tr
from cmo_desk.domain.ids import new_id
from cmo_desk.domain.records import Study
from cmo_desk.importers.textnorm import normalise_doi, strip_controls

_YEAR_RE = re.compile(r"(?<!\d)(1[0-9]{3}|20[0-9]{2})(?!\d)")



def damaged_file_error(name: str, fmt: str) -> ImportFailed:
    """The error for file ``name`` that looks like format ``fmt`` but cannot be read."""
    return ImportFailed(
        tr("{name} looks like {format} but is too damaged to read. Export it again from the reference manager.").format(
            name=name, format=fmt
        )
    )



def clean_value(value: Any) -> str | None:
    """``value`` as one line of text without control characters (lists joined), or None when empty."""
    if value is None:
        return None
    if isinstance(value, (list, tuple)):
        value = " ".join(str(v) for v in value if v is not None)
    text = " ".join(strip_controls(str(value)).split())
    return text or None


def year_in(value: Any) -> int | None:
    """The year a value gives (an int, or the first plausible four-digit year in its text), or None."""
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


def study_from_fields(fields: dict[str, Any], extra: dict[str, Any] | None = None) -> Study:
    """A new Study of ``fields``, values cleaned and over-long ones capped (the cut is noted for the
    warning)."""
    cut: list[str] = []
    raw_authors = fields.get("authors") or []
    authors = [_capped(a, "author", cut) for a in (clean_value(a) for a in raw_authors) if a]
    extra = {k: v for k, v in (extra or {}).items() if v not in (None, "", [], {})}
    extra = {k: (_capped(v, "other", cut) if isinstance(v, str) else v) for k, v in extra.items()}

    def short(key: str) -> str | None:
        return _capped(clean_value(fields.get(key)), "other", cut)

    study = Study(
        id=new_id(),
        authors=authors or None,
        year=fields.get("year"),
        title=_capped(clean_value(fields.get("title")), "title", cut),
        journal=short("journal"),
        volume=short("volume"),
        issue=short("issue"),
        pages=short("pages"),
        doi=normalise_doi(short("doi")),
        pmid=short("pmid"),
        url=short("url"),
        abstract=_capped(clean_value(fields.get("abstract")), "abstract", cut),
        reference_type=short("reference_type"),
        extra=extra or None,
    )
    if cut:
        study = replace(study, extra={**(study.extra or {}), _TRUNCATED: sorted(set(cut))})
    return study


def _usable(study: Study) -> bool:
    return bool(study.title or study.authors or study.doi or study.pmid)


def page_range(start: str | None, end: str | None) -> str | None:
    # "SP - No / EP - Specified" is Ovid's way of saying there are no page numbers.
    """A record's pages as "start–end", or the one page it gives; None when neither is a number."""
    start, end = (v if v and re.search(r"\d", v) else None for v in (clean_value(start), clean_value(end)))
    if start and end and end != start:
        return f"{start}–{end}"
    return start or end



def convert_records(
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



def iter_lines(text: str) -> Iterator[str]:
    """The lines of ``text`` one at a time (``io.StringIO`` would copy it at four bytes a
    character; ``splitlines`` would hold every line at once)."""
    start, end_of_text = 0, len(text)
    while start < end_of_text:
        end = text.find("\n", start)
        if end < 0:
            end = end_of_text
        yield text[start:end]
        start = end + 1



def first_value(record: dict[str, list[str]], *tags: str) -> str | None:
    """The first non-blank value of the first of ``tags`` that has one in ``record``."""
    for tag in tags:
        for value in record.get(tag, ()):
            if value and value.strip():
                return value.strip()
    return None
