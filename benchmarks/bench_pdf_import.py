"""PDF import end to end through the command line, beside a bare pypdfium2 loop in the same run.

    python benchmarks/bench_pdf_import.py [--rounds 3]

Generated PDFs (tests/pdf_builder.py; no corpus file is read or written): about 100 pages in 12
files, and 520 pages in 40 files. The figure is ``cmo-desk import PROJECT FOLDER`` on a fresh empty
project, from starting the process to its exit. The floor is a bare Python process that opens each
file with pypdfium2 and takes every page's text, and nothing else. Targets: at most 2x the floor
for ~100 pages, at most 1.3x for 500 pages or more. Children run from compiled bytecode kept in a
temporary cache (as an installed copy does), rounds interleaved (floor, then figure).

A last line, for reference, times a process that only loads what every import loads before it
can write (the import service and the project store): the part of the figure no reading, however
fast or early, can hide.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from pdf_builder import build_pdf  # noqa: E402

WORDS = ("peer outreach workers clients trust police registration clinic stigma harm reduction "
         "needle syringe programme naloxone overdose methadone treatment testing hepatitis "
         "community network accompaniment navigation lived experience commitment empathy "
         "funding donor transition employment stipend supervision training women young people "
         "prison detention criminalisation access uptake acceptability quality risk").split()

FLOOR = """
import sys
import pypdfium2 as pdfium
pages = 0
for name in sys.argv[1:]:
    pdf = pdfium.PdfDocument(name)
    for i in range(len(pdf)):
        page = pdf[i]
        textpage = page.get_textpage()
        textpage.get_text_range()
        textpage.close()
        page.close()
        pages += 1
    pdf.close()
print(pages)
"""


LOADING = "import cmo_desk.services.importing, cmo_desk.store.project_store"


def make_pdfs(folder: Path, files: int, pages_each: int, seed: int) -> int:
    """``files`` PDFs of ``pages_each`` pages, each page 45 lines of about 90 characters."""
    rnd = random.Random(seed)
    folder.mkdir(parents=True)
    for f in range(files):
        pages = [[" ".join(rnd.choice(WORDS) for _ in range(13))[:95] for _ in range(45)]
                 for _ in range(pages_each)]
        title = f"Study {f + 1}: peer work and {rnd.choice(WORDS)}"
        (folder / f"study-{f + 1:03d}.pdf").write_bytes(build_pdf(pages, title=title))
    return files * pages_each


def timed(cmd: list[str], env: dict[str, str]) -> tuple[float, str]:
    start = time.perf_counter()
    out = subprocess.run(cmd, env=env, capture_output=True, text=True)
    wall = time.perf_counter() - start
    if out.returncode != 0:
        raise RuntimeError(f"{cmd[:4]} failed: {out.stderr[-800:]}")
    return wall, out.stdout


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="cmo-bench-pdf-"))
    env = {**os.environ, "CMO_DESK_CONFIG_DIR": str(work / "cfg"), "XDG_DATA_HOME": str(work),
           "CMO_DESK_CODER": "Lan Nguyen", "PYTHONPYCACHEPREFIX": str(work / "pyc"),
           "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    py = sys.executable
    loads: list[float] = []
    print(f"PDF import end to end, median of {args.rounds} interleaved rounds "
          f"({os.cpu_count()} cores, load {os.getloadavg()[0]:.1f}, Python {sys.version.split()[0]})")
    try:
        for label, files, pages_each, target in (("~100 pages", 12, 8, 2.0),
                                                  ("500+ pages", 40, 13, 1.3)):
            folder = work / f"pdfs-{files}"
            pages = make_pdfs(folder, files, pages_each, seed=files)
            names = sorted(str(p) for p in folder.glob("*.pdf"))
            empty = work / f"empty-{files}.cmo"
            timed([py, "-m", "cmo_desk", "new", str(empty), "--no-codebook"], env)
            floors, walls = [], []
            for r in range(args.rounds + 1):  # the first round warms the caches, not counted
                floor, out = timed([py, "-c", FLOOR, *names], env)
                assert int(out.strip()) == pages, out
                loading, _ = timed([py, "-c", LOADING], env)
                project = work / f"p-{files}-{r}.cmo"
                shutil.copy2(empty, project)
                wall, out = timed([py, "-m", "cmo_desk", "import", str(project), str(folder),
                                   "--json"], env)
                if r:
                    floors.append(floor)
                    walls.append(wall)
                    loads.append(loading)
            floor, wall = statistics.median(floors), statistics.median(walls)
            ratio = wall / floor
            print(f"import {files} PDFs, {pages} pages ({label:<10})  {wall:6.2f} s  "
                  f"floor {floor:5.2f} s  = {ratio:4.2f}x  target <= {target:g}x  "
                  f"{'ok' if ratio <= target else 'OVER'}   "
                  f"({pages / wall:.0f} pages/s; floor {pages / floor:.0f})")
        print(f"(loading the import service and the store alone: {statistics.median(loads):.2f} s)")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
