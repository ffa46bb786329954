"""File → Export…: choose a table, its grouping, records and language, and a file; see a preview.

The preview is the very table the export will write (``exporting.preview_table``): its column
headings in the chosen language and its groups with their row counts and first rows. The export
itself runs in the background through the window's ``run_task``, with progress and cancel.
"""

from __future__ import annotations

import time
import weakref
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Qt, QTimer, QUrl
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import (
    QCheckBox, QComboBox, QDialog, QDialogButtonBox, QFormLayout, QGroupBox, QHBoxLayout, QHeaderView, QLabel,
    QLineEdit, QPushButton, QTreeWidget, QTreeWidgetItem, QVBoxLayout, QWidget,
)

from cmo_desk.domain.errors import CmoDeskError
from cmo_desk.domain.i18n import LANGUAGES, current_language, tr, trn
from cmo_desk.exporters.tables import ExportOptions, Table
from cmo_desk.services import exporting
from cmo_desk.services.session import Session
from cmo_desk.ui.dialogs import Dialogs
from cmo_desk.ui.workers import BackgroundRunner

if TYPE_CHECKING:
    from cmo_desk.ui.main_window import MainWindow

PREVIEW_DELAY_MS = 200
#: A preview slower than this on the UI thread is computed in the background from then on.
SLOW_PREVIEW_S = 0.25
#: CMOCs and excerpts beyond which even the first preview is built in the background: about
#: 0.25 s of building on an ordinary laptop (7,500 CMOCs and 30,000 excerpts took 3 s).
LARGE_PROJECT_RECORDS = 3000
ROWS_PER_GROUP = 3
PREVIEW_TEXT_CHARS = 140

#: The cell shown beside the study label in the preview, per table.
MAIN_CELL = {"evidence": "statement", "studies": "citation", "excerpts": "quote"}
REFI_SUFFIXES = frozenset(exporting.REFI_FORMATS)


def table_titles() -> dict[str, str]:
    return {
        "evidence": tr("CMOC evidence table"),
        "studies": tr("Study characteristics"),
        "excerpts": tr("Coded excerpts"),
    }


def grouping_titles() -> dict[str, str]:
    return {
        "study": tr("Study"),
        "code": tr("Code or theme"),
        "theory": tr("Programme theory"),
    }


def record_titles() -> dict[str, str]:
    return {
        "consensus": tr("Consensus, and coders' CMOCs no consensus covers"),
        "coders": tr("Coders' own only"),
        "all": tr("All (consensus and coders' own)"),
    }


def column_titles() -> dict[str, str]:
    return {
        "intervention": tr("Intervention"),
        "actor": tr("Actor"),
        "codes": tr("Codes"),
        "theories": tr("Programme theories"),
    }


def empty_titles() -> dict[str, str]:
    return {"blank": tr("Left blank"), "NR": tr("NR (not reported)"), "dash": tr("– (dash)")}


def format_titles() -> dict[str, str]:
    return {
        ".docx": tr("Word document (.docx)"),
        ".xlsx": tr("Excel workbook (.xlsx)"),
        ".csv": tr("CSV, one row per record (.csv)"),
        ".qdpx": tr("REFI-QDA project (.qdpx)"),
        ".qdc": tr("REFI-QDA codebook (.qdc)"),
    }


def format_filters() -> dict[str, str]:
    return {
        ".docx": tr("Word document (*.docx)"),
        ".xlsx": tr("Excel workbook (*.xlsx)"),
        ".csv": tr("CSV (*.csv)"),
        ".qdpx": tr("REFI-QDA project (*.qdpx)"),
        ".qdc": tr("REFI-QDA codebook (*.qdc)"),
    }


@dataclass(frozen=True)
class ExportChoices:
    """What the dialog was last set to, so the next Export… in this session starts there."""

    options: ExportOptions
    suffix: str
    path: str


