"""CMOCs from a spreadsheet, one per row, each owned by the coder who extracted it.

The whole sheet is read and every row matched to a study before anything is written; then all
rows go into the project in one unit of work, so a failure or a cancel leaves it as it was.
"""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, TYPE_CHECKING

from cmo_desk.domain import records as rec
from cmo_desk.domain.anchoring import context_around
from cmo_desk.domain.cancel import check_import_cancel
from cmo_desk.domain.errors import ImportFailed, ValidationError
from cmo_desk.domain.i18n import tr
from cmo_desk.domain.ids import coder_id as coder_id_for
from cmo_desk.domain.records import CodeKind
from cmo_desk.importers.cmoc_sheet import QuoteLocator, SheetCmoc, read_cmoc_sheet
from cmo_desk.importers.textnorm import normalise_doi, normalise_title
from cmo_desk.services.coding import new_cmoc
from cmo_desk.services.importing import CancelCallback, ProgressCallback, check_writable
from cmo_desk.services.session import (
    Session,
    create_coder,
    known_coders,
    resolve_coder_name,
    written_by,
)

if TYPE_CHECKING:  # (the store loads when a project opens)
    from cmo_desk.store.project_store import UnitOfWork

#: The slots a row fills, in the order they are compared to find a row imported before.
_SLOTS = ("context", "mechanism_resource", "mechanism_reasoning", "outcome", "statement")


@dataclass(frozen=True)
class RowProblem:
    row: int
    study: str
    message: str


@dataclass
class CmocImportSummary:
    cmocs_added: int = 0
    excerpts_added: int = 0
    #: coder name -> CMOCs added for them
    by_coder: dict[str, int] = field(default_factory=dict)
    codes_created: list[str] = field(default_factory=list)
    unmatched_rows: list[RowProblem] = field(default_factory=list)
    quotes_not_found: list[RowProblem] = field(default_factory=list)
    duplicate_rows: list[RowProblem] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    rows_read: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {
            "cmocs_added": self.cmocs_added,
            "excerpts_added": self.excerpts_added,
            "by_coder": self.by_coder,
            "codes_created": self.codes_created,
            "unmatched_rows": [asdict(p) for p in self.unmatched_rows],
            "quotes_not_found": [asdict(p) for p in self.quotes_not_found],
            "duplicate_rows": [asdict(p) for p in self.duplicate_rows],
            "warnings": self.warnings,
            "rows_read": self.rows_read,
        }


# -- matching rows to studies ----------------------------------------------------------------


class _StudyFinder:
    """Finds the study a spreadsheet row names: by label, DOI, or exact or normalised title."""

    def __init__(self, studies: list[rec.Study]) -> None:
        self.by_label: dict[str, set[str]] = {}
        self.by_doi: dict[str, set[str]] = {}
        self.by_title: dict[str, set[str]] = {}
        self.by_norm_title: dict[str, set[str]] = {}
        for s in studies:
            if s.label:
                self.by_label.setdefault(_fold(s.label), set()).add(s.id)
            doi = normalise_doi(s.doi)
            if doi:
                self.by_doi.setdefault(doi, set()).add(s.id)
            if s.title:
                self.by_title.setdefault(_fold(s.title), set()).add(s.id)
                key = normalise_title(s.title)
                if key:
                    self.by_norm_title.setdefault(key, set()).add(s.id)

    def find(self, text: str) -> tuple[str | None, str | None]:
        """(study id, None) or (None, why no single study was found)."""
        doi = normalise_doi(text) if "10." in text else None
        for table, key in ((self.by_label, _fold(text)), (self.by_doi, doi),
                           (self.by_title, _fold(text)),
                           (self.by_norm_title, normalise_title(text))):
            found = table.get(key) if key else None
            if found and len(found) == 1:
                return next(iter(found)), None
            if found:
                return None, tr("'{study}' names {count} studies; use the study's label or DOI."
                                ).format(study=text, count=len(found))
        return None, tr("No study matches '{study}'. Use a study's label, DOI or title "
                        "(see 'cmo-desk info').").format(study=text)


