"""Automatic rotating backups, listing them, and restoring one."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from cmo_desk.domain.errors import ReadOnlyError, ValidationError
from cmo_desk.services import backups, coding
from cmo_desk.services.session import Session
from cmo_desk.store import backups as files
from cmo_desk.store.backups import BackupInfo



def cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "cmo_desk", *args], capture_output=True,
                          text=True, timeout=120, env={**os.environ, "CMO_DESK_LANG": "en"})


def _labels(path: Path) -> set[str]:
    with files.readable_copy(path) as plain, Session.open(plain, read_only=True) as s:
        return {st.label for st in s.store.list("study")}


def test_opening_backs_up_at_most_once_per_interval(old_demo: Path) -> None:
    Session.open(old_demo, coder="Ana").close()
    made = backups.list_backups(old_demo)
    assert [b.reason for b in made] == ["open"]
    assert made[0].path.parent == old_demo.parent / "backups"
    assert made[0].counts["study"] == 5 and made[0].counts["cmoc"] == 9
    Session.open(old_demo, coder="Ana").close()
    assert len(backups.list_backups(old_demo)) == 1


def test_brand_new_project_is_not_backed_up_on_open(tmp_path: Path) -> None:
    Session.create(tmp_path / "new.cmo", coder="Ana").close()
    Session.open(tmp_path / "new.cmo", coder="Ana").close()
    assert backups.list_backups(tmp_path / "new.cmo") == []


def test_timer_backup_only_when_changed_and_due(old_demo: Path) -> None:
    with Session.open(old_demo, coder="Ana") as s:
        assert backups.maybe_backup(s, every_minutes=0) is None  # nothing changed since open
        coding.add_study(s, {"label": "Added 2024"})
        time.sleep(0.02)
        assert backups.maybe_backup(s, every_minutes=60) is None  # too soon
        made = backups.maybe_backup(s, every_minutes=0)
        assert made is not None
    assert "Added 2024" in _labels(made)


def test_backup_before_merge_is_named_for_it(old_demo: Path) -> None:
    with Session.open(old_demo, coder="Ana") as s:
        s.store.wait_for_backup()
        coding.add_study(s, {"label": "Since the last backup 2024"})
        path = backups.backup_before(s, "merge")
    assert backups.list_backups(old_demo)[0].path == path
    assert backups.list_backups(old_demo)[0].reason == "merge"


def _fake(folder: Path, when: datetime) -> BackupInfo:
    return BackupInfo(folder / f"p_{when:%Y-%m-%d_%H-%M-%S}_timer.cmo", when, "timer", 1, {},
                      None, True)


def test_rotation_keeps_last_ten_and_one_per_day_for_a_week(tmp_path: Path) -> None:
    now = datetime(2024, 5, 20, 18, 0)
    # four backups a day, for twelve days
    items = [_fake(tmp_path, now - timedelta(days=d, hours=h)) for d in range(12)
             for h in (0, 2, 4, 6)]
    keep = files.to_keep(items, now)
    newest_ten = sorted(items, key=lambda b: b.created, reverse=True)[:10]
    assert {b.path for b in newest_ten} <= keep
    kept_days = {b.created.date() for b in items if b.path in keep}
    assert kept_days == {(now - timedelta(days=d)).date() for d in range(7)}
    assert len(keep) == 10 + 4  # days 0-2 are inside the newest ten; days 3-6 add one each


def test_rotation_deletes_old_backup_files(old_demo: Path) -> None:
    folder = old_demo.parent / "backups"
    folder.mkdir()
    start = datetime.now() - timedelta(days=30)
    for i in range(15):
        when = start + timedelta(minutes=i)
        (folder / f"demo_{when:%Y-%m-%d_%H-%M-%S}_timer.cmo").write_bytes(b"x")
    (folder / "unrelated.cmo").write_bytes(b"keep me")
    backups.backup_before(old_demo, "manual")
    names = sorted(p.name for p in folder.iterdir())
    assert len(names) == 11 and "unrelated.cmo" in names
    assert any(n.endswith("_manual.cmo.gz") for n in names)


def test_read_only_folder_falls_back_to_user_data(old_demo: Path, monkeypatch) -> None:
    real = files._writable
    monkeypatch.setattr(files, "_writable",
                        lambda folder: False if folder == old_demo.parent / "backups"
                        else real(folder))
    made = backups.backup_before(old_demo, "manual")
    assert old_demo.parent not in made.parents
    assert backups.list_backups(old_demo)[0].path == made


def test_restore_keeps_the_current_file_and_drops_its_wal(old_demo: Path) -> None:
    first = backups.backup_before(old_demo, "manual")
    with Session.open(old_demo, coder="Ana") as s:
        coding.add_study(s, {"label": "Written after the backup"})
    # leave a WAL with content behind, as a crash would
    con = sqlite3.connect(old_demo)
    con.execute("PRAGMA journal_mode=WAL")
    con.execute("PRAGMA wal_autocheckpoint=0")
    con.execute("UPDATE meta SET value='crash' WHERE key='app_version'")
    con.commit()
    assert Path(str(old_demo) + "-wal").stat().st_size > 0
    result = backups.restore_backup(old_demo, first.name)
    con.close()
    assert "Written after the backup" not in _labels(old_demo)
    assert result.previous_kept_as is not None
    assert "Written after the backup" in _labels(result.previous_kept_as)
    assert not files.quick_check(old_demo)
    assert not Path(str(old_demo) + "-wal").exists() or \
        Path(str(old_demo) + "-wal").stat().st_size == 0


def test_restore_is_refused_while_open_here(old_demo: Path) -> None:
    backups.backup_before(old_demo, "manual")
    with Session.open(old_demo, coder="Ana"):
        with pytest.raises(ReadOnlyError, match="Close"):
            backups.restore_backup(old_demo, "1")


def test_restore_refuses_another_projects_backup(old_demo: Path, tmp_path: Path) -> None:
    other = tmp_path / "other.cmo"
    Session.create(other, coder="Ana").close()
    before = old_demo.read_bytes()
    with pytest.raises(ValidationError, match="different project"):
        backups.restore_backup(old_demo, other)
    assert old_demo.read_bytes() == before


def test_cli_lists_and_restores(old_demo: Path) -> None:
    out = cli("backups", str(old_demo))
    assert out.returncode == 0 and "No backups" in out.stdout
    assert cli("backups", str(old_demo), "--now").returncode == 0
    listed = json.loads(cli("backups", str(old_demo), "--json").stdout)
    assert listed[0]["reason"] == "manual" and listed[0]["counts"]["study"] == 5
    with Session.open(old_demo, coder="Ana") as s:
        coding.add_study(s, {"label": "Later 2025"})
    out = cli("restore", str(old_demo), listed[0]["name"])
    assert out.returncode == 0, out.stderr
    assert "Later 2025" not in _labels(old_demo)
    out = cli("restore", str(old_demo), "99")
    assert out.returncode == 2 and "no backup number 99" in out.stderr


def test_backups_are_capped_in_total_size(tmp_path: Path) -> None:
    from cmo_desk.store.backups import within_cap

    now = datetime(2024, 5, 20, 18, 0)
    made = [BackupInfo(tmp_path / f"p_{now - timedelta(hours=h):%Y-%m-%d_%H-%M-%S}_timer.cmo",
                       now - timedelta(hours=h), "timer", 40, {}, None, True) for h in range(10)]
    kept = within_cap(made, {b.path for b in made}, cap=100)
    assert kept == {made[0].path, made[1].path}  # 40 + 40 fit, a third would not
    tiny = within_cap(made, {b.path for b in made}, cap=1)
    assert tiny == {made[0].path, made[1].path}  # the newest two whatever their size


def test_interrupted_backups_leave_nothing_behind(old_demo: Path) -> None:
    import os
    import time as _time

    folder = old_demo.parent / "backups"
    folder.mkdir(exist_ok=True)
    stale = [folder / f"{old_demo.stem}_2024-01-01_10-00-00_open.cmo.partial",
             folder / f"{old_demo.stem}_2024-01-01_10-00-00_open.cmo.partial-journal"]
    for p in stale:
        p.write_bytes(b"x" * 1000)
        os.utime(p, (_time.time() - 3600, _time.time() - 3600))
    fresh = folder / f"{old_demo.stem}_2024-01-01_11-00-00_open.cmo.partial"
    fresh.write_bytes(b"being written")
    other = folder / "unrelated.cmo.partial"
    other.write_bytes(b"not ours")
    os.utime(other, (_time.time() - 3600, _time.time() - 3600))
    backups.backup_before(old_demo, "manual")
    assert not any(p.exists() for p in stale)
    assert fresh.exists() and other.exists()


def test_merge_reuses_an_up_to_date_backup_instead_of_copying_again(old_demo: Path) -> None:
    first = backups.backup_before(old_demo, "manual")
    again = backups.backup_before(old_demo, "merge")
    assert again == first
    with Session.open(old_demo, coder="Ana") as s:
        s.store.wait_for_backup()
        coding.add_study(s, {"label": "Changed 2024"})
        later = backups.backup_before(s, "merge")
    assert later != first and "_merge" in later.name


def test_a_failed_timer_backup_is_reported(old_demo: Path, monkeypatch) -> None:
    with Session.open(old_demo, coder="Ana") as s:
        s.store.wait_for_backup()
        coding.add_study(s, {"label": "Added 2024"})

        def full(*_a: object, **_k: object) -> None:
            raise OSError(28, "No space left on device")

        monkeypatch.setattr(files, "copy_database", full)
        assert backups.maybe_backup(s, every_minutes=0) is None
        assert s.store.backup_warning and "No backup" in s.store.backup_warning


def test_backup_list_on_the_command_line_speaks_chinese(old_demo: Path, capsys) -> None:
    """Each backup's reason and contents read as the desk's Backups window says them."""
    from cmo_desk.cli.main import run
    from cmo_desk.domain.i18n import set_language

    backups.backup_before(old_demo, "manual")
    try:
        assert run(["--lang", "zh_CN", "backups", str(old_demo)]) == 0
        row = capsys.readouterr().out.splitlines()[0]
        reason = backups.reason_title("manual")
        contents = backups.contents_text(backups.list_backups(old_demo)[0])
    finally:
        set_language("en")
    assert reason == "手动" and "5" in contents and "27" in contents, contents
    assert reason in row and contents in row, row
    assert "manual" not in row.replace("_manual.cmo", "") and " study" not in row, row
