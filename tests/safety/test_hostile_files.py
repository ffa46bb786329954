"""Hostile and broken files: every importer ends in success or ImportFailed, quickly, in bounded
memory, and nothing reaches the project when it fails."""

from __future__ import annotations

import io
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cmo_desk.domain.errors import ImportFailed
from cmo_desk.importers import fulltext, references
from pdf_builder import pdf_from_objects, zero_stream_pdf

FUZZ = settings(max_examples=50, deadline=3000, derandomize=True,
                suppress_health_check=[HealthCheck.function_scoped_fixture,
                                       HealthCheck.too_slow])


def _pdf(text: str = "Peer workers were trusted by clients.") -> bytes:
    """A small valid PDF written by hand (one page, one line of text)."""
    stream = f"BT /F1 12 Tf 72 720 Td ({text}) Tj ET".encode("latin-1")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    return pdf_from_objects(objects)


def _docx() -> bytes:
    import docx

    document = docx.Document()
    document.add_paragraph("Clients trusted peers who had injected drugs themselves.")
    table = document.add_table(rows=2, cols=2)
    table.cell(0, 0).text = "NSP contacts"
    buf = io.BytesIO()
    document.save(buf)
    return buf.getvalue()


PDF = _pdf()
DOCX = _docx()
RIS = (b"TY  - JOUR\nAU  - Booth, Robert E.\nTI  - Peer outreach and HIV risk\nPY  - 2016\n"
       b"JO  - AIDS Care\nER  - \n\nTY  - JOUR\nAU  - Nguyen, Lan\nTI  - Trust\nPY  - 2019\nER  - \n")
BIB = (b"@article{booth2016, author = {Booth, Robert E. and Lehman, W.}, title = {Peer "
       b"outreach}, journal = {AIDS Care}, year = {2016}}\n@book{x, title={{N}ested {\\\"u}}, "
       b"year=2001}\n")
ENDNOTE = (b'<?xml version="1.0" encoding="UTF-8"?><xml><records><record><ref-type name="Journal'
           b' Article">17</ref-type><contributors><authors><author>Booth, R</author></authors>'
           b'</contributors><titles><title>Peer outreach</title></titles><dates><year>2016</year>'
           b'</dates></record></records></xml>')


def test_fixtures_are_readable() -> None:
    assert "trusted" in fulltext.extract_bytes(PDF, "a.pdf").text
    assert "trusted" in fulltext.extract_bytes(DOCX, "a.docx").text
    for data, name in ((RIS, "r.ris"), (BIB, "r.bib"), (ENDNOTE, "r.xml")):
        assert references.parse_references(data, name).records


def _ends_cleanly(call) -> None:
    try:
        call()
    except ImportFailed as err:
        assert str(err).strip() and "Traceback" not in str(err)


def _mutate(data: bytes, cut: int, flips: list[tuple[int, int]]) -> bytes:
    out = bytearray(data[: max(1, cut % (len(data) + 1))])
    for pos, value in flips:
        if out:
            out[pos % len(out)] = value
    return bytes(out)


MUTATIONS = dict(cut=st.integers(0, 10**7),
                 flips=st.lists(st.tuples(st.integers(0, 10**7), st.integers(0, 255)),
                                max_size=8))


@FUZZ
@given(**MUTATIONS)
def test_truncated_or_damaged_pdf(cut: int, flips: list[tuple[int, int]]) -> None:
    _ends_cleanly(lambda: fulltext.extract_bytes(_mutate(PDF, cut, flips), "study.pdf"))


@FUZZ
@given(**MUTATIONS)
def test_truncated_or_damaged_docx(cut: int, flips: list[tuple[int, int]]) -> None:
    _ends_cleanly(lambda: fulltext.extract_bytes(_mutate(DOCX, cut, flips), "study.docx"))


@FUZZ
@given(which=st.sampled_from([(RIS, "refs.ris"), (BIB, "refs.bib"), (ENDNOTE, "refs.xml")]),
       **MUTATIONS)
def test_damaged_reference_files(which: tuple[bytes, str], cut: int,
                                 flips: list[tuple[int, int]]) -> None:
    data, name = which
    _ends_cleanly(lambda: references.parse_references(_mutate(data, cut, flips), name))


