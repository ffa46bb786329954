"""The excerpts table: every coded passage with its study, page, role, codes and coder, grouped by
study, code or programme theory."""

from __future__ import annotations

from cmo_desk.domain.records import Excerpt
from cmo_desk.exporters.tables.context import TableContext, codes_cell, label_sort_key, quote_text
from cmo_desk.exporters.tables.grouping import (
    Placement,
    code_keys,
    fallback_group,
    place_rows,
    seeded_groups,
    study_group,
)
from cmo_desk.exporters.tables.model import Column, Group
from cmo_desk.exporters.textclean import clean_text, one_line
EXCERPT_DATA_KEYS: tuple[str, ...] = (
    "group",
    "excerpt_id",
    "study_id",
    "study_label",
    "document_id",
    "page",
    "role",
    "codes",
    "quote",
    "coder",
    "memo",
    "start",
    "end",
)


def excerpts_table(
    ctx: TableContext, group_by: str
) -> tuple[list[Column], list[Group], list[str], str]:
    """Every excerpt in study, page and offset order, under each group it belongs to."""
    rows = [(e, _excerpt_row(ctx, e)) for e in _excerpts_in_order(ctx)]
    groups = place_rows(
        _placements(ctx, rows, group_by),
        seeded_groups(ctx, group_by),
        fallback_group(ctx, group_by),
        study_group(ctx) if group_by == "study" else None,
    )
    return _excerpt_columns(ctx), groups, list(EXCERPT_DATA_KEYS), ctx.t("Coded excerpts")


def _excerpt_columns(ctx: TableContext) -> list[Column]:
    return [
        Column("study_label", ctx.t("Study"), 0.8),
        Column("page", ctx.t("Page"), 0.4),
        Column("role_shown", ctx.t("Role"), 0.6),
        Column("codes", ctx.t("Codes"), 1.2),
        Column("quote", ctx.t("Quote"), 3.2),
        Column("coder", ctx.t("Coder"), 0.7),
        Column("memo", ctx.t("Memo"), 1.4),
    ]


def _excerpts_in_order(ctx: TableContext) -> list[Excerpt]:
    """Studies in label order (excerpts of a missing study last), then page, then offset."""
    order = {s.id: i for i, s in enumerate(sorted(ctx.studies, key=label_sort_key))}
    return sorted(
        ctx.snapshot.excerpts,
        key=lambda e: (order.get(ctx.study_id(e.study_id), len(order)), ctx.page_of(e) or 0,
                       e.start or 0),
    )


def _excerpt_row(ctx: TableContext, e: Excerpt) -> dict[str, str]:
    sid = ctx.study_id(e.study_id)
    page = ctx.page_of(e)
    return {
        "row_id": e.id,
        "group": "",
        "excerpt_id": e.id,
        "study_id": sid,
        "study_label": ctx.study_label(sid),
        "document_id": e.document_id or "",
        "page": "" if page is None else str(page),
        "role": one_line(e.role),
        "role_shown": ctx.t(one_line(e.role).capitalize()) if e.role else "",
        "codes": codes_cell(ctx, e.code_ids),
        "quote": quote_text(e.quote),
        "coder": ctx.coder_name.get(e.owner_id or "", ""),
        "memo": clean_text(e.memo).strip(),
        "start": "" if e.start is None else str(e.start),
        "end": "" if e.end is None else str(e.end),
    }


def _placements(
    ctx: TableContext, rows: list[tuple[Excerpt, dict[str, str]]], group_by: str
) -> list[Placement]:
    """Where each excerpt goes: its study, each of its codes, or each programme theory of the
    CMOCs it supports."""
    if group_by == "study":
        return [(row, [(row["study_id"], {})]) for _, row in rows]
    if group_by == "code":
        return [(row, [(k, {}) for k in code_keys(ctx, e.code_ids)]) for e, row in rows]
    theories_by_excerpt: dict[str, list[tuple[str, str | None]]] = {}
    for c in ctx.snapshot.cmocs:
        for eid in c.excerpt_ids:
            theories_by_excerpt.setdefault(eid, []).extend(c.theories)
    return [
        (row, [(k, {}) for k in dict.fromkeys(t for t, _ in theories_by_excerpt.get(e.id, ()))])
        for e, row in rows
    ]
