"""File → Send my work…: the desk writes a delta bundle the receiver can merge."""

from __future__ import annotations

import gzip
import shutil
from pathlib import Path
from typing import Any

from PySide6.QtWidgets import QMenu

from cmo_desk.cli.main import run
from cmo_desk.services import coding
from cmo_desk.services.session import Session
from cmo_desk.store.project_store import ProjectStore
from cmo_desk.ui.dialogs import Dialogs

from .conftest import study_id


class Answers(Dialogs):
    def __init__(self, theirs: Path, dest: Path) -> None:
        super().__init__(None)
        self.theirs, self.dest = theirs, dest
        self.errors: list[str] = []

    def open_paths(self, title: str, filters: str) -> list[str]:
        return [str(self.theirs)]

    def save_path(self, title: str, filters: str, default: str = "") -> str | None:
        self.default = default
        return str(self.dest)

    def error(self, message: str) -> None:
        self.errors.append(message)


def test_send_my_work_from_the_file_menu(copies, qtbot: Any, monkeypatch) -> None:
    from cmo_desk.ui.main_window import MainWindow
    from cmo_desk.services.settings import Settings

    mine, theirs = copies("lan"), copies("sam")
    dest = mine.with_name("for-sam.cmobundle")
    session = Session.open(mine, coder="Lan Nguyen")
    window = MainWindow(session, Settings.load(), dialogs=Answers(theirs, dest))
    qtbot.addWidget(window)
    window.resize(1366, 768)
    window.show()
    qtbot.waitExposed(window)
    try:
        coding.create_cmoc(session, study_id(session, "Ahmed 2019"), {"statement": "Lan today"})
        file_menu = next(m for m in window.menuBar().findChildren(QMenu)
                         if "Send my work…" in [a.text() for a in m.actions()])
        action = next(a for a in file_menu.actions() if a.text() == "Send my work…")
        assert action.isEnabled()
        action.trigger()
        assert dest.exists() and not window.dialogs.errors
        assert "for-sam" in window.statusBar().currentMessage()
        with gzip.open(dest) as fh:
            assert b"Lan today" in fh.read()
    finally:
        window.close()
        session.close()
    via_bundle = theirs.with_name("via.cmo")
    shutil.copy2(theirs, via_bundle)
    assert run(["merge", str(via_bundle), str(dest)]) == 0
    assert run(["merge", str(theirs), str(mine)]) == 0
    with ProjectStore.open(via_bundle, read_only=True) as a, \
            ProjectStore.open(theirs, read_only=True) as b:
        assert a.dump_json() == b.dump_json()
