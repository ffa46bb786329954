"""A study's CMOCs: the list and an editor with every slot of a realist CMO configuration."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QItemSelectionModel, Qt, QTimer, Signal
from PySide6.QtGui import QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import (
    QAbstractItemView, QComboBox, QGridLayout, QHBoxLayout, QHeaderView, QLabel, QLineEdit,
    QListView, QListWidget, QListWidgetItem, QPushButton, QScrollArea, QSizePolicy, QSplitter,
    QTreeWidget, QTreeWidgetItem, QVBoxLayout, QWidget,
)

from cmo_desk.domain import records as rec
from cmo_desk.domain.i18n import tr
from cmo_desk.services import desk
from cmo_desk.ui.dialogs import Dialogs
from cmo_desk.ui.editors import AutoSaveText
from cmo_desk.ui.plain import escape, plain_tip
from cmo_desk.ui.models import ID_ROLE, CmocListModel, excerpt_ids_from_mime, EXCERPT_MIME
from cmo_desk.ui.theme import ROLE_COLORS, role_color, role_label, swatch
from cmo_desk.ui.coding_actions import CodingActions

# (field, label, role colour, lines) for the text slots, in the order a realist reads them.
TEXT_SLOTS = (
    ("context", "Context", "context", 1),
    ("mechanism_resource", "Mechanism — resource", "mechanism", 1),
    ("mechanism_reasoning", "Mechanism — reasoning", "mechanism", 1),
    ("outcome", "Outcome", "outcome", 1),
)
SLOT_ROLE = {"context": "context", "mechanism_resource": "mechanism",
             "mechanism_reasoning": "mechanism", "outcome": "outcome",
             "intervention": "intervention", "actor": "context"}
CHOICES = {
    "outcome_direction": ((None, ""), ("+", "+ positive"), ("-", "− negative"),
                          ("mixed", "± mixed")),
    "outcome_intended": ((None, ""), ("intended", "intended"), ("unintended", "unintended")),
    "confidence": ((None, ""), ("high", "high"), ("moderate", "moderate"), ("low", "low")),
    "status": (("draft", "draft"), ("submitted", "submitted"), ("reconciled", "reconciled"),
               ("set_aside", "set aside")),
}
# How a CMOC bears on a programme theory: (stored value, label).
RELATIONS = (
    (rec.TheoryRelation.SUPPORTS.value, "supports"),
    (rec.TheoryRelation.REFUTES.value, "refutes"),
    (rec.TheoryRelation.REFINES.value, "refines"),
    (rec.TheoryRelation.NEW.value, "suggests a new theory"),
)


def slot_label(text: str, role: str | None) -> QLabel:
    label = QLabel(tr(text))
    label.setWordWrap(True)  # a long label in another language wraps rather than widen the form
    color = ROLE_COLORS.get(role or "", "#37474f")
    label.setStyleSheet(f"font-weight: 600; color: {color}; padding-top: 4px;")
    return label


class EvidenceList(QListWidget):
    """The excerpts cited by a CMOC; excerpts can be dropped here from the excerpt list."""

    excerpts_dropped = Signal(list)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setAcceptDrops(True)
        self.setDropIndicatorShown(True)
        self.setWordWrap(True)
        self.setAlternatingRowColors(True)

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if event.mimeData().hasFormat(EXCERPT_MIME):
            event.acceptProposedAction()

    def dragMoveEvent(self, event: QDragEnterEvent) -> None:  # type: ignore[override]
        if event.mimeData().hasFormat(EXCERPT_MIME):
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:
        ids = excerpt_ids_from_mime(event.mimeData())
        if ids:
            event.acceptProposedAction()
            self.excerpts_dropped.emit(ids)


class CmocPanel(QWidget):
    cmoc_selected = Signal(str)  # '' when none
    evidence_activated = Signal(str)  # excerpt id

    def __init__(self, actions: CodingActions, dialogs: Dialogs,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.actions = actions
        self.dialogs = dialogs
        self.study_id: str | None = None
        self.cmoc: rec.Cmoc | None = None
        self.codes: dict[str, rec.Code] = {}
        self.selected_excerpts: list[str] = []
        self._own: str | None = None
        self._loading = False

        lay = QVBoxLayout(self)
        lay.setContentsMargins(6, 6, 6, 6)
        buttons = QHBoxLayout()
        self.new_button = QPushButton(tr("New CMOC"))
        self.new_button.setObjectName("primary")
        self.new_button.setToolTip(tr("A new CMOC, citing the excerpts selected in the Excerpts "
                                      "tab if any (Ctrl+Shift+N)"))
        self.delete_button = QPushButton(tr("Delete"))
        buttons.addWidget(self.new_button)
        buttons.addStretch(1)
        buttons.addWidget(self.delete_button)
        lay.addLayout(buttons)

        split = QSplitter(Qt.Orientation.Vertical)
        split.setObjectName("cmocSplit")
        self.model = CmocListModel(self)
        self.list = QListView()
        self.list.setModel(self.model)
        self.list.setMinimumHeight(60)
        self.list.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.list.setUniformItemSizes(True)
        self.list.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.list.setTextElideMode(Qt.TextElideMode.ElideRight)
        split.addWidget(self.list)

        self.editor = self._build_editor()
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(self.editor)
        split.addWidget(scroll)
        split.setStretchFactor(0, 1)
        split.setStretchFactor(1, 5)
        split.setSizes([72, 620])
        lay.addWidget(split, 1)

        self.new_button.clicked.connect(self.new_cmoc)
        self.delete_button.clicked.connect(self.delete_current)
        self.list.selectionModel().currentChanged.connect(self._on_current_changed)
        self._show(None)

    # -- building --

    def _build_editor(self) -> QWidget:
        w = QWidget()
        g = QGridLayout(w)
        g.setContentsMargins(4, 2, 4, 8)
        g.setHorizontalSpacing(8)
        g.setVerticalSpacing(2)
        self.texts: dict[str, AutoSaveText] = {}
        self.lines: dict[str, QLineEdit] = {}
        self.combos: dict[str, QComboBox] = {}
        row = 0

        g.addWidget(slot_label("If … then … because … (CMOC statement)", None), row, 0, 1, 2)
        row += 1
        self.texts["statement"] = AutoSaveText(lines=3)
        self.texts["statement"].setPlaceholderText(
            tr("If [context], then [outcome], because [mechanism]."))
        g.addWidget(self.texts["statement"], row, 0, 1, 2)
        row += 1
        g.addWidget(slot_label("Intervention", "intervention"), row, 0)
        g.addWidget(slot_label("Actor", None), row, 1)
        row += 1
        for col, key in enumerate(("intervention", "actor")):
            edit = QLineEdit()
            edit.setObjectName(f"slot_{key}")
            edit.editingFinished.connect(lambda k=key, e=edit: self._commit(k, e.text()))
            self.lines[key] = edit
            g.addWidget(edit, row, col)
        row += 1
        for key, text, role, lines in TEXT_SLOTS:
            g.addWidget(slot_label(text, role), row, 0, 1, 2)
            row += 1
            box = AutoSaveText(lines=lines, accepts_excerpts=True)
            box.setObjectName(f"slot_{key}")
            box.setPlaceholderText(tr("Type here, or drop an excerpt to cite it"))
            box.setStyleSheet(f"QPlainTextEdit {{ border-left: 3px solid {role_color(role).name()}; }}")
            box.excerpts_dropped.connect(lambda ids, r=role: self.link_excerpts(ids, r))
            self.texts[key] = box
            g.addWidget(box, row, 0, 1, 2)
            row += 1
        g.addWidget(slot_label("Outcome direction", "outcome"), row, 0)
        g.addWidget(slot_label("Intended?", "outcome"), row, 1)
        row += 1
        for col, key in enumerate(("outcome_direction", "outcome_intended")):
            g.addWidget(self._combo(key), row, col)
        row += 1
        g.addWidget(slot_label("Confidence", None), row, 0)
        g.addWidget(slot_label("Status", None), row, 1)
        row += 1
        for col, key in enumerate(("confidence", "status")):
            g.addWidget(self._combo(key), row, col)
        row += 1

        g.addWidget(slot_label("Codes", None), row, 0, 1, 2)
        row += 1
        codes_row = QHBoxLayout()
        self.codes_label = QLabel()
        self.codes_label.setWordWrap(True)
        self.codes_label.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
        self.codes_button = QPushButton(tr("Codes…"))
        self.codes_button.clicked.connect(self.choose_codes)
        codes_row.addWidget(self.codes_label, 1)
        codes_row.addWidget(self.codes_button, 0, Qt.AlignmentFlag.AlignTop)
        g.addLayout(codes_row, row, 0, 1, 2)
        row += 1

        g.addWidget(slot_label("Evidence (linked excerpts)", None), row, 0, 1, 2)
        row += 1
        self.evidence = EvidenceList()
        self.evidence.setMinimumHeight(84)
        self.evidence.setMaximumHeight(150)
        self.evidence.excerpts_dropped.connect(lambda ids: self.link_excerpts(ids, None))
        self.evidence.itemDoubleClicked.connect(
            lambda item: self.evidence_activated.emit(item.data(Qt.ItemDataRole.UserRole)))
        g.addWidget(self.evidence, row, 0, 1, 2)
        row += 1
        ev_buttons = QHBoxLayout()
        self.link_button = QPushButton(tr("Cite selected excerpts"))
        self.link_button.clicked.connect(lambda: self.link_excerpts(self.selected_excerpts, None))
        self.unlink_button = QPushButton(tr("Remove"))
        self.unlink_button.clicked.connect(self.unlink_current)
        ev_buttons.addWidget(self.link_button)
        ev_buttons.addStretch(1)
        ev_buttons.addWidget(self.unlink_button)
        g.addLayout(ev_buttons, row, 0, 1, 2)
        row += 1

        g.addWidget(slot_label("Programme theories", None), row, 0, 1, 2)
        row += 1
        self.theories = QTreeWidget()
        self.theories.setColumnCount(2)
        self.theories.setHeaderHidden(True)
        self.theories.setRootIsDecorated(False)
        self.theories.setMaximumHeight(120)
        head = self.theories.header()
        head.setStretchLastSection(False)
        head.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        head.setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
        self.relation_boxes: dict[str, QComboBox] = {}
        self.theories.itemChanged.connect(self._theory_toggled)
        g.addWidget(self.theories, row, 0, 1, 2)
        row += 1
        g.addWidget(slot_label("Memo", None), row, 0, 1, 2)
        row += 1
        self.texts["memo"] = AutoSaveText(lines=2)
        g.addWidget(self.texts["memo"], row, 0, 1, 2)
        row += 1
        g.setRowStretch(row, 1)
        for key, box in self.texts.items():
            box.committed.connect(lambda text, k=key: self._commit(k, text))
        return w

    def _combo(self, key: str) -> QComboBox:
        combo = QComboBox()
        combo.setObjectName(f"slot_{key}")
        # (as narrow as the form needs: the longest choice in some languages would widen it)
        combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        combo.setMinimumContentsLength(6)
        for value, text in CHOICES[key]:
            combo.addItem(tr(text) if text else "", value)
        combo.activated.connect(lambda _i, k=key, c=combo: self._commit(k, c.currentData()))
        self.combos[key] = combo
        return combo

    # -- showing --

    def set_study(self, study_id: str | None, cmocs: list[rec.Cmoc], coders: dict[str, rec.Coder],
                  own: str | None, codes: dict[str, rec.Code], theories: list[Any],
                  locked: bool, keep: str | None = None) -> None:
        """Show a study's CMOCs; keep the current one selected when it is still there."""
        same_study = study_id == self.study_id
        keep = keep or (self.cmoc.id if self.cmoc and same_study else None)
        self.study_id, self.codes, self._own = study_id, codes, own
        self._theory_records = theories
        self.locked = locked
        self.new_button.setEnabled(bool(study_id) and not locked)
        self.model.set_rows(cmocs, coders, own)
        row = self.model.row_of(keep) if keep else -1
        if row < 0 and self.model.rowCount():
            row = 0
        if row >= 0:
            self.select_cmoc(self.model.cmoc(row).id)  # type: ignore[union-attr]
        else:
            self._show(None)

    def select_cmoc(self, cmoc_id: str) -> None:
        row = self.model.row_of(cmoc_id)
        if row < 0:
            return
        ix = self.model.index(row, 0)
        if self.list.currentIndex() == ix:
            self._show(self.model.cmoc(row))
        else:
            self.list.selectionModel().setCurrentIndex(
                ix, QItemSelectionModel.SelectionFlag.ClearAndSelect)

    def _on_current_changed(self, current: Any, _previous: Any) -> None:
        self._flush()
        cmoc = self.model.cmoc(current.row()) if current.isValid() else None
        self._show(cmoc)
        self.cmoc_selected.emit(cmoc.id if cmoc else "")

    def _flush(self) -> None:
        for box in self.texts.values():
            if box.has_pending():
                box.flush()

    def _show(self, cmoc: rec.Cmoc | None) -> None:
        self.cmoc = cmoc
        self._loading = True
        try:
            editable = cmoc is not None and cmoc.owner_id == self._own and not getattr(
                self, "locked", False)
            self.editor.setEnabled(cmoc is not None)
            self.delete_button.setEnabled(editable)
            for key, box in self.texts.items():
                box.setReadOnly(not editable)
                box.set_saved_text(getattr(cmoc, key) if cmoc else "")
            for key, edit in self.lines.items():
                edit.setReadOnly(not editable)
                value = (getattr(cmoc, key) if cmoc else None) or ""
                if edit.text() != value:
                    edit.setText(value)
            for key, combo in self.combos.items():
                combo.setEnabled(editable)
                combo.setCurrentIndex(max(0, combo.findData(getattr(cmoc, key) if cmoc else None)))
            self.codes_button.setEnabled(editable)
            self.link_button.setEnabled(editable)
            self.unlink_button.setEnabled(editable)
            self.theories.setEnabled(editable)
            names = [self.codes[c].name or "" for c in (cmoc.code_ids if cmoc else ())
                     if c in self.codes]
            self.codes_label.setText(" · ".join(escape(tr(n)) for n in names) if names else
                                     f"<span style='color:#90a4ae'>{tr('No codes yet')}</span>")
            self._fill_evidence(cmoc)
            self._fill_theories(cmoc)
        finally:
            self._loading = False

    def _fill_evidence(self, cmoc: rec.Cmoc | None) -> None:
        self.evidence.clear()
        if cmoc is None:
            return
        for ex, slot in desk.cmoc_evidence(self.actions.session, cmoc.id):
            quote = " ".join((ex.quote or "").split())
            item = QListWidgetItem(swatch(role_color(slot or ex.role).name()),
                                   f"{role_label(slot or ex.role)} · p. {ex.page or '?'} — {quote}")
            item.setData(Qt.ItemDataRole.UserRole, ex.id)
            item.setToolTip(plain_tip(ex.quote))
            self.evidence.addItem(item)

    def _fill_theories(self, cmoc: rec.Cmoc | None) -> None:
        self.theories.blockSignals(True)
        self.theories.clear()
        self.relation_boxes = {}
        linked = dict(cmoc.theories if cmoc else ())
        for t in getattr(self, "_theory_records", []):
            item = QTreeWidgetItem(self.theories, [t.label or ""])
            item.setToolTip(0, plain_tip(t.statement))
            item.setData(0, Qt.ItemDataRole.UserRole, t.id)
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            item.setCheckState(0, Qt.CheckState.Checked if t.id in linked
                               else Qt.CheckState.Unchecked)
            if t.id in linked:
                combo = QComboBox()
                for value, text in RELATIONS:
                    combo.addItem(tr(text), value)
                combo.setCurrentIndex(max(0, combo.findData(linked[t.id])))
                combo.setToolTip(tr("How this CMOC bears on the theory"))
                combo.activated.connect(
                    lambda _i, tid=t.id, c=combo: self.set_relation(tid, c.currentData()))
                self.theories.setItemWidget(item, 1, combo)
                self.relation_boxes[t.id] = combo
        self.theories.blockSignals(False)

    # -- editing --

    def _commit(self, key: str, value: Any) -> None:
        if self._loading or self.cmoc is None:
            return
        if isinstance(value, str):
            value = value.strip() or None
        old = getattr(self.cmoc, key)
        if old == value:
            return
        self.actions.update_cmoc(self.cmoc.id, key, old, value)

    def new_cmoc(self) -> str | None:
        if not self.study_id:
            return None
        cid = self.actions.create_cmoc(self.study_id, list(self.selected_excerpts))
        if cid:
            self.select_cmoc(cid)
            self.texts["statement"].setFocus()
        return cid

    def delete_current(self) -> None:
        if self.cmoc and self.dialogs.confirm(tr("Delete this CMOC? You can undo with Ctrl+Z.")):
            self.actions.delete_cmoc(self.cmoc.id)

    def link_excerpts(self, excerpt_ids: list[str], slot: str | None) -> None:
        if self.cmoc is None:
            if not self.study_id or not excerpt_ids:
                return
            self.actions.create_cmoc(self.study_id, excerpt_ids)
            return
        if excerpt_ids:
            self.actions.link_excerpts(self.cmoc.id, excerpt_ids, slot)

    def unlink_current(self) -> None:
        item = self.evidence.currentItem()
        if self.cmoc and item:
            self.actions.unlink_excerpt(self.cmoc.id, item.data(Qt.ItemDataRole.UserRole))

    def choose_codes(self) -> None:
        if self.cmoc is None:
            return
        chosen = self.dialogs.choose_codes(list(self.codes.values()), self.cmoc.code_ids,
                                           tr("Codes for this CMOC"))
        if chosen is not None and set(chosen) != set(self.cmoc.code_ids):
            self.actions.set_cmoc_codes(self.cmoc.id, list(self.cmoc.code_ids), chosen)

    def _theory_toggled(self, item: QTreeWidgetItem, column: int = 0) -> None:
        """A tick or untick; acted on at the next turn of the event loop.

        Acting inside ``itemChanged`` would open a dialog and rebuild the tree while Qt is still
        delivering the click to the item being deleted, which crashes the desk.
        """
        if self._loading or self.cmoc is None or column != 0:
            return
        tick = (self.cmoc.id, item.data(0, Qt.ItemDataRole.UserRole),
                item.checkState(0) == Qt.CheckState.Checked, item.text(0))
        QTimer.singleShot(0, self, lambda: self._apply_theory_tick(*tick))

    def _apply_theory_tick(self, cmoc_id: str, theory_id: str, checked: bool, label: str) -> None:
        if self.cmoc is None or self.cmoc.id != cmoc_id:
            return  # another CMOC is shown by now; its tree was built from the saved links
        if checked == (theory_id in dict(self.cmoc.theories)):
            return
        if not checked:
            self.actions.set_theory(cmoc_id, theory_id, False)
            return
        relation = self.dialogs.choose_item(
            tr("Link programme theory"),
            tr("How does this CMOC bear on {theory}?").format(theory=label),
            [(value, tr(text)) for value, text in RELATIONS])
        if self.cmoc is None or self.cmoc.id != cmoc_id:
            return
        if relation is None:
            self._fill_theories(self.cmoc)  # cancelled: the tick goes away again
            return
        self._push_theory_link(theory_id, relation, None, tr("Link theory"))

    def set_relation(self, theory_id: str, relation: str) -> bool:
        """Change how this CMOC bears on a theory it is linked to; Ctrl+Z undoes it."""
        if self._loading or self.cmoc is None:
            return False
        old = dict(self.cmoc.theories).get(theory_id)
        if old == relation:
            return False
        # a link saved without a relation counted as support, so undo goes back to that
        return self._push_theory_link(theory_id, relation,
                                      old or rec.TheoryRelation.SUPPORTS.value,
                                      tr("Change theory relation"))

    def _push_theory_link(self, theory_id: str, relation: str, old: str | None,
                          text: str) -> bool:
        """Link with ``relation`` now; undo restores ``old`` or, when None, unlinks."""
        return self.actions.link_theory(self.cmoc.id, theory_id, relation, old,  # type: ignore[union-attr]
                                        text)

    def current_id(self) -> str | None:
        return self.cmoc.id if self.cmoc else None

    def all_cmoc_ids(self) -> list[str]:
        return [self.model.index(r, 0).data(ID_ROLE) for r in range(self.model.rowCount())]
