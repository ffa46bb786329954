"""Agreement between coders: Cohen's kappa, Krippendorff's alpha and character overlap.

The headline figures treat every (study, code) pair as a unit and ask whether each coder applied the
code anywhere in that study. The diagnostic figures compare, per code and document, which characters
two coders marked, computed the way NVivo does. Everything is computed from the coders' own excerpts
and CMOCs: consensus records are the outcome of discussion, so counting them would measure the
team against itself.

Undefined statistics are ``None``, never 0 or 1: when both coders gave the same single answer to
every unit (say, neither ever applied a code) kappa and alpha divide 0 by 0, and the honest report
is "undefined" next to the percent agreement, which is then 100 %.

Percent agreement is always a percentage (0-100), kappa and alpha are on their usual -1..1 scale.

QualCoder's "kappa" is deliberately not reproduced: it divides by coded characters only and so
ignores the characters both coders left alone.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence, Sized
from dataclasses import asdict, dataclass, field
from itertools import combinations
from typing import Any

from cmo_desk.agreement.statistics import (
    OverlapResult,
    Span,
    char_overlap,
    cohen_kappa,
    krippendorff_alpha_nominal,
)
from cmo_desk.domain.errors import ValidationError
from cmo_desk.domain.i18n import tr
from cmo_desk.domain.records import AssignmentStatus, Code, Coder, Document, Excerpt, Study
from cmo_desk.domain.snapshot import ProjectSnapshot

# --------------------------------------------------------------------------------------------
# Study x code agreement over a project


@dataclass(frozen=True)
class CodeAgreement:
    """Agreement on one code (or, with ``code_id`` None, on all codes pooled).

    ``units`` counts (study, code) pairs rated by at least two of the chosen coders; ``applied``
    says in how many of those units each coder applied the code, in coder order.
    """

    code_id: str | None
    code_name: str
    units: int
    kappa: float | None
    alpha: float | None
    percent: float | None
    applied: tuple[int, ...] = ()


@dataclass(frozen=True)
class DocumentOverlap:
    """Character overlap of two coders' excerpts for one code in one document."""

    coder_a: str
    coder_b: str
    code_id: str
    code_name: str
    document_id: str
    document_name: str
    study_id: str
    study_label: str
    result: OverlapResult


@dataclass(frozen=True)
class LeftOut:
    """A study some chosen coder worked on that the figures do not count, and why.

    ``reason`` is "one_coder" (only one chosen coder coded it) or "not_submitted" (assigned to
    the named coders, who have not submitted it: their unfinished coding is not counted, which
    may leave the study with fewer than two coders).
    """

    study_id: str
    study_label: str
    reason: str
    coder_ids: tuple[str, ...]
    coder_names: tuple[str, ...]


