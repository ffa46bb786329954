"""Long work off the UI thread: a pure function with progress and cancel callbacks.

The function has the shape ``fn(progress, cancelled) -> result`` where ``progress(done, total)``
reports and ``cancelled()`` says whether to stop (it then raises ``Cancelled``). It must open its
own Session: a project connection belongs to the thread that made it.
"""

from __future__ import annotations

import threading
import traceback
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, QRunnable, Qt, QThreadPool, QTimer, Signal
from PySide6.QtWidgets import QProgressDialog, QWidget

from cmo_desk.domain import records as rec
from cmo_desk.domain.errors import Cancelled, CmoDeskError
from cmo_desk.domain.i18n import tr

Progress = Callable[[int, int], None]
IsCancelled = Callable[[], bool]
Work = Callable[[Progress, IsCancelled], Any]


class TaskSignals(QObject):
    progressed = Signal(int, int)
    succeeded = Signal(object)
    failed = Signal(str)
    cancelled = Signal()
    ended = Signal()


class Task(QRunnable):
    """One run of a work function on a pool thread; signals arrive on the UI thread."""

    def __init__(self, work: Work) -> None:
        super().__init__()
        self.setAutoDelete(False)
        self.work = work
        self.signals = TaskSignals()
        self._stop = threading.Event()

    def cancel(self) -> None:
        self._stop.set()

    def is_cancelled(self) -> bool:
        return self._stop.is_set()

    def run(self) -> None:
        try:
            result = self.work(self.signals.progressed.emit, self._stop.is_set)
        except Cancelled:
            self.signals.cancelled.emit()
        except CmoDeskError as err:
            self.signals.failed.emit(str(err))
        except Exception as err:  # noqa: BLE001 - a bug must reach the user, not kill the thread
            traceback.print_exc()
            self.signals.failed.emit(tr("Something went wrong: {error}. Nothing was lost; "
                                        "please report this.").format(error=err))
        else:
            if self._stop.is_set():
                self.signals.cancelled.emit()
            else:
                self.signals.succeeded.emit(result)
        finally:
            self.signals.ended.emit()


class BackgroundRunner(QObject):
    """Runs tasks on its own pool so the window (and tests) can wait for them to finish."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.pool = QThreadPool(self)
        self.pool.setMaxThreadCount(1)
        self._tasks: list[Task] = []
        self._queued: list[Task] = []

    def start(self, work: Work) -> Task:
        """Queue ``work``; it begins once control returns to the event loop, so the caller can
        connect to ``task.signals`` first without missing a quick task's signals."""
        task = Task(work)
        self._tasks.append(task)
        task.signals.ended.connect(lambda t=task: self._forget(t),
                                   Qt.ConnectionType.QueuedConnection)
        self._queued.append(task)
        QTimer.singleShot(0, lambda: self._launch(task))
        return task

    def _launch(self, task: Task) -> None:
        if task in self._queued:
            self._queued.remove(task)
            self.pool.start(task)

    def _forget(self, task: Task) -> None:
        if task in self._tasks:
            self._tasks.remove(task)

    def busy(self) -> bool:
        return bool(self._tasks)

    def cancel_all(self) -> None:
        for t in list(self._tasks):
            t.cancel()

    def wait(self, msecs: int = -1) -> bool:
        for task in list(self._queued):  # not begun yet: begin now, so waiting means finished
            self._launch(task)
        return self.pool.waitForDone(msecs)


class ProjectWork:
    """Work on a project from a pool thread, ``work(session, progress, cancelled)``, with its own
    Session; it remembers what it wrote, whichever way it ended, so that the UI thread can tell
    every open view (``take_changed``) instead of reloading everything."""

    def __init__(self, path: Any, coder: str | None,
                 work: Callable[[Any, Progress, IsCancelled], Any]) -> None:
        self.path, self.coder, self.work = path, coder, work
        self._changed: rec.Changed | None = rec.Changed()

    def __call__(self, progress: Progress, cancelled: IsCancelled) -> Any:
        from cmo_desk.services.session import Session

        with Session.open(self.path, coder=self.coder) as session:
            mark = session.log_mark()
            try:
                return self.work(session, progress, cancelled)
            finally:
                try:
                    self._changed = session.changed_since(mark)
                except Exception:  # noqa: BLE001 - unknown: the views must read everything
                    self._changed = None

    def take_changed(self) -> rec.Changed | None:
        """What the work wrote (once; an empty Changed afterwards), or None when it is not
        known and every view must read the project again."""
        changed, self._changed = self._changed, rec.Changed()
        return changed


def follow_changes(widget: QWidget, session: Any, refresh: Callable[[], None],
                   wanted: Callable[[rec.Changed], bool] = lambda changed: True) -> None:
    """Keep an open window current: ``refresh()`` runs after every write to the session that
    ``wanted`` says concerns it (whoever made it: the desk, a background import, a merge), for
    as long as the window exists."""
    alive = [True]

    def heard(changed: rec.Changed) -> None:
        if alive[0] and wanted(changed) and widget.isVisible():
            refresh()

    def gone() -> None:
        alive[0] = False
        if heard in session.listeners:
            session.listeners.remove(heard)

    session.listeners.append(heard)
    widget.destroyed.connect(lambda *_: gone())


def run_with_progress(
    runner: BackgroundRunner, parent: QWidget | None, title: str, work: Work,
    on_success: Callable[[Any], None], on_failure: Callable[[str], None],
    on_cancel: Callable[[], None] | None = None,
) -> tuple[Task, QProgressDialog]:
    """Start ``work`` with a progress dialog whose Cancel button asks it to stop."""
    dialog = QProgressDialog(title, tr("Cancel"), 0, 0, parent)
    dialog.setWindowTitle(title)
    dialog.setWindowModality(Qt.WindowModality.WindowModal)
    dialog.setMinimumDuration(300)
    dialog.setAutoClose(False)
    dialog.setAutoReset(False)
    task = runner.start(work)

    def progressed(done: int, total: int) -> None:
        if total > 0:
            dialog.setMaximum(total)
            dialog.setValue(min(done, total))
            dialog.setLabelText(tr("{title} — {done} of {total}").format(
                title=title, done=done, total=total))

    def finish() -> None:
        dialog.reset()
        dialog.hide()
        dialog.deleteLater()

    task.signals.progressed.connect(progressed)
    task.signals.succeeded.connect(lambda r: (finish(), on_success(r)))
    task.signals.failed.connect(lambda m: (finish(), on_failure(m)))
    task.signals.cancelled.connect(lambda: (finish(), on_cancel() if on_cancel else None))
    dialog.canceled.connect(task.cancel)
    return task, dialog
