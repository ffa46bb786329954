"""Helpers for the safety tests: projects old enough to be backed up on opening."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest


def age_project(path: Path) -> None:
    """Pretend the project was created a day ago (a brand-new project is not backed up on open)."""
    con = sqlite3.connect(path)
    con.execute("UPDATE meta SET value='2020-01-01T00:00:00+00:00' WHERE key='created'")
    con.commit()
    con.close()


@pytest.fixture
def old_demo(demo_path: Path) -> Path:
    age_project(demo_path)
    return demo_path