def _fold(text: str) -> str:
    return " ".join(text.split()).casefold()


@dataclass
class _PlannedCmoc:
    row: SheetCmoc
    study_id: str
    coder_name: str
    values: dict[str, Any]
    code_names: list[str]
    excerpt: dict[str, Any] | None


def import_cmoc_sheet(
    session: Session,
    path: str | os.PathLike[str],
    coder: str | None = None,
    progress: ProgressCallback | None = None,
    cancel: CancelCallback | None = None,
) -> CmocImportSummary:
    """CMOCs from a spreadsheet, one per row, owned by the row's ``coder`` (else ``coder``, else the
    session's coder). A quote found in the study's text becomes an anchored excerpt linked to the
    CMOC; one not found is kept in the CMOC's memo and reported. Unknown codes are created (kind
    "other") and reported; rows naming no single study are reported and skipped. Everything is
    written in one unit of work."""
    check_writable(session)
    rows, warnings = read_cmoc_sheet(path)
    summary = CmocImportSummary(warnings=list(warnings), rows_read=len(rows))
    if not rows:
        raise ImportFailed(tr("{name} has no CMOC rows. Add one row per CMOC under the header."
                              ).format(name=Path(path).name))
    default_coder = (resolve_coder_name(coder) if coder else None) or session.coder_name
    project = _Project(session)
    planned: list[_PlannedCmoc] = []
    for number, row in enumerate(rows, start=1):
        check_import_cancel(cancel)
        if progress:
            progress(number, len(rows) + 1)
        item = _plan_row(row, project, default_coder, summary)
        if item is not None:
            planned.append(item)
    check_import_cancel(cancel)

    if planned:
        _write_cmocs(session, planned, project.codes, summary)
    if progress:
        progress(len(rows) + 1, len(rows) + 1)
    return summary


class _Project:
    """What rows are matched against: studies, their texts, codes, CMOCs already there and the
    studies each coder has submitted."""

    def __init__(self, session: Session) -> None:
        store = session.store
        studies = [s for s in store.list("study") if not s.merged_into]
        self.labels = {s.id: s.label or "" for s in studies}
        self.finder = _StudyFinder(studies)
        self.documents: dict[str, list[rec.Document]] = {}
        for doc in store.list("document"):
            if doc.study_id and doc.text:
                self.documents.setdefault(doc.study_id, []).append(doc)
        self.locators: dict[str, QuoteLocator] = {}
        self.codes = {_fold(c.name): c.id for c in store.list("code")
                      if c.name and not c.merged_into}
        self.cmoc_keys = {_cmoc_key(c.study_id, c.owner_id, asdict(c))
                          for c in store.list("cmoc")}
        self.submitted = {(a["study_id"], a["coder_id"]) for a in store.links("assignment")
                          if a["status"] == rec.AssignmentStatus.SUBMITTED.value}


def _plan_row(row: SheetCmoc, project: _Project, default_coder: str | None,
              summary: CmocImportSummary) -> _PlannedCmoc | None:
    """The CMOC a row asks for, or None with the reason it is skipped in ``summary``."""
    study_id, problem = project.finder.find(row.study)
    if study_id is None:
        summary.unmatched_rows.append(RowProblem(row.row_number, row.study, problem or ""))
        return None
    coder_name = resolve_coder_name(row.coder) if row.coder else default_coder
    if not coder_name:
        raise ValidationError(tr(
            "Who extracted these CMOCs? Add a 'coder' column or give --coder NAME."))
    owner = coder_id_for(coder_name)
    if (study_id, owner) in project.submitted:
        summary.unmatched_rows.append(RowProblem(row.row_number, row.study, tr(
            "{coder} submitted this study, so their coding of it is locked. Ask the "
            "coordinator to reopen it.").format(coder=coder_name)))
        return None
    values = {k: getattr(row, k) for k in _SLOTS}
    key = _cmoc_key(study_id, owner, values)
    if key in project.cmoc_keys:
        summary.duplicate_rows.append(RowProblem(row.row_number, row.study, tr(
            "{coder} already has this CMOC for {study}; skipped.").format(
            coder=coder_name, study=project.labels[study_id])))
        return None
    project.cmoc_keys.add(key)
    excerpt = None
    if row.quote:
        excerpt = _place_quote(row, project.documents.get(study_id, []), project.locators, owner)
        if excerpt is None:
            summary.quotes_not_found.append(RowProblem(row.row_number, row.study, tr(
                "The quote was not found in the text of {study}; it is kept in the CMOC's "
                "memo.").format(study=project.labels[study_id])))
            page = tr(" (page {page})").format(page=row.page) if row.page else ""
            values["memo"] = tr("Quote from the spreadsheet, not found in the text{page}: "
                                "{quote}").format(page=page, quote=row.quote)
    return _PlannedCmoc(row, study_id, coder_name, values, row.codes, excerpt)


