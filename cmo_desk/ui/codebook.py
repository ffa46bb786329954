"""The codebook: a tree of codes in C/M/O colours; add, rename, move and merge."""

from __future__ import annotations

from PySide6.QtCore import QPoint, Qt, Signal
from PySide6.QtCore import QMimeData
from PySide6.QtGui import QDropEvent
from PySide6.QtWidgets import (
    QAbstractItemView, QHBoxLayout, QHeaderView, QLineEdit, QMenu, QToolButton, QTreeWidget,
    QTreeWidgetItem, QVBoxLayout, QWidget,
)

from cmo_desk.domain import records as rec
from cmo_desk.domain.i18n import tr
from cmo_desk.services import coding
from cmo_desk.ui.dialogs import Dialogs, fill_code_tree, filter_tree
from cmo_desk.ui.theme import ROLE_ORDER, role_label
from cmo_desk.ui.coding_actions import CodingActions


CODE_MIME = "application/x-cmo-desk-code-id"


class CodeTree(QTreeWidget):
    """Dragging a code onto another makes it a child; onto empty space, a top-level code."""

    code_moved = Signal(str, object)  # code id, new parent id or None

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setColumnCount(2)
        self.setHeaderHidden(True)
        self.header().setStretchLastSection(False)
        self.header().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.header().setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
        self.setDragDropMode(QAbstractItemView.DragDropMode.InternalMove)
        self.setIndentation(14)
        self.setAnimated(True)

    def mimeData(self, items: list[QTreeWidgetItem]) -> QMimeData:  # type: ignore[override]
        """A dragged code also carries its id, so it can be dropped on selected text."""
        mime = super().mimeData(items)
        ids = [i.data(0, Qt.ItemDataRole.UserRole) for i in items]
        if ids and ids[0]:
            mime.setData(CODE_MIME, str(ids[0]).encode("utf-8"))
        return mime

    def dropEvent(self, event: QDropEvent) -> None:
        source = self.currentItem()
        target = self.itemAt(event.position().toPoint())
        event.ignore()  # the tree is rebuilt from the project, not moved in place
        if source is None:
            return
        pos = self.dropIndicatorPosition()
        if target is None or pos == QAbstractItemView.DropIndicatorPosition.OnViewport:
            parent = None
        elif pos == QAbstractItemView.DropIndicatorPosition.OnItem:
            parent = target
        else:
            parent = target.parent()
        parent_id = parent.data(0, Qt.ItemDataRole.UserRole) if parent else None
        self.code_moved.emit(source.data(0, Qt.ItemDataRole.UserRole), parent_id)


