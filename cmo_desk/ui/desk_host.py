"""What the desk's flows and team windows use of the window they were opened from.

Imports, exports, merges, the hub and the team windows take a ``DeskHost``: the project's
session, the dialogs that ask the user, the runner for background work, and a few ways to
report back. The desk's main window is one; a test may pass another.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from PySide6.QtWidgets import QStatusBar, QWidget

    from cmo_desk.services.session import Session
    from cmo_desk.ui.dialogs import Dialogs
    from cmo_desk.ui.workers import BackgroundRunner, ProjectWork, Task


class DeskHost(Protocol):
    session: Session
    dialogs: Dialogs
    runner: BackgroundRunner
    #: the study open in the desk, if any
    study_id: str | None

    def window(self) -> QWidget: ...  # the window to open dialogs over (Qt's own method)

    def statusBar(self) -> QStatusBar: ...  # noqa: N802 - Qt's name

    def report_error(self, message: str) -> None: ...

    def flush_edits(self, ask: bool = False) -> None: ...

    def publish(self, work: ProjectWork) -> None: ...

    def run_task(self, title: str, work: Callable[..., Any],
                 on_success: Callable[[Any], None]) -> Task: ...

    def keep_open(self, name: str, view: QWidget) -> QWidget: ...
