"""Synthesis use cases: review-level CMOCs, the study CMOCs behind them, theory versions.

Each write is one unit of work and returns what it changed. ``load_synthesis`` reads everything
the workspace and the exports show in a handful of queries (no per-row reads), so the evidence
matrix opens quickly at 500 studies.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Literal

from cmo_desk.domain import records as rec
from cmo_desk.domain.errors import ExportFailed, ValidationError
from cmo_desk.domain.i18n import tr
from cmo_desk.domain.ids import merged_target
from cmo_desk.domain.schema import REVIEW_CMOC_SLOTS
from cmo_desk.domain.synthesis import (
    COMPONENTS,
    CONCERNS,
    CONFIDENCE_LEVELS,
    EVIDENCE_WORDING,
    RELATIONS,
    Quote,
    ReviewCmocEvidence,
    SourceEvidence,
    Synthesis,
    TheoryEvidence,
    deleted_evidence_note,
    duplicate_labels,
    evidence_entry,
    member,
    next_label,
    version_diff,
)
from cmo_desk.services.session import Session

__all__ = [
    "SYNTHESIS_TABLES", "add_review_cmoc", "delete_review_cmoc", "export_synthesis", "link_source", "load_synthesis", "record_version",
    "set_confidence", "unlink_source", "update_review_cmoc",
]

_CHUNK = 500


def _clean_slots(values: dict[str, Any]) -> dict[str, Any]:
    bad = set(values) - set(REVIEW_CMOC_SLOTS)
    if bad:
        raise ValidationError(tr("A review CMOC has no {fields}; use: {allowed}.").format(
            fields=", ".join(sorted(bad)), allowed=", ".join(REVIEW_CMOC_SLOTS)))
    clean = {k: (v.strip() or None) if isinstance(v, str) else v for k, v in values.items()}
    if clean.get("outcome_direction") not in (None, *(d.value for d in rec.Direction)):
        raise ValidationError(tr("Outcome direction must be +, - or mixed."))
    return clean


def _theory(session: Session, theory_id: str) -> rec.Theory:
    theory: rec.Theory | None = session.store.get("theory", theory_id)
    if theory is None:
        raise ValidationError(tr("That programme theory no longer exists."))
    return theory


def add_review_cmoc(session: Session, theory_id: str, values: dict[str, Any] | None = None
                    ) -> tuple[str, rec.Changed]:
    """A new review CMOC of a programme theory, labelled PTn-Ck (never reusing a number)."""
    values = _clean_slots(values or {})
    theory = _theory(session, theory_id)
    existing = session.store.list("review_cmoc", include_deleted=True, theory_id=theory_id,
                                  columns=("label", "sort_order"))
    label = next_label(theory.label, [r.label for r in existing])
    order = max((r.sort_order or 0 for r in existing), default=0) + 1
    with session.write() as uow:
        rid = uow.create("review_cmoc", {**values, "theory_id": theory_id, "label": label,
                                         "sort_order": order, "created_by": session.coder_id})
    return rid, uow.changed


def relabel_duplicates(session: Session) -> rec.Changed:
    """Give a fresh label to every review CMOC but the first that shares a label with another.

    Two laptops offline can both add "PT1-C3"; the merge keeps both, and this settles it.
    """
    syn = load_synthesis(session, quotes=False)
    dupes = duplicate_labels(syn)
    if not dupes:
        return rec.Changed()
    theory_of = {r.record.id: r.record.theory_id for r in syn.review_cmocs}
    labels = {t.theory.id: t.theory.label for t in syn.theories}
    used = [r.label for r in session.store.list("review_cmoc", include_deleted=True,
                                                 columns=("label",))]
    with session.write() as uow:
        for ids in dupes.values():
            for rid in ids[1:]:
                label = next_label(labels.get(theory_of[rid] or ""), used)
                used.append(label)
                uow.update("review_cmoc", rid, {"label": label})
    return uow.changed


def update_review_cmoc(session: Session, review_id: str, values: dict[str, Any]) -> rec.Changed:
    values = _clean_slots(values)
    with session.write() as uow:
        uow.update("review_cmoc", review_id, values)
    return uow.changed


def delete_review_cmoc(session: Session, review_id: str) -> rec.Changed:
    """Delete a review CMOC (its links stay in the log; versions keep what it was)."""
    with session.write() as uow:
        uow.delete("review_cmoc", review_id)
    return uow.changed


def basis_missing(confidence: str | None, basis: str | None) -> bool:
    """A confidence level is chosen but nothing says what it rests on: not yet a judgement
    that can be recorded."""
    return confidence is not None and not (basis or "").strip()


def set_confidence(session: Session, review_id: str, confidence: str | None,
                   basis: str | None, assessment: dict[str, str] | None = None) -> rec.Changed:
    """Record the confidence judgement and what it rests on (docs/synthesis.md)."""
    if confidence is not None and confidence not in CONFIDENCE_LEVELS:
        raise ValidationError(tr("Confidence must be one of: {levels}.").format(
            levels=", ".join(CONFIDENCE_LEVELS)))
    assessment = {k: v for k, v in (assessment or {}).items() if v}
    for key, value in assessment.items():
        if key not in COMPONENTS:
            raise ValidationError(tr("'{key}' is not a component of confidence; use: {allowed}."
                                     ).format(key=key, allowed=", ".join(COMPONENTS)))
        if value not in CONCERNS:
            raise ValidationError(tr("Concerns about {key} must be one of: {allowed}.").format(
                key=key, allowed=", ".join(CONCERNS)))
    if basis_missing(confidence, basis):
        raise ValidationError(tr(
            "Say what the confidence rests on (the studies' relevance, richness and rigour, "
            "coherence, adequacy) before recording it."))
    basis = (basis or "").strip() or None
    with session.write() as uow:
        uow.update("review_cmoc", review_id, {
            "confidence": confidence, "confidence_basis": basis,
            "assessment": assessment or None})
    return uow.changed


def link_source(session: Session, review_id: str, source_id: str,
                relation: str = rec.ReviewRelation.SUPPORTS.value, note: str | None = None
                ) -> rec.Changed:
    """Link a study CMOC or a consensus CMOC to a review CMOC (or change how it bears on it)."""
    if relation not in RELATIONS:
        raise ValidationError(tr("A link must support, refute or refine; not '{relation}'."
                                 ).format(relation=relation))
    if session.store.get("review_cmoc", review_id) is None:
        raise ValidationError(tr("That review CMOC no longer exists."))
    if session.store.get("cmoc", source_id) is not None:
        kind = "cmoc"
    elif session.store.get("consensus", source_id) is not None:
        kind = "consensus"
    else:
        raise ValidationError(tr("That study CMOC no longer exists."))
    values: dict[str, Any] = {"review_cmoc_id": review_id, "source_id": source_id,
                              "source_kind": kind, "relation": relation}
    if note is not None:
        values["note"] = note.strip() or None
    with session.write() as uow:
        uow.link("review_link", **values)
    return uow.changed


def unlink_source(session: Session, review_id: str, source_id: str) -> rec.Changed:
    with session.write() as uow:
        uow.unlink("review_link", review_cmoc_id=review_id, source_id=source_id)
    return uow.changed


def record_version(session: Session, theory_id: str, reason: str,
                   statement: str | None = None) -> tuple[str, rec.Changed]:
    """Record the theory as it now stands as its next version, with what changed and why.

    The first version lists every review CMOC as added. What changed is computed from the
    review CMOCs themselves, so the ledger cannot drift from the theory it describes.
    """
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError(tr("Say why the theory changed before recording a new version."))
    theory = _theory(session, theory_id)
    versions: list[rec.TheoryVersion] = session.store.list(
        "theory_version", include_deleted=True, theory_id=theory_id)
    live = [v for v in versions if not v.deleted]
    previous = max(live, key=lambda v: v.number or 0) if live else None
    number = max((v.number or 0 for v in versions), default=0) + 1
    reviews = session.store.list("review_cmoc", theory_id=theory_id)
    evidence: dict[str, list[tuple[str, str, str]]] = {}
    links = _by_ids_links(session, [r.id for r in reviews])
    # A version holds the evidence still there: a study CMOC deleted since is not claimed,
    # and losing it is a change the next version records.
    present = {c.id: c for kind in ("cmoc", "consensus") for c in _by_ids(
        session, kind, [lk["source_id"] for lk in links if (lk["source_kind"] or "cmoc") == kind],
        columns=EVIDENCE_WORDING)}
    for lk in links:
        if lk["source_id"] in present:
            evidence.setdefault(lk["review_cmoc_id"], []).append(evidence_entry(
                lk["source_id"], lk["relation"] or "", present[lk["source_id"]]))
    current = [member(r, evidence.get(r.id, ())) for r in reviews]
    added, changed, dropped = version_diff(previous.members or [] if previous else [], current)
    new_statement = statement.strip() if statement and statement.strip() else theory.statement
    if previous is not None and not (added or changed or dropped) \
            and new_statement == previous.statement:
        raise ValidationError(tr(
            "Nothing changed since version {n}: edit the theory or its review CMOCs first."
        ).format(n=previous.number))
    with session.write() as uow:
        vid = uow.link("theory_version", theory_id=theory_id, number=number,
                       statement=new_statement, members=current, added=added,
                       changed=changed, dropped=dropped, reason=reason,
                       author_id=session.coder_id,
                       recorded_at=datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"))
        uow.update("theory", theory_id, {
            "version": f"v{number}", "statement": new_statement,
            "status": "initial" if number == 1 else "refined"})
    return vid, uow.changed


# -- reading ----------------------------------------------------------------------------------


def _by_ids(session: Session, etype: Literal["excerpt", "cmoc", "consensus"], ids: Iterable[str], **kw: Any) -> list[Any]:
    ids = sorted(set(ids))
    out: list[Any] = []
    for start in range(0, len(ids), _CHUNK):
        out += session.store.list(etype, id=ids[start:start + _CHUNK], **kw)
    return out


# (their wording too: a reworded study CMOC is a change of the review CMOCs it backs)
_LIGHT_CMOC = ("id", "study_id", "owner_id", "sort_order", *EVIDENCE_WORDING)


def light_cmocs(session: Session) -> list[rec.Cmoc]:
    """Every live study CMOC with the fields the workspace lists and its codes, read in two
    plain queries (no excerpt or theory links): enough for its lists and its grid at 1,500
    CMOCs; a CMOC that is clicked is read whole."""
    codes: dict[str, list[str]] = {}
    for row in session.store.links("cmoc_code"):
        codes.setdefault(row["cmoc_id"], []).append(row["code_id"])
    return [rec.Cmoc(**{k: row[k] for k in _LIGHT_CMOC},
                     code_ids=tuple(sorted(codes.get(row["id"], ()))))
            for row in session.store.links("cmoc")]


def source_quotes(session: Session, source: rec.Cmoc | rec.Consensus) -> tuple[Quote, ...]:
    """The quotes of one study CMOC, in page order (for a click in the evidence matrix)."""
    found = _by_ids(session, "excerpt", source.excerpt_ids, columns=("quote", "page", "start",
                                                                       "role"))
    found.sort(key=lambda e: (e.page or 0, e.start or 0, e.id))
    return tuple(Quote(e.quote or "", e.page, e.role) for e in found)


def _by_ids_links(session: Session, review_ids: list[str]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for start in range(0, len(review_ids), _CHUNK):
        out += session.store.links("review_link", review_cmoc_id=review_ids[start:start + _CHUNK])
    return out


def load_synthesis(session: Session, quotes: bool = True,
                   cmocs: Iterable[rec.Cmoc] | None = None) -> Synthesis:
    """Every theory with its review CMOCs, their linked study CMOCs, quotes and versions.

    ``cmocs``: every live study CMOC, when the caller has them already (the workspace lists
    them anyway), so they are not read twice.
    """
    store = session.store
    links: list[rec.ReviewLink] = store.list("review_link")
    every_study: list[rec.Study] = store.list("study", columns=("label", "merged_into"))
    # A study merged into its duplicate is one row: its CMOCs count for the study it became.
    merged: dict[str, str | None] = {s.id: s.merged_into for s in every_study if s.merged_into}
    studies = [s for s in every_study if not s.merged_into]
    studies.sort(key=lambda s: ((s.label or "").casefold(), s.id))
    coder_names = {c.id: c.name or "" for c in store.list("coder")}
    sources = _linked_sources(session, links, cmocs)
    excerpts = _quoted_excerpts(session, sources) if quotes else {}
    label_of = {s.id: s.label or "" for s in studies}
    by_review = _evidence_by_review(links, sources, excerpts, coder_names, label_of, merged)
    by_theory: dict[str, list[ReviewCmocEvidence]] = {}
    deleted = _deleted_evidence(session, links, sources, coder_names, label_of, merged)
    for r in store.list("review_cmoc"):
        by_theory.setdefault(r.theory_id or "", []).append(
            ReviewCmocEvidence(r, tuple(by_review.get(r.id, ())), tuple(deleted.get(r.id, ()))))
    out = _theory_evidence(store.list("theory"), by_theory, store.list("theory_version"))
    return Synthesis(store.project().title or "", out, tuple(studies), coder_names)


def _linked_sources(session: Session, links: list[rec.ReviewLink],
                    cmocs: Iterable[rec.Cmoc] | None) -> dict[str, Any]:
    """Source id -> the study CMOC or consensus CMOC a review CMOC links to (live ones only)."""
    cmoc_ids = [lk.source_id for lk in links if lk.source_kind == "cmoc" and lk.source_id]
    cons_ids = [lk.source_id for lk in links if lk.source_kind == "consensus" and lk.source_id]
    sources: dict[str, Any] = ({c.id: c for c in cmocs} if cmocs is not None
                               else {c.id: c for c in _by_ids(session, "cmoc", cmoc_ids)})
    sources.update({c.id: c for c in _by_ids(session, "consensus", cons_ids)})
    return sources


def _deleted_evidence(session: Session, links: list[rec.ReviewLink], sources: dict[str, Any],
                      coder_names: dict[str, str], label_of: dict[str, str],
                      merged: dict[str, str | None]) -> dict[str, list[SourceEvidence]]:
    """Review CMOC id -> its links whose study CMOC (or consensus) was deleted since."""
    gone = [lk for lk in links if lk.source_id and lk.source_id not in sources]
    if not gone:
        return {}
    found: dict[str, Any] = {}
    for kind in ("cmoc", "consensus"):
        ids = [lk.source_id for lk in gone if lk.source_id and (lk.source_kind or "cmoc") == kind]
        if ids:
            found.update({c.id: c for c in _by_ids(session, kind, ids, include_deleted=True)})
    return _evidence_by_review(gone, found, {}, coder_names, label_of, merged)


def _quoted_excerpts(session: Session, sources: dict[str, Any]) -> dict[str, rec.Excerpt]:
    wanted = [e for s in sources.values() for e in s.excerpt_ids]
    return {e.id: e for e in _by_ids(session, "excerpt", wanted,
                                     columns=("quote", "page", "start", "role"))}


def _evidence_by_review(links: list[rec.ReviewLink], sources: dict[str, Any],
                        excerpts: dict[str, rec.Excerpt], coder_names: dict[str, str],
                        label_of: dict[str, str], merged: dict[str, str | None]
                        ) -> dict[str, list[SourceEvidence]]:
    """Review CMOC id -> the study CMOCs linked to it with their quotes, by study label."""
    by_review: dict[str, list[SourceEvidence]] = {}
    for lk in links:
        src = sources.get(lk.source_id or "")
        if src is None:
            continue  # the study CMOC was deleted: named apart (_deleted_evidence)
        quoted = sorted((excerpts[e] for e in src.excerpt_ids if e in excerpts),
                        key=lambda e: (e.page or 0, e.start or 0, e.id))
        made_by = ("consensus" if lk.source_kind == "consensus"
                   else coder_names.get(src.owner_id or "", ""))
        study_id = merged_target(merged, src.study_id or "")
        by_review.setdefault(lk.review_cmoc_id or "", []).append(SourceEvidence(
            lk.id, lk.review_cmoc_id or "", src.id, lk.source_kind or "cmoc",
            lk.relation or rec.ReviewRelation.SUPPORTS.value, lk.note or "",
            study_id, label_of.get(study_id, ""), made_by, src,
            tuple(Quote(e.quote or "", e.page, e.role) for e in quoted)))
    for items in by_review.values():
        items.sort(key=lambda s: (s.study_label.casefold(), s.relation, s.source_id))
    return by_review


def _theory_evidence(theories: list[rec.Theory],
                     by_theory: dict[str, list[ReviewCmocEvidence]],
                     versions: list[rec.TheoryVersion]) -> tuple[TheoryEvidence, ...]:
    """Each theory, by label, with its review CMOCs in their order and its versions."""
    versions_of: dict[str, list[rec.TheoryVersion]] = {}
    for v in versions:
        versions_of.setdefault(v.theory_id or "", []).append(v)
    theories.sort(key=lambda t: ((t.label or "").casefold(), t.id))
    live = {t.id for t in theories}
    orphans = [r for tid, items in by_theory.items() if tid not in live for r in items]
    if orphans:
        # Their programme theory was deleted (perhaps on another laptop): show them rather
        # than let them drop out of the workspace and the exports.
        theories.append(rec.Theory(id="", label=tr("No programme theory")))
        by_theory[""] = orphans
    return tuple(
        TheoryEvidence(
            t,
            tuple(sorted(by_theory.get(t.id, ()),
                         key=lambda r: (r.record.sort_order or 0, r.record.label or ""))),
            tuple(sorted(versions_of.get(t.id, ()), key=lambda v: v.number or 0)))
        for t in theories)


# -- exporting ---------------------------------------------------------------------------------

#: The synthesis tables of ``export --table`` and the file types each can be written as.
SYNTHESIS_TABLES: dict[str, tuple[str, ...]] = {
    "theories": (".docx", ".svg", ".png"),
    "matrix": (".xlsx", ".csv", ".docx"),
    "ledger": (".docx", ".csv"),
}


@dataclass
class SynthesisExport:
    path: Path
    table: str
    format: str
    theories: int = 0
    review_cmocs: int = 0
    studies: int = 0
    versions: int = 0
    links: int = 0
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"path": str(self.path), "table": self.table, "format": self.format,
                "theories": self.theories, "review_cmocs": self.review_cmocs,
                "studies": self.studies, "versions": self.versions, "links": self.links,
                "notes": list(self.notes)}

    def lines(self) -> list[str]:
        if self.table == "matrix":
            line = tr("Wrote {path}: {studies} studies × {reviews} review CMOCs, {links} linked "
                      "study CMOCs.")
        elif self.table == "ledger":
            line = tr("Wrote {path}: {versions} versions of {theories} programme theories.")
        else:
            line = tr("Wrote {path}: {theories} programme theories, {reviews} review CMOCs, "
                      "{links} linked study CMOCs, {versions} versions.")
        out = [line.format(path=self.path, studies=self.studies, reviews=self.review_cmocs,
                           links=self.links, versions=self.versions, theories=self.theories)]
        return out + [f"  {n}" for n in self.notes]


def check_synthesis_target(out: str | os.PathLike[str], table: str) -> str:
    """The file type for a synthesis table, once the name and folder are known to be usable."""
    target = Path(out)
    allowed = SYNTHESIS_TABLES[table]
    suffix = target.suffix.lower()
    if suffix not in allowed:
        raise ValidationError(tr(
            "The {table} table can be written as {formats}; {name} is none of these.").format(
                table=table, formats=", ".join(allowed), name=target.name or str(target)))
    if target.is_dir():
        raise ExportFailed(tr("{path} is a folder. Give a file name, for example {example}."
                              ).format(path=target, example=target / f"{table}{allowed[0]}"))
    if not target.parent.is_dir():
        raise ExportFailed(tr("Cannot write {path}: the folder does not exist. Choose an "
                              "existing folder.").format(path=target))
    return suffix[1:]


def export_synthesis(session: Session, out: str | os.PathLike[str], table: str,
                     lang: str = "en") -> SynthesisExport:
    """Write the theories table (or its diagram), the evidence matrix or the ledger."""
    fmt = check_synthesis_target(out, table)
    target = Path(out)
    syn = load_synthesis(session, quotes=(table == "theories" and fmt == "docx"))
    notes: list[str] = []
    if table == "theories" and fmt in ("svg", "png"):
        from cmo_desk.exporters.diagram import write_diagram

        _, notes = write_diagram(syn.theories, target, lang)
    elif table == "theories":
        from cmo_desk.exporters.theories import write_theories

        _, notes = write_theories(syn, target, lang)
    elif table == "matrix":
        from cmo_desk.exporters.matrix import write_matrix

        write_matrix(syn, target, lang)
    else:
        from cmo_desk.exporters.matrix import write_ledger

        write_ledger(syn, target, lang)
    reviews = syn.review_cmocs
    notes += [n for r in reviews if (n := deleted_evidence_note(r, lang))]
    for label, ids in sorted(duplicate_labels(syn).items()):
        notes.append(tr("{n} review CMOCs share the label {label}: give them their own labels "
                        "in the synthesis workspace before citing them.").format(
                            n=len(ids), label=label))
    return SynthesisExport(
        target, table, fmt, theories=len(syn.theories), review_cmocs=len(reviews),
        studies=len(syn.studies), versions=sum(len(t.versions) for t in syn.theories),
        links=sum(len(r.sources) for r in reviews), notes=notes)
