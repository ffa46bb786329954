"""Several reading children at once: each file's outcome is what one reader alone gives, and a
file that hangs, crashes or blows up its memory in the middle of a batch fails alone."""

from __future__ import annotations

import json
import os
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from cmo_desk.domain.errors import Cancelled, ImportFailed, PasswordRequired
from cmo_desk.domain.i18n import set_language, tr
from cmo_desk.importers import reader_child, sandbox
from cmo_desk.importers.fulltext import ExtractedText, extract_file
from cmo_desk.importers.sandbox import ReaderPool, SafeReader
from pdf_builder import build_pdf, zero_stream_pdf

POSIX_ONLY = pytest.mark.skipif(sys.platform == "win32", reason="FIFOs and memory limits are POSIX")
MIB = 1024 * 1024
NEEDS_PROC = pytest.mark.skipif(not Path("/proc/self/task").is_dir(), reason="counts children in /proc")


def _pool(**kwargs: object) -> ReaderPool:
    pool = ReaderPool(**kwargs)  # type: ignore[arg-type]
    if not pool.isolated:
        pytest.skip("no child process here")
    return pool


def _study(n: int) -> bytes:
    return build_pdf([[f"Study {n}: peer navigators and clinic uptake – café outreach in district {n}.",
                       "Clients trusted workers who had used drugs themselves."],
                      [f"Page two of study {n}: stigma fell where outreach was daily."]],
                     title=f"Peer navigation study number {n}")


def _outcome(read: Callable[[], ExtractedText]) -> tuple[object, ...]:
    """What a reader made of a file: its content, or the kind and words of its failure."""
    try:
        t = read()
    except ImportFailed as err:
        return (type(err).__name__, str(err))
    return (t.text, tuple(t.page_starts), t.title, t.doi, tuple(t.warnings), t.needs_ocr, t.sha256,
            t.media_type, t.extractor)


def _children() -> set[int]:
    """This process's child processes (Linux)."""
    found: set[int] = set()
    for task in Path(f"/proc/{os.getpid()}/task").iterdir():
        try:
            found.update(int(p) for p in (task / "children").read_text().split())
        except OSError:
            pass
    return found


@pytest.fixture
def batch(tmp_path: Path) -> list[Path]:
    """Good PDFs of every page count around the ugly ones: damaged, a web page, encrypted, a
    text file in UTF-16, a file with no name ending."""
    files = []
    for n in range(1, 5):
        files.append(tmp_path / (f"étude 🧪 {n}.pdf" if n == 2 else f"study-{n}.pdf"))
        files[-1].write_bytes(_study(n))
    ugly = {
        "damaged.pdf": _study(9)[:300],
        "page.pdf": b"<!doctype html><html><body>Not found</body></html>",
        "locked.pdf": build_pdf([["A secret page."]], user_password="s3cret"),
        "notes 📝.txt": "Peer work notes — 同伴教育 and résumé.\n".encode("utf-16"),
        "noextension": _study(7),
    }
    for name, data in ugly.items():
        (tmp_path / name).write_bytes(data)
    names = list(ugly)
    return [files[0], tmp_path / names[0], files[1], tmp_path / names[1], tmp_path / names[2],
            files[2], tmp_path / names[3], tmp_path / names[4], files[3]]


def test_a_pool_gives_each_file_what_one_reader_in_this_process_gives(batch: list[Path]) -> None:
    expected = [_outcome(lambda p=p: extract_file(p)) for p in batch]
    assert sum(isinstance(e[0], str) and len(e) > 2 for e in expected) == 6  # six read, three refused
    with _pool(size=2) as pool:
        pool.prefetch((p, None) for p in batch)
        got = [_outcome(lambda p=p: pool.read(p)) for p in batch]
    assert got == expected
    with pytest.raises(PasswordRequired):
        extract_file(batch[4])


def test_a_file_read_with_another_password_than_read_ahead_is_read_again(batch: list[Path]) -> None:
    locked = batch[4]
    with _pool(size=2) as pool:
        pool.prefetch([(locked, None)])
        assert "secret page" in pool.read(locked, password="s3cret").text
        with pytest.raises(PasswordRequired):
            pool.read(locked)


