"""The table model shared by the Word and spreadsheet exports and the desk's Export preview.

``build_table`` turns a project snapshot into columns, groups of rows and a title block. Every
cell is already cleaned, translated and formatted text, so writers only lay it out. Rows also
carry stable snake_case fields (ids, plain outcome, direction...) that the spreadsheets use.

Its rooms: ``model`` (the options and the table), ``context`` (lookups over the snapshot and cell
text), and one module per table: ``evidence``, ``studies``, ``excerpts``.
"""

from __future__ import annotations

import datetime as _dt

from cmo_desk.domain.snapshot import ProjectSnapshot
from cmo_desk.exporters.tables.context import (
    APPRAISAL_KEYS,
    FALLBACK_TEMPLATE,
    TableContext,
    citation_sort_key,
    is_empty,
    quote_text,
)
from cmo_desk.exporters.tables.evidence import (
    EVIDENCE_DATA_KEYS,
    SUMMARY_LABELS,
    evidence_summary,
    evidence_table,
    summary_note,
)
from cmo_desk.exporters.tables.excerpts import EXCERPT_DATA_KEYS, excerpts_table
from cmo_desk.exporters.tables.model import (
    EMPTY_CHOICES,
    GROUPINGS,
    OPTIONAL_COLUMNS,
    RECORD_CHOICES,
    SLOT_COLUMNS,
    TABLES,
    Column,
    ExportOptions,
    Group,
    GroupBy,
    Records,
    Table,
    TableKind,
    TitleBlock,
)
from cmo_desk.exporters.tables.studies import studies_table
from cmo_desk.exporters.textclean import one_line

__all__ = [
    "APPRAISAL_KEYS", "EMPTY_CHOICES", "EVIDENCE_DATA_KEYS", "EXCERPT_DATA_KEYS",
    "FALLBACK_TEMPLATE", "GROUPINGS", "OPTIONAL_COLUMNS", "RECORD_CHOICES", "SLOT_COLUMNS",
    "TABLES", "Column", "ExportOptions", "Group", "GroupBy", "Records", "Table", "TableContext",
    "TableKind", "TitleBlock", "build_table", "is_empty", "quote_text", "summary_note",
]


def build_table(
    snapshot: ProjectSnapshot, options: ExportOptions | None = None, today: _dt.date | None = None
) -> Table:
    """Build the table the options ask for. Pure: reads the snapshot, writes nothing."""
    options = options or ExportOptions()
    ctx = TableContext(snapshot, options.lang)
    ctx.empty = options.empty
    if options.table == "studies":
        columns, groups, data_keys, title = studies_table(ctx)
        notes = [ctx.t(_FORM_NOTE)]
        shown_label = ctx.t("Studies in this table")
    elif options.table == "excerpts":
        columns, groups, data_keys, title = excerpts_table(ctx, options.group_by)
        notes = []
        shown_label = ctx.t("Excerpts in this table")
    else:
        columns, groups, data_keys, title = evidence_table(ctx, options)
        summary = evidence_summary(ctx, groups)
        notes = [ctx.t(_RECORDS_NOTE[options.records]), summary_note(summary, ctx.lang),
                 ctx.t(_FORM_NOTE)]
        shown_label = ctx.t("CMOCs in this table")
    # A row listed under two codes or theories is still one record.
    shown = len({row["row_id"] for g in groups for row in g.rows})
    counts: tuple[tuple[str, int], ...] = (
        (ctx.t("Studies"), len(ctx.studies)),
        (ctx.t("Excerpts"), len(snapshot.excerpts)),
        (shown_label, shown),
    )
    if options.table == "evidence":
        counts += tuple(
            (ctx.t(label), summary[key]) for key, label in SUMMARY_LABELS if summary[key]
        )
    block = TitleBlock(
        caption=ctx.t("Table S1") if options.caption is None else one_line(options.caption),
        title=title,
        project_title=one_line(snapshot.project.title) or ctx.t("Untitled project"),
        date=(today or _dt.date.today()).isoformat(),
        coders=tuple(one_line(c.name) for c in snapshot.coders if c.name),
        counts=counts,
        notes=tuple(n for n in notes if n),
        legend=_legend(ctx, options.table),
    )
    return Table(
        options=options,
        summary=summary if options.table == "evidence" else {},
        title_block=block,
        columns=columns,
        groups=groups,
        data_keys=data_keys,
        studies=sorted(ctx.studies, key=citation_sort_key),
        references_heading=ctx.t("References: included studies"),
        labels={
            "project": ctx.t("Project"),
            "date": ctx.t("Date"),
            "coders": ctx.t("Coders"),
            "page": ctx.t("Page"),
        },
    )


_FORM_NOTE = (
    "Study characteristics and appraisal show the agreed value where one is recorded or all "
    "coders gave the same value; otherwise each coder's value with their initials."
)

_RECORDS_NOTE = {
    "consensus": "Rows show consensus CMOCs and every coder's CMOC that no consensus CMOC was "
    "built from, marked “not reconciled”. CMOCs set aside are left out.",
    "coders": "Rows show each coder's own CMOCs, with the coder named. CMOCs set aside are left out.",
    "all": "Rows show consensus CMOCs and every coder's own CMOCs. CMOCs set aside are left out.",
}


def _legend(ctx: TableContext, table: str) -> tuple[str, ...]:
    lines = []
    named = sorted((ctx.coder_initials[c.id], one_line(c.name)) for c in ctx.snapshot.coders
                   if c.id in ctx.coder_initials)
    if named:
        lines.append(ctx.t("Coders' initials: {pairs}.").format(
            pairs="; ".join(f"{initials} = {name or '?'}" for initials, name in named)))
    if table == "evidence":
        lines.append(ctx.t(
            "Outcome marks: (+) positive outcome; (−) negative outcome; (mixed) positive and "
            "negative; [unintended] an outcome the programme did not intend."))
        if ctx.empty == "NR":
            lines.append(ctx.t("NR: not reported in the study or not recorded by the coder."))
        elif ctx.empty == "dash":
            lines.append(ctx.t("–: not reported in the study or not recorded by the coder."))
    return tuple(lines)
