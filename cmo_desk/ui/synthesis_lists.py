"""The synthesis window's two lists that a study CMOC is dragged between: the study CMOCs, and
the tree of programme theories and review CMOCs that it is dropped on."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QMimeData, Qt, QTimer
from PySide6.QtWidgets import QAbstractItemView, QListWidget, QListWidgetItem, QTreeWidget

from cmo_desk.domain.i18n import tr
from cmo_desk.domain.records import Consensus

MIME = "application/x-cmo-desk-cmoc"


class StudyCmocList(QListWidget):
    """Study and consensus CMOCs; drag one onto a review CMOC to link it."""

    def __init__(self) -> None:
        super().__init__()
        self.setDragEnabled(True)
        self.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)

    def show_records(self, records: list[Any], shown: set[str], labels: dict[str, str],
                     names: dict[str, str]) -> None:
        """The records whose ids are in ``shown``, by study, coder and order: one line each."""
        self.clear()
        ordered = sorted(records, key=lambda c: (
            labels.get(c.study_id or "", "").casefold(), isinstance(c, Consensus),
            names.get(getattr(c, "owner_id", None) or "", ""), c.sort_order or 0, c.id))
        for item in ordered:
            if item.id not in shown:
                continue
            who = tr("consensus") if isinstance(item, Consensus) else names.get(
                item.owner_id or "", "")
            text = f"{labels.get(item.study_id or '', '')} · {who}: " + (
                item.statement or item.outcome or item.context or "")[:80]
            li = QListWidgetItem(text)
            li.setData(Qt.ItemDataRole.UserRole, item.id)
            li.setToolTip(item.statement or "")
            self.addItem(li)

    def mimeData(self, items: Any) -> QMimeData:  # noqa: N802 - Qt's name
        data = QMimeData()
        data.setData(MIME, "\n".join(i.data(Qt.ItemDataRole.UserRole) for i in items).encode())
        return data

    def mimeTypes(self) -> list[str]:  # noqa: N802
        return [MIME]


class TheoryTree(QTreeWidget):
    """Programme theories and their review CMOCs; accepts dropped study CMOCs."""

    def __init__(self, link: Callable[[str, list[str]], Any]) -> None:
        super().__init__()
        self.link = link
        self.setHeaderLabels([tr("Programme theories and review CMOCs")])
        self.setAcceptDrops(True)
        self.viewport().setAcceptDrops(True)
        self.setDragDropMode(QAbstractItemView.DragDropMode.DropOnly)

    def dragEnterEvent(self, event: Any) -> None:  # noqa: N802
        if event.mimeData().hasFormat(MIME):
            event.acceptProposedAction()
        else:
            event.ignore()

    def dragMoveEvent(self, event: Any) -> None:  # noqa: N802
        item = self.itemAt(event.position().toPoint())
        if event.mimeData().hasFormat(MIME) and item is not None and item.parent() is not None:
            event.acceptProposedAction()
        else:
            event.ignore()

    def dropEvent(self, event: Any) -> None:  # noqa: N802
        item = self.itemAt(event.position().toPoint())
        if not event.mimeData().hasFormat(MIME) or item is None or item.parent() is None:
            event.ignore()
            return
        ids = bytes(event.mimeData().data(MIME)).decode().split("\n")
        event.acceptProposedAction()
        review_id = item.data(0, Qt.ItemDataRole.UserRole)
        # Linking refreshes this tree: do it after Qt has finished with the drop.
        QTimer.singleShot(0, lambda: self.link(review_id, ids))
