"""The studies pane: a filter above a sortable table of studies; one study is current."""

from __future__ import annotations

from PySide6.QtCore import QModelIndex, QPoint, Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView, QHeaderView, QLineEdit, QTableView, QVBoxLayout, QWidget,
)

from cmo_desk.domain.i18n import tr
from cmo_desk.ui.models import ID_ROLE, StudyFilterModel, StudyTableModel


class StudiesPane(QWidget):
    #: a study row became current (by click, keys or a step)
    study_chosen = Signal(str)
    #: right click on a study: its id and where, on the screen
    menu_requested = Signal(str, QPoint)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(4, 4, 4, 4)
        self.filter = QLineEdit()
        self.filter.setPlaceholderText(tr("Filter studies…"))
        self.filter.setClearButtonEnabled(True)
        lay.addWidget(self.filter)
        self.model = StudyTableModel(self)
        self.proxy = StudyFilterModel(self)
        self.proxy.setSourceModel(self.model)
        self.view = view = QTableView()
        view.setModel(self.proxy)
        view.setSortingEnabled(True)
        view.sortByColumn(0, Qt.SortOrder.AscendingOrder)
        view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        view.verticalHeader().hide()
        view.verticalHeader().setDefaultSectionSize(24)
        view.setShowGrid(False)
        view.setAlternatingRowColors(True)
        view.setWordWrap(False)
        head = view.horizontalHeader()
        head.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        for column in (1, 2, 3):
            head.setSectionResizeMode(column, QHeaderView.ResizeMode.Interactive)
        head.resizeSection(2, 84)
        head.setTextElideMode(Qt.TextElideMode.ElideRight)  # a title longer than its column
        # Columns fitted to their contents measure at most this many rows, not every study.
        head.setResizeContentsPrecision(100)
        for signal in (self.proxy.modelReset, self.proxy.rowsInserted, self.proxy.layoutChanged,
                       self.proxy.dataChanged):
            signal.connect(self._fit_columns)
        view.setTextElideMode(Qt.TextElideMode.ElideRight)
        lay.addWidget(view)
        self.filter.textChanged.connect(self.proxy.setFilterFixedString)
        view.selectionModel().currentRowChanged.connect(self._on_row)
        view.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        view.customContextMenuRequested.connect(self._on_menu)

    def _fit_columns(self, *_args: object) -> None:
        """Year and coders as wide as what they show, never as their titles: in some languages
        a title is longer than the column's contents and would squeeze the study labels."""
        head = self.view.horizontalHeader()
        for column in (1, 3):
            head.resizeSection(column, max(self.view.sizeHintForColumn(column) + 6, 28))

    def _on_row(self, current: QModelIndex, _previous: QModelIndex) -> None:
        if current.isValid():
            sid = current.data(ID_ROLE) or self.proxy.index(current.row(), 0).data(ID_ROLE)
            if sid:
                self.study_chosen.emit(sid)

    def _on_menu(self, pos: QPoint) -> None:
        index = self.view.indexAt(pos)
        if index.isValid():
            sid = self.proxy.index(index.row(), 0).data(ID_ROLE)
            if sid:
                self.menu_requested.emit(sid, self.view.viewport().mapToGlobal(pos))

    def show_current(self, study_id: str) -> None:
        """Mark a study's row current without announcing it (it is open already)."""
        row = self.model.row_of(study_id)
        if row < 0:
            return
        ix = self.proxy.mapFromSource(self.model.index(row, 0))
        if ix.isValid():
            self.view.blockSignals(True)
            self.view.selectionModel().blockSignals(True)
            self.view.setCurrentIndex(ix)
            self.view.selectionModel().blockSignals(False)
            self.view.blockSignals(False)
            self.view.scrollTo(ix)

    def step(self, step: int) -> None:
        """Make the next (1) or previous (-1) study in the shown order current."""
        row = self.view.currentIndex().row() + step
        if 0 <= row < self.proxy.rowCount():
            self.view.setCurrentIndex(self.proxy.index(row, 0))
