"""File → Sync with hub… in the desk: in the background, the result in the status bar, and a plain
line (the desk keeps working) when the hub cannot be reached."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtTest import QTest

from cmo_desk.services import coding
from cmo_desk.services.hub import init_hub
from cmo_desk.services.session import Session
from cmo_desk.services.settings import Settings
from ui.conftest import ScriptedDialogs

from .conftest import PgServer
from .test_sync import laptop


class HubDialogs(ScriptedDialogs):
    def __init__(self) -> None:
        super().__init__()
        self.passwords: list[str] = []

    def ask_password(self, title: str, label: str) -> str | None:
        self.passwords.append(label)
        return None


def _window(qtbot: Any, path: Path, dialogs: ScriptedDialogs) -> Any:
    from cmo_desk.ui.main_window import MainWindow

    session = Session.open(path, coder="Cora Mwangi")
    window = MainWindow(session, Settings.load(), dialogs=dialogs)
    qtbot.addWidget(window)
    window.resize(1366, 768)
    window.show()
    qtbot.waitExposed(window)
    return window, session


def _file_menu_action(window: Any, qtbot: Any, text: str) -> None:
    """Click File in the menu bar, then the action, as a user would."""
    bar = window.menuBar()
    file_action = bar.actions()[0]
    menu = file_action.menu()
    QTest.mouseClick(bar, Qt.MouseButton.LeftButton, pos=bar.actionGeometry(file_action).center())
    qtbot.waitUntil(menu.isVisible)
    action = next(a for a in menu.actions() if a.text() == text)
    QTest.mouseClick(menu, Qt.MouseButton.LeftButton, pos=menu.actionGeometry(action).center())


def test_desk_syncs_in_the_background(qtbot: Any, pg_server: PgServer, tmp_path: Path) -> None:
    db = pg_server.fresh_database("hub_desk")
    pg_server.sql("DO $$ BEGIN CREATE ROLE cora LOGIN; EXCEPTION WHEN duplicate_object THEN "
                  "NULL; END $$", database="postgres")
    path = tmp_path / "review.cmo"
    with laptop(tmp_path, "cora"):
        with Session.create(path, coder="Cora Mwangi") as s:
            coding.add_study(s, {"label": "Lima 2016"})
        init_hub(pg_server.url(database=db), path, None, "cora", "Cora Mwangi")
        dialogs = ScriptedDialogs()
        dialogs.text_answer = pg_server.url("cora", db)
        window, session = _window(qtbot, path, dialogs)
        try:
            _file_menu_action(window, qtbot, "Sync with hub…")
            qtbot.waitUntil(lambda: "Synced with" in window.statusBar().currentMessage(),
                            timeout=30000)
            assert "changes sent" in window.statusBar().currentMessage()
            assert window.hub_label.text().startswith("Last sync:")
            assert session.store.meta_value("hub_url") == pg_server.url("cora", db)
        finally:
            window.close()
            session.close()


def test_unreachable_hub_is_a_status_line_and_the_desk_works_on(qtbot: Any,
                                                                tmp_path: Path) -> None:
    path = tmp_path / "review.cmo"
    with laptop(tmp_path, "cora"):
        with Session.create(path, coder="Cora Mwangi") as s:
            coding.add_study(s, {"label": "Lima 2016"})
        dialogs = HubDialogs()
        dialogs.text_answer = "postgresql://cora@127.0.0.1:1/nowhere"
        window, session = _window(qtbot, path, dialogs)
        try:
            _file_menu_action(window, qtbot, "Sync with hub…")
            qtbot.waitUntil(lambda: "cannot be reached" in window.statusBar().currentMessage(),
                            timeout=30000)
            assert "working offline" in window.hub_label.text()
            assert not dialogs.errors  # no modal error: the desk keeps working
            window.runner.wait()
        finally:
            window.close()
            session.close()