@dataclass(frozen=True)
class AgreementReport:
    coder_ids: tuple[str, ...]
    coder_names: tuple[str, ...]
    studies_total: int
    studies_double_coded: int
    #: studies_double_coded / studies_total, as a fraction 0..1 (None for a project without studies)
    double_coded_share: float | None
    #: studies each chosen coder coded, in coder order
    studies_coded: tuple[int, ...]
    per_code: tuple[CodeAgreement, ...]
    pooled: CodeAgreement
    overlaps: tuple[DocumentOverlap, ...] = ()
    #: codes in the codebook that none of the chosen coders applied in a double-coded study
    codes_unused: int = 0
    notes: tuple[str, ...] = field(default=())
    #: studies the chosen coders worked on that the figures leave out, with the reason
    left_out: tuple[LeftOut, ...] = ()
    #: codings (a code on an excerpt or CMOC) in double-coded studies whose code is no longer in
    #: the codebook (deleted, perhaps while in use on another laptop): not counted
    codings_without_code: int = 0

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready data: what ``--json`` prints and what the report exporter reads."""
        names = dict(zip(self.coder_ids, self.coder_names))

        def code_row(row: CodeAgreement) -> dict[str, Any]:
            data = asdict(row)
            data["applied"] = dict(zip(self.coder_ids, row.applied))
            return data

        return {
            "coders": [{"id": c, "name": n} for c, n in zip(self.coder_ids, self.coder_names)],
            "studies_total": self.studies_total,
            "studies_double_coded": self.studies_double_coded,
            "double_coded_share": self.double_coded_share,
            "studies_coded": dict(zip(self.coder_ids, self.studies_coded)),
            "codes_unused": self.codes_unused,
            "codings_without_code": self.codings_without_code,
            "left_out": [asdict(x) for x in self.left_out],
            "pooled": code_row(self.pooled),
            "per_code": [code_row(r) for r in self.per_code],
            "overlaps": [
                {
                    "coder_a": o.coder_a,
                    "coder_a_name": names.get(o.coder_a, ""),
                    "coder_b": o.coder_b,
                    "coder_b_name": names.get(o.coder_b, ""),
                    "code_id": o.code_id,
                    "code_name": o.code_name,
                    "document_id": o.document_id,
                    "document_name": o.document_name,
                    "study_id": o.study_id,
                    "study_label": o.study_label,
                    **asdict(o.result),
                }
                for o in self.overlaps
            ],
            "notes": list(self.notes),
        }


def report_to_dict(report: AgreementReport) -> dict[str, Any]:
    """JSON-ready form of an agreement report (``json.dumps`` accepts it as is)."""
    return report.to_dict()


def _follow(target_of: Mapping[str, str | None], start: str, live: Mapping[str, object]) -> str | None:
    """Follow merged_into links to the record that survives; None when the chain ends nowhere live."""
    seen = set()
    current = start
    while current in live:
        nxt = target_of.get(current)
        if not nxt or nxt in seen or nxt == current:
            return current
        seen.add(current)
        current = nxt
    return None


def resolve_coder_ids(snapshot: ProjectSnapshot, names: Iterable[str]) -> tuple[str, ...]:
    """Turn what a user typed (ids, names or initials, any case) into coder ids, in the given order."""
    chosen: list[str] = []
    for raw in names:
        token = raw.strip()
        if not token:
            continue
        folded = " ".join(token.split()).casefold()
        matches = [
            c for c in snapshot.coders
            if c.id == token
            or " ".join((c.name or "").split()).casefold() == folded
            or (c.initials or "").casefold() == folded
        ]
        ids = sorted({c.id for c in matches})
        if not ids:
            known = ", ".join(c.name or c.id for c in snapshot.coders) or tr("none")
            raise ValidationError(
                tr("No coder called \"{name}\" in this project; choose among: {known}.")
                .format(name=token, known=known)
            )
        if len(ids) > 1:
            raise ValidationError(
                tr("\"{name}\" matches more than one coder; give the full name instead.").format(name=token)
            )
        if ids[0] not in chosen:
            chosen.append(ids[0])
    return tuple(chosen)


class _Survivors:
    """Where merged records went: studies and codes merged into another count as their target."""

    def __init__(self, snapshot: ProjectSnapshot) -> None:
        self.live_codes: dict[str, Code] = {c.id: c for c in snapshot.codes}
        self.live_studies: dict[str, Study] = {s.id: s for s in snapshot.studies}
        self._code_target = {c.id: c.merged_into for c in snapshot.codes}
        self._study_target = {s.id: s.merged_into for s in snapshot.studies}
        self._documents: dict[str, Document] = {d.id: d for d in snapshot.documents}

    def study_of(self, study_id: str | None) -> str | None:
        return _follow(self._study_target, study_id, self.live_studies) if study_id else None

    def code_of(self, code_id: str) -> str | None:
        return _follow(self._code_target, code_id, self.live_codes)

    def codes_of(self, code_ids: Iterable[str]) -> set[str]:
        targets = (self.code_of(cid) for cid in code_ids)
        return {t for t in targets if t is not None}

    def excerpt_study(self, ex: Excerpt) -> str | None:
        sid = ex.study_id
        if not sid and ex.document_id in self._documents:
            sid = self._documents[ex.document_id].study_id
        return self.study_of(sid)


@dataclass
class _Coding:
    """What each coder did, from their own records only."""

    #: coder id -> studies the coder coded
    coded: dict[str, set[str]] = field(default_factory=dict)
    #: (coder id, study id) -> codes the coder applied in that study
    applied: dict[tuple[str, str], set[str]] = field(default_factory=dict)
    #: coder id -> studies assigned to the coder, who worked on them but has not submitted them
    unfinished: dict[str, set[str]] = field(default_factory=dict)
    #: (coder id, study id) -> codings there whose code is no longer in the codebook
    without_code: Counter[tuple[str, str]] = field(default_factory=Counter)
    #: (coder id, study id) pairs assigned and not (yet) submitted
    pending: set[tuple[str, str]] = field(default_factory=set)

    def mark(self, coder_id: str, study_id: str, code_ids: Iterable[str] = (),
             missing: int = 0) -> None:
        if (coder_id, study_id) in self.pending:
            self.unfinished.setdefault(coder_id, set()).add(study_id)
        else:
            self.coded.setdefault(coder_id, set()).add(study_id)
        self.applied.setdefault((coder_id, study_id), set()).update(code_ids)
        self.without_code[(coder_id, study_id)] += missing

    def did_code(self, coder_id: str, study_id: str) -> bool:
        return study_id in self.coded.get(coder_id, ())

    def applied_in(self, coder_id: str, study_id: str) -> set[str]:
        return self.applied.get((coder_id, study_id), set())


def _own_coding(snapshot: ProjectSnapshot, survivors: _Survivors) -> _Coding:
    """Studies each coder coded (own excerpt, own CMOC or submitted assignment) and codes applied.

    Work on a study assigned to the coder and not submitted is unfinished: it is kept apart, so
    that codes the coder has not reached yet do not count as disagreements."""
    coding = _Coding()
    submitted: set[tuple[str, str]] = set()
    for asg in snapshot.assignments:
        sid = survivors.study_of(asg.study_id)
        if not (asg.coder_id and sid):
            continue
        if asg.status == AssignmentStatus.SUBMITTED.value:
            submitted.add((asg.coder_id, sid))
        else:
            coding.pending.add((asg.coder_id, sid))
    coding.pending -= submitted
    for ex in snapshot.excerpts:
        sid = survivors.excerpt_study(ex)
        if ex.owner_id and sid:
            codes = survivors.codes_of(ex.code_ids)
            coding.mark(ex.owner_id, sid, codes, len(set(ex.code_ids)) - _known(survivors, ex.code_ids))
    for cm in snapshot.cmocs:
        sid = survivors.study_of(cm.study_id)
        if cm.owner_id and sid:
            codes = survivors.codes_of(cm.code_ids)
            coding.mark(cm.owner_id, sid, codes, len(set(cm.code_ids)) - _known(survivors, cm.code_ids))
    for coder, sid in submitted:
        coding.coded.setdefault(coder, set()).add(sid)
    return coding


def _known(survivors: _Survivors, code_ids: Iterable[str]) -> int:
    """How many of the codes still lead to a code in the codebook."""
    return sum(1 for cid in set(code_ids) if survivors.code_of(cid) is not None)


def _choose_coders(
    snapshot: ProjectSnapshot, coding: _Coding, coder_ids: Sequence[str] | None
) -> tuple[str, ...]:
    """The coders to compare: those asked for (checked), or every coder who coded something."""
    if coder_ids is None:
        worked = set(coding.coded) | set(coding.unfinished)
        order = [c.id for c in snapshot.coders if c.id in worked]
        order += sorted(worked - set(order))
        return tuple(order)
    known = {c.id for c in snapshot.coders}
    chosen = tuple(dict.fromkeys(coder_ids))
    unknown = [c for c in chosen if c not in known and c not in coding.coded
               and c not in coding.unfinished]
    if unknown:
        raise ValidationError(
            tr("No coder with id {ids} in this project; list the coders and choose among them.")
            .format(ids=", ".join(unknown))
        )
    if len(chosen) < 2:
        raise ValidationError(
            tr("Agreement needs at least two coders; choose two or more coders.")
        )
    return chosen


def _coder_names(snapshot: ProjectSnapshot, chosen: Sequence[str]) -> tuple[str, ...]:
    coders_by_id: dict[str, Coder] = {c.id: c for c in snapshot.coders}
    return tuple(coders_by_id[c].name or c if c in coders_by_id else c for c in chosen)


def _double_coded(
    snapshot: ProjectSnapshot, survivors: _Survivors, coding: _Coding, chosen: Sequence[str]
) -> dict[str, list[str]]:
    """Studies coded by two or more chosen coders, in project order, each with who coded it."""
    coded_by = {sid: [c for c in chosen if coding.did_code(c, sid)] for sid in survivors.live_studies}
    study_order = {s.id: i for i, s in enumerate(snapshot.studies)}
    double = sorted(
        (sid for sid, who in coded_by.items() if len(who) >= 2), key=lambda s: study_order[s]
    )
    return {sid: coded_by[sid] for sid in double}


def _codes_in_play(
    snapshot: ProjectSnapshot, survivors: _Survivors, coding: _Coding, double: Mapping[str, list[str]]
) -> tuple[list[Code], int]:
    """Codes applied by a chosen coder in a double-coded study, in codebook order; and how many
    surviving codes nobody applied there."""
    used_codes: set[str] = set()
    for sid, who in double.items():
        for c in who:
            used_codes |= coding.applied_in(c, sid)
    canonical_codes = [c for c in snapshot.codes if survivors.code_of(c.id) == c.id]
    code_order = [c for c in canonical_codes if c.id in used_codes]
    return code_order, len(canonical_codes) - len(code_order)


Ratings = list[list[bool | None]]


def _ratings(code_id: str, studies: Iterable[str], chosen: Sequence[str], coding: _Coding) -> Ratings:
    """One row per double-coded study: whether each coder applied the code (None: did not code it)."""
    return [
        [(code_id in coding.applied_in(c, sid)) if coding.did_code(c, sid) else None for c in chosen]
        for sid in studies
    ]


def _summarise(code_id: str | None, code_name: str, rows: Ratings, coders: int) -> CodeAgreement:
    alpha = krippendorff_alpha_nominal(rows)
    kappa = None
    if coders == 2:
        kappa = cohen_kappa([r[0] for r in rows], [r[1] for r in rows])
    agreeing = sum(1 for r in rows if len({v for v in r if v is not None}) == 1)
    percent = 100.0 * agreeing / len(rows) if rows else None
    counts = tuple(sum(1 for r in rows if r[i]) for i in range(coders))
    return CodeAgreement(code_id, code_name, len(rows), kappa, alpha, percent, counts)


def _per_code_and_pooled(
    codes: Sequence[Code], studies: Sequence[str], chosen: Sequence[str], coding: _Coding
) -> tuple[tuple[CodeAgreement, ...], CodeAgreement]:
    per_code = []
    pooled_rows: Ratings = []
    for code in codes:
        rows = _ratings(code.id, studies, chosen, coding)
        pooled_rows.extend(rows)
        per_code.append(_summarise(code.id, code.name or "", rows, len(chosen)))
    pooled = _summarise(None, tr("All codes (pooled)"), pooled_rows, len(chosen))
    return tuple(per_code), pooled


def _left_out(
    snapshot: ProjectSnapshot, survivors: _Survivors, coding: _Coding, chosen: Sequence[str],
    double: Mapping[str, list[str]], names: Mapping[str, str],
) -> tuple[LeftOut, ...]:
    """Studies a chosen coder worked on that are not counted, or not with every coder's work."""
    out = []
    for study in snapshot.studies:
        sid = study.id
        if survivors.study_of(sid) != sid:
            continue
        label = study.label or study.title or ""
        unfinished = tuple(c for c in chosen if sid in coding.unfinished.get(c, ()))
        if unfinished:
            out.append(LeftOut(sid, label, "not_submitted", unfinished,
                               tuple(names[c] for c in unfinished)))
            continue
        coded = tuple(c for c in chosen if coding.did_code(c, sid))
        if sid not in double and len(coded) == 1:
            out.append(LeftOut(sid, label, "one_coder", coded, tuple(names[c] for c in coded)))
    return tuple(out)


