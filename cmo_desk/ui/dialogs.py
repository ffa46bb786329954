"""Dialogs, gathered behind one object so tests can answer them without a person."""

from __future__ import annotations

from collections.abc import Iterable

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QComboBox, QDialog, QDialogButtonBox, QFormLayout, QInputDialog, QLabel, QLineEdit,
    QListWidget, QListWidgetItem, QMessageBox, QTreeWidget, QTreeWidgetItem, QTreeWidgetItemIterator,
    QVBoxLayout, QWidget,
)

from cmo_desk.domain import records as rec
from cmo_desk.domain.i18n import LANGUAGES, tr, trn
from cmo_desk.ui.plain import escape, plain_tip
from cmo_desk.ui.theme import ROLE_COLORS, swatch
from cmo_desk.ui.window_fit import fit_to_screen


def code_color(code: rec.Code) -> str:
    return code.color or ROLE_COLORS.get(code.kind or "other", ROLE_COLORS["other"])


def fill_code_tree(tree: QTreeWidget, codes: Iterable[rec.Code], checked: set[str] | None = None,
                   counts: dict[str, int] | None = None) -> dict[str, QTreeWidgetItem]:
    """Codes as a tree in codebook order; with ``checked`` every item gets a check box."""
    tree.clear()
    codes = sorted(codes, key=lambda c: (c.sort_order or 0, (c.name or "").casefold()))
    ids = {c.id for c in codes}
    items: dict[str, QTreeWidgetItem] = {}
    pending = list(codes)
    while pending:
        rest = []
        for c in pending:
            parent_id = c.parent_id if c.parent_id in ids else None
            if parent_id and parent_id not in items:
                rest.append(c)
                continue
            item = QTreeWidgetItem(items[parent_id] if parent_id else tree)
            item.setText(0, tr(c.name or ""))
            item.setIcon(0, swatch(code_color(c), 10))
            item.setData(0, Qt.ItemDataRole.UserRole, c.id)
            if c.definition:
                item.setToolTip(0, f"<b>{escape(c.name)}</b>{plain_tip(c.definition)}")
            if counts is not None and tree.columnCount() > 1:
                n = counts.get(c.id, 0)
                item.setText(1, str(n) if n else "")
                item.setTextAlignment(1, Qt.AlignmentFlag.AlignRight)
            if checked is not None:
                item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
                item.setCheckState(0, Qt.CheckState.Checked if c.id in checked
                                   else Qt.CheckState.Unchecked)
            items[c.id] = item
        if len(rest) == len(pending):  # a parent cycle: show the rest at the top level
            for c in rest:
                item = QTreeWidgetItem(tree, [tr(c.name or "")])
                item.setData(0, Qt.ItemDataRole.UserRole, c.id)
                items[c.id] = item
            break
        pending = rest
    return items


def filter_tree(tree: QTreeWidget, text: str) -> None:
    """Show items whose name contains ``text``, with their ancestors."""
    needle = text.casefold().strip()
    it = QTreeWidgetItemIterator(tree)
    matches = []
    while it.value():
        item = it.value()
        hit = not needle or needle in item.text(0).casefold()
        item.setHidden(not hit)
        if hit:
            matches.append(item)
        it += 1
    for item in matches:
        p = item.parent()
        while p is not None:
            p.setHidden(False)
            p.setExpanded(True)
            p = p.parent()


class CodeChooser(QDialog):
    """Tick codes from the codebook (a filter box narrows the tree)."""

    def __init__(self, codes: list[rec.Code], checked: Iterable[str], title: str,
                 parent: QWidget | None = None, single: bool = False) -> None:
        super().__init__(parent)
        self.setWindowTitle(title)
        fit_to_screen(self, 420, 520)
        self.single = single
        lay = QVBoxLayout(self)
        self.filter = QLineEdit()
        self.filter.setPlaceholderText(tr("Filter codes…"))
        self.filter.setClearButtonEnabled(True)
        lay.addWidget(self.filter)
        self.tree = QTreeWidget()
        self.tree.setHeaderHidden(True)
        self.items = fill_code_tree(self.tree, codes, None if single else set(checked))
        self.tree.expandAll()
        lay.addWidget(self.tree)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok
                                   | QDialogButtonBox.StandardButton.Cancel)
        buttons.button(QDialogButtonBox.StandardButton.Ok).setText(tr("OK"))
        buttons.button(QDialogButtonBox.StandardButton.Cancel).setText(tr("Cancel"))
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        lay.addWidget(buttons)
        self.filter.textChanged.connect(lambda t: filter_tree(self.tree, t))
        self.tree.itemDoubleClicked.connect(lambda *_: self.accept() if single else None)

    def chosen(self) -> list[str]:
        if self.single:
            item = self.tree.currentItem()
            return [item.data(0, Qt.ItemDataRole.UserRole)] if item else []
        return [cid for cid, item in self.items.items()
                if item.checkState(0) == Qt.CheckState.Checked]


