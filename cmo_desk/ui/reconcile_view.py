"""Reconciling a double-coded study: two coders' CMOCs side by side, and consensus made from them.

Each pair (or unpaired CMOC) is a card: slot by slot, A's wording beside B's, differing slots on a
soft background, with the codes they share and the passages both cite. The coders' own CMOCs are
never edited here; a consensus CMOC gets its own wording and remembers its sources.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QComboBox, QDialog, QDialogButtonBox, QFrame, QGridLayout, QHBoxLayout, QLabel,
    QPushButton, QScrollArea, QVBoxLayout, QWidget,
)

from cmo_desk.domain import records as rec
from cmo_desk.domain.errors import CmoDeskError
from cmo_desk.domain.i18n import tr
from cmo_desk.agreement.pairing import Pair
from cmo_desk.services import coding, reconcile
from cmo_desk.services.session import Session
from cmo_desk.services.undo import UndoableCoding
from cmo_desk.ui.assign_dialog import AssignDialog, assign_study
from cmo_desk.ui.consensus_editor import (
    DIFFERENT_BG, SLOT_ORDER, ConsensusEditor, resolution_titles, short_text, shown_value,
    slot_cell, slot_heading, slot_titles,
)
from cmo_desk.ui.desk_host import DeskHost
from cmo_desk.ui.dialogs import Dialogs
from cmo_desk.ui.window_fit import fit_to_screen
from cmo_desk.ui.workers import follow_changes

class PairCard(QFrame):
    """One row of the reconciliation: A's CMOC beside B's (or one of them alone)."""

    def __init__(self, view: ReconcileView, number: int, pair: Pair) -> None:
        super().__init__()
        self.view = view
        self.pair = pair
        self.setObjectName("pairCard")
        self.setStyleSheet("QFrame#pairCard { background: white; border: 1px solid #d5dae1; "
                           "border-radius: 6px; }")
        lay = QVBoxLayout(self)
        lay.setContentsMargins(10, 8, 10, 10)
        lay.addLayout(self._head(number))
        status = self._status_line()
        if status:
            note = QLabel(status)
            note.setObjectName("hint")
            note.setWordWrap(True)
            lay.addWidget(note)
        lay.addLayout(self._slots())
        extra = self._shared()
        if extra:
            info = QLabel("<br>".join(extra))
            info.setWordWrap(True)
            info.setTextFormat(Qt.TextFormat.RichText)
            info.setStyleSheet("color: #37474f; padding: 4px 2px 0 2px;")
            lay.addWidget(info)

    def _head(self, number: int) -> QHBoxLayout:
        """The pair's title and what can be done with it."""
        view, pair = self.view, self.pair
        head = QHBoxLayout()
        names = view.names
        if pair.a and pair.b:
            title = tr("Pair {n} · match {score} %").format(n=number,
                                                            score=round(pair.score * 100))
            if not pair.differences:
                title += " · " + tr("same wording")
            else:
                title += " · " + tr("{n} slots differ").format(n=len(pair.differences))
        else:
            owner = names.get((pair.a or pair.b).owner_id or "", "?")  # type: ignore[union-attr]
            title = tr("{n} · only {name}").format(n=number, name=owner)
        heading = QLabel(title)
        heading.setStyleSheet("font-weight: 700; color: #37474f;")
        head.addWidget(heading)
        head.addStretch(1)
        self.consensus_button: QPushButton | None = None
        self.promote_button: QPushButton | None = None
        self.set_aside_button: QPushButton | None = None
        if pair.a and pair.b:
            self.consensus_button = QPushButton(tr("Make consensus…"))
            self.consensus_button.setObjectName("primary")
            self.consensus_button.clicked.connect(lambda: view.make_consensus(pair))
            head.addWidget(self.consensus_button)
        else:
            self.promote_button = QPushButton(tr("Promote"))
            self.promote_button.setToolTip(tr("Keep this CMOC as a consensus CMOC, as worded"))
            self.promote_button.clicked.connect(lambda: view.promote(pair))
            self.set_aside_button = QPushButton(tr("Set aside…"))
            self.set_aside_button.clicked.connect(lambda: view.set_aside(pair))
            head.addWidget(self.promote_button)
            head.addWidget(self.set_aside_button)
        return head

    def _slots(self) -> QGridLayout:
        """Slot by slot, A's wording beside B's; the slots that differ on a soft background."""
        view, pair, names = self.view, self.pair, self.view.names
        grid = QGridLayout()
        grid.setHorizontalSpacing(8)
        grid.setVerticalSpacing(4)
        grid.setColumnStretch(1, 1)
        grid.setColumnStretch(2, 1)
        grid.setColumnMinimumWidth(0, 120)
        grid.addWidget(QLabel(""), 0, 0)
        for col, side in ((1, pair.a), (2, pair.b)):
            who = names.get(view.view.coder_a if col == 1 else view.view.coder_b, "")  # type: ignore[union-attr]
            label = QLabel(who if side is not None else tr("{name}: no matching CMOC").format(
                name=who))
            label.setStyleSheet("font-weight: 700; color: #1a237e; padding: 2px 6px;")
            grid.addWidget(label, 0, col)
        different = set(pair.differences)
        self.different_cells: dict[str, tuple[QLabel, QLabel]] = {}
        row = 1
        for slot in SLOT_ORDER:
            a_text = shown_value(slot, getattr(pair.a, slot, None)) if pair.a else ""
            b_text = shown_value(slot, getattr(pair.b, slot, None)) if pair.b else ""
            if not a_text and not b_text:
                continue
            diff = slot in different
            grid.addWidget(slot_heading(slot), row, 0)
            a_cell = slot_cell(a_text, diff, slot == "statement") if pair.a else QLabel("")
            b_cell = slot_cell(b_text, diff, slot == "statement") if pair.b else QLabel("")
            grid.addWidget(a_cell, row, 1)
            grid.addWidget(b_cell, row, 2)
            if diff:
                self.different_cells[slot] = (a_cell, b_cell)
            row += 1
        return grid

    def _shared(self) -> list[str]:
        """Lines on the codes both coders gave and the passages both cited."""
        view, pair, names = self.view, self.pair, self.view.names
        extra = []
        if pair.shared_code_ids:
            extra.append("<b>" + tr("Shared codes:") + "</b> " + ", ".join(
                view.code_name(c) for c in pair.shared_code_ids))
        if pair.overlapping_excerpt_ids:
            quotes = []
            for eid in pair.overlapping_excerpt_ids:
                ex = view.session.store.get("excerpt", eid)
                if ex is not None:
                    who = names.get(ex.owner_id or "", "")
                    where = tr("p. {page}").format(page=ex.page) if ex.page else ""
                    quotes.append(f"“{short_text(ex.quote)}” <span style='color:#78909c'>"
                                  f"({', '.join(x for x in (who, where) if x)})</span>")
            if quotes:
                extra.append("<b>" + tr("Overlapping passages:") + "</b><br>"
                             + "<br>".join(quotes))
        return extra

    def _status_line(self) -> str:
        parts = []
        for cmoc in (self.pair.a, self.pair.b):
            if cmoc is None:
                continue
            who = self.view.names.get(cmoc.owner_id or "", "")
            if cmoc.status == rec.CmocStatus.RECONCILED.value:
                parts.append(tr("{name}'s CMOC is already a source of a consensus CMOC.")
                             .format(name=who))
            elif cmoc.status == rec.CmocStatus.SET_ASIDE.value:
                parts.append(tr("{name}'s CMOC was set aside: {reason}").format(
                    name=who, reason=cmoc.set_aside_reason or ""))
        return " ".join(parts)