class CodebookPanel(QWidget):
    mark_with_code = Signal(str)  # code id
    retrieve_code = Signal(str)  # code id: list every passage coded with it

    def __init__(self, actions: CodingActions, dialogs: Dialogs,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.actions, self.dialogs = actions, dialogs
        self.codes: dict[str, rec.Code] = {}
        lay = QVBoxLayout(self)
        lay.setContentsMargins(4, 4, 4, 4)
        top = QHBoxLayout()
        self.filter = QLineEdit()
        self.filter.setPlaceholderText(tr("Filter codes…"))
        self.filter.setClearButtonEnabled(True)
        top.addWidget(self.filter, 1)
        self.add_button = QToolButton()
        self.add_button.setText("+")
        self.add_button.setToolTip(tr("Add a code"))
        self.add_button.clicked.connect(lambda: self.add_code(self._current_id()))
        top.addWidget(self.add_button)
        lay.addLayout(top)
        self.tree = CodeTree()
        self.tree.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.tree.customContextMenuRequested.connect(self._menu)
        self.tree.code_moved.connect(self.move_code)
        self.tree.itemDoubleClicked.connect(
            lambda item, _c: self.mark_with_code.emit(item.data(0, Qt.ItemDataRole.UserRole)))
        lay.addWidget(self.tree, 1)
        self.filter.textChanged.connect(lambda t: filter_tree(self.tree, t))
        self._expanded: set[str] | None = None

    def set_codes(self, codes: list[rec.Code], counts: dict[str, int]) -> None:
        expanded = self._expanded_ids() if self.tree.topLevelItemCount() else None
        current = self._current_id()
        self.codes = {c.id: c for c in codes}
        items = fill_code_tree(self.tree, codes, None, counts)
        for cid, item in items.items():
            if expanded is None:
                item.setExpanded(item.parent() is None)
            else:
                item.setExpanded(cid in expanded)
            item.setForeground(1, Qt.GlobalColor.gray)
        if current in items:
            self.tree.setCurrentItem(items[current])
        if self.filter.text():
            filter_tree(self.tree, self.filter.text())

    def _expanded_ids(self) -> set[str]:
        out = set()
        stack = [self.tree.topLevelItem(i) for i in range(self.tree.topLevelItemCount())]
        while stack:
            item = stack.pop()
            if item.isExpanded():
                out.add(item.data(0, Qt.ItemDataRole.UserRole))
            stack.extend(item.child(i) for i in range(item.childCount()))
        return out

    def _current_id(self) -> str | None:
        item = self.tree.currentItem()
        return item.data(0, Qt.ItemDataRole.UserRole) if item else None

    def _menu(self, pos: QPoint) -> None:
        item: QTreeWidgetItem | None = self.tree.itemAt(pos)
        cid = item.data(0, Qt.ItemDataRole.UserRole) if item else None
        menu = QMenu(self)
        if cid:
            menu.addAction(tr("Mark selected text with this code"),
                           lambda: self.mark_with_code.emit(cid))
            menu.addAction(tr("Retrieve passages with this code…"),
                           lambda: self.retrieve_code.emit(cid))
            menu.addSeparator()
        menu.addAction(tr("Add code…"), lambda: self.add_code(None))
        if cid:
            menu.addAction(tr("Add sub-code…"), lambda: self.add_code(cid))
            menu.addAction(tr("Rename…"), lambda: self.rename_code(cid))
            menu.addAction(tr("Edit definition…"), lambda: self.edit_definition(cid))
            kinds = menu.addMenu(tr("Kind"))
            for kind in ROLE_ORDER:
                kinds.addAction(role_label(kind), lambda k=kind: self._update(cid, {"kind": k}))
            menu.addAction(tr("Move to…"), lambda: self.move_code_to(cid))
            menu.addAction(tr("Merge into…"), lambda: self.merge_code(cid))
            menu.addSeparator()
            menu.addAction(tr("Delete code"), lambda: self.delete_code(cid))
        menu.exec(self.tree.viewport().mapToGlobal(pos))

    def _update(self, cid: str, values: dict[str, object]) -> None:
        self.actions.run(lambda: coding.update_code(self.actions.session, cid, values))

    def add_code(self, parent_id: str | None) -> None:
        name = self.dialogs.ask_text(tr("Add code"), tr("Name of the new code"))
        if not name:
            return
        kind = self.codes[parent_id].kind if parent_id in self.codes else "other"
        self.actions.run(lambda: coding.add_code(self.actions.session, name, kind or "other",
                                                 parent_id))

    def rename_code(self, cid: str) -> None:
        name = self.dialogs.ask_text(tr("Rename code"), tr("New name"),
                                     self.codes[cid].name or "")
        if name:
            self._update(cid, {"name": name})

    def edit_definition(self, cid: str) -> None:
        text = self.dialogs.ask_multiline(tr("Definition"), self.codes[cid].name or "",
                                          self.codes[cid].definition or "")
        if text is not None:
            self._update(cid, {"definition": text.strip() or None})

    def move_code(self, cid: str, parent_id: str | None) -> None:
        if cid in self.codes and self.codes[cid].parent_id != parent_id and cid != parent_id:
            self._update(cid, {"parent_id": parent_id})

    def move_code_to(self, cid: str) -> None:
        others = [c for c in self.codes.values() if c.id != cid]
        target = self.dialogs.choose_code(others, tr("Move “{name}” under…").format(
            name=self.codes[cid].name))
        if target:
            self.move_code(cid, target)

    def merge_code(self, cid: str) -> None:
        others = [c for c in self.codes.values() if c.id != cid]
        target = self.dialogs.choose_code(others, tr("Merge “{name}” into…").format(
            name=self.codes[cid].name))
        if target and self.dialogs.confirm(tr(
                "Merge “{a}” into “{b}”? Every excerpt and CMOC coded with the first will be "
                "coded with the second.").format(a=self.codes[cid].name,
                                                  b=self.codes[target].name)):
            self.actions.run(lambda: coding.merge_codes(self.actions.session, cid, target))

    def delete_code(self, cid: str) -> None:
        if self.dialogs.confirm(tr("Delete the code “{name}”?").format(name=self.codes[cid].name)):
            self.actions.run(lambda: coding.delete_code(self.actions.session, cid))
