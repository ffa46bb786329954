"""Exporting a project: evidence tables (.docx, .xlsx, .csv) and REFI-QDA exchange files (.qdpx, .qdc).

``export_project`` is the one entry point for the command line and the desk's Export dialog. It
reads one snapshot of the project and writes one file; it takes ``progress(done, total)`` and
``cancel()`` callbacks so the desk can run it in the background. ``preview_table`` builds the
same table without writing, for the dialog's preview of columns and groups.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cmo_desk.domain.cancel import Cancel, check_export_cancel
from cmo_desk.domain.errors import ExportFailed, ValidationError
from cmo_desk.domain.i18n import tr, trn
from cmo_desk.exporters.tables import ExportOptions, Table, build_table, summary_note
from cmo_desk.domain.snapshot import ProjectSnapshot
from cmo_desk.services.session import Session

Progress = Callable[[int, int], None]

TABLE_FORMATS: tuple[str, ...] = (".docx", ".xlsx", ".csv")
REFI_FORMATS: tuple[str, ...] = (".qdpx", ".qdc")
FORMATS: tuple[str, ...] = TABLE_FORMATS + REFI_FORMATS


@dataclass
class ExportResult:
    """What an export wrote, for the command's summary and the desk's status line."""

    path: Path
    #: "docx", "xlsx", "csv", "qdpx" or "qdc".
    format: str
    #: The table written ("evidence", "studies", "excerpts"); None for REFI-QDA files.
    table: str | None = None
    group_by: str | None = None
    records: str | None = None
    lang: str | None = None
    #: Distinct records in the table (a CMOC listed under two codes counts once).
    rows: int = 0
    #: Rows as printed, counting a record once per group it appears in.
    table_rows: int = 0
    groups: int = 0
    #: REFI-QDA files: how many of each kind of record went into the file.
    counts: dict[str, int] = field(default_factory=dict)
    #: Lines about what was left out of the file.
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "path": str(self.path),
            "format": self.format,
            "table": self.table,
            "group_by": self.group_by,
            "records": self.records,
            "lang": self.lang,
            "rows": self.rows,
            "table_rows": self.table_rows,
            "groups": self.groups,
            "counts": dict(self.counts),
            "notes": list(self.notes),
        }

    def __str__(self) -> str:
        return "\n".join(self.lines())

    def lines(self) -> list[str]:
        if self.table is None:
            what = ", ".join(_COUNT_WORDS[k](n).format(n=n) if k in _COUNT_WORDS else f"{n} {k}"
                             for k, n in self.counts.items())
            out = [tr("Wrote {path}: {what}.").format(path=self.path, what=what or tr("no records"))]
        else:
            grouping = {
                "study": tr("by study"),
                "code": tr("by code"),
                "theory": tr("by programme theory"),
            }.get(self.group_by or "", self.group_by or "")
            if self.table == "studies":
                line = tr("Wrote {path}: {rows} studies.")
            elif self.table == "excerpts":
                line = tr("Wrote {path}: {rows} excerpts in {groups} groups ({grouping}).")
            else:
                line = tr("Wrote {path}: {rows} CMOCs in {groups} groups ({grouping}).")
            out = [line.format(path=self.path, rows=self.rows, groups=self.groups, grouping=grouping)]
        out += [f"  {note}" for note in self.notes]
        return out


# Translated when printed, so the words follow the language chosen at run time.
_COUNT_WORDS: dict[str, Callable[[int], str]] = {
    "coders": lambda n: trn("{n} coder", "{n} coders", n),
    "studies": lambda n: trn("{n} study", "{n} studies", n),
    "documents": lambda n: trn("{n} document", "{n} documents", n),
    "codes": lambda n: trn("{n} code", "{n} codes", n),
    "excerpts": lambda n: trn("{n} excerpt", "{n} excerpts", n),
    "cmocs": lambda n: trn("{n} CMOC", "{n} CMOCs", n),
    "consensus": lambda n: trn("{n} consensus CMOC", "{n} consensus CMOCs", n),
}
#: The key of those words for each record type (the merge summary counts by record type).
_KIND_OF_TYPE = {"coder": "coders", "study": "studies", "document": "documents", "code": "codes",
                 "excerpt": "excerpts", "cmoc": "cmocs", "consensus": "consensus"}


def count_words(kind: str, n: int) -> str | None:
    """``n`` records of ``kind`` (a record type, "cmoc", or a count's key, "cmocs") in the
    language's own singular or plural; None for a kind without words of its own."""
    words = _COUNT_WORDS.get(_KIND_OF_TYPE.get(kind, kind))
    return words(n).format(n=n) if words else None


def export_format(out: str | os.PathLike[str]) -> str:
    """The format named by the file's extension; a clear error for any other name."""
    suffix = Path(out).suffix.lower()
    if suffix not in FORMATS:
        raise ValidationError(
            tr("Cannot export to {name}: choose a file name ending in {formats}.").format(
                name=Path(out).name or str(out), formats=", ".join(FORMATS)
            )
        )
    return suffix[1:]


def preview_table(session: Session, options: ExportOptions | None = None) -> Table:
    """The table an export with these options would write (columns, groups, rows), unwritten."""
    options = _with_changed_consensus(session, options or ExportOptions())
    return build_table(_snapshot(session, options), options)


def _with_changed_consensus(session: Session, options: ExportOptions) -> ExportOptions:
    """The options, told which consensus CMOCs rest on sources changed since (evidence tables
    with consensus rows only: reading the change log costs a query per source)."""
    if options.table != "evidence" or options.records == "coders" or options.only_coder:
        return options
    from cmo_desk.services.reconcile import changed_consensus_ids

    return dataclasses.replace(options, changed_consensus=changed_consensus_ids(session))


def _snapshot(session: Session, options: ExportOptions, refi: bool = False) -> ProjectSnapshot:
    """What the export needs: tables do without the documents' full texts; REFI files carry them."""
    snapshot = session.store.snapshot(document_text=refi)
    return own_work(snapshot, options.only_coder) if options.only_coder else snapshot


def own_work(snapshot: ProjectSnapshot, coder_id: str) -> ProjectSnapshot:
    """The project as one coder coding blind may see it: their own excerpts, CMOCs, form values
    and assignments, and no consensus (it is built from the other coders' CMOCs)."""
    return dataclasses.replace(
        snapshot,
        coders=tuple(c for c in snapshot.coders if c.id == coder_id),
        excerpts=tuple(e for e in snapshot.excerpts if e.owner_id == coder_id),
        cmocs=tuple(c for c in snapshot.cmocs if c.owner_id == coder_id),
        consensus=(),
        form_values=tuple(f for f in snapshot.form_values if f.coder_id == coder_id),
        assignments=tuple(a for a in snapshot.assignments if a.coder_id == coder_id),
    )


def export_project(
    session: Session,
    out: str | os.PathLike[str],
    options: ExportOptions | None = None,
    progress: Progress | None = None,
    cancel: Cancel | None = None,
) -> ExportResult:
    """Write the project to ``out`` in the format its extension names.

    The file appears complete or not at all; an earlier file of that name is replaced only once
    the new one is written. ``options`` apply to tables; REFI-QDA files always hold the whole
    project (.qdpx) or its codebook (.qdc).
    """
    options = options or ExportOptions()
    target = Path(out)
    fmt = check_target(target)
    if fmt not in ("qdpx", "qdc"):
        options = _with_changed_consensus(session, options)
    check_export_cancel(cancel)
    snapshot = _snapshot(session, options, refi=fmt in ("qdpx", "qdc"))
    check_export_cancel(cancel)
    if fmt in ("qdpx", "qdc"):
        from cmo_desk.services.refi_exchange import export_refi

        return export_refi(snapshot, target, progress=progress, cancel=cancel)

    from cmo_desk.exporters import write_table

    if options.tidy and fmt not in ("csv", "xlsx"):
        raise ValidationError(
            tr("Tidy companions are spreadsheets: export to a .csv or .xlsx file to get them."))
    table = build_table(snapshot, options)
    check_export_cancel(cancel)
    if progress is not None:
        progress(0, table.row_count)
    write_table(table, target, progress=progress, cancel=cancel)
    notes = [summary_note(table.summary)] if table.summary else []
    if options.tidy:
        from cmo_desk.exporters.tidy import write_tidy

        check_export_cancel(cancel)
        written = write_tidy(snapshot, target)
        notes.append(tr("Tidy companions: {files}.").format(
            files=", ".join(p.name for p in written)))
    if progress is not None:
        progress(table.row_count, table.row_count)
    return ExportResult(
        path=target,
        format=fmt,
        table=options.table,
        group_by=options.group_by,
        records=options.records if options.table == "evidence" else None,
        lang=options.lang,
        rows=len({row["row_id"] for _group, row in table.iter_rows()}),
        table_rows=table.row_count,
        groups=sum(1 for g in table.groups if g.rows),
        counts=dict(table.summary),
        notes=notes,
    )


#: Which command-line choices apply to which exports.
_APPLIES: dict[str, Callable[[str, str], bool]] = {
    "table": lambda fmt, table: fmt not in ("qdpx", "qdc"),
    "group_by": lambda fmt, table: fmt not in ("qdpx", "qdc") and table != "studies",
    "records": lambda fmt, table: fmt not in ("qdpx", "qdc") and table == "evidence",
    "lang": lambda fmt, table: True,
    "tidy": lambda fmt, table: fmt in ("csv", "xlsx"),
    "columns": lambda fmt, table: fmt not in ("qdpx", "qdc") and table == "evidence",
    "empty": lambda fmt, table: fmt == "docx" and table == "evidence",
    "caption": lambda fmt, table: fmt == "docx",
}
_OPTION_NAMES = {"table": "--table", "group_by": "--group-by", "records": "--records",
                 "tidy": "--tidy", "lang": "--lang", "columns": "--columns", "empty": "--empty",
                 "caption": "--caption"}


def refuse_options_that_do_not_apply(out: str | os.PathLike[str], table: str,
                                     given: set[str]) -> None:
    """A clear error for a choice the export would ignore (``given``: the options named)."""
    fmt = export_format(out)
    for name in sorted(given):
        if name in _APPLIES and not _APPLIES[name](fmt, table):
            if fmt in ("qdpx", "qdc"):
                why = tr("REFI-QDA files carry the whole project, not a table")
            elif name == "group_by":
                why = tr("the studies table has one row per study and no groups")
            elif name == "records":
                why = tr("only the evidence table chooses between consensus and coders' CMOCs")
            elif name == "columns":
                why = tr("only the evidence table has optional columns")
            elif name in ("empty", "caption"):
                why = tr("it changes only how a Word evidence table looks")
            else:
                why = tr("tidy companions are written beside .csv and .xlsx tables")
            raise ValidationError(tr("{option} does not apply here: {why}. Leave it out.").format(
                option=_OPTION_NAMES[name], why=why))


def check_target(out: str | os.PathLike[str]) -> str:
    """The export format for ``out``, once its name and folder are known to be usable.

    Checked before the project is read, so a mistake in the name fails at once.
    """
    target = Path(out)
    fmt = export_format(target)
    if target.is_dir():
        raise ExportFailed(
            tr("{path} is a folder. Give a file name, for example {example}.").format(
                path=target, example=target / f"evidence{TABLE_FORMATS[0]}"
            )
        )
    if not target.parent.is_dir():
        raise ExportFailed(
            tr("Cannot write {path}: the folder does not exist. Choose an existing folder.").format(
                path=target
            )
        )
    return fmt
