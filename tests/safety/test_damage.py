"""A damaged project is reported in plain words, never written to, and its backup restores."""

from __future__ import annotations

import os
import random
import subprocess
import sys
from pathlib import Path

import pytest

from cmo_desk.domain.errors import DamagedProjectError
from cmo_desk.services import backups, recovery
from cmo_desk.services.session import Session
from cmo_desk.store import locking


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "cmo_desk", *args], capture_output=True,
                          text=True, timeout=120, env={**os.environ, "CMO_DESK_LANG": "en"})


def _truncate(path: Path) -> None:
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


def _scribble(path: Path) -> None:
    data = bytearray(path.read_bytes())
    rng = random.Random(7)
    for _ in range(300):
        data[rng.randrange(8192, len(data))] = rng.randrange(256)
    path.write_bytes(bytes(data))


def _random_bytes(path: Path) -> None:
    path.write_bytes(random.Random(3).randbytes(50_000))


def _header_only(path: Path) -> None:
    path.write_bytes(path.read_bytes()[:100])


@pytest.mark.parametrize("damage", [_truncate, _scribble, _random_bytes, _header_only])
def test_damaged_project_names_latest_good_backup_and_is_left_alone(
        old_demo: Path, damage) -> None:
    good = backups.backup_before(old_demo, "manual")
    damage(old_demo)
    before = old_demo.read_bytes()
    with pytest.raises(DamagedProjectError) as caught:
        Session.open(old_demo, coder="Ana")
    message = str(caught.value)
    assert good.name in message and "cmo-desk restore" in message
    assert caught.value.latest_backup == good
    assert old_demo.read_bytes() == before
    assert not locking.lock_path_for(old_demo).exists()
    assert recovery.latest_good_backup(old_demo).path == good

    report = recovery.check_project(old_demo)
    assert not report.ok and report.latest_backup.path == good
    out = cli("check", str(old_demo))
    assert out.returncode == 1 and good.name in out.stderr and "Traceback" not in out.stderr

    result = backups.restore_backup(old_demo, good)
    assert result.previous_kept_as.read_bytes() == before  # the damaged file is kept for rescue
    assert recovery.check_project(old_demo).ok
    with Session.open(old_demo, coder="Ana") as s:
        assert s.store.count("study") == 5


def test_damaged_project_without_backup_says_so(demo_path: Path) -> None:
    _truncate(demo_path)
    with pytest.raises(DamagedProjectError, match="no backup"):
        Session.open(demo_path)


def test_not_a_project_is_named_as_such(tmp_path: Path) -> None:
    text = tmp_path / "notes.cmo"
    text.write_text("meeting notes")
    with pytest.raises(DamagedProjectError, match="not a CMO Desk project"):
        Session.open(text)
    assert text.read_text() == "meeting notes"


def test_check_passes_a_sound_project(demo_path: Path) -> None:
    out = cli("check", str(demo_path))
    assert out.returncode == 0 and "no damage" in out.stdout


def test_check_notices_records_that_disagree_with_the_log(demo_path: Path) -> None:
    import sqlite3

    con = sqlite3.connect(demo_path)
    con.execute("UPDATE study SET label = 'tampered' WHERE rowid = 1")
    con.commit()
    con.close()
    report = recovery.check_project(demo_path)
    assert not report.ok and any("study" in p for p in report.problems)
    assert recovery.check_project(demo_path, projection=False).ok  # the cheap check cannot see it


def test_check_of_a_missing_file_is_a_plain_error(tmp_path: Path) -> None:
    out = cli("check", str(tmp_path / "missing.cmo"))
    assert out.returncode == 2 and "does not exist" in out.stderr
