"""The coding desk: studies on the left, the full text in the middle, the coding panel on the right."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from PySide6.QtCore import QPoint, Qt, Signal
from PySide6.QtGui import QAction, QCloseEvent
from PySide6.QtWidgets import QDockWidget, QLabel, QLineEdit, QMainWindow, QMenu, QSplitter, QWidget

from cmo_desk.domain import records as rec
from cmo_desk.domain.errors import ValidationError
from cmo_desk.domain.i18n import tr, trn
from cmo_desk.services import coding, desk, desk_rules, passages
from cmo_desk.services.session import Session
from cmo_desk.services.settings import Settings
from cmo_desk.ui import no_wheel, none_guard
from cmo_desk.ui.codebook import CodebookPanel
from cmo_desk.ui.coding_pane import CodingPane
from cmo_desk.ui.desk_controller import DeskController
from cmo_desk.ui.desk_menus import build_menus, study_menu
from cmo_desk.ui.dialogs import Dialogs, SearchDialog
from cmo_desk.ui.document_view import Highlight
from cmo_desk.ui.editors import flush_typing
from cmo_desk.ui.document_pane import DocumentPane, follow_open_study, gone_text, study_gone
from cmo_desk.ui.language import local_datetime
from cmo_desk.ui.studies_pane import StudiesPane
from cmo_desk.ui.study_form import StudyForm
from cmo_desk.ui.theme import ROLE_COLORS, coder_colors, role_label
from cmo_desk.ui.coding_actions import CodingActions, DeskUndoStack
from cmo_desk.ui.opening_state import WhileOpening
from cmo_desk.ui.window_fit import LayoutMemory, fit_to_screen
from cmo_desk.ui.workers import BackgroundRunner, ProjectWork

#: Records that the open study's panes show whichever study they belong to.
_STUDY_VIEW_SHARED = ("code", "theory", "coder")


class MainWindow(QMainWindow):
    study_opened = Signal(str)
    excerpt_created = Signal(str)
    # made with the menus (ui/desk_menus.py)
    recent_menu: QMenu
    import_action: QAction
    export_action: QAction
    merge_action: QAction
    sync_action: QAction
    send_action: QAction
    undo_action: QAction
    redo_action: QAction
    others_action: QAction

    def __init__(self, session: Session | None, settings: Settings,
                 dialogs: Dialogs | None = None, opening: str | None = None) -> None:
        """Without a session the window is painted in an "Opening…" state, closed to input,
        until ``attach`` gives it the project (start-up paints first, then opens the file)."""
        super().__init__()
        none_guard.install()
        self.session = session  # type: ignore[assignment]
        self.settings = settings
        self.dialogs = dialogs or Dialogs(self)
        self.undo_stack = DeskUndoStack(self)
        self.actions = CodingActions(session, self.undo_stack, self.report_error)
        self.runner = BackgroundRunner(self)
        self.show_others = bool(settings.show_other_coders)
        self.study_id: str | None = None
        self.document: rec.Document | None = None
        self.codes: dict[str, rec.Code] = {}
        self.coders: dict[str, rec.Coder] = {}
        self.excerpts: list[rec.Excerpt] = []
        self.locked = False
        #: windows opened from the desk (search, team windows), the last of each kind by name
        self.open_views: dict[str, QWidget] = {}
        fit_to_screen(self, 1366, 768)
        self.control = control = DeskController(session, self.dialogs, self.runner, self,
                                                settings, self.actions)
        # what the flows, menus and timers ask of the window is done by its controller
        self.run_task, self.start_import = control.run_task, control.start_import
        self.export_project, self.sync_with_hub = control.export_project, control.sync_with_hub
        self.merge_projects, self.send_my_work = control.merge_projects, control.send_my_work
        self.open_path, self._timers = control.open_path, control.timers
        self._refresh_lock, self._retry_saves = control.refresh_lock, control.retry_saves
        self._build()
        build_menus(self)
        self.layout_memory = LayoutMemory(settings.path.parent if settings.path else None)
        self.layout_memory.restore_window(self)
        self.actions.on_save_state = self._show_save_state
        self.actions.alert = self.dialogs.error
        self._while_opening: WhileOpening | None = None
        self._completed = False
        if session is None:
            self._while_opening = WhileOpening(self, opening or "")
        else:
            self.attach(session)

    def complete(self) -> None:
        """Make, once, the panes the first frame hides (excerpt_panel, page_view, find_bar) and
        the wheel guard (earlier, all building and painting passes it): once painted, or attach."""
        if self._completed:
            return
        self._completed = True
        self.document_pane.complete()
        self.page_view, self.find_bar = self.document_pane.page_view, self.document_pane.find_bar
        self.excerpt_panel = panel = self.coding_tabs.complete()
        panel.selection_changed.connect(self._on_excerpt_selection)
        panel.excerpt_activated.connect(self.show_excerpt)
        panel.add_to_cmoc_requested.connect(self.add_to_cmoc)
        panel.new_cmoc_button.clicked.connect(self.new_cmoc_from_selection)
        no_wheel.install()  # the boxes already built are set right when it is installed

    def attach(self, session: Session) -> None:
        """Show an opened project in this window and let the user work on it."""
        self.complete()
        self.session = session
        self.actions.session = session
        self.control.attach(session)
        self.setWindowTitle(self._title())
        self.path_label.setText(str(session.path))
        from cmo_desk.ui.hub_flow import last_sync_text

        self.hub_label.setText(last_sync_text(session))
        self.coder_label.setText(tr("Coding as {name}").format(
            name=session.coder_name or tr("no coder name")))
        self.study_title.setText(tr("Choose a study on the left"))
        self.saved_label.setText(tr("All changes saved"))
        session.listeners.append(self._on_changed)
        self.refresh_all()
        if self._while_opening is not None:
            self._while_opening.end()
            self._while_opening = None

    def _title(self) -> str:
        project = self.session.store.project().title or self.session.path.stem
        return f"{project} — CMO Desk"

    # -- building ------------------------------------------------------------------------

    def _build(self) -> None:
        # Studies dock
        self.studies = StudiesPane()
        self.study_filter, self.study_view = self.studies.filter, self.studies.view
        self.study_model, self.study_proxy = self.studies.model, self.studies.proxy
        self.studies.study_chosen.connect(self._on_study_chosen)
        self.studies.menu_requested.connect(self._show_study_menu)
        self.studies_dock = QDockWidget(tr("Studies"), self)
        self.studies_dock.setObjectName("studiesDock")
        self.studies_dock.setWidget(self.studies)
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
        centre = self.document_pane = DocumentPane()
        self.study_title, self.study_meta = centre.study_title, centre.study_meta
        self.mark_buttons, self.with_codes_button = centre.mark_buttons, centre.with_codes_button
        self.banner, self.coder_legend = centre.banner, centre.coder_legend
        self.doc_tabs, self.doc_view = centre.doc_tabs, centre.doc_view
        centre.mark_requested.connect(lambda role, codes: self.mark_selection(role, codes))
        self.doc_view.mark_requested.connect(
            lambda role, codes: self.mark_selection(role or None, codes))
        self.doc_view.excerpts_clicked.connect(self.on_excerpts_clicked)
        self.doc_view.code_dropped.connect(self.mark_with_code)
        self.doc_view.selectionChanged.connect(self._update_mark_buttons)
        self.doc_tabs.currentChanged.connect(self._on_doc_tab)

        # Right: coding panel
        self.coding_tabs = CodingPane(self.actions, self.dialogs)
        self.form_holder = self.coding_tabs.form_holder
        self.cmoc_panel = self.coding_tabs.cmoc_panel
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
            self.studies.show_current(current)

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
        if follow_open_study(self, changed):  # folded into another study: that one is open
            return
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
        self.locked = study_gone(self) or desk.is_locked(self.session, sid)
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
            text = gone_text(self) or tr("You submitted this study, so your coding of it is "
                                         "locked. Ask the coordinator to reopen it.")
        elif self.study_id and self.document is None:
            text = tr("This study has no full text yet. Import its PDF or Word file "
                      "(File → Import files…) to code it.")
        self.document_pane.show_banner(text)

    def _update_mark_buttons(self) -> None:
        self.document_pane.set_can_mark(self._can_code())

    # -- studies -------------------------------------------------------------------------

    def _on_study_chosen(self, study_id: str) -> None:
        if study_id != self.study_id:
            self.open_study(study_id)

    def flush_edits(self, ask: bool = False) -> None:
        """Save what is being typed before the screen changes (``ask``: say what cannot be)."""
        flush_typing(self, ask)
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
        self.document_pane.show_study(study, self.document, self.session.store.get_blob)
        self.coding_tabs.ensure_form(self.session.template(), self._save_form_value)
        self.refresh_study()
        self.studies.show_current(study_id)
        if page:
            self.doc_view.show_page(page)
        self.study_opened.emit(study_id)
        return True

    def _show_study_menu(self, study_id: str, where: QPoint) -> None:
        menu = self.study_menu(study_id)
        if menu is not None:
            menu.exec(where)
            menu.deleteLater()

    def study_menu(self, study_id: str) -> QMenu | None:
        """The right-click menu of a study; the study is opened so every action applies to it."""
        if study_id != self.study_id and not self.open_study(study_id):
            return None
        return study_menu(self, study_id)

    def reopen_study(self, study_id: str) -> bool:
        """Unlock one coder's submitted coding of a study so they can edit it again."""
        submitted = desk_rules.submitted_coders(self.session, study_id)
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
        """Open the one study a label names (as the command line reads labels)."""
        try:
            study_id = desk_rules.study_by_label(self.session, label)
        except ValidationError as err:
            self.statusBar().showMessage(str(err), 10000)
            return False
        return self.open_study(study_id)

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
                role = desk_rules.role_for_codes(self.codes, codes)
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
        if code_id in self.codes:
            self.mark_selection(desk_rules.role_for_codes(self.codes, [code_id]),
                                code_ids=[code_id])

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
        cid = self.actions.create_cmoc(self.study_id, desk_rules.citable_excerpts(
            self.session, self.study_id, self.excerpt_panel.selected_ids(), self.show_others))
        if cid:
            self.coding_tabs.show_cmoc(cid)
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
            self.coding_tabs.show_cmoc(cid)

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

    @property
    def study_form(self) -> StudyForm | None:
        return self.coding_tabs.study_form

    def keep_open(self, name: str, view: QWidget) -> QWidget:
        """Hold a window opened from the desk while it is shown."""
        self.open_views[name] = view
        return view

    # the reconcile and synthesis windows opened last
    _reconcile_view = property(lambda self: self.open_views.get("reconcile"))
    _synthesis_view = property(lambda self: self.open_views.get("synthesis"))

    def report_error(self, message: str) -> None:
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
        self.keep_open("search", dlg)
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
            self.coding_tabs.show_cmoc(cmoc_id)

    # -- other projects ------------------------------------------------------------------

    def switch_to(self, session: Session) -> MainWindow:
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
        self.successor = window  # held here: nothing else holds the new window
        self.close()
        return window

    # -- lifetime ------------------------------------------------------------------------

    def open_last_study(self) -> bool:
        """Open the study this project was left on, when it is still there."""
        sid = self.layout_memory.last_study(self.session.path)
        return bool(sid) and self.open_study(sid)  # type: ignore[arg-type]

    def shutdown(self) -> None:
        """Save pending edits, stop timers and background work; leave the session open."""
        if self.session is None:  # closed while the project was still opening
            return
        self.flush_edits(ask=True)
        self.layout_memory.save_window(self)
        self.layout_memory.remember_study(self.session.path, self.study_id)
        self.control.stop()
        self.runner.cancel_all()
        self.runner.wait()
        self.page_view.close_pdf()
        if self._on_changed in self.session.listeners:
            self.session.listeners.remove(self._on_changed)

    def closeEvent(self, event: QCloseEvent) -> None:
        self.flush_edits(ask=True)
        if self.actions.unsaved and not self.actions.retry_unsaved() and not self.dialogs.confirm(
                tr("{count} changes could not be saved because the disk refuses them. Close "
                   "anyway and lose them?").format(count=len(self.actions.unsaved))):
            event.ignore()
            return
        self.shutdown()
        if getattr(self, "owns_session", False) and self.session is not None:
            self.session.close()
        super().closeEvent(event)
