"""The review CMOC editor of the synthesis workspace: its fields, what they hold, and what the
user changed there and has not saved yet (kept as typed when the workspace reads the project
again)."""

from __future__ import annotations

from typing import Any

from PySide6.QtWidgets import (
    QAbstractItemView, QComboBox, QFormLayout, QGridLayout, QHBoxLayout, QHeaderView, QLabel,
    QLineEdit, QPlainTextEdit, QPushButton, QTableWidget, QWidget,
)

from cmo_desk.domain import records as rec
from cmo_desk.domain.i18n import tr
from cmo_desk.domain.synthesis import COMPONENTS, CONCERNS, CONFIDENCE_LEVELS, suggested_confidence

_SLOT_LABELS = (("context", "Context"), ("mechanism_resource", "Mechanism: resource"),
                ("mechanism_reasoning", "Mechanism: reasoning"), ("outcome", "Outcome"),
                ("outcome_direction", "Outcome direction (+, -, mixed)"),
                ("statement", "If–then–because statement"))


class ReviewCmocEditing:
    """The editor's part of the synthesis workspace (``SynthesisView``): the workspace gives
    the slots its buttons call (save, note, unlink) and what happens when a link is chosen."""

    save_review: Any
    _unlink_selected: Any
    _edit_note: Any
    _link_row_changed: Any

    def _build_editor(self) -> QWidget:
        w = QWidget()
        form = QFormLayout(w)
        # A long label ("Outcome direction …" in Russian) goes above its field, not beside it.
        form.setRowWrapPolicy(QFormLayout.RowWrapPolicy.WrapLongRows)
        self.label_view = QLabel()
        form.addRow(tr("Label"), self.label_view)
        self.slot_edits: dict[str, QLineEdit | QPlainTextEdit] = {}
        for key, label in _SLOT_LABELS:
            edit: QLineEdit | QPlainTextEdit
            if key == "statement":
                edit = QPlainTextEdit()
                edit.setMaximumHeight(60)
            else:
                edit = QLineEdit()
            self.slot_edits[key] = edit
            form.addRow(tr(label), edit)
        self.confidence = QComboBox()
        self.confidence.addItem(tr("Not judged"), None)
        names = {"high": tr("High"), "moderate": tr("Moderate"), "low": tr("Low"),
                 "very_low": tr("Very low")}
        for c in CONFIDENCE_LEVELS:
            self.confidence.addItem(names[c], c)
        form.addRow(tr("Confidence"), self.confidence)
        # The components of the documented scheme (docs/synthesis.md), one drop-down each.
        comp = QWidget()
        grid = QGridLayout(comp)
        grid.setContentsMargins(0, 0, 0, 0)
        grid.setVerticalSpacing(0)
        concern_names = {"none": tr("no concerns"), "minor": tr("minor concerns"),
                         "moderate": tr("moderate concerns"), "serious": tr("serious concerns")}
        comp_names = {"relevance": tr("relevance"), "richness": tr("richness"),
                      "rigour": tr("rigour"), "coherence": tr("coherence"),
                      "adequacy": tr("adequacy")}
        self.components: dict[str, QComboBox] = {}
        for i, key in enumerate(COMPONENTS):
            # three to a row, so each concern is shown whole at 1366 pixels in any language
            row, col = 2 * (i // 3), i % 3
            grid.addWidget(QLabel(comp_names[key]), row, col)
            combo = QComboBox()
            combo.addItem("—", None)
            for c in CONCERNS:
                combo.addItem(concern_names[c], c)
            # Cap the width a long translation asks for; the grid's width shows the text.
            combo.setSizeAdjustPolicy(
                QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
            combo.setMinimumContentsLength(10)
            combo.currentIndexChanged.connect(self._components_changed)
            grid.addWidget(combo, row + 1, col)
            self.components[key] = combo
        form.addRow(tr("Concerns"), comp)
        self.suggestion = QLabel()
        self.suggestion.setWordWrap(True)
        self.suggestion.setObjectName("hint")
        form.addRow("", self.suggestion)
        self.basis = QPlainTextEdit()
        self.basis.setMaximumHeight(50)
        self.basis.setPlaceholderText(tr("What the confidence rests on: relevance, richness "
                                         "and rigour of the studies; coherence; adequacy"))
        form.addRow(tr("Basis"), self.basis)
        self.save_button = QPushButton(tr("Save review CMOC"))
        self.save_button.clicked.connect(self.save_review)
        form.addRow("", self.save_button)
        self.links_view = QTableWidget(0, 5)
        self.links_view.setHorizontalHeaderLabels(
            [tr("Study"), tr("Relation"), tr("By"), tr("Study CMOC"), tr("Note")])
        self.links_view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        # every column in sight: the short ones as wide as their text, the wordings share the rest
        links_header = self.links_view.horizontalHeader()
        for col, mode in enumerate((QHeaderView.ResizeMode.ResizeToContents,) * 3
                                   + (QHeaderView.ResizeMode.Stretch,) * 2):
            links_header.setSectionResizeMode(col, mode)
        form.addRow(tr("Evidence"), self.links_view)
        self.links_view.currentCellChanged.connect(lambda *_: self._link_row_changed())
        self.unlink_button = QPushButton(tr("Remove selected link"))
        self.unlink_button.clicked.connect(self._unlink_selected)
        self.note_button = QPushButton(tr("Note on selected link…"))
        self.note_button.clicked.connect(self._edit_note)
        row = QHBoxLayout()
        row.addWidget(self.note_button)
        row.addWidget(self.unlink_button)
        form.addRow("", row)
        return w

    def assessment(self) -> dict[str, str]:
        return {k: c.currentData() for k, c in self.components.items() if c.currentData()}

    def _components_changed(self) -> None:
        level = suggested_confidence(self.assessment())
        names = {"high": tr("High"), "moderate": tr("Moderate"), "low": tr("Low"),
                 "very_low": tr("Very low")}
        self.suggestion.setText(tr("The scheme suggests: {level}").format(
            level=names[level]) if level else "")

    def _pending_edits(self) -> tuple[str, dict[str, tuple[Any, Any]]] | None:
        """What the user changed in the review CMOC shown and has not saved: its id and, per
        field, (the value the editor was filled with, the value now); None when nothing."""
        shown = getattr(self, "_shown", None)
        if shown is None:
            return None
        rid, before = shown
        now = self._editor_values()
        changed = {k: (before[k], now[k]) for k in now if now[k] != before.get(k)}
        return (rid, changed) if changed else None

    def _unsaved_words(self, label: str, changed: dict[str, tuple[Any, Any]]) -> str:
        """What tells the user that the review CMOC ``label`` went (deleted in another window or
        by a merged copy) with words typed into it and not saved: those words, to copy."""
        labels = dict(_SLOT_LABELS, confidence_basis="Basis")
        words = [f"{tr(labels[k])}: {now}" for k, (_before, now) in changed.items()
                 if k in labels and isinstance(now, str) and now.strip()]
        if not words:
            return ""
        return "\n\n".join([tr(
            "The review CMOC {label} was deleted (in another window or by a merged copy) "
            "before what you typed into it was saved. Copy what you want to keep:").format(
                label=label), *words])

    def _load_editor(self, rc: rec.ReviewCmoc | None,
                     keep: dict[str, tuple[Any, Any]] | None = None) -> None:
        """Fill the editor from ``rc``, except the fields in ``keep`` (changed by the user, not
        saved), which stay as typed. A field already showing its value is not set again, so
        the cursor, the focus and an open drop-down stay where they are."""
        keep = keep or {}
        for key, edit in self.slot_edits.items():
            if key in keep:
                continue
            value = getattr(rc, key) or "" if rc else ""
            if isinstance(edit, QPlainTextEdit):
                if edit.toPlainText() != value:
                    edit.setPlainText(value)
            elif edit.text() != value:
                edit.setText(value)
        if "confidence" not in keep:
            idx = max(self.confidence.findData(rc.confidence if rc else None), 0)
            if self.confidence.currentIndex() != idx:
                self.confidence.setCurrentIndex(idx)
        if "confidence_basis" not in keep:
            basis = rc.confidence_basis or "" if rc else ""
            if self.basis.toPlainText() != basis:
                self.basis.setPlainText(basis)
        judged = (rc.assessment or {}) if rc else {}
        for key, combo in self.components.items():
            combo.blockSignals(True)
            idx = max(combo.findData(judged.get(key)), 0)
            if "assessment" not in keep and combo.currentIndex() != idx:
                combo.setCurrentIndex(idx)
            if combo.isEnabled() != (rc is not None):
                combo.setEnabled(rc is not None)
            combo.blockSignals(False)
        self._components_changed()
        # What the editor was filled with: only what the user changed since is written, so a
        # change that arrived meanwhile (a merge, another window) is not overwritten.
        shown = self._editor_values()
        shown.update({k: before for k, (before, _now) in keep.items()})
        self._shown = (rc.id, shown) if rc is not None else None

    def _editor_values(self) -> dict[str, Any]:
        values: dict[str, Any] = {
            k: (e.toPlainText() if isinstance(e, QPlainTextEdit) else e.text())
            for k, e in self.slot_edits.items()}
        values["confidence"] = self.confidence.currentData()
        values["confidence_basis"] = self.basis.toPlainText()
        values["assessment"] = self.assessment()
        return values
