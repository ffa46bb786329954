"""A good copy on a write-protected stick is read, never called damaged, never written beside."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from cmo_desk.cli.main import run
from cmo_desk.services import coding
from cmo_desk.services.session import Session

from .conftest import study_id


@pytest.fixture
def stick(tmp_path: Path) -> Iterator[tuple[Path, object]]:
    """A folder that becomes write-protected when ``protect()`` is called.

    As an ordinary user the folder and file lose their write permission; as root (which ignores
    permissions) a small read-only file system is mounted instead, or the test is skipped.
    """
    folder = tmp_path / "stick"
    folder.mkdir()
    mounted = False
    if os.geteuid() == 0:
        made = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64m", "tmpfs", str(folder)],
                              capture_output=True)
        if made.returncode != 0:
            pytest.skip("a read-only medium cannot be simulated here (root without mount)")
        mounted = True

    def protect() -> None:
        if mounted:
            subprocess.run(["mount", "-o", "remount,ro", str(folder)], check=True)
        else:
            for p in folder.iterdir():
                p.chmod(0o444)
            folder.chmod(0o555)

    try:
        yield folder, protect
    finally:
        if mounted:
            subprocess.run(["umount", str(folder)], check=False)
        else:
            folder.chmod(0o755)


def test_a_copy_on_a_write_protected_stick_is_merged_and_read(copies, stick, capsys) -> None:
    folder, protect = stick
    mine = copies("lan")
    sam = copies("sam")
    with Session.open(sam, coder="Sam Okafor") as s:
        coding.create_cmoc(s, study_id(s, "Ahmed 2019"), {"statement": "From the stick"})
    on_stick = folder / "review.cmo"
    shutil.copy2(sam, on_stick)
    protect()
    before = sorted(p.name for p in folder.iterdir())
    for command in (["conflicts", on_stick], ["agreement", on_stick], ["info", on_stick],
                    ["bundle", on_stick, "-o", mine.with_name("b.cmobundle")],
                    ["bundle", mine, "-o", mine.with_name("d.cmobundle"), "--for", on_stick],
                    ["merge", mine, on_stick]):
        capsys.readouterr()
        code = run([str(c) for c in command])
        err = capsys.readouterr().err
        assert code == 0 and "damaged" not in err, (command, err)
    with Session.open(mine, read_only=True) as s:
        assert "From the stick" in {c.statement for c in s.store.list("cmoc")}
    assert sorted(p.name for p in folder.iterdir()) == before


def test_a_copy_taken_with_its_wal_while_the_desk_was_open_brings_every_edit(
        copies, tmp_path, capsys) -> None:
    mine, sam = copies("lan"), copies("sam")
    session = Session.open(sam, coder="Sam Okafor")
    try:
        coding.create_cmoc(session, study_id(session, "Ahmed 2019"), {"statement": "In the wal"})
        wal = Path(str(sam) + "-wal")
        assert wal.exists() and wal.stat().st_size > 0
        folder = tmp_path / "usb"
        folder.mkdir()
        shutil.copyfile(sam, folder / "review.cmo")
        shutil.copyfile(wal, folder / "review.cmo-wal")
    finally:
        session.close()
    before = sorted(p.name for p in folder.iterdir())
    assert run(["merge", str(mine), str(folder / "review.cmo")]) == 0
    with Session.open(mine, read_only=True) as s:
        assert "In the wal" in {c.statement for c in s.store.list("cmoc")}
    assert sorted(p.name for p in folder.iterdir()) == before


def test_a_copy_with_its_wal_on_a_write_protected_stick_is_read_whole(copies, stick,
                                                                      capsys) -> None:
    """A coder copied the project and its -wal (the desk was open) onto a stick, then
    write-protected it: every command that reads a project reads it, edits in the -wal
    included, and nothing is written beside it."""
    import json

    folder, protect = stick
    mine, sam = copies("lan"), copies("sam")
    session = Session.open(sam, coder="Sam Okafor")
    try:
        coding.create_cmoc(session, study_id(session, "Ahmed 2019"), {"statement": "In the wal"})
        wal = Path(str(sam) + "-wal")
        assert wal.exists() and wal.stat().st_size > 0
        shutil.copyfile(sam, folder / "review.cmo")
        shutil.copyfile(wal, folder / "review.cmo-wal")
    finally:
        session.close()
    on_stick = folder / "review.cmo"
    protect()
    before = sorted(p.name for p in folder.iterdir())
    for command in (["conflicts", on_stick], ["agreement", on_stick], ["dump", on_stick],
                    ["bundle", on_stick, "-o", mine.with_name("b.cmobundle")]):
        capsys.readouterr()
        code = run([str(c) for c in command])
        out, err = capsys.readouterr()
        assert code == 0 and not err, (command, err)
        if command[0] == "dump":
            assert "In the wal" in out
    capsys.readouterr()
    assert run(["info", str(on_stick), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["cmocs"] == 1
    assert run(["merge", str(mine), str(on_stick)]) == 0
    with Session.open(mine, read_only=True) as s:
        assert "In the wal" in {c.statement for c in s.store.list("cmoc")}
    assert sorted(p.name for p in folder.iterdir()) == before
