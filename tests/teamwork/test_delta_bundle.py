"""Delta bundles: only what the receiver lacks, compressed, and merging it equals the full copy."""

from __future__ import annotations

import gzip
import shutil
from pathlib import Path

import pytest

from cmo_desk.cli.main import run
from cmo_desk.services import coding
from cmo_desk.services.session import Session
from cmo_desk.store.project_store import ProjectStore

from .conftest import study_id


def dump(path: Path) -> str:
    with ProjectStore.open(path, read_only=True) as store:
        return store.dump_json()


def a_day_of_work(path: Path, edits: int = 100) -> None:
    """Lan's day: CMOCs made and rewritten, a new full text with its original file."""
    with Session.open(path, coder="Lan Nguyen") as s:
        sid = study_id(s, "Ahmed 2019")
        cmocs = [coding.create_cmoc(s, sid, {"statement": f"CMOC {k} 🙂"})[0] for k in range(10)]
        for n in range(edits - 10):
            coding.update_cmoc(s, cmocs[n % 10], {"memo": f"memo {n}: peers built trust"})
        with s.write() as uow:
            sha = uow.put_blob(b"%PDF-1.4 new full text " * 200)
            uow.create("document", {"study_id": sid, "filename": "new.pdf", "sha256": sha,
                                    "has_original": True, "text": "new text " * 300,
                                    "page_starts": [0]})


def test_delta_bundle_is_small_and_merges_like_the_whole_copy(copies, capsys) -> None:
    mine, theirs = copies("lan"), copies("sam")
    with Session.open(theirs, coder="Sam Okafor") as s:
        coding.create_cmoc(s, study_id(s, "Brown 2021"), {"statement": "Sam's own"})
    # Lan once received Sam's file; then worked a day
    assert run(["merge", str(mine), str(theirs)]) == 0
    a_day_of_work(mine)
    out = mine.with_name("for-sam.cmobundle")
    capsys.readouterr()
    assert run(["bundle", str(mine), "-o", str(out), "--for", str(theirs)]) == 0
    said = capsys.readouterr().out
    assert out.stat().st_size <= 200 * 1024
    with open(out, "rb") as fh:
        assert fh.read(2) == b"\x1f\x8b"  # compressed
    assert "1 document file" in said
    via_bundle, via_copy = theirs.with_name("via-bundle.cmo"), theirs.with_name("via-copy.cmo")
    shutil.copy2(theirs, via_bundle)
    shutil.copy2(theirs, via_copy)
    assert run(["merge", str(via_bundle), str(out)]) == 0
    assert run(["merge", str(via_copy), str(mine)]) == 0
    assert dump(via_bundle) == dump(via_copy)
    # only what Sam lacked was sent: Sam's own work and the shared start are not in it
    with gzip.open(out) as fh:
        raw = fh.read()
    assert b"Sam's own" not in raw and b"Peers built trust. Peers" not in raw


def test_delta_bundle_for_another_project_is_refused(copies, tmp_path, capsys) -> None:
    mine = copies("lan")
    other = tmp_path / "other.cmo"
    Session.create(other, coder="X", title="Other").close()
    out = tmp_path / "x.cmobundle"
    capsys.readouterr()
    assert run(["bundle", str(mine), "-o", str(out), "--for", str(other)]) != 0
    err = capsys.readouterr().err
    assert "different project" in err and err.count("\n") == 1
    assert not out.exists()


def test_a_delta_bundle_with_a_flipped_byte_is_refused_whole(copies, capsys) -> None:
    mine, theirs = copies("lan"), copies("sam")
    a_day_of_work(mine, edits=20)
    out = mine.with_name("for-sam.cmobundle")
    assert run(["bundle", str(mine), "-o", str(out), "--for", str(theirs)]) == 0
    data = bytearray(out.read_bytes())
    data[len(data) // 2] ^= 0xFF
    out.write_bytes(bytes(data))
    before = dump(theirs)
    capsys.readouterr()
    assert run(["merge", str(theirs), str(out)]) != 0
    err = capsys.readouterr().err
    assert out.name in err and "Traceback" not in err
    assert dump(theirs) == before
