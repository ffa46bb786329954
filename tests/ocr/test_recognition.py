"""Scanned pages are read offline, with page boundaries, confidences and excerpts that survive a
second reading. Pages are made by the test: known text drawn into an image-only PDF at 200 dpi."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from cmo_desk.importers import ocr
from cmo_desk.services import coding
from cmo_desk.services.importing import import_paths
from cmo_desk.services.recognition import documents_needing_ocr, recognise_document
from cmo_desk.services.session import Session
from ocr.scanned import (
    CHINESE,
    CJK_FONTS,
    ENGLISH,
    LATIN_FONTS,
    RUSSIAN,
    character_error_rate,
    find_font,
    scanned_pdf,
)


def _need(langs: list[str], fonts: tuple[str, ...]) -> str:
    missing = [code for code in langs if code not in ocr.available_languages()]
    if missing:
        pytest.skip(f"no OCR engine for {'+'.join(missing)} on this machine")
    font = find_font(fonts)
    if font is None:
        pytest.skip("no font to draw the test page with")
    return font


@pytest.mark.parametrize(("lines", "langs", "fonts", "cjk", "limit"), [
    (ENGLISH, ["eng"], LATIN_FONTS, False, 0.02),
    (RUSSIAN, ["rus"], LATIN_FONTS, False, 0.02),
    (CHINESE, ["chi_sim"], CJK_FONTS, True, 0.05),
], ids=["english", "russian", "chinese"])
def test_character_error_rate_within_target(lines: list[str], langs: list[str],
                                            fonts: tuple[str, ...], cjk: bool,
                                            limit: float) -> None:
    pdf = scanned_pdf([lines], _need(langs, fonts))
    result = ocr.recognise_pdf(pdf, "scan.pdf", langs)
    assert character_error_rate("\n".join(lines), result.pages[0], cjk) <= limit
    assert 0.5 < result.confidences[0] <= 1


def _scanned_study(tmp_path: Path, pages: list[list[str]]) -> tuple[Path, str]:
    font = _need(["eng"], LATIN_FONTS)
    pdf = tmp_path / "outreach report.pdf"
    pdf.write_bytes(scanned_pdf(pages, font))
    project = tmp_path / "review.cmo"
    with Session.create(project, coder="Ana") as s:
        summary = import_paths(s, [pdf])
        assert summary.needs_ocr
        (doc,) = documents_needing_ocr(s)
        assert doc.text is not None and not doc.text.strip()
    return project, doc.id


def test_recognised_text_keeps_pages_and_is_marked(tmp_path: Path) -> None:
    project, doc_id = _scanned_study(tmp_path, [ENGLISH[:2], ENGLISH[2:]])
    with Session.open(project, coder="Ana") as s:
        result = recognise_document(s, doc_id, ["eng"])
        doc = s.store.get("document", result.document_id)
        assert s.store.get("document", doc_id) is None  # the empty scan is set aside
        assert doc.page_count == 2 and not doc.needs_ocr
        assert len(doc.ocr_confidence) == 2 and all(c > 0.5 for c in doc.ocr_confidence)
        assert "Tesseract" in doc.extractor or "RapidOCR" in doc.extractor
        assert any("check quotes against the page image" in w for w in doc.warnings)
        second = doc.text[doc.page_starts[1]:]
        assert "evening outreach" in second and "evening outreach" not in doc.text[:doc.page_starts[1]]
        assert [h.study_label for h in s.store.search("outreach")]


def test_excerpts_keep_their_anchors_when_recognised_again(tmp_path: Path) -> None:
    project, doc_id = _scanned_study(tmp_path, [ENGLISH, ENGLISH[::-1]])
    with Session.open(project, coder="Ana") as s:
        first = recognise_document(s, doc_id, ["eng"])
        doc = s.store.get("document", first.document_id)
        quote = "fewer people came"
        # the phrase is on both pages: the coder marks the one on page 2
        start = doc.text.index(quote, doc.page_starts[1])
        code_id, _ = coding.add_code(s, "Police presence", "context")
        eid, _ = coding.add_excerpt(s, doc.id, start, start + len(quote), role="context",
                                    code_ids=[code_id], memo="deterrence")
        cmoc_id, _ = coding.create_cmoc(s, doc.study_id, {"context": "police near the site"})
        coding.link_excerpt(s, cmoc_id, eid, "context")

        again = recognise_document(s, doc.id, ["eng"])
        assert again.moved == 1 and not again.unplaced
        new_doc = s.store.get("document", again.document_id)
        (moved,) = s.store.list("excerpt", document_id=new_doc.id)
        assert new_doc.text[moved.start:moved.end] == quote
        assert moved.page == 2 and moved.memo == "deterrence" and moved.role == "context"
        assert moved.owner_id == s.coder_id
        assert [r["code_id"] for r in s.store.links("excerpt_code", excerpt_id=moved.id)] == [code_id]
        assert [r["slot"] for r in s.store.links("cmoc_excerpt", excerpt_id=moved.id,
                                                  cmoc_id=cmoc_id)] == ["context"]
        assert s.store.links("cmoc_excerpt", excerpt_id=eid) == []
        assert s.store.get("excerpt", eid) is None
        assert s.store.get("document", doc.id) is None


def test_without_an_engine_the_user_is_told_what_to_install(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    project, doc_id = _scanned_study(tmp_path, [ENGLISH])
    monkeypatch.setattr(ocr, "available_languages", lambda: [])
    with Session.open(project, coder="Ana") as s:
        before = s.store.change_count()
        with pytest.raises(ocr.OcrUnavailable, match="tesseract-ocr"):
            recognise_document(s, doc_id)
        assert s.store.change_count() == before


def test_cancelled_recognition_writes_nothing(tmp_path: Path) -> None:
    from cmo_desk.domain.errors import Cancelled

    project, doc_id = _scanned_study(tmp_path, [ENGLISH, ENGLISH])
    with Session.open(project, coder="Ana") as s:
        before = s.store.change_count()
        with pytest.raises(Cancelled):
            recognise_document(s, doc_id, ["eng"], cancel=lambda: True)
        assert s.store.change_count() == before
        assert documents_needing_ocr(s)


def test_command_line_imports_and_recognises(tmp_path: Path) -> None:
    font = _need(["eng"], LATIN_FONTS)
    pdf = tmp_path / "scan.pdf"
    pdf.write_bytes(scanned_pdf([ENGLISH], font))
    project = tmp_path / "review.cmo"
    run = [sys.executable, "-m", "cmo_desk"]
    subprocess.run([*run, "new", str(project), "--coder", "Ana"], check=True,
                   capture_output=True)
    out = subprocess.run([*run, "import", str(project), str(pdf), "--ocr", "--ocr-lang", "eng",
                          "--coder", "Ana"], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert "Recognised 1 page with" in out.stdout
    bad = subprocess.run([*run, "recognise", str(project), "--again", "--ocr-lang", "klingon",
                          "--coder", "Ana"], capture_output=True, text=True)
    assert bad.returncode != 0
    assert bad.stderr.count("\n") == 1 and "Unknown OCR language" in bad.stderr
    assert "Traceback" not in bad.stderr
