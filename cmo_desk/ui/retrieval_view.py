"""The retrieval view: every passage for a code, a role, a coder or some words, across all
studies, with study, page and coder; a double-click opens the passage in its text."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtWidgets import (
    QComboBox, QDialog, QHBoxLayout, QHeaderView, QLabel, QLineEdit, QPushButton, QVBoxLayout, QWidget,
)

from cmo_desk.domain.errors import CmoDeskError
from cmo_desk.domain.i18n import tr
from cmo_desk.services import retrieval
from cmo_desk.ui.conflicts_view import RowsTableModel, table_view
from cmo_desk.ui.theme import ROLE_ORDER, role_label
from cmo_desk.ui.window_fit import fit_to_screen

if TYPE_CHECKING:
    from cmo_desk.ui.main_window import MainWindow


def slot_names() -> dict[str, str]:
    return {"": tr("Excerpt"), "context": tr("Context"),
            "mechanism_resource": tr("Mechanism — resource"),
            "mechanism_reasoning": tr("Mechanism — reasoning"), "outcome": tr("Outcome"),
            "intervention": tr("Intervention"), "statement": tr("CMOC statement"),
            "memo": tr("CMOC memo")}


def passages_found(n: int) -> str:
    return tr("1 passage found") if n == 1 else tr("{n} passages found").format(n=n)


class RetrievalView(QDialog):
    def __init__(self, window: MainWindow, parent: QWidget | None = None) -> None:
        super().__init__(parent or window)
        self.window_ = window
        self.setWindowTitle(tr("Retrieve coded passages"))
        fit_to_screen(self, 1100, 640)
        self.passages: list[retrieval.Passage] = []
        lay = QVBoxLayout(self)
        filters = QHBoxLayout()
        self.code = QComboBox()
        self.code.setSizeAdjustPolicy(
            QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.code.setMinimumContentsLength(22)
        self.code.addItem(tr("Any code"), None)
        for c in sorted(window.codes.values(), key=lambda c: (c.name or "").casefold()):
            self.code.addItem(tr(c.name or ""), c.id)
        self.role = QComboBox()
        self.role.addItem(tr("Any role"), None)
        for r in ROLE_ORDER:
            self.role.addItem(role_label(r), r)
        self.coder = QComboBox()
        self.words = QLineEdit()
        self.words.setPlaceholderText(tr("Words in the passage"))
        self.words.setClearButtonEnabled(True)
        for label, w in ((tr("Code"), self.code), (tr("Role"), self.role),
                         (tr("Coder"), self.coder)):
            filters.addWidget(QLabel(label))
            filters.addWidget(w)
        filters.addWidget(self.words, 1)
        lay.addLayout(filters)
        self.model = RowsTableModel([tr(c) for c in retrieval.COLUMNS], self)
        self.model.right_aligned = {1}
        self.table = table_view(self.model, stretch=6)
        self.table.setWordWrap(True)
        head = self.table.horizontalHeader()
        head.setSectionResizeMode(5, QHeaderView.ResizeMode.Interactive)
        head.resizeSection(5, 190)
        self.model.modelReset.connect(self.table.resizeRowsToContents)
        self.table.doubleClicked.connect(lambda ix: self.open_passage(ix.row()))
        lay.addWidget(self.table, 1)
        bottom = QHBoxLayout()
        self.count = QLabel("")
        self.count.setObjectName("hint")
        self.export_button = QPushButton(tr("Save as .csv…"))
        self.export_button.clicked.connect(self.export)
        close = QPushButton(tr("Close"))
        close.clicked.connect(self.close)
        bottom.addWidget(self.count, 1)
        bottom.addWidget(self.export_button)
        bottom.addWidget(close)
        lay.addLayout(bottom)
        self.fill_coders()
        for combo in (self.code, self.role, self.coder):
            combo.currentIndexChanged.connect(self.run)
        self.words.textChanged.connect(self.run)

    def fill_coders(self) -> None:
        w = self.window_
        self.coder.blockSignals(True)
        self.coder.clear()
        own = w.session.coder_id
        if w.show_others:
            self.coder.addItem(tr("Any coder"), None)
            for cid, c in sorted(w.coders.items(), key=lambda kv: (kv[1].name or "").casefold()):
                self.coder.addItem(c.name or cid, cid)
        else:  # working blind: only one's own coding
            self.coder.addItem(w.session.coder_name or tr("Me"), own)
        self.coder.blockSignals(False)

    def shown_coders(self) -> set[str] | None:
        w = self.window_
        return None if w.show_others else {w.session.coder_id}

    def run(self) -> None:
        w = self.window_
        try:
            self.passages = retrieval.retrieve(
                w.session, code_id=self.code.currentData(), role=self.role.currentData(),
                coder_id=self.coder.currentData(), words=self.words.text(),
                coders_shown=self.shown_coders())
        except CmoDeskError as err:
            self.count.setText(str(err))
            return
        table = retrieval.rows(self.passages)
        slots = slot_names()
        for row in table:
            row[3] = role_label(row[3]) if row[3] else ""
            row[4] = slots.get(row[4], row[4])
            row[6] = " ".join(row[6].split())
        self.model.set_rows(list(zip(table, self.passages)),
                            [[""] * 6 + [p.text] for p in self.passages])
        self.count.setText(passages_found(len(self.passages)))

    def open_passage(self, row: int) -> None:
        if not 0 <= row < len(self.passages):
            return
        p = self.passages[row]
        w = self.window_
        if not p.study_id or not w.open_study(p.study_id):
            return
        if p.kind == "excerpt":
            w.show_excerpt(p.id)
            w.excerpt_panel.select([p.id])
        else:
            w.coding_tabs.setCurrentWidget(w.cmoc_panel)
            w.cmoc_panel.select_cmoc(p.id)
        w.raise_()
        w.activateWindow()

    def export(self) -> None:
        w = self.window_
        path = w.dialogs.save_path(tr("Save passages"), tr("CSV files (*.csv)"), "passages.csv")
        if not path:
            return
        if not path.lower().endswith(".csv"):
            path += ".csv"
        ok, n = w.actions.run(lambda: retrieval.export_csv(self.passages, path))
        if ok:
            self.count.setText(tr("{n} passages saved to {path}").format(n=n, path=path))


def open_retrieval(window: MainWindow, code_id: str | None = None) -> RetrievalView:
    view = window.open_views.get("retrieval")
    if view is None:
        view = window.keep_open("retrieval", RetrievalView(window))
    view.fill_coders()
    if code_id is not None:
        view.code.setCurrentIndex(max(0, view.code.findData(code_id)))
    view.run()
    view.show()
    view.raise_()
    return view