class ConsensusCard(QFrame):
    def __init__(self, view: ReconcileView, item: rec.Consensus) -> None:
        super().__init__()
        self.item = item
        self.setObjectName("consensusCard")
        self.setStyleSheet("QFrame#consensusCard { background: #f1f8e9; border: 1px solid "
                           "#c5e1a5; border-radius: 6px; }")
        lay = QVBoxLayout(self)
        lay.setContentsMargins(10, 6, 10, 8)
        text = item.statement or item.outcome or item.context or tr("(no wording)")
        head = QLabel(f"<b>{_escape(text)}</b>")
        head.setWordWrap(True)
        top = QHBoxLayout()
        top.addWidget(head, 1)
        self.delete_button = QPushButton(tr("Delete"))
        self.delete_button.clicked.connect(lambda: view.delete_consensus(item))
        top.addWidget(self.delete_button, 0, Qt.AlignmentFlag.AlignTop)
        lay.addLayout(top)
        sources = []
        for sid in item.source_ids:
            src = view.session.store.get("cmoc", sid, include_deleted=True)
            if src is not None:
                sources.append(view.names.get(src.owner_id or "", "?"))
        meta = tr("Resolution: {resolution}").format(
            resolution=resolution_titles().get(item.resolution or "", item.resolution or ""))
        if sources:
            meta += " · " + tr("from {sources}").format(sources=", ".join(sources))
        if item.note:
            meta += " · " + tr("Note: {note}").format(note=item.note)
        label = QLabel(meta)
        label.setWordWrap(True)
        label.setObjectName("hint")
        lay.addWidget(label)
        self.warning = QLabel(_changed_sources_text(reconcile.changed_sources(view.session, item)))
        self.warning.setWordWrap(True)
        self.warning.setStyleSheet("color: #b71c1c; font-weight: 600;")
        self.warning.setVisible(bool(self.warning.text()))
        lay.addWidget(self.warning)
        if self.warning.text():
            self.setStyleSheet("QFrame#consensusCard { background: #fff8e1; border: 2px solid "
                               "#e65100; border-radius: 6px; }")