def _cmoc_key(study_id: str | None, owner_id: str | None, values: dict[str, Any]) -> tuple[Any, ...]:
    return (study_id, owner_id, *(_fold(values.get(k) or "") for k in _SLOTS))


def _place_quote(row: SheetCmoc, docs: list[rec.Document], locators: dict[str, QuoteLocator],
                 owner: str) -> dict[str, Any] | None:
    for doc in docs:
        text = doc.text or ""
        locator = locators.get(doc.id)
        if locator is None:
            locator = locators[doc.id] = QuoteLocator(text)
        span = locator.locate(row.quote or "", row.page, doc.page_starts)
        if span is None:
            continue
        start, end = span
        before, after = context_around(text, start, end)
        return {
            "document_id": doc.id, "study_id": doc.study_id, "start": start, "end": end,
            "quote": text[start:end], "before": before, "after": after,
            "page": doc.known_page_at(start), "role": None, "owner_id": owner,
        }
    return None


def _ensure_coder(uow: UnitOfWork, name: str, known: int) -> tuple[str, bool]:
    """The coder's id, creating their record when this project has not met them yet."""
    cid = coder_id_for(name)
    if uow.current("coder", cid) is not None:
        return cid, False
    return create_coder(uow, name, known, coder_id=cid), True


def _write_cmocs(session: Session, planned: list[_PlannedCmoc], codes: dict[str, str],
                 summary: CmocImportSummary) -> None:
    store = session.store
    order: dict[tuple[str, str], int] = {}
    coders_known = known_coders(store)
    code_count = store.count("code")
    # One transaction for every coder: the change log still names who owns what, because each
    # coder's records are written under their own id.
    with session.write(need_coder=False) as uow:
        for item in planned:
            owner, created = _ensure_coder(uow, item.coder_name, coders_known)
            coders_known += created
            slot_key = (item.study_id, owner)
            if slot_key not in order:
                order[slot_key] = store.count("cmoc", study_id=item.study_id, owner_id=owner)
            order[slot_key] += 1
            with written_by(uow, owner):
                code_ids = []
                for name in item.code_names:
                    key = _fold(name)
                    if key not in codes:
                        code_count += 1
                        codes[key] = uow.create("code", {
                            "name": " ".join(name.split()), "kind": CodeKind.OTHER.value,
                            "sort_order": code_count, "created_by": owner})
                        summary.codes_created.append(" ".join(name.split()))
                    code_ids.append(codes[key])
                cmoc_id = new_cmoc(uow, item.study_id, owner,
                                   {k: v for k, v in item.values.items() if v is not None},
                                   order[slot_key])
                if item.excerpt is not None:
                    excerpt_id = uow.create("excerpt", item.excerpt)
                    uow.link("cmoc_excerpt", cmoc_id=cmoc_id, excerpt_id=excerpt_id, slot=None)
                    summary.excerpts_added += 1
                for code_id in dict.fromkeys(code_ids):
                    uow.link("cmoc_code", cmoc_id=cmoc_id, code_id=code_id)
            summary.cmocs_added += 1
            summary.by_coder[item.coder_name] = summary.by_coder.get(item.coder_name, 0) + 1
