"""Synthesis → Programme theories…: from study CMOCs to review CMOCs and refined theories.

Left, the programme theories and their review CMOCs (drop study CMOCs on one to link them);
in the middle, the selected review CMOC, the evidence matrix (click a cell for the study CMOCs,
quotes and pages behind it), the C×M×O grid and the version history; right, the study CMOCs,
filtered by code, coder and consensus.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView, QComboBox, QDialog, QFormLayout, QHBoxLayout, QLabel, QListWidgetItem,
    QPushButton, QSplitter, QTableWidget, QTabWidget, QTextBrowser, QTreeWidgetItem, QVBoxLayout,
    QWidget,
)

from cmo_desk.domain import records as rec
from cmo_desk.domain.errors import CmoDeskError
from cmo_desk.domain.i18n import tr
from cmo_desk.domain.synthesis import (
    RELATIONS, ReviewCmocEvidence, Synthesis, cmo_grid, duplicate_labels, evidence_matrix,
    unrecorded_note,
)
from cmo_desk.services import synthesis as synth
from cmo_desk.services.undo import UndoableCoding
from cmo_desk.ui.desk_host import DeskHost
from cmo_desk.ui.synthesis_editor import ReviewCmocEditing
from cmo_desk.ui.synthesis_lists import StudyCmocList, TheoryTree
from cmo_desk.ui.synthesis_tables import (
    fill_grid, fill_ledger, fill_links, fill_matrix, relation_text,
)
from cmo_desk.ui.window_fit import fit_to_screen


class SynthesisView(ReviewCmocEditing, QDialog):
    def __init__(self, window: DeskHost, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.window = window
        self.session = window.session
        self.dialogs = window.dialogs
        #: The desk's undoable changes, when opened from the desk: the workspace's steps join
        #: its undo stack, and wait behind a change the disk refused.
        self.actions: UndoableCoding | None = getattr(window, "actions", None)
        for keys, slot in ((QKeySequence.StandardKey.Undo, self.undo),
                           (QKeySequence.StandardKey.Redo, self.redo)):
            shortcut = QShortcut(self)
            shortcut.setKeys(QKeySequence.keyBindings(keys))
            shortcut.activated.connect(slot)
        self.data: Synthesis | None = None
        self.review_id: str | None = None
        self.setWindowTitle(tr("Synthesis: programme theories"))
        fit_to_screen(self, 1320, 700)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(6, 6, 6, 6)

        split = QSplitter(Qt.Orientation.Horizontal)
        lay.addWidget(split, 1)
        # -- theories ---------------------------------------------------------------------
        left = QWidget()
        ll = QVBoxLayout(left)
        ll.setContentsMargins(0, 0, 0, 0)
        self.tree = TheoryTree(self.link_sources)
        self.tree.currentItemChanged.connect(self._tree_selected)
        self.duplicates_note = QLabel()
        self.duplicates_note.setWordWrap(True)
        self.duplicates_note.setStyleSheet("color: #b71c1c;")
        self.relabel_button = QPushButton(tr("Give them their own labels"))
        self.relabel_button.clicked.connect(
            lambda: self._run(lambda: synth.relabel_duplicates(self.session)))
        ll.addWidget(self.duplicates_note)
        ll.addWidget(self.relabel_button)
        ll.addWidget(self.tree)
        self.new_theory_button = QPushButton(tr("New programme theory…"))
        self.new_theory_button.clicked.connect(self.new_theory)
        ll.addWidget(self.new_theory_button)
        # One above the other: side by side they outgrow the pane in Russian or French.
        buttons = QVBoxLayout()
        self.new_review_button = QPushButton(tr("New review CMOC"))
        self.new_review_button.clicked.connect(self.new_review)
        self.version_button = QPushButton(tr("Record version…"))
        self.version_button.clicked.connect(self.record_version)
        buttons.addWidget(self.new_review_button)
        buttons.addWidget(self.version_button)
        ll.addLayout(buttons)
        split.addWidget(left)

        # -- middle tabs ------------------------------------------------------------------
        self.tabs = QTabWidget()
        self.tabs.addTab(self._build_editor(), tr("Review CMOC"))
        self.matrix = QTableWidget()
        self.matrix.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.matrix.cellClicked.connect(self._matrix_clicked)
        self.matrix_detail = QTextBrowser()
        msplit = QSplitter(Qt.Orientation.Vertical)
        msplit.addWidget(self.matrix)
        msplit.addWidget(self.matrix_detail)
        msplit.setSizes([380, 200])
        self.tabs.addTab(msplit, tr("Evidence matrix"))
        cmo = QWidget()
        cl = QVBoxLayout(cmo)
        cl.setContentsMargins(0, 0, 0, 0)
        self.grid_note = QLabel()
        self.grid_note.setWordWrap(True)
        self.grid = QTableWidget()
        self.grid.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.grid.setWordWrap(True)
        cl.addWidget(self.grid_note)
        cl.addWidget(self.grid)
        self.tabs.addTab(cmo, tr("C×M×O"))
        self.ledger = QTableWidget()
        self.ledger.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.ledger.setWordWrap(True)
        self.tabs.addTab(self.ledger, tr("Versions"))
        self.tabs.currentChanged.connect(self._tab_changed)
        split.addWidget(self.tabs)

        # -- study CMOCs ------------------------------------------------------------------
        right = QWidget()
        rl = QVBoxLayout(right)
        rl.setContentsMargins(0, 0, 0, 0)
        filters = QFormLayout()
        self.code_filter = QComboBox()
        self.coder_filter = QComboBox()
        self.records_filter = QComboBox()
        for value, label in (("all", tr("Coders' and consensus CMOCs")),
                             ("coders", tr("Coders' CMOCs only")),
                             ("consensus", tr("Consensus CMOCs only"))):
            self.records_filter.addItem(label, value)
        filters.addRow(tr("Code"), self.code_filter)
        filters.addRow(tr("Coder"), self.coder_filter)
        filters.addRow(tr("Records"), self.records_filter)
        rl.addLayout(filters)
        self.filter_note = QLabel()
        self.filter_note.setWordWrap(True)
        self.filter_note.setObjectName("hint")
        rl.addWidget(self.filter_note)
        self.sources = StudyCmocList()
        self.sources.setUniformItemSizes(True)  # one line each: no per-item layout at 1,500
        self.sources.currentItemChanged.connect(self._source_selected)
        rl.addWidget(self.sources, 1)
        link_row = QHBoxLayout()
        self.relation = QComboBox()
        for r in RELATIONS:
            self.relation.addItem(relation_text(r), r)
        self.link_button = QPushButton(tr("Link to review CMOC"))
        self.link_button.clicked.connect(self._link_selected)
        link_row.addWidget(self.relation)
        link_row.addWidget(self.link_button)
        rl.addLayout(link_row)
        self.source_detail = QTextBrowser()
        self.source_detail.setMaximumHeight(170)
        rl.addWidget(self.source_detail)
        split.addWidget(right)
        split.setSizes([260, 760, 330])
        split.setStretchFactor(0, 0)
        split.setStretchFactor(1, 1)  # a wider window widens the review CMOC, not the lists
        split.setStretchFactor(2, 0)

        for combo in (self.code_filter, self.coder_filter, self.records_filter):
            # a long code name or translation must not widen the pane past the screen
            combo.setSizeAdjustPolicy(
                QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
            combo.setMinimumContentsLength(16)
            combo.currentIndexChanged.connect(self._filters_changed)
        self._fill_filters()
        self.session.listeners.append(self._on_changed)
        self.refresh()

    # -- building -------------------------------------------------------------------------

    def _fill_filters(self) -> None:
        self.code_filter.blockSignals(True)
        self.coder_filter.blockSignals(True)
        self.code_filter.addItem(tr("Any code"), None)
        for c in self.session.store.list("code", columns=("name", "kind", "sort_order")):
            self.code_filter.addItem(c.name or "", c.id)
        self.coder_filter.addItem(tr("Any coder"), None)
        for c in self.session.coders():
            self.coder_filter.addItem(c.name or "", c.id)
        self.code_filter.blockSignals(False)
        self.coder_filter.blockSignals(False)

    # -- refreshing -----------------------------------------------------------------------

    def _on_changed(self, changed: rec.Changed) -> None:
        if any(changed.touched(t) for t in ("review_cmoc", "review_link", "theory_version",
                                            "theory", "cmoc", "consensus", "study")):
            QTimer.singleShot(0, self, self.refresh)  # dropped if the window closes first

    def refresh(self) -> None:
        # Another review CMOC is to be shown: the words typed into this one are saved first.
        # A refresh of the one being edited saves nothing and asks nothing: a judgement half
        # made (a level chosen, its basis not yet typed) stays in the editor as it is, with the
        # rest of the editor brought up to date around it.
        shown = getattr(self, "_shown", None)
        if shown is not None and shown[0] != self.review_id:
            self.flush_edits()
        pending = self._pending_edits()
        store = self.session.store
        # One read of each list serves the matrix, the study CMOC list and the grid; quotes are
        # read when a cell is clicked.
        # Only what the lists show; a clicked CMOC is read whole.
        self._cmocs = synth.light_cmocs(self.session)
        self._consensus = store.list("consensus")
        self._codes = store.list("code", columns=("name", "kind"))
        studies = store.list("study", columns=("label", "merged_into"))
        self._study_labels = {s.id: s.label or "" for s in studies}
        self._merged = {s.id: s.merged_into for s in studies if s.merged_into}
        self._coder_names = {c.id: c.name or "" for c in self.session.coders()}
        self.data = synth.load_synthesis(self.session, quotes=False, cmocs=self._cmocs)
        dupes = duplicate_labels(self.data)
        self.duplicates_note.setText("\n".join(
            tr("{n} review CMOCs share the label {label}: give them their own labels "
               "in the synthesis workspace before citing them.").format(n=len(ids), label=label)
            for label, ids in sorted(dupes.items())))
        self.duplicates_note.setVisible(bool(dupes))
        self.relabel_button.setVisible(bool(dupes))
        self._fill_tree()
        self._fill_matrix()
        self._fill_ledger()
        self._filters_changed()
        self._show_review(pending=pending)
        if pending and not any(r.record.id == pending[0] for r in self.data.review_cmocs):
            gone = store.get("review_cmoc", pending[0], include_deleted=True)
            message = self._unsaved_words(gone.label or "" if gone else "", pending[1])
            if message:
                self.dialogs.error(message)

    def _fill_tree(self) -> None:
        assert self.data is not None
        keep = self.review_id
        self.tree.blockSignals(True)
        self.tree.clear()
        current = None
        for t in self.data.theories:
            th = t.theory
            since = unrecorded_note(t)
            # a star: the review CMOCs below are no longer what that version recorded
            top = QTreeWidgetItem([f"{th.label} ({th.version or 'v1'}{'*' if since else ''})"])
            top.setData(0, Qt.ItemDataRole.UserRole, None)
            top.setData(0, Qt.ItemDataRole.UserRole + 1, th.id)
            top.setToolTip(0, "\n\n".join(x for x in (th.statement, since) if x))
            self.tree.addTopLevelItem(top)
            for r in t.review_cmocs:
                rc = r.record
                n = len({s.study_id for s in r.sources})
                # the count of studies first: the wording is what a narrow pane cuts short
                child = QTreeWidgetItem([f"{rc.label} [{n}]  "
                                         + (rc.statement or rc.outcome or "")[:90]])
                child.setData(0, Qt.ItemDataRole.UserRole, rc.id)
                child.setData(0, Qt.ItemDataRole.UserRole + 1, th.id)
                child.setToolTip(0, rc.statement or "")
                top.addChild(child)
                if rc.id == keep:
                    current = child
            top.setExpanded(True)
        if current is None and self.tree.topLevelItemCount():
            top = self.tree.topLevelItem(0)
            current = top.child(0) if top.childCount() else top
        if current is not None:
            self.tree.setCurrentItem(current)
            self.review_id = current.data(0, Qt.ItemDataRole.UserRole)
        self.tree.blockSignals(False)

    def _fill_matrix(self) -> None:
        assert self.data is not None
        self._matrix = evidence_matrix(self.data)
        fill_matrix(self.matrix, self._matrix)
        self.matrix_detail.setPlainText(tr(
            "+ supports   − refutes   ~ refines. Click a cell for the study CMOCs, their quotes "
            "and pages."))

    def _fill_ledger(self) -> None:
        assert self.data is not None
        fill_ledger(self.ledger, self.data)

    def _filters_changed(self) -> None:
        if not hasattr(self, "_cmocs"):
            return
        records = self.records_filter.currentData() or "all"
        coder = self.coder_filter.currentData()
        code = self.code_filter.currentData()
        cmocs, consensus = self._cmocs, self._consensus
        grid = cmo_grid(self._codes, cmocs, consensus, records, coder, code, self._merged)
        self._grid = grid
        self._grid_shown = False
        if self.tabs.currentIndex() == 2:
            self._fill_grid()
        shown = {i for c in grid.cells.values() for i in c.cmoc_ids}
        self.sources.show_records([*cmocs, *consensus], shown, self._study_labels,
                                  self._coder_names)
        self.filter_note.setText(tr("{shown} shown; {hidden} left out by the filters.").format(
            shown=grid.shown, hidden=grid.filtered_out))

    def _tab_changed(self, index: int) -> None:
        if index == 2 and not getattr(self, "_grid_shown", True):
            self._fill_grid()
        if index == 3:  # the reasons wrap to the width the tab now has
            self.ledger.resizeRowsToContents()

    def _fill_grid(self) -> None:
        # Built when its tab is shown: a large codebook makes a grid worth not drawing unseen.
        self._grid_shown = True
        fill_grid(self.grid, self._grid)
        self.grid_note.setText(tr("Contexts (rows) × mechanisms (columns), from the codes of "
                                  "the CMOCs the filters keep: outcomes and study counts in "
                                  "each cell."))

    # -- selection ------------------------------------------------------------------------

    def _tree_selected(self, current: QTreeWidgetItem | None, prev: Any = None) -> None:
        if not self.flush_edits():
            # keep the words as typed in sight, so they can be put right
            self.tree.blockSignals(True)
            self.tree.setCurrentItem(prev)
            self.tree.blockSignals(False)
            return
        self.review_id = current.data(0, Qt.ItemDataRole.UserRole) if current else None
        self._show_review()

    def current_review(self) -> Any:
        if self.data is None or self.review_id is None:
            return None
        return next((r for r in self.data.review_cmocs if r.record.id == self.review_id), None)

    def _show_review(self,
                     pending: tuple[str, dict[str, tuple[Any, Any]]] | None = None) -> None:
        """Show the current review CMOC; ``pending`` (its id; field -> (value shown before,
        value typed or chosen since)) is what the user changed and has not saved, kept in the
        editor as it is when that review CMOC is still the one shown."""
        r = self.current_review()
        enabled = r is not None
        for w in (*self.slot_edits.values(), self.confidence, self.basis, self.save_button,
                  self.link_button, self.unlink_button, self.note_button):
            if w.isEnabled() != enabled:  # (disabling the focused field moves the focus)
                w.setEnabled(enabled)
        rc = r.record if r else None
        self.label_view.setText(rc.label if rc else tr("Choose a review CMOC on the left."))
        self._load_editor(rc, pending[1] if pending and rc and pending[0] == rc.id else None)
        self._show_links(r)

    def _show_links(self, r: ReviewCmocEvidence | None) -> None:
        fill_links(self.links_view, r)
        self._link_row_changed()

    def _link_of_deleted_cmoc(self, row: int) -> bool:
        """The evidence row is a link whose study CMOC was deleted (listed below the rest)."""
        r = self.current_review()
        return r is not None and len(r.sources) <= row < len(r.sources) + len(r.deleted_sources)

    def _link_row_changed(self) -> None:
        """A link whose study CMOC was deleted takes no note (it can still be removed)."""
        deleted = self._link_of_deleted_cmoc(self.links_view.currentRow())
        self.note_button.setEnabled(self.current_review() is not None and not deleted)
        self.note_button.setToolTip(
            tr("This record has been deleted; restore it before editing it.") if deleted else "")

    def _source_selected(self, current: QListWidgetItem | None, _prev: Any = None) -> None:
        if current is None:
            self.source_detail.clear()
            return
        cid = current.data(Qt.ItemDataRole.UserRole)
        item = self.session.store.get("cmoc", cid) or self.session.store.get("consensus", cid)
        if item is None:
            return
        self.source_detail.setPlainText(self._describe(item))

    def _describe(self, item: Any, quotes: tuple[Any, ...] | None = None) -> str:
        lines = [f"{tr('Context')}: {item.context or ''}",
                 f"{tr('Mechanism')}: " + "; ".join(
                     x for x in (item.mechanism_resource, item.mechanism_reasoning) if x),
                 f"{tr('Outcome')}: {item.outcome or ''}", item.statement or ""]
        if quotes is None:
            quotes = tuple((q.text, q.page) for q in synth.source_quotes(self.session, item))
        for q, page in quotes:
            lines.append(f"“{q}” ({tr('p. {page}').format(page=page)})" if page else f"“{q}”")
        return "\n".join(lines)

    def _matrix_clicked(self, row: int, col: int) -> None:
        m = self._matrix
        if not (0 <= row < len(m.studies) and 0 <= col < len(m.columns)) or self.data is None:
            return
        study, review = m.studies[row], m.columns[col]
        r = next(x for x in self.data.review_cmocs if x.record.id == review.id)
        parts = []
        for s in r.sources:
            if s.study_id != study.id or s.source is None:
                continue
            who = tr("consensus") if s.made_by == "consensus" else s.made_by
            head = f"{study.label} · {who} · {relation_text(s.relation)} {review.label}"
            if s.note:
                head += f" — {s.note}"
            full = self.session.store.get(s.source_kind, s.source_id) or s.source
            quotes = s.quotes or synth.source_quotes(self.session, full)
            parts.append(head + "\n" + self._describe(
                full, tuple((q.text, q.page) for q in quotes)))
        self.matrix_detail.setPlainText("\n\n".join(parts) or tr(
            "No study CMOC of {study} is linked to {label}.").format(study=study.label,
                                                                     label=review.label))

    # -- actions --------------------------------------------------------------------------

    def _run(self, action: Any) -> Any:
        try:
            return action()
        except CmoDeskError as err:
            self.dialogs.error(str(err))
            return None

    def _theory_of_current(self) -> str | None:
        item = self.tree.currentItem()
        return item.data(0, Qt.ItemDataRole.UserRole + 1) if item is not None else None

    def new_theory(self) -> None:
        if not self.flush_edits():  # the words typed into the review CMOC shown are saved first
            return
        label = self.dialogs.ask_text(tr("New programme theory"), tr(
            "A short label that starts with its number, for example \"PT3 Peer pay\":"))
        if label is None:
            return
        statement = self.dialogs.ask_multiline(
            tr("New programme theory"), tr("The initial programme theory, in a few sentences:"))
        if statement is None:
            return
        from cmo_desk.services import coding

        made = self._run(lambda: coding.add_theory(self.session, label, statement.strip()))
        if made:
            self.review_id = None
            self.refresh()

    def new_review(self) -> None:
        tid = self._theory_of_current()
        if tid is None:
            self.dialogs.error(tr("Choose a programme theory first."))
            return
        if not self.flush_edits():
            return
        made = self._run(lambda: synth.add_review_cmoc(self.session, tid, {}))
        if made:
            self.review_id = made[0]
            self.refresh()

    def save_review(self) -> None:
        self.flush_edits()

    def flush_edits(self, ask: bool = True) -> bool:
        """Save what was typed into the review CMOC shown, before anything replaces it.

        False (after saying why) when it cannot be saved; the words stay in the editor. With
        ``ask`` False (the desk saving what is typed everywhere, as a merge or a study opened
        does), a confidence level chosen without its basis yet is not a judgement to record or
        to ask about: it stays in the editor, unsaved, while the words around it are saved.
        """
        shown = getattr(self, "_shown", None)
        if shown is None:
            return True
        rid, before = shown
        now = self._editor_values()
        if now == before:
            return True
        judgement = ("confidence", "confidence_basis", "assessment")
        slots = {k: v for k, v in now.items() if k not in judgement and v != before[k]}
        actions, session = self.actions, self.session
        if slots:
            old = {k: before[k] for k in slots}
            if not (actions.update_review_cmoc(rid, old, slots) if actions is not None
                    else self._done(lambda: synth.update_review_cmoc(session, rid, slots))):
                return False
            self._shown = (rid, {**before, **slots})
        if any(now[k] != before[k] for k in judgement):
            new = tuple(now[k] for k in judgement)
            if not ask and synth.basis_missing(now["confidence"], now["confidence_basis"]):
                self._shown = (rid, {**now, **{k: before[k] for k in judgement}})
                return True
            if not (actions.set_review_confidence(rid, tuple(before[k] for k in judgement), new)
                    if actions is not None
                    else self._done(lambda: synth.set_confidence(session, rid, *new))):
                return False
        self._shown = (rid, now)
        return True

    def _done(self, action: Any) -> bool:
        """Run a change; False (after saying why) when the project refuses it."""
        try:
            action()
        except CmoDeskError as err:
            self.dialogs.error(str(err))
            return False
        return True

    def undo(self) -> None:
        """Ctrl+Z: the desk's undo, which takes back the workspace's own steps too."""
        undo = getattr(self.window, "undo", None)
        if callable(undo):
            undo()

    def redo(self) -> None:
        redo = getattr(self.window, "redo", None)
        if callable(redo):
            redo()

    def link_sources(self, review_id: str | None, source_ids: list[str],
                     relation: str | None = None) -> None:
        if not review_id:
            self.dialogs.error(tr("Drop study CMOCs on a review CMOC, not on a theory."))
            return
        if not self.flush_edits():  # what was typed is saved before the link is made
            return
        relation = relation or self.relation.currentData() or "supports"
        self.review_id = review_id
        for sid in source_ids:
            if not self._link(review_id, sid, relation):
                break

    def _link(self, review_id: str, source_id: str, relation: str, note: str | None = None,
              text: str | None = None) -> bool:
        if self.actions is not None:
            return self.actions.link_review_source(review_id, source_id, relation, note, text)
        return self._done(lambda: synth.link_source(self.session, review_id, source_id,
                                                    relation, note))

    def _link_selected(self) -> None:
        ids = [i.data(Qt.ItemDataRole.UserRole) for i in self.sources.selectedItems()]
        if not ids:
            self.dialogs.error(tr("Choose one or more study CMOCs on the right first."))
            return
        self.link_sources(self.review_id, ids)

    def _unlink_selected(self) -> None:
        row = self.links_view.currentRow()
        item = self.links_view.item(row, 0) if row >= 0 else None
        if item is None or self.review_id is None:
            return
        sid = item.data(Qt.ItemDataRole.UserRole)
        rid = self.review_id
        if self.actions is not None:
            self.actions.unlink_review_source(rid, sid)
        else:
            self._done(lambda: synth.unlink_source(self.session, rid, sid))

    def _edit_note(self) -> None:
        row = self.links_view.currentRow()
        r = self.current_review()
        if self._link_of_deleted_cmoc(row):
            self.dialogs.error(tr("This record has been deleted; restore it before editing it."))
            return
        if row < 0 or r is None or row >= len(r.sources):
            self.dialogs.error(tr("Choose a link in the evidence list first."))
            return
        src = r.sources[row]
        note = self.dialogs.ask_text(tr("Note on link"), tr(
            "Why does {study} {relation} {label}?").format(
                study=src.study_label, relation=relation_text(src.relation),
                label=r.record.label), src.note)
        if note is None:
            return
        self._link(r.record.id, src.source_id, src.relation, note, tr("Note on link"))

    def record_version(self) -> None:
        tid = self._theory_of_current()
        if tid is None:
            self.dialogs.error(tr("Choose a programme theory first."))
            return
        if not self.flush_edits():  # the version holds what was just typed, or is not made
            return
        reason = self.dialogs.ask_multiline(
            tr("Record version"), tr("What changed in the theory, and why?"))
        if reason is None:
            return
        theory = self.session.store.get("theory", tid)
        statement = self.dialogs.ask_multiline(
            tr("Record version"), tr("The programme theory as it now reads:"),
            theory.statement or "" if theory else "")
        if statement is None:
            return
        self._run(lambda: synth.record_version(self.session, tid, reason, statement))

    def done(self, result: int) -> None:
        if self._on_changed in self.session.listeners:
            self.session.listeners.remove(self._on_changed)
        if not self.flush_edits():
            self.session.listeners.append(self._on_changed)
            return
        self._shown = None  # closed: nothing left to save
        super().done(result)


def open_synthesis(window: DeskHost) -> SynthesisView:
    view = SynthesisView(window, window.window())
    view.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    view.show()
    window.keep_open("synthesis", view)
    return view


__all__ = ["SynthesisView", "open_synthesis"]

