"""The evidence table: one row per CMOC (consensus or a coder's), grouped by study, code or
programme theory, with its supporting quotes, pages and the study's appraisal."""

from __future__ import annotations

from collections.abc import Sequence

from cmo_desk.domain.i18n import tr
from cmo_desk.domain.records import Cmoc, Consensus
from cmo_desk.exporters.tables.context import (
    TableContext,
    label_sort_key,
    study_heading,
    theory_heading,
    theory_label,
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
    "intervention",
    "actor",
    "context",
    "mechanism_resource",
    "mechanism_reasoning",
    "outcome",
    "outcome_direction",
    "outcome_intended",
    "statement",
    "confidence",
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
    for c in snap.consensus:
        by_study_consensus.setdefault(ctx.study_id(c.study_id), []).append(c)
    by_study_cmoc: dict[str, list[Cmoc]] = {}
    for c in snap.cmocs:
        if c.status != "set_aside":
            by_study_cmoc.setdefault(ctx.study_id(c.study_id), []).append(c)
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
            (_evidence_row(ctx, record, record_type, appraisal_keys, options.records), record)
        )
    groups = _group_rows(ctx, base_rows, options.group_by)
    return columns, groups, list(EVIDENCE_DATA_KEYS), ctx.t("CMOC evidence table")


def _evidence_row(
    ctx: TableContext,
    record: Cmoc | Consensus,
    record_type: str,
    appraisal_keys: Sequence[tuple[str, str]],
    records: str = "consensus",
) -> dict[str, str]:
    sid = ctx.study_id(record.study_id)
    if isinstance(record, Consensus):
        coder_id = None
        recorded_by = ctx.t(_RESOLUTION.get(record.resolution or "", "Consensus"))
        coder = ""
        status = record.resolution or ""
        sources = " ".join(record.source_ids)
        memo = clean_text(record.note)
    else:
        coder_id = record.owner_id
        coder = ctx.coder_name.get(coder_id or "", "")
        recorded_by = coder or ctx.t("Unknown coder")
        if records != "coders" and record.id not in ctx.covered:
            recorded_by = ctx.t("{coder} (not reconciled)").format(coder=recorded_by)
        status = record.status or ""
        sources = ""
        memo = clean_text(record.memo)
    # Text order, whatever order the excerpts were linked in; one quote line, one page and one id
    # per excerpt, in the same order, so the three columns can be matched.
    excerpts = sorted((ctx.excerpt_by_id[e] for e in dict.fromkeys(record.excerpt_ids)
                       if e in ctx.excerpt_by_id), key=ctx.text_order)
    quotes = [ctx.quote_line(e) or "“”" for e in excerpts]
    pages = [_NO_PAGE if p is None else str(p) for p in (ctx.page_of(e) for e in excerpts)]
    outcome = clean_text(record.outcome).strip()
    direction = (record.outcome_direction or "").strip()
    marks = []
    if direction:
        mark = _DIRECTION_MARK.get(direction)
        marks.append(ctx.t(mark) if mark else f"({one_line(direction)})")
    if (record.outcome_intended or "") == "unintended":
        marks.append(ctx.t("[unintended]"))
    outcome_shown = " ".join(p for p in (outcome, *marks) if p)
    appraisal_parts = []
    for key, label in appraisal_keys:
        value = ctx.form_value(sid, key, coder_id)
        if value:
            appraisal_parts.append(f"{label}: {value}")
    if record.confidence:
        conf = one_line(record.confidence)
        appraisal_parts.append(f"{ctx.t('Confidence')}: {ctx.t(conf.capitalize())}")
    codes = [ctx.code_by_id.get(ctx.code_id(c)) for c in record.code_ids]
    theories = ctx.theories_of(record)
    return {
        "row_id": f"{record_type}:{record.id}",
        "group": "",
        "record_type": record_type,
        "cmoc_id": record.id,
        "study_id": sid,
        "study_label": ctx.study_label(sid),
        "coder": coder,
        "recorded_by": recorded_by,
        "status": status,
        "intervention": clean_text(record.intervention).strip(),
        "actor": clean_text(record.actor).strip(),
        "context": clean_text(record.context).strip(),
        "mechanism_resource": clean_text(record.mechanism_resource).strip(),
        "mechanism_reasoning": clean_text(record.mechanism_reasoning).strip(),
        "outcome": outcome,
        "outcome_direction": one_line(direction),
        "outcome_intended": one_line(record.outcome_intended),
        "outcome_shown": outcome_shown,
        "statement": clean_text(record.statement).strip(),
        "confidence": one_line(record.confidence),
        "codes": "; ".join(ctx.code_path(c) for c in codes if c is not None),
        "theories": "; ".join(theory_label(ctx, ctx.theory_by_id[t]) for t, _ in theories
                              if t in ctx.theory_by_id),
        "theory_relation": "",
        "quotes": "\n".join(quotes),
        "pages": "; ".join(pages),
        "excerpt_ids": " ".join(e.id for e in excerpts),
        "appraisal": "\n".join(appraisal_parts),
        "source_cmoc_ids": sources,
        "consensus_ids": " ".join(ctx.covered.get(record.id, ())) if record_type == "coder" else "",
        "memo": memo,
    }


def _group_rows(
    ctx: TableContext,
    base_rows: list[tuple[dict[str, str], Cmoc | Consensus]],
    group_by: str,
) -> list[Group]:
    if group_by == "study":
        groups: dict[str, Group] = {}
        for row, _ in base_rows:
            sid = row["study_id"]
            if sid not in groups:
                groups[sid] = Group(study_heading(ctx, sid), [], sid)
            groups[sid].rows.append({**row, "group": groups[sid].heading})
        return list(groups.values())
    if group_by == "code":
        ordered = sorted(ctx.codes, key=lambda c: (c.sort_order is None, c.sort_order or 0))
        code_groups = {c.id: Group(ctx.code_path(c), [], c.id) for c in ordered}
        uncoded = Group(ctx.t("Uncoded"), [], "")
        for row, record in base_rows:
            placed = False
            for cid in dict.fromkeys(ctx.code_id(c) for c in record.code_ids):
                if cid in code_groups:
                    g = code_groups[cid]
                    g.rows.append({**row, "group": g.heading})
                    placed = True
            if not placed:
                uncoded.rows.append({**row, "group": uncoded.heading})
        return [g for g in (*code_groups.values(), uncoded) if g.rows]
    theory_groups = {t.id: Group(theory_heading(ctx, t), [], t.id) for t in ctx.snapshot.theories}
    none_group = Group(ctx.t("No programme theory"), [], "")
    for row, record in base_rows:
        placed = False
        for tid, relation in ctx.theories_of(record):
            if tid in theory_groups:
                g = theory_groups[tid]
                rel = ctx.t(relation.capitalize()) if relation else ""
                g.rows.append({**row, "group": g.heading, "theory_relation": rel})
                placed = True
        if not placed:
            none_group.rows.append({**row, "group": none_group.heading})
    return [g for g in (*theory_groups.values(), none_group) if g.rows]


def _sort_order(record: Cmoc | Consensus) -> tuple[bool, int]:
    return (record.sort_order is None, record.sort_order or 0)
