"""Shared fixtures: a small project copied to several coders' laptops."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from cmo_desk.cli.main import run
from cmo_desk.services import coding
from cmo_desk.services.session import Session


@pytest.fixture(autouse=True)
def _own_config(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    # each test is its own laptop: the site id must not come from the user's real config
    monkeypatch.setenv("CMO_DESK_CONFIG_DIR", str(tmp_path_factory.mktemp("config")))
    monkeypatch.delenv("CMO_DESK_CODER", raising=False)


def cli(*args: str | Path, capsys: pytest.CaptureFixture[str] | None = None) -> int:
    return run([str(a) for a in args])


@pytest.fixture
def base_project(tmp_path: Path) -> Path:
    """A coordinator's project with two studies and a small codebook."""
    path = tmp_path / "review.cmo"
    with Session.create(path, coder="Coordinator", title="Review") as s:
        for label, title, year in (("Ahmed 2019", "Peer navigators in harm reduction", 2019),
                                   ("Brown 2021", "Trust and outreach among sex workers", 2021)):
            sid, _ = coding.add_study(s, {"label": label, "title": title, "year": year})
            with s.write() as uow:
                uow.create("document", {"study_id": sid, "filename": f"{label}.txt",
                                        "text": f"{title}. " + "Peers built trust. " * 20,
                                        "page_starts": [0], "created_by": s.coder_id})
        coding.add_code(s, "Trust", "mechanism")
        coding.add_code(s, "Stigma", "context")
    return path


@pytest.fixture
def copies(base_project: Path, tmp_path: Path) -> Callable[[str], Path]:
    """Copy the base project to a coder's own folder (as a USB stick would)."""

    def make(name: str) -> Path:
        folder = tmp_path / name
        folder.mkdir()
        dest = folder / "review.cmo"
        shutil.copy2(base_project, dest)
        return dest

    return make


def study_id(session: Session, label: str) -> str:
    return next(s.id for s in session.store.list("study") if s.label == label)
