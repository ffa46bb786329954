"""The characteristics table: one row per included study, one column per form field the
template shows in tables."""

from __future__ import annotations

from typing import Any

from cmo_desk.exporters.tables.context import (
    TableContext,
    label_sort_key,
    section_fields,
    template_sections,
)
from cmo_desk.exporters.tables.model import Column, Group
from cmo_desk.exporters.textclean import clean_text

_LONG_FIELD_TYPES = {"long_text", "textarea", "memo", "paragraph"}


def studies_table(ctx: TableContext) -> tuple[list[Column], list[Group], list[str], str]:
    columns = [Column("study_label", ctx.t("Study"), 0.8), Column("citation", ctx.t("Citation"), 2.0)]
    # key -> (fields appended in parentheses, whether a justification is recorded beside it)
    shown: dict[str, tuple[list[str], bool]] = {}
    for section in template_sections(ctx.template):
        fields = section_fields(section)
        for f in fields:
            key = str(f.get("key") or "").strip()
            if not key or key in shown or key in ("study_label", "citation", "study_id"):
                continue
            if f.get("in_table") is False:
                continue
            # "income_fiscal_year" and "income_basis" qualify "income_group": RAMESES wants the
            # income group with its year and basis, but not as columns of their own.
            stem = key.split("_")[0] + "_"
            companions = [
                str(g.get("key")) for g in fields
                if g.get("in_table") is False and str(g.get("key", "")).startswith(stem)
                and "_" in key and g is not f
            ]
            shown[key] = (companions, bool(f.get("justification")))
            label = ctx.field_label(f)
            columns.append(Column(key, label, _field_weight(f, label)))
    rows = []
    for study in sorted(ctx.studies, key=label_sort_key):
        row = {
            "row_id": study.id,
            "group": "",
            "study_id": study.id,
            "study_label": ctx.study_label(study.id),
            "citation": clean_text(study.citation()),
        }
        for key, (companions, justified) in shown.items():
            value = ctx.form_value(study.id, key)
            extra = [v for v in (ctx.form_value(study.id, c) for c in companions) if v]
            if value and extra:
                value = f"{value} ({'; '.join(extra)})"
            reason = ctx.form_value(study.id, f"{key}_justification") if justified else ""
            if value and reason:
                value = f"{value} — {reason}"
            row[key] = value
        rows.append(row)
    data_keys = ["study_id", "study_label", "citation", *shown]
    title = ctx.t("Characteristics of included studies")
    return columns, [Group("", rows, "")], data_keys, title


def _field_weight(f: dict[str, Any], label: str) -> float:
    """Room for a characteristics column: long text and justified ratings need more, and a
    heading's longest word must fit on one line (a column is about nine characters wide)."""
    kind = str(f.get("type", "")).lower()
    weight = 1.0
    if kind in _LONG_FIELD_TYPES or f.get("justification"):
        weight = 1.5
    elif kind in ("list", "multi_choice"):
        weight = 1.2
    longest = max((len(word) for word in label.split()), default=0)
    return max(weight, (longest + 1) / 9)