def _changed_sources_text(changes: list[reconcile.SourceChange]) -> str:
    """What happened to a consensus CMOC's sources since it was made, one sentence each."""
    titles = slot_titles()
    lines = []
    for change in changes:
        name = change.owner_name or "?"
        if change.deleted:
            lines.append(tr("{name}'s CMOC, a source of this consensus, was deleted since the "
                            "consensus was made.").format(name=name))
            continue
        if change.slots:
            lines.append(tr("{name}'s CMOC was reworded since this consensus was made: "
                            "{slots}.").format(name=name, slots=", ".join(
                                titles.get(s, s) for s in change.slots)))
        if change.missing_code_ids or change.missing_excerpt_ids or change.dropped:
            lines.append(tr("{name}'s CMOC has codes or passages this consensus lacks, or lost "
                            "some since it was made.").format(name=name))
    return "\n".join(lines)


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


class ReconcileView(QDialog):
    """A study's double coding side by side, with the consensus made so far."""

    def __init__(self, session: Session, study_id: str, dialogs: Dialogs,
                 parent: QWidget | None = None, report_error: Any = None,
                 actions: UndoableCoding | None = None,
                 undo: Callable[[], Any] | None = None,
                 redo: Callable[[], Any] | None = None) -> None:
        super().__init__(parent)
        self.session = session
        #: the desk's undoable changes: reconciling steps join its undo stack when given
        self.actions = actions
        self._undo, self._redo = undo, redo
        self.study_id = study_id
        self.dialogs = dialogs
        self._report = report_error or dialogs.error
        self.setWindowTitle(tr("Reconcile study"))
        fit_to_screen(self, 1180, 700)
        self.names: dict[str, str] = {}
        self.codes: dict[str, str] = {}
        self.view: reconcile.Reconciliation | None = None
        self.cards: list[PairCard] = []
        self.consensus_cards: list[ConsensusCard] = []
        outer = QVBoxLayout(self)
        study = session.store.get("study", study_id)
        self.title = QLabel(tr("Reconcile {study}").format(
            study=(study.label or study.title or "") if study else ""))
        self.title.setObjectName("studyTitle")
        outer.addWidget(self.title)
        coders_row = QHBoxLayout()
        self.coder_a_box = QComboBox()
        self.coder_b_box = QComboBox()
        coders_row.addWidget(QLabel(tr("Coder A")))
        coders_row.addWidget(self.coder_a_box)
        coders_row.addSpacing(16)
        coders_row.addWidget(QLabel(tr("Coder B")))
        coders_row.addWidget(self.coder_b_box)
        coders_row.addSpacing(16)
        self.summary = QLabel("")
        self.summary.setObjectName("hint")
        coders_row.addWidget(self.summary, 1)
        outer.addLayout(coders_row)
        legend = QLabel(tr("Slots on a tinted background are worded differently by the two "
                           "coders."))
        legend.setObjectName("hint")
        outer.addWidget(legend)
        self.scroll = QScrollArea()
        self.scroll.setWidgetResizable(True)
        outer.addWidget(self.scroll, 1)
        close = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        close.button(QDialogButtonBox.StandardButton.Close).setText(tr("Close"))
        close.rejected.connect(self.reject)
        outer.addWidget(close)
        for keys, step in ((QKeySequence.StandardKey.Undo, self.undo),
                           (QKeySequence.StandardKey.Redo, self.redo)):
            QShortcut(keys, self).activated.connect(step)
        self._fill_coder_boxes()
        self.coder_a_box.activated.connect(lambda _: self.refresh())
        self.coder_b_box.activated.connect(lambda _: self.refresh())
        self.refresh()

    # -- data -----------------------------------------------------------------------------

    def _fill_coder_boxes(self) -> None:
        self.names = {c.id: c.name or c.id for c in self.session.store.list(
            "coder", include_deleted=True)}
        found = reconcile.coders_of_study(self.session, self.study_id)
        for box, default in ((self.coder_a_box, 0), (self.coder_b_box, 1)):
            box.clear()
            for cid in found:
                box.addItem(self.names.get(cid, cid), cid)
            if len(found) > default:
                box.setCurrentIndex(default)
            # with only two coders there is nothing to choose
            box.setEnabled(len(found) > 2)

    def code_name(self, code_id: str) -> str:
        if not self.codes:
            self.codes = {c.id: c.name or c.id for c in self.session.store.list(
                "code", include_deleted=True)}
        return tr(self.codes.get(code_id, code_id[:8]))

    def set_coders(self, coder_a: str, coder_b: str) -> None:
        self.coder_a_box.setCurrentIndex(self.coder_a_box.findData(coder_a))
        self.coder_b_box.setCurrentIndex(self.coder_b_box.findData(coder_b))
        self.refresh()

    def refresh(self) -> None:
        a, b = self.coder_a_box.currentData(), self.coder_b_box.currentData()
        body = QWidget()
        lay = QVBoxLayout(body)
        lay.setSpacing(10)
        self.cards, self.consensus_cards = [], []
        try:
            if a and b and a == b:
                raise CmoDeskError(tr("Choose two different coders."))
            self.view = reconcile.reconciliation(self.session, self.study_id, a, b)
        except CmoDeskError as err:
            self.view = None
            message = QLabel(str(err))
            message.setWordWrap(True)
            lay.addWidget(message)
            lay.addStretch(1)
            self.summary.setText("")
            self.scroll.setWidget(body)
            return
        pairs = self.view.pairs
        both = sum(1 for p in pairs if p.a and p.b)
        self.summary.setText(tr("Pairs: {pairs} · without a partner: {alone} · consensus "
                                "CMOCs so far: {done}").format(
            pairs=both, alone=len(pairs) - both, done=len(self.view.consensus)))
        for n, pair in enumerate(pairs, start=1):
            card = PairCard(self, n, pair)
            self.cards.append(card)
            lay.addWidget(card)
        if not pairs:
            lay.addWidget(QLabel(tr("Neither coder has CMOCs on this study.")))
        heading = QLabel(tr("Consensus CMOCs of this study"))
        heading.setObjectName("sectionTitle")
        lay.addWidget(heading)
        for item in self.view.consensus:
            card = ConsensusCard(self, item)
            self.consensus_cards.append(card)
            lay.addWidget(card)
        if not self.view.consensus:
            none = QLabel(tr("None yet."))
            none.setObjectName("hint")
            lay.addWidget(none)
        lay.addStretch(1)
        old = self.scroll.verticalScrollBar().value()
        self.scroll.setWidget(body)
        self.scroll.verticalScrollBar().setValue(old)

    # -- actions --------------------------------------------------------------------------

    def undo(self) -> None:
        """Ctrl+Z here: the desk's last step, which is this view's when it made one last."""
        if self._undo is not None:
            self._undo()
            self.refresh()

    def redo(self) -> None:
        if self._redo is not None:
            self._redo()
            self.refresh()

    def _done(self, ok: bool) -> bool:
        if ok:
            self.refresh()
        return ok

    def _attempt(self, fn: Any) -> bool:
        try:
            fn()
        except CmoDeskError as err:
            self._report(str(err))
            return False
        self.refresh()
        return True

    def make_consensus(self, pair: Pair) -> bool:
        if self.view is None or pair.a is None or pair.b is None:
            return False
        editor = ConsensusEditor(pair, self.names.get(self.view.coder_a, "A"),
                                 self.names.get(self.view.coder_b, "B"), self)
        try:
            if self.dialogs.run_dialog(editor) != QDialog.DialogCode.Accepted:
                return False
            values, resolution, note = (editor.values(), editor.resolution_value(),
                                        editor.note_text())
        finally:
            editor.deleteLater()
        sources = [pair.a.id, pair.b.id]
        if self.actions is not None:
            return self._done(self.actions.make_consensus(
                self.study_id, sources, values, resolution, note) is not None)
        return self._attempt(lambda: reconcile.consensus_from(
            self.session, self.study_id, sources, values, resolution, note))

    def promote(self, pair: Pair) -> bool:
        cmoc = pair.a or pair.b
        if cmoc is None:
            return False
        if self.actions is not None:
            return self._done(self.actions.promote(cmoc.id) is not None)
        return self._attempt(lambda: reconcile.promote(self.session, cmoc.id))

    def delete_consensus(self, item: rec.Consensus) -> bool:
        """Delete a consensus CMOC (made in error, or standing on sources changed since); the
        coders' CMOCs stay and can be reconciled again."""
        if not self.dialogs.confirm(tr(
                "Delete this consensus CMOC? The coders' CMOCs it was built from stay as they "
                "are and can be reconciled again.")):
            return False
        if self.actions is not None:
            return self._done(self.actions.withdraw_consensus(item.id))
        return self._attempt(lambda: coding.withdraw_consensus(self.session, item.id))

    def set_aside(self, pair: Pair) -> bool:
        cmoc = pair.a or pair.b
        if cmoc is None:
            return False
        reason = self.dialogs.ask_text(tr("Set aside"), tr(
            "Why is this CMOC set aside? The reason is kept with it."),
            cmoc.set_aside_reason or "")
        if reason is None:
            return False
        if self.actions is not None:
            return self._done(self.actions.set_aside(cmoc.id, reason))
        return self._attempt(lambda: reconcile.set_aside(self.session, cmoc.id, reason))


