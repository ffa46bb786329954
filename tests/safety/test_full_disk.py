"""A full disk is never "saved": one plain message, nothing half-written, and the project opens
again once space is freed. Runs on a real small tmpfs when it can be mounted (root on Linux), and
always on a simulation: SQLite's own SQLITE_FULL, raised by capping the file's page count."""

from __future__ import annotations

import os
import random
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import event

from cmo_desk.domain.errors import StorageError
from cmo_desk.services import coding
from cmo_desk.services.session import Session

ROOT = Path(__file__).resolve().parents[2]


def cli(*args: object, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, "-m", "cmo_desk", *map(str, args)],
                          capture_output=True, text=True, env=env, timeout=120, cwd=cwd)


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 5 MB file system of its own, or a skip where mounting is not allowed."""
    disk = tmp_path / "disk"
    disk.mkdir()
    if not sys.platform.startswith("linux"):
        pytest.skip("tmpfs is Linux only")
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=5m", "tmpfs", str(disk)],
                          capture_output=True, text=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs here: {done.stderr.strip()}")
    try:
        yield disk
    finally:
        subprocess.run(["umount", "-l", str(disk)], capture_output=True)


def fill(disk: Path, leave: int, name: str = "filler.bin") -> Path:
    """Fill ``disk`` until about ``leave`` bytes are free; returns the filler to delete later."""
    filler = disk / name
    st = os.statvfs(disk)
    free = st.f_bavail * st.f_frsize
    with open(filler, "wb") as fh:
        fh.write(b"\0" * max(0, free - leave))
    return filler


def big_text(path: Path, chars: int) -> Path:
    rnd = random.Random(7)
    words = ["harm", "reduction", "peer", "support", "trust", "stigma", "naloxone", "outreach",
             "减害", "同伴", "😀"]
    path.write_text(" ".join(rnd.choice(words) for _ in range(chars // 6)), encoding="utf-8")
    return path


def one_plain_line(stderr: str) -> str:
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert len(lines) == 1, stderr
    assert "Traceback" not in stderr
    return lines[0]


# -- a real full disk ----------------------------------------------------------------------------

def test_cli_import_on_a_full_disk_says_so_and_the_project_opens_after(small_disk: Path,
                                                                       tmp_path: Path) -> None:
    project = small_disk / "review.cmo"
    assert cli("new", project, "--coder", "Ana").returncode == 0
    text = big_text(tmp_path / "Booth 2016.txt", 2_500_000)
    filler = fill(small_disk, 200_000)
    done = cli("import", project, text, "--coder", "Ana")
    assert done.returncode != 0
    line = one_plain_line(done.stderr)
    assert "full" in line and "review.cmo" in line
    filler.unlink()
    info = cli("info", project)
    assert info.returncode == 0, info.stderr
    check = cli("check", project)
    assert check.returncode == 0, check.stdout + check.stderr
    assert "no damage" in check.stdout


def test_cli_edits_and_export_on_a_full_disk(small_disk: Path, tmp_path: Path) -> None:
    project = small_disk / "review.cmo"
    with Session.create(project, coder="Ana") as s:
        sid, _ = coding.add_study(s, {"label": "Full 2024"})
        cid, _ = coding.create_cmoc(s, sid, {"context": "kept"})
    filler = fill(small_disk, 150_000)
    with Session.open(project, coder="Ana") as s:
        with pytest.raises(StorageError) as err:
            for n in range(200):
                coding.update_cmoc(s, cid, {"context": f"edit {n} " + "x" * 20_000})
        assert err.value.kind == "full"
        assert "full" in str(err.value)
    more = fill(small_disk, 4_000, "more.bin")
    done = cli("export", project, "-o", small_disk / "out.qdpx")
    assert done.returncode != 0
    line = one_plain_line(done.stderr)
    assert "out.qdpx" in line or "full" in line
    assert not any(p.name.endswith(".part") for p in small_disk.iterdir())
    assert not (small_disk / "out.qdpx").exists()
    filler.unlink()
    more.unlink()
    with Session.open(project, coder="Ana") as s:
        assert s.store.integrity_check() == []
        assert s.store.get("cmoc", cid).context.startswith(("kept", "edit"))
        coding.update_cmoc(s, cid, {"context": "after freeing space"})
    with Session.open(project, read_only=True) as s:
        assert s.store.get("cmoc", cid).context == "after freeing space"


def test_half_done_checkpoint_on_a_full_disk_is_not_called_damaged(small_disk: Path) -> None:
    project = small_disk / "review.cmo"
    with Session.create(project, coder="Ana") as s:
        sid, _ = coding.add_study(s, {"label": "Growing 2024"})
    filler = fill(small_disk, 400_000)
    with Session.open(project, coder="Ana") as s:
        try:
            for n in range(100):
                coding.add_study(s, {"label": f"Study {n}", "title": "t" * 30_000})
        except StorageError:
            pass
        # whatever happened, the project opens (read-only here: it is open for writing above)
        with Session.open(project, read_only=True) as again:
            assert again.store.get("study", sid) is not None
    filler.unlink()
    with Session.open(project, coder="Ana") as s:
        assert s.store.integrity_check() == []
        assert s.store.get("study", sid) is not None


def test_upgrading_an_older_project_on_a_nearly_full_disk(small_disk: Path,
                                                        tmp_path: Path) -> None:
    """Too little room for the upgrade: a plain error and the old file as it was. Room for the
    upgrade but not for copying all of it into the file: the upgraded file, its last pages
    still in the -wal until there is room again. Room enough: the upgraded file, compacted."""
    import sqlite3

    from cmo_desk.store.opening import PAGE_SIZE
    from cmo_desk.store.project_store import HEAD_REVISION, ProjectStore

    released = ROOT / "tests" / "store" / "released" / "demo-schema-0002.cmo"
    outcomes = set()
    for n, leave in enumerate((150_000, 400_000, 1_300_000, 4_000_000)):
        for leftover in small_disk.iterdir():
            shutil.rmtree(leftover) if leftover.is_dir() else leftover.unlink()
        project = small_disk / "review.cmo"
        shutil.copy(released, project)
        fill(small_disk, leave)
        try:
            store = ProjectStore.open(project, upgrade_backup_dir=tmp_path / str(n))
        except StorageError as err:
            assert "full" in str(err)
            outcome, expected = "refused", "0002"
        else:
            with store:
                assert len(store.search("peer")) == 5
            # compacting rewrites the file in this version's larger pages
            compacted = int.from_bytes(project.read_bytes()[16:18], "big") == PAGE_SIZE
            outcome, expected = ("compacted" if compacted else "upgraded"), HEAD_REVISION
            # the rewritten file went through the -wal; it is cut back once all of it is in the
            # file (a -wal left behind holds the upgrade's last pages, and is read with it)
            wal = Path(str(project) + "-wal")
            assert compacted or wal.exists()
            if compacted:
                assert not wal.exists() or wal.stat().st_size == 0
        outcomes.add(outcome)
        con = sqlite3.connect(f"file:{project}?mode=ro", uri=True)
        assert con.execute("SELECT version_num FROM alembic_version").fetchone()[0] == expected
        assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert con.execute("SELECT count(*) FROM changes").fetchone()[0] == 1781
        con.close()
        if outcome == "upgraded":  # with room again, the -wal is copied in and cut back
            (small_disk / "filler.bin").unlink()
            with ProjectStore.open(project) as store:
                assert store.change_count() == 1781
            wal = Path(str(project) + "-wal")
            assert not wal.exists() or wal.stat().st_size == 0
    assert outcomes == {"refused", "upgraded", "compacted"}


@pytest.mark.parametrize("leave", [400_000, 1_200_000, 1_250_000, 1_300_000, 2_000_000,
                                   3_200_000])
def test_a_disk_that_fills_up_during_the_backup_upgrade_or_compaction_of_an_older_project(
        small_disk: Path, tmp_path: Path, leave: int) -> None:
    """The backup before the upgrade goes to the project's own backup folder, on the same full
    disk: a plain message naming the free space, no half-made copy left behind, and on a roomy
    disk again the same project, upgraded and compacted."""
    import sqlite3

    from cmo_desk.domain.errors import CmoDeskError
    from cmo_desk.domain.storage import storage_error
    from cmo_desk.store.opening import PAGE_SIZE
    from cmo_desk.store.project_store import ProjectStore

    released = ROOT / "tests" / "store" / "released" / "demo-schema-0002.cmo"
    shutil.copy(released, tmp_path / "whole.cmo")
    with ProjectStore.open(tmp_path / "whole.cmo", upgrade_backup_dir=tmp_path) as store:
        whole = store.dump_json()
    project = small_disk / "review.cmo"
    shutil.copy(released, project)
    filler = fill(small_disk, leave)
    try:
        with ProjectStore.open(project) as store:
            assert store.dump_json() == whole
    except (CmoDeskError, OSError, sqlite3.Error) as err:
        message = str(err if isinstance(err, CmoDeskError) else storage_error(err, project))
        assert "full" in message or "free space" in message, message
        assert "\n" not in message.strip()
    left = {p.name for p in small_disk.rglob("*") if p.is_file()}
    assert not {name for name in left if "partial" in name or name.endswith("-journal")}
    filler.unlink()
    roomy = tmp_path / "roomy"
    shutil.copytree(small_disk, roomy)
    with ProjectStore.open(roomy / "review.cmo", upgrade_backup_dir=tmp_path) as store:
        assert store.dump_json() == whole
    assert int.from_bytes((roomy / "review.cmo").read_bytes()[16:18], "big") == PAGE_SIZE


# -- the simulation: SQLite's own "database or disk is full" ------------------------------------

def cap_growth(session: Session) -> None:
    """From now on the project file cannot grow: SQLite answers SQLITE_FULL, as on a full disk."""

    def cap(dbapi_conn: object, _record: object) -> None:
        cur = dbapi_conn.cursor()  # type: ignore[attr-defined]
        pages = cur.execute("PRAGMA page_count").fetchone()[0]
        cur.execute(f"PRAGMA max_page_count={pages}")
        cur.close()

    event.listen(session.store.engine, "connect", cap)
    session.store.engine.dispose()


def test_simulated_full_disk_is_a_plain_error_and_nothing_half_written(tmp_path: Path) -> None:
    path = tmp_path / "review.cmo"
    with Session.create(path, coder="Ana") as s:
        sid, _ = coding.add_study(s, {"label": "Sim 2024"})
        cid, _ = coding.create_cmoc(s, sid, {"context": "kept"})
    with Session.open(path, coder="Ana") as s:
        before = s.store.change_count()
        cap_growth(s)
        with pytest.raises(StorageError) as err:
            coding.update_cmoc(s, cid, {"context": "y" * 50_000})
        assert err.value.kind == "full"
        assert "full" in str(err.value) and "review.cmo" in str(err.value)
        assert s.store.change_count() == before
        assert s.store.get("cmoc", cid).context == "kept"


def test_cli_prints_one_line_for_a_storage_failure_outside_the_services(tmp_path: Path) -> None:
    from cmo_desk.cli import main as cli_main

    def boom(_args: object) -> int:
        raise OSError(28, "No space left on device", str(tmp_path / "review.cmo"))

    import argparse

    parser = cli_main.build_parser()
    real_parse = parser.parse_args

    def parse(argv: object = None) -> argparse.Namespace:
        ns = real_parse(["info", str(tmp_path / "review.cmo")])
        ns.func = boom
        return ns

    parser.parse_args = parse  # type: ignore[method-assign]
    orig = cli_main.build_parser
    cli_main.build_parser = lambda *_a, **_k: parser  # type: ignore[assignment]
    try:
        import contextlib
        import io

        err = io.StringIO()
        with contextlib.redirect_stderr(err):
            code = cli_main.run([])
    finally:
        cli_main.build_parser = orig  # type: ignore[assignment]
    assert code == 2
    line = one_plain_line(err.getvalue())
    assert "full" in line and "review.cmo" in line


def test_storage_error_kinds_are_recognised() -> None:
    import sqlite3

    from cmo_desk.domain.storage import classify

    assert classify(sqlite3.OperationalError("database or disk is full")) == "full"
    assert classify(sqlite3.OperationalError("attempt to write a readonly database")) == "read-only"
    assert classify(sqlite3.OperationalError("disk I/O error")) == "io"
    assert classify(sqlite3.DatabaseError("database disk image is malformed")) == "damaged"
    assert classify(sqlite3.OperationalError("database is locked")) == "locked"
    assert classify(OSError(28, "No space left on device")) == "full"
    assert classify(OSError(30, "Read-only file system")) == "read-only"
    assert classify(sqlite3.OperationalError("no such table: x")) is None
    assert shutil  # imported for fixtures above


def test_header_longer_than_the_file_with_the_pages_in_the_wal_opens(tmp_path: Path) -> None:
    """A checkpoint cut short by a full disk wrote page 1 (the new page count) but not the pages
    after it; the -wal still holds them all, so nothing is lost and nothing is "cut off"."""
    import sqlite3

    path = tmp_path / "review.cmo"
    with Session.create(path, coder="Ana") as s:
        sid, _ = coding.add_study(s, {"label": "Kept 2024"})
    con = sqlite3.connect(path)
    con.execute("PRAGMA wal_autocheckpoint=0")
    con.execute("CREATE TABLE grow (x)")
    con.execute("INSERT INTO grow VALUES (?)", ("g" * 200_000,))
    con.commit()
    pages = con.execute("PRAGMA page_count").fetchone()[0]
    page_size = con.execute("PRAGMA page_size").fetchone()[0]
    pair = tmp_path / "pair"
    pair.mkdir()
    shutil.copyfile(path, pair / "review.cmo")
    shutil.copyfile(str(path) + "-wal", str(pair / "review.cmo") + "-wal")
    con.close()
    main = pair / "review.cmo"
    data = bytearray(main.read_bytes())
    assert len(data) < pages * page_size
    data[28:32] = pages.to_bytes(4, "big")  # page 1 as the half-done checkpoint left it
    main.write_bytes(bytes(data))
    with Session.open(main, coder="Ana") as s:
        assert s.store.get("study", sid) is not None
    # closing folded the -wal in: the file alone is whole again
    assert main.stat().st_size >= pages * page_size
    assert not Path(str(main) + "-wal").exists() or Path(str(main) + "-wal").stat().st_size == 0
    check = cli("check", main)
    assert check.returncode == 0 and "no damage" in check.stdout, check.stdout + check.stderr
