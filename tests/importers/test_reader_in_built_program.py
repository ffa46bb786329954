"""In the built program the executable is the desk itself: untrusted files are still read in a
child, the program started with READER_ARGUMENT, never in the desk's own process."""

from __future__ import annotations

import os
import stat
import sys
from pathlib import Path

import pytest

from cmo_desk import READER_ARGUMENT
from cmo_desk.importers import sandbox
from cmo_desk.importers.fulltext import extract_file
from cmo_desk.importers.sandbox import SafeReader
from pdf_builder import build_pdf

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def built_program(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A stand-in for the built executable: runs the program's entry point with its arguments,
    and notes each start's arguments."""
    log = tmp_path / "starts.log"
    exe = tmp_path / "cmo-desk"
    exe.write_text(f"#!/bin/sh\necho \"$@\" >> {log}\n"
                   f"PYTHONPATH={ROOT} exec {sys.executable} -m cmo_desk \"$@\"\n")
    exe.chmod(exe.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setattr(sys, "frozen", True, raising=False)
    monkeypatch.setattr(sys, "executable", str(exe))
    monkeypatch.delenv("CMO_DESK_NO_SANDBOX", raising=False)
    return log


@pytest.mark.skipif(os.name != "posix", reason="the stand-in executable is a shell script")
def test_the_built_program_reads_in_a_child_of_itself(built_program: Path,
                                                      tmp_path: Path) -> None:
    pdf = tmp_path / "Nairobi 2021 📄.pdf"
    pdf.write_bytes(build_pdf([["Peer navigators and trust"], ["page two"]],
                              title="Nairobi"))
    with SafeReader() as reader:
        assert reader.isolated
        got = reader.read(pdf)
    expected = extract_file(pdf)
    assert got.text == expected.text and got.page_starts == expected.page_starts
    starts = built_program.read_text().splitlines()
    assert starts and all(line.split()[0] == READER_ARGUMENT for line in starts)
    assert sandbox.READER_ARGUMENT == READER_ARGUMENT
