"""The File menu through the desk's controller: new and recent projects, and preferences."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from PySide6.QtWidgets import QApplication

from cmo_desk.services.settings import Settings

from .conftest import ScriptedDialogs


class FileDialogs(ScriptedDialogs):
    def __init__(self) -> None:
        super().__init__()
        self.save_answer: str | None = None
        self.preferences_answer: tuple[str, str] | None = None
        self.paths: list[str] = []

    def open_paths(self, title: str, filters: str) -> list[str]:
        return self.paths

    def save_path(self, title: str, filters: str, default: str = "") -> str | None:
        return self.save_answer

    def preferences(self, coder_name: str, language: str) -> tuple[str, str] | None:
        return self.preferences_answer


@pytest.fixture
def dialogs() -> FileDialogs:
    return FileDialogs()


def menu_action(window: Any, menu: str, text: str) -> Any:
    found = next(a.menu() for a in window.menuBar().actions() if a.text() == menu)
    return next(a for a in found.actions() if a.text() == text)


def test_new_project_opens_in_a_new_window_and_becomes_recent(
        open_window: Any, dialogs: FileDialogs, tmp_path: Path, qtbot: Any) -> None:
    window = open_window()
    dialogs.save_answer = str(tmp_path / "Đà Nẵng review")  # no ".cmo": the desk adds it
    menu_action(window, "&File", "New project…").trigger()
    fresh = window.successor
    try:
        assert fresh is not window and fresh.isVisible() and not window.isVisible()
        assert fresh.session.path == tmp_path / "Đà Nẵng review.cmo"
        assert fresh.session.path.exists()
        assert str(fresh.session.path) == Settings.load().recent[0]
        recent = fresh.recent_menu
        recent.aboutToShow.emit()
        assert [a.text() for a in recent.actions()][0] == str(fresh.session.path)
    finally:
        fresh.close()
    QApplication.processEvents()


def test_open_recent_says_when_there_is_none(open_window: Any) -> None:
    window = open_window()
    window.settings.recent = []
    window.recent_menu.aboutToShow.emit()
    [only] = window.recent_menu.actions()
    assert only.text() == "(none yet)" and not only.isEnabled()


def test_preferences_are_saved_and_the_desk_says_when_they_apply(
        open_window: Any, dialogs: FileDialogs) -> None:
    window = open_window()
    dialogs.preferences_answer = ("Zoë Ávila", "es")
    menu_action(window, "&File", "Preferences…").trigger()
    saved = Settings.load()
    assert (saved.coder_name, saved.language) == ("Zoë Ávila", "es")
    assert "Restart" in window.statusBar().currentMessage()
    dialogs.preferences_answer = None  # cancelled: nothing changes
    menu_action(window, "&File", "Preferences…").trigger()
    assert Settings.load().coder_name == "Zoë Ávila"


def test_opening_a_project_of_an_older_layout_says_it_is_being_updated(
        open_window: Any, dialogs: FileDialogs, tmp_path: Path) -> None:
    import shutil

    from cmo_desk.store.fileinfo import HEAD_REVISION, inspect_file
    from tests.logrows import downgrade

    window = open_window(study=None)
    older = tmp_path / "last year's review.cmo"
    shutil.copyfile(window.session.path, older)
    downgrade(older, "0005")
    shown: list[str] = []
    window.statusBar().messageChanged.connect(shown.append)
    dialogs.paths = [str(older)]
    menu_action(window, "&File", "Open project…").trigger()
    fresh = window.successor
    try:
        assert fresh.session.path == older
        assert any(m.startswith("Updating last year's review.cmo to this version's file layout")
                   for m in shown), shown
        assert inspect_file(older)["revision"] == HEAD_REVISION
    finally:
        fresh.close()
    QApplication.processEvents()
