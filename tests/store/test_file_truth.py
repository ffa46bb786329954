"""The project file tells the truth: a byte copy of the .cmo alone holds every saved edit."""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

from cmo_desk.services import coding
from cmo_desk.services.session import Session
from tests.logrows import stored_id


def _project(tmp_path: Path) -> tuple[Path, str]:
    path = tmp_path / "review.cmo"
    with Session.create(path, coder="Ana") as s:
        sid, _ = coding.add_study(s, {"label": "Copied 2024"})
        cid, _ = coding.create_cmoc(s, sid, {"context": "start"})
    return path, cid


def _contexts(path: Path, cid: str) -> set[str]:
    con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        rows = con.execute(
            "SELECT value FROM changes WHERE entity_id = ? AND field = 'context'",
            (stored_id(cid),)).fetchall()
    finally:
        con.close()
    import json

    return {json.loads(r[0]) for r in rows}


def test_copy_of_the_cmo_alone_while_open_holds_every_saved_edit(tmp_path: Path) -> None:
    path, cid = _project(tmp_path)
    usb = tmp_path / "usb"
    usb.mkdir()
    with Session.open(path, coder="Ana") as s:
        for n in range(47):
            coding.update_cmoc(s, cid, {"context": f"edit {n} ✓ 😀"})
        assert not s.store.unsettled
        # a file manager copies the one file, not its -wal, while the desk is open
        shutil.copyfile(path, usb / "review.cmo")
        assert {f"edit {n} ✓ 😀" for n in range(47)} <= _contexts(usb / "review.cmo", cid)
        with Session.open(usb / "review.cmo", read_only=True) as copy:
            assert copy.store.get("cmoc", cid).context == "edit 46 ✓ 😀"


def test_lost_or_damaged_wal_loses_no_saved_edit(tmp_path: Path) -> None:
    path, cid = _project(tmp_path)
    wanted = {f"edit {n}" for n in range(22)}
    with Session.open(path, coder="Ana") as s:
        for n in range(22):
            coding.update_cmoc(s, cid, {"context": f"edit {n}"})
        wal = Path(str(path) + "-wal")
        assert wal.exists() and wal.stat().st_size > 100
        # the -wal deleted: only the main file is left
        deleted = tmp_path / "deleted.cmo"
        shutil.copyfile(path, deleted)
        # the -wal with a flipped byte in its first frame
        flipped = tmp_path / "flipped.cmo"
        shutil.copyfile(path, flipped)
        data = bytearray(wal.read_bytes())
        data[60] ^= 0xFF
        Path(str(flipped) + "-wal").write_bytes(bytes(data))
        # the -wal cut short
        cut = tmp_path / "cut.cmo"
        shutil.copyfile(path, cut)
        Path(str(cut) + "-wal").write_bytes(bytes(data[: len(data) // 3]))
    for copy in (deleted, flipped, cut):
        assert wanted <= _contexts(copy, cid), copy.name


def test_a_reader_holding_an_old_snapshot_delays_then_settle_catches_up(tmp_path: Path) -> None:
    path, cid = _project(tmp_path)
    with Session.open(path, coder="Ana") as s:
        coding.update_cmoc(s, cid, {"context": "before the reader"})
        reader = sqlite3.connect(str(path), isolation_level=None)
        reader.execute("BEGIN")
        reader.execute("SELECT count(*) FROM changes").fetchone()  # holds a snapshot
        coding.update_cmoc(s, cid, {"context": "while a reader reads"})
        assert s.store.unsettled  # honest: this edit is only in the -wal for now
        reader.execute("COMMIT")
        reader.close()
        assert s.store.settle()
        shutil.copyfile(path, tmp_path / "later.cmo")
    assert "while a reader reads" in _contexts(tmp_path / "later.cmo", cid)


def test_pragmas_keep_commits_durable_and_in_the_main_file(tmp_path: Path) -> None:
    path, _ = _project(tmp_path)
    with Session.open(path, coder="Ana") as s, s.store.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == 2  # FULL
        assert conn.exec_driver_sql("PRAGMA wal_autocheckpoint").scalar() == 1


def test_info_of_a_copy_counts_the_edit_made_just_before(tmp_path: Path) -> None:
    path, cid = _project(tmp_path)
    with Session.open(path, coder="Ana") as s:
        before = s.store.change_count()
        coding.update_cmoc(s, cid, {"context": "counted"})
        shutil.copyfile(path, tmp_path / "c.cmo")
        with Session.open(tmp_path / "c.cmo", read_only=True) as c:
            assert c.store.change_count() == before + 1
            assert c.store.get("cmoc", cid).context == "counted"


def test_a_dangling_link_or_a_loop_is_never_replaced_by_a_new_project(tmp_path: Path) -> None:
    import os
    import subprocess
    import sys

    import pytest

    from cmo_desk.domain.errors import ProjectError

    dangling = tmp_path / "review.cmo"
    os.symlink(tmp_path / "usb" / "review.cmo", dangling)
    loop = tmp_path / "loop.cmo"
    os.symlink(loop, loop)
    for link, words in ((dangling, "cannot be found"), (loop, "leads back to itself")):
        with pytest.raises(ProjectError, match=words):
            Session.create(link, coder="Ana")
        with pytest.raises(ProjectError, match=words):
            Session.open(link, coder="Ana")
        assert link.is_symlink()
        # the desk, given the link, refuses and exits non-zero
        root = Path(__file__).resolve().parents[2]
        done = subprocess.run(
            [sys.executable, "-m", "cmo_desk", str(link), "--coder", "Ana", "--screenshot",
             str(tmp_path / "shot.png")],
            capture_output=True, text=True, timeout=120,
            env={**os.environ, "PYTHONPATH": str(root), "QT_QPA_PLATFORM": "offscreen"})
        assert done.returncode != 0
        assert words in done.stderr and "Traceback" not in done.stderr
        assert link.is_symlink()


def test_a_project_whose_name_looks_like_uri_options_is_read(tmp_path: Path) -> None:
    folder = tmp_path / "50% done #2 ?mode=rw"
    folder.mkdir()
    path, cid = _project(folder)
    with Session.open(path, read_only=True) as s:
        assert s.store.get("cmoc", cid).context == "start"
