"""The evidence table: one row per CMOC (consensus or a coder's), grouped by study, code or
programme theory, with its supporting quotes, pages and the study's appraisal."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from cmo_desk.domain.i18n import tr
from cmo_desk.domain.records import Cmoc, Consensus, Excerpt
from cmo_desk.domain.schema import CMOC_SLOTS
from cmo_desk.exporters.tables.context import (
    TableContext,
    codes_cell,
    label_sort_key,
    theory_label,
)
from cmo_desk.exporters.tables.grouping import (
    Placement,
    code_keys,
    fallback_group,
    place_rows,
    seeded_groups,
    study_group,
)
from cmo_desk.exporters.tables.model import OPTIONAL_COLUMN_SPECS, Column, ExportOptions, Group
from cmo_desk.exporters.textclean import clean_text, one_line

_NO_PAGE = "–"
_DIRECTION_MARK = {"+": "(+)", "-": "(−)", "−": "(−)", "mixed": "(mixed)"}

_EVIDENCE_COLUMNS: tuple[tuple[str, str, float], ...] = (
    ("study_label", "Study", 0.8),
    ("context", "Context", 1.6),
    ("mechanism_resource", "Mechanism: resource", 1.3),
    ("mechanism_reasoning", "Mechanism: reasoning", 1.5),
    ("outcome_shown", "Outcome", 1.4),
    ("statement", "If–then–because statement", 1.8),
    ("quotes", "Supporting quotes", 2.3),
    ("appraisal", "Appraisal", 1.1),
    ("recorded_by", "Coder or consensus", 0.9),
)

EVIDENCE_DATA_KEYS: tuple[str, ...] = (
    "group",
    "record_type",
    "cmoc_id",
    "study_id",
    "study_label",
    "coder",
    "status",
    *CMOC_SLOTS,
    "codes",
    "theories",
    "theory_relation",
    "quotes",
    "pages",
    "excerpt_ids",
    "appraisal",
    "source_cmoc_ids",
    "consensus_ids",
    "memo",
)

_RESOLUTION = {
    "agreed": "Consensus (agreed)",
    "merged": "Consensus (merged wording)",
    "a": "Consensus (first coder's wording)",
    "b": "Consensus (second coder's wording)",
    "unresolved": "Consensus (unresolved)",
}


SUMMARY_LABELS: tuple[tuple[str, str], ...] = (
    ("consensus", "Consensus CMOCs"),
    ("coder_reconciled", "Coders' CMOCs a consensus was built from"),
    ("coder_not_reconciled", "Coders' CMOCs not reconciled"),
    ("set_aside_left_out", "CMOCs set aside, left out"),
)


def evidence_summary(ctx: TableContext, groups: Sequence[Group]) -> dict[str, int]:
    """Distinct records shown, by kind, and the set-aside CMOCs the table leaves out."""
    seen: dict[str, str] = {}
    for group in groups:
        for row in group.rows:
            if row["record_type"] == "consensus":
                kind = "consensus"
            elif row["consensus_ids"]:
                kind = "coder_reconciled"
            else:
                kind = "coder_not_reconciled"
            seen[row["row_id"]] = kind
    summary = {key: 0 for key, _ in SUMMARY_LABELS}
    for kind in seen.values():
        summary[kind] += 1
    summary["set_aside_left_out"] = sum(1 for c in ctx.snapshot.cmocs if c.status == "set_aside")
    return summary


def summary_note(summary: dict[str, int], lang: str | None = None) -> str:
    """One sentence saying how many rows of each kind an evidence table shows and leaves out."""
    return tr(
        "This table shows {consensus} consensus CMOCs, {coder_reconciled} coders' CMOCs a "
        "consensus was built from and {coder_not_reconciled} coders' CMOCs not reconciled; "
        "{set_aside_left_out} CMOCs set aside are left out.",
        lang,
    ).format(**summary)


def _evidence_records(
    ctx: TableContext, records: str
) -> list[tuple[Cmoc | Consensus, str]]:
    """(record, "consensus"|"coder") in study order, then sort order, then snapshot order.

    ``records="consensus"`` lists each study's consensus CMOCs and then every coder CMOC that no
    consensus CMOC was built from: reconciling part of a study never hides the rest of it.
    """
    snap = ctx.snapshot
    by_study_consensus: dict[str, list[Consensus]] = {}
    for agreed_cmoc in snap.consensus:
        by_study_consensus.setdefault(ctx.study_id(agreed_cmoc.study_id), []).append(agreed_cmoc)
    by_study_cmoc: dict[str, list[Cmoc]] = {}
    for cmoc in snap.cmocs:
        if cmoc.status != "set_aside":
            by_study_cmoc.setdefault(ctx.study_id(cmoc.study_id), []).append(cmoc)
    study_order = [s.id for s in sorted(ctx.studies, key=label_sort_key)]
    # Records whose study is missing still belong in the audit trail: list them last.
    strays = [sid for sid in {*by_study_consensus, *by_study_cmoc} if sid not in ctx.study_by_id]
    out: list[tuple[Cmoc | Consensus, str]] = []
    for sid in study_order + sorted(strays):
        agreed = sorted(by_study_consensus.get(sid, []), key=_sort_order)
        own = sorted(by_study_cmoc.get(sid, []), key=_sort_order)
        own.sort(key=lambda c: ctx.coder_name.get(c.owner_id or "", "").casefold())
        if records in ("consensus", "all"):
            out += [(c, "consensus") for c in agreed]
        if records in ("coders", "all"):
            out += [(c, "coder") for c in own]
        elif records == "consensus":
            out += [(c, "coder") for c in own if c.id not in ctx.covered]
    return out


def evidence_table(
    ctx: TableContext, options: ExportOptions
) -> tuple[list[Column], list[Group], list[str], str]:
    columns = [Column(k, ctx.t(h), w) for k, h, w in _EVIDENCE_COLUMNS]
    for key, heading, weight, before in OPTIONAL_COLUMN_SPECS:
        if key in options.columns:
            at = next(i for i, c in enumerate(columns) if c.key == before)
            columns.insert(at, Column(key, ctx.t(heading), weight))
    if options.group_by == "theory":
        columns.insert(-1, Column("theory_relation", ctx.t("Relation to theory"), 0.7))
    appraisal_keys = ctx.appraisal_keys()
    base_rows: list[tuple[dict[str, str], Cmoc | Consensus]] = []
    for record, record_type in _evidence_records(ctx, options.records):
        base_rows.append(
            (_evidence_row(ctx, record, record_type, appraisal_keys, options.records,
                           options.changed_consensus), record)
        )
    groups = _group_rows(ctx, base_rows, options.group_by)
    return columns, groups, list(EVIDENCE_DATA_KEYS), ctx.t("CMOC evidence table")


def _evidence_row(
    ctx: TableContext,
    record: Cmoc | Consensus,
    record_type: str,
    appraisal_keys: Sequence[tuple[str, str]],
    records: str = "consensus",
    changed_consensus: frozenset[str] = frozenset(),
) -> dict[str, str]:
    """One row: who recorded the CMOC, its slots, its outcome with marks, its excerpts and the
    study's appraisal as that coder (or the consensus) sees it."""
    sid = ctx.study_id(record.study_id)
    author = _author(ctx, record, records, changed_consensus)
    excerpts = _supporting_excerpts(ctx, record)
    direction = (record.outcome_direction or "").strip()
    return {
        "row_id": f"{record_type}:{record.id}",
        "group": "",
        "record_type": record_type,
        "cmoc_id": record.id,
        "study_id": sid,
        "study_label": ctx.study_label(sid),
        "coder": author.coder,
        "recorded_by": author.recorded_by,
        "status": author.status,
        "intervention": clean_text(record.intervention).strip(),
        "actor": clean_text(record.actor).strip(),
        "context": clean_text(record.context).strip(),
        "mechanism_resource": clean_text(record.mechanism_resource).strip(),
        "mechanism_reasoning": clean_text(record.mechanism_reasoning).strip(),
        "outcome": clean_text(record.outcome).strip(),
        "outcome_direction": one_line(direction),
        "outcome_intended": one_line(record.outcome_intended),
        "outcome_shown": _outcome_shown(ctx, record),
        "statement": clean_text(record.statement).strip(),
        "confidence": one_line(record.confidence),
        "codes": codes_cell(ctx, record.code_ids),
        "theories": _theories_cell(ctx, record),
        "theory_relation": "",
        # One quote line, one page and one id per excerpt, in the same order, so the three
        # columns can be matched.
        "quotes": "\n".join(ctx.quote_line(e) or "“”" for e in excerpts),
        "pages": "; ".join(_page_cell(ctx, e) for e in excerpts),
        "excerpt_ids": " ".join(e.id for e in excerpts),
        "appraisal": _appraisal_cell(ctx, record, sid, author.coder_id, appraisal_keys),
        "source_cmoc_ids": author.sources,
        "consensus_ids": " ".join(ctx.covered.get(record.id, ())) if record_type == "coder" else "",
        "memo": author.memo,
    }


