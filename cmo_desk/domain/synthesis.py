"""Synthesis across studies, as plain data: review CMOCs with the evidence behind them.

The rules here are pure (no store, no Qt) so the desk, the exports and the tests share them:
the refinement diff between two versions of a programme theory, the confidence rule of
docs/synthesis.md, the evidence matrix (studies x review CMOCs) and the C x M x O grid.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from cmo_desk.domain.i18n import tr
from cmo_desk.domain.ids import merged_target
from cmo_desk.domain.records import (
    Cmoc,
    Code,
    Concern,
    Consensus,
    ReviewCmoc,
    ReviewConfidence,
    ReviewRelation,
    Study,
    Theory,
    TheoryVersion,
)
from cmo_desk.domain.schema import CMOC_SLOTS, REVIEW_CMOC_SLOTS

#: The components a confidence judgement rests on (docs/synthesis.md), in the order shown.
COMPONENTS: tuple[str, ...] = ("relevance", "richness", "rigour", "coherence", "adequacy")
CONFIDENCE_LEVELS: tuple[str, ...] = tuple(c.value for c in ReviewConfidence)
CONCERNS: tuple[str, ...] = tuple(c.value for c in Concern)
RELATIONS: tuple[str, ...] = tuple(r.value for r in ReviewRelation)

_CONCERN_STEPS = {Concern.NONE.value: 0, Concern.MINOR.value: 0,
                  Concern.MODERATE.value: 1, Concern.SERIOUS.value: 2}


def suggested_confidence(assessment: dict[str, Any] | None) -> str | None:
    """The overall confidence the documented rule gives for these component concerns.

    Start from high; each moderate concern lowers it one level, each serious concern two,
    and every two minor concerns one; never below very low. None when nothing was judged.
    """
    judged = {k: v for k, v in (assessment or {}).items() if k in COMPONENTS and v in CONCERNS}
    if not judged:
        return None
    steps = sum(_CONCERN_STEPS[v] for v in judged.values())
    steps += sum(1 for v in judged.values() if v == Concern.MINOR.value) // 2
    return CONFIDENCE_LEVELS[min(steps, len(CONFIDENCE_LEVELS) - 1)]


def label_prefix(theory_label: str | None) -> str:
    """The citable prefix of a theory's review CMOCs: "PT1" from "PT1 Trust"."""
    words = (theory_label or "").split()
    return words[0] if words else "PT"


def next_label(theory_label: str | None, existing: Iterable[str | None]) -> str:
    """The next free label PTn-Ck, never reusing the number of a deleted review CMOC."""
    prefix = label_prefix(theory_label)
    pattern = re.compile(re.escape(prefix) + r"-C(\d+)$")
    used = [int(m.group(1)) for label in existing if label and (m := pattern.match(label))]
    return f"{prefix}-C{max(used, default=0) + 1}"


#: The fields that word a study (or consensus) CMOC. The evidence behind a review CMOC is the
#: study CMOCs as they read: rewording one changes what the review CMOC rests on.
EVIDENCE_WORDING: tuple[str, ...] = tuple(f for f in CMOC_SLOTS if f != "confidence")


def wording_digest(source: Cmoc | Consensus | None) -> str:
    """A short fingerprint of how a study (or consensus) CMOC is worded, kept in a version
    beside its link so that rewording it is a change the next version records."""
    words = [getattr(source, f, None) or "" for f in EVIDENCE_WORDING] if source else []
    return hashlib.sha256(json.dumps(words, ensure_ascii=False).encode("utf-8")).hexdigest()[:16]


def evidence_entry(source_id: str, relation: str,
                   source: Cmoc | Consensus | None) -> tuple[str, str, str]:
    """One piece of evidence as a version remembers it: (source id, relation, wording)."""
    return (source_id, relation, wording_digest(source))


def member(r: ReviewCmoc, evidence: Iterable[Sequence[str]] = ()) -> dict[str, Any]:
    """What a version remembers of a review CMOC: its slots, confidence and the study CMOCs
    behind it (``evidence_entry``), so new, lost or reworded evidence counts as a change."""
    return {"id": r.id, "label": r.label or "",
            **{s: getattr(r, s) or "" for s in REVIEW_CMOC_SLOTS},
            "confidence": r.confidence or "",
            "evidence": sorted([list(e) for e in evidence])}


def version_diff(before: Sequence[dict[str, Any]], after: Sequence[dict[str, Any]]
                 ) -> tuple[list[str], list[str], list[str]]:
    """Labels of the review CMOCs added, changed and dropped between two versions."""
    old = {m["id"]: m for m in before}
    new = {m["id"]: m for m in after}
    added = [new[i]["label"] for i in new if i not in old]
    dropped = [old[i]["label"] for i in old if i not in new]
    changed = [new[i]["label"] for i in new if i in old and not _same_member(old[i], new[i])]
    return sorted(added), sorted(changed), sorted(dropped)


