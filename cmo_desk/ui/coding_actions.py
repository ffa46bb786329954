"""The desk's way to change a project: coding actions that are undoable and never lost.

The changes and their undo live in ``services/undo.py``; here the desk adds what a window needs:
changes the disk refused (full, unplugged...) are kept and saved again in order, and the undo
stack tells the Edit menu when Undo and Redo are possible.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, Signal

from cmo_desk.domain.errors import CmoDeskError, StorageError
from cmo_desk.domain.i18n import tr
from cmo_desk.services.session import Session
from cmo_desk.services.undo import Action, Report, UndoableCoding, UndoStack


class DeskUndoStack(QObject):
    """The project's undo stack, with signals for the Edit menu's Undo and Redo."""

    canUndoChanged = Signal(bool)
    canRedoChanged = Signal(bool)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.steps = UndoStack()
        self._can = (False, False)
        self.steps.listeners.append(self._changed)

    def undo(self) -> bool:
        return self.steps.undo()

    def redo(self) -> bool:
        return self.steps.redo()

    def count(self) -> int:
        return self.steps.count()

    def _changed(self, can_undo: bool, can_redo: bool) -> None:
        before, self._can = self._can, (can_undo, can_redo)
        if before[0] != can_undo:
            self.canUndoChanged.emit(can_undo)
        if before[1] != can_redo:
            self.canRedoChanged.emit(can_redo)


class CodingActions(UndoableCoding):
    """Services run at once, the undo stack remembers, and a refused save is tried again."""

    def __init__(self, session: Session, stack: DeskUndoStack, report: Report) -> None:
        super().__init__(session, stack.steps, report)
        #: Changes the disk refused (full, unplugged...), oldest first, tried again in order.
        self.unsaved: list[Action] = []
        #: Told why saving fails (a message), or None once everything is saved again.
        self.on_save_state: Callable[[str | None], None] = lambda _message: None
        #: Shows the first refusal in full (the status bar keeps saying "Not saved").
        self.alert: Report = report

    def attempt(self, fn: Action) -> tuple[bool, Any]:
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

    def _hold(self, fn: Action, err: StorageError) -> None:
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
