"""Backups are written compressed; compressed and older plain backups both list, check and
restore, and the size cap counts what they take on disk."""

from __future__ import annotations

import gzip
import os
import time
from pathlib import Path

import pytest

from cmo_desk.domain.errors import ValidationError
from cmo_desk.services import backups, coding, recovery
from cmo_desk.services.session import Session
from cmo_desk.store import backups as files
from cmo_desk.store.project_store import ProjectStore


def _dump(path: Path) -> str:
    with files.readable_copy(path) as plain, ProjectStore.open(plain, read_only=True) as store:
        return store.dump_json()


def _old_style_backup(project: Path, stamp: str = "2024-01-01_10-00-00") -> Path:
    """A backup as earlier versions wrote it: a plain SQLite copy named ``.cmo``."""
    folder = project.parent / "backups"
    folder.mkdir(exist_ok=True)
    old = folder / f"{project.stem}_{stamp}_manual{project.suffix}"
    files.copy_database(project, old)
    return old


def test_a_new_backup_is_compressed_smaller_and_lists_its_contents(old_demo: Path) -> None:
    made = backups.backup_before(old_demo, "manual")
    assert made.name.endswith(".cmo.gz") and files.is_compressed(made)
    assert made.stat().st_size < old_demo.stat().st_size / 2
    with gzip.open(made, "rb") as fh:  # any gzip tool reads it
        assert fh.read(16) == files.SQLITE_HEADER
    (listed,) = backups.list_backups(old_demo)
    assert listed.path == made and listed.readable and listed.size == made.stat().st_size
    assert listed.counts["study"] == 5 and listed.counts["cmoc"] == 9 and listed.changes
    assert files.project_id_of(made) == files.project_id_of(old_demo)
    assert not files.quick_check(made)


def test_restoring_a_compressed_backup_gives_the_project_back(old_demo: Path) -> None:
    before = _dump(old_demo)
    made = backups.backup_before(old_demo, "manual")
    with Session.open(old_demo, coder="Ana") as s:
        s.store.wait_for_backup()
        sid, _ = coding.add_study(s, {"label": "Written after the backup 救 😀"})
    assert _dump(old_demo) != before
    result = backups.restore_backup(old_demo, made.name)
    assert result.restored_from == made
    assert _dump(old_demo) == before
    assert not files.quick_check(old_demo)
    assert not list(old_demo.parent.glob("*.restoring"))
    # the file it replaced was kept (compressed) and still holds the later work
    assert result.previous_kept_as is not None and files.is_compressed(result.previous_kept_as)
    assert "Written after the backup 救 😀" in _dump(result.previous_kept_as)


def test_an_old_uncompressed_backup_still_lists_and_restores(old_demo: Path) -> None:
    before = _dump(old_demo)
    old = _old_style_backup(old_demo)
    with Session.open(old_demo, coder="Ana") as s:
        s.store.wait_for_backup()
        coding.add_study(s, {"label": "Later 2025"})
    listed = {b.path: b for b in backups.list_backups(old_demo)}
    assert old in listed and listed[old].readable and listed[old].counts["study"] == 5
    assert recovery.latest_good_backup(old_demo).path == old
    backups.restore_backup(old_demo, old.name)
    assert _dump(old_demo) == before


