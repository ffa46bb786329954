"""The excerpts table: every coded passage with its study, page, role, codes and coder, grouped by
study, code or programme theory."""

from __future__ import annotations

from cmo_desk.exporters.tables.context import (
    TableContext,
    label_sort_key,
    quote_text,
    study_heading,
    theory_heading,
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
    columns = [
        Column("study_label", ctx.t("Study"), 0.8),
        Column("page", ctx.t("Page"), 0.4),
        Column("role_shown", ctx.t("Role"), 0.6),
        Column("codes", ctx.t("Codes"), 1.2),
        Column("quote", ctx.t("Quote"), 3.2),
        Column("coder", ctx.t("Coder"), 0.7),
        Column("memo", ctx.t("Memo"), 1.4),
    ]
    theories_by_excerpt: dict[str, list[tuple[str, str | None]]] = {}
    for c in ctx.snapshot.cmocs:
        for eid in c.excerpt_ids:
            theories_by_excerpt.setdefault(eid, []).extend(c.theories)
    order = {s.id: i for i, s in enumerate(sorted(ctx.studies, key=label_sort_key))}
    excerpts = sorted(
        ctx.snapshot.excerpts,
        key=lambda e: (order.get(ctx.study_id(e.study_id), len(order)), ctx.page_of(e) or 0,
                       e.start or 0),
    )
    groups: dict[str, Group] = {}
    fallback_heading = {"code": ctx.t("Uncoded"), "theory": ctx.t("No programme theory")}
    if group_by == "code":
        for c in sorted(ctx.codes, key=lambda c: (c.sort_order is None, c.sort_order or 0)):
            groups[c.id] = Group(ctx.code_path(c), [], c.id)
    elif group_by == "theory":
        for t in ctx.snapshot.theories:
            groups[t.id] = Group(theory_heading(ctx, t), [], t.id)
    for e in excerpts:
        sid = ctx.study_id(e.study_id)
        page = ctx.page_of(e)
        codes = [ctx.code_by_id.get(ctx.code_id(c)) for c in e.code_ids]
        row = {
            "row_id": e.id,
            "group": "",
            "excerpt_id": e.id,
            "study_id": sid,
            "study_label": ctx.study_label(sid),
            "document_id": e.document_id or "",
            "page": "" if page is None else str(page),
            "role": one_line(e.role),
            "role_shown": ctx.t(one_line(e.role).capitalize()) if e.role else "",
            "codes": "; ".join(ctx.code_path(c) for c in codes if c is not None),
            "quote": quote_text(e.quote),
            "coder": ctx.coder_name.get(e.owner_id or "", ""),
            "memo": clean_text(e.memo).strip(),
            "start": "" if e.start is None else str(e.start),
            "end": "" if e.end is None else str(e.end),
        }
        if group_by == "study":
            keys = [sid]
            if sid not in groups:
                groups[sid] = Group(study_heading(ctx, sid), [], sid)
        elif group_by == "code":
            keys = [k for k in dict.fromkeys(ctx.code_id(c) for c in e.code_ids) if k in groups]
        else:
            keys = [k for k in dict.fromkeys(t for t, _ in theories_by_excerpt.get(e.id, ()))
                    if k in groups]
        if not keys:
            keys = ["\0none"]
            groups.setdefault("\0none", Group(fallback_heading.get(group_by, ""), [], ""))
        for k in keys:
            groups[k].rows.append({**row, "group": groups[k].heading})
    if "\0none" in groups:  # the catch-all group goes last
        groups["\0none"] = groups.pop("\0none")
    return columns, [g for g in groups.values() if g.rows], list(EXCERPT_DATA_KEYS), ctx.t(
        "Coded excerpts"
    )
