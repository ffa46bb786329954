"""The coding desk: studies on the left, the full text in the middle, the coding panel on the right."""

from __future__ import annotations

import importlib.util
import re
from datetime import datetime
from typing import Any

from PySide6.QtCore import QModelIndex, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QCloseEvent, QKeySequence, QUndoStack
from PySide6.QtWidgets import (
    QAbstractItemView, QDockWidget, QHBoxLayout, QHeaderView, QLabel, QLineEdit, QMainWindow,
    QMenu, QPushButton, QSplitter, QTableView, QTabWidget, QToolButton, QVBoxLayout, QWidget,
)

from cmo_desk.domain import records as rec
from cmo_desk.domain.i18n import current_language, tr, trn
from cmo_desk.services import coding, desk, passages
from cmo_desk.services.session import Session
from cmo_desk.services.settings import Settings
from cmo_desk.ui import no_wheel, none_guard
from cmo_desk.ui.cmoc_panel import CmocPanel
from cmo_desk.ui.codebook import CodebookPanel
from cmo_desk.ui.coder_legend import CoderLegend
from cmo_desk.ui.dialogs import Dialogs, SearchDialog
from cmo_desk.ui.document_view import MARK_SHORTCUTS, DocumentView, Highlight
from cmo_desk.ui.editors import AutoSaveText
from cmo_desk.ui.excerpt_panel import ExcerptPanel
from cmo_desk.ui.language import local_datetime
from cmo_desk.ui.models import ID_ROLE, StudyFilterModel, StudyTableModel
from cmo_desk.ui.page_image import PageImageView
from cmo_desk.ui.plain import plain_label
from cmo_desk.ui.study_form import StudyForm
from cmo_desk.ui.theme import ROLE_COLORS, coder_colors, role_label
from cmo_desk.ui.undo import CodingActions
from cmo_desk.ui.window_fit import LayoutMemory, fit_to_screen
from cmo_desk.ui.workers import BackgroundRunner, ProjectWork, run_with_progress

LOCK_REFRESH_MS = 60_000
BACKUP_CHECK_MS = 5 * 60_000
#: How often changes the disk refused are tried again (and the -wal copied into the file).
SAVE_RETRY_MS = 3_000


class FindBar(QWidget):
    """Ctrl+F: find words in the open study's text."""

    def __init__(self, view: DocumentView, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.view = view
        self.matches: list[tuple[int, int]] = []
        self.index = -1
        lay = QHBoxLayout(self)
        lay.setContentsMargins(6, 3, 6, 3)
        self.query = QLineEdit()
        self.query.setPlaceholderText(tr("Find in this study"))
        self.query.setClearButtonEnabled(True)
        self.count = QLabel("")
        self.count.setObjectName("hint")
        prev_b, next_b, close_b = QToolButton(), QToolButton(), QToolButton()
        prev_b.setText("↑")
        next_b.setText("↓")
        close_b.setText("✕")
        prev_b.setToolTip(tr("Previous (Shift+Enter)"))
        next_b.setToolTip(tr("Next (Enter)"))
        for w in (self.query, self.count, prev_b, next_b, close_b):
            lay.addWidget(w)
        lay.setStretch(0, 1)
        self.query.textChanged.connect(self.search)
        self.query.returnPressed.connect(self.next)
        next_b.clicked.connect(self.next)
        prev_b.clicked.connect(self.previous)
        close_b.clicked.connect(self.close_bar)

    def keyPressEvent(self, event: Any) -> None:
        if event.key() == Qt.Key.Key_Escape:
            self.close_bar()
        elif event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter) and \
                event.modifiers() & Qt.KeyboardModifier.ShiftModifier:
            self.previous()
        else:
            super().keyPressEvent(event)

    def open_bar(self) -> None:
        self.show()
        self.query.setFocus()
        self.query.selectAll()
        self.search(self.query.text())

    def close_bar(self) -> None:
        self.hide()
        self.view.set_find_matches([])
        self.view.setFocus()

    def search(self, text: str) -> None:
        text = text.strip()
        self.matches = [m.span() for m in re.finditer(re.escape(text), self.view.text(),
                                                      re.IGNORECASE)] if text else []
        self.view.set_find_matches(self.matches)
        self.index = -1
        self.count.setText(tr("{n} found").format(n=len(self.matches)) if text else "")
        if self.matches:
            self.next()

    def next(self) -> None:
        self._go(1)

    def previous(self) -> None:
        self._go(-1)

    def _go(self, step: int) -> None:
        if not self.matches:
            return
        self.index = (self.index + step) % len(self.matches)
        a, b = self.matches[self.index]
        self.view.show_offset(a)
        self.count.setText(tr("{i} of {n}").format(i=self.index + 1, n=len(self.matches)))


#: Records that the open study's panes show whichever study they belong to.
_STUDY_VIEW_SHARED = ("code", "theory", "coder")