class CoderNameDialog(QDialog):
    def __init__(self, parent: QWidget | None = None, name: str = "") -> None:
        super().__init__(parent)
        self.setWindowTitle(tr("Welcome to CMO Desk"))
        lay = QVBoxLayout(self)
        intro = QLabel(tr("Your name is written beside everything you code, so the team can "
                          "compare and merge coders' work. You can change it later in "
                          "Preferences."))
        intro.setWordWrap(True)
        lay.addWidget(intro)
        self.name = QLineEdit(name)
        self.name.setPlaceholderText(tr("Your name, e.g. Lan Nguyen"))
        lay.addWidget(self.name)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok)
        buttons.button(QDialogButtonBox.StandardButton.Ok).setText(tr("Start coding"))
        buttons.accepted.connect(self._accept)
        lay.addWidget(buttons)

    def _accept(self) -> None:
        if " ".join(self.name.text().split()):
            self.accept()

    def value(self) -> str:
        return " ".join(self.name.text().split())


class PreferencesDialog(QDialog):
    def __init__(self, coder_name: str, language: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(tr("Preferences"))
        self.setMinimumWidth(420)
        form = QFormLayout(self)
        self.name = QLineEdit(coder_name)
        form.addRow(tr("Coder name"), self.name)
        self.language = QComboBox()
        for code, label in LANGUAGES.items():
            self.language.addItem(label, code)
        self.language.setCurrentIndex(max(0, self.language.findData(language)))
        form.addRow(tr("Language"), self.language)
        note = QLabel(tr("A new name or language takes effect when CMO Desk is restarted."))
        note.setObjectName("hint")
        note.setWordWrap(True)
        form.addRow(note)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok
                                   | QDialogButtonBox.StandardButton.Cancel)
        buttons.button(QDialogButtonBox.StandardButton.Ok).setText(tr("OK"))
        buttons.button(QDialogButtonBox.StandardButton.Cancel).setText(tr("Cancel"))
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)

    def values(self) -> tuple[str, str]:
        return " ".join(self.name.text().split()), str(self.language.currentData())


def pages_found(n: int) -> str:
    return trn("{n} page found", "{n} pages found", n).format(n=n)