@dataclass(frozen=True)
class _Author:
    """Who recorded a row's CMOC, as the row shows it."""

    #: The coder whose form values the row's appraisal prefers (None for a consensus CMOC).
    coder_id: str | None
    coder: str
    recorded_by: str
    status: str
    sources: str
    memo: str


def _author(ctx: TableContext, record: Cmoc | Consensus, records: str,
            changed_consensus: frozenset[str] = frozenset()) -> _Author:
    if isinstance(record, Consensus):
        changed = ("\n" + ctx.t("(a source changed since it was made)")
                   if record.id in changed_consensus else "")
        return _Author(
            coder_id=None,
            coder="",
            recorded_by=ctx.t(_RESOLUTION.get(record.resolution or "", "Consensus"))
            + _sources_line(ctx, record) + changed,
            status=record.resolution or "",
            sources=" ".join(record.source_ids),
            memo=clean_text(record.note),
        )
    coder = ctx.coder_name.get(record.owner_id or "", "")
    recorded_by = coder or ctx.t("Unknown coder")
    if records != "coders" and record.id not in ctx.covered:
        recorded_by = ctx.t("{coder} (not reconciled)").format(coder=recorded_by)
    return _Author(
        coder_id=record.owner_id,
        coder=coder,
        recorded_by=recorded_by,
        status=record.status or "",
        sources="",
        memo=clean_text(record.memo),
    )


