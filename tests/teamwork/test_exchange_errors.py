"""Every way a merge can be refused ends in one plain line and exit 1, never a traceback."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from cmo_desk.cli.main import run
from cmo_desk.services import coding
from cmo_desk.services.backups import list_backups
from cmo_desk.services.session import Session

from .conftest import study_id


def coded(copies, name: str) -> Path:
    path = copies(name)
    with Session.open(path, coder=name.title()) as s:
        coding.create_cmoc(s, study_id(s, "Ahmed 2019"), {"statement": f"{name} " * 400})
    return path


def one_line_failure(capsys, *args) -> str:
    capsys.readouterr()
    assert run([str(a) for a in args]) != 0
    err = capsys.readouterr().err
    assert "Traceback" not in err and err.count("\n") == 1 and err.startswith("cmo-desk: "), err
    return err


def files_beside(path: Path) -> set[str]:
    """The files beside a project and its backups."""
    return {p.name for p in path.parent.iterdir()} | {b.path.name for b in list_backups(path)}


def test_merging_into_a_project_another_desk_has_open(copies, capsys, tmp_path) -> None:
    a, b = copies("lan"), coded(copies, "sam")
    holder = subprocess.Popen(
        [sys.executable, "-c",
         "import sys, time\n"
         "from cmo_desk.services.session import Session\n"
         f"s = Session.open({str(a)!r}, coder='Other Desk')\n"
         "print('open', flush=True)\n"
         "sys.stdin.readline()\n"
         "s.close()\n"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "open"
        before = files_beside(a)
        err = one_line_failure(capsys, "merge", a, b)
        assert "Other Desk" in err
        assert not [n for n in files_beside(a) - before if "merge" in n]
    finally:
        holder.stdin.write("\n")
        holder.stdin.flush()
        holder.wait(timeout=30)


def test_another_process_holding_a_write_transaction(copies, capsys) -> None:
    a, b = copies("lan"), coded(copies, "sam")
    con = sqlite3.connect(a, timeout=0)
    con.execute("BEGIN IMMEDIATE")
    try:
        before = files_beside(a)
        err = one_line_failure(capsys, "merge", a, b)
        assert "busy" in err
        assert not [n for n in files_beside(a) - before if "merge" in n]
    finally:
        con.rollback()
        con.close()


def test_an_incoming_copy_with_a_zeroed_page(copies, capsys) -> None:
    a, b = copies("lan"), coded(copies, "sam")
    con = sqlite3.connect(b)
    con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    page = con.execute("PRAGMA page_size").fetchone()[0]
    root = con.execute("SELECT rootpage FROM sqlite_master WHERE name = 'log'").fetchone()[0]
    con.close()
    with open(b, "r+b") as fh:
        fh.seek((root - 1) * page)
        fh.write(b"\0" * page)
    before = Path(a).read_bytes()
    err = one_line_failure(capsys, "merge", a, b)
    assert b.name in err
    assert Path(a).read_bytes() == before


def test_an_sqlite_file_with_a_matching_meta_table_but_no_log(copies, capsys, tmp_path) -> None:
    a = copies("lan")
    fake = tmp_path / "fake.cmo"
    src = sqlite3.connect(a)
    meta = src.execute("SELECT key, value FROM meta").fetchall()
    src.close()
    con = sqlite3.connect(fake)
    con.execute("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT)")
    con.executemany("INSERT INTO meta VALUES (?, ?)", meta)
    con.commit()
    con.close()
    err = one_line_failure(capsys, "merge", a, fake)
    assert "fake.cmo" in err and "change log" in err


@pytest.mark.parametrize("share", [0.2, 0.5, 0.8, 0.99, 0.9999])
@pytest.mark.parametrize("delta", [False, True], ids=["whole", "delta"])
def test_a_bundle_cut_off_while_written_or_copied_is_refused_as_incomplete(
        copies, capsys, tmp_path, share: float, delta: bool) -> None:
    """A bundle whose writing was killed (its ``.partial``) or whose copy was cut short is
    never taken for a whole one, and the advice is a fresh copy of it, not restoring the
    receiver's own project from a backup (which would throw away the receiver's work)."""
    a, b = copies("lan"), coded(copies, "sam")
    whole = tmp_path / "sam.cmobundle"
    assert run(["bundle", str(b), "-o", str(whole), *(["--for", str(a)] if delta else [])]) == 0
    data = whole.read_bytes()
    cut = tmp_path / "sam.cmobundle.partial"
    cut.write_bytes(data[:min(int(len(data) * share), len(data) - 1)])
    with Session.open(a, coder="Lan") as s:
        before = s.store.dump_json()
    err = one_line_failure(capsys, "merge", a, cut)
    assert "nothing was" in err and "backup" not in err, err
    with Session.open(a, coder="Lan") as s:
        assert s.store.dump_json() == before


def test_what_a_killed_bundle_writer_leaves_in_the_temporary_folder_is_removed_later(
        copies, tmp_path, monkeypatch) -> None:
    """Killed while packing, the writer leaves its temporary folder (a plain copy of the
    bundle: project data) behind. Once it is stale, the next bundle or merge removes it; a
    fresh one, or one of a process still running, stays."""
    import os
    import signal
    import time

    from cmo_desk.store import files

    temp = tmp_path / "temp"
    temp.mkdir()
    a, b = copies("lan"), coded(copies, "sam")
    script = (
        "import sys, gzip\n"
        "from cmo_desk.services.session import Session\n"
        "from cmo_desk.services.merging import make_delta_bundle\n"
        "def stop(*args, **kwargs):\n"
        "    import os, signal\n"
        "    os.kill(os.getpid(), signal.SIGKILL)\n"
        "gzip.open = stop\n"  # killed as the packing starts
        "with Session.open(sys.argv[1], coder='Sam') as s:\n"
        "    make_delta_bundle(s, sys.argv[2], sys.argv[3])\n")
    env = {**os.environ, "TMPDIR": str(temp),
           "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    killed = subprocess.run([sys.executable, "-c", script, str(b), str(tmp_path / "x"), str(a)],
                            env=env, capture_output=True, text=True, timeout=60)
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    (left,) = temp.iterdir()
    assert left.name.startswith("cmo-desk-bundle-") and any(left.iterdir())
    running = temp / f"cmo-desk-read-{os.getppid()}-x"  # a process still running
    running.mkdir()
    monkeypatch.setattr("tempfile.tempdir", str(temp))
    assert files.remove_stale_temporary_folders() == []  # not stale yet
    old = time.time() - files.STALE_AFTER_SECONDS - 60
    for folder in (left, running):
        os.utime(folder, (old, old))
    assert run(["bundle", str(b), "-o", str(tmp_path / "y"), "--for", str(a)]) == 0
    assert sorted(p.name for p in temp.iterdir()) == [running.name]
