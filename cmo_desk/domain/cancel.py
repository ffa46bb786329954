"""Stopping long work when the user cancels it.

Imports, exports and recognition take a ``cancel() -> bool`` callback (the desk's progress dialog
answers it from a worker thread) and ask it between steps. Stopping raises ``Cancelled``, whose
message says what was left untouched; the caller has written nothing by then.
"""

from __future__ import annotations

from collections.abc import Callable

from cmo_desk.domain.errors import Cancelled
from cmo_desk.domain.i18n import tr

#: Answers True once the user has asked to stop.
Cancel = Callable[[], bool]


def check_import_cancel(cancel: Cancel | None) -> None:
    """Raise ``Cancelled`` if the user stopped an import (nothing has been written yet)."""
    if cancel is not None and cancel():
        raise Cancelled(tr("Import cancelled; nothing was written."))


def check_export_cancel(cancel: Cancel | None) -> None:
    """Raise ``Cancelled`` if the user stopped an export (no file has been written yet)."""
    if cancel is not None and cancel():
        raise Cancelled(tr("Export cancelled; no file was written."))
