"""Feeds crafted files that once froze or flooded the importers (quadratic regexes, huge fields,
absurd sheet sizes and space counts) to them under a 1.5 GB address-space limit; prints
'case|outcome|seconds|detail' lines and the peak resident memory in MiB (run by
test_hostile_files)."""

import io
import json
import resource
import sys
import tempfile
import time
import zipfile
from pathlib import Path

resource.setrlimit(resource.RLIMIT_AS, (1536 * 1024 * 1024, resource.RLIM_INFINITY))

from cmo_desk.domain.errors import ImportFailed  # noqa: E402
from cmo_desk.importers import cmoc_sheet, fulltext, references  # noqa: E402

LETTERS = "a" * 40_000
CHINESE = "同伴支持" * 5_000
BIG = "peer " * 2_000_000  # 10 MB


def docx(text: str) -> bytes:
    import docx as python_docx

    document = python_docx.Document()
    document.add_paragraph(text)
    buf = io.BytesIO()
    document.save(buf)
    return buf.getvalue()


def odt(body: str) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("mimetype", "application/vnd.oasis.opendocument.text")
        z.writestr("content.xml",
                   '<office:document-content xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
                   'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0"><office:body><office:text>'
                   f"<text:p>{body}</text:p></office:text></office:body></office:document-content>")
    return buf.getvalue()


def far_xlsx() -> bytes:
    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    ws["A1"], ws["A2"] = "study", "Banda 2019"
    ws["XFD1048576"] = "x"
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def pdf_with_pages(count: int) -> bytes:
    """A 1 MB PDF whose page tree lists one page object ``count`` times."""
    out = io.BytesIO()
    out.write(b"%PDF-1.4\n")
    offsets = [out.tell()]
    out.write(b"1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n")
    offsets.append(out.tell())
    kids = b" ".join(b"3 0 R" for _ in range(count))
    out.write(b"2 0 obj << /Type /Pages /Kids [" + kids + b"] /Count %d >> endobj\n" % count)
    offsets.append(out.tell())
    out.write(b"3 0 obj << /Type /Page /Parent 2 0 R /MediaBox [0 0 10 10] >> endobj\n")
    xref = out.tell()
    out.write(b"xref\n0 4\n0000000000 65535 f \n" + b"".join(b"%010d 00000 n \n" % o for o in offsets))
    out.write(b"trailer << /Size 4 /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % xref)
    return out.getvalue()


fulltexts = {
    "200,000 pages pdf": (pdf_with_pages(200_000), "a.pdf"),
    "letters txt": (LETTERS.encode(), "a.txt"),
    "chinese txt": (CHINESE.encode(), "a.txt"),
    "letters html": (f"<html><body><p>{LETTERS}</p></body></html>".encode(), "a.html"),
    "letters docx": (docx(LETTERS), "a.docx"),
    "letters odt": (odt(LETTERS), "a.odt"),
    "odt spaces": (odt('peer<text:s text:c="2000000000"/>support'), "a.odt"),
}
refs = {
    "huge ris field": (f"TY  - JOUR\nTI  - {BIG}\nPY  - 2019\nER  - \n".encode(), "r.ris"),
    "huge bibtex field": (("@article{a, title={" + BIG + "}, year={2019}}\n").encode(), "r.bib"),
    "huge csl field": (json.dumps([{"type": "article", "title": BIG}]).encode(), "r.json"),
    "huge medline field": (f"PMID- 1\nTI  - {BIG}\nDP  - 2019\n".encode(), "r.nbib"),
}


def run(name, call):
    start = time.perf_counter()
    try:
        detail = call()
        outcome = "read"
    except ImportFailed:
        outcome, detail = "refused", ""
    print(name, outcome, round(time.perf_counter() - start, 2), detail, sep="|")


for name, (data, filename) in fulltexts.items():
    run(name, lambda: len(fulltext.extract_bytes(data, filename).text))
for name, (data, filename) in refs.items():
    def parse():
        from cmo_desk.importers.dedupe import DuplicateIndex

        parsed = references.parse_references(data, filename)
        index = DuplicateIndex()
        for study in parsed.records:  # what the import does with each record
            index.find(study)
            index.add(study)
        return max(len(s.title or "") for s in parsed.records)
    run(name, parse)
with tempfile.TemporaryDirectory() as folder:
    sheet = Path(folder) / "cmocs.xlsx"
    sheet.write_bytes(far_xlsx())
    run("far cell xlsx", lambda: len(cmoc_sheet.read_cmoc_sheet(sheet)[0]))


def peak_mib() -> int:
    try:
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) // 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024


print("maxrss", peak_mib(), sep="|")
sys.stdout.flush()
