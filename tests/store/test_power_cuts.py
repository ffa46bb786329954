"""A power cut (the process killed outright) while an older project is upgraded and compacted:
the next opening finds every change and record, the file is sound, and the job is finished. A cut
while a save writes the numbered log (its side tables, its rows, its latest clock) keeps the
project as it was before the save, every row of the log seen through its view.

Kills come from a child process that ends itself with SIGKILL after a given amount of SQLite work
(a progress handler counts it), so each kill point is the same on every run. Longer sweeps, with
kills after random delays, are in benchmarks/bench_power_cuts.py.
"""

from __future__ import annotations

import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from sqlite_kill import killed_after  # (tests/ is on pytest's path)

from cmo_desk.store.opening import PAGE_SIZE
from cmo_desk.store.project_store import ProjectStore

RELEASED = sorted((Path(__file__).parent / "released").glob("demo-schema-*.cmo"))
ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs SIGKILL")

#: A child that opens (and so upgrades) a project and kills itself after ``n`` units of SQLite
#: work (one unit = 2000 virtual machine steps, counted over every connection it opens).
OPEN_AND_DIE = killed_after(2, 2000) + textwrap.dedent("""
    from pathlib import Path
    from cmo_desk.store.project_store import ProjectStore
    path = Path(sys.argv[1])
    with ProjectStore.open(path, upgrade_backup_dir=path.parent) as store:
        print(done[0])
""")

#: A child that rewrites every page of a project through a rollback journal (as compaction's
#: VACUUM does) and is killed with the new pages half written: a "hot" journal stays behind.
REWRITE_AND_DIE = textwrap.dedent("""
    import os, signal, sqlite3, sys
    con = sqlite3.connect(sys.argv[1], isolation_level=None)
    con.execute("PRAGMA journal_mode=DELETE")
    con.execute("PRAGMA cache_size=5")  # pages reach the file before the commit
    con.execute("BEGIN")
    for table in ("log", "log_records", "log_ids", "log_names", "document"):  # the log is read
        con.execute(f"DELETE FROM {table}")  # through the view changes, which takes no writes
    os.kill(os.getpid(), signal.SIGKILL)
""")


#: A child that writes a batch of edits to a project in one save and kills itself after ``n``
#: units of SQLite work (as OPEN_AND_DIE): the log's side tables, its rows and its clock are
#: written by several statements of that save.
#: With a third argument ``k``, the count starts again when the save writes the log's rows
#: (logformat.append_from), and the cut comes ``k`` units into that write.
WRITE_AND_DIE = killed_after(2, 50) + textwrap.dedent("""
    from pathlib import Path
    from cmo_desk.store import logformat
    from cmo_desk.store.project_store import ProjectStore
    if len(sys.argv) > 3:
        real_append = logformat.append_from
        def append_from(*args, **kwargs):
            global limit
            limit = done[0] + int(sys.argv[3])
            written = real_append(*args, **kwargs)
            print("appended", flush=True)
            return written
        logformat.append_from = append_from
    with ProjectStore.open(Path(sys.argv[1])) as store:
        print(done[0])
        with store.unit_of_work(None) as uow:
            for study in store.list("study"):
                uow.update("study", study.id, {"title": "Cut " + study.label})
            for n in range(40):
                sid = uow.create("study", {"label": f"New {n}"})
                uow.create("cmoc", {"study_id": sid, "statement": f"Peers {n}"})
        print(done[0])
""")


def _child(script: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, "-c", script, *args], capture_output=True, text=True,
                          env=env, timeout=60)


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, "-m", "cmo_desk", *args], capture_output=True,
                          text=True, env=env, timeout=60)


def _page_size(path: Path) -> int:
    return int.from_bytes(path.read_bytes()[16:18], "big")


@pytest.fixture(scope="module")
def upgraded(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str, int]:
    """The newest released file, its dump once upgraded, and the units of work opening took."""
    folder = tmp_path_factory.mktemp("upgraded")
    path = folder / "review.cmo"
    shutil.copy(RELEASED[-1], path)
    done = _child(OPEN_AND_DIE, str(path), str(10**9))
    assert done.returncode == 0, done.stderr
    with ProjectStore.open(path) as store:
        return path, store.dump_json(), int(done.stdout)


def test_a_project_whose_rewrite_was_cut_off_opens_whole_and_checks_sound(
        upgraded: tuple[Path, str, int], tmp_path: Path) -> None:
    path = tmp_path / "review.cmo"
    shutil.copy(upgraded[0], path)
    killed = _child(REWRITE_AND_DIE, str(path))
    assert killed.returncode == -signal.SIGKILL
    journal = Path(str(path) + "-journal")
    assert journal.exists()  # the cut left its journal: the file itself is half rewritten
    for command in ("check", "info"):
        result = _cli(command, str(path))
        assert result.returncode == 0, (command, result.stderr)
        assert "damaged" not in result.stdout + result.stderr
    assert not journal.exists()  # the interrupted rewrite was rolled back
    with ProjectStore.open(path) as store:
        assert store.dump_json() == upgraded[1]