def _listed(items: Iterable[LeftOut]) -> str:
    return "; ".join(f"{x.study_label} ({', '.join(x.coder_names)})" for x in items)


def _notes(chosen: Sequence[str], double: Sized, left_out: Sequence[LeftOut],
           without_code: int) -> tuple[str, ...]:
    notes = []
    if len(chosen) < 2:
        notes.append(tr("Fewer than two coders have coded anything yet; merge the other coders' files first."))
    elif not double:
        notes.append(tr("No study has been coded by two of these coders yet; assign some studies to two coders."))
    if len(chosen) > 2:
        notes.append(tr("Cohen's kappa is for two coders; with more, read Krippendorff's alpha."))
    pending = [x for x in left_out if x.reason == "not_submitted"]
    if pending:
        notes.append(tr("Not counted until submitted, the coding of: {studies}.").format(
            studies=_listed(pending)))
    single = [x for x in left_out if x.reason == "one_coder"]
    if single:
        notes.append(tr("Left out, coded by only one of these coders: {studies}.").format(
            studies=_listed(single)))
    if without_code:
        notes.append(tr(
            "Codings in double-coded studies whose code is no longer in the codebook, not "
            "counted: {n}. Restore the code, or settle its conflict.").format(n=without_code))
    return tuple(notes)


