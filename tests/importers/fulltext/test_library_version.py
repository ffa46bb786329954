"""The extractor's name carries the library's installed version, read beside the library without
loading importlib.metadata in a reading child."""

from __future__ import annotations

import os
import subprocess
import sys
from importlib.metadata import version
from pathlib import Path

import pypdfium2  # noqa: F401  (loaded, as in a reading child)
import lxml  # noqa: F401

from cmo_desk.importers.fulltext.extracted import _version_beside_module, library_version

from pdf_builder import make_pdf

ROOT = Path(__file__).resolve().parents[3]


def test_the_version_is_the_installed_one() -> None:
    for name in ("pypdfium2", "lxml"):
        assert _version_beside_module(name) == version(name)
        assert library_version(name) == version(name)
    assert library_version("no-such-library-here") == "?"


def test_reading_a_pdf_loads_no_metadata_library(tmp_path: Path) -> None:
    pdf = tmp_path / "study.pdf"
    pdf.write_bytes(make_pdf([["Peer outreach and trust", "Clients trusted the workers."]]))
    code = ("import sys\n"
            "from cmo_desk.importers.reader_child import extract_here\n"
            f"text = extract_here({str(pdf)!r}, None)\n"
            "print(text.extractor, 'importlib.metadata' in sys.modules)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60,
                         env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.split() == ["pypdfium2", version("pypdfium2"), "False"]