class MainWindow(QMainWindow):
    study_opened = Signal(str)
    excerpt_created = Signal(str)

    def __init__(self, session: Session | None, settings: Settings,
                 dialogs: Dialogs | None = None, opening: str | None = None) -> None:
        """Without a session the window is painted in an "Opening…" state, closed to input,
        until ``attach`` gives it the project (start-up paints first, then opens the file)."""
        super().__init__()
        none_guard.install()
        self.session = session  # type: ignore[assignment]
        self.settings = settings
        self.dialogs = dialogs or Dialogs(self)
        self.undo_stack = QUndoStack(self)
        self.actions = CodingActions(session, self.undo_stack, self.report_error)
        self.runner = BackgroundRunner(self)
        self.show_others = bool(settings.show_other_coders)
        self.study_id: str | None = None
        self.document: rec.Document | None = None
        self.codes: dict[str, rec.Code] = {}
        self.coders: dict[str, rec.Coder] = {}
        self.excerpts: list[rec.Excerpt] = []
        self.locked = False
        self._last_error = ""
        self._timers: list[QTimer] = []
        fit_to_screen(self, 1366, 768)
        self._build()
        self._build_menus()
        self.layout_memory = LayoutMemory(settings.path.parent if settings.path else None)
        self.layout_memory.restore_window(self)
        self.actions.on_save_state = self._show_save_state
        self.actions.alert = self.dialogs.error
        no_wheel.install()  # once built: building does not pass through its filter
        if session is None:
            self._show_opening(opening or "")
        else:
            self.attach(session)

    def _show_opening(self, name: str) -> None:
        """The painted window while the project opens: nothing can be typed, nothing is
        claimed saved."""
        self.setWindowTitle("CMO Desk")
        self.study_title.setText(tr("Opening {name}…").format(name=name))
        self.saved_label.setText("")
        self._closed_while_opening = [a for a in self.findChildren(QAction) if a.isEnabled()]
        for act in self._closed_while_opening:  # their shortcuts too
            act.setEnabled(False)
        for part in (self.menuBar(), self.centralWidget(), self.studies_dock, self.codebook_dock):
            part.setEnabled(False)

    def attach(self, session: Session) -> None:
        """Show an opened project in this window and let the user work on it."""
        self.session = session
        self.actions.session = session
        self.setWindowTitle(self._title())
        self.path_label.setText(str(session.path))
        from cmo_desk.ui.hub_flow import last_sync_text

        self.hub_label.setText(last_sync_text(session))
        self.coder_label.setText(tr("Coding as {name}").format(
            name=session.coder_name or tr("no coder name")))
        self.study_title.setText(tr("Choose a study on the left"))
        self.saved_label.setText(tr("All changes saved"))
        session.listeners.append(self._on_changed)
        if not session.read_only:
            self._timers.append(self._every(LOCK_REFRESH_MS, self._refresh_lock))
            self._timers.append(self._every(BACKUP_CHECK_MS, self._maybe_backup))
            self._timers.append(self._every(SAVE_RETRY_MS, self._retry_saves))
        self.refresh_all()
        for act in getattr(self, "_closed_while_opening", ()):
            act.setEnabled(True)
        for part in (self.menuBar(), self.centralWidget(), self.studies_dock, self.codebook_dock):
            part.setEnabled(True)
        if self.focusWidget() is None:
            self.study_filter.setFocus()

    def _title(self) -> str:
        project = self.session.store.project().title or self.session.path.stem
        return f"{project} — CMO Desk"

    def _every(self, ms: int, fn: Any) -> QTimer:
        timer = QTimer(self)
        timer.setInterval(ms)
        timer.timeout.connect(fn)
        timer.start()
        return timer

    # -- building ------------------------------------------------------------------------

    def _build(self) -> None:
        # Studies dock
        studies = QWidget()
        lay = QVBoxLayout(studies)
        lay.setContentsMargins(4, 4, 4, 4)
        self.study_filter = QLineEdit()
        self.study_filter.setPlaceholderText(tr("Filter studies…"))
        self.study_filter.setClearButtonEnabled(True)
        lay.addWidget(self.study_filter)
        self.study_model = StudyTableModel(self)
        self.study_proxy = StudyFilterModel(self)
        self.study_proxy.setSourceModel(self.study_model)
        self.study_view = QTableView()
        self.study_view.setModel(self.study_proxy)
        self.study_view.setSortingEnabled(True)
        self.study_view.sortByColumn(0, Qt.SortOrder.AscendingOrder)
        self.study_view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.study_view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.study_view.verticalHeader().hide()
        self.study_view.verticalHeader().setDefaultSectionSize(24)
        self.study_view.setShowGrid(False)
        self.study_view.setAlternatingRowColors(True)
        self.study_view.setWordWrap(False)
        head = self.study_view.horizontalHeader()
        head.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        head.setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
        head.setSectionResizeMode(2, QHeaderView.ResizeMode.Interactive)
        head.setSectionResizeMode(3, QHeaderView.ResizeMode.ResizeToContents)
        head.resizeSection(2, 84)
        # Columns fitted to their contents measure at most this many rows, not every study.
        head.setResizeContentsPrecision(100)
        self.study_view.setTextElideMode(Qt.TextElideMode.ElideRight)
        small = self.study_view.font()
        small.setPointSizeF(small.pointSizeF() * 0.92)
        self.study_view.setFont(small)
        lay.addWidget(self.study_view)
        self.study_filter.textChanged.connect(self.study_proxy.setFilterFixedString)
        self.study_view.selectionModel().currentRowChanged.connect(self._on_study_row)
        self.study_view.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.study_view.customContextMenuRequested.connect(self._show_study_menu)
        self.studies_dock = QDockWidget(tr("Studies"), self)
        self.studies_dock.setObjectName("studiesDock")
        self.studies_dock.setWidget(studies)
        self.studies_dock.setFeatures(QDockWidget.DockWidgetFeature.DockWidgetMovable
                                      | QDockWidget.DockWidgetFeature.DockWidgetFloatable
                                      | QDockWidget.DockWidgetFeature.DockWidgetClosable)
        self.addDockWidget(Qt.DockWidgetArea.LeftDockWidgetArea, self.studies_dock)

        # Codebook dock
        self.codebook = CodebookPanel(self.actions, self.dialogs)
        self.codebook.mark_with_code.connect(self.mark_with_code)
        self.codebook.retrieve_code.connect(self.retrieve_passages)
        self.codebook_dock = QDockWidget(tr("Codebook"), self)
        self.codebook_dock.setObjectName("codebookDock")
        self.codebook_dock.setWidget(self.codebook)
        self.codebook_dock.setFeatures(self.studies_dock.features())
        self.addDockWidget(Qt.DockWidgetArea.LeftDockWidgetArea, self.codebook_dock)
        self.splitDockWidget(self.studies_dock, self.codebook_dock, Qt.Orientation.Vertical)
        self.resizeDocks([self.studies_dock], [380], Qt.Orientation.Horizontal)
        self.resizeDocks([self.studies_dock, self.codebook_dock], [300, 340],
                         Qt.Orientation.Vertical)

        # Centre: full text
        centre = QWidget()
        c_lay = QVBoxLayout(centre)
        c_lay.setContentsMargins(0, 0, 0, 0)
        c_lay.setSpacing(0)
        header = QWidget()
        header.setStyleSheet("background: white; border-bottom: 1px solid #e0e4ea;")
        h_lay = QVBoxLayout(header)
        h_lay.setContentsMargins(14, 8, 14, 8)
        h_lay.setSpacing(2)
        self.study_title = QLabel(tr("Choose a study on the left"))
        self.study_title.setObjectName("studyTitle")
        self.study_title.setWordWrap(True)
        self.study_meta = QLabel("")
        self.study_meta.setObjectName("studyMeta")
        self.study_meta.setWordWrap(True)
        plain_label(self.study_title)
        plain_label(self.study_meta)
        h_lay.addWidget(self.study_title)
        h_lay.addWidget(self.study_meta)
        marks = QHBoxLayout()
        marks.setSpacing(6)
        self.mark_buttons: dict[str, QPushButton] = {}
        for role in ("context", "mechanism", "outcome", "other"):
            b = QPushButton(f"{role_label(role)}  {MARK_SHORTCUTS[role].replace('Ctrl+', '⌃')}")
            color = ROLE_COLORS[role]
            b.setStyleSheet(
                f"QPushButton {{ border: 1px solid {color}; color: {color}; background: white;"
                f" border-radius: 11px; padding: 2px 10px; font-weight: 600; }}"
                f"QPushButton:hover {{ background: {color}; color: white; }}"
                f"QPushButton:disabled {{ border-color: #cfd8dc; color: #b0bec5; }}")
            b.setToolTip(tr("Mark the selected passage as {role} ({key})").format(
                role=role_label(role), key=MARK_SHORTCUTS[role]))
            b.clicked.connect(lambda _=False, r=role: self.mark_selection(r))
            self.mark_buttons[role] = b
            marks.addWidget(b)
        self.with_codes_button = QPushButton(tr("With codes…"))
        self.with_codes_button.setToolTip(tr("Mark the selected passage and choose its codes "
                                             "(Ctrl+5)"))
        self.with_codes_button.clicked.connect(lambda: self.mark_selection(None, True))
        marks.addWidget(self.with_codes_button)
        marks.addStretch(1)
        self.banner = QLabel("")
        self.banner.setObjectName("banner")
        self.banner.setWordWrap(True)
        self.banner.hide()
        h_lay.addLayout(marks)
        self.coder_legend = CoderLegend()
        h_lay.addWidget(self.coder_legend)
        h_lay.addWidget(self.banner)
        c_lay.addWidget(header)

        self.doc_tabs = QTabWidget()
        self.doc_tabs.setDocumentMode(True)
        self.doc_view = DocumentView()
        self.doc_view.mark_requested.connect(
            lambda role, codes: self.mark_selection(role or None, codes))
        self.doc_view.excerpts_clicked.connect(self.on_excerpts_clicked)
        self.doc_view.code_dropped.connect(self.mark_with_code)
        self.doc_view.selectionChanged.connect(self._update_mark_buttons)
        self.page_view = PageImageView()
        self.doc_tabs.addTab(self.doc_view, tr("Full text"))
        self.doc_tabs.addTab(self.page_view, tr("Page image"))
        self.doc_tabs.currentChanged.connect(self._on_doc_tab)
        c_lay.addWidget(self.doc_tabs, 1)
        self.find_bar = FindBar(self.doc_view)
        self.find_bar.hide()
        c_lay.addWidget(self.find_bar)

        # Right: coding panel
        self.coding_tabs = QTabWidget()
        self.form_holder = QWidget()
        QVBoxLayout(self.form_holder).setContentsMargins(0, 0, 0, 0)
        self.study_form: StudyForm | None = None
        self.cmoc_panel = CmocPanel(self.actions, self.dialogs)
        self.excerpt_panel = ExcerptPanel(self.actions, self.dialogs)
        self.coding_tabs.addTab(self.form_holder, tr("Study form"))
        self.coding_tabs.addTab(self.cmoc_panel, tr("CMOCs"))
        self.coding_tabs.addTab(self.excerpt_panel, tr("Excerpts"))
        self.coding_tabs.setCurrentWidget(self.cmoc_panel)
        self.excerpt_panel.selection_changed.connect(self._on_excerpt_selection)
        self.excerpt_panel.excerpt_activated.connect(self.show_excerpt)
        self.excerpt_panel.add_to_cmoc_requested.connect(self.add_to_cmoc)
        self.excerpt_panel.new_cmoc_button.clicked.connect(self.new_cmoc_from_selection)
        self.cmoc_panel.evidence_activated.connect(self.show_excerpt)
        self.cmoc_panel.cmoc_selected.connect(self._on_cmoc_selected)

        split = QSplitter(Qt.Orientation.Horizontal)
        split.setObjectName("deskSplit")
        split.addWidget(centre)
        split.addWidget(self.coding_tabs)
        split.setStretchFactor(0, 3)
        split.setStretchFactor(1, 2)
        split.setSizes([560, 440])
        split.setChildrenCollapsible(False)
        self.setCentralWidget(split)

        # Status bar
        self.saved_label = QLabel("")
        self.coder_label = QLabel("")
        self.path_label = QLabel("")
        self.path_label.setObjectName("hint")
        self.statusBar().addWidget(self.saved_label)
        self.statusBar().addPermanentWidget(self.coder_label)
        self.hub_label = QLabel("")
        self.hub_label.setObjectName("hint")
        self.statusBar().addPermanentWidget(self.hub_label)
        self.statusBar().addPermanentWidget(self.path_label)

    def _action(self, menu: Any, text: str, slot: Any, shortcut: Any = None,
                checkable: bool = False) -> QAction:
        act = QAction(text, self)
        if shortcut is not None:
            act.setShortcut(QKeySequence(shortcut))
        act.setCheckable(checkable)
        act.triggered.connect(slot)
        menu.addAction(act)
        return act

    def _build_menus(self) -> None:
        bar = self.menuBar()
        file = bar.addMenu(tr("&File"))
        self._action(file, tr("New project…"), self.new_project, QKeySequence.StandardKey.New)
        self._action(file, tr("Open project…"), self.open_project, QKeySequence.StandardKey.Open)
        self.recent_menu = file.addMenu(tr("Open recent"))
        self.recent_menu.aboutToShow.connect(self._fill_recent)
        file.addSeparator()
        self.import_action = self._action(file, tr("Import files…"), self.import_files,
                                          "Ctrl+I")
        self._action(file, tr("Import a folder…"), self.import_folder)
        self.export_action = self._action(file, tr("Export…"), self.export_project, "Ctrl+E")
        self.merge_action = self._action(file, tr("Merge coders' copies…"), self.merge_projects)
        self.sync_action = self._action(file, tr("Sync with hub…"), self.sync_with_hub)
        self.send_action = self._action(file, tr("Send my work…"), self.send_my_work)
        self._action(file, tr("Backups…"), self.show_backups)
        have = lambda name: importlib.util.find_spec(f"cmo_desk.services.{name}") is not None  # noqa: E731
        self.import_action.setEnabled(have("importing"))
        self.export_action.setEnabled(have("exporting"))
        self.merge_action.setEnabled(have("merging"))
        self.send_action.setEnabled(have("merging"))
        file.addSeparator()
        self._action(file, tr("Preferences…"), self.preferences, QKeySequence.StandardKey.Preferences)
        file.addSeparator()
        self._action(file, tr("Quit"), self.close, QKeySequence.StandardKey.Quit)

        edit = bar.addMenu(tr("&Edit"))
        self.undo_action = self._action(edit, tr("Undo"), self.undo, QKeySequence.StandardKey.Undo)
        self.redo_action = self._action(edit, tr("Redo"), self.redo, QKeySequence.StandardKey.Redo)
        self.undo_stack.canUndoChanged.connect(self.undo_action.setEnabled)
        self.undo_stack.canRedoChanged.connect(self.redo_action.setEnabled)
        self.undo_action.setEnabled(False)
        self.redo_action.setEnabled(False)
        edit.addSeparator()
        self._action(edit, tr("Find in study"), self.find_bar.open_bar, QKeySequence.StandardKey.Find)
        self._action(edit, tr("Search all studies…"), self.search_project, "Ctrl+Shift+F")

        code = bar.addMenu(tr("&Code"))
        for role in ("context", "mechanism", "outcome", "other"):
            self._action(code, tr("Mark as {role}").format(role=role_label(role)),
                         lambda _=False, r=role: self.mark_selection(r), MARK_SHORTCUTS[role])
        self._action(code, tr("Mark with codes…"), lambda: self.mark_selection(None, True),
                     "Ctrl+5")
        code.addSeparator()
        self._action(code, tr("New CMOC"), self.new_cmoc_from_selection, "Ctrl+Shift+N")
        self._action(code, tr("Add selected excerpts to a CMOC…"),
                     lambda: self.add_to_cmoc(self.excerpt_panel.selected_ids()))
        code.addSeparator()
        self._action(code, tr("Retrieve coded passages…"), lambda: self.retrieve_passages(None),
                     "Ctrl+Shift+R")
        code.addSeparator()
        self._action(code, tr("Submit this study…"), self.submit_study)

        self._build_team_menu(bar)

        view = bar.addMenu(tr("&View"))
        self.others_action = self._action(view, tr("Show other coders' work"),
                                          self.toggle_others, "Ctrl+Shift+O", checkable=True)
        self.others_action.setChecked(self.show_others)
        view.addSeparator()
        view.addAction(self.studies_dock.toggleViewAction())
        view.addAction(self.codebook_dock.toggleViewAction())
        self._action(view, tr("Next study"), lambda: self._step_study(1), "Ctrl+PgDown")
        self._action(view, tr("Previous study"), lambda: self._step_study(-1), "Ctrl+PgUp")

        help_menu = bar.addMenu(tr("&Help"))
        self._action(help_menu, tr("Keyboard shortcuts"), self.show_shortcuts, "F1")

    def _build_team_menu(self, bar: Any) -> None:
        def later(module: str, function: str) -> Any:
            # the team windows load their services only when first used, to keep start-up light
            return lambda: getattr(importlib.import_module(f"cmo_desk.ui.{module}"), function)(self)

        team = bar.addMenu(tr("&Team"))
        self._action(team, tr("Reconcile study…"), later("reconcile_view", "open_reconciliation"))
        self._action(team, tr("Conflicts…"), later("conflicts_view", "open_conflicts"))
        self._action(team, tr("Duplicates…"), later("duplicates_view", "open_duplicates"))
        self._action(team, tr("Agreement…"), later("agreement_view", "open_agreement"))
        self._action(team, tr("Synthesis: programme theories…"),
                     later("synthesis_view", "open_synthesis"))
        team.addSeparator()
        self._action(team, tr("Assign this study…"), later("reconcile_view", "assign_study"))
        self._action(team, tr("Submit my coding of this study…"), self.submit_study)

    def retrieve_passages(self, code_id: str | None = None) -> Any:
        from cmo_desk.ui.retrieval_view import open_retrieval

        return open_retrieval(self, code_id)

    def show_backups(self) -> None:
        from cmo_desk.ui.backups_view import open_backups

        open_backups(self)

    # -- refreshing ----------------------------------------------------------------------

    def refresh_all(self) -> None:
        self.coders = {c.id: c for c in self.session.coders()}
        self.refresh_codebook()
        self.refresh_studies()
        if self.study_id:
            self.refresh_study()

    def refresh_codebook(self) -> None:
        codes = self.session.store.list("code")
        self.codes = {c.id: c for c in codes}
        self.codebook.set_codes(codes, dict(desk.code_usage(
            self.session, None if self.show_others else self.session.coder_id)))

    def refresh_studies(self) -> None:
        current = self.study_id
        rows = desk.study_rows(self.session)
        self.study_model.set_rows(rows, list(self.coders.values()))
        if current:
            self._select_study_row(current)

    def _select_study_row(self, study_id: str) -> None:
        row = self.study_model.row_of(study_id)
        if row < 0:
            return
        ix = self.study_proxy.mapFromSource(self.study_model.index(row, 0))
        if ix.isValid():
            self.study_view.blockSignals(True)
            self.study_view.selectionModel().blockSignals(True)
            self.study_view.setCurrentIndex(ix)
            self.study_view.selectionModel().blockSignals(False)
            self.study_view.blockSignals(False)
            self.study_view.scrollTo(ix)

    def _show_save_state(self, problem: str | None) -> None:
        """The status bar says "Not saved" while the disk refuses changes, never "Saved"."""
        if problem:
            self.saved_label.setText(tr("⚠ Not saved ({count} waiting)").format(
                count=len(self.actions.unsaved)))
            self.saved_label.setToolTip(problem)
            self.saved_label.setStyleSheet("color: #b00020; font-weight: bold")
        else:
            self.saved_label.setText(
                tr("✓ Saved at {time}").format(
                    time=local_datetime(datetime.now(), seconds=True, date=False)))
            self.saved_label.setToolTip("")
            self.saved_label.setStyleSheet("")

    def _retry_saves(self) -> None:
        if self.actions.unsaved:
            self.actions.retry_unsaved()
        elif self.session.store.unsettled:
            self.session.store.settle()

    def _on_changed(self, changed: rec.Changed) -> None:
        """Each pane reads again only its slice of what changed."""
        if not self.actions.unsaved:
            self._show_save_state(None)
        if changed.touched("coder"):
            self.coders = {c.id: c for c in self.session.coders()}
        if changed.touched("code") or changed.touched("excerpt_code"):
            self.refresh_codebook()
        studies = desk.studies_touched(self.session, changed)
        if studies is None or changed.touched("coder"):
            self.refresh_studies()
        elif studies and not self.study_model.update_rows(desk.study_rows(self.session, studies)):
            self.refresh_studies()
        mine = bool(self.study_id) and (studies is None or self.study_id in studies)
        if mine and desk.full_text_changed(self.session, changed, self.study_id or ""):
            # the open study's full text arrived (or went): show it
            self.open_study(self.study_id or "")
        elif self.study_id and (mine or any(changed.touched(t) for t in _STUDY_VIEW_SHARED)):
            self.refresh_study(reload_form=False)
            if changed.touched("form_value") and self.study_form is not None:
                # undo and redo change form values without the form knowing
                self.study_form.refresh_values(coding.form_values(self.session, self.study_id))

    def publish(self, work: ProjectWork) -> None:
        """Tell every open view what background work wrote to the project."""
        changed = work.take_changed()
        if changed is None:
            self.refresh_all()
        else:
            self.session.announce(changed)

    def refresh_study(self, reload_form: bool = True) -> None:
        sid = self.study_id
        if not sid:
            return
        self.locked = desk.is_locked(self.session, sid)
        self.excerpts = coding.visible_excerpts(self.session, study_id=sid,
                                                show_others=self.show_others)
        own = self.session.coder_id
        colors = coder_colors(self.coders)
        who = {cid: (c.initials or "", c.name or "") for cid, c in self.coders.items()}
        highlights = [
            Highlight(e.id, e.start or 0, e.end or 0, e.role,
                      None if e.owner_id == own else colors.get(e.owner_id or "", "#777"),
                      *who.get(e.owner_id or "", ("", "")))
            for e in self.excerpts
            if self.document and e.document_id == self.document.id and e.start is not None]
        self.doc_view.set_highlights(highlights)
        self.excerpt_panel.set_excerpts(self.excerpts, self.codes, self.coders, own, self.locked)
        cmocs = coding.visible_cmocs(self.session, sid, show_others=self.show_others)
        self.cmoc_panel.set_study(sid, cmocs, self.coders, own, self.codes,
                                  desk.theories(self.session), self.locked)
        self.doc_view.can_mark = self._can_code()
        self._update_banner()
        self.coder_legend.set_coders(self.coders, {e.owner_id for e in self.excerpts}
                                     | {c.owner_id for c in cmocs}, own)
        self._update_mark_buttons()
        if reload_form and self.study_form is not None:
            self.study_form.set_values(coding.form_values(self.session, sid))
            self.study_form.set_editable(self._can_code())

    def _can_code(self) -> bool:
        return bool(self.study_id) and not self.locked and not self.session.read_only \
            and self.document is not None

    def _update_banner(self) -> None:
        text = ""
        if self.session.read_only:
            text = getattr(self.session.store, "read_only_reason", None) or tr(
                "This project is open read-only; changes cannot be saved.")
        elif self.locked:
            text = tr("You submitted this study, so your coding of it is locked. Ask the "
                      "coordinator to reopen it.")
        elif self.study_id and self.document is None:
            text = tr("This study has no full text yet. Import its PDF or Word file "
                      "(File → Import files…) to code it.")
        self.banner.setText(text)
        self.banner.setVisible(bool(text))

    def _update_mark_buttons(self) -> None:
        # Enabled without a selection too: a click then explains what to do.
        enabled = self._can_code()
        for b in self.mark_buttons.values():
            b.setEnabled(enabled)
        self.with_codes_button.setEnabled(enabled)

    # -- studies -------------------------------------------------------------------------

    def _on_study_row(self, current: QModelIndex, _previous: QModelIndex) -> None:
        if current.isValid():
            sid = current.data(ID_ROLE) or self.study_proxy.index(current.row(), 0).data(ID_ROLE)
            if sid and sid != self.study_id:
                self.open_study(sid)

    def _step_study(self, step: int) -> None:
        row = self.study_view.currentIndex().row() + step
        if 0 <= row < self.study_proxy.rowCount():
            self.study_view.setCurrentIndex(self.study_proxy.index(row, 0))

    def flush_edits(self) -> None:
        """Save whatever is being typed before the screen changes under it."""
        for box in self.findChildren(AutoSaveText):
            if box.has_pending():
                box.flush()
        focus = self.focusWidget()
        if isinstance(focus, QLineEdit) and focus.isModified():
            focus.editingFinished.emit()

    def open_study(self, study_id: str, page: int | None = None) -> bool:
        study: rec.Study | None = self.session.store.get("study", study_id)
        if study is None:
            return False
        self.flush_edits()
        self.study_id = study_id
        self.document = desk.study_document(self.session, study_id)
        self.study_title.setText(study.title or study.label or "")
        meta = [study.label or ""]
        if study.authors:
            meta.append(", ".join(study.authors[:3]) + (" et al." if len(study.authors) > 3
                                                         else ""))
        if study.journal:
            meta.append(study.journal)
        self.study_meta.setText(" · ".join(m for m in meta if m))
        self.doc_view.set_document(self.document, tr("This study has no full text yet.") if (
            self.document is None) else tr(
            "No text was found in this file: it is probably a scanned image. Read it in the Page "
            "image tab, or run OCR on the PDF (for example with OCRmyPDF) and import it again to "
            "code it."))
        is_pdf = bool(self.document and self.document.media_type == "application/pdf"
                      and self.document.has_original)
        self.doc_tabs.setTabEnabled(1, is_pdf)
        self.page_view.set_pdf(self.session.store.get_blob(self.document.sha256)
                               if is_pdf and self.document else None)
        if not is_pdf:
            self.doc_tabs.setCurrentIndex(0)
        self._build_form()
        self.refresh_study()
        self._select_study_row(study_id)
        if page:
            self.doc_view.show_page(page)
        self.study_opened.emit(study_id)
        return True

    def _show_study_menu(self, pos: Any) -> None:
        index = self.study_view.indexAt(pos)
        if not index.isValid():
            return
        sid = self.study_proxy.index(index.row(), 0).data(ID_ROLE)
        menu = self.study_menu(sid) if sid else None
        if menu is not None:
            menu.exec(self.study_view.viewport().mapToGlobal(pos))
            menu.deleteLater()

    def study_menu(self, study_id: str) -> QMenu | None:
        """The right-click menu of a study; the study is opened so every action applies to it."""
        if study_id != self.study_id and not self.open_study(study_id):
            return None
        from cmo_desk.services import reconcile
        from cmo_desk.ui import reconcile_view

        menu = QMenu(self)
        reconcile_act = menu.addAction(
            tr("Reconcile this study…"),
            lambda: reconcile_view.open_reconciliation(self, study_id))
        reconcile_act.setEnabled(len(reconcile.coders_of_study(self.session, study_id)) >= 2)
        assign_act = menu.addAction(tr("Assign coders…"),
                                    lambda: reconcile_view.assign_study(self))
        menu.addSeparator()
        submit_act = menu.addAction(tr("Submit my coding of this study"), self.submit_study)
        reopen_act = menu.addAction(tr("Reopen for editing…"),
                                    lambda: self.reopen_study(study_id))
        menu.addSeparator()
        from cmo_desk.ui import recognition_flow

        ocr_act = menu.addAction(tr("Recognise text (OCR)…"),
                                 lambda: recognition_flow.recognise_study(self, study_id))
        ocr_act.setEnabled(not self.session.read_only and bool(
            recognition_flow.documents_to_recognise(self.session, study_id)))
        writable = not self.session.read_only
        assign_act.setEnabled(writable)
        submit_act.setEnabled(writable and bool(self.session.coder_id) and not self.locked)
        reopen_act.setEnabled(writable and bool(self._submitted_coders(study_id)))
        return menu

    def _submitted_coders(self, study_id: str) -> list[tuple[str, str]]:
        """(coder id, name) of the coders who handed this study in, by name."""
        found = [(cid, (self.coders[cid].name if cid in self.coders else None) or cid)
                 for cid, status in coding.study_status(self.session, study_id).items()
                 if status == rec.AssignmentStatus.SUBMITTED.value]
        return sorted(found, key=lambda pair: pair[1].casefold())

    def reopen_study(self, study_id: str) -> bool:
        """Unlock one coder's submitted coding of a study so they can edit it again."""
        submitted = self._submitted_coders(study_id)
        if not submitted:
            self.report_error(tr("Nobody has submitted this study, so there is nothing to "
                                 "reopen."))
            return False
        coder = self.dialogs.choose_item(tr("Reopen for editing"),
                                         tr("Whose submitted coding should be reopened?"),
                                         submitted)
        if not coder:
            return False
        ok, _ = self.actions.run(lambda: coding.reopen_study(self.session, study_id, coder))
        if not ok:
            return False
        name = dict(submitted).get(coder, coder)
        self.refresh_studies()
        if study_id == self.study_id:
            self.refresh_study()
        self.statusBar().showMessage(tr("Reopened the study for {name}.").format(name=name),
                                     8000)
        return True

    def open_study_by_label(self, label: str) -> bool:
        for s in self.session.store.list("study", columns=("label",)):
            if (s.label or "").casefold() == label.casefold():
                return self.open_study(s.id)
        return False

    def _build_form(self) -> None:
        if self.study_form is None:
            self.study_form = StudyForm(self.session.template(), self._save_form_value)
            self.form_holder.layout().addWidget(self.study_form)

    def _save_form_value(self, key: str, old: Any, new: Any) -> None:
        if self.study_id:
            if not self.actions.set_form_value(self.study_id, key, old, new):
                self.refresh_study()

    def _on_doc_tab(self, index: int) -> None:
        if index == 1:
            colors = coder_colors(self.coders)
            own = self.session.coder_id
            self.page_view.highlights = [
                (e.page or 0, e.quote or "", ROLE_COLORS.get(e.role or "other", "#616161")
                 if e.owner_id == own else colors.get(e.owner_id or "", "#777"))
                for e in self.excerpts
                if self.document and e.document_id == self.document.id and e.page]
            self.page_view._rendered = None
            self.page_view.show_page(self.doc_view.current_page())

    # -- coding --------------------------------------------------------------------------

    def mark_selection(self, role: str | None, with_codes: bool = False,
                       code_ids: list[str] | None = None) -> str | None:
        span = self.doc_view.selection_span()
        if span is None or self.document is None:
            self.statusBar().showMessage(tr("Select a passage in the text first."), 4000)
            return None
        codes = list(code_ids or [])
        if with_codes:
            chosen = self.dialogs.choose_codes(list(self.codes.values()), codes,
                                               tr("Codes for this passage"))
            if chosen is None:
                return None
            codes = chosen
            if role is None:
                kinds = {self.codes[c].kind for c in codes if c in self.codes}
                kinds &= {"context", "mechanism", "outcome", "intervention"}
                role = kinds.pop() if len(kinds) == 1 else "other"
        held = self._code_existing_excerpt(span, role, codes)
        if held is not None:
            return held or None
        eid = self.actions.add_excerpt(self.document.id, span[0], span[1], role or "other", codes)
        if eid:
            cur = self.doc_view.textCursor()
            cur.clearSelection()
            self.doc_view.setTextCursor(cur)
            self.excerpt_panel.select([eid])
            self.doc_view.set_current({eid})
            self.excerpt_created.emit(eid)
        return eid

    def _code_existing_excerpt(self, span: tuple[int, int], role: str | None,
                               codes: list[str]) -> str | None:
        """When the selection is an excerpt already marked, code that one instead of a copy.

        Returns the excerpt id used, '' when the coder cancelled, None to mark a new excerpt.
        """
        assert self.document is not None
        held = passages.holder_of(self.excerpts, self.document.id, span[0], span[1],
                                  self.session.coder_id)
        if held is None:
            return None
        ex = held.excerpt
        if not codes:
            if not (held.same and (role or "other") == (ex.role or "other")):
                return None
            self.statusBar().showMessage(tr("This passage is already marked as {role}.").format(
                role=role_label(ex.role)), 6000)
        else:
            if not held.same:
                answer = self.dialogs.choose_item(
                    tr("Code a passage inside an excerpt"),
                    tr("The selection lies inside an excerpt you marked on page {page}. Add the "
                       "code to that excerpt, or mark the selection as a new excerpt?").format(
                        page=ex.page or "?"),
                    [("existing", tr("Add the code to the existing excerpt")),
                     ("new", tr("Mark the selection as a new excerpt"))])
                if answer is None:
                    return ""
                if answer == "new":
                    return None
            added = [c for c in codes if c not in ex.code_ids]
            if added and not self.actions.set_excerpt_codes(
                    ex.id, list(ex.code_ids), list(ex.code_ids) + added):
                return ""
            self.statusBar().showMessage(tr(
                "Added the code to the excerpt already marked here.") if added else tr(
                "The excerpt already marked here has this code."), 6000)
        cur = self.doc_view.textCursor()
        cur.clearSelection()
        self.doc_view.setTextCursor(cur)
        self.excerpt_panel.select([ex.id])
        self.doc_view.set_current({ex.id})
        return ex.id

    def mark_with_code(self, code_id: str) -> None:
        code = self.codes.get(code_id)
        if code is None:
            return
        role = code.kind if code.kind in ROLE_COLORS else "other"
        self.mark_selection(role, code_ids=[code_id])

    def on_excerpts_clicked(self, ids: list[str]) -> None:
        self.doc_view.set_current(set(ids))
        if not ids:
            return
        self.excerpt_panel.select(ids)
        cmocs = desk.cmocs_of_excerpts(self.session, ids)
        shown = [c for c in cmocs if self.cmoc_panel.model.row_of(c) >= 0]
        if shown:
            self.cmoc_panel.select_cmoc(shown[0])
        ex = next((e for e in self.excerpts if e.id == ids[0]), None)
        if ex:
            self.statusBar().showMessage(
                trn("{role} excerpt on page {page}; cited by {n} CMOC",
                    "{role} excerpt on page {page}; cited by {n} CMOCs", len(shown)).format(
                    role=role_label(ex.role), page=ex.page or "?", n=len(shown)), 5000)

    def _on_excerpt_selection(self, ids: list[str]) -> None:
        self.doc_view.set_current(set(ids))
        self.cmoc_panel.selected_excerpts = list(ids)

    def _on_cmoc_selected(self, cmoc_id: str) -> None:
        cmoc = self.cmoc_panel.cmoc
        if cmoc is not None and not self.excerpt_panel.selected_ids():
            self.doc_view.set_current(set(cmoc.excerpt_ids))

    def show_excerpt(self, excerpt_id: str) -> None:
        ex = next((e for e in self.excerpts if e.id == excerpt_id), None)
        if ex is None or ex.start is None:
            return
        self.doc_tabs.setCurrentIndex(0)
        self.doc_view.show_offset(ex.start)
        self.doc_view.set_current({excerpt_id})

    def new_cmoc_from_selection(self) -> str | None:
        if not self.study_id:
            return None
        ids = self.excerpt_panel.selected_ids()
        own = {e.id for e in self.excerpts}
        cid = self.actions.create_cmoc(self.study_id, [i for i in ids if i in own])
        if cid:
            self.coding_tabs.setCurrentWidget(self.cmoc_panel)
            self.cmoc_panel.select_cmoc(cid)
            self.cmoc_panel.texts["statement"].setFocus()
        return cid

    def add_to_cmoc(self, excerpt_ids: list[str]) -> None:
        if not excerpt_ids:
            return
        own = self.session.coder_id
        choices = []
        for row in range(self.cmoc_panel.model.rowCount()):
            cmoc = self.cmoc_panel.model.cmoc(row)
            if cmoc and cmoc.owner_id == own:
                choices.append((cmoc.id, self.cmoc_panel.model.index(row, 0).data()))
        if not choices:
            self.new_cmoc_from_selection()
            return
        cid = self.dialogs.choose_item(tr("Add to CMOC"), tr("Cite the selected excerpts in:"),
                                       choices)
        if cid:
            self.actions.link_excerpts(cid, excerpt_ids, None)
            self.coding_tabs.setCurrentWidget(self.cmoc_panel)
            self.cmoc_panel.select_cmoc(cid)

    def submit_study(self) -> None:
        if self.study_id and self.dialogs.confirm(tr(
                "Submit your coding of this study? It becomes read-only for you until the "
                "coordinator reopens it.")):
            self.actions.submit_study(self.study_id)
            self.refresh_study()

    def undo(self) -> None:
        self.flush_edits()
        self.undo_stack.undo()
        self.refresh_study()

    def redo(self) -> None:
        self.undo_stack.redo()
        self.refresh_study()

    def toggle_others(self, on: bool) -> None:
        self.show_others = bool(on)
        self.settings.show_other_coders = self.show_others
        try:
            self.settings.save()
        except OSError:
            pass
        self.refresh_codebook()
        self.refresh_study()

    def report_error(self, message: str) -> None:
        self._last_error = message
        self.statusBar().showMessage(message, 8000)
        self.dialogs.error(message)

    # -- project search ------------------------------------------------------------------

    def search_project(self) -> SearchDialog:
        from cmo_desk.services import retrieval

        def in_cmocs(words: str) -> list[Any]:
            shown = None if self.show_others else {self.session.coder_id}
            return [p for p in retrieval.retrieve(self.session, words=words, coders_shown=shown)
                    if p.kind == "cmoc"] if words.strip() else []

        dlg = SearchDialog(self.session.store.search, self, in_cmocs)
        dlg.hit_chosen.connect(lambda sid, page: self.open_search_hit(sid, page,
                                                                      dlg.query.text()))
        dlg.cmoc_chosen.connect(self.open_cmoc)
        dlg.show()
        self._search_dialog = dlg
        return dlg

    def open_search_hit(self, study_id: str, page: int, words: str) -> None:
        """Open a study at the first match of ``words`` on ``page``, highlighted."""
        if not self.open_study(study_id, page):
            return
        self.doc_tabs.setCurrentIndex(0)
        self.find_bar.show()
        self.find_bar.query.setText(words)  # finds and shows every match; now go to the page's
        starts = self.doc_view._page_starts
        first = starts[page - 1] if 0 < page <= len(starts) else 0
        for i, (a, b) in enumerate(self.find_bar.matches):
            if a >= first:
                self.find_bar.index = i - 1
                self.find_bar.next()
                self.doc_view.select_span(a, b)
                break

    def open_cmoc(self, study_id: str, cmoc_id: str) -> None:
        if self.open_study(study_id):
            self.coding_tabs.setCurrentWidget(self.cmoc_panel)
            self.cmoc_panel.select_cmoc(cmoc_id)

    # -- files and background work -------------------------------------------------------

    def new_project(self) -> None:
        path = self.dialogs.save_path(tr("New project"), tr("CMO Desk projects (*.cmo)"))
        if not path:
            return
        if not path.endswith(".cmo"):
            path += ".cmo"
        from cmo_desk.services.projects import new_project

        ok, session = self.actions.run(lambda: new_project(path, coder=self.session.coder_name))
        if ok:
            self._switch_to(session)

    def open_project(self) -> None:
        paths = self.dialogs.open_paths(tr("Open project"), tr("CMO Desk projects (*.cmo)"))
        if paths:
            self.open_path(paths[0])

    def open_path(self, path: str) -> None:
        from cmo_desk.ui.backups_view import open_with_recovery

        ok, session = self.actions.run(
            lambda: open_with_recovery(path, self.session.coder_name, self.dialogs))
        if ok:
            self._switch_to(session)

    def _fill_recent(self) -> None:
        self.recent_menu.clear()
        for p in self.settings.recent:
            self.recent_menu.addAction(p, lambda path=p: self.open_path(path))
        if not self.settings.recent:
            self.recent_menu.addAction(tr("(none yet)")).setEnabled(False)

    def _switch_to(self, session: Session) -> None:
        """Replace this window with one on another project."""
        self.settings.add_recent(session.path)
        try:
            self.settings.save()
        except OSError:
            pass
        window = MainWindow(session, self.settings)
        window.owns_session = True
        window.show()
        rows = window.study_model.rowCount()
        if rows:
            window.study_view.setCurrentIndex(window.study_proxy.index(0, 0))
        self._successor = window
        self.close()

    def _worker_session(self) -> Session:
        return Session.open(self.session.path, coder=self.session.coder_name)

    def run_task(self, title: str, work: Any, on_success: Any) -> Any:
        """Run ``work(session, progress, cancelled)`` in the background with its own session."""
        job = ProjectWork(self.session.path, self.session.coder_name, work)

        def done(result: Any) -> None:
            self.publish(job)
            on_success(result)

        def failed(message: str) -> None:
            self.publish(job)
            self.report_error(message)

        def cancelled() -> None:
            self.publish(job)
            self.statusBar().showMessage(tr("Cancelled; nothing was changed."), 6000)

        task, dialog = run_with_progress(self.runner, self, title, job, done, failed, cancelled)
        self._progress_dialog = dialog
        return task

    def import_files(self) -> None:
        paths = self.dialogs.open_paths(tr("Import references and full texts"), tr(
            "References and full texts (*.ris *.bib *.nbib *.txt *.xml *.json *.pdf *.docx "
            "*.odt *.html *.htm);;All files (*)"))
        if paths:
            self.start_import(paths)

    def import_folder(self) -> None:
        folder = self.dialogs.open_folder(tr("Import a folder of references and full texts"))
        if folder:
            self.start_import([folder])

    def start_import(self, paths: list[str]) -> Any:
        from cmo_desk.ui.import_flow import start_desk_import

        return start_desk_import(self, paths)

    def export_project(self) -> Any:
        from cmo_desk.ui.export_dialog import open_export

        return open_export(self)

    def sync_with_hub(self) -> Any:
        from cmo_desk.ui.hub_flow import sync_with_hub

        return sync_with_hub(self)

    def merge_projects(self) -> None:
        from cmo_desk.ui.merge_flow import choose_and_merge

        choose_and_merge(self)

    def send_my_work(self) -> Any:
        from cmo_desk.ui.merge_flow import send_my_work

        return send_my_work(self)

    def preferences(self) -> None:
        answer = self.dialogs.preferences(self.settings.coder_name or "",
                                          self.settings.language or current_language())
        if answer:
            name, lang = answer
            self.settings.coder_name = name or self.settings.coder_name
            self.settings.language = lang
            try:
                self.settings.save()
            except OSError as err:
                self.report_error(str(err))
            self.statusBar().showMessage(tr("Saved. Restart CMO Desk to use the new settings."),
                                         8000)

    def show_shortcuts(self) -> None:
        from PySide6.QtWidgets import QMessageBox

        rows = [
            ("Ctrl+1 / 2 / 3 / 4", tr("Mark the selected passage as Context / Mechanism / "
                                      "Outcome / Other")),
            ("Ctrl+5", tr("Mark with codes…")),
            ("Ctrl+Shift+N", tr("New CMOC from the selected excerpts")),
            ("Ctrl+Z / Ctrl+Shift+Z", tr("Undo / redo a coding action")),
            ("Ctrl+F", tr("Find in this study")),
            ("Ctrl+Shift+F", tr("Search all studies")),
            ("Ctrl+PgUp / PgDown", tr("Previous / next study")),
            ("Ctrl+Shift+O", tr("Show or hide other coders' work")),
        ]
        html = "<table cellpadding=4>" + "".join(
            f"<tr><td><b>{k}</b></td><td>{v}</td></tr>" for k, v in rows) + "</table>"
        QMessageBox.information(self, tr("Keyboard shortcuts"), html)

    # -- lifetime ------------------------------------------------------------------------

    def _refresh_lock(self) -> None:
        from cmo_desk.services import recovery

        try:
            if not recovery.refresh_lock(self.session):
                # Saving on would mix two desks' writes under one lock: stop saving here.
                recovery.lost_lock(self.session)
                for t in self._timers:
                    t.stop()
                self.report_error(self.session.store.read_only_reason or "")
                self.refresh_study()
        except Exception:  # noqa: BLE001 - a network share hiccup must not close the desk
            pass

    def _maybe_backup(self) -> None:
        from cmo_desk.services import backups

        # written on its own thread; a failure is shown at the next check
        backups.maybe_backup(self.session, background=True)
        warning, self.session.store.backup_warning = self.session.store.backup_warning, None
        if warning:
            self.statusBar().showMessage(warning, 30_000)

    def open_last_study(self) -> bool:
        """Open the study this project was left on, when it is still there."""
        sid = self.layout_memory.last_study(self.session.path)
        return bool(sid) and self.open_study(sid)  # type: ignore[arg-type]

    def shutdown(self) -> None:
        """Save pending edits, stop timers and background work; leave the session open."""
        if self.session is None:  # closed while the project was still opening
            return
        self.flush_edits()
        self.layout_memory.save_window(self)
        self.layout_memory.remember_study(self.session.path, self.study_id)
        for t in self._timers:
            t.stop()
        self.runner.cancel_all()
        self.runner.wait()
        self.page_view.close_pdf()
        if self._on_changed in self.session.listeners:
            self.session.listeners.remove(self._on_changed)

    def closeEvent(self, event: QCloseEvent) -> None:
        self.flush_edits()
        if self.actions.unsaved and not self.actions.retry_unsaved() and not self.dialogs.confirm(
                tr("{count} changes could not be saved because the disk refuses them. Close "
                   "anyway and lose them?").format(count=len(self.actions.unsaved))):
            event.ignore()
            return
        self.shutdown()
        if getattr(self, "owns_session", False) and self.session is not None:
            self.session.close()
        super().closeEvent(event)
