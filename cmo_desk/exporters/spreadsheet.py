"""Write a table as tidy spreadsheets for pandas, R and Excel.

One row per record (per CMOC, study or excerpt; a CMOC listed under two codes or theories appears
once per group, with the ``group`` column telling them apart). Column names are the stable
snake_case keys of ``Table.data_keys``, never translated, so scripts keep working in any language.
"""

from __future__ import annotations

import csv
import os
from pathlib import Path
from typing import Any

from cmo_desk.domain.i18n import tr
from cmo_desk.exporters import ExportFailed, atomic_target
from cmo_desk.exporters.tables import Table
from cmo_desk.exporters.textclean import clean_text, csv_safe

#: Excel refuses cells longer than this; such text is cut and marked rather than making a file
#: Excel has to "repair".
EXCEL_CELL_LIMIT = 32767
_CUT_MARK = " […]"
_INTEGER_KEYS = frozenset({"page", "start", "end"})


def tidy_rows(table: Table) -> list[list[str]]:
    """Header plus one list of cleaned strings per row, in ``table.data_keys`` order."""
    keys = table.data_keys
    rows = [list(keys)]
    for _group, row in table.iter_rows():
        rows.append([clean_text(row.get(key, "")) for key in keys])
    return rows


def write_csv(table: Table, path: str | os.PathLike[str]) -> Path:
    """UTF-8 with a byte-order mark, so Excel shows Chinese and Cyrillic correctly when opened.

    A cell that a spreadsheet would run as a formula is written as text (see ``csv_safe``).
    """
    target = Path(path)
    with atomic_target(target) as tmp:
        try:
            with open(tmp, "w", encoding="utf-8-sig", newline="") as fh:
                csv.writer(fh).writerows(
                    [csv_safe(cell) for cell in row] for row in tidy_rows(table)
                )
        except OSError as err:
            raise _write_failed(target, err) from err
    return target


def write_xlsx(table: Table, path: str | os.PathLike[str]) -> Path:
    """One sheet of data (header row frozen) and an 'about' sheet with the title block."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Alignment, Font
    from openpyxl.utils import get_column_letter

    target = Path(path)
    rows = tidy_rows(table)
    book = Workbook(write_only=True)
    sheet = book.create_sheet(_sheet_name(table))
    sheet.freeze_panes = "A2"
    for index, key in enumerate(rows[0], 1):
        sheet.column_dimensions[get_column_letter(index)].width = _column_width(key)
    bold = Font(bold=True)
    wrap = Alignment(wrap_text=True, vertical="top")

    def text_cell(value: str, header: bool = False) -> Any:
        cell = WriteOnlyCell(sheet, value=excel_cell_text(value))
        # Force text: a quote starting with "=" must not become a formula.
        cell.data_type = "s"
        if header:
            cell.font = bold
        return cell

    sheet.append([text_cell(key, header=True) for key in rows[0]])
    integer_columns = {i for i, key in enumerate(rows[0]) if key in _INTEGER_KEYS}
    for values in rows[1:]:
        out: list[Any] = []
        for i, value in enumerate(values):
            if i in integer_columns and value.isdigit():
                out.append(int(value))
            elif value:
                cell = text_cell(value)
                if "\n" in value:
                    cell.alignment = wrap
                out.append(cell)
            else:
                out.append(None)
        sheet.append(out)

    about = book.create_sheet("about")
    block = table.title_block
    about.column_dimensions["A"].width = 24
    about.column_dimensions["B"].width = 100
    lines: list[tuple[str, str]] = [
        ("table", block.title),
        ("project", block.project_title),
        ("date", block.date),
        ("coders", ", ".join(block.coders)),
        ("table_kind", table.options.table),
        ("group_by", table.options.group_by),
        ("records", table.options.records),
        *((label, str(number)) for label, number in block.counts),
        *(("note", note) for note in block.notes),
        *(("legend", line) for line in block.legend),
    ]
    for key, value in lines:
        about.append([text_cell(key, header=True), text_cell(value)])

    with atomic_target(target) as tmp:
        try:
            book.save(str(tmp))
        except OSError as err:
            raise _write_failed(target, err) from err
    return target


def excel_cell_text(value: str) -> str:
    """``value`` as a spreadsheet cell may hold it: cleaned, and cut with a mark at Excel's cell
    limit."""
    value = clean_text(value)
    if len(value) > EXCEL_CELL_LIMIT:
        return value[: EXCEL_CELL_LIMIT - len(_CUT_MARK)] + _CUT_MARK
    return value


def _sheet_name(table: Table) -> str:
    return {"evidence": "cmocs", "studies": "studies", "excerpts": "excerpts"}.get(
        table.options.table, "data"
    )


def _column_width(key: str) -> float:
    if key.endswith("_id") or key.endswith("_ids"):
        return 14
    if key in ("context", "mechanism_resource", "mechanism_reasoning", "outcome", "statement",
               "quotes", "quote", "citation", "memo", "appraisal"):
        return 40
    return 18


def _write_failed(target: Path, err: OSError) -> ExportFailed:
    return ExportFailed(
        tr("Cannot write {path}: {reason}. Check the disk has free space and try again.").format(
            path=target, reason=err.strerror or err
        )
    )
