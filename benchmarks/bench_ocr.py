"""Text recognition (OCR) of scanned pages: accuracy, speed and memory.

Run from the repository root: ``.venv/bin/python benchmarks/bench_ocr.py [PAGES]``.
Pages are made here: known English, Russian and Chinese text drawn into image-only PDFs at 200 dpi.
Floor: the ``tesseract`` program run by hand on the same page images (no PDF, no project).
Targets: character error rate <= 2 % (English, Russian), <= 5 % (Chinese); peak memory <= 1 GB.
"""

from __future__ import annotations

import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from cmo_desk.importers import ocr  # noqa: E402
from ocr.scanned import (  # noqa: E402
    CHINESE,
    CJK_FONTS,
    ENGLISH,
    LATIN_FONTS,
    RUSSIAN,
    character_error_rate,
    find_font,
    scanned_pdf,
)

CASES = [("English", ENGLISH, ["eng"], LATIN_FONTS, False, 0.02),
         ("Russian", RUSSIAN, ["rus"], LATIN_FONTS, False, 0.02),
         ("Chinese", CHINESE, ["chi_sim"], CJK_FONTS, True, 0.05)]


def floor_seconds(pdf: bytes, langs: list[str]) -> float:
    """Bare tesseract on the already-rendered page images."""
    import pypdfium2 as pdfium

    program = ocr.tesseract_program()
    if not program:
        return float("nan")
    with tempfile.TemporaryDirectory() as tmp:
        doc = pdfium.PdfDocument(pdf)
        paths = []
        for i in range(len(doc)):
            image = ocr._GreyImage.from_bitmap(doc[i].render(scale=ocr.RENDER_DPI / 72,
                                                             grayscale=True))
            path = Path(tmp) / f"p{i}.pgm"
            image.save_pgm(path)
            paths.append(path)
        start = time.perf_counter()
        for path in paths:
            subprocess.run([program, str(path), "stdout", "-l", "+".join(langs), "tsv"],
                           capture_output=True, check=True,
                           env={**os.environ, "OMP_THREAD_LIMIT": "1"})
        return time.perf_counter() - start


def main() -> None:
    pages = int(sys.argv[1]) if len(sys.argv) > 1 else 5
    available = ocr.available_languages()
    print(f"OCR engines: tesseract {ocr.tesseract_version() or 'absent'}, "
          f"rapidocr {'present' if ocr.rapidocr_available() else 'absent'}; "
          f"languages {', '.join(available) or 'none'}")
    for name, lines, langs, fonts, cjk, target in CASES:
        font = find_font(fonts)
        if font is None or not set(langs) <= set(available):
            print(f"{name}: skipped (no font or no {langs[0]} model)")
            continue
        pdf = scanned_pdf([lines] * pages, font)
        start = time.perf_counter()
        result = ocr.recognise_pdf(pdf, "bench.pdf", langs)
        took = time.perf_counter() - start
        floor = floor_seconds(pdf, langs)
        cer = max(character_error_rate("\n".join(lines), page, cjk) for page in result.pages)
        print(f"{name}: {pages} pages in {took:.1f} s = {60 * pages / took:.0f} pages/min "
              f"(floor: bare tesseract {60 * pages / floor:.0f} pages/min, "
              f"{took / floor:.2f}x); worst-page CER {cer:.2%} (target <= {target:.0%})")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    child = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(f"Peak memory: this process {peak:.0f} MiB, largest engine process {child:.0f} MiB "
          f"(target <= 1024 MiB)")


if __name__ == "__main__":
    main()
