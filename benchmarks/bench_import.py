"""Import speed: PDF text extraction (pages/s over the corpus PDFs), a 1,000-record BibTeX file,
and a 50 MB RIS export (70,000 records) read in one pass.

Run from the repository root: ``.venv/bin/python benchmarks/bench_import.py`` (add ``--full`` to
also import the 50 MB RIS into a new project, which takes minutes).
Targets: at least 100 pages/s; the BibTeX file parsed in at most 2 s; the 50 MB RIS parsed with a
peak of at most 300 MB. Each RIS figure is printed beside its floor, measured in the same run: the
same file read and decoded to text, and nothing else.
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from cmo_desk.importers.dedupe import dedupe  # noqa: E402
from cmo_desk.importers.fulltext import extract_file  # noqa: E402
from cmo_desk.importers.references import parse_references  # noqa: E402

CORPUS = ROOT / ".." / "shared" / "corpus"
ROUNDS = 5


def bench_pdfs() -> None:
    pdfs = sorted((CORPUS / "pdf").glob("*.pdf"))
    if not pdfs:
        print("PDF extraction: corpus not found, skipped")
        return
    extract_file(pdfs[0])  # load the PDF engine outside the timing
    times = []
    pages = 0
    for _ in range(ROUNDS):
        start = time.perf_counter()
        pages = sum(len(extract_file(p).page_starts) for p in pdfs)
        times.append(time.perf_counter() - start)
    median = statistics.median(times)
    print(f"PDF extraction: {len(pdfs)} files, {pages} pages, median {median:.3f} s -> {pages / median:.0f} pages/s (target >= 100)")


def make_bibtex(count: int) -> bytes:
    entries = []
    for i in range(count):
        entries.append(
            f"@article{{key{i},\n"
            f"  author = {{M{{\\\"u}}ller, J{{\\\"o}}rg and Durand, {{\\'E}}mile and Author{i}, A. and {{World Health Organization}}}},\n"
            f"  title = {{{{Realist}} evaluation of na\\\"{{\\i}}ve peer support --- study {i}}},\n"
            f"  journal = {{Soc. Sci. Med.}},\n  year = {{{2000 + i % 25}}},\n  volume = {{{i % 300}}},\n"
            f"  pages = {{{i}--{i + 9}}},\n  doi = {{10.1000/bench.{i}}},\n"
            f"  abstract = {{Context matters: {'words ' * 40}}}\n}}\n"
        )
    return "\n".join(entries).encode("utf-8")


def bench_bibtex() -> None:
    data = make_bibtex(1000)
    times = []
    for _ in range(ROUNDS):
        start = time.perf_counter()
        parsed = parse_references(data, "bench.bib")
        dedupe(parsed.records)
        times.append(time.perf_counter() - start)
    assert len(parsed.records) == 1000
    print(f"BibTeX 1,000 records (parse + label + dedupe): median {statistics.median(times):.3f} s (target <= 2 s)")


RIS_RECORDS = 70_000

_RIS_CHILD = r"""
import sys, time
sys.path.insert(0, sys.argv[1])
start = time.perf_counter()
if sys.argv[3] == "floor":
    from cmo_desk.importers.fulltext import decode_text
    data = open(sys.argv[2], "rb").read()
    text, _ = decode_text(data, "big.ris")
    del data
    records = text.count("ER  -")
elif sys.argv[3] == "parse":
    from cmo_desk.importers.references import parse_references
    records = len(parse_references(sys.argv[2]).records)
else:
    import os, tempfile
    from cmo_desk.services.importing import import_paths
    from cmo_desk.services.projects import new_project
    session = new_project(os.path.join(tempfile.mkdtemp(), "r.cmo"), coder="Bench")
    records = import_paths(session, [sys.argv[2]]).studies_added
    session.close()
seconds = time.perf_counter() - start
peak = next(int(line.split()[1]) // 1024 for line in open("/proc/self/status") if line.startswith("VmHWM"))
print(records, round(seconds, 1), peak)
"""


def make_ris(path: Path, count: int) -> None:
    with open(path, "w", encoding="utf-8") as fh:
        for i in range(count):
            fh.write(
                f"TY  - JOUR\nAU  - Banda, Chisomo{i}\nAU  - Phiri, Mercy\nAU  - Mwale, Tiwonge\n"
                f"TI  - Peer-led harm reduction services for people who inject drugs, study {i}\n"
                f"PY  - {1990 + i % 35}\nJO  - Harm Reduction Journal\nVL  - {i % 40}\nIS  - {i % 12}\n"
                f"SP  - {i % 900}\nEP  - {i % 900 + 9}\nDO  - 10.1186/s12954-{i:07d}\nKW  - peer support\n"
                f"KW  - harm reduction\nAB  - Background: {'Peer workers in Lilongwe and Blantyre described trust and stigma. ' * 5}\n"
                f"ER  - \n\n"
            )


def bench_big_ris(full: bool) -> None:
    import subprocess
    import tempfile

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "big.ris"
        make_ris(path, RIS_RECORDS)
        size = path.stat().st_size / 1e6

        def run(mode: str) -> tuple[int, float, int]:
            out = subprocess.run([sys.executable, "-c", _RIS_CHILD, str(ROOT), str(path), mode],
                                 capture_output=True, text=True)
            if out.returncode != 0:
                raise SystemExit(f"RIS {mode} run failed: {out.stderr.strip().splitlines()[-1:]}")
            records, seconds, peak = out.stdout.split()
            return int(records), float(seconds), int(peak)

        floor = run("floor")
        parsed = run("parse")
        assert parsed[0] == floor[0] == RIS_RECORDS, (floor, parsed)
        print(f"RIS {size:.0f} MB, {RIS_RECORDS:,} records, parse: {parsed[1]:.1f} s, peak {parsed[2]} MB "
              f"(floor: read + decode {floor[1]:.1f} s, peak {floor[2]} MB; target peak <= 300 MB)")
        if full:
            imported = run("import")
            print(f"RIS {size:.0f} MB import into a new project: {imported[0]:,} studies, {imported[1]:.0f} s, "
                  f"peak {imported[2]} MB (floor: parse above; target peak <= 300 MB)")


if __name__ == "__main__":
    bench_pdfs()
    bench_bibtex()
    bench_big_ris(full="--full" in sys.argv)