def study_code_agreement(
    snapshot: ProjectSnapshot, coder_ids: Sequence[str] | None = None
) -> AgreementReport:
    """Study x code agreement between coders, per code and pooled, plus character overlap.

    A study counts as coded by a coder when the coder owns an excerpt or CMOC on it, or submitted
    its assignment; work on a study assigned to the coder and not yet submitted is unfinished and
    not counted. Every study left out for either reason is named in ``left_out`` and the notes. A unit is a (study, code) pair for a study coded by two or more chosen coders;
    each coder's value is whether they applied the code there (through their own excerpts or
    CMOCs). Codes that none of them applied in any such study are left out and counted in
    ``codes_unused``: a code nobody used in the sample says nothing about agreement and would only
    inflate percent agreement. Codes merged into another count as their target; studies merged into
    another count as theirs. Consensus records are never read.

    Kappa is given only for exactly two coders; alpha for any number. With three or more coders,
    percent agreement is the share of units on which every coder who rated it gave the same answer.
    ``coder_ids`` default: every coder with at least one own record, in the project's coder order.
    """
    survivors = _Survivors(snapshot)
    coding = _own_coding(snapshot, survivors)
    chosen = _choose_coders(snapshot, coding, coder_ids)
    double = _double_coded(snapshot, survivors, coding, chosen)
    codes, unused = _codes_in_play(snapshot, survivors, coding, double)
    per_code, pooled = _per_code_and_pooled(codes, list(double), chosen, coding)
    total = sum(1 for s in snapshot.studies if survivors.study_of(s.id) == s.id)
    names = _coder_names(snapshot, chosen)
    left_out = _left_out(snapshot, survivors, coding, chosen, double, dict(zip(chosen, names)))
    without_code = sum(coding.without_code[(c, sid)] for sid, who in double.items() for c in who)
    return AgreementReport(
        coder_ids=chosen,
        coder_names=names,
        studies_total=total,
        studies_double_coded=len(double),
        double_coded_share=(len(double) / total) if total else None,
        studies_coded=tuple(len(coding.coded.get(c, ())) for c in chosen),
        per_code=per_code,
        pooled=pooled,
        overlaps=_document_overlaps(snapshot, chosen, coding, survivors),
        codes_unused=unused,
        notes=_notes(chosen, double, left_out, without_code),
        left_out=left_out,
        codings_without_code=without_code,
    )


