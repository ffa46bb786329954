"""A damaged project's readable change log is merged into its latest good backup: the work done
since that backup comes back, and what could not be read is counted."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

from cmo_desk.services import backups, coding, recovery
from cmo_desk.services.session import Session
from tests.safety.conftest import age_project

ROOT = Path(__file__).resolve().parents[2]


def _damage_table(path: Path, table: str) -> None:
    """Overwrite the first page of ``table`` with garbage, as a bad sector would."""
    con = sqlite3.connect(path)
    page = con.execute("SELECT rootpage FROM sqlite_master WHERE name = ?", (table,)).fetchone()[0]
    size = con.execute("PRAGMA page_size").fetchone()[0]
    con.close()
    with open(path, "r+b") as fh:
        fh.seek((page - 1) * size)
        fh.write(bytes((i * 37 + 11) % 256 for i in range(size)))


def _project_with_work_after_backup(tmp_path: Path) -> tuple[Path, str, list[str]]:
    path = tmp_path / "review.cmo"
    with Session.create(path, coder="Ana") as s:
        sid, _ = coding.add_study(s, {"label": "Rescued 2024"})
        cid, _ = coding.create_cmoc(s, sid, {"context": "in the backup"})
    age_project(path)
    backups.backup_before(path, "manual")
    later = [f"after the backup {n} 救 😀" for n in range(10)]
    with Session.open(path, coder="Ana") as s:
        s.store.wait_for_backup()
        for text in later:
            coding.update_cmoc(s, cid, {"context": text})
    return path, cid, later


def test_salvage_brings_back_the_work_since_the_backup(tmp_path: Path) -> None:
    path, cid, later = _project_with_work_after_backup(tmp_path)
    _damage_table(path, "cmoc")  # the visible table is gone; the log is intact
    report = recovery.check_project(path)
    assert not report.ok
    result = recovery.salvage(path)
    assert result.changes_recovered == len(later)
    assert result.unreadable == 0
    with Session.open(result.salvaged, read_only=True) as s:
        assert s.store.get("cmoc", cid).context == later[-1]
        got = {c.value for c in s.store.changes_for("cmoc", cid) if c.field == "context"}
    assert set(later) <= got
    assert recovery.check_project(result.salvaged).ok
    # the damaged file is left as it was, for any later rescue
    assert path.exists()


def test_salvage_counts_what_could_not_be_read(tmp_path: Path) -> None:
    path, cid, later = _project_with_work_after_backup(tmp_path)
    _damage_table(path, "log")
    result = recovery.salvage(path)
    assert result.log_lost and result.changes_recovered == 0
    assert "could not be read at all" in result.summary()
    with Session.open(result.salvaged, read_only=True) as s:
        # never less than the backup held
        assert s.store.get("cmoc", cid) is not None


def test_cli_salvage_writes_a_new_file_and_says_how_to_use_it(tmp_path: Path) -> None:
    path, cid, later = _project_with_work_after_backup(tmp_path)
    _damage_table(path, "study")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, "-m", "cmo_desk", "salvage", str(path)],
                          capture_output=True, text=True, env=env, timeout=120)
    assert done.returncode == 0, done.stderr
    out = tmp_path / "review.salvaged.cmo"
    assert out.exists()
    assert "10 changes" in done.stdout and "cmo-desk restore" in done.stdout
    again = subprocess.run([sys.executable, "-m", "cmo_desk", "salvage", str(path)],
                           capture_output=True, text=True, env=env, timeout=120)
    assert again.returncode != 0 and "already exists" in again.stderr
    assert "Traceback" not in again.stderr


def test_a_lost_page_in_the_middle_of_a_long_log_loses_only_its_rows(tmp_path: Path) -> None:
    path = tmp_path / "review.cmo"
    with Session.create(path, coder="Ana") as s:
        sid, _ = coding.add_study(s, {"label": "Long 2024"})
        cid, _ = coding.create_cmoc(s, sid, {"context": "in the backup"})
    age_project(path)
    backups.backup_before(path, "manual")
    with Session.open(path, coder="Ana") as s:
        s.store.wait_for_backup()
        for n in range(300):
            coding.update_cmoc(s, cid, {"context": f"edit {n} " + "w" * 1200})
    con = sqlite3.connect(path)
    leaves = [r[0] for r in con.execute(
        "SELECT pageno FROM dbstat WHERE name = 'log' AND pagetype = 'leaf' ORDER BY pageno")]
    size = con.execute("PRAGMA page_size").fetchone()[0]
    con.close()
    assert len(leaves) > 10
    victim = leaves[len(leaves) // 2]
    with open(path, "r+b") as fh:
        fh.seek((victim - 1) * size)
        fh.write(bytes((i * 91 + 7) % 256 for i in range(size)))
    result = recovery.salvage(path)
    assert not result.log_lost
    assert 0 < result.unreadable < 50  # one page's rows, not the whole log
    assert result.changes_recovered > 250
    with Session.open(result.salvaged, read_only=True) as s:
        got = {c.value for c in s.store.changes_for("cmoc", cid) if c.field == "context"}
    assert len(got) > 250
    assert "could not be read" in result.summary()
