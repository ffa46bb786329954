"""A power cut (the process killed outright) while an older project is upgraded and compacted:
the next opening finds every change and record, the file is sound, and the job is finished.

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
    con.execute("DELETE FROM changes")
    con.execute("DELETE FROM document")
    os.kill(os.getpid(), signal.SIGKILL)
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