@POSIX_ONLY
def test_a_file_that_hangs_in_the_middle_of_a_batch_fails_alone(tmp_path: Path, batch: list[Path]) -> None:
    stall = tmp_path / "stall.pdf"
    os.mkfifo(stall)  # never delivers its bytes: the child reading it blocks, as on a file made to stall
    files = [*batch[:3], stall, *batch[3:]]
    expected = [_outcome(lambda p=p: extract_file(p)) for p in batch]
    started = time.monotonic()
    with _pool(size=2, time_limit=2) as pool:
        pool.prefetch((p, None) for p in files)
        got = [_outcome(lambda p=p: pool.read(p)) for p in files]
    assert got.pop(3) == ("ImportFailed", tr(
        "{name} took more than {seconds} seconds to read and was stopped; it is not imported. "
        "The file may be damaged or made to stall readers: save it again from a PDF viewer or "
        "word processor.").format(name="stall.pdf", seconds=2))
    assert got == expected  # the child that hung was replaced; every other file read as usual
    assert time.monotonic() - started < 60


@POSIX_ONLY
@NEEDS_PROC
def test_a_child_that_crashes_on_a_file_fails_that_file_and_is_replaced(
        tmp_path: Path, batch: list[Path]) -> None:
    import signal

    crash = tmp_path / "crash.pdf"
    os.mkfifo(crash)  # the child blocks on it until it is killed, as if the PDF engine crashed there
    files = [batch[0], crash, *batch[1:]]
    expected = [_outcome(lambda p=p: extract_file(p)) for p in batch]
    before = _children()
    with _pool(size=1, time_limit=60) as pool:
        pool.prefetch((p, None) for p in files)
        assert _outcome(lambda: pool.read(files[0])) == expected[0]
        (child,) = _children() - before
        waiting = Path(f"/proc/{child}/wchan")
        deadline = time.monotonic() + 10
        while waiting.read_text() != "wait_for_partner" and time.monotonic() < deadline:
            time.sleep(0.05)  # until the child is blocked opening the FIFO
        os.kill(child, signal.SIGSEGV)
        got = [_outcome(lambda p=p: pool.read(p)) for p in files[1:]]
        assert child not in _children()
    assert got.pop(0) == ("ReaderStopped", tr(
        "{name} made the reader run out of memory or stop; it is not imported. The file may be damaged "
        "or made to exhaust memory: save it again from a PDF viewer or word processor.").format(name="crash.pdf"))
    assert got == expected[1:]


@POSIX_ONLY
def test_a_file_that_exhausts_memory_in_the_middle_of_a_batch_fails_alone(
        tmp_path: Path, batch: list[Path]) -> None:
    bomb = tmp_path / "bomb.pdf"
    bomb.write_bytes(zero_stream_pdf(400))  # inflates past the whole limit, alone too
    files = [*batch[:2], bomb, *batch[2:]]
    expected = [_outcome(lambda p=p: extract_file(p)) for p in batch]
    with _pool(size=2, memory_limit=300 * MIB, time_limit=60) as pool:
        pool.prefetch((p, None) for p in files)
        got = [_outcome(lambda p=p: pool.read(p)) for p in files]
    kind, message = got.pop(2)
    assert kind == "ReaderStopped" and message.startswith("bomb.pdf made the reader run out of memory")
    assert got == expected


@POSIX_ONLY
def test_a_file_too_big_for_its_share_of_memory_is_read_again_alone_with_all_of_it(
        tmp_path: Path, batch: list[Path]) -> None:
    big = tmp_path / "big.pdf"
    big.write_bytes(zero_stream_pdf(100))  # needs more than 150 MiB, less than 300 MiB
    with SafeReader(memory_limit=150 * MIB, time_limit=60) as share, pytest.raises(ImportFailed):
        share.read(big)  # a child with half of the limit cannot read it
    files = [batch[0], big, *batch[1:4]]
    expected = [_outcome(lambda p=p: extract_file(p)) for p in files]
    with _pool(size=2, memory_limit=300 * MIB, time_limit=60) as pool:
        pool.prefetch((p, None) for p in files)
        got = [_outcome(lambda p=p: pool.read(p)) for p in files]
        assert _outcome(lambda: pool.read(batch[5])) == _outcome(lambda: extract_file(batch[5]))
    assert got == expected


