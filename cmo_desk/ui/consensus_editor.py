"""The consensus wording of a pair of CMOCs, and the slot helpers the reconcile view shares.

The editor is prefilled with coder A's wording; each slot can take A's or B's, or be edited, and
the resolution (agreed, merged, A's, B's) is suggested from what was taken.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QComboBox, QDialog, QDialogButtonBox, QGridLayout, QHBoxLayout, QLabel,
    QPlainTextEdit, QPushButton, QScrollArea, QSizePolicy, QVBoxLayout, QWidget,
)

from cmo_desk.agreement.pairing import Pair
from cmo_desk.domain import records as rec
from cmo_desk.domain.i18n import tr
from cmo_desk.domain.schema import CMOC_SLOTS
from cmo_desk.ui.cmoc_panel import CHOICES
from cmo_desk.ui.theme import ROLE_COLORS
from cmo_desk.ui.window_fit import fit_to_screen

DIFFERENT_BG = "#fff3e0"
SAME_BG = "#ffffff"
QUOTE_CHARS = 90

#: Slots whose values come from a short list; edited with a drop-down, not free text.
CHOICE_SLOTS = {
    "outcome_direction": (None, "+", "-", "mixed"),
    "outcome_intended": (None, "intended", "unintended"),
    "confidence": (None, "high", "moderate", "low"),
}
SLOT_ROLE = {"context": "context", "mechanism_resource": "mechanism",
             "mechanism_reasoning": "mechanism", "outcome": "outcome",
             "intervention": "intervention"}


def slot_titles() -> dict[str, str]:
    return {
        "statement": tr("If … then … because …"),
        "intervention": tr("Intervention"),
        "actor": tr("Actor"),
        "context": tr("Context"),
        "mechanism_resource": tr("Mechanism — resource"),
        "mechanism_reasoning": tr("Mechanism — reasoning"),
        "outcome": tr("Outcome"),
        "outcome_direction": tr("Outcome direction"),
        "outcome_intended": tr("Intended?"),
        "confidence": tr("Confidence"),
    }


def resolution_titles() -> dict[str, str]:
    return {
        rec.Resolution.AGREED.value: tr("Agreed"),
        rec.Resolution.MERGED.value: tr("Merged wording"),
        rec.Resolution.A.value: tr("A's wording"),
        rec.Resolution.B.value: tr("B's wording"),
        rec.Resolution.UNRESOLVED.value: tr("Unresolved"),
    }


#: Slots in the order a realist reads a CMOC: the statement first, then C, M, O.
SLOT_ORDER = ("statement", "intervention", "actor", "context", "mechanism_resource",
              "mechanism_reasoning", "outcome", "outcome_direction", "outcome_intended",
              "confidence")
assert set(SLOT_ORDER) == set(CMOC_SLOTS)


def _text(value: Any) -> str:
    return "" if value is None else str(value)


def shown_value(slot: str, value: Any) -> str:
    """A slot's value as the CMOC form shows it: a choice ("high", "+") in the desk's language."""
    for stored, label in CHOICES.get(slot, ()):
        if stored is not None and stored == value and label:
            return tr(label)
    return _text(value)


def short_text(text: str | None, limit: int = QUOTE_CHARS) -> str:
    flat = " ".join((text or "").split())
    return flat if len(flat) <= limit else flat[:limit - 1] + "…"


def slot_cell(text: str, different: bool, bold: bool = False) -> QLabel:
    label = QLabel(text or "—")
    label.setWordWrap(True)
    label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    label.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
    bg = DIFFERENT_BG if different else SAME_BG
    weight = "font-weight: 600;" if bold else ""
    colour = "#9aa3ad" if not text else "#1c2733"
    label.setStyleSheet(f"background: {bg}; border-radius: 3px; padding: 4px 6px; "
                        f"color: {colour}; {weight}")
    return label


def slot_heading(slot: str) -> QLabel:
    label = QLabel(slot_titles()[slot])
    color = ROLE_COLORS.get(SLOT_ROLE.get(slot, ""), "#37474f")
    label.setStyleSheet(f"font-weight: 600; color: {color}; padding: 4px 4px 0 0;")
    label.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignTop)
    label.setWordWrap(True)
    return label


class ConsensusEditor(QDialog):
    """The consensus wording, prefilled with A's; each slot can take A's or B's, or be edited."""

    def __init__(self, pair: Pair, name_a: str, name_b: str,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.pair = pair
        self.setWindowTitle(tr("Make a consensus CMOC"))
        fit_to_screen(self, 900, 680)
        self._resolution_chosen = False
        self._filling = False
        outer = QVBoxLayout(self)
        intro = QLabel(tr("The consensus CMOC gets its own wording; {a}'s and {b}'s CMOCs stay "
                          "as they are and are kept as its sources.").format(a=name_a, b=name_b))
        intro.setWordWrap(True)
        intro.setObjectName("hint")
        outer.addWidget(intro)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        body = QWidget()
        grid = QGridLayout(body)
        grid.setColumnStretch(1, 1)
        self.editors: dict[str, QPlainTextEdit | QComboBox] = {}
        self.use_a_buttons: dict[str, QPushButton] = {}
        self.use_b_buttons: dict[str, QPushButton] = {}
        different = set(pair.differences)
        row = 0
        for slot in SLOT_ORDER:
            a_val = getattr(pair.a, slot, None) if pair.a else None
            b_val = getattr(pair.b, slot, None) if pair.b else None
            grid.addWidget(slot_heading(slot), row, 0)
            editor: QPlainTextEdit | QComboBox
            if slot in CHOICE_SLOTS:
                editor = QComboBox()
                for choice in CHOICE_SLOTS[slot]:
                    editor.addItem(shown_value(slot, choice), choice)
                editor.currentIndexChanged.connect(self._suggest_resolution)
            else:
                editor = QPlainTextEdit()
                editor.setFixedHeight(74 if slot == "statement" else 48)
                editor.textChanged.connect(self._suggest_resolution)
            self.editors[slot] = editor
            cell = QVBoxLayout()
            cell.setSpacing(2)
            cell.addWidget(editor)
            if slot in different:
                # B's wording stays in view while A's prefilled wording is edited
                other = QLabel(tr("{name}: {text}").format(name=name_b,
                                                          text=shown_value(slot, b_val) or tr("(empty)")))
                other.setWordWrap(True)
                other.setStyleSheet(f"background: {DIFFERENT_BG}; color: #5d4037; "
                                    "padding: 2px 6px; border-radius: 3px;")
                cell.addWidget(other)
            grid.addLayout(cell, row, 1)
            buttons = QHBoxLayout()
            use_a = QPushButton(tr("{name}'s").format(name=name_a))
            use_b = QPushButton(tr("{name}'s").format(name=name_b))
            use_a.setToolTip(tr("Use {name}'s wording: {text}").format(
                name=name_a, text=shown_value(slot, a_val) or tr("(empty)")))
            use_b.setToolTip(tr("Use {name}'s wording: {text}").format(
                name=name_b, text=shown_value(slot, b_val) or tr("(empty)")))
            use_a.clicked.connect(lambda _=False, s=slot: self.use_a(s))
            use_b.clicked.connect(lambda _=False, s=slot: self.use_b(s))
            for b in (use_a, use_b):
                b.setEnabled(slot in different)
                buttons.addWidget(b)
            self.use_a_buttons[slot], self.use_b_buttons[slot] = use_a, use_b
            grid.addLayout(buttons, row, 2, Qt.AlignmentFlag.AlignTop)
            row += 1
        scroll.setWidget(body)
        outer.addWidget(scroll, 1)

        form = QGridLayout()
        form.addWidget(QLabel(tr("Resolution")), 0, 0)
        self.resolution = QComboBox()
        titles = resolution_titles()
        titles[rec.Resolution.A.value] = tr("{name}'s wording (A)").format(name=name_a)
        titles[rec.Resolution.B.value] = tr("{name}'s wording (B)").format(name=name_b)
        for value, title in titles.items():
            self.resolution.addItem(title, value)
        self.resolution.activated.connect(self._resolution_touched)
        form.addWidget(self.resolution, 0, 1)
        form.addWidget(QLabel(tr("Note")), 1, 0, Qt.AlignmentFlag.AlignTop)
        self.note = QPlainTextEdit()
        self.note.setPlaceholderText(tr("Why the team settled on this wording (optional)"))
        self.note.setFixedHeight(54)
        form.addWidget(self.note, 1, 1)
        form.setColumnStretch(1, 1)
        outer.addLayout(form)
        box = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok
                               | QDialogButtonBox.StandardButton.Cancel)
        box.button(QDialogButtonBox.StandardButton.Ok).setText(tr("Create consensus CMOC"))
        box.button(QDialogButtonBox.StandardButton.Cancel).setText(tr("Cancel"))
        box.accepted.connect(self.accept)
        box.rejected.connect(self.reject)
        outer.addWidget(box)

        self._filling = True
        first = pair.a or pair.b
        for slot in SLOT_ORDER:
            self._set(slot, getattr(first, slot, None))
        self._filling = False
        self._suggest_resolution()

    def _set(self, slot: str, value: Any) -> None:
        editor = self.editors[slot]
        if isinstance(editor, QComboBox):
            index = editor.findData(value)
            if index < 0 and value:
                editor.addItem(str(value), value)
                index = editor.count() - 1
            editor.setCurrentIndex(max(0, index))
        else:
            editor.setPlainText(_text(value))

    def use_a(self, slot: str) -> None:
        self._set(slot, getattr(self.pair.a, slot, None) if self.pair.a else None)

    def use_b(self, slot: str) -> None:
        self._set(slot, getattr(self.pair.b, slot, None) if self.pair.b else None)

    def set_text(self, slot: str, text: str) -> None:
        self._set(slot, text)

    def values(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for slot, editor in self.editors.items():
            if isinstance(editor, QComboBox):
                out[slot] = editor.currentData()
            else:
                out[slot] = editor.toPlainText().strip() or None
        return out

    def resolution_value(self) -> str:
        return str(self.resolution.currentData())

    def set_resolution(self, value: str) -> None:
        self.resolution.setCurrentIndex(self.resolution.findData(value))
        self._resolution_chosen = True

    def note_text(self) -> str | None:
        return self.note.toPlainText().strip() or None

    def _resolution_touched(self, _index: int) -> None:
        self._resolution_chosen = True

    def _suggest_resolution(self, *_: Any) -> None:
        """Until the user picks one, the resolution follows what the wording says it is."""
        if self._filling or self._resolution_chosen:
            return
        norm = lambda v: " ".join(_text(v).split())  # noqa: E731
        mine = {s: norm(v) for s, v in self.values().items()}
        same_a = self.pair.a is not None and all(
            mine[s] == norm(getattr(self.pair.a, s, None)) for s in SLOT_ORDER)
        same_b = self.pair.b is not None and all(
            mine[s] == norm(getattr(self.pair.b, s, None)) for s in SLOT_ORDER)
        if same_a and same_b:
            value = rec.Resolution.AGREED.value
        elif same_a:
            value = rec.Resolution.A.value
        elif same_b:
            value = rec.Resolution.B.value
        else:
            value = rec.Resolution.MERGED.value
        self.resolution.setCurrentIndex(self.resolution.findData(value))
