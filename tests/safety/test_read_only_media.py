"""A project on a write-protected USB stick or a read-only share is read, not called damaged."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from cmo_desk.services import coding
from cmo_desk.services.session import Session
from cmo_desk.store.files import connect_read_only

ROOT = Path(__file__).resolve().parents[2]


def cli(*args: object) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, "-m", "cmo_desk", *map(str, args)],
                          capture_output=True, text=True, env=env, timeout=120)


def _make(path: Path) -> tuple[str, str]:
    with Session.create(path, coder="Ana") as s:
        sid, _ = coding.add_study(s, {"label": "Stick 2024"})
        cid, _ = coding.create_cmoc(s, sid, {"context": "on the stick 😀"})
    return sid, cid


@pytest.fixture
def read_only_stick(tmp_path: Path) -> Iterator[tuple[Path, str]]:
    """A folder holding a project, then made a read-only file system (root on Linux only)."""
    if not sys.platform.startswith("linux"):
        pytest.skip("mounts are Linux only")
    stick = tmp_path / "stick"
    stick.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=8m", "tmpfs", str(stick)],
                          capture_output=True, text=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount here: {done.stderr.strip()}")
    try:
        _, cid = _make(stick / "review.cmo")
        assert not Path(str(stick / "review.cmo") + "-shm").exists()
        ro = subprocess.run(["mount", "-o", "remount,ro", str(stick)], capture_output=True,
                            text=True)
        if ro.returncode != 0:
            pytest.skip(f"cannot remount read-only: {ro.stderr.strip()}")
        yield stick / "review.cmo", cid
    finally:
        subprocess.run(["umount", "-l", str(stick)], capture_output=True)


def test_a_write_protected_stick_is_read_and_called_read_only(read_only_stick: tuple[Path, str],
                                                              tmp_path: Path) -> None:
    path, cid = read_only_stick
    info = cli("info", path)
    assert info.returncode == 0, info.stderr
    assert "damaged" not in info.stdout + info.stderr
    check = cli("check", path)
    assert check.returncode == 0, check.stdout + check.stderr
    assert "no damage" in check.stdout
    out = tmp_path / "out.csv"
    export = cli("export", path, "-o", out)
    assert export.returncode == 0, export.stderr
    assert out.exists()
    # the desk's way in: a write open turns read-only and says why
    with Session.open(path, coder="Ana") as s:
        assert s.read_only
        assert "cannot be written" in (s.store.read_only_reason or "")
        assert s.store.get("cmoc", cid).context == "on the stick 😀"
    # merging the stick's copy into a project of one's own
    mine = tmp_path / "mine.cmo"
    shutil.copyfile(path, mine)
    merged = cli("merge", mine, path, "--coder", "Ben")
    assert merged.returncode == 0, merged.stderr
    assert "damaged" not in merged.stdout + merged.stderr


def test_reading_without_a_shm_falls_back_to_an_unchanging_read(tmp_path: Path) -> None:
    # A -shm that cannot be made (here: a folder in its place), as on a read-only medium.
    path = tmp_path / "review.cmo"
    _, cid = _make(path)
    Path(str(path) + "-shm").mkdir()
    con = connect_read_only(path)
    try:
        rows = con.execute("SELECT count(*) FROM changes").fetchone()[0]
    finally:
        con.close()
    assert rows > 0
    with Session.open(path, read_only=True) as s:
        assert s.store.get("cmoc", cid).context == "on the stick 😀"
    check = cli("check", path)
    assert check.returncode == 0 and "no damage" in check.stdout, check.stdout + check.stderr


def test_saved_changes_waiting_in_a_wal_are_read_not_skipped(tmp_path: Path) -> None:
    import sqlite3

    path = tmp_path / "review.cmo"
    _make(path)
    # an older desk left its last change only in the -wal (no checkpoint), then the pair was copied
    con = sqlite3.connect(path)
    con.execute("PRAGMA wal_autocheckpoint=0")
    con.execute("UPDATE meta SET value = 'waiting in the wal' WHERE key = 'app_version'")
    con.commit()
    copy = tmp_path / "copy" / "review.cmo"
    copy.parent.mkdir()
    shutil.copyfile(path, copy)
    shutil.copyfile(str(path) + "-wal", str(copy) + "-wal")
    con.close()
    Path(str(copy) + "-shm").mkdir()  # and no -shm can be made beside it
    ro = connect_read_only(copy)
    try:
        value = ro.execute("SELECT value FROM meta WHERE key = 'app_version'").fetchone()[0]
    finally:
        ro.close()
    assert value == "waiting in the wal"


def test_check_reads_a_project_of_the_older_schema(tmp_path: Path) -> None:
    from tests.store.test_upgrade import _make_revision_0001

    path = tmp_path / "old.cmo"
    _make_revision_0001(path)
    check = cli("check", path)
    assert check.returncode == 0, check.stdout + check.stderr
    assert "no damage" in check.stdout
    assert "no such table" not in check.stdout + check.stderr
