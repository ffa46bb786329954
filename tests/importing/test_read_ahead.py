"""Full texts read ahead, two at a time: the same texts as one by one, a bad file refused alone,
and an import that starts reading before the project opens loses nothing."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from cmo_desk.domain.errors import ImportFailed, PasswordRequired
from cmo_desk.importers.fulltext import extract_file
from cmo_desk.importers.sandbox import SafeReader
from cmo_desk.services.session import Session

from pdf_builder import build_pdf  # noqa: E402  (tests/ is on pytest's path)


def _pdf(path: Path, n: int, pages: int = 2) -> Path:
    body = [[f"Study {n} page {p}: peer navigators and trust, ünïcode — {n}."] * 3
            for p in range(pages)]
    path.write_bytes(build_pdf(body, title=f"Peer work {n}"))
    return path


def _bomb(path: Path, mib: int = 400) -> Path:
    import zlib

    squeeze = zlib.compressobj(9)
    body = b"".join(squeeze.compress(b"\x00" * (1 << 20)) for _ in range(mib)) + squeeze.flush()
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
               b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R >>",
               b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(body) + body +
               b"\nendstream"]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, part in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + part + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 5\n0000000000 65535 f \n" + b"".join(b"%010d 00000 n \n" % o for o in offsets)
    out += b"trailer << /Size 5 /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % xref
    path.write_bytes(bytes(out))
    return path


def test_a_planned_batch_read_two_at_a_time_gives_each_file_its_own_text(tmp_path: Path) -> None:
    files = [_pdf(tmp_path / f"s{n}.pdf", n, pages=1 + n % 3) for n in range(7)]
    with SafeReader(workers=2) as reader:
        if not reader.isolated:
            pytest.skip("no child process here")
        reader.plan((f, None) for f in files)
        reader.plan((f, None) for f in files[:3])  # named again before being read: read once
        assert len(reader._waiting) + sum(c.key is not None for c in reader._children) == 7
        # taken in another order than planned, one of them twice
        got = {f: reader.read(f) for f in [*reversed(files), files[2]]}
        assert not reader._waiting and not any(reader._done.values())
    for f in files:
        alone = extract_file(f)
        assert got[f].text == alone.text and got[f].page_starts == alone.page_starts
        assert got[f].sha256 == alone.sha256 and got[f].title == alone.title


@pytest.mark.skipif(sys.platform == "win32", reason="resource limits are POSIX")
def test_a_file_that_exhausts_a_reader_is_refused_and_the_files_planned_after_it_read(
        tmp_path: Path) -> None:
    files = [_pdf(tmp_path / "a.pdf", 1), _bomb(tmp_path / "b-bomb.pdf"),
             _pdf(tmp_path / "c.pdf", 3), _pdf(tmp_path / "d.pdf", 4)]
    locked = tmp_path / "e-locked.pdf"
    locked.write_bytes(build_pdf([["secret"]], user_password="pw"))
    files.append(locked)
    with SafeReader(memory_limit=300 * 1024 * 1024, time_limit=60, workers=2) as reader:
        if not reader.isolated:
            pytest.skip("no child process here")
        reader.plan((f, None) for f in files)
        assert "Study 1" in reader.read(files[0]).text
        with pytest.raises(ImportFailed, match="out of memory"):
            reader.read(files[1])
        assert "Study 3" in reader.read(files[2]).text
        assert "Study 4" in reader.read(files[3]).text
        with pytest.raises(PasswordRequired):
            reader.read(locked)
        assert "secret" in reader.read(locked, password="pw").text


def test_the_command_reads_ahead_and_imports_every_text_whole(tmp_path: Path) -> None:
    folder = tmp_path / "texts"
    folder.mkdir()
    pdfs = [_pdf(folder / f"study-{n}.pdf", n, pages=3) for n in range(5)]
    (folder / "notes.txt").write_text("Field notes: outreach at night, 同伴.\n", encoding="utf-8")
    (folder / ".hidden.pdf").write_bytes(pdfs[0].read_bytes())
    project = tmp_path / "review.cmo"
    env = {**os.environ, "CMO_DESK_CODER": "Lan Nguyen"}
    made = subprocess.run([sys.executable, "-m", "cmo_desk", "new", str(project)],
                          capture_output=True, text=True, env=env, timeout=120)
    assert made.returncode == 0, made.stderr
    out = subprocess.run([sys.executable, "-m", "cmo_desk", "import", str(project), str(folder),
                          "--json"], capture_output=True, text=True, env=env, timeout=300)
    assert out.returncode == 0, out.stderr
    summary = json.loads(out.stdout)
    assert summary["files_read"] == 6 and not summary["errors"]
    with Session.open(project, read_only=True) as s:
        docs = {d.filename: d for d in s.store.list("document")}
    assert sorted(docs) == sorted([*(p.name for p in pdfs), "notes.txt"])
    for p in pdfs:
        alone = extract_file(p)
        assert docs[p.name].text == alone.text
        assert list(docs[p.name].page_starts or []) == list(alone.page_starts)
    assert "同伴" in (docs["notes.txt"].text or "")


def test_an_import_into_a_project_that_cannot_open_stops_its_readers_and_says_why(
        tmp_path: Path) -> None:
    folder = tmp_path / "texts"
    folder.mkdir()
    for n in range(3):
        _pdf(folder / f"s{n}.pdf", n)
    out = subprocess.run([sys.executable, "-m", "cmo_desk", "import", str(tmp_path / "none.cmo"),
                          str(folder)], capture_output=True, text=True, timeout=120,
                         env={**os.environ, "CMO_DESK_CODER": "Lan"})
    assert out.returncode != 0
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and "does not exist" in lines[0] and "Traceback" not in out.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["texts"]