#: Last choices per open project, forgotten when its session goes away.
_remembered: weakref.WeakKeyDictionary[Session, ExportChoices] = weakref.WeakKeyDictionary()


def remembered_choices(session: Session) -> ExportChoices:
    known = _remembered.get(session)
    if known is not None:
        return known
    return ExportChoices(ExportOptions(lang=current_language()), ".docx",
                         str(session.path.with_name(f"{session.path.stem}-evidence.docx")))


def _short(text: str, limit: int = PREVIEW_TEXT_CHARS) -> str:
    flat = " ".join((text or "").split())
    return flat if len(flat) <= limit else flat[: limit - 1].rstrip() + "…"


class ExportDialog(QDialog):
    """The Export dialog. ``chosen()`` gives the options and file once it is accepted."""

    def __init__(self, session: Session, dialogs: Dialogs, parent: QWidget | None = None,
                 choices: ExportChoices | None = None,
                 runner: BackgroundRunner | None = None, blind: bool = False) -> None:
        super().__init__(parent)
        self.session = session
        #: Coding blind (other coders' work hidden): the preview and the file hold only this
        #: coder's own work.
        self.only_coder = session.coder_id if blind else None
        self.dialogs = dialogs
        self.setWindowTitle(tr("Export"))
        self.resize(1000, 600)
        # With the window's runner a preview still running when the dialog closes finishes
        # behind the export instead of holding the dialog open.
        self._owns_runner = runner is None
        self.runner = runner or BackgroundRunner(self)
        self.slow_preview = self._looks_large()
        self.last_preview_seconds = 0.0
        self.table: Table | None = None
        self._generation = 0
        self._preview_task: Any = None
        self._waiting_preview: tuple[ExportOptions, int] | None = None
        self._syncing = False
        self._build()
        self._debounce = QTimer(self)
        self._debounce.setSingleShot(True)
        self._debounce.setInterval(PREVIEW_DELAY_MS)
        self._debounce.timeout.connect(self.refresh_preview)
        self.set_choices(choices or remembered_choices(session))
        for combo in (self.table_combo, self.group_combo, self.records_combo, self.lang_combo,
                      self.empty_combo):
            combo.currentIndexChanged.connect(self._options_changed)
        self.format_combo.currentIndexChanged.connect(self._format_changed)
        self.path_edit.textEdited.connect(self._path_edited)
        self._enable_options()
        self.refresh_preview()

    # -- building ------------------------------------------------------------------------

    def _build(self) -> None:
        outer = QVBoxLayout(self)
        body = QHBoxLayout()
        outer.addLayout(body, 1)

        left = QWidget()
        left.setMinimumWidth(420)
        left.setMaximumWidth(480)
        form = QFormLayout(left)
        form.setContentsMargins(0, 0, 8, 0)
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        self.format_combo = self._combo(format_titles())
        self.table_combo = self._combo(table_titles())
        self.group_combo = self._combo(grouping_titles())
        self.records_combo = self._combo(record_titles())
        self.lang_combo = self._combo(dict(LANGUAGES))
        form.addRow(tr("Format"), self.format_combo)
        form.addRow(tr("Table"), self.table_combo)
        form.addRow(tr("Group by"), self.group_combo)
        form.addRow(tr("Records"), self.records_combo)
        form.addRow(tr("Language"), self.lang_combo)
        columns_row = QHBoxLayout()
        self.column_boxes: dict[str, QCheckBox] = {}
        for key, title in column_titles().items():
            box = QCheckBox(title)
            box.toggled.connect(self._options_changed)
            self.column_boxes[key] = box
            columns_row.addWidget(box)
        columns_row.addStretch(1)
        form.addRow(tr("Extra columns"), columns_row)
        self.empty_combo = self._combo(empty_titles())
        form.addRow(tr("Empty slots"), self.empty_combo)
        self.tidy_box = QCheckBox(tr("Also write tidy data for analysis"))
        self.tidy_box.setToolTip(tr("Beside the spreadsheet: studies, CMOCs, each CMOC's excerpts "
                                    "with pages and quotes, and every coder's form values, one "
                                    "row per record."))
        self.tidy_box.toggled.connect(self._options_changed)
        form.addRow(self.tidy_box)
        path_row = QHBoxLayout()
        self.path_edit = QLineEdit()
        self.path_edit.setPlaceholderText(tr("Where to save the file"))
        self.browse_button = QPushButton(tr("Browse…"))
        self.browse_button.clicked.connect(self.browse)
        path_row.addWidget(self.path_edit, 1)
        path_row.addWidget(self.browse_button)
        form.addRow(tr("Save as"), path_row)
        self.options_note = QLabel("")
        self.options_note.setObjectName("hint")
        self.options_note.setWordWrap(True)
        form.addRow(self.options_note)
        self.message = QLabel("")
        self.message.setObjectName("banner")
        self.message.setWordWrap(True)
        self.message.hide()
        form.addRow(self.message)
        body.addWidget(left)

        box = QGroupBox(tr("Preview"))
        p_lay = QVBoxLayout(box)
        self.summary = QLabel("")
        self.summary.setWordWrap(True)
        self.summary.setStyleSheet("font-weight: 600;")
        self.columns_label = QLabel("")
        self.columns_label.setWordWrap(True)
        self.columns_label.setTextFormat(Qt.TextFormat.PlainText)
        self.notes_label = QLabel("")
        self.notes_label.setObjectName("hint")
        self.notes_label.setWordWrap(True)
        self.tree = QTreeWidget()
        self.tree.setColumnCount(2)
        self.tree.setHeaderLabels([tr("Group / study"), tr("Text")])
        self.tree.setRootIsDecorated(True)
        self.tree.setWordWrap(False)
        self.tree.setTextElideMode(Qt.TextElideMode.ElideRight)
        head = self.tree.header()
        head.setStretchLastSection(True)
        head.setSectionResizeMode(0, QHeaderView.ResizeMode.Interactive)
        head.resizeSection(0, 190)
        self.tree.setIndentation(14)
        self.refi_label = QLabel("")
        self.refi_label.setWordWrap(True)
        self.refi_label.hide()
        p_lay.addWidget(self.summary)
        p_lay.addWidget(self.refi_label)
        p_lay.addWidget(self.columns_label)
        p_lay.addWidget(self.notes_label)
        p_lay.addWidget(self.tree, 1)
        # Holds the text at the top while the tree is hidden (REFI-QDA formats).
        p_lay.addStretch(0)
        body.addWidget(box, 1)

        self.buttons = QDialogButtonBox()
        self.export_button = self.buttons.addButton(
            tr("Export"), QDialogButtonBox.ButtonRole.AcceptRole)
        self.buttons.addButton(tr("Cancel"), QDialogButtonBox.ButtonRole.RejectRole)
        self.export_button.setDefault(True)
        self.buttons.accepted.connect(self.try_accept)
        self.buttons.rejected.connect(self.reject)
        outer.addWidget(self.buttons)

    def _combo(self, items: dict[str, str]) -> QComboBox:
        combo = QComboBox()
        for key, label in items.items():
            combo.addItem(label, key)
        return combo

    # -- choices ------------------------------------------------------------------------

    def set_choices(self, choices: ExportChoices) -> None:
        self._syncing = True
        try:
            o = choices.options
            for combo, value in ((self.table_combo, o.table), (self.group_combo, o.group_by),
                                 (self.records_combo, o.records), (self.lang_combo, o.lang),
                                 (self.format_combo, choices.suffix)):
                combo.setCurrentIndex(max(0, combo.findData(value)))
            self.empty_combo.setCurrentIndex(max(0, self.empty_combo.findData(o.empty)))
            for key, box in self.column_boxes.items():
                box.setChecked(key in o.columns)
            self.tidy_box.setChecked(o.tidy)
            self.path_edit.setText(choices.path)
        finally:
            self._syncing = False
        self._enable_options()

    def options(self) -> ExportOptions:
        return ExportOptions(
            table=self.table_combo.currentData(),
            group_by=self.group_combo.currentData(),
            records=self.records_combo.currentData(),
            lang=self.lang_combo.currentData(),
            only_coder=self.only_coder,
            columns=tuple(k for k, box in self.column_boxes.items()
                          if box.isChecked() and box.isEnabled()),
            empty=self.empty_combo.currentData() if self.empty_combo.isEnabled() else "blank",
            tidy=self.tidy_box.isChecked() and self.tidy_box.isEnabled(),
        )

    def suffix(self) -> str:
        return str(self.format_combo.currentData())

    def is_refi(self) -> bool:
        return self.suffix() in REFI_SUFFIXES

    def path(self) -> str:
        return self.path_edit.text().strip()

    def chosen(self) -> ExportChoices:
        return ExportChoices(self.options(), self.suffix(), self.path())

    def _enable_options(self) -> None:
        refi = self.is_refi()
        table = self.table_combo.currentData()
        self.table_combo.setEnabled(not refi)
        self.lang_combo.setEnabled(not refi)
        self.group_combo.setEnabled(not refi and table != "studies")
        self.records_combo.setEnabled(not refi and table == "evidence" and not self.only_coder)
        for box in self.column_boxes.values():
            box.setEnabled(not refi and table == "evidence")
        self.empty_combo.setEnabled(self.suffix() == ".docx" and table == "evidence")
        self.tidy_box.setEnabled(self.suffix() in (".csv", ".xlsx"))
        if refi:
            self.options_note.setText(tr("REFI-QDA files carry the project itself for other "
                                         "analysis programs; the table options do not apply."))
        elif table == "studies":
            self.options_note.setText(tr("One row per study, with the study form's fields as "
                                         "columns."))
        elif table == "excerpts":
            self.options_note.setText(tr("One row per coded excerpt."))
        else:
            self.options_note.setText(tr("One row per CMOC."))
        if self.only_coder:
            self.options_note.setText(self.options_note.text() + " " + tr(
                "Other coders' work is hidden (blind coding): only your own CMOCs, excerpts and "
                "form values are shown and exported."))

    def _options_changed(self) -> None:
        if self._syncing:
            return
        self._enable_options()
        self.schedule_preview()

    def _format_changed(self) -> None:
        if self._syncing:
            return
        text = self.path()
        if text:
            current = Path(text)
            self._syncing = True
            try:
                self.path_edit.setText(str(current.with_suffix(self.suffix()))
                                       if current.name else text)
            finally:
                self._syncing = False
        self._options_changed()

    def _path_edited(self, text: str) -> None:
        suffix = Path(text.strip()).suffix.lower()
        if suffix in exporting.FORMATS and suffix != self.suffix():
            self._syncing = True
            try:
                self.format_combo.setCurrentIndex(self.format_combo.findData(suffix))
            finally:
                self._syncing = False
            self._options_changed()
        self.message.hide()

    def browse(self) -> None:
        filters = format_filters()
        first = self.suffix()
        ordered = [filters[first]] + [f for s, f in filters.items() if s != first]
        chosen = self.dialogs.save_path(tr("Export to"), ";;".join(ordered),
                                        self.path() or str(self.session.path.parent))
        if not chosen:
            return
        if not Path(chosen).suffix:
            chosen += first
        self.path_edit.setText(chosen)
        self._path_edited(chosen)

    # -- preview ------------------------------------------------------------------------

    def schedule_preview(self) -> None:
        self._debounce.start()

    def refresh_preview(self) -> None:
        self._debounce.stop()
        self._generation += 1
        if self.is_refi():
            self._show_refi()
            return
        options = self.options()
        if self.slow_preview:
            self._preview_in_background(options, self._generation)
            return
        started = time.perf_counter()
        try:
            table = exporting.preview_table(self.session, options)
        except CmoDeskError as err:
            self._show_preview_error(str(err))
            return
        self.last_preview_seconds = time.perf_counter() - started
        self.slow_preview = self.last_preview_seconds > SLOW_PREVIEW_S
        self._show_table(table)

    def _looks_large(self) -> bool:
        store = self.session.store
        try:
            records = store.count("cmoc") + store.count("consensus") + store.count("excerpt")
        except CmoDeskError:
            return False
        return records > LARGE_PROJECT_RECORDS

    def _preview_in_background(self, options: ExportOptions, generation: int) -> None:
        self.summary.setText(tr("Updating the preview…"))
        if self._preview_task is not None:
            # One preview at a time: the newest choices wait for the running one to end.
            self._waiting_preview = (options, generation)
            return
        path, coder = self.session.path, self.session.coder_name

        def work(progress: Any, cancelled: Any) -> Table:
            with Session.open(path, coder=coder, read_only=True) as session:
                return exporting.preview_table(session, options)

        task = self.runner.start(work)
        self._preview_task = task
        # Only the newest request may paint: older ones finish late and are dropped.
        task.signals.succeeded.connect(
            lambda table: self._show_table(table) if generation == self._generation else None)
        task.signals.failed.connect(
            lambda msg: self._show_preview_error(msg) if generation == self._generation else None)
        task.signals.ended.connect(self._background_preview_ended)

    def _background_preview_ended(self) -> None:
        self._preview_task = None
        waiting, self._waiting_preview = self._waiting_preview, None
        if waiting is not None and waiting[1] == self._generation:
            self._preview_in_background(*waiting)

    def _show_refi(self) -> None:
        self.table = None
        self.tree.clear()
        self.tree.hide()
        self.columns_label.hide()
        self.notes_label.hide()
        self.summary.setText(format_titles()[self.suffix()])
        if self.suffix() == ".qdc":
            text = tr("The codebook only: every code with its definition and place in the "
                      "tree, for NVivo, ATLAS.ti, MAXQDA and other programs.")
        else:
            text = tr("The whole project: studies, full texts, codes, coded excerpts and CMOCs, "
                      "for NVivo, ATLAS.ti, MAXQDA and other programs.")
        self.refi_label.setText(text)
        self.refi_label.show()

    def _show_preview_error(self, message: str) -> None:
        self.table = None
        self.tree.clear()
        self.summary.setText(message)

    def _show_table(self, table: Table) -> None:
        self.table = table
        self.refi_label.hide()
        self.tree.show()
        self.columns_label.show()
        self.notes_label.setText(" ".join(table.title_block.notes))
        self.notes_label.setVisible(bool(table.title_block.notes))
        lang = table.lang
        self.summary.setText(tr("{title}: {rows} rows in {groups} groups").format(
            title=table.title_block.title, rows=table.row_count,
            groups=sum(1 for g in table.groups if g.rows)))
        self.columns_label.setText(tr("Columns: {names}").format(
            names=" · ".join(c.heading for c in table.columns)))
        main_key = MAIN_CELL.get(table.options.table, "")
        self.tree.setUpdatesEnabled(False)
        self.tree.clear()
        for group in table.groups:
            heading = group.heading or tr("All studies", lang)
            count = trn("{n} row", "{n} rows", len(group.rows)).format(n=len(group.rows))
            # The count goes first so that eliding a long citation never hides it.
            top = QTreeWidgetItem(self.tree, [f"{count} · {heading}"])
            top.setFirstColumnSpanned(True)
            top.setToolTip(0, heading)
            font = top.font(0)
            font.setBold(True)
            top.setFont(0, font)
            for row in group.rows[:ROWS_PER_GROUP]:
                child = QTreeWidgetItem(top, [row.get("study_label", ""),
                                              _short(row.get(main_key, ""))])
                child.setToolTip(1, row.get(main_key, ""))
            if len(group.rows) > ROWS_PER_GROUP:
                QTreeWidgetItem(top, ["", tr("… and {n} more").format(
                    n=len(group.rows) - ROWS_PER_GROUP)])
        self.tree.expandAll()
        self.tree.setUpdatesEnabled(True)

    def preview_groups(self) -> list[tuple[str, int]]:
        """(group heading, rows) as the preview shows them."""
        if self.table is None:
            return []
        return [(g.heading, len(g.rows)) for g in self.table.groups]

    # -- finishing ----------------------------------------------------------------------

    def try_accept(self) -> None:
        """Accept only a file that can be written; otherwise say why and stay open."""
        path = self.path()
        if not path:
            self.show_message(tr("Choose where to save the file: type a file name or use "
                                 "Browse…."))
            return
        try:
            exporting.check_target(path)
        except CmoDeskError as err:
            self.show_message(str(err))
            return
        self.accept()

    def show_message(self, text: str) -> None:
        self.message.setText(text)
        self.message.show()

    def done(self, result: int) -> None:
        self._debounce.stop()
        self._generation += 1  # a preview still running is no longer wanted
        if self._owns_runner:
            self.runner.cancel_all()
            self.runner.wait()
        super().done(result)


