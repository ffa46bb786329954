"""The synthesis window's two lists that a study CMOC is dragged between: the study CMOCs, and
the tree of programme theories and review CMOCs that it is dropped on."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QMimeData, Qt, QTimer
from PySide6.QtWidgets import QAbstractItemView, QListWidget, QTreeWidget

from cmo_desk.domain.i18n import tr

MIME = "application/x-cmo-desk-cmoc"


class StudyCmocList(QListWidget):
    """Study and consensus CMOCs; drag one onto a review CMOC to link it."""

    def __init__(self) -> None:
        super().__init__()
        self.setDragEnabled(True)
        self.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)

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