def _sources_line(ctx: TableContext, record: Consensus) -> str:
    """Whose CMOCs a consensus was built from, by initials; a source deleted since is said."""
    if not record.source_ids:
        return ""
    who: list[str] = []
    for source_id in dict.fromkeys(record.source_ids):
        source = ctx.cmoc_by_id.get(source_id)
        name = (ctx.coder_initials.get(source.owner_id or "", "") or ctx.t("Unknown coder")
                if source is not None else ctx.t("deleted CMOC"))
        if name not in who or source is None:
            who.append(name)
    return "\n" + ctx.t("from {sources}").format(sources=", ".join(who))


def _supporting_excerpts(ctx: TableContext, record: Cmoc | Consensus) -> list[Excerpt]:
    """The record's excerpts in text order, whatever order they were linked in, once each."""
    return sorted((ctx.excerpt_by_id[e] for e in dict.fromkeys(record.excerpt_ids)
                   if e in ctx.excerpt_by_id), key=ctx.text_order)


def _page_cell(ctx: TableContext, excerpt: Excerpt) -> str:
    page = ctx.page_of(excerpt)
    return _NO_PAGE if page is None else str(page)


def _outcome_shown(ctx: TableContext, record: Cmoc | Consensus) -> str:
    """The outcome followed by its marks: direction, "(+)", and "[unintended]"."""
    outcome = clean_text(record.outcome).strip()
    direction = (record.outcome_direction or "").strip()
    marks = []
    if direction:
        mark = _DIRECTION_MARK.get(direction)
        marks.append(ctx.t(mark) if mark else f"({one_line(direction)})")
    if (record.outcome_intended or "") == "unintended":
        marks.append(ctx.t("[unintended]"))
    return " ".join(p for p in (outcome, *marks) if p)


def _theories_cell(ctx: TableContext, record: Cmoc | Consensus) -> str:
    return "; ".join(theory_label(ctx, ctx.theory_by_id[t])
                     for t, _ in ctx.theory_relations(record) if t in ctx.theory_by_id)


def _appraisal_cell(
    ctx: TableContext,
    record: Cmoc | Consensus,
    study_id: str,
    coder_id: str | None,
    appraisal_keys: Sequence[tuple[str, str]],
) -> str:
    """The study's appraisal values, one per line, then the CMOC's own confidence."""
    parts = []
    for key, label in appraisal_keys:
        value = ctx.form_value(study_id, key, coder_id)
        if value:
            parts.append(f"{label}: {value}")
    if record.confidence:
        conf = one_line(record.confidence)
        parts.append(f"{ctx.t('Confidence')}: {ctx.t(conf.capitalize())}")
    return "\n".join(parts)


def _group_rows(
    ctx: TableContext,
    base_rows: list[tuple[dict[str, str], Cmoc | Consensus]],
    group_by: str,
) -> list[Group]:
    """Rows by study, under each of their codes, or under each programme theory they relate to
    (with the relation)."""
    groups = seeded_groups(ctx, group_by)
    fallback = fallback_group(ctx, group_by)
    placements: list[Placement]
    if group_by == "study":
        placements = [(row, [(row["study_id"], {})]) for row, _ in base_rows]
        return place_rows(placements, groups, fallback, study_group(ctx))
    if group_by == "code":
        placements = [(row, [(cid, {}) for cid in code_keys(ctx, record.code_ids)])
                      for row, record in base_rows]
        return place_rows(placements, groups, fallback)
    placements = [
        (row, [(tid, {"theory_relation": relation})
               for tid, relation in ctx.theory_relations(record)])
        for row, record in base_rows
    ]
    return place_rows(placements, groups, fallback)


def _sort_order(record: Cmoc | Consensus) -> tuple[bool, int]:
    return (record.sort_order is None, record.sort_order or 0)
