"""Undo and redo for a coder's changes, without Qt: the desk and the command line share them.

Every undoable change is a pair of service calls, one that makes it and one that takes it back.
``UndoableCoding`` makes the change at once and pushes the pair onto an ``UndoStack``; undo and redo
replay it through the services, so the project's rules (ownership, submitted studies, slots) hold
for them as for the first time. A step the project no longer allows (its record was deleted by a
merge meanwhile) is reported and dropped from the stack.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from cmo_desk.domain.errors import CmoDeskError
from cmo_desk.domain.i18n import tr
from cmo_desk.services import coding
from cmo_desk.services.session import Session

if TYPE_CHECKING:
    from cmo_desk.services import duplicates

Action = Callable[[], Any]
Report = Callable[[str], None]


def _synthesis() -> Any:
    """The synthesis services, loaded with the first synthesis step (not with the desk's window)."""
    from cmo_desk.services import synthesis

    return synthesis


def _reconcile() -> Any:
    """The reconciling services, loaded with the first consensus step (not with the window)."""
    from cmo_desk.services import reconcile

    return reconcile


@dataclass
class Step:
    """One change already made: ``redo`` makes it again, ``undo`` takes it back."""

    text: str
    redo: Action
    undo: Action
    #: Told why replaying the step failed.
    report: Report
    #: Why the step may not be replayed now (a reason in words), or None.
    blocked: Callable[[], str | None] = lambda: None

    def run(self, fn: Action) -> bool:
        reason = self.blocked()
        if reason:
            self.report(reason)
            return False
        try:
            fn()
        except CmoDeskError as err:
            self.report(str(err))
            return False
        return True


class UndoStack:
    """Steps in the order they were made; undo walks back, redo forward again."""

    def __init__(self) -> None:
        self._steps: list[Step] = []
        self._index = 0
        #: Called with (can undo, can redo) after every push, undo and redo.
        self.listeners: list[Callable[[bool, bool], None]] = []

    def push(self, step: Step) -> None:
        """Remember a step that has just been made; what could be redone is forgotten."""
        del self._steps[self._index:]
        self._steps.append(step)
        self._index = len(self._steps)
        self._changed()

    def can_undo(self) -> bool:
        return self._index > 0

    def can_redo(self) -> bool:
        return self._index < len(self._steps)

    def undo_text(self) -> str:
        return self._steps[self._index - 1].text if self.can_undo() else ""

    def redo_text(self) -> str:
        return self._steps[self._index].text if self.can_redo() else ""

    def count(self) -> int:
        return len(self._steps)

    def undo(self) -> bool:
        """Take the last step back. False (and the step dropped) when the project refuses."""
        if not self.can_undo():
            return False
        self._index -= 1
        step = self._steps[self._index]
        ok = step.run(step.undo)
        if not ok:
            del self._steps[self._index]
        self._changed()
        return ok

    def redo(self) -> bool:
        """Make the next step again. False (and the step dropped) when the project refuses."""
        if not self.can_redo():
            return False
        step = self._steps[self._index]
        ok = step.run(step.redo)
        if ok:
            self._index += 1
        else:
            del self._steps[self._index]
        self._changed()
        return ok

    def clear(self) -> None:
        self._steps.clear()
        self._index = 0
        self._changed()

    def _changed(self) -> None:
        for listener in list(self.listeners):
            listener(self.can_undo(), self.can_redo())


class UndoableCoding:
    """A coder's changes made at once through the services, each remembered on ``stack``.

    ``attempt`` runs one change and answers (done, its result); the default reports a refusal
    (``CmoDeskError``) through ``report`` and answers (False, None). The desk overrides it to keep
    changes the disk refused and save them later."""

    def __init__(self, session: Session, stack: UndoStack, report: Report) -> None:
        self.session = session
        self.stack = stack
        self.report = report

    def attempt(self, fn: Action) -> tuple[bool, Any]:
        try:
            return True, fn()
        except CmoDeskError as err:
            self.report(str(err))
            return False, None

    def run(self, fn: Action) -> tuple[bool, Any]:
        """A change not put on the undo stack (the codebook's: they touch every coder)."""
        return self.attempt(fn)

    def push(self, text: str, redo: Action, undo: Action,
             touched: frozenset[tuple[str, str]] = frozenset()) -> None:
        self.stack.push(Step(text, redo, undo, self.report,
                             lambda: self._in_conflict(touched)))

    def _noting(self, fn: Action) -> tuple[bool, Any, frozenset[tuple[str, str]]]:
        """``attempt(fn)``, and the records it wrote (type, id); none known when the disk
        refuses to be read (the change itself is then held by ``attempt``)."""
        try:
            mark: int | None = self.session.log_mark()
        except CmoDeskError:
            mark = None
        ok, result = self.attempt(fn)
        if not ok or mark is None:
            return ok, result, frozenset()
        try:
            changed = self.session.changed_since(mark)
        except CmoDeskError:
            return ok, result, frozenset()
        return ok, result, frozenset((t, i) for t, ids in changed.entities.items() for i in ids)

    def _in_conflict(self, touched: frozenset[tuple[str, str]]) -> str | None:
        """A step's records that a merge has since put in conflict are not written again by
        undo or redo: that would settle the conflict for the person, unseen."""
        if touched and any((c.entity_type, c.entity_id) in touched
                           for c in self.session.store.conflicts()):
            return tr("This step can no longer be undone or redone: a merged copy changed the "
                      "same record, and the two values wait in Team → Conflicts… for someone to "
                      "choose between them.")
        return None

    def _undoable(self, text: str, do: Action, undo: Action) -> bool:
        ok, _, touched = self._noting(do)
        if ok:
            self.push(text, do, undo, touched)
        return ok

    # -- reconciling --

    def _statuses(self, cmoc_ids: Iterable[str]) -> dict[str, str | None]:
        found = (self.session.store.get("cmoc", i) for i in cmoc_ids)
        return {c.id: c.status for c in found if c is not None}

    def _consensus_step(self, text: str, source_ids: Iterable[str],
                        make: Callable[[], Any]) -> str | None:
        """A consensus CMOC ``make`` builds from ``source_ids``; undo takes it back and puts the
        sources' status back."""
        s = self.session
        before = self._statuses(source_ids)
        ok, result, touched = self._noting(make)
        if not ok:
            return None
        cid: str = result[0]
        self.push(text, lambda: coding.restore_consensus(s, cid),
                  lambda: coding.withdraw_consensus(s, cid, before), touched)
        return cid

    def make_consensus(self, study_id: str, source_ids: list[str],
                       values: dict[str, Any] | None, resolution: str,
                       note: str | None) -> str | None:
        """A consensus CMOC from coders' CMOCs; undo takes it back and the sources' status."""
        s = self.session
        return self._consensus_step(tr("Make consensus"), source_ids,
                                    lambda: _reconcile().consensus_from(
                                        s, study_id, source_ids, values, resolution, note))

    def promote(self, cmoc_id: str) -> str | None:
        s = self.session
        return self._consensus_step(tr("Promote"), [cmoc_id],
                                    lambda: _reconcile().promote(s, cmoc_id))

    def withdraw_consensus(self, consensus_id: str) -> bool:
        """Delete a consensus CMOC; its sources regain the status they had before it."""
        s = self.session
        return self._undoable(tr("Delete consensus CMOC"),
                              lambda: coding.withdraw_consensus(s, consensus_id),
                              lambda: coding.restore_consensus(s, consensus_id))

    def set_aside(self, cmoc_id: str, reason: str) -> bool:
        s = self.session
        cmoc = s.store.get("cmoc", cmoc_id)
        status, old_reason = (cmoc.status, cmoc.set_aside_reason) if cmoc else (None, None)
        return self._undoable(tr("Set aside"), lambda: _reconcile().set_aside(s, cmoc_id, reason),
                              lambda: coding.put_back(s, cmoc_id, status, old_reason))

    # -- excerpts --

    def add_excerpt(self, document_id: str, start: int, end: int, role: str | None,
                    code_ids: Iterable[str] = ()) -> str | None:
        s = self.session
        ok, result, touched = self._noting(
            lambda: coding.add_excerpt(s, document_id, start, end, role, list(code_ids)))
        if not ok:
            return None
        eid: str = result[0]
        self.push(tr("Mark passage"), lambda: coding.restore_excerpt(s, eid),
                  lambda: coding.delete_excerpt(s, eid), touched)
        return eid

    def delete_excerpt(self, excerpt_id: str) -> bool:
        s = self.session
        return self._undoable(tr("Delete excerpt"), lambda: coding.delete_excerpt(s, excerpt_id),
                              lambda: coding.restore_excerpt(s, excerpt_id))

    def update_excerpt(self, excerpt_id: str, field: str, old: Any, new: Any) -> bool:
        s = self.session
        return self._undoable(tr("Edit excerpt"),
                              lambda: coding.update_excerpt(s, excerpt_id, {field: new}),
                              lambda: coding.update_excerpt(s, excerpt_id, {field: old}))

    def set_excerpt_codes(self, excerpt_id: str, old: list[str], new: list[str]) -> bool:
        s = self.session
        return self._undoable(tr("Change codes"),
                              lambda: coding.set_excerpt_codes(s, excerpt_id, new),
                              lambda: coding.set_excerpt_codes(s, excerpt_id, old))

    # -- CMOCs --

    def create_cmoc(self, study_id: str, excerpt_ids: Iterable[str] = (),
                    values: dict[str, Any] | None = None) -> str | None:
        s = self.session
        ok, result, touched = self._noting(
            lambda: coding.create_cmoc(s, study_id, values or {}, list(excerpt_ids)))
        if not ok:
            return None
        cid: str = result[0]
        self.push(tr("New CMOC"), lambda: coding.restore_cmoc(s, cid),
                  lambda: coding.delete_cmoc(s, cid), touched)
        return cid

    def delete_cmoc(self, cmoc_id: str) -> bool:
        s = self.session
        return self._undoable(tr("Delete CMOC"), lambda: coding.delete_cmoc(s, cmoc_id),
                              lambda: coding.restore_cmoc(s, cmoc_id))

    def update_cmoc(self, cmoc_id: str, field: str, old: Any, new: Any) -> bool:
        s = self.session
        return self._undoable(tr("Edit CMOC"),
                              lambda: coding.update_cmoc(s, cmoc_id, {field: new}),
                              lambda: coding.update_cmoc(s, cmoc_id, {field: old}))

    def link_excerpts(self, cmoc_id: str, excerpt_ids: list[str], slot: str | None) -> bool:
        s = self.session
        cmoc = s.store.get("cmoc", cmoc_id)
        new = [e for e in excerpt_ids if cmoc is None or e not in cmoc.excerpt_ids]
        if not new:
            return False

        def link() -> None:
            for e in new:
                coding.link_excerpt(s, cmoc_id, e, slot)

        def unlink() -> None:
            for e in new:
                coding.unlink_excerpt(s, cmoc_id, e)

        return self._undoable(tr("Link evidence"), link, unlink)

    def unlink_excerpt(self, cmoc_id: str, excerpt_id: str) -> bool:
        s = self.session
        link = s.store.links("cmoc_excerpt", cmoc_id=cmoc_id, excerpt_id=excerpt_id)
        slot = link[0].get("slot") if link else None
        return self._undoable(tr("Unlink evidence"),
                              lambda: coding.unlink_excerpt(s, cmoc_id, excerpt_id),
                              lambda: coding.link_excerpt(s, cmoc_id, excerpt_id, slot))

    def set_cmoc_codes(self, cmoc_id: str, old: list[str], new: list[str]) -> bool:
        s = self.session
        return self._undoable(tr("Change codes"), lambda: coding.set_cmoc_codes(s, cmoc_id, new),
                              lambda: coding.set_cmoc_codes(s, cmoc_id, old))

    def set_theory(self, cmoc_id: str, theory_id: str, linked: bool) -> bool:
        s = self.session
        on: Action = lambda: coding.link_theory(s, cmoc_id, theory_id)  # noqa: E731
        off: Action = lambda: coding.unlink_theory(s, cmoc_id, theory_id)  # noqa: E731
        return self._undoable(tr("Link theory"), on if linked else off, off if linked else on)

    def link_theory(self, cmoc_id: str, theory_id: str, relation: str, old: str | None,
                    text: str) -> bool:
        """Link with ``relation`` now; undo restores the ``old`` relation or, when None, unlinks."""
        s = self.session

        def linking(value: str) -> Action:
            return lambda: coding.link_theory(s, cmoc_id, theory_id, value)

        undo = linking(old) if old else (lambda: coding.unlink_theory(s, cmoc_id, theory_id))
        return self._undoable(text, linking(relation), undo)

    # -- synthesis --

    def update_review_cmoc(self, review_id: str, old: dict[str, Any], new: dict[str, Any]
                           ) -> bool:
        s = self.session
        return self._undoable(tr("Save review CMOC"),
                              lambda: _synthesis().update_review_cmoc(s, review_id, new),
                              lambda: _synthesis().update_review_cmoc(s, review_id, old))

    def set_review_confidence(self, review_id: str, old: tuple[Any, Any, Any],
                              new: tuple[Any, Any, Any]) -> bool:
        """(confidence, basis, assessment) now; undo puts the earlier judgement back."""
        s = self.session
        return self._undoable(tr("Save review CMOC"),
                              lambda: _synthesis().set_confidence(s, review_id, *new),
                              lambda: _synthesis().set_confidence(s, review_id, *old))

    def _review_link(self, review_id: str, source_id: str) -> dict[str, Any] | None:
        found = self.session.store.links("review_link", review_cmoc_id=review_id,
                                         source_id=source_id)
        return found[0] if found else None

    def _relink(self, review_id: str, source_id: str, old: dict[str, Any] | None) -> Action:
        """What puts a review CMOC's link to a study CMOC back as it was (or removes it)."""
        s = self.session
        if old is None:
            return lambda: _synthesis().unlink_source(s, review_id, source_id)
        return lambda: _synthesis().link_source(s, review_id, source_id, old["relation"],
                                             old["note"] or "")

    def link_review_source(self, review_id: str, source_id: str, relation: str,
                           note: str | None = None, text: str | None = None) -> bool:
        s = self.session
        old = self._review_link(review_id, source_id)
        return self._undoable(
            text or tr("Link to review CMOC"),
            lambda: _synthesis().link_source(s, review_id, source_id, relation, note),
            self._relink(review_id, source_id, old))

    def unlink_review_source(self, review_id: str, source_id: str) -> bool:
        s = self.session
        old = self._review_link(review_id, source_id)
        if old is None:
            return True
        return self._undoable(tr("Remove selected link"),
                              lambda: _synthesis().unlink_source(s, review_id, source_id),
                              self._relink(review_id, source_id, old))

    # -- study form --

    def set_form_value(self, study_id: str, key: str, old: Any, new: Any) -> bool:
        s = self.session
        return self._undoable(tr("Edit study form"),
                              lambda: coding.set_form_value(s, study_id, key, new),
                              lambda: coding.set_form_value(s, study_id, key, old))

    def submit_study(self, study_id: str) -> bool:
        ok, _ = self.attempt(lambda: coding.submit_study(self.session, study_id))
        return ok

    # -- duplicates --

    def accept_duplicate(self, proposal: duplicates.DuplicateProposal) -> bool:
        """Accept a proposed duplicate. A study folded into another can be taken back (each
        redo folds what is on the duplicate then); a code merged into another cannot."""
        from cmo_desk.services import duplicates  # (with the first duplicate, not the window)

        s = self.session
        if proposal.kind != "study":
            ok, _ = self.attempt(lambda: duplicates.accept_duplicate(s, proposal))
            return ok
        folds: list[duplicates.StudyFold] = []

        def fold() -> None:
            folds.append(duplicates.accept_study_duplicate(s, proposal))

        def unfold() -> None:
            duplicates.unfold_study(s, folds.pop())

        return self._undoable(tr("Merged {dup} into {keep}.").format(
            dup=proposal.duplicate_label, keep=proposal.keep_label), fold, unfold)
