"""Undoable coding actions: each one calls a service to do it and another to undo it."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from PySide6.QtGui import QUndoCommand, QUndoStack

from cmo_desk.domain.errors import CmoDeskError, StorageError
from cmo_desk.domain.i18n import tr
from cmo_desk.services import coding
from cmo_desk.services.session import Session

Report = Callable[[str], None]


class ServiceCommand(QUndoCommand):
    """Already done when pushed; redo and undo replay it through the services."""

    def __init__(self, text: str, redo: Callable[[], Any], undo: Callable[[], Any],
                 report: Report) -> None:
        super().__init__(text)
        self._redo, self._undo, self._report = redo, undo, report
        self._done = True

    def redo(self) -> None:
        if self._done:
            self._done = False  # the first redo happens when QUndoStack.push calls it
            return
        self._run(self._redo)

    def undo(self) -> None:
        self._run(self._undo)

    def _run(self, fn: Callable[[], Any]) -> None:
        try:
            fn()
        except CmoDeskError as err:
            self._report(str(err))
            self.setObsolete(True)


class CodingActions:
    """The desk's way to change a project: services run at once, the undo stack remembers."""

    def __init__(self, session: Session, stack: QUndoStack, report: Report) -> None:
        self.session = session
        self.stack = stack
        self.report = report
        #: Changes the disk refused (full, unplugged...), oldest first, tried again in order.
        self.unsaved: list[Callable[[], Any]] = []
        #: Told why saving fails (a message), or None once everything is saved again.
        self.on_save_state: Callable[[str | None], None] = lambda _message: None
        #: Shows the first refusal in full (the status bar keeps saying "Not saved").
        self.alert: Report = report

    def _attempt(self, fn: Callable[[], Any]) -> tuple[bool, Any]:
        # A change made while earlier ones wait must not land before them.
        if self.unsaved and not self.retry_unsaved():
            self.unsaved.append(fn)
            return False, None
        try:
            return True, fn()
        except StorageError as err:
            self._hold(fn, err)
            return False, None
        except CmoDeskError as err:
            self.report(str(err))
            return False, None

    def _hold(self, fn: Callable[[], Any], err: StorageError) -> None:
        """Keep a change the disk refused, to save it as soon as the disk allows."""
        first = not self.unsaved
        self.unsaved.append(fn)
        self.on_save_state(str(err))
        if first:
            self.alert(str(err) + " " + tr(
                "What you typed is kept: CMO Desk tries again every few seconds and saves it "
                "as soon as the disk allows. Do not close the desk until it says Saved."))

    def retry_unsaved(self) -> bool:
        """Try the refused changes again, in order. True when none is left waiting."""
        while self.unsaved:
            try:
                self.unsaved[0]()
            except StorageError as err:
                self.on_save_state(str(err))
                return False
            except CmoDeskError as err:  # no longer possible (the record was deleted meanwhile)
                self.report(str(err))
            self.unsaved.pop(0)
        self.on_save_state(None)
        return True

    def _push(self, text: str, redo: Callable[[], Any], undo: Callable[[], Any]) -> None:
        self.stack.push(ServiceCommand(text, redo, undo, self.report))

    # -- excerpts --

    def add_excerpt(self, document_id: str, start: int, end: int, role: str | None,
                    code_ids: Iterable[str] = ()) -> str | None:
        s = self.session
        ok, result = self._attempt(
            lambda: coding.add_excerpt(s, document_id, start, end, role, list(code_ids)))
        if not ok:
            return None
        eid = result[0]
        self._push(tr("Mark passage"), lambda: coding.restore_excerpt(s, eid),
                   lambda: coding.delete_excerpt(s, eid))
        return eid

    def delete_excerpt(self, excerpt_id: str) -> bool:
        s = self.session
        ok, _ = self._attempt(lambda: coding.delete_excerpt(s, excerpt_id))
        if ok:
            self._push(tr("Delete excerpt"), lambda: coding.delete_excerpt(s, excerpt_id),
                       lambda: coding.restore_excerpt(s, excerpt_id))
        return ok

    def update_excerpt(self, excerpt_id: str, field: str, old: Any, new: Any) -> bool:
        s = self.session
        ok, _ = self._attempt(lambda: coding.update_excerpt(s, excerpt_id, {field: new}))
        if ok:
            self._push(tr("Edit excerpt"),
                       lambda: coding.update_excerpt(s, excerpt_id, {field: new}),
                       lambda: coding.update_excerpt(s, excerpt_id, {field: old}))
        return ok

    def set_excerpt_codes(self, excerpt_id: str, old: list[str], new: list[str]) -> bool:
        s = self.session
        ok, _ = self._attempt(lambda: coding.set_excerpt_codes(s, excerpt_id, new))
        if ok:
            self._push(tr("Change codes"), lambda: coding.set_excerpt_codes(s, excerpt_id, new),
                       lambda: coding.set_excerpt_codes(s, excerpt_id, old))
        return ok

    # -- CMOCs --

    def create_cmoc(self, study_id: str, excerpt_ids: Iterable[str] = (),
                    values: dict[str, Any] | None = None) -> str | None:
        s = self.session
        ok, result = self._attempt(
            lambda: coding.create_cmoc(s, study_id, values or {}, list(excerpt_ids)))
        if not ok:
            return None
        cid = result[0]
        self._push(tr("New CMOC"), lambda: coding.restore_cmoc(s, cid),
                   lambda: coding.delete_cmoc(s, cid))
        return cid

    def delete_cmoc(self, cmoc_id: str) -> bool:
        s = self.session
        ok, _ = self._attempt(lambda: coding.delete_cmoc(s, cmoc_id))
        if ok:
            self._push(tr("Delete CMOC"), lambda: coding.delete_cmoc(s, cmoc_id),
                       lambda: coding.restore_cmoc(s, cmoc_id))
        return ok

    def update_cmoc(self, cmoc_id: str, field: str, old: Any, new: Any) -> bool:
        s = self.session
        ok, _ = self._attempt(lambda: coding.update_cmoc(s, cmoc_id, {field: new}))
        if ok:
            self._push(tr("Edit CMOC"), lambda: coding.update_cmoc(s, cmoc_id, {field: new}),
                       lambda: coding.update_cmoc(s, cmoc_id, {field: old}))
        return ok

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

        ok, _ = self._attempt(link)
        if ok:
            self._push(tr("Link evidence"), link, unlink)
        return ok

    def unlink_excerpt(self, cmoc_id: str, excerpt_id: str) -> bool:
        s = self.session
        link = s.store.links("cmoc_excerpt", cmoc_id=cmoc_id, excerpt_id=excerpt_id)
        slot = link[0].get("slot") if link else None
        ok, _ = self._attempt(lambda: coding.unlink_excerpt(s, cmoc_id, excerpt_id))
        if ok:
            self._push(tr("Unlink evidence"), lambda: coding.unlink_excerpt(s, cmoc_id, excerpt_id),
                       lambda: coding.link_excerpt(s, cmoc_id, excerpt_id, slot))
        return ok

    def set_cmoc_codes(self, cmoc_id: str, old: list[str], new: list[str]) -> bool:
        s = self.session
        ok, _ = self._attempt(lambda: coding.set_cmoc_codes(s, cmoc_id, new))
        if ok:
            self._push(tr("Change codes"), lambda: coding.set_cmoc_codes(s, cmoc_id, new),
                       lambda: coding.set_cmoc_codes(s, cmoc_id, old))
        return ok

    def set_theory(self, cmoc_id: str, theory_id: str, linked: bool) -> bool:
        s = self.session
        on = lambda: coding.link_theory(s, cmoc_id, theory_id)  # noqa: E731
        off = lambda: coding.unlink_theory(s, cmoc_id, theory_id)  # noqa: E731
        ok, _ = self._attempt(on if linked else off)
        if ok:
            self._push(tr("Link theory"), on if linked else off, off if linked else on)
        return ok

    # -- study form --

    def set_form_value(self, study_id: str, key: str, old: Any, new: Any) -> bool:
        s = self.session
        ok, _ = self._attempt(lambda: coding.set_form_value(s, study_id, key, new))
        if ok:
            self._push(tr("Edit study form"),
                       lambda: coding.set_form_value(s, study_id, key, new),
                       lambda: coding.set_form_value(s, study_id, key, old))
        return ok

    def submit_study(self, study_id: str) -> bool:
        ok, _ = self._attempt(lambda: coding.submit_study(self.session, study_id))
        return ok

    # -- codebook (saved at once; not on the undo stack because they touch every coder) --

    def run(self, fn: Callable[[], Any]) -> tuple[bool, Any]:
        return self._attempt(fn)