class SearchDialog(QDialog):
    """Search every study's full text, and the CMOC statements, slots and memos; double-click a
    hit to open the study at the match."""

    hit_chosen = Signal(str, int)  # study id, page
    cmoc_chosen = Signal(str, str)  # study id, CMOC id

    def __init__(self, search: object, parent: QWidget | None = None,
                 search_cmocs: object = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(tr("Search all studies"))
        fit_to_screen(self, 640, 460)
        self._search = search
        self._search_cmocs = search_cmocs
        lay = QVBoxLayout(self)
        self.query = QLineEdit()
        self.query.setPlaceholderText(tr("Words to find in every study's text, CMOCs and memos"))
        self.query.setClearButtonEnabled(True)
        lay.addWidget(self.query)
        self.results = QListWidget()
        self.results.setWordWrap(True)
        self.results.setAlternatingRowColors(True)
        lay.addWidget(self.results)
        self.summary = QLabel("")
        self.summary.setObjectName("hint")
        lay.addWidget(self.summary)
        self.query.returnPressed.connect(self.run)
        self.results.itemActivated.connect(self._open)
        self.results.itemDoubleClicked.connect(self._open)

    def run(self) -> None:
        self.results.clear()
        try:
            hits = self._search(self.query.text())  # type: ignore[operator]
            passages = self._search_cmocs(self.query.text()) if self._search_cmocs else []  # type: ignore[operator]
        except Exception as err:  # noqa: BLE001 - the store raises ValidationError with advice
            self.summary.setText(str(err))
            return
        for h in hits:
            item = QListWidgetItem(f"{h.study_label} · p. {h.page}\n{h.snippet}")
            item.setData(Qt.ItemDataRole.UserRole, ("page", h.study_id, h.page))
            self.results.addItem(item)
        for p in passages:
            where = tr("CMOC memo") if p.slot == "memo" else tr("CMOC")
            item = QListWidgetItem(f"{p.study_label} · {where}\n{' '.join(p.text.split())[:200]}")
            item.setData(Qt.ItemDataRole.UserRole, ("cmoc", p.study_id, p.id))
            self.results.addItem(item)
        text = pages_found(len(hits))
        if self._search_cmocs is not None:
            text += " · " + trn("{n} CMOC passage found", "{n} CMOC passages found",
                                 len(passages)).format(n=len(passages))
        self.summary.setText(text)

    def _open(self, item: QListWidgetItem) -> None:
        kind, sid, where = item.data(Qt.ItemDataRole.UserRole)
        if kind == "page":
            self.hit_chosen.emit(sid, int(where))
        else:
            self.cmoc_chosen.emit(sid, where)


#: Lines a message box shows before the rest goes under Show Details.
MESSAGE_LINES = 16


class Dialogs:
    """Every question the desk asks a person. Tests replace methods to answer automatically."""

    def __init__(self, parent: QWidget | None = None) -> None:
        self.parent = parent

    def error(self, message: str) -> None:
        self._tell(QMessageBox.Icon.Warning, message)

    def info(self, message: str) -> None:
        self._tell(QMessageBox.Icon.Information, message)

    def _tell(self, icon: QMessageBox.Icon, message: str) -> None:
        """A message as plain text. A long one (an import report) shows its first lines and keeps
        every line under Show Details, so the box fits a 768-pixel screen and nothing is cut."""
        lines = message.split("\n")
        box = QMessageBox(icon, tr("CMO Desk"), "", QMessageBox.StandardButton.Ok, self.parent)
        box.setTextFormat(Qt.TextFormat.PlainText)
        if len(lines) > 3:  # a report reads better wide than wrapped into a tall column
            box.setStyleSheet("QLabel#qt_msgbox_label { min-width: 34em; }")
        if len(lines) > MESSAGE_LINES:
            box.setText("\n".join([*lines[:MESSAGE_LINES], tr("... and {count} more").format(
                count=len(lines) - MESSAGE_LINES)]))
            box.setDetailedText(message)
        else:
            box.setText(message)
        box.exec()

    def ask_password(self, title: str, label: str) -> str | None:
        text, ok = QInputDialog.getText(self.parent, title, label, QLineEdit.EchoMode.Password)
        return text if ok else None

    def confirm(self, message: str) -> bool:
        return QMessageBox.question(self.parent, tr("CMO Desk"), message) == \
            QMessageBox.StandardButton.Yes

    def ask_text(self, title: str, label: str, value: str = "") -> str | None:
        text, ok = QInputDialog.getText(self.parent, title, label, text=value)
        return text if ok else None

    def ask_multiline(self, title: str, label: str, value: str = "") -> str | None:
        text, ok = QInputDialog.getMultiLineText(self.parent, title, label, value)
        return text if ok else None

    def choose_codes(self, codes: list[rec.Code], checked: Iterable[str],
                     title: str) -> list[str] | None:
        dlg = CodeChooser(codes, checked, title, self.parent)
        return dlg.chosen() if dlg.exec() == QDialog.DialogCode.Accepted else None

    def choose_code(self, codes: list[rec.Code], title: str) -> str | None:
        dlg = CodeChooser(codes, (), title, self.parent, single=True)
        if dlg.exec() != QDialog.DialogCode.Accepted:
            return None
        chosen = dlg.chosen()
        return chosen[0] if chosen else None

    def choose_item(self, title: str, label: str, items: list[tuple[str, str]]) -> str | None:
        """Pick one of (id, text); None when cancelled."""
        if not items:
            return None
        texts = [t for _, t in items]
        text, ok = QInputDialog.getItem(self.parent, title, label, texts, 0, False)
        if not ok:
            return None
        return items[texts.index(text)][0]

    def open_paths(self, title: str, filters: str) -> list[str]:
        from PySide6.QtWidgets import QFileDialog

        paths, _ = QFileDialog.getOpenFileNames(self.parent, title, "", filters)
        return paths

    def open_folder(self, title: str) -> str | None:
        from PySide6.QtWidgets import QFileDialog

        return QFileDialog.getExistingDirectory(self.parent, title) or None

    def save_path(self, title: str, filters: str, default: str = "") -> str | None:
        from PySide6.QtWidgets import QFileDialog

        path, _ = QFileDialog.getSaveFileName(self.parent, title, default, filters)
        return path or None

    def preferences(self, coder_name: str, language: str) -> tuple[str, str] | None:
        dlg = PreferencesDialog(coder_name, language, self.parent)
        return dlg.values() if dlg.exec() == QDialog.DialogCode.Accepted else None

    def run_dialog(self, dialog: QDialog) -> int:
        """Show a prepared dialog modally; its result code (Accepted, Rejected or custom)."""
        return int(dialog.exec())

    def ask_recovery(self, message: str, backup_name: str) -> str | None:
        """A damaged project: offer to rescue its work into a new file (its latest good backup
        with every change still readable in the damaged file), or to restore that backup.
        "rescue", "restore", or None to leave everything as it is."""
        box = QMessageBox(QMessageBox.Icon.Warning, tr("CMO Desk"), message,
                          QMessageBox.StandardButton.NoButton, self.parent)
        rescue = box.addButton(tr("Rescue my work into a new file"),
                               QMessageBox.ButtonRole.AcceptRole)
        restore = box.addButton(tr("Restore latest good backup ({name})").format(
            name=backup_name), QMessageBox.ButtonRole.DestructiveRole)
        box.addButton(tr("Close"), QMessageBox.ButtonRole.RejectRole)
        box.setDefaultButton(rescue)
        box.exec()
        clicked = box.clickedButton()
        return "rescue" if clicked is rescue else "restore" if clicked is restore else None
