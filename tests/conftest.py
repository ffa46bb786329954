"""Shared fixtures: every test gets its own config folder, i.e. its own 'laptop'."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from cmo_desk.ui.qt_startup import load_qt  # noqa: E402

load_qt()  # the desk's quicker import check, for the modules the tests load too

# Property tests: about 100 examples in the everyday run; benchmark scripts and long soaks pick a
# bigger profile with HYPOTHESIS_PROFILE=soak (10,000 examples). No deadline: the suite runs on
# busy two-core machines where one slow example says nothing about the code.
settings.register_profile("default", max_examples=100, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("soak", max_examples=10_000, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow])
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))

CORPUS = Path(__file__).resolve().parents[1].parent / "shared" / "corpus"


@pytest.fixture(autouse=True)
def _own_config(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    cfg = tmp_path_factory.mktemp("config")
    monkeypatch.setenv("CMO_DESK_CONFIG_DIR", str(cfg))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(cfg))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path_factory.mktemp("data")))
    monkeypatch.delenv("CMO_DESK_CODER", raising=False)
    # the command line follows the computer's language: tests read English messages
    for var in ("LANGUAGE", "LC_ALL", "LC_MESSAGES", "CMO_DESK_LANG"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("LANG", "C.UTF-8")


@pytest.fixture(scope="session")
def demo_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo project, built once per test run; copy it before changing it."""
    from cmo_desk.services.demo import build_demo

    old = os.environ.get("CMO_DESK_CONFIG_DIR")
    os.environ["CMO_DESK_CONFIG_DIR"] = str(tmp_path_factory.mktemp("democfg"))
    path = tmp_path_factory.mktemp("demo") / "demo.cmo"
    build_demo(path).close()
    if old is None:
        os.environ.pop("CMO_DESK_CONFIG_DIR")
    else:
        os.environ["CMO_DESK_CONFIG_DIR"] = old
    return path


@pytest.fixture
def demo_path(demo_template: Path, tmp_path: Path) -> Path:
    import shutil

    dest = tmp_path / "demo.cmo"
    shutil.copy(demo_template, dest)
    return dest
