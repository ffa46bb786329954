"""Conflicts left by merging: who wrote what, when, and from which common value; one is kept.

Also home of :class:`RowsTableModel`, the read-only table behind the team windows (conflicts,
duplicates, agreement, backups).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtWidgets import (
    QAbstractItemView, QDialog, QDialogButtonBox, QHBoxLayout, QHeaderView, QLabel, QListWidget,
    QListWidgetItem, QPushButton, QSplitter, QTableView, QVBoxLayout, QWidget,
)

from cmo_desk.domain.errors import CmoDeskError
from cmo_desk.domain.i18n import tr, trn
from cmo_desk.domain.schema import EXISTS
from cmo_desk.services import merging
from cmo_desk.services.session import Session
from cmo_desk.ui.cmoc_panel import CHOICES
from cmo_desk.ui.dialogs import Dialogs
from cmo_desk.ui.language import local_datetime
from cmo_desk.ui.workers import follow_changes
from cmo_desk.ui.plain import plain_tip
from cmo_desk.ui.window_fit import fit_to_screen

AnyIndex = QModelIndex | QPersistentModelIndex
VALUE_CHARS = 160


class RowsTableModel(QAbstractTableModel):
    """Rows of text with one object behind each row (read with :meth:`item`)."""

    def __init__(self, headers: Sequence[str], parent: Any = None) -> None:
        super().__init__(parent)
        self._headers = list(headers)
        self._rows: list[tuple[str, ...]] = []
        self._items: list[Any] = []
        self._tips: list[tuple[str, ...] | None] = []
        self.right_aligned: set[int] = set()

    def set_rows(self, rows: Sequence[tuple[Sequence[str], Any]],
                 tips: Sequence[Sequence[str] | None] | None = None) -> None:
        self.beginResetModel()
        width = len(self._headers)
        self._rows = [tuple((list(map(str, cells)) + [""] * width)[:width]) for cells, _ in rows]
        self._items = [item for _, item in rows]
        self._tips = [tuple(t) if t else None for t in (tips or [None] * len(rows))]
        self.endResetModel()

    def item(self, row: int) -> Any:
        return self._items[row] if 0 <= row < len(self._items) else None

    def rowCount(self, parent: AnyIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: AnyIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._headers)

    def data(self, index: AnyIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._rows) or \
                not 0 <= index.column() < len(self._headers):
            return None
        if role == Qt.ItemDataRole.DisplayRole:
            return self._rows[index.row()][index.column()]
        if role == Qt.ItemDataRole.ToolTipRole:
            tips = self._tips[index.row()] if index.row() < len(self._tips) else None
            if tips and index.column() < len(tips) and tips[index.column()]:
                return plain_tip(tips[index.column()])
            return plain_tip(self._rows[index.row()][index.column()]) or None
        if role == Qt.ItemDataRole.TextAlignmentRole and index.column() in self.right_aligned:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None

    def headerData(self, section: int, orientation: Qt.Orientation,
                   role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if role == Qt.ItemDataRole.DisplayRole and orientation == Qt.Orientation.Horizontal \
                and 0 <= section < len(self._headers):
            return self._headers[section]
        return None

    def flags(self, index: AnyIndex) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        return Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable


def table_view(model: RowsTableModel, stretch: int | None = None) -> QTableView:
    view = QTableView()
    view.setModel(model)
    view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
    view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    view.verticalHeader().hide()
    view.setAlternatingRowColors(True)
    view.setShowGrid(False)
    view.setWordWrap(False)
    head = view.horizontalHeader()
    head.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
    if stretch is not None:
        head.setSectionResizeMode(stretch, QHeaderView.ResizeMode.Stretch)
    return view


def primary_button(text: str) -> QPushButton:
    """The main action of a window, visibly greyed out while it cannot be used."""
    button = QPushButton(text)
    button.setObjectName("primary")
    button.setStyleSheet("QPushButton#primary:disabled { background: #c5cae9; "
                         "border-color: #c5cae9; color: white; }")
    return button


def selected_row(view: QTableView) -> int:
    rows = view.selectionModel().selectedRows() if view.selectionModel() else []
    if rows:
        return rows[0].row()
    current = view.currentIndex()
    return current.row() if current.isValid() else -1


#: Records whose fields are a CMOC's slots, named and chosen as the CMOC panel shows them.
_CMOC_TYPES = ("cmoc", "consensus")


def field_title(field: str, entity_type: str = "") -> str:
    if field == EXISTS:
        return tr("whether it exists")
    if entity_type in _CMOC_TYPES:
        from cmo_desk.ui.reconcile_view import slot_titles

        return {**slot_titles(), "memo": tr("Memo")}.get(field, field)
    return field


def value_text(field: str, value: Any, entity_type: str = "", whole: bool = False) -> str:
    """A value as a person reads it; shortened for the table unless ``whole`` (the list a
    value is chosen from shows each whole, so versions differing near their end differ)."""
    if field == EXISTS and isinstance(value, bool):
        return tr("kept") if value else tr("deleted")
    if value is None:
        return tr("(empty)")
    if entity_type in _CMOC_TYPES:
        label = next((label for stored, label in CHOICES.get(field, ())
                      if stored is not None and stored == value and label), None)
        if label:
            return tr(label)
    if isinstance(value, (list, dict)):
        text = json.dumps(value, ensure_ascii=False)
    else:
        text = str(value)
    if whole:
        return text
    flat = " ".join(text.split())
    return flat if len(flat) <= VALUE_CHARS else flat[:VALUE_CHARS - 1] + "…"


def when(wall_ms: int) -> str:
    return local_datetime(datetime.fromtimestamp(wall_ms / 1000))


class ConflictsView(QDialog):
    """Team → Conflicts…: every open conflict; choose the value to keep."""

    def __init__(self, session: Session, dialogs: Dialogs, parent: QWidget | None = None,
                 report_error: Any = None) -> None:
        super().__init__(parent)
        self.session = session
        self.dialogs = dialogs
        self._report = report_error or dialogs.error
        self.setWindowTitle(tr("Conflicts"))
        fit_to_screen(self, 1000, 620)
        self.conflicts: list[merging.ConflictView] = []
        lay = QVBoxLayout(self)
        intro = QLabel(tr("Two coders changed the same thing before their copies were merged. "
                          "Choose the value to keep; it replaces all of them on every laptop "
                          "after the next merge."))
        intro.setWordWrap(True)
        intro.setObjectName("hint")
        lay.addWidget(intro)
        self.model = RowsTableModel([tr("#"), tr("Record"), tr("Field"), tr("Values"),
                                     tr("Common ancestor")], self)
        self.model.right_aligned = {0}
        self.table = table_view(self.model, stretch=3)
        split = QSplitter(Qt.Orientation.Vertical)
        split.addWidget(self.table)
        lower = QWidget()
        low = QVBoxLayout(lower)
        low.setContentsMargins(0, 0, 0, 0)
        self.detail = QLabel("")
        self.detail.setWordWrap(True)
        low.addWidget(self.detail)
        self.values = QListWidget()
        self.values.setWordWrap(True)
        self.values.setAlternatingRowColors(True)
        low.addWidget(self.values)
        buttons = QHBoxLayout()
        self.keep_button = primary_button(tr("Keep this value"))
        self.keep_deleted_button = QPushButton(tr("Keep it deleted"))
        self.restore_button = QPushButton(tr("Restore it"))
        for b in (self.keep_button, self.keep_deleted_button, self.restore_button):
            buttons.addWidget(b)
        buttons.addStretch(1)
        low.addLayout(buttons)
        split.addWidget(lower)
        split.setSizes([340, 220])
        lay.addWidget(split, 1)
        self.summary = QLabel("")
        self.summary.setObjectName("hint")
        lay.addWidget(self.summary)
        close = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        close.button(QDialogButtonBox.StandardButton.Close).setText(tr("Close"))
        close.rejected.connect(self.reject)
        lay.addWidget(close)
        self.table.selectionModel().currentRowChanged.connect(lambda *_: self._show_selected())
        self.values.currentRowChanged.connect(lambda *_: self._update_buttons())
        self.values.itemDoubleClicked.connect(lambda *_: self.keep_selected_value())
        self.keep_button.clicked.connect(self.keep_selected_value)
        self.keep_deleted_button.clicked.connect(lambda: self.settle_deletion(False))
        self.restore_button.clicked.connect(lambda: self.settle_deletion(True))
        self.refresh()

    def refresh(self) -> None:
        try:
            self.conflicts = merging.list_conflicts(self.session)
        except CmoDeskError as err:
            self.conflicts = []
            self._report(str(err))
        rows = []
        for c in self.conflicts:
            values = " | ".join(
                f"{words or value_text(c.field, v.value, c.entity_type)} — "
                f"{v.coder_name or tr('unknown coder')}, {when(v.wall_ms)}"
                for v, words in zip(c.values, c.words()))
            ancestor = ", ".join(
                (c.ancestor_words[i] if i < len(c.ancestor_words) else "")
                or value_text(c.field, a, c.entity_type) for i, a in enumerate(c.ancestors)) or (
                "" if c.kind == merging.PARENT_CYCLE else tr("(new record)"))
            rows.append(((str(c.number), c.label, field_title(c.field, c.entity_type), values,
                          ancestor), c))
        self.model.set_rows(rows)
        self.summary.setText(trn("{n} open conflict", "{n} open conflicts",
                                 len(self.conflicts)).format(n=len(self.conflicts))
                             if self.conflicts else tr("No conflicts."))
        if self.conflicts:
            self.table.selectRow(0)
        self._show_selected()

    def current(self) -> merging.ConflictView | None:
        return self.model.item(selected_row(self.table))

    def select(self, number: int) -> None:
        self.table.selectRow(number - 1)
        self._show_selected()

    def _show_selected(self) -> None:
        c = self.current()
        self.values.clear()
        if c is None:
            self.detail.setText("")
            self._update_buttons()
            return
        if c.kind in merging.IN_USE:
            self.detail.setText(tr("{record} was deleted on one laptop while it was still in "
                                   "use on another; each record using it is listed below. Keep "
                                   "it deleted, and they are deleted or untagged with it; or "
                                   "restore it.").format(record=c.label))
        elif c.field == EXISTS:
            self.detail.setText(tr("{record}: one coder deleted it while another changed or "
                                   "restored it.").format(record=c.label))
        else:
            self.detail.setText(tr("{record}: {field} was changed by more than one coder.")
                                .format(record=c.label,
                                        field=field_title(c.field, c.entity_type)))
        for v, words in zip(c.values, c.words()):
            shown = words or value_text(c.field, v.value, c.entity_type, whole=True)
            item = QListWidgetItem(f"{shown}\n— "
                                   f"{v.coder_name or tr('unknown coder')}, {when(v.wall_ms)}")
            self.values.addItem(item)
        self._update_buttons()

    def _update_buttons(self) -> None:
        c = self.current()
        is_exists = c is not None and c.field == EXISTS
        self.keep_button.setEnabled(c is not None and not is_exists
                                    and self.values.currentRow() >= 0)
        self.keep_deleted_button.setEnabled(is_exists)
        self.restore_button.setEnabled(is_exists)
        self.keep_button.setVisible(not is_exists)
        self.keep_deleted_button.setVisible(is_exists)
        self.restore_button.setVisible(is_exists)

    def _attempt(self, fn: Any) -> bool:
        try:
            fn()
        except CmoDeskError as err:
            self._report(str(err))
            return False
        self.refresh()
        return True

    def keep_value(self, conflict: merging.ConflictView, number: int) -> bool:
        """Keep the ``number``-th value (from 1) of a conflict."""
        return self._attempt(lambda: merging.resolve_pick(
            self.session, conflict.entity_type, conflict.entity_id, conflict.field, number))

    def keep_selected_value(self) -> bool:
        c = self.current()
        row = self.values.currentRow()
        if c is None or row < 0 or c.field == EXISTS:
            return False
        return self.keep_value(c, row + 1)

    def settle_deletion(self, keep: bool) -> bool:
        c = self.current()
        if c is None or c.field != EXISTS:
            return False
        return self._attempt(lambda: merging.resolve_exists(
            self.session, c.entity_type, c.entity_id, keep))


def open_conflicts(window: Any) -> ConflictsView:
    view = ConflictsView(window.session, window.dialogs, window, window.report_error)
    view.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    follow_changes(view, window.session, view.refresh)  # a merge brings new conflicts
    view.show()
    window._conflicts_view = view
    return view


__all__ = ["ConflictsView", "RowsTableModel", "open_conflicts", "primary_button", "selected_row",
           "table_view"]
