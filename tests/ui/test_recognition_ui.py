"""The desk recognises a scanned study in the background and shows its text."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from cmo_desk.services.demo import CODER_A
from cmo_desk.services.importing import import_paths
from cmo_desk.services.recognition import available_languages
from cmo_desk.services.session import Session
from ocr.scanned import ENGLISH, LATIN_FONTS, find_font, scanned_pdf


def test_recognise_text_from_the_study_menu(open_window: Any, project: Path, tmp_path: Path,
                                            qtbot: Any) -> None:
    font = find_font(LATIN_FONTS)
    if "eng" not in available_languages() or font is None:
        pytest.skip("no English OCR engine or font on this machine")
    pdf = tmp_path / "Outreach report.pdf"
    pdf.write_bytes(scanned_pdf([ENGLISH], font))
    with Session.open(project, coder=CODER_A) as s:
        import_paths(s, [pdf])
    window = open_window(study="Outreach report")
    actions = {a.text(): a for a in window.study_menu(window.study_id).actions() if a.text()}
    action = actions["Recognise text (OCR)…"]
    assert action.isEnabled()
    action.trigger()
    qtbot.waitUntil(lambda: "Recognised 1 page with" in window.statusBar().currentMessage(),
                    timeout=60000)
    assert "evening outreach" in window.doc_view.toPlainText()
    again = {a.text(): a for a in window.study_menu(window.study_id).actions() if a.text()}
    assert again["Recognise text (OCR)…"].isEnabled()  # can be read again, excerpts follow


def test_recognise_text_offered_only_where_there_is_a_scan(open_window: Any) -> None:
    window = open_window(study="Hanoi 2019")
    actions = {a.text(): a for a in window.study_menu(window.study_id).actions() if a.text()}
    assert not actions["Recognise text (OCR)…"].isEnabled()