def reveal_folder(path: Path) -> None:
    """Show the folder holding ``path`` in the system's file manager."""
    QDesktopServices.openUrl(QUrl.fromLocalFile(str(path.parent)))


def open_export(window: MainWindow) -> Any:
    """File → Export…: ask, then export in the background. The task, or None when cancelled."""
    window.flush_edits()  # what is being typed (here or in the synthesis workspace) is exported
    session: Session = window.session
    dialog = ExportDialog(session, window.dialogs, window, remembered_choices(session),
                          runner=window.runner,
                          blind=not getattr(window, "show_others", True))
    try:
        if window.dialogs.run_dialog(dialog) != QDialog.DialogCode.Accepted:
            _remembered[session] = dialog.chosen()
            return None
        choices = dialog.chosen()
    finally:
        dialog.deleteLater()
    _remembered[session] = choices
    return start_export(window, choices)


def start_export(window: MainWindow, choices: ExportChoices) -> Any:
    target = Path(choices.path)
    options = choices.options

    def work(session: Session, progress: Any, cancelled: Any) -> exporting.ExportResult:
        return exporting.export_project(session, target, options, progress=progress,
                                        cancel=cancelled)

    def done(result: exporting.ExportResult) -> None:
        window.statusBar().showMessage(result.lines()[0], 20000)
        _offer_folder(window, result.path)

    return window.run_task(tr("Exporting"), work, done)


def _offer_folder(window: MainWindow, path: Path) -> None:
    """An "Open folder" button in the status bar, until the message goes away."""
    bar = window.statusBar()
    button = getattr(window, "open_export_folder_button", None)
    if button is None:
        button = QPushButton(tr("Open folder"))
        button.setFlat(True)
        button.setCursor(Qt.CursorShape.PointingHandCursor)
        button.setStyleSheet("QPushButton { color: #1565c0; text-decoration: underline; "
                             "border: none; padding: 0 6px; }")
        # A permanent widget: ordinary ones are hidden while a message shows.
        bar.addPermanentWidget(button)
        bar.messageChanged.connect(lambda text, b=button: b.setVisible(bool(text)))
        button.clicked.connect(lambda _=False, b=button: reveal_folder(Path(b.property("target"))))
        window.open_export_folder_button = button
    button.setProperty("target", str(path))
    button.setToolTip(str(path.parent))
    button.setVisible(True)


__all__ = ["ExportChoices", "ExportDialog", "open_export", "remembered_choices", "reveal_folder",
           "start_export"]