def _same_member(old: dict[str, Any], new: dict[str, Any]) -> bool:
    if old == new:
        return True
    if any(len(e) < 3 for e in old.get("evidence") or ()):
        # Recorded before a version kept the wording of its evidence: compare what it kept.
        def kept(m: dict[str, Any]) -> dict[str, Any]:
            return {**m, "evidence": sorted(list(e[:2]) for e in m.get("evidence") or ())}
        return kept(old) == kept(new)
    return False


@dataclass(frozen=True)
class Quote:
    text: str
    page: int | None
    #: The excerpt's role (context, mechanism, outcome …): mechanisms illustrate best.
    role: str | None = None


@dataclass(frozen=True)
class SourceEvidence:
    """One study (or consensus) CMOC behind a review CMOC, with its quotes."""

    link_id: str
    review_cmoc_id: str
    source_id: str
    #: "cmoc" or "consensus"
    source_kind: str
    relation: str
    note: str
    study_id: str
    study_label: str
    #: The coder who made a study CMOC; "consensus" for a consensus CMOC.
    made_by: str
    source: Cmoc | Consensus | None
    quotes: tuple[Quote, ...] = ()


@dataclass(frozen=True)
class ReviewCmocEvidence:
    record: ReviewCmoc
    sources: tuple[SourceEvidence, ...] = ()
    #: Links to study CMOCs deleted since (perhaps on another laptop): not counted as evidence,
    #: but named, so the review CMOC's support does not shrink without a word.
    deleted_sources: tuple[SourceEvidence, ...] = ()

    def studies(self, relation: str) -> list[str]:
        """The labels of the distinct studies whose CMOCs bear on this review CMOC in this way
        (two studies that share a label are two studies)."""
        by_study = {s.study_id: s.study_label for s in self.sources if s.relation == relation}
        return sorted(by_study.values(), key=str.casefold)


@dataclass(frozen=True)
class TheoryEvidence:
    theory: Theory
    review_cmocs: tuple[ReviewCmocEvidence, ...] = ()
    versions: tuple[TheoryVersion, ...] = ()


@dataclass(frozen=True)
class Synthesis:
    """Every programme theory with its review CMOCs, their evidence and its versions."""

    title: str
    theories: tuple[TheoryEvidence, ...] = ()
    #: Every study, in label order: the rows of the evidence matrix.
    studies: tuple[Study, ...] = ()
    coder_names: dict[str, str] = field(default_factory=dict)

    @property
    def review_cmocs(self) -> list[ReviewCmocEvidence]:
        return [r for t in self.theories for r in t.review_cmocs]


def deleted_evidence_note(r: ReviewCmocEvidence, lang: str | None = None) -> str | None:
    """What a review CMOC lost when study CMOCs linked to it were deleted, or None."""
    if not r.deleted_sources:
        return None
    who = {s.source_id: tr("consensus", lang) if s.made_by == "consensus" else s.made_by
           for s in r.deleted_sources}
    names = "; ".join(f"{s.study_label or '?'} ({who[s.source_id]})" for s in r.deleted_sources)
    return tr("{label}: study CMOCs linked to it were deleted since: {sources}. They are not "
              "counted.", lang).format(label=r.record.label or "", sources=names)


def unrecorded_changes(theory: TheoryEvidence) -> tuple[list[str], list[str], list[str]] | None:
    """Labels of the review CMOCs added, changed and dropped since the theory's latest version
    was recorded (as the next version would list them); None when nothing changed since, or
    no version was recorded yet."""
    if not theory.versions:
        return None
    latest = max(theory.versions, key=lambda v: v.number or 0)
    current = [member(r.record, [evidence_entry(s.source_id, s.relation, s.source)
                                 for s in r.sources])
               for r in theory.review_cmocs]
    diff = version_diff(latest.members or [], current)
    return diff if any(diff) else None


def unrecorded_note(theory: TheoryEvidence, lang: str | None = None) -> str | None:
    """A sentence saying what changed since the latest version, or None."""
    diff = unrecorded_changes(theory)
    if diff is None:
        return None
    latest = max(theory.versions, key=lambda v: v.number or 0)
    parts = [f"{tr(head, lang)}: {', '.join(labels)}" for head, labels in zip(
        ("Review CMOCs added", "Changed", "Dropped"), diff) if labels]
    return tr("Changed since v{n} was recorded: {changes}.", lang).format(
        n=latest.number, changes="; ".join(parts))


def duplicate_labels(synthesis: Synthesis) -> dict[str, list[str]]:
    """Labels two review CMOCs share (two laptops both added "the next one" offline):
    label -> ids, oldest first by sort order. Both records are kept; one needs a new label."""
    seen: dict[str, list[str]] = {}
    for r in synthesis.review_cmocs:
        seen.setdefault(r.record.label or "", []).append(r.record.id)
    return {label: ids for label, ids in seen.items() if label and len(ids) > 1}