@POSIX_ONLY
@NEEDS_PROC
def test_cancelling_stops_every_child_at_once(tmp_path: Path) -> None:
    before = _children()
    stalls = []
    for n in range(4):
        stalls.append(tmp_path / f"stall-{n}.pdf")
        os.mkfifo(stalls[-1])
    asked = threading.Event()
    reading: list[int] = []

    def cancel_later() -> None:
        time.sleep(2.5)  # the second child starts when the first has read nothing for a second
        reading.append(len(_children() - before))
        asked.set()

    threading.Thread(target=cancel_later, daemon=True).start()
    started = time.monotonic()
    pool = _pool(size=2, time_limit=120)
    pool.prefetch((p, None) for p in stalls)
    with pytest.raises(Cancelled):
        pool.read(stalls[0], cancel=asked.is_set)
    assert reading == [2]  # both children were reading (stalled) when the user cancelled
    assert time.monotonic() - started < 15
    assert _children() - before == set()
    pool.close()  # closing again does nothing


@NEEDS_PROC
def test_the_first_child_reads_alone_until_the_caller_waits(tmp_path: Path, batch: list[Path]) -> None:
    before = _children()
    with _pool(size=2) as pool:
        pool.prefetch((p, None) for p in batch)
        deadline = time.monotonic() + 20
        while not all(job.done.is_set() for job in pool._jobs.values()) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert [_outcome(lambda p=p: pool.read(p)) for p in batch] == [
            _outcome(lambda p=p: extract_file(p)) for p in batch]
        assert len(_children() - before) == 1  # the caller was busy: one child read the batch


@NEEDS_PROC
def test_a_long_batch_gets_a_second_child_while_the_caller_waits(tmp_path: Path) -> None:
    lines = [f"Line {n} of a long report on peer outreach, clinic uptake and stigma in the district."
             for n in range(45)]
    files = []
    for n in range(24):
        files.append(tmp_path / f"report-{n:02d}.pdf")
        files[-1].write_bytes(build_pdf([[f"Report {n}, page {p}", *lines] for p in range(25)]))
    before = _children()
    most = [0]
    reading = threading.Event()

    def count() -> None:
        while not reading.is_set():
            most[0] = max(most[0], len(_children() - before))
            time.sleep(0.02)

    counter = threading.Thread(target=count, daemon=True)
    counter.start()
    with _pool(size=2) as pool:
        pool.prefetch((p, None) for p in files)
        texts = [pool.read(p).text for p in files]
    reading.set()
    counter.join()
    assert most[0] == 2
    assert texts == [extract_file(p).text for p in files]


def test_the_children_speak_the_users_language(tmp_path: Path) -> None:
    damaged = tmp_path / "abîmé.pdf"
    damaged.write_bytes(_study(3)[:300])
    english = "{name} is damaged and cannot be read as a PDF. Download it again or re-save it from a PDF viewer."
    set_language("fr")
    try:
        french = tr(english)
        assert french != english
        with _pool(size=2) as pool, pytest.raises(ImportFailed) as failure:
            pool.read(damaged)
    finally:
        set_language("en")
    assert str(failure.value) == french.format(name="abîmé.pdf")


