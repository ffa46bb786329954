"""A study's excerpts: a table that can be dragged onto a CMOC, and the selected one's details."""

from __future__ import annotations

from PySide6.QtCore import QItemSelectionModel, Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView, QComboBox, QHBoxLayout, QHeaderView, QLabel, QPushButton, QTableView,
    QVBoxLayout, QWidget,
)

from cmo_desk.domain import records as rec
from cmo_desk.domain.i18n import tr
from cmo_desk.ui.dialogs import Dialogs
from cmo_desk.ui.editors import AutoSaveText
from cmo_desk.ui.models import ExcerptTableModel
from cmo_desk.ui.theme import ROLE_ORDER, role_label, swatch, ROLE_COLORS
from cmo_desk.ui.coding_actions import CodingActions


class ExcerptPanel(QWidget):
    selection_changed = Signal(list)  # excerpt ids
    excerpt_activated = Signal(str)
    add_to_cmoc_requested = Signal(list)

    def __init__(self, actions: CodingActions, dialogs: Dialogs,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.actions, self.dialogs = actions, dialogs
        self.codes: dict[str, rec.Code] = {}
        self._own: str | None = None
        self.locked = False
        lay = QVBoxLayout(self)
        lay.setContentsMargins(6, 6, 6, 6)
        self.model = ExcerptTableModel(self)
        self.table = QTableView()
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.table.setDragEnabled(True)
        self.table.setDragDropMode(QAbstractItemView.DragDropMode.DragOnly)
        self.table.setAlternatingRowColors(True)
        # two lines per row, so the quote stays readable in a narrow panel
        self.table.setWordWrap(True)
        self.table.setTextElideMode(Qt.TextElideMode.ElideRight)
        self.table.verticalHeader().hide()
        self.table.verticalHeader().setDefaultSectionSize(
            self.table.fontMetrics().lineSpacing() * 2 + 8)
        head = self.table.horizontalHeader()
        head.setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        head.setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
        head.setSectionResizeMode(2, QHeaderView.ResizeMode.Stretch)
        head.setSectionResizeMode(3, QHeaderView.ResizeMode.Interactive)
        head.setSectionResizeMode(4, QHeaderView.ResizeMode.Interactive)
        head.resizeSection(3, 90)
        head.resizeSection(4, 60)
        head.setMinimumSectionSize(28)
        lay.addWidget(self.table, 3)

        hint = QLabel(tr("Drag excerpts onto a CMOC slot, or select them and use the buttons."))
        hint.setObjectName("hint")
        hint.setWordWrap(True)
        lay.addWidget(hint)

        detail = QVBoxLayout()
        row = QHBoxLayout()
        row.addWidget(QLabel(tr("Role")))
        self.role = QComboBox()
        for r in ROLE_ORDER:
            self.role.addItem(swatch(ROLE_COLORS[r]), role_label(r), r)
        self.role.activated.connect(self._role_changed)
        row.addWidget(self.role)
        self.codes_button = QPushButton(tr("Codes…"))
        self.codes_button.clicked.connect(self.choose_codes)
        row.addWidget(self.codes_button)
        row.addStretch(1)
        self.delete_button = QPushButton(tr("Delete"))
        self.delete_button.clicked.connect(self.delete_selected)
        row.addWidget(self.delete_button)
        detail.addLayout(row)
        self.memo = AutoSaveText(lines=2)
        self.memo.setPlaceholderText(tr("Memo for this excerpt"))
        self.memo.committed.connect(self._memo_changed)
        detail.addWidget(self.memo)
        buttons = QHBoxLayout()
        self.new_cmoc_button = QPushButton(tr("New CMOC from selected"))
        self.new_cmoc_button.setObjectName("primary")
        self.add_button = QPushButton(tr("Add to CMOC…"))
        buttons.addWidget(self.new_cmoc_button)
        buttons.addWidget(self.add_button)
        buttons.addStretch(1)
        detail.addLayout(buttons)
        lay.addLayout(detail)

        self.table.selectionModel().selectionChanged.connect(self._on_selection)
        self.table.doubleClicked.connect(
            lambda ix: self.excerpt_activated.emit(self.model.excerpt(ix.row()).id))
        self.add_button.clicked.connect(
            lambda: self.add_to_cmoc_requested.emit(self.selected_ids()))
        self._on_selection()

    def set_excerpts(self, excerpts: list[rec.Excerpt], codes: dict[str, rec.Code],
                     coders: dict[str, rec.Coder], own: str | None, locked: bool) -> None:
        keep = self.selected_ids()
        self.codes, self._own, self.locked = codes, own, locked
        self.model.set_rows(excerpts, codes, coders, own)
        # the memo has its own box below; its column shows only when some excerpt has one
        self.table.setColumnHidden(4, not any(e.memo for e in excerpts))
        self.select(keep, scroll=False)
        self._on_selection()

    def selected_ids(self) -> list[str]:
        rows = sorted({ix.row() for ix in self.table.selectionModel().selectedRows()})
        return [self.model.excerpt(r).id for r in rows if self.model.excerpt(r)]  # type: ignore[union-attr]

    def select(self, excerpt_ids: list[str], scroll: bool = True) -> None:
        sel = self.table.selectionModel()
        sel.clearSelection()
        first = None
        for eid in excerpt_ids:
            row = self.model.row_of(eid)
            if row >= 0:
                sel.select(self.model.index(row, 0), QItemSelectionModel.SelectionFlag.Select
                           | QItemSelectionModel.SelectionFlag.Rows)
                first = first if first is not None else row
        if first is not None:
            sel.setCurrentIndex(self.model.index(first, 0),
                                QItemSelectionModel.SelectionFlag.NoUpdate)
            if scroll:
                self.table.scrollTo(self.model.index(first, 0))

    def _current(self) -> rec.Excerpt | None:
        ids = self.selected_ids()
        return self.model.excerpt(self.model.row_of(ids[0])) if len(ids) == 1 else None

    def _on_selection(self, *_: object) -> None:
        ids = self.selected_ids()
        ex = self._current()
        own = ex is not None and ex.owner_id == self._own and not self.locked
        if self.memo.has_pending():
            self.memo.flush()
        self._shown = ex
        self.role.setEnabled(own)
        self.codes_button.setEnabled(own)
        self.memo.setReadOnly(not own)
        self.memo.set_saved_text(ex.memo if ex else "")
        if ex:
            self.role.setCurrentIndex(max(0, self.role.findData(ex.role or "other")))
        mine = [e for e in ids if (x := self.model.excerpt(self.model.row_of(e)))
                and x.owner_id == self._own]
        self.delete_button.setEnabled(bool(mine) and not self.locked)
        self.new_cmoc_button.setEnabled(bool(ids) and not self.locked)
        self.add_button.setEnabled(bool(ids) and not self.locked)
        self.selection_changed.emit(ids)

    def _role_changed(self) -> None:
        ex = self._current()
        role = self.role.currentData()
        if ex and role != ex.role:
            self.actions.update_excerpt(ex.id, "role", ex.role, role)

    def _memo_changed(self, text: str) -> None:
        ex = getattr(self, "_shown", None)
        if ex is not None and (text.strip() or None) != ex.memo:
            self.actions.update_excerpt(ex.id, "memo", ex.memo, text.strip() or None)

    def choose_codes(self) -> None:
        ex = self._current()
        if ex is None:
            return
        chosen = self.dialogs.choose_codes(list(self.codes.values()), ex.code_ids,
                                           tr("Codes for this excerpt"))
        if chosen is not None and set(chosen) != set(ex.code_ids):
            self.actions.set_excerpt_codes(ex.id, list(ex.code_ids), chosen)

    def delete_selected(self) -> None:
        for eid in self.selected_ids():
            ex = self.model.excerpt(self.model.row_of(eid))
            if ex and ex.owner_id == self._own:
                self.actions.delete_excerpt(eid)
