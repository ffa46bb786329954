"""File → Sync with hub…: send this laptop's work to the team hub and bring everyone else's, in
the background; the desk keeps working offline when the hub cannot be reached."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from cmo_desk.domain.errors import HubError, HubPasswordNeeded
from cmo_desk.domain.i18n import tr
from cmo_desk.services import hub
from cmo_desk.services.session import Session

if TYPE_CHECKING:
    from cmo_desk.ui.main_window import MainWindow


def sync_with_hub(window: MainWindow, password: str | None = None, url: str | None = None) -> Any:
    url = url or hub.remembered_url(window.session)
    if not url:
        url = window.dialogs.ask_text(
            tr("Sync with hub"),
            tr("The hub's address (ask your coordinator), e.g. "
               "postgresql://NAME@SERVER/DATABASE:"))
        if not url:
            return None
        url = url.strip()

    def work(session: Session, progress: Any, cancelled: Any) -> Any:
        try:
            return hub.sync(session, url, password, progress=progress, cancel=cancelled)
        except HubError as err:  # shown in the status bar: the desk keeps working offline
            return err

    def done(result: Any) -> None:
        if isinstance(result, HubPasswordNeeded):
            secret = window.dialogs.ask_password(tr("Sync with hub"), str(result))
            if secret:
                sync_with_hub(window, secret, url)
            return
        if isinstance(result, HubError):
            window.hub_label.setText(tr("Hub not reached — working offline"))
            window.statusBar().showMessage(str(result), 30000)
            return
        window.hub_label.setText(last_sync_text(window.session))
        window.statusBar().showMessage(result.summary(), 30000)

    return window.run_task(tr("Syncing with the hub"), work, done)


def last_sync_text(session: Session) -> str:
    when = hub.last_sync(session)
    if not when:
        return ""
    return tr("Last sync: {when}").format(when=when.replace("T", " ")[:16] + " UTC")
