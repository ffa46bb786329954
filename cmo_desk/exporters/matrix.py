"""The evidence matrix (studies x review CMOCs) and the refinement ledger, as files.

Matrix: one row per study, one column per review CMOC, and in each cell that has a link the
relations written out (supports / refutes / refines). Ledger: every version of every programme
theory with what changed, why, who and when.
"""

from __future__ import annotations

import csv
import os
from pathlib import Path

from cmo_desk.domain.errors import ExportFailed
from cmo_desk.domain.i18n import tr
from cmo_desk.domain.synthesis import Synthesis, evidence_matrix
from cmo_desk.exporters import atomic_target
from cmo_desk.exporters.textclean import clean_text, one_line
from cmo_desk.exporters.theories import (
    add_table,
    ledger_headers,
    ledger_rows,
    relation_label,
    set_east_asian_font,
    set_landscape,
)


def matrix_rows(synthesis: Synthesis, lang: str = "en") -> tuple[list[str], list[list[str]]]:
    """Header and rows of the matrix: every study, linked or not, so the gaps show."""
    m = evidence_matrix(synthesis)
    header = [tr("Study", lang), *(r.label or "" for r in m.columns)]
    rows = []
    for s in m.studies:
        rows.append([s.label or "", *("; ".join(relation_label(x, lang) for x in m.cell(s.id, r.id))
                                      for r in m.columns)])
    return header, rows


def _failed(target: Path, err: OSError) -> ExportFailed:
    return ExportFailed(tr("Cannot write {path}: {reason}. Free some space or choose another "
                           "folder.").format(path=target, reason=err.strerror or err))


def _write_csv(target: Path, header: list[str], rows: list[list[str]]) -> None:
    with atomic_target(target) as tmp:
        try:
            with open(tmp, "w", encoding="utf-8-sig", newline="") as fh:
                w = csv.writer(fh)
                w.writerow([one_line(h) for h in header])
                w.writerows([[one_line(v) for v in row] for row in rows])
        except OSError as err:
            raise _failed(target, err) from err


def _write_xlsx(target: Path, sheet: str, header: list[str], rows: list[list[str]],
                legend: list[str]) -> None:
    from openpyxl import Workbook
    from openpyxl.styles import Font

    wb = Workbook()
    ws = wb.active
    ws.title = sheet[:31]
    ws.append([clean_text(h) for h in header])
    for c in ws[1]:
        c.font = Font(bold=True)
    for row in rows:
        ws.append([clean_text(v) for v in row])
    ws.freeze_panes = "B2"
    ws.column_dimensions["A"].width = 28
    if legend:
        notes = wb.create_sheet(tr("Review CMOCs")[:31])
        for line in legend:
            notes.append([clean_text(x) for x in line.split("\t")])
    with atomic_target(target) as tmp:
        try:
            wb.save(str(tmp))
        except OSError as err:
            raise _failed(target, err) from err


def _write_docx(target: Path, title: str, intro: list[str], header: list[str],
                rows: list[list[str]], lang: str, widths: list[float] | None = None) -> None:
    from docx import Document

    doc = Document()
    set_landscape(doc)
    set_east_asian_font(doc, lang)
    doc.add_heading(clean_text(title), level=1)
    for line in intro:
        doc.add_paragraph(clean_text(line))
    add_table(doc, header, rows, widths)
    with atomic_target(target) as tmp:
        try:
            doc.save(str(tmp))
        except OSError as err:
            raise _failed(target, err) from err


def _legend(synthesis: Synthesis) -> list[str]:
    return [f"{r.record.label}\t{one_line(r.record.statement)}" for r in synthesis.review_cmocs]


def write_matrix(synthesis: Synthesis, path: str | os.PathLike[str], lang: str = "en") -> Path:
    target = Path(path)
    header, rows = matrix_rows(synthesis, lang)
    suffix = target.suffix.lower()
    if suffix == ".csv":
        _write_csv(target, header, rows)
    elif suffix == ".xlsx":
        _write_xlsx(target, tr("Evidence matrix", lang), header, rows, _legend(synthesis))
    else:
        _write_docx(target, tr("Evidence matrix: studies × review CMOCs", lang),
                    [line.replace("\t", ": ") for line in _legend(synthesis)], header, rows, lang)
    return target


def write_ledger(synthesis: Synthesis, path: str | os.PathLike[str], lang: str = "en") -> Path:
    target = Path(path)
    header = [tr("Programme theory", lang), *ledger_headers(lang)]
    rows = [[t.theory.label or "", *row] for t in synthesis.theories
            for row in ledger_rows(t, synthesis.coder_names, lang)]
    if target.suffix.lower() == ".csv":
        _write_csv(target, header, rows)
    else:
        _write_docx(target, tr("Refinement ledger: versions of the programme theories", lang),
                    [], header, rows, lang, [2.4, 1.5, 2.4, 2.0, 2.4, 1.8, 1.8, 5.9, 6.5])
    return target
