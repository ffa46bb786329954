"""The per-study extraction form, generated from the project's template."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QCheckBox, QComboBox, QFormLayout, QLabel, QLineEdit, QListWidget, QListWidgetItem,
    QScrollArea, QVBoxLayout, QWidget,
)

from cmo_desk.domain.i18n import current_language, tr
from cmo_desk.domain.templates import field_label, template_fields
from cmo_desk.ui.editors import AutoSaveText

Save = Callable[[str, Any, Any], None]  # key, old value, new value


def _split_list(text: str) -> list[str]:
    return [p.strip() for p in text.replace("，", ",").replace(";", ",").split(",") if p.strip()]


class StudyForm(QScrollArea):
    """One widget per template field; each saves its value as soon as it is edited."""

    def __init__(self, template: dict[str, Any], save: Save,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWidgetResizable(True)
        self._save = save
        self._values: dict[str, Any] = {}
        self._setters: dict[str, Callable[[Any], None]] = {}
        self._loading = False
        body = QWidget()
        outer = QVBoxLayout(body)
        outer.setContentsMargins(10, 4, 10, 10)
        lang = current_language()
        fields_by_section: dict[str, list[dict[str, Any]]] = {}
        for f in template_fields(template):
            fields_by_section.setdefault(f["section"], []).append(f)
        for section in template.get("sections", []):
            title = section.get("title_zh_CN") if lang == "zh_CN" and section.get(
                "title_zh_CN") else tr(section["title"])
            head = QLabel(title)
            head.setObjectName("sectionTitle")
            outer.addWidget(head)
            form = QFormLayout()
            form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
            form.setLabelAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignTop)
            form.setRowWrapPolicy(QFormLayout.RowWrapPolicy.WrapLongRows)
            for f in fields_by_section.get(section["key"], []):
                self._add_field(form, f, lang)
            outer.addLayout(form)
        outer.addStretch(1)
        self.setWidget(body)

    # -- building --

    def _commit(self, key: str, value: Any) -> None:
        if self._loading:
            return
        if isinstance(value, str):
            value = value.strip() or None
        if isinstance(value, list):
            value = value or None
        old = self._values.get(key)
        if old == value:
            return
        self._values[key] = value
        self._save(key, old, value)

    def _add_field(self, form: QFormLayout, f: dict[str, Any], lang: str) -> None:
        key, kind = f["key"], f["type"]
        label = QLabel(field_label(f, lang))
        label.setWordWrap(True)
        if f.get("help"):
            label.setToolTip(f["help"])
        widget: QWidget
        if kind in ("text", "number"):
            edit = QLineEdit()
            edit.editingFinished.connect(lambda k=key, e=edit: self._commit(k, e.text()))
            self._setters[key] = lambda v, e=edit: e.setText("" if v is None else str(v))
            widget = edit
        elif kind == "long_text":
            box = AutoSaveText(lines=3)
            box.committed.connect(lambda text, k=key: self._commit(k, text))
            self._setters[key] = box.set_saved_text
            widget = box
        elif kind in ("choice", "ordinal"):
            combo = QComboBox()
            combo.addItem("", None)
            for opt in f["options"]:
                combo.addItem(tr(opt), opt)
            if f.get("other_allowed"):
                combo.setEditable(True)
                combo.lineEdit().editingFinished.connect(
                    lambda k=key, c=combo: self._commit(k, self._combo_value(c)))
            combo.activated.connect(lambda _i, k=key, c=combo: self._commit(
                k, self._combo_value(c)))
            self._setters[key] = lambda v, c=combo: self._set_combo(c, v)
            widget = combo
            if kind == "ordinal" and f.get("justification"):
                holder = QWidget()
                lay = QVBoxLayout(holder)
                lay.setContentsMargins(0, 0, 0, 0)
                lay.setSpacing(3)
                lay.addWidget(combo)
                why = QLineEdit()
                why.setPlaceholderText(tr("Why? (justification)"))
                jkey = f"{key}_justification"
                why.editingFinished.connect(lambda k=jkey, e=why: self._commit(k, e.text()))
                self._setters[jkey] = lambda v, e=why: e.setText(v or "")
                lay.addWidget(why)
                widget = holder
        elif kind == "multi_choice":
            widget = self._multi_choice(key, f)
        elif kind == "list":
            edit = QLineEdit()
            edit.setPlaceholderText(tr("Separate with commas"))
            edit.editingFinished.connect(lambda k=key, e=edit: self._commit(
                k, _split_list(e.text())))
            self._setters[key] = lambda v, e=edit: e.setText(
                ", ".join(v) if isinstance(v, list) else (v or ""))
            widget = edit
        elif kind == "bool":
            box = QCheckBox()
            box.toggled.connect(lambda on, k=key: self._commit(k, bool(on)))
            self._setters[key] = lambda v, b=box: b.setChecked(bool(v))
            widget = box
        else:
            edit = QLineEdit()
            edit.editingFinished.connect(lambda k=key, e=edit: self._commit(k, e.text()))
            self._setters[key] = lambda v, e=edit: e.setText("" if v is None else str(v))
            widget = edit
        widget.setObjectName(f"field_{key}")
        form.addRow(label, widget)

    def _multi_choice(self, key: str, f: dict[str, Any]) -> QWidget:
        holder = QWidget()
        lay = QVBoxLayout(holder)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.setSpacing(3)
        box = QListWidget()
        options = [o for o in f["options"] if not (f.get("other_allowed") and o == "other")]
        for opt in options:
            item = QListWidgetItem(tr(opt))
            item.setData(Qt.ItemDataRole.UserRole, opt)
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            item.setCheckState(Qt.CheckState.Unchecked)
            box.addItem(item)
        row_h = box.sizeHintForRow(0) if box.count() else 18
        box.setFixedHeight(min(8, len(options)) * row_h + 6)
        lay.addWidget(box)
        other: QLineEdit | None = None
        if f.get("other_allowed"):
            other = QLineEdit()
            other.setPlaceholderText(tr("Other (separate with commas)"))
            lay.addWidget(other)

        def current() -> list[str]:
            chosen = [box.item(i).data(Qt.ItemDataRole.UserRole) for i in range(box.count())
                      if box.item(i).checkState() == Qt.CheckState.Checked]
            return chosen + (_split_list(other.text()) if other else [])

        def show(value: Any) -> None:
            values = value if isinstance(value, list) else ([value] if value else [])
            for i in range(box.count()):
                item = box.item(i)
                item.setCheckState(Qt.CheckState.Checked if item.data(Qt.ItemDataRole.UserRole)
                                   in values else Qt.CheckState.Unchecked)
            if other is not None:
                other.setText(", ".join(str(v) for v in values if v not in options))

        box.itemChanged.connect(lambda *_: self._commit(key, current()))
        if other is not None:
            other.editingFinished.connect(lambda: self._commit(key, current()))
        self._setters[key] = show
        return holder

    @staticmethod
    def _combo_value(combo: QComboBox) -> str | None:
        i = combo.currentIndex()
        if i >= 0 and combo.itemText(i) == combo.currentText():
            return combo.itemData(i)
        return combo.currentText().strip() or None

    @staticmethod
    def _set_combo(combo: QComboBox, value: Any) -> None:
        i = combo.findData(value) if value is not None else 0
        if i < 0 and combo.isEditable():
            combo.setEditText(str(value))
        else:
            combo.setCurrentIndex(max(i, 0))

    # -- loading --

    def set_values(self, values: dict[str, Any]) -> None:
        self._loading = True
        try:
            self._values = dict(values)
            for key, setter in self._setters.items():
                setter(values.get(key))
        finally:
            self._loading = False

    def refresh_values(self, values: dict[str, Any]) -> None:
        """Show values changed behind the form's back (undo, redo) and leave every other field
        alone, so text still being typed elsewhere in the form is not overwritten."""
        self._loading = True
        try:
            for key, setter in self._setters.items():
                value = values.get(key)
                if value != self._values.get(key):
                    self._values[key] = value
                    setter(value)
        finally:
            self._loading = False

    def set_editable(self, editable: bool) -> None:
        self.widget().setEnabled(editable)
