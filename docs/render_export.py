"""Render exported Word files to PNG pages through LibreOffice, to look at them as a reader would.

    python docs/render_export.py evidence.docx [more.docx ...] [-o OUTDIR] [--dpi 70] [--pages 2]

Needs ``libreoffice`` (or ``soffice``) and ``pdftoppm`` (poppler-utils) on PATH; without them it says
so and exits 0, so it is safe to run anywhere. Writes OUTDIR/<name>-<page>.png.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path


def render(docx: Path, out_dir: Path, dpi: int, pages: int, office: str, pdftoppm: str) -> list[Path]:
    with tempfile.TemporaryDirectory() as work:
        # A private profile keeps the run independent of (and from blocking) a desktop LibreOffice.
        profile = Path(work, "profile").as_uri()
        subprocess.run(
            [office, f"-env:UserInstallation={profile}", "--headless", "--convert-to", "pdf",
             "--outdir", work, str(docx)],
            check=True, capture_output=True, timeout=300,
        )
        pdf = Path(work, docx.stem + ".pdf")
        if not pdf.exists():
            raise RuntimeError(f"LibreOffice did not convert {docx}")
        prefix = out_dir / docx.stem
        args = [pdftoppm, "-png", "-r", str(dpi)]
        if pages > 0:
            args += ["-f", "1", "-l", str(pages)]
        subprocess.run([*args, str(pdf), str(prefix)], check=True, capture_output=True, timeout=300)
    return sorted(out_dir.glob(f"{docx.stem}-*.png"))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("docx", nargs="+", type=Path)
    parser.add_argument("-o", "--out", type=Path, default=Path("docs"))
    parser.add_argument("--dpi", type=int, default=70)
    parser.add_argument("--pages", type=int, default=2, help="pages to render per file; 0 = all")
    args = parser.parse_args(argv)
    office = shutil.which("libreoffice") or shutil.which("soffice")
    pdftoppm = shutil.which("pdftoppm")
    if not office or not pdftoppm:
        print("LibreOffice and pdftoppm are needed to render pages "
              "(e.g. apt-get install libreoffice-writer poppler-utils); nothing rendered.")
        return 0
    args.out.mkdir(parents=True, exist_ok=True)
    status = 0
    for docx in args.docx:
        if not docx.is_file():
            print(f"{docx}: no such file; export it first.", file=sys.stderr)
            status = 1
            continue
        for png in render(docx.resolve(), args.out, args.dpi, args.pages, office, pdftoppm):
            print(png)
    return status


if __name__ == "__main__":
    sys.exit(main())
