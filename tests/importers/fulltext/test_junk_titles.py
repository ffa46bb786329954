"""A study made from a PDF whose metadata and first line are boilerplate takes its title from the
first page's largest text, not from "Hindawi Publishing Corporation" or "6489122611071476 1..10"."""

from __future__ import annotations

import ctypes
import io

from cmo_desk.importers.fulltext import extract_bytes, looks_like_junk_title
from cmo_desk.importers.linking import title_from_file


def _pdf(lines: list[tuple[str, float]]) -> bytes:
    """One page of Helvetica lines, each (text, font size), top to bottom."""
    import pypdfium2 as pdfium
    import pypdfium2.raw as raw

    pdf = pdfium.PdfDocument.new()
    page = pdf.new_page(595, 842)
    y = 800.0
    for text, size in lines:
        obj = raw.FPDFPageObj_NewTextObj(pdf.raw, b"Helvetica", ctypes.c_float(size))
        encoded = (text + "\x00").encode("utf-16-le")
        buffer = ctypes.create_string_buffer(encoded)
        raw.FPDFText_SetText(obj, ctypes.cast(buffer, ctypes.POINTER(raw.FPDF_WCHAR)))
        raw.FPDFPageObj_Transform(obj, 1, 0, 0, 1, 50, y)
        raw.FPDFPage_InsertObject(page.raw, obj)
        y -= size * 1.6
    raw.FPDFPage_GenerateContent(page.raw)
    out = io.BytesIO()
    pdf.save(out)
    return out.getvalue()


def test_boilerplate_is_junk_and_titles_are_not():
    for junk in ("Hindawi Publishing Corporation", "6489122611071476 1..10", "Research Article",
                 "arXiv:2004.04906v3 [cs.CL] 30 Sep 2020", "R EVI EW Open Access", "123"):
        assert looks_like_junk_title(junk), junk
    for title in ("Patient experiences of structured heart failure programmes",
                  "同伴支持与美沙酮维持治疗", "Peer work in 2020: a review"):
        assert not looks_like_junk_title(title), title


def test_the_largest_text_is_the_title_when_the_top_line_is_boilerplate():
    data = _pdf([
        ("Hindawi Publishing Corporation", 8),
        ("Rehabilitation Research and Practice, Volume 2010", 8),
        ("Research Article", 17),
        ("Patient Experiences of Structured Heart", 17),
        ("Failure Programmes in Malawi", 17),
        ("Nuala E. Tully and Karen M. Morgan", 11),
        ("Heart failure programmes were studied in eight clinics.", 10),
    ])
    extracted = extract_bytes(data, "6489122611071476.pdf")
    assert extracted.title == "Patient Experiences of Structured Heart Failure Programmes in Malawi"
    assert title_from_file("6489122611071476.pdf", extracted) == extracted.title


def test_a_good_first_line_is_kept():
    data = _pdf([("Peer navigation for people leaving prison", 11), ("Journal of Things", 20),
                 ("Body text follows here in small type.", 9)])
    extracted = extract_bytes(data, "x.pdf")
    assert extracted.title is None
    assert title_from_file("x.pdf", extracted) == "Peer navigation for people leaving prison"