def _document_overlaps(
    snapshot: ProjectSnapshot, chosen: tuple[str, ...], coding: _Coding, survivors: _Survivors
) -> tuple[DocumentOverlap, ...]:
    """Per pair of coders, per document of a study both coded, per code either marked there."""
    spans_by_document: dict[str, dict[tuple[str, str], list[Span]]] = {}
    for ex in snapshot.excerpts:
        if ex.owner_id not in chosen or not ex.document_id:
            continue
        marks = spans_by_document.setdefault(ex.document_id, {})
        for cid in survivors.codes_of(ex.code_ids):
            marks.setdefault((ex.owner_id, cid), []).append((ex.start, ex.end))
    code_rank = {c.id: i for i, c in enumerate(snapshot.codes)}
    out = []
    for doc in snapshot.documents:
        sid = survivors.study_of(doc.study_id)
        doc_marks = spans_by_document.get(doc.id)
        if sid is None or doc.text is None or not doc_marks:
            continue
        length = len(doc.text)
        study = survivors.live_studies[sid]
        for a, b in combinations(chosen, 2):
            if not (coding.did_code(a, sid) and coding.did_code(b, sid)):
                continue
            codes = {cid for owner, cid in doc_marks if owner in (a, b)}
            for cid in sorted(codes, key=lambda c: code_rank.get(c, 0)):
                result = char_overlap(
                    length, doc_marks.get((a, cid), ()), doc_marks.get((b, cid), ())
                )
                out.append(
                    DocumentOverlap(
                        coder_a=a,
                        coder_b=b,
                        code_id=cid,
                        code_name=survivors.live_codes[cid].name or "",
                        document_id=doc.id,
                        document_name=doc.filename or "",
                        study_id=sid,
                        study_label=study.label or study.title or "",
                        result=result,
                    )
                )
    return tuple(out)
