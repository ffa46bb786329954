"""Text in a damaged file that is not UTF-8 (a scribbled page) is reported as damage: the desk and
the command line say so and the backup can be restored over it; nothing crashes."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from cmo_desk.domain.errors import DamagedProjectError
from cmo_desk.services import backups, recovery
from cmo_desk.services.session import Session


def _scribble_meta(path: Path) -> None:
    """Bytes that are not UTF-8 where SQLite reads the meta table's definition: every error
    SQLite then reports about the file quotes them."""
    con = sqlite3.connect(path)
    con.execute("PRAGMA journal_mode=DELETE")
    con.execute("PRAGMA writable_schema=ON")
    con.execute("UPDATE sqlite_master SET sql = CAST(x'435245415445205441424c45206d65746120ae' "
                "AS TEXT) WHERE name = 'meta'")
    con.commit()
    con.close()


def test_undecodable_bytes_in_the_file_are_damage_and_a_backup_restores_it(old_demo: Path) -> None:
    good = backups.backup_before(old_demo, "manual")
    _scribble_meta(old_demo)
    before = old_demo.read_bytes()
    with pytest.raises(DamagedProjectError) as caught:
        Session.open(old_demo, coder="Ana")
    assert good.name in str(caught.value)
    assert old_demo.read_bytes() == before
    out = subprocess.run([sys.executable, "-m", "cmo_desk", "check", str(old_demo)],
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 1 and "Traceback" not in out.stderr
    result = backups.restore_backup(old_demo, good)
    assert result.previous_kept_as.read_bytes() == before
    assert recovery.check_project(old_demo).ok
    with Session.open(old_demo, coder="Ana") as s:
        assert s.store.count("study") == 5
