"""Starting the desk: the project file is opened once when it is known who is coding, the window
is painted before the first study fills it, and the first study still opens."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from cmo_desk.services.settings import Settings
from cmo_desk.store.project_store import ProjectStore
from cmo_desk.ui import app


def test_a_known_coder_opens_the_file_once(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    opened: list[Path] = []
    real = ProjectStore.open.__func__  # type: ignore[attr-defined]

    def counting(cls: Any, path: Any, **kw: Any) -> Any:
        opened.append(Path(path))
        return real(cls, path, **kw)

    monkeypatch.setattr(ProjectStore, "open", classmethod(counting))
    args = app.build_parser().parse_args([str(project), "--coder", "Lan Nguyen"])
    session, _ = app._open_session(args, Settings.load(), interactive=False)
    try:
        assert opened == [project]
        assert session.coder_name == "Lan Nguyen" and not session.read_only
    finally:
        session.close()

    opened.clear()
    args = app.build_parser().parse_args([str(project)])  # nobody named: read the coders first
    session, _ = app._open_session(args, Settings.load(), interactive=False)
    try:
        assert opened == [project, project]
        assert session.coder_name
    finally:
        session.close()


def test_the_window_is_shown_before_the_first_study_opens(project: Path) -> None:
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", app.QUIT_WHEN_SHOWN: "1",
           "CMO_DESK_CODER": "Lan Nguyen"}
    out = subprocess.run([sys.executable, "-m", "cmo_desk", str(project)], env=env,
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    times = dict(line.split("=") for line in out.stdout.splitlines() if "_s=" in line)
    assert float(times["window_shown_s"]) <= float(times["study_shown_s"])
