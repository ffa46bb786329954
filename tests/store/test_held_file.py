"""A project another program holds locked is busy, not damaged: the user is told to close the
other program, never that the file is damaged or that a backup should be restored over it."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from cmo_desk.domain.errors import DamagedProjectError, ProjectError
from cmo_desk.services.recovery import check_project
from cmo_desk.store.fileinfo import inspect_file
from cmo_desk.store.project_store import ProjectStore
from cmo_desk.store.site import Site


@pytest.fixture
def held(tmp_path: Path) -> Iterator[Path]:
    path = tmp_path / "held.cmo"
    ProjectStore.create(path, title="Harm reduction", site=Site(site_id="s1")).close()
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("PRAGMA locking_mode=EXCLUSIVE")  # as a program that keeps the file to itself
    holder.execute("BEGIN IMMEDIATE")
    holder.execute("CREATE TABLE held_here (x)")
    holder.execute("COMMIT")
    try:
        yield path
    finally:
        holder.close()
    with ProjectStore.open(path, site=Site(site_id="s1")) as store:  # untouched, and it opens
        assert store.project().title == "Harm reduction"


def _busy(err: BaseException) -> None:
    assert not isinstance(err, DamagedProjectError)
    message = str(err)
    assert "held by another program" in message and "damaged" not in message
    assert "restore" not in message.lower()


def test_reading_a_held_file_says_busy_not_damaged(held: Path) -> None:
    with pytest.raises(ProjectError) as caught:
        inspect_file(held)
    _busy(caught.value)
    with pytest.raises(ProjectError) as caught:
        check_project(held)
    _busy(caught.value)


def test_asking_whether_a_held_file_needs_an_update_does_not_wait_for_it(held: Path) -> None:
    """The desk asks before opening; opening then waits for the file once (five seconds), not
    twice."""
    import time

    from cmo_desk.services.projects import needs_upgrade

    started = time.monotonic()
    assert needs_upgrade(held) is False
    assert time.monotonic() - started < 2.0
    started = time.monotonic()
    with pytest.raises(ProjectError) as caught:
        inspect_file(held)  # everything else still waits for the other program, then says so
    assert time.monotonic() - started >= 4.5
    _busy(caught.value)
