"""Pair two coders' CMOCs for one study, so that reconciliation can show them side by side.

Two CMOCs are about the same thing when they rest on the same passages or carry the same codes.
The score is the mean of two Jaccard indices, each in 0..1: characters covered by the linked
excerpts (per document), and codes. A side that neither CMOC has (no excerpts on either, or no codes
on either) is left out of the mean rather than counted as a disagreement. Pairs are then chosen
greedily, best score first, which is what a person scanning the two lists would do; ties are broken
by the CMOC ids so the same inputs always give the same pairs, whichever coder is called A.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from cmo_desk.domain.records import Cmoc, Excerpt
from cmo_desk.domain.schema import CMOC_SLOTS
from cmo_desk.agreement.statistics import intersection_size, union_spans

#: Scores are compared after rounding so that float noise cannot reorder equal candidates.
_SCORE_DIGITS = 9


@dataclass(frozen=True)
class Pair:
    """One row of the reconciliation view: A's CMOC, B's CMOC, or both.

    ``differences`` lists the CMOC slots whose wording differs (ignoring spacing); it is empty when
    one side is missing. ``overlapping_excerpt_ids`` holds the excerpts, from either side, that
    share characters with an excerpt on the other side.
    """

    a: Cmoc | None
    b: Cmoc | None
    score: float = 0.0
    shared_code_ids: tuple[str, ...] = ()
    overlapping_excerpt_ids: tuple[str, ...] = ()
    differences: list[str] = field(default_factory=list)


def _norm_text(value: object) -> str:
    return " ".join(str(value).split()) if value is not None else ""


def slot_differences(a: Cmoc, b: Cmoc) -> list[str]:
    """Names of the CMOC slots whose text differs between ``a`` and ``b``, in slot order."""
    return [s for s in CMOC_SLOTS if _norm_text(getattr(a, s, None)) != _norm_text(getattr(b, s, None))]


def _canonical_codes(code_ids: Iterable[str], code_alias: Mapping[str, str] | None) -> set[str]:
    if not code_alias:
        return set(code_ids)
    out = set()
    for cid in code_ids:
        seen = {cid}
        while cid in code_alias and code_alias[cid] not in seen:
            cid = code_alias[cid]
            seen.add(cid)
        out.add(cid)
    return out


def _excerpts_of(cmoc: Cmoc, excerpts_by_id: Mapping[str, Excerpt]) -> list[Excerpt]:
    return [
        excerpts_by_id[eid]
        for eid in dict.fromkeys(cmoc.excerpt_ids)
        if eid in excerpts_by_id and excerpts_by_id[eid].document_id and excerpts_by_id[eid].end is not None
    ]


def _coverage(excerpts: Sequence[Excerpt]) -> dict[str, list[tuple[int, int]]]:
    by_document: dict[str, list[tuple[int | None, int | None]]] = {}
    for ex in excerpts:
        by_document.setdefault(ex.document_id or "", []).append((ex.start, ex.end))
    bound = max((ex.end or 0 for ex in excerpts), default=0)
    return {doc: union_spans(spans, bound) for doc, spans in by_document.items()}


def _spans_overlap(x: Excerpt, y: Excerpt) -> bool:
    if x.document_id != y.document_id:
        return False
    if x.start is None or x.end is None or y.start is None or y.end is None:
        return False
    return max(x.start, y.start) < min(x.end, y.end)


@dataclass(frozen=True)
class _Candidate:
    score: float
    shared_code_ids: tuple[str, ...]
    overlapping_excerpt_ids: tuple[str, ...]


def _compare(
    a: Cmoc, b: Cmoc, excerpts_by_id: Mapping[str, Excerpt], code_alias: Mapping[str, str] | None
) -> _Candidate:
    if a.study_id and b.study_id and a.study_id != b.study_id:
        return _Candidate(0.0, (), ())
    parts: list[float] = []

    ex_a, ex_b = _excerpts_of(a, excerpts_by_id), _excerpts_of(b, excerpts_by_id)
    overlapping: set[str] = set()
    if ex_a or ex_b:
        cov_a, cov_b = _coverage(ex_a), _coverage(ex_b)
        inter = sum(intersection_size(spans, cov_b.get(doc, [])) for doc, spans in cov_a.items())
        size_a = sum(e - s for spans in cov_a.values() for s, e in spans)
        size_b = sum(e - s for spans in cov_b.values() for s, e in spans)
        union = size_a + size_b - inter
        parts.append(inter / union if union else 0.0)
        for x in ex_a:
            for y in ex_b:
                if x.id == y.id or _spans_overlap(x, y):
                    overlapping.update((x.id, y.id))

    codes_a = _canonical_codes(a.code_ids, code_alias)
    codes_b = _canonical_codes(b.code_ids, code_alias)
    shared = codes_a & codes_b
    if codes_a or codes_b:
        parts.append(len(shared) / len(codes_a | codes_b))

    score = round(sum(parts) / len(parts), _SCORE_DIGITS) if parts else 0.0
    return _Candidate(score, tuple(sorted(shared)), tuple(sorted(overlapping)))


def pair_cmocs(
    cmocs_a: Sequence[Cmoc],
    cmocs_b: Sequence[Cmoc],
    excerpts_by_id: Mapping[str, Excerpt],
    code_alias: Mapping[str, str] | None = None,
) -> list[Pair]:
    """Pair coder A's CMOCs with coder B's, best matches first, each CMOC used at most once.

    Only CMOCs with some overlap in excerpts or codes (score > 0) are paired; the rest appear once,
    with the other side None. ``code_alias`` maps a merged code's id to the code it was merged into,
    so that the two coders' duplicate codes count as one. The result follows A's order (each A CMOC
    with its partner or alone), then B's unpaired CMOCs in B's order.
    """
    candidates = []
    for a in cmocs_a:
        for b in cmocs_b:
            found = _compare(a, b, excerpts_by_id, code_alias)
            if found.score > 0:
                candidates.append((found, a, b))
    # the tie-break key does not depend on which coder is A, so swapping the coders swaps the pairs
    candidates.sort(key=lambda t: (-t[0].score, tuple(sorted((t[1].id, t[2].id)))))

    partner_of_a: dict[str, tuple[Cmoc, _Candidate]] = {}
    taken_b: set[str] = set()
    for found, a, b in candidates:
        if a.id in partner_of_a or b.id in taken_b:
            continue
        partner_of_a[a.id] = (b, found)
        taken_b.add(b.id)

    pairs: list[Pair] = []
    seen_a: set[str] = set()
    for a in cmocs_a:
        if a.id in seen_a:
            continue
        seen_a.add(a.id)
        if a.id in partner_of_a:
            b, found = partner_of_a[a.id]
            pairs.append(
                Pair(a, b, found.score, found.shared_code_ids, found.overlapping_excerpt_ids, slot_differences(a, b))
            )
        else:
            pairs.append(Pair(a, None))
    seen_b: set[str] = set()
    for b in cmocs_b:
        if b.id not in taken_b and b.id not in seen_b:
            seen_b.add(b.id)
            pairs.append(Pair(None, b))
    return pairs
