"""The desk's menus: the menu bar and a study's right-click menu."""

from __future__ import annotations

import importlib
import importlib.util
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QMenu, QWidget

from cmo_desk.domain.i18n import tr
from cmo_desk.ui.document_view import MARK_SHORTCUTS
from cmo_desk.ui.theme import role_label

if TYPE_CHECKING:
    from cmo_desk.ui.main_window import MainWindow


def _action(owner: QWidget, menu: QMenu, text: str, slot: Callable[..., Any],
            shortcut: Any = None, checkable: bool = False) -> QAction:
    act = QAction(text, owner)
    if shortcut is not None:
        act.setShortcut(QKeySequence(shortcut))
    act.setCheckable(checkable)
    act.triggered.connect(slot)
    menu.addAction(act)
    return act


def _have(name: str) -> bool:
    return importlib.util.find_spec(f"cmo_desk.services.{name}") is not None


def build_menus(window: MainWindow) -> None:
    """File, Edit, Code, Team, View and Help; the actions others enable are kept on the window."""
    control, bar = window.control, window.menuBar()
    keys = QKeySequence.StandardKey

    def add(menu: QMenu, text: str, slot: Callable[..., Any], shortcut: Any = None,
            checkable: bool = False) -> QAction:
        return _action(window, menu, text, slot, shortcut, checkable)

    file = bar.addMenu(tr("&File"))
    add(file, tr("New project…"), control.new_project, keys.New)
    add(file, tr("Open project…"), control.open_project, keys.Open)
    window.recent_menu = recent = file.addMenu(tr("Open recent"))
    recent.aboutToShow.connect(lambda: control.fill_recent(recent))
    file.addSeparator()
    window.import_action = add(file, tr("Import files…"), control.import_files, "Ctrl+I")
    add(file, tr("Import a folder…"), control.import_folder)
    window.export_action = add(file, tr("Export…"), control.export_project, "Ctrl+E")
    window.merge_action = add(file, tr("Merge coders' copies…"), control.merge_projects)
    window.sync_action = add(file, tr("Sync with hub…"), control.sync_with_hub)
    window.send_action = add(file, tr("Send my work…"), control.send_my_work)
    add(file, tr("Backups…"), window.show_backups)
    window.import_action.setEnabled(_have("importing"))
    window.export_action.setEnabled(_have("exporting"))
    window.merge_action.setEnabled(_have("merging"))
    window.send_action.setEnabled(_have("merging"))
    file.addSeparator()
    add(file, tr("Preferences…"), control.preferences, keys.Preferences)
    file.addSeparator()
    add(file, tr("Quit"), window.close, keys.Quit)

    edit = bar.addMenu(tr("&Edit"))
    window.undo_action = add(edit, tr("Undo"), window.undo, keys.Undo)
    window.redo_action = add(edit, tr("Redo"), window.redo, keys.Redo)
    window.undo_stack.canUndoChanged.connect(window.undo_action.setEnabled)
    window.undo_stack.canRedoChanged.connect(window.redo_action.setEnabled)
    window.undo_action.setEnabled(False)
    window.redo_action.setEnabled(False)
    edit.addSeparator()
    add(edit, tr("Find in study"), lambda: window.find_bar.open_bar(), keys.Find)
    add(edit, tr("Search all studies…"), window.search_project, "Ctrl+Shift+F")

    code = bar.addMenu(tr("&Code"))
    for role in ("context", "mechanism", "outcome", "other"):
        add(code, tr("Mark as {role}").format(role=role_label(role)),
            lambda _=False, r=role: window.mark_selection(r), MARK_SHORTCUTS[role])
    add(code, tr("Mark with codes…"), lambda: window.mark_selection(None, True), "Ctrl+5")
    code.addSeparator()
    add(code, tr("New CMOC"), window.new_cmoc_from_selection, "Ctrl+Shift+N")
    add(code, tr("Add selected excerpts to a CMOC…"),
        lambda: window.add_to_cmoc(window.excerpt_panel.selected_ids()))
    code.addSeparator()
    add(code, tr("Retrieve coded passages…"), lambda: window.retrieve_passages(None),
        "Ctrl+Shift+R")
    code.addSeparator()
    add(code, tr("Submit this study…"), window.submit_study)

    _team_menu(window, bar.addMenu(tr("&Team")))

    view = bar.addMenu(tr("&View"))
    window.others_action = add(view, tr("Show other coders' work"), window.toggle_others,
                               "Ctrl+Shift+O", checkable=True)
    window.others_action.setChecked(window.show_others)
    view.addSeparator()
    view.addAction(window.studies_dock.toggleViewAction())
    view.addAction(window.codebook_dock.toggleViewAction())
    add(view, tr("Next study"), lambda: window.studies.step(1), "Ctrl+PgDown")
    add(view, tr("Previous study"), lambda: window.studies.step(-1), "Ctrl+PgUp")

    help_menu = bar.addMenu(tr("&Help"))
    add(help_menu, tr("Keyboard shortcuts"), control.show_shortcuts, "F1")


def _team_menu(window: MainWindow, team: QMenu) -> None:
    def later(module: str, function: str) -> Callable[[], Any]:
        # the team windows load their services only when first used, to keep start-up light
        return lambda: getattr(importlib.import_module(f"cmo_desk.ui.{module}"), function)(window)

    for text, module, function in (
            (tr("Reconcile study…"), "reconcile_view", "open_reconciliation"),
            (tr("Conflicts…"), "conflicts_view", "open_conflicts"),
            (tr("Duplicates…"), "duplicates_view", "open_duplicates"),
            (tr("Agreement…"), "agreement_view", "open_agreement"),
            (tr("Synthesis: programme theories…"), "synthesis_view", "open_synthesis")):
        _action(window, team, text, later(module, function))
    team.addSeparator()
    _action(window, team, tr("Assign this study…"), later("assign_dialog", "assign_study"))
    _action(window, team, tr("Submit my coding of this study…"), window.submit_study)


def study_menu(window: MainWindow, study_id: str) -> QMenu:
    """The right-click menu of the study open in the window."""
    from cmo_desk.services import desk_rules, reconcile
    from cmo_desk.ui import assign_dialog, reconcile_view, recognition_flow

    session = window.session
    menu = QMenu(window)
    reconcile_act = menu.addAction(
        tr("Reconcile this study…"),
        lambda: reconcile_view.open_reconciliation(window, study_id))
    reconcile_act.setEnabled(len(reconcile.coders_of_study(session, study_id)) >= 2)
    assign_act = menu.addAction(tr("Assign coders…"),
                                lambda: assign_dialog.assign_study(window))
    menu.addSeparator()
    submit_act = menu.addAction(tr("Submit my coding of this study"), window.submit_study)
    reopen_act = menu.addAction(tr("Reopen for editing…"),
                                lambda: window.reopen_study(study_id))
    menu.addSeparator()
    ocr_act = menu.addAction(tr("Recognise text (OCR)…"),
                             lambda: recognition_flow.recognise_study(window, study_id))
    ocr_act.setEnabled(not session.read_only and bool(
        recognition_flow.documents_to_recognise(session, study_id)))
    writable = not session.read_only
    assign_act.setEnabled(writable)
    submit_act.setEnabled(writable and bool(session.coder_id) and not window.locked)
    reopen_act.setEnabled(writable and bool(desk_rules.submitted_coders(session, study_id)))
    return menu