def test_one_child_reads_per_core_and_two_at_most(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(os, "cpu_count", lambda: 1)
    assert sandbox.reader_count() == 1
    monkeypatch.setattr(os, "cpu_count", lambda: None)
    assert sandbox.reader_count() == 1
    monkeypatch.setattr(os, "cpu_count", lambda: 16)
    assert sandbox.reader_count() == sandbox.MAX_READERS == 2


@POSIX_ONLY
def test_the_import_command_reports_a_file_that_hangs_and_saves_the_others(
        tmp_path: Path, batch: list[Path], monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    from cmo_desk.cli.main import run
    from cmo_desk.services.projects import new_project
    from cmo_desk.services.session import Session

    monkeypatch.setattr(sandbox, "TIME_LIMIT_SECONDS", 2)
    folder = tmp_path / "texts"
    folder.mkdir()
    for path in batch:
        path.rename(folder / path.name)
    os.mkfifo(folder / "m-stall.pdf")  # read between "étude 🧪 2.pdf" and "noextension"
    project = tmp_path / "review.cmo"
    new_project(project, coder="Ana").close()
    assert run(["import", str(project), str(folder), "--json"]) == 1
    out, err = capsys.readouterr()
    refused = {"damaged.pdf", "page.pdf", "locked.pdf", "m-stall.pdf"}
    assert err.splitlines()[0] == "cmo-desk: " + tr(
        "{failed} of {total} files were not imported: {files}. The others were imported.").format(
        failed=4, total=9, files=", ".join(f"texts/{n}" for n in sorted(refused)))
    assert "texts/m-stall.pdf: m-stall.pdf took more than 2 seconds to read" in err
    with Session.open(project, read_only=True) as session:
        documents = session.store.list("document")
        stored = {d.filename: d.text for d in documents}
    assert json.loads(out)["skipped"] == ["texts/noextension"]  # no name ending: not a full text here
    read = sorted(p.name for p in batch if p.name not in refused | {"noextension"})
    assert len(read) == 5
    assert sorted(stored) == read
    for name in read:
        assert stored[name] == extract_file(folder / name).text


def test_importing_a_folder_of_pdfs_loads_no_migration_tool_spreadsheet_refi_reference_or_zip_reader(
        tmp_path: Path, batch: list[Path]) -> None:
    import subprocess

    from cmo_desk.services.projects import new_project

    project = tmp_path / "review.cmo"
    new_project(project, coder="Ana").close()
    folder = tmp_path / "pdfs"
    folder.mkdir()
    for path in batch:
        if path.suffix == ".pdf" and path.stem.startswith(("study", "étude")):
            path.rename(folder / path.name)
    code = ("import sys\n"
            "from cmo_desk.__main__ import main\n"
            f"code = main(['import', {str(project)!r}, {str(folder)!r}])\n"
            "print(code, sorted(m for m in sys.modules if m.startswith(('alembic', 'openpyxl', "
            "'pandas', 'cmo_desk.importers.refi', 'cmo_desk.services.cmoc_import', "
            "'cmo_desk.importers.references', 'cmo_desk.importers.fulltext.containers'))))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                         env={**os.environ, "CMO_DESK_CODER": "Ana"})
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.splitlines()[-1] == "0 []"
    assert "Documents added: 4" in out.stdout


@POSIX_ONLY
def test_a_child_stuck_on_a_file_ends_itself_when_the_importer_is_gone(tmp_path: Path) -> None:
    import subprocess

    stall = tmp_path / "stall.pdf"
    os.mkfifo(stall)
    root = str(Path(sandbox.__file__).resolve().parents[2])
    # An importer that starts reading a file that stalls, then dies without stopping its child.
    importer = (
        "import os, sys, threading, time\n"
        f"sys.path.insert(0, {root!r})\n"
        "from cmo_desk.importers.sandbox import SafeReader\n"
        "reader = SafeReader(time_limit=1)\n"
        f"threading.Thread(target=reader.read, args=({str(stall)!r},), daemon=True).start()\n"
        "while reader._process is None: time.sleep(0.01)\n"
        "time.sleep(0.5)\n"
        "print(reader._process.pid, flush=True)\n"
        "os._exit(9)\n")
    out = subprocess.run([sys.executable, "-c", importer], capture_output=True, text=True, timeout=60)
    assert out.returncode == 9, out.stderr[-2000:]
    child = int(out.stdout.split()[-1])

    def running() -> bool:
        try:
            state = Path(f"/proc/{child}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            return False
        return state != "Z"

    assert running()  # the importer is gone; its child is still stuck on the file
    deadline = time.monotonic() + 1 + reader_child.ORPHAN_GRACE_SECONDS + 10
    while running() and time.monotonic() < deadline:
        time.sleep(0.1)
    if running():
        os.kill(child, 9)
        pytest.fail("the orphaned reading child was still running")


def test_a_child_handed_several_files_answers_for_each_in_turn(batch: list[Path]) -> None:
    expected = [_outcome(lambda p=p: extract_file(p)) for p in batch]
    with SafeReader(time_limit=60) as reader:
        if not reader.isolated:
            pytest.skip("no child process here")
        for path in batch:  # all handed over before the first answer
            reader.send(path)
        assert reader.pending == len(batch)
        got = [_outcome(reader.receive) for _ in batch]
        assert reader.pending == 0
    assert got == expected


@POSIX_ONLY
def test_files_handed_behind_one_that_hangs_are_abandoned_with_its_child(
        tmp_path: Path, batch: list[Path]) -> None:
    stall = tmp_path / "stall.pdf"
    os.mkfifo(stall)
    with SafeReader(time_limit=1) as reader:
        if not reader.isolated:
            pytest.skip("no child process here")
        reader.send(batch[0])
        reader.send(stall)
        reader.send(batch[2])
        assert _outcome(reader.receive) == _outcome(lambda: extract_file(batch[0]))
        started = time.monotonic()
        kind, message = _outcome(reader.receive)
        assert kind == "ImportFailed" and message.startswith("stall.pdf took more than 1 seconds")
        assert time.monotonic() - started < 30
        assert reader.pending == 0  # the file behind it went with the child: hand it again
        assert _outcome(lambda: reader.read(batch[2])) == _outcome(lambda: extract_file(batch[2]))


@POSIX_ONLY
def test_one_child_that_hangs_on_a_file_reads_every_other_file_of_the_batch(
        tmp_path: Path, batch: list[Path]) -> None:
    stall = tmp_path / "stall.pdf"
    os.mkfifo(stall)
    files = [batch[0], stall, *batch[1:]]
    expected = [_outcome(lambda p=p: extract_file(p)) for p in batch]
    with _pool(size=1, time_limit=2) as pool:
        pool.prefetch((p, None) for p in files)
        got = [_outcome(lambda p=p: pool.read(p)) for p in files]
    assert got.pop(1)[1].startswith("stall.pdf took more than 2 seconds")
    assert got == expected


@POSIX_ONLY
@NEEDS_PROC
def test_a_file_handed_to_a_child_that_died_is_not_answered_for_the_one_before(
        tmp_path: Path, batch: list[Path]) -> None:
    import signal

    crash = tmp_path / "crash.pdf"
    os.mkfifo(crash)
    before = _children()
    with SafeReader(time_limit=60) as reader:
        if not reader.isolated:
            pytest.skip("no child process here")
        reader.send(crash)
        (child,) = _children() - before
        waiting = Path(f"/proc/{child}/wchan")
        deadline = time.monotonic() + 10
        while waiting.read_text() != "wait_for_partner" and time.monotonic() < deadline:
            time.sleep(0.05)
        os.kill(child, signal.SIGKILL)
        deadline = time.monotonic() + 10
        while child in _children() and reader._alive() and time.monotonic() < deadline:
            time.sleep(0.05)
        with pytest.raises(ImportFailed):  # no new child takes it behind the dead one's file
            reader.send(batch[0])
        assert reader.pending == 1
        kind, message = _outcome(reader.receive)
        assert kind == "ReaderStopped" and message.startswith("crash.pdf made the reader")
        assert reader.pending == 0
        assert _outcome(lambda: reader.read(batch[0])) == _outcome(lambda: extract_file(batch[0]))


@POSIX_ONLY
def test_the_last_file_is_not_handed_behind_one_that_takes_long(
        tmp_path: Path, batch: list[Path]) -> None:
    slow = tmp_path / "slow.pdf"
    os.mkfifo(slow)  # blocks its child until the pool closes, as a file that takes long to read
    with _pool(size=2, time_limit=60) as pool:
        pool.prefetch([(slow, None), (batch[0], None)])
        started = time.monotonic()
        # the other child, started once the first is seen stuck, reads it
        assert _outcome(lambda: pool.read(batch[0])) == _outcome(lambda: extract_file(batch[0]))
        assert time.monotonic() - started < 30
