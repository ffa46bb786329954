"""The characteristics table: one row per included study, one column per form field the
template shows in tables."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from cmo_desk.domain.records import Study
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
    """One row per study in label order; one column per form field the template shows."""
    columns = [Column("study_label", ctx.t("Study"), 0.8), Column("citation", ctx.t("Citation"), 2.0)]
    shown = _shown_fields(ctx)
    for key, field in shown.items():
        label = ctx.field_label(field.spec)
        columns.append(Column(key, label, _field_weight(field.spec, label)))
    rows = [_study_row(ctx, study, shown) for study in sorted(ctx.studies, key=label_sort_key)]
    data_keys = ["study_id", "study_label", "citation", *shown]
    title = ctx.t("Characteristics of included studies")
    return columns, [Group("", rows, "")], data_keys, title


@dataclass(frozen=True)
class _Shown:
    """A form field shown as a column."""

    spec: dict[str, Any]
    #: Fields hidden from the table whose values follow this one's in parentheses.
    companions: list[str]
    #: Whether a justification is recorded beside the value.
    justified: bool


def _shown_fields(ctx: TableContext) -> dict[str, _Shown]:
    """The template's fields shown in tables, by key, in template order."""
    shown: dict[str, _Shown] = {}
    for section in template_sections(ctx.template):
        fields = section_fields(section)
        for f in fields:
            key = str(f.get("key") or "").strip()
            if not key or key in shown or key in ("study_label", "citation", "study_id"):
                continue
            if f.get("in_table") is False:
                continue
            shown[key] = _Shown(f, _companions(fields, f, key), bool(f.get("justification")))
    return shown


def _companions(fields: list[dict[str, Any]], f: dict[str, Any], key: str) -> list[str]:
    """Hidden fields that qualify ``key``: "income_fiscal_year" and "income_basis" qualify
    "income_group", as RAMESES wants the income group with its year and basis, but not as
    columns of their own."""
    stem = key.split("_")[0] + "_"
    return [
        str(g.get("key")) for g in fields
        if g.get("in_table") is False and str(g.get("key", "")).startswith(stem)
        and "_" in key and g is not f
    ]


def _study_row(ctx: TableContext, study: Study, shown: dict[str, _Shown]) -> dict[str, str]:
    row = {
        "row_id": study.id,
        "group": "",
        "study_id": study.id,
        "study_label": ctx.study_label(study.id),
        "citation": clean_text(study.citation()),
    }
    for key, field in shown.items():
        value = ctx.form_value(study.id, key)
        extra = [v for v in (ctx.form_value(study.id, c) for c in field.companions) if v]
        if value and extra:
            value = f"{value} ({'; '.join(extra)})"
        reason = ctx.form_value(study.id, f"{key}_justification") if field.justified else ""
        if value and reason:
            value = f"{value} — {reason}"
        row[key] = value
    return row


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