@FUZZ
@given(data=st.binary(max_size=4096),
       name=st.sampled_from(["x.pdf", "x.docx", "x.odt", "x.txt", "x.html"]))
def test_random_bytes_as_full_text(data: bytes, name: str) -> None:
    _ends_cleanly(lambda: fulltext.extract_bytes(data, name))


@FUZZ
@given(data=st.binary(max_size=4096),
       name=st.sampled_from(["x.ris", "x.bib", "x.xml", "x.nbib", "x.json", "x.txt"]))
def test_random_bytes_as_references(data: bytes, name: str) -> None:
    _ends_cleanly(lambda: references.parse_references(data, name))


def test_truncated_pdf_file_on_disk(tmp_path: Path) -> None:
    for cut in (10, len(PDF) // 3, len(PDF) - 20):
        path = tmp_path / f"cut{cut}.pdf"
        path.write_bytes(PDF[:cut])
        _ends_cleanly(lambda: fulltext.extract_file(path))


BOMB_PROBE = Path(__file__).with_name("bomb_probe.py")


@pytest.mark.skipif(sys.platform == "win32", reason="resource limits are POSIX")
def test_zip_and_xml_bombs_are_refused_in_bounded_time_and_memory() -> None:
    out = subprocess.run([sys.executable, str(BOMB_PROBE)], capture_output=True, text=True,
                         timeout=300)
    assert out.returncode == 0, out.stdout + out.stderr[-2000:]
    rows = dict((line.split("|")[0], line.split("|")[1:]) for line in out.stdout.splitlines())
    assert rows["zip bomb"][0] == "refused"
    assert rows["ratio bomb"][0] == "refused"
    assert rows["lying header"][0] == "refused"
    assert rows["billion laughs"][0] == "refused" or "lol" not in rows["billion laughs"][0]
    assert rows["external entity"][0] == "refused" or "root:" not in rows["external entity"][0]
    assert rows["endnote bomb"][0] == "refused"
    for name in ("zip bomb", "ratio bomb", "lying header", "billion laughs", "external entity", "endnote bomb"):
        assert float(rows[name][1]) < 15, (name, rows[name])  # generous: CI machines are busy
    assert int(rows["maxrss"][0]) < 250, rows


def test_failed_import_writes_nothing(demo_path: Path, tmp_path: Path) -> None:
    from cmo_desk.services import importing
    from cmo_desk.services.session import Session

    bad = tmp_path / "broken.pdf"
    bad.write_bytes(PDF[: len(PDF) // 2])
    empty = tmp_path / "empty.ris"
    empty.write_bytes(b"")
    with Session.open(demo_path, coder="Ana") as s:
        before = s.store.dump_json()
        changes = s.store.change_count()
        for given in ([bad], [bad, empty]):
            with pytest.raises(ImportFailed) as failed:
                importing.import_paths(s, given)
            assert "broken.pdf" in str(failed.value) or "empty.ris" in str(failed.value)
            assert s.store.change_count() == changes and s.store.dump_json() == before


HOSTILE_PROBE = Path(__file__).with_name("hostile_probe.py")


@pytest.mark.skipif(sys.platform == "win32", reason="resource limits are POSIX")
def test_crafted_runs_fields_sheets_and_spaces_end_in_seconds_and_bounded_memory() -> None:
    out = subprocess.run([sys.executable, str(HOSTILE_PROBE)], capture_output=True, text=True,
                         timeout=300)
    assert out.returncode == 0, out.stdout + out.stderr[-2000:]
    rows = {line.split("|")[0]: line.split("|")[1:] for line in out.stdout.splitlines()}
    for name in ("letters txt", "chinese txt", "letters html", "letters docx", "letters odt"):
        assert rows[name][0] == "read" and int(rows[name][2]) >= 20_000, rows[name]
    # Two thousand million spaces asked for, a handful given.
    assert rows["odt spaces"][0] == "read" and int(rows["odt spaces"][2]) < 1000
    for name in ("huge ris field", "huge bibtex field", "huge csl field", "huge medline field"):
        assert rows[name][0] == "read" and int(rows[name][2]) <= 4001, rows[name]
    assert rows["far cell xlsx"][0] == "refused"
    assert rows["200,000 pages pdf"][0] == "refused"
    for name, row in rows.items():
        if name != "maxrss":
            assert float(row[1]) < 15, (name, row)  # generous: CI machines are busy
    assert int(rows["maxrss"][0]) < 600, rows


def _xlsx() -> bytes:
    import openpyxl

    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(["study", "context", "mechanism_reasoning", "outcome", "quote", "page"])
    sheet.append(["Banda 2019", "rural clinics", "felt understood", "stayed in care", "We felt seen", 4])
    sheet.append(["Phiri 2020", "prison release", "trusted peers", "attended", None, "p. 2"])
    buf = io.BytesIO()
    workbook.save(buf)
    return buf.getvalue()


XLSX = _xlsx()


@FUZZ
@given(**MUTATIONS)
def test_damaged_cmoc_spreadsheets_end_in_a_message(tmp_path_factory, cut: int,
                                                    flips: list[tuple[int, int]]) -> None:
    from cmo_desk.importers.cmoc_sheet import read_cmoc_sheet

    path = tmp_path_factory.mktemp("sheet") / "cmocs.xlsx"
    path.write_bytes(_mutate(XLSX, cut, flips))
    _ends_cleanly(lambda: read_cmoc_sheet(path))


def test_damaged_sheet_xml_inside_a_sound_zip_ends_in_a_message(tmp_path: Path) -> None:
    from cmo_desk.importers.cmoc_sheet import read_cmoc_sheet

    source = zipfile.ZipFile(io.BytesIO(XLSX))
    for damage in (b"<row r=", b"<c r=\"A2\" t=\"n\"><v>not a number</v></c>", b"\x00\x01"):
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w") as out:
            for item in source.infolist():
                data = source.read(item)
                if item.filename == "xl/worksheets/sheet1.xml":
                    data = data.replace(b"</sheetData>", damage + b"</sheetData>")
                out.writestr(item.filename, data)
        path = tmp_path / "damaged.xlsx"
        path.write_bytes(buf.getvalue())
        _ends_cleanly(lambda: read_cmoc_sheet(path))


@pytest.mark.skipif(sys.platform == "win32", reason="resource limits are POSIX")
def test_a_pdf_that_inflates_past_the_memory_limit_is_refused_and_the_next_file_reads(tmp_path: Path) -> None:
    from cmo_desk.importers.sandbox import SafeReader

    bomb = tmp_path / "bomb.pdf"
    bomb.write_bytes(zero_stream_pdf(400))
    good = tmp_path / "good.pdf"
    good.write_bytes(PDF)
    with SafeReader(memory_limit=300 * 1024 * 1024, time_limit=60) as reader:
        with pytest.raises(ImportFailed, match="out of memory"):
            reader.read(bomb)
        assert "trusted" in reader.read(good).text


@pytest.mark.slow
@pytest.mark.skipif(sys.platform == "win32", reason="resource limits are POSIX")
def test_a_one_gigabyte_zero_stream_is_not_imported_and_the_rest_is(tmp_path: Path) -> None:
    from cmo_desk.services.projects import new_project
    from cmo_desk.services.importing import import_paths

    (tmp_path / "bomb.pdf").write_bytes(zero_stream_pdf(1024))
    (tmp_path / "good.pdf").write_bytes(PDF)
    session = new_project(tmp_path / "r.cmo", coder="Ana")
    try:
        summary = import_paths(session, [tmp_path / "bomb.pdf", tmp_path / "good.pdf"])
        assert summary.documents_added == 1 and list(summary.errors) == [str(tmp_path / "bomb.pdf")]
        assert "memory" in summary.errors[str(tmp_path / "bomb.pdf")]
    finally:
        session.close()


def test_a_reader_that_stalls_is_stopped(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from cmo_desk.importers import sandbox

    reader = sandbox.SafeReader(time_limit=1)
    if not reader.isolated:
        pytest.skip("no child process here")
    # A FIFO never delivers its bytes: the child blocks reading it, as on a file made to stall.
    fifo = tmp_path / "stall.txt"
    import os

    os.mkfifo(fifo)
    with reader, pytest.raises(ImportFailed, match="more than 1 seconds"):
        reader.read(fifo)
