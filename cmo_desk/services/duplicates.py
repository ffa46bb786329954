"""The same study or code added independently by two coders: proposals and their acceptance.

Accepting or rejecting a proposal is written as data (a ``duplicate_decision``; accepting also
sets ``merged_into`` on the duplicate and moves its records
to the study or code that is kept), so the decision merges into other coders' files like any
other edit. Of each pair the record with the larger id is the duplicate, so two coordinators who
accept the same proposal on different laptops make the same decision.

A study merged into another stays in the project (not deleted): a coder who keeps working on it
before receiving the decision still has their work counted, by following ``merged_into``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from itertools import combinations
from typing import Any

from cmo_desk.domain import records as rec
from cmo_desk.domain.i18n import tr
from cmo_desk.domain.ids import EntityType
from cmo_desk.importers.dedupe import similar_title
from cmo_desk.importers.textnorm import normalise_doi, normalise_title
from cmo_desk.services import coding
from cmo_desk.services.session import Session

#: Titles at least this similar (0..1) and from the same year are proposed as one study.
TITLE_SIMILARITY = 0.93
#: Shorter normalised titles ("Editorial") are too generic to prove anything.
MIN_TITLE_CHARS = 12


@dataclass(frozen=True)
class DuplicateProposal:
    number: int
    kind: str  # "study" | "code"
    keep_id: str
    duplicate_id: str
    keep_label: str
    duplicate_label: str
    reason: str

    def to_dict(self) -> dict[str, Any]:
        return {"number": self.number, "kind": self.kind, "keep": self.keep_id,
                "duplicate": self.duplicate_id, "keep_label": self.keep_label,
                "duplicate_label": self.duplicate_label, "reason": self.reason}


def _study_label(s: rec.Study) -> str:
    return s.label or (s.title or s.id)[:60]


def _norm_pmid(value: str | None) -> str | None:
    digits = "".join(ch for ch in str(value or "") if ch.isdigit())
    return digits.lstrip("0") or None


def _study_pairs(studies: list[rec.Study],
                 hashes: dict[str, set[str]]) -> list[tuple[rec.Study, rec.Study, str]]:
    found: dict[tuple[str, str], str] = {}

    def note(a: rec.Study, b: rec.Study, reason: str) -> None:
        key = (min(a.id, b.id), max(a.id, b.id))
        found.setdefault(key, reason)

    def by_key(key_of: Any, reason: str) -> None:
        groups: dict[str, list[rec.Study]] = {}
        for s in studies:
            k = key_of(s)
            if k:
                groups.setdefault(k, []).append(s)
        for group in groups.values():
            for a, b in combinations(group, 2):
                note(a, b, reason)

    by_key(lambda s: normalise_doi(s.doi), tr("same DOI"))
    by_key(lambda s: _norm_pmid(s.pmid), tr("same PMID"))
    by_sha: dict[str, list[rec.Study]] = {}
    for s in studies:
        for sha in hashes.get(s.id, ()):
            by_sha.setdefault(sha, []).append(s)
    for group in by_sha.values():
        for a, b in combinations(group, 2):
            note(a, b, tr("same full-text file"))
    by_year: dict[Any, list[rec.Study]] = {}
    for s in studies:
        if len(normalise_title(s.title)) >= MIN_TITLE_CHARS:
            by_year.setdefault(s.year, []).append(s)
    for group in by_year.values():
        for a, b in combinations(group, 2):
            key = (min(a.id, b.id), max(a.id, b.id))
            if key in found:
                continue
            da, db = normalise_doi(a.doi), normalise_doi(b.doi)
            if da and db and da != db:
                continue  # e.g. a conference paper and its journal version
            if similar_title(a.title, b.title) >= TITLE_SIMILARITY:
                note(a, b, tr("near-identical title, same year"))
    by_id = {s.id: s for s in studies}
    return [(by_id[k], by_id[d], reason) for (k, d), reason in sorted(found.items())]


def _code_key(code: rec.Code) -> tuple[str, str] | None:
    name = " ".join((code.name or "").split()).casefold()
    return (name, code.kind or "") if name else None


def kind_title(kind: str) -> str:
    """What a proposal merges, in the reader's language (the desk's window and the command line)."""
    return {"study": tr("study"), "code": tr("code")}.get(kind, kind)


def find_duplicates(session: Session) -> list[DuplicateProposal]:
    """Studies, then codes, that look like the same thing added twice; numbered from 1."""
    store = session.store
    studies = [s for s in store.list("study") if not s.merged_into]
    live_ids = {s.id for s in studies}
    hashes: dict[str, set[str]] = {}
    for d in store.list("document", columns=("study_id", "sha256")):
        if d.study_id in live_ids and d.sha256:
            hashes.setdefault(d.study_id, set()).add(d.sha256)
    decided = {(d["kind"], d["kept_id"], d["duplicate_id"])
               for d in store.links("duplicate_decision")}
    out: list[DuplicateProposal] = []
    for keep, dup, reason in _study_pairs(studies, hashes):
        if ("study", keep.id, dup.id) in decided:
            continue
        out.append(DuplicateProposal(len(out) + 1, "study", keep.id, dup.id, _study_label(keep),
                                     _study_label(dup), reason))
    groups: dict[tuple[str, str], list[rec.Code]] = {}
    for code in store.list("code"):
        key = _code_key(code)
        if key and not code.merged_into:
            groups.setdefault(key, []).append(code)
    for group in sorted(groups.values(), key=lambda g: min(c.id for c in g)):
        kept, *others = sorted(group, key=lambda c: c.id)
        for other in others:
            if ("code", kept.id, other.id) in decided:
                continue
            out.append(DuplicateProposal(len(out) + 1, "code", kept.id, other.id,
                                         kept.name or "", other.name or "",
                                         tr("same name and kind")))
    return out


def accept_duplicate(session: Session, proposal: DuplicateProposal) -> rec.Changed:
    """Record that the duplicate is the kept record and move everything attached to it."""
    if proposal.kind == "code":
        changed = coding.merge_codes(session, proposal.duplicate_id, proposal.keep_id)
    else:
        changed = merge_studies(session, proposal.duplicate_id, proposal.keep_id)
    _decide(session, proposal, "accepted")
    return changed


def reject_duplicate(session: Session, proposal: DuplicateProposal) -> rec.Changed:
    """Record that the two are different records; the pair is not proposed again anywhere."""
    return _decide(session, proposal, "rejected")


def _decide(session: Session, proposal: DuplicateProposal, decision: str) -> rec.Changed:
    with session.write(need_coder=False) as uow:
        uow.link("duplicate_decision", kind=proposal.kind, kept_id=proposal.keep_id,
                 duplicate_id=proposal.duplicate_id, decision=decision)
    return uow.changed


@dataclass(frozen=True)
class StudyFold:
    """What folding one study into another wrote, so that it can be taken back."""

    duplicate_id: str
    keep_id: str
    #: (record type, id) of the documents, excerpts, CMOCs and consensus CMOCs moved over
    moved: tuple[tuple[EntityType, str], ...] = ()
    #: (link type, id) of the duplicate's form answers and assignments, deleted by the fold
    dropped: tuple[tuple[EntityType, str], ...] = ()
    #: (link type, id) of those made (or restored) on the kept study in their place
    made: tuple[tuple[EntityType, str], ...] = ()


def merge_studies(session: Session, duplicate_id: str, keep_id: str) -> rec.Changed:
    """Fold one study into another: documents, excerpts, CMOCs, consensus CMOCs, form values and
    assignments move over, and the duplicate records ``merged_into``."""
    return fold_study(session, duplicate_id, keep_id)[1]


def fold_study(session: Session, duplicate_id: str,
               keep_id: str) -> tuple[StudyFold, rec.Changed]:
    """``merge_studies``, answering also what it moved (for ``unfold_study``)."""
    store = session.store
    moved: list[tuple[EntityType, str]] = []
    dropped: list[tuple[EntityType, str]] = []
    made: list[tuple[EntityType, str]] = []
    with session.write(need_coder=False) as uow:
        parts: tuple[EntityType, ...] = ("document", "excerpt", "cmoc", "consensus")
        for etype in parts:
            for item in store.list(etype, study_id=duplicate_id, columns=("study_id",)):
                uow.update(etype, item.id, {"study_id": keep_id})
                moved.append((etype, item.id))
        kept_forms = {(fv["coder_id"], fv["key"]) for fv in store.links("form_value",
                                                                        study_id=keep_id)}
        for fv in store.links("form_value", study_id=duplicate_id):
            if (fv["coder_id"], fv["key"]) not in kept_forms:
                made.append(("form_value", uow.link(
                    "form_value", study_id=keep_id, coder_id=fv["coder_id"], key=fv["key"],
                    value=fv["value"])))
            if uow.delete("form_value", fv["id"]):
                dropped.append(("form_value", fv["id"]))
        kept_assigned = {a["coder_id"] for a in store.links("assignment", study_id=keep_id)}
        for a in store.links("assignment", study_id=duplicate_id):
            if a["coder_id"] not in kept_assigned:
                made.append(("assignment", uow.link(
                    "assignment", study_id=keep_id, coder_id=a["coder_id"], status=a["status"])))
            if uow.delete("assignment", a["id"]):
                dropped.append(("assignment", a["id"]))
        uow.update("study", duplicate_id, {"merged_into": keep_id})
    fold = StudyFold(duplicate_id, keep_id, tuple(moved), tuple(dropped), tuple(made))
    return fold, uow.changed


def unfold_study(session: Session, fold: StudyFold) -> rec.Changed:
    """Take a fold back: what it moved goes back to the duplicate (unless moved elsewhere
    since), its form answers and assignments come back, and the pair is proposed again."""
    with session.write(need_coder=False) as uow:
        for etype, eid in fold.moved:
            now = uow.current(etype, eid)
            if now is not None and not now["deleted"] and now.get("study_id") == fold.keep_id:
                uow.update(etype, eid, {"study_id": fold.duplicate_id})
        for ltype, lid in fold.made:
            uow.delete(ltype, lid)
        for ltype, lid in fold.dropped:
            uow.restore(ltype, lid)
        study = uow.current("study", fold.duplicate_id)
        if study is not None and study.get("merged_into") == fold.keep_id:
            uow.update("study", fold.duplicate_id, {"merged_into": None})
        uow.unlink("duplicate_decision", kind="study", kept_id=fold.keep_id,
                   duplicate_id=fold.duplicate_id)
    return uow.changed


def accept_study_duplicate(session: Session, proposal: DuplicateProposal) -> StudyFold:
    """Accept a proposed study duplicate, answering what the fold moved (to take it back)."""
    fold, _ = fold_study(session, proposal.duplicate_id, proposal.keep_id)
    _decide(session, proposal, "accepted")
    return fold


def accept_all(session: Session, proposals: Iterable[DuplicateProposal]) -> int:
    n = 0
    for p in proposals:
        accept_duplicate(session, p)
        n += 1
    return n