def open_reconciliation(window: DeskHost, study_id: str | None = None) -> ReconcileView | None:
    """Team → Reconcile study…: the current study when it is double-coded, else a choice."""
    session: Session = window.session
    candidates = reconcile.double_coded_studies(session)
    if not candidates:
        window.report_error(tr("No study has CMOCs from two coders yet. Merge the coders' "
                               "copies first (File → Merge…)."))
        return None
    study_id = study_id or window.study_id
    if study_id not in {sid for sid, _ in candidates}:
        study_id = window.dialogs.choose_item(tr("Reconcile study"),
                                              tr("Studies coded by two or more coders:"),
                                              candidates)
        if not study_id:
            return None
    view = ReconcileView(session, study_id, window.dialogs, window.window(),
                         window.report_error, getattr(window, "actions", None),
                         getattr(window, "undo", None), getattr(window, "redo", None))
    view.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    view.show()
    window.keep_open("reconcile", view)
    # a coder's change that arrives meanwhile (a merge, the desk) is shown before consensus is
    # made from the old wording; on the next turn, not inside the click that made it
    follow_changes(view, session, lambda: QTimer.singleShot(0, view, view.refresh),
                   lambda changed: any(changed.touched(t) for t in ("cmoc", "consensus",
                                                                   "excerpt", "coder")))
    return view


__all__ = ["DIFFERENT_BG", "AssignDialog", "ConsensusEditor", "ReconcileView", "assign_study",
           "open_reconciliation", "slot_titles"]