@pytest.mark.parametrize("share", [0.2, 0.45, 0.7, 0.85, 0.9, 0.95, 0.99])
def test_a_power_cut_during_upgrade_or_compaction_loses_nothing_and_the_next_open_finishes(
        upgraded: tuple[Path, str, int], tmp_path: Path, share: float) -> None:
    path = tmp_path / "review.cmo"
    shutil.copy(RELEASED[-1], path)
    killed = _child(OPEN_AND_DIE, str(path), str(max(1, int(upgraded[2] * share))))
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    result = _cli("check", str(path))
    assert result.returncode == 0, result.stderr
    with ProjectStore.open(path, upgrade_backup_dir=tmp_path) as store:
        assert store.dump_json() == upgraded[1]
    # the job the cut interrupted is done: the file is at this version's layout and page size
    assert _page_size(path) == PAGE_SIZE
    assert path.read_bytes()[18:20] == b"\x02\x02"  # WAL, as every save relies on
    assert not Path(str(path) + "-journal").exists()
    con = sqlite3.connect(path)
    try:
        assert con.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
    finally:
        con.close()


def test_a_cut_off_rewrite_on_a_write_protected_stick_is_not_read_half_written(
        upgraded: tuple[Path, str, int], tmp_path: Path) -> None:
    if not sys.platform.startswith("linux"):
        pytest.skip("mounts are Linux only")
    stick = tmp_path / "stick"
    stick.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=8m", "tmpfs", str(stick)],
                          capture_output=True, text=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount here: {done.stderr.strip()}")
    try:
        path = stick / "review.cmo"
        shutil.copy(upgraded[0], path)
        assert _child(REWRITE_AND_DIE, str(path)).returncode == -signal.SIGKILL
        ro = subprocess.run(["mount", "-o", "remount,ro", str(stick)], capture_output=True,
                            text=True)
        if ro.returncode != 0:
            pytest.skip(f"cannot remount read-only: {ro.stderr.strip()}")
        result = _cli("info", str(path))
        assert result.returncode != 0 and "Traceback" not in result.stderr
        assert "review.cmo-journal" in result.stderr and "damaged" not in result.stderr
        assert len(result.stderr.strip().splitlines()) == 1
    finally:
        subprocess.run(["umount", "-l", str(stick)], capture_output=True)


@pytest.fixture(scope="module")
def written(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str, str, int, int]:
    """A project before a batch of edits, its dump before and after them, and the units of
    work done when the save began and when it had ended."""
    folder = tmp_path_factory.mktemp("written")
    path = folder / "review.cmo"
    with ProjectStore.create(path, title="Cuts") as store:
        with store.unit_of_work(None) as uow:
            for n in range(5):
                uow.create("study", {"label": f"Study {n}"})
        before = store.dump_json()
    done_path = folder / "done.cmo"
    shutil.copy(path, done_path)
    done = _child(WRITE_AND_DIE, str(done_path), str(10**9))
    assert done.returncode == 0, done.stderr
    with ProjectStore.open(done_path) as store:
        after = store.dump_json()
    assert after != before
    start, end = (int(n) for n in done.stdout.split())
    return path, before, after, start, end


@pytest.mark.parametrize("share", [0.1, 0.3, 0.5, 0.7, 0.8, 0.9, 0.95, 0.99, 1.0])
def test_a_power_cut_while_a_save_writes_the_log_keeps_it_whole(
        written: tuple[Path, str, str, int, int], tmp_path: Path, share: float) -> None:
    """Cut anywhere in a save: the next opening finds the project as it was before the save or
    after it, never between; every row of the log is seen through the view, and the latest
    clock kept in ``meta`` is the log's latest."""
    from cmo_desk.store.logformat import CLOCK_KEY

    path = tmp_path / "review.cmo"
    shutil.copy(written[0], path)
    start, end = written[3:]
    killed = _child(WRITE_AND_DIE, str(path), str(start + max(1, int((end - start) * share))))
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    saved = len(killed.stdout.split()) == 2  # the save had ended when the power went
    with ProjectStore.open(path) as store:
        assert store.dump_json() == written[2 if saved else 1]
    con = sqlite3.connect(path)
    try:
        assert con.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        held = con.execute("SELECT count(*) FROM log").fetchone()[0]
        assert con.execute("SELECT count(*) FROM changes").fetchone()[0] == held
        top = con.execute("SELECT wall, counter FROM log ORDER BY wall DESC, counter DESC "
                          "LIMIT 1").fetchone()
        (clock,) = con.execute("SELECT value FROM meta WHERE key = ?", (CLOCK_KEY,)).fetchone()
        assert clock == f"{top[0]} {top[1]}"
    finally:
        con.close()


@pytest.mark.parametrize("into", [1, 2, 3, 5, 8, 13])
def test_a_power_cut_inside_the_write_of_the_log_keeps_it_whole(
        written: tuple[Path, str, str, int, int], tmp_path: Path, into: int) -> None:
    """Cut while the side tables, the rows and the clock of the log are being written: nothing
    of the save is kept, and the log is as it was."""
    path = tmp_path / "review.cmo"
    shutil.copy(written[0], path)
    con = sqlite3.connect(path)
    log = con.execute("SELECT * FROM log ORDER BY seq").fetchall()
    sides = [con.execute(f"SELECT * FROM {t} ORDER BY n").fetchall()
             for t in ("log_names", "log_ids", "log_records")]
    con.close()
    killed = _child(WRITE_AND_DIE, str(path), str(10**9), str(into))
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    if into <= 3:
        assert "appended" not in killed.stdout  # the cut came inside the write
    with ProjectStore.open(path) as store:
        assert store.dump_json() == written[1]
    con = sqlite3.connect(path)
    try:
        assert con.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        assert con.execute("SELECT * FROM log ORDER BY seq").fetchall() == log
        assert [con.execute(f"SELECT * FROM {t} ORDER BY n").fetchall()
                for t in ("log_names", "log_ids", "log_records")] == sides
    finally:
        con.close()
