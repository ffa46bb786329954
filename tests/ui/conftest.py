from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import shutil  # noqa: E402
from collections.abc import Iterator  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

import pytest  # noqa: E402

from cmo_desk.services.demo import CODER_A, build_demo  # noqa: E402
from cmo_desk.services.session import Session  # noqa: E402
from cmo_desk.services.settings import Settings  # noqa: E402
from cmo_desk.ui.dialogs import Dialogs  # noqa: E402


@pytest.fixture(scope="session")
def demo_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo project is built once; each test works on its own copy."""
    folder = tmp_path_factory.mktemp("demo")
    old = os.environ.get("CMO_DESK_CONFIG_DIR")
    os.environ["CMO_DESK_CONFIG_DIR"] = str(folder / "config")
    try:
        build_demo(folder / "demo.cmo").close()
    finally:
        if old is None:
            os.environ.pop("CMO_DESK_CONFIG_DIR", None)
        else:
            os.environ["CMO_DESK_CONFIG_DIR"] = old
    return folder / "demo.cmo"


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, demo_file: Path) -> Path:
    monkeypatch.setenv("CMO_DESK_CONFIG_DIR", str(tmp_path / "config"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    monkeypatch.delenv("CMO_DESK_CODER", raising=False)
    monkeypatch.delenv("CMO_DESK_LANG", raising=False)
    path = tmp_path / "project.cmo"
    shutil.copyfile(demo_file, path)
    return path


class ScriptedDialogs(Dialogs):
    """Answers every question the desk asks, and remembers the errors it was shown."""

    def __init__(self) -> None:
        super().__init__(None)
        self.errors: list[str] = []
        self.infos: list[str] = []
        self.codes_answer: list[str] | None = None
        self.text_answer: str | None = None
        self.item_answer: str | None = None

    def error(self, message: str) -> None:
        self.errors.append(message)

    def info(self, message: str) -> None:
        self.infos.append(message)

    def confirm(self, message: str) -> bool:
        return True

    def ask_text(self, title: str, label: str, value: str = "") -> str | None:
        return self.text_answer

    def choose_codes(self, codes: Any, checked: Any, title: str) -> list[str] | None:
        return self.codes_answer

    def choose_code(self, codes: Any, title: str) -> str | None:
        return self.item_answer

    def choose_item(self, title: str, label: str, items: list[tuple[str, str]]) -> str | None:
        return self.item_answer or (items[0][0] if items else None)


@pytest.fixture
def dialogs() -> ScriptedDialogs:
    return ScriptedDialogs()


@pytest.fixture
def open_window(qtbot: Any, project: Path, dialogs: ScriptedDialogs) -> Iterator[Any]:
    """Open a window on a project as the first demo coder; closes and checks clean-up."""
    from cmo_desk.ui.main_window import MainWindow

    opened: list[tuple[Any, Session]] = []

    def make(path: Path = project, study: str | None = "Hanoi 2019") -> Any:
        session = Session.open(path, coder=CODER_A)
        window = MainWindow(session, Settings.load(), dialogs=dialogs)
        qtbot.addWidget(window)
        window.resize(1366, 768)
        window.show()
        qtbot.waitExposed(window)
        if study:
            assert window.open_study_by_label(study)
        opened.append((window, session))
        return window

    yield make
    for window, session in opened:
        if window.isVisible():
            window.close()
        assert window.runner.pool.activeThreadCount() == 0
        assert all(not t.isActive() for t in window._timers)
        session.close()
