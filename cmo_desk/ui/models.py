"""Qt item models over immutable records: they hold ids and snapshots, never a session."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import (
    QAbstractListModel, QAbstractTableModel, QMimeData, QModelIndex, QPersistentModelIndex,
    QSortFilterProxyModel, Qt,
)
from PySide6.QtGui import QColor, QFont

from cmo_desk.domain import records as rec
from cmo_desk.domain.i18n import tr
from cmo_desk.domain.initials import with_unique_initials
from cmo_desk.services.desk import StudyListItem
from cmo_desk.ui.plain import plain_tip
from cmo_desk.ui.theme import coder_colors, role_color, role_label, swatch

ID_ROLE = Qt.ItemDataRole.UserRole
SORT_ROLE = Qt.ItemDataRole.UserRole + 1
EXCERPT_MIME = "application/x-cmo-desk-excerpts"
Index = QModelIndex | QPersistentModelIndex

STATUS_MARK = {"submitted": "✓", "draft": "✎", "assigned": "○"}


def status_text(status: str) -> str:
    return {"submitted": tr("submitted"), "draft": tr("in progress"),
            "assigned": tr("assigned")}.get(status, status)


class _RecordTable(QAbstractTableModel):
    """A table of immutable records (``_rows``) with translated column headings."""

    COLUMNS: tuple[str, ...] = ()

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self._rows: list[Any] = []

    def record(self, row: int) -> Any:
        return self._rows[row] if 0 <= row < len(self._rows) else None

    def row_of(self, record_id: str) -> int:
        return next((i for i, r in enumerate(self._rows) if r.id == record_id), -1)

    def rowCount(self, parent: Index = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: Index = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self.COLUMNS)

    def headerData(self, section: int, orientation: Qt.Orientation,
                   role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if (orientation == Qt.Orientation.Horizontal
                and role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ToolTipRole)
                and 0 <= section < len(self.COLUMNS)):
            return tr(self.COLUMNS[section])  # (the tooltip: a narrow column shortens its title)
        return None


class StudyTableModel(_RecordTable):
    """Studies: label, year, countries and each coder's progress."""

    COLUMNS = ("Study", "Year", "Countries", "Coders")

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self._rows: list[StudyListItem] = []
        self._coders: dict[str, rec.Coder] = {}
        self._marks: dict[str, str] = {}

    def set_rows(self, rows: list[StudyListItem], coders: list[rec.Coder]) -> None:
        self.beginResetModel()
        self._rows = list(rows)
        self._coders = {c.id: c for c in with_unique_initials(coders)}
        self._marks = {}
        self.endResetModel()

    def update_rows(self, rows: list[StudyListItem]) -> bool:
        """Replace the rows of these studies in place; False when one is not listed (the list
        must then be read again)."""
        where = {r.id: i for i, r in enumerate(self._rows)}
        if any(r.id not in where for r in rows):
            return False
        for new in rows:
            i = where[new.id]
            if self._rows[i] != new:
                self._rows[i] = new
                self._marks.pop(new.id, None)
                self.dataChanged.emit(self.index(i, 0), self.index(i, len(self.COLUMNS) - 1))
        return True

    def study(self, row: int) -> StudyListItem | None:
        return self.record(row)

    def _coder_marks(self, row: StudyListItem) -> str:
        # asked for on every paint and every sort comparison: worked out once per row
        found = self._marks.get(row.id)
        if found is None:
            found = self._marks[row.id] = self._work_out_marks(row)
        return found

    def _work_out_marks(self, row: StudyListItem) -> str:
        marks = []
        for cid, status in sorted(row.status.items(),
                                  key=lambda kv: (self._coders.get(kv[0]) or rec.Coder(kv[0])).name
                                  or ""):
            coder = self._coders.get(cid)
            initials = (coder.initials if coder else None) or "?"
            marks.append(f"{initials}{STATUS_MARK.get(status, '')}")
        return " ".join(marks)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._rows):
            return None
        r = self._rows[index.row()]
        col = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            return (r.label, str(r.year or ""), ", ".join(tr(c) for c in r.countries),
                    self._coder_marks(r))[col]
        if role == SORT_ROLE:
            return (r.label.casefold(), r.year or 0, ", ".join(r.countries).casefold(),
                    self._coder_marks(r))[col]
        if role == ID_ROLE:
            return r.id
        if role == Qt.ItemDataRole.ToolTipRole:
            lines = [r.label]
            for cid, status in r.status.items():
                coder = self._coders.get(cid)
                lines.append(f"{coder.name if coder else cid}: {status_text(status)}")
            if not r.has_text:
                lines.append(tr("No full text yet"))
            return plain_tip("\n".join(lines))
        if role == Qt.ItemDataRole.ForegroundRole and not r.has_text:
            return QColor("#90a4ae")
        if role == Qt.ItemDataRole.TextAlignmentRole and col == 1:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None


class StudyFilterModel(QSortFilterProxyModel):
    """Filter studies by any word in their label, year, countries or coders."""

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self.setSortRole(SORT_ROLE)
        self.setFilterCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        self.setFilterKeyColumn(-1)


