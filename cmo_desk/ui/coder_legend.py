"""Who is who when other coders' work is shown: each coder's colour, initials and name."""

from __future__ import annotations

from collections.abc import Iterable

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QWidget

from cmo_desk.domain import records as rec
from cmo_desk.domain.i18n import tr
from cmo_desk.ui.plain import escape
from cmo_desk.ui.theme import coder_colors


class CoderLegend(QLabel):
    """A one-line legend under the role buttons; hidden when only one's own work is shown."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("coderLegend")
        self.setTextFormat(Qt.TextFormat.RichText)
        self.setWordWrap(True)
        self.entries: list[tuple[str, str, str]] = []  # (coder id, colour, name)
        self.hide()

    def set_coders(self, coders: dict[str, rec.Coder], shown: Iterable[str],
                   own: str | None) -> None:
        colors = coder_colors(coders)
        others = sorted({cid for cid in shown if cid and cid != own and cid in coders},
                        key=lambda cid: ((coders[cid].name or "").casefold(), cid))
        self.entries = [(cid, colors[cid], coders[cid].name or coders[cid].initials or cid)
                        for cid in others]
        parts = []
        for cid, color, name in self.entries:
            initials = coders[cid].initials or ""
            parts.append(f"<span style='color:{color}; font-size:15px'>■</span>&nbsp;"
                         f"<b>{escape(initials)}</b>&nbsp;{escape(name)}")
        self.setText(f"<span style='color:#607d8b'>{escape(tr('Other coders:'))}</span>&nbsp; "
                     + " &nbsp; ".join(parts) if parts else "")
        self.setVisible(bool(parts))
