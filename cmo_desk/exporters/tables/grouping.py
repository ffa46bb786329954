"""Rows under group headings, the same way in every table: by study (in the order rows name
them), by code (codebook order) or by programme theory (project order), and rows that name no
group under a catch-all heading at the end ("Uncoded", "No programme theory").
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from cmo_desk.exporters.tables.context import TableContext, study_heading, theory_heading
from cmo_desk.exporters.tables.model import Group

#: A row and where it goes: (group key, fields the row takes in that group) for each group.
Placement = tuple[dict[str, str], list[tuple[str, dict[str, str]]]]


def seeded_groups(ctx: TableContext, group_by: str) -> dict[str, Group]:
    """The groups a table shows in a fixed order, before any row is placed (none by study)."""
    if group_by == "code":
        ordered = sorted(ctx.codes, key=lambda c: (c.sort_order is None, c.sort_order or 0))
        return {c.id: Group(ctx.code_path(c), [], c.id) for c in ordered}
    if group_by == "theory":
        return {t.id: Group(theory_heading(ctx, t), [], t.id) for t in ctx.snapshot.theories}
    return {}


def fallback_group(ctx: TableContext, group_by: str) -> Group:
    """Where a row that names no group goes."""
    heading = {"code": ctx.t("Uncoded"), "theory": ctx.t("No programme theory")}.get(group_by, "")
    return Group(heading, [], "")


def study_group(ctx: TableContext) -> Callable[[str], Group]:
    """Opens a study's group the first time a row names it."""
    return lambda study_id: Group(study_heading(ctx, study_id), [], study_id)


def code_keys(ctx: TableContext, code_ids: Iterable[str]) -> list[str]:
    """The codes a record is listed under: merged codes followed to the code they became, once each."""
    return list(dict.fromkeys(ctx.code_id(c) for c in code_ids))


def place_rows(
    placements: Iterable[Placement],
    groups: dict[str, Group],
    fallback: Group,
    open_group: Callable[[str], Group] | None = None,
) -> list[Group]:
    """Each row under every group it names, in group order; the rows that name none (or only
    groups that do not exist and cannot be opened) under ``fallback``, last. Empty groups are
    left out."""
    for row, keys in placements:
        placed = False
        for key, extra in keys:
            if key not in groups:
                if open_group is None:
                    continue
                groups[key] = open_group(key)
            group = groups[key]
            group.rows.append({**row, "group": group.heading, **extra})
            placed = True
        if not placed:
            fallback.rows.append({**row, "group": fallback.heading})
    return [g for g in (*groups.values(), fallback) if g.rows]