def _damaged_copies(project: Path) -> tuple[Path, list[Path]]:
    good = backups.backup_before(project, "manual")
    data = good.read_bytes()
    folder = good.parent
    cut = folder / f"{project.stem}_2999-01-01_10-00-00_timer{project.suffix}.gz"
    cut.write_bytes(data[: len(data) // 2])
    flipped = folder / f"{project.stem}_2999-01-02_10-00-00_timer{project.suffix}.gz"
    middle = len(data) // 2
    flipped.write_bytes(data[:middle] + bytes(b ^ 0xFF for b in data[middle:middle + 64])
                        + data[middle + 64:])
    return good, [cut, flipped]


def test_a_damaged_compressed_backup_is_not_offered_as_good(old_demo: Path) -> None:
    good, damaged = _damaged_copies(old_demo)
    newest = [b.path for b in backups.list_backups(old_demo)][:2]
    assert set(newest) == set(damaged)  # dated later than the good one
    for bad in damaged:
        assert files.quick_check(bad)
        before = old_demo.read_bytes()
        with pytest.raises(ValidationError, match="damaged too"):
            backups.restore_backup(old_demo, bad.name)
        assert old_demo.read_bytes() == before
    assert recovery.latest_good_backup(old_demo).path == good
    with pytest.raises(Exception, match="damaged too"):
        recovery.salvage(old_demo, damaged[0])
    assert not list(old_demo.parent.glob("*.salvaged*"))
    assert recovery.salvage(old_demo).backup == good


def test_salvage_starts_from_a_compressed_backup(old_demo: Path) -> None:
    backups.backup_before(old_demo, "manual")
    with Session.open(old_demo, coder="Ana") as s:
        s.store.wait_for_backup()
        coding.add_study(s, {"label": "After the backup 2025"})
    result = recovery.salvage(old_demo)
    assert files.is_compressed(result.backup) and result.changes_recovered >= 1
    assert "After the backup 2025" in _dump(result.salvaged)


def test_the_cap_counts_compressed_sizes(old_demo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(files, "MIN_CAP_BYTES", 0)
    project_size = old_demo.stat().st_size
    made = []
    for n in range(6):
        with Session.open(old_demo, coder="Ana") as s:
            s.store.wait_for_backup()
            coding.add_study(s, {"label": f"Study {n} 2025"})
        made.append(backups.backup_before(old_demo, "manual"))
    listed = backups.list_backups(old_demo)
    on_disk = {b.path: b.size for b in listed}
    assert all(on_disk[p] == p.stat().st_size for p in on_disk)
    # six plain copies would pass the cap of three times the project; compressed ones fit
    assert set(made) <= set(on_disk)
    assert sum(on_disk.values()) <= files.CAP_FACTOR * old_demo.stat().st_size
    # while plain copies of the same project are dropped, oldest first, beyond the cap
    for n in range(4):
        _old_style_backup(old_demo, f"2024-01-0{n + 1}_10-00-00")
    files.rotate(old_demo)
    left = [b for b in backups.list_backups(old_demo) if not files.is_compressed(b.path)]
    assert sum(b.size for b in backups.list_backups(old_demo)) <= 3 * max(
        project_size, old_demo.stat().st_size)
    assert len(left) < 4


def test_an_interrupted_compression_leaves_nothing_behind(
        old_demo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def full(*_a: object, **_k: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(files, "_compress", full)
    with pytest.raises(Exception, match="No backup"):
        backups.backup_before(old_demo, "manual")
    folder = old_demo.parent / "backups"
    assert sorted(p.name for p in folder.iterdir()) == []


def test_leftovers_of_a_killed_compression_are_removed_later(old_demo: Path) -> None:
    folder = old_demo.parent / "backups"
    folder.mkdir()
    name = f"{old_demo.stem}_2024-01-01_10-00-00_open.cmo.gz"
    stale = [folder / (name + ".plain.partial"), folder / (name + ".partial"),
             folder / (name + ".plain.partial.partial")]
    for p in stale:
        p.write_bytes(b"x" * 1000)
        os.utime(p, (time.time() - 3600, time.time() - 3600))
    backups.backup_before(old_demo, "manual")
    assert not any(p.exists() for p in stale)


def test_the_timer_backup_is_written_in_the_background(
        old_demo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with Session.open(old_demo, coder="Ana") as s:
        s.store.wait_for_backup()
        coding.add_study(s, {"label": "Added 2024"})
        time.sleep(0.02)
        assert backups.maybe_backup(s, every_minutes=0, background=True) is None
        s.store.wait_for_backup()
        (made,) = [b for b in backups.list_backups(old_demo) if b.reason == "timer"]
        assert files.is_compressed(made.path) and made.counts["study"] == 6
        coding.add_study(s, {"label": "Added 2025"})
        time.sleep(0.02)

        def full(*_a: object, **_k: object) -> None:
            raise OSError(28, "No space left on device")

        monkeypatch.setattr(files, "copy_database", full)
        assert backups.maybe_backup(s, every_minutes=0, background=True) is None
        s.store.wait_for_backup()
        assert s.store.backup_warning and "No space left" in s.store.backup_warning
    assert len([b for b in backups.list_backups(old_demo) if b.reason == "timer"]) == 1
