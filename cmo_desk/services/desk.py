"""Queries the coding desk needs in one go, so a screen refresh costs a handful of reads."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from cmo_desk.domain import records as rec
from cmo_desk.domain.ids import CodeId, CoderId, EntityType, StudyId
from cmo_desk.domain.records import AssignmentStatus
from cmo_desk.services.session import Session


@dataclass(frozen=True)
class StudyListItem:
    """A line of the desk's study list: the study, its countries and each coder's progress."""

    id: str
    label: str
    year: int | None
    countries: tuple[str, ...]
    #: coder id -> 'assigned', 'draft' (has coding) or 'submitted'
    status: dict[str, str] = field(default_factory=dict)
    has_text: bool = False


def study_rows(session: Session, study_ids: Iterable[StudyId] | None = None) -> list[StudyListItem]:
    """Every study (or those of ``study_ids``) with its countries (from any coder's form) and
    each coder's progress; counted in SQL, so the cost does not grow with the excerpts. A study
    folded into its duplicate is not listed: its work shows under the study it became."""
    store = session.store
    wanted = None if study_ids is None else sorted(set(study_ids))
    if wanted is None:
        studies: list[rec.Study] = store.list("study", columns=("label", "year"),
                                              merged_into=None)
        countries_of = store.list("form_value", key="countries")
        assignments = store.links("assignment")
    else:
        studies = store.list("study", columns=("label", "year"), id=wanted, merged_into=None)
        countries_of = store.list("form_value", key="countries", study_id=wanted)
        assignments = store.links("assignment", study_id=wanted)
    countries: dict[str, list[str]] = {}
    for fv in countries_of:
        if fv.study_id is None:  # a form value of no study has no row to show on
            continue
        values = fv.value if isinstance(fv.value, list) else [fv.value] if fv.value else []
        seen = countries.setdefault(fv.study_id, [])
        seen.extend(str(v) for v in values if v and str(v) not in seen)
    status: dict[str, dict[str, str]] = {}
    for a in assignments:
        status.setdefault(a["study_id"], {})[a["coder_id"]] = (
            a["status"] or AssignmentStatus.ASSIGNED.value)
    for study_id, owner_id in sorted(store.coding_progress(wanted)):
        per = status.setdefault(study_id, {})
        if per.get(owner_id) in (None, AssignmentStatus.ASSIGNED.value):
            per[owner_id] = AssignmentStatus.DRAFT.value
    with_text = store.studies_with_text(wanted)
    rows = [StudyListItem(s.id, s.label or "", s.year, tuple(countries.get(s.id, ())),
                     status.get(s.id, {}), s.id in with_text) for s in studies]
    rows.sort(key=lambda r: r.label.casefold())
    return rows


def studies_touched(session: Session, changed: rec.Changed) -> set[str] | None:
    """The studies whose list row (or open view) a change may alter; None when studies were
    added, removed or renamed, so the whole list must be read again."""
    if changed.touched("study"):
        return None
    found: set[str] = set()
    for etype in _STUDY_PARTS:
        ids = changed.touched(etype)
        if ids:
            found |= session.store.values_of(etype, ids)
    for link_type, etype, column in _LINKS_TO_PARTS:
        ids = changed.touched(link_type)
        if ids:
            owners = session.store.values_of(link_type, ids, column)
            found |= session.store.values_of(etype, owners)
    return found


def full_text_changed(session: Session, changed: rec.Changed, study_id: str) -> bool:
    """A document of this study was added, changed or removed."""
    docs = changed.touched("document")
    return bool(docs) and study_id in session.store.values_of("document", docs)


#: Records that carry a study_id; and links that reach a study through one of them.
_STUDY_PARTS: tuple[EntityType, ...] = (
    "excerpt", "document", "form_value", "assignment", "cmoc", "consensus")
_LINKS_TO_PARTS: tuple[tuple[EntityType, EntityType, str], ...] = (
    ("excerpt_code", "excerpt", "excerpt_id"),
    ("cmoc_code", "cmoc", "cmoc_id"),
    ("cmoc_excerpt", "cmoc", "cmoc_id"),
    ("cmoc_theory", "cmoc", "cmoc_id"),
    ("consensus_code", "consensus", "consensus_id"),
    ("consensus_source", "consensus", "consensus_id"),
    ("consensus_excerpt", "consensus", "consensus_id"),
)


def study_document(session: Session, study_id: str) -> rec.Document | None:
    """The study's full text (the first document when there are several)."""
    docs: list[rec.Document] = session.store.list("document", study_id=study_id)
    docs.sort(key=lambda d: (d.filename or "", d.id))
    return docs[0] if docs else None


def code_usage(session: Session, coder_id: CoderId | None = None) -> Counter[CodeId]:
    """How many live excerpts each code marks (shown beside the codebook).

    With ``coder_id``, only that coder's excerpts count: a coder working blind must not learn
    from the counts how others coded.
    """
    return Counter(session.store.excerpts_per_code(coder_id))


def cmoc_evidence(session: Session, cmoc_id: str) -> list[tuple[rec.Excerpt, str | None]]:
    """The excerpts linked to a CMOC, each with the slot it supports, in reading order."""
    links = session.store.links("cmoc_excerpt", cmoc_id=cmoc_id)
    out = []
    for link in links:
        ex = session.store.get("excerpt", link["excerpt_id"])
        if ex is not None:
            out.append((ex, link.get("slot")))
    out.sort(key=lambda pair: (pair[0].start or 0, pair[0].id))
    return out


def cmocs_of_excerpts(session: Session, excerpt_ids: list[str]) -> list[str]:
    """Ids of the CMOCs that cite any of these excerpts."""
    found: list[str] = []
    for eid in excerpt_ids:
        for link in session.store.links("cmoc_excerpt", excerpt_id=eid):
            if link["cmoc_id"] not in found:
                found.append(link["cmoc_id"])
    return found


def is_locked(session: Session, study_id: str | None) -> bool:
    """The coder submitted this study, so their coding of it is read-only."""
    if not study_id or not session.coder_id:
        return False
    found = session.store.links("assignment", study_id=study_id, coder_id=session.coder_id)
    return bool(found and found[0]["status"] == AssignmentStatus.SUBMITTED.value)


def theories(session: Session) -> list[Any]:
    return sorted(session.store.list("theory"), key=lambda t: (t.label or "").casefold())
