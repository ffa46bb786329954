"""What says "done" stays done after a power cut: merges commit with synchronous=FULL and land in
the main file; replaced files are flushed together with their folder."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event

from cmo_desk.domain import atomic
from cmo_desk.services import coding
from cmo_desk.services.merging import merge_projects
from cmo_desk.services.session import Session


def _pair(tmp_path: Path) -> tuple[Path, Path, str]:
    mine = tmp_path / "mine.cmo"
    with Session.create(mine, coder="Ana") as s:
        sid, _ = coding.add_study(s, {"label": "Shared 2024"})
    theirs = tmp_path / "theirs.cmo"
    shutil.copyfile(mine, theirs)
    with Session.open(theirs, coder="Ben") as s:
        cid, _ = coding.create_cmoc(s, sid, {"context": "Ben's reading 读"})
    return mine, theirs, cid


def test_merge_commits_with_full_sync_and_lands_in_the_main_file(tmp_path: Path) -> None:
    mine, theirs, cid = _pair(tmp_path)
    seen: list[int] = []
    with Session.open(mine, coder="Ana") as s:
        def on_commit(conn: Any) -> None:
            seen.append(int(conn.exec_driver_sql("PRAGMA synchronous").scalar()))

        event.listen(s.store.engine, "commit", on_commit)
        merge_projects(s, [theirs])
        assert seen and all(v == 2 for v in seen), seen  # FULL, never lowered for the merge
        # what a power cut leaves: the main file alone, as it is on disk now
        shutil.copyfile(mine, tmp_path / "after-cut.cmo")
    with Session.open(tmp_path / "after-cut.cmo", read_only=True) as cut:
        assert cut.store.get("cmoc", cid).context == "Ben's reading 读"


def test_replaced_files_flush_their_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    flushed: list[Path] = []
    real = atomic._fsync_folder
    monkeypatch.setattr(atomic, "_fsync_folder", lambda folder: (flushed.append(Path(folder)),
                                                                 real(folder)))
    from cmo_desk.services.exporting import export_project

    mine, _, _ = _pair(tmp_path)
    out = tmp_path / "out"
    out.mkdir()
    with Session.open(mine, coder="Ana") as s:
        export_project(s, out / "table.docx")
        export_project(s, out / "table.csv")
        export_project(s, out / "project.qdpx")
    assert flushed.count(out) == 3
    from cmo_desk.store import backups

    made = backups.make_backup(mine, "manual")
    assert made.parent in flushed


def test_atomic_replace_leaves_the_old_file_when_flushing_fails(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "out.csv"
    target.write_text("old", encoding="utf-8")
    tmp = tmp_path / ".out.csv.part"
    tmp.write_text("new", encoding="utf-8")

    def no_space(_fd: int) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(atomic.os, "fsync", no_space)
    with pytest.raises(OSError):
        atomic.replace_durably(tmp, target)
    assert target.read_text(encoding="utf-8") == "old"
