"""The synthesis workspace's read-only tables: the evidence matrix, the C×M×O grid and the
version history, each filled from the plain data of ``domain.synthesis``."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QHeaderView, QTableWidget, QTableWidgetItem

from cmo_desk.domain.i18n import tr
from cmo_desk.domain.synthesis import (
    RELATIONS, CmoGrid, EvidenceMatrix, ReviewCmocEvidence, Synthesis, cell_mark,
)


def relation_text(value: str) -> str:
    return {"supports": tr("supports"), "refutes": tr("refutes"),
            "refines": tr("refines")}.get(value, value)


def fill_matrix(table: QTableWidget, m: EvidenceMatrix) -> None:
    """Studies down, review CMOCs across, a mark where a study CMOC bears on one."""
    table.setUpdatesEnabled(False)
    table.clear()
    table.setRowCount(len(m.studies))
    table.setColumnCount(len(m.columns))
    table.setHorizontalHeaderLabels([r.label or "" for r in m.columns])
    table.setVerticalHeaderLabels([s.label or "" for s in m.studies])
    for col, r in enumerate(m.columns):
        table.horizontalHeaderItem(col).setToolTip(r.statement or "")
    names = {r: relation_text(r) for r in RELATIONS}  # translated once, not per cell
    rows = {s.id: i for i, s in enumerate(m.studies)}
    cols = {r.id: i for i, r in enumerate(m.columns)}
    for (sid, rid), rels in m.cells.items():
        row, col = rows.get(sid), cols.get(rid)
        if row is None or col is None:
            continue
        item = QTableWidgetItem(cell_mark(rels))
        item.setTextAlignment(Qt.AlignmentFlag.AlignCenter)
        item.setToolTip(", ".join(names.get(x, x) for x in rels))
        table.setItem(row, col, item)
    table.setUpdatesEnabled(True)


def fill_ledger(table: QTableWidget, data: Synthesis) -> None:
    """Every version of every theory: what changed and why."""
    # The reason is what a reader of the ledger needs, so it gets the width: which version,
    # when and by whom share the first column, and nothing hides behind a scroll bar at
    # 1366 pixels.
    headers = [tr("Version"), tr("Review CMOCs added"), tr("Changed"), tr("Dropped"),
               tr("Why")]
    rows = []
    for t in data.theories:
        for v in t.versions:
            when = "\n".join(x for x in (
                f"{t.theory.label or ''} v{v.number}", v.recorded_at or "",
                data.coder_names.get(v.author_id or "", "")) if x)
            rows.append(([when, ", ".join(v.added or []), ", ".join(v.changed or []),
                          ", ".join(v.dropped or []), v.reason or ""], v.statement or ""))
    table.clear()
    table.setColumnCount(len(headers))
    table.setHorizontalHeaderLabels(headers)
    table.setRowCount(len(rows))
    table.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
    for i, (row, statement) in enumerate(rows):
        for j, text in enumerate(row):
            item = QTableWidgetItem(text)
            # the theory as that version reads, beside the reason for it
            item.setToolTip(text + ("\n\n" + statement if statement and j == 4 else ""))
            table.setItem(i, j, item)
    header = table.horizontalHeader()
    metrics = table.fontMetrics()
    for j in range(len(headers) - 1):
        header.setSectionResizeMode(j, QHeaderView.ResizeMode.Interactive)
        table.setColumnWidth(j, max(
            metrics.horizontalAdvance(headers[j]) + 16,
            metrics.horizontalAdvance("2026-11-30 00:00 UTC" if j == 0 else "PT1-C10") + 16))
    header.setSectionResizeMode(len(headers) - 1, QHeaderView.ResizeMode.Stretch)
    table.resizeRowsToContents()


def fill_links(table: QTableWidget, r: ReviewCmocEvidence | None) -> None:
    """The study CMOCs behind a review CMOC: study, relation, who, wording, note."""
    # Links whose study CMOC was deleted (perhaps on another laptop) stay in sight, marked,
    # below the evidence that counts.
    sources = (*r.sources, *r.deleted_sources) if r else ()
    counted = len(r.sources) if r else 0
    table.setRowCount(len(sources))
    for i, s in enumerate(sources):
        statement = (s.source.statement or s.source.outcome or "") if s.source else ""
        if i >= counted:
            statement = f"({tr('deleted')}) {statement}"
        for j, text in enumerate((s.study_label, relation_text(s.relation),
                                  s.made_by if s.made_by != "consensus" else tr("consensus"),
                                  statement, s.note)):
            item = QTableWidgetItem(text)
            item.setData(Qt.ItemDataRole.UserRole, s.source_id)
            item.setToolTip(text)
            table.setItem(i, j, item)


def fill_grid(table: QTableWidget, grid: CmoGrid) -> None:
    """Contexts down, mechanisms across; outcomes and study counts in each cell."""
    table.clear()
    table.setRowCount(len(grid.contexts))
    table.setColumnCount(len(grid.mechanisms))
    none = tr("(no code)")
    table.setHorizontalHeaderLabels([m or none for m in grid.mechanisms])
    table.setVerticalHeaderLabels([c or none for c in grid.contexts])
    for i, c in enumerate(grid.contexts):
        for j, m in enumerate(grid.mechanisms):
            cell = grid.cells.get((c, m))
            if cell is None:
                continue
            outs = "\n".join(f"{o} ({n})" for o, n in cell.outcomes.items())
            text = tr("{n} studies").format(n=len(cell.study_ids)) + ("\n" + outs if outs
                                                                       else "")
            table.setItem(i, j, QTableWidgetItem(text))
    table.resizeRowsToContents()


__all__ = ["fill_grid", "fill_ledger", "fill_links", "fill_matrix", "relation_text"]