class ExcerptTableModel(_RecordTable):
    """A study's excerpts: role, page, quote, codes and memo; rows can be dragged onto a CMOC."""

    COLUMNS = ("Role", "Page", "Quote", "Codes", "Memo")

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self._rows: list[rec.Excerpt] = []
        self._codes: dict[str, rec.Code] = {}
        self._coders: dict[str, rec.Coder] = {}
        self._colors: dict[str, str] = {}
        self._own: str | None = None

    def set_rows(self, excerpts: list[rec.Excerpt], codes: dict[str, rec.Code],
                 coders: dict[str, rec.Coder], own_coder: str | None) -> None:
        self.beginResetModel()
        self._rows = sorted(excerpts, key=lambda e: (e.start or 0, e.end or 0, e.id))
        self._codes, self._coders, self._own = codes, coders, own_coder
        self._colors = coder_colors(coders)
        self.endResetModel()

    def excerpt(self, row: int) -> rec.Excerpt | None:
        return self.record(row)

    def code_names(self, ex: rec.Excerpt) -> str:
        return ", ".join(tr(self._codes[c].name or "") for c in ex.code_ids if c in self._codes)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._rows):
            return None
        ex = self._rows[index.row()]
        col = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            quote = " ".join((ex.quote or "").split())
            return (role_label(ex.role), str(ex.page or ""), quote, self.code_names(ex),
                    ex.memo or "")[col]
        if role == ID_ROLE:
            return ex.id
        if role == Qt.ItemDataRole.DecorationRole and col == 0:
            return swatch(role_color(ex.role).name())
        if role == Qt.ItemDataRole.ToolTipRole:
            owner = self._coders.get(ex.owner_id or "")
            text = f"“{ex.quote}”"
            if owner and ex.owner_id != self._own:
                text += "\n— " + (owner.name or "")
            return plain_tip(text)
        if role == Qt.ItemDataRole.ForegroundRole and ex.owner_id != self._own:
            return QColor(self._colors.get(ex.owner_id or "", "#777")).darker(150)
        return None

    def flags(self, index: Index) -> Qt.ItemFlag:
        base = super().flags(index)
        if index.isValid():
            base |= Qt.ItemFlag.ItemIsDragEnabled
        return base

    def mimeTypes(self) -> list[str]:
        return [EXCERPT_MIME]

    def mimeData(self, indexes: list[QModelIndex]) -> QMimeData:
        ids: list[str] = []
        for ix in indexes:
            ex = self.excerpt(ix.row())
            if ex and ex.id not in ids:
                ids.append(ex.id)
        mime = QMimeData()
        mime.setData(EXCERPT_MIME, "\n".join(ids).encode())
        mime.setText("\n\n".join(self._rows[self.row_of(i)].quote or "" for i in ids))
        return mime

    def supportedDragActions(self) -> Qt.DropAction:
        return Qt.DropAction.CopyAction | Qt.DropAction.LinkAction


def excerpt_ids_from_mime(mime: QMimeData) -> list[str]:
    if not mime.hasFormat(EXCERPT_MIME):
        return []
    raw = bytes(mime.data(EXCERPT_MIME).data()).decode("utf-8", "replace")
    return [i for i in raw.split("\n") if i]


def cmoc_title(cmoc: rec.Cmoc | None, number: int) -> str:
    if cmoc is None:
        return ""
    summary = cmoc.statement or cmoc.outcome or cmoc.mechanism_reasoning or cmoc.context or ""
    summary = " ".join(summary.split())
    if len(summary) > 90:
        summary = summary[:89] + "…"
    return f"CMOC {number}" + (f" · {summary}" if summary else "")


class CmocListModel(QAbstractListModel):
    """A study's CMOCs, numbered, with owner colour when other coders' work is shown."""

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self._rows: list[rec.Cmoc] = []
        self._coders: dict[str, rec.Coder] = {}
        self._colors: dict[str, str] = {}
        self._own: str | None = None

    def set_rows(self, cmocs: list[rec.Cmoc], coders: dict[str, rec.Coder],
                 own_coder: str | None) -> None:
        self.beginResetModel()
        self._rows = sorted(cmocs, key=lambda c: (c.owner_id != own_coder, c.owner_id or "",
                                                  c.sort_order or 0, c.id))
        self._coders = {c.id: c for c in with_unique_initials(coders.values())}
        self._own = own_coder
        self._colors = coder_colors(coders)
        self.endResetModel()

    def cmoc(self, row: int) -> rec.Cmoc | None:
        return self._rows[row] if 0 <= row < len(self._rows) else None

    def row_of(self, cmoc_id: str) -> int:
        return next((i for i, c in enumerate(self._rows) if c.id == cmoc_id), -1)

    def rowCount(self, parent: Index = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self._rows)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._rows) or index.column() != 0:
            return None
        c = self._rows[index.row()]
        owner = self._coders.get(c.owner_id or "")
        mine = c.owner_id == self._own
        if role == Qt.ItemDataRole.DisplayRole:
            title = cmoc_title(c, index.row() + 1)
            if not mine and owner:
                title = f"[{owner.initials}] {title}"
            return title
        if role == ID_ROLE:
            return c.id
        if role == Qt.ItemDataRole.ToolTipRole:
            parts = [c.statement or ""]
            if owner:
                parts.append(tr("Coder: {name}").format(name=owner.name))
            parts.append(tr("Status: {status}").format(status=tr(c.status or "draft")))
            return plain_tip("\n".join(p for p in parts if p))
        if role == Qt.ItemDataRole.DecorationRole:
            return swatch("#3949ab" if mine else self._colors.get(c.owner_id or "", "#777"))
        if role == Qt.ItemDataRole.ForegroundRole and not mine:
            return QColor(self._colors.get(c.owner_id or "", "#777")).darker(150)
        if role == Qt.ItemDataRole.FontRole and c.status == "set_aside":
            f = QFont()
            f.setStrikeOut(True)
            return f
        return None
