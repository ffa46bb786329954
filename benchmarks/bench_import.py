"""Import speed: PDF text extraction (pages/s over the corpus PDFs) and a 1,000-record BibTeX file.

Run from the repository root: ``.venv/bin/python benchmarks/bench_import.py``.
Targets: at least 100 pages/s; the BibTeX file parsed in at most 2 s.
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


if __name__ == "__main__":
    bench_pdfs()
    bench_bibtex()