@dataclass(frozen=True)
class EvidenceMatrix:
    """Studies x review CMOCs; a cell holds the relations of the links between them."""

    studies: tuple[Study, ...]
    columns: tuple[ReviewCmoc, ...]
    #: (study id, review CMOC id) -> sorted relations ("refines", "supports", ...)
    cells: dict[tuple[str, str], tuple[str, ...]]
    #: Studies with no link at all, when the matrix shows only linked ones.
    hidden_studies: int = 0

    def cell(self, study_id: str, review_id: str) -> tuple[str, ...]:
        return self.cells.get((study_id, review_id), ())


def evidence_matrix(synthesis: Synthesis, linked_only: bool = False) -> EvidenceMatrix:
    cells: dict[tuple[str, str], set[str]] = {}
    for r in synthesis.review_cmocs:
        for s in r.sources:
            cells.setdefault((s.study_id, r.record.id), set()).add(s.relation)
    studies = synthesis.studies
    hidden = 0
    if linked_only:
        linked = {sid for sid, _ in cells}
        shown = tuple(s for s in studies if s.id in linked)
        hidden = len(studies) - len(shown)
        studies = shown
    return EvidenceMatrix(studies, tuple(r.record for r in synthesis.review_cmocs),
                          {k: tuple(sorted(v)) for k, v in cells.items()}, hidden)


MARKS = {ReviewRelation.SUPPORTS.value: "+", ReviewRelation.REFUTES.value: "−",
         ReviewRelation.REFINES.value: "~"}


def cell_mark(relations: Sequence[str]) -> str:
    """A compact mark for a matrix cell: + supports, − refutes, ~ refines."""
    return " ".join(MARKS.get(r, r) for r in relations)


# -- the C x M x O grid -------------------------------------------------------------------

NO_CODE = ""


@dataclass(frozen=True)
class GridCell:
    #: outcome code name -> number of CMOCs
    outcomes: dict[str, int]
    study_ids: frozenset[str]
    cmoc_ids: tuple[str, ...]


@dataclass(frozen=True)
class CmoGrid:
    contexts: tuple[str, ...]
    mechanisms: tuple[str, ...]
    cells: dict[tuple[str, str], GridCell]
    #: How many CMOCs the filters left out, and how many are shown.
    filtered_out: int = 0
    shown: int = 0


def cmo_grid(
    codes: Sequence[Code],
    cmocs: Sequence[Cmoc],
    consensus: Sequence[Consensus],
    records: str = "all",
    coder_id: str | None = None,
    code_id: str | None = None,
    merged_into: Mapping[str, str | None] | None = None,
) -> CmoGrid:
    """Context codes x mechanism codes; each cell counts outcome codes and studies.

    ``records`` is "all", "coders" (study CMOCs only) or "consensus"; ``coder_id`` keeps one
    coder's CMOCs; ``code_id`` keeps CMOCs tagged with that code. A CMOC without a context
    (or mechanism) code sits in the row (or column) named "" so nothing disappears. A CMOC on
    a study merged into its duplicate (``merged_into``: study id -> the study it became) counts
    for the study it became.
    """
    merged = merged_into or {}
    by_id = {c.id: c for c in codes}

    def kind_names(ids: Iterable[str], kind: str) -> list[str]:
        out = []
        for i in ids:
            c = by_id.get(i)
            if c is not None and (c.kind or "") == kind and c.name:
                out.append(c.name)
        return sorted(set(out)) or [NO_CODE]

    items: list[Cmoc | Consensus] = []
    if records in ("all", "coders"):
        items += [c for c in cmocs if coder_id is None or c.owner_id == coder_id]
    if records in ("all", "consensus") and coder_id is None:
        items += list(consensus)
    total = len(cmocs) + len(consensus)
    if code_id is not None:
        items = [c for c in items if code_id in c.code_ids]
    acc: dict[tuple[str, str], tuple[dict[str, int], set[str], list[str]]] = {}
    for item in items:
        ctx = kind_names(item.code_ids, "context")
        mech = kind_names(item.code_ids, "mechanism")
        outs = [o for o in kind_names(item.code_ids, "outcome") if o]
        for c in ctx:
            for m in mech:
                counts, studies, ids = acc.setdefault((c, m), ({}, set(), []))
                for o in outs:
                    counts[o] = counts.get(o, 0) + 1
                if item.study_id:
                    studies.add(merged_target(merged, item.study_id))
                ids.append(item.id)
    contexts = tuple(sorted({c for c, _ in acc}, key=lambda s: (s == NO_CODE, s.casefold())))
    mechanisms = tuple(sorted({m for _, m in acc}, key=lambda s: (s == NO_CODE, s.casefold())))
    cells = {k: GridCell(dict(sorted(v[0].items())), frozenset(v[1]), tuple(v[2]))
             for k, v in acc.items()}
    return CmoGrid(contexts, mechanisms, cells, total - len(items), len(items))
