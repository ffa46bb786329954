"""PDF text reads as paragraphs: lines the layout broke inside a sentence are joined, headings set
in spaced capitals are closed up, and page boundaries and offsets stay consistent."""

from __future__ import annotations

from pdf_builder import build_pdf

from cmo_desk.domain.records import Document
from cmo_desk.importers.fulltext import extract_bytes
from cmo_desk.importers.textnorm import join_letter_spacing, reflow


def test_wrapped_lines_join_and_sentences_keep_their_breaks():
    text = ("Peer workers said they had control over their\nstaff and their time.\n"
            "Results\nClinics in Lilongwe, Blantyre and\nZomba took part.\n同伴支持\n和美沙酮")
    assert reflow(text) == ("Peer workers said they had control over their staff and their time.\n"
                            "Results\nClinics in Lilongwe, Blantyre and\nZomba took part.\n同伴支持\n和美沙酮")
    assert len(reflow(text)) == len(text)  # only breaks change, never the words


def test_spaced_capitals_close_up_only_for_heading_words():
    assert join_letter_spacing("R E S EAR CH Open Access") == "RESEARCH Open Access"
    assert join_letter_spacing("O R I G I N A L A R T I C L E") == "ORIGINAL ARTICLE"
    assert join_letter_spacing("WHO U N AIDS report") == "WHO U N AIDS report"


def test_pdf_pages_reflow_and_keep_their_boundaries():
    data = build_pdf([
        ["R E S EAR CH Open Access", "Peer workers said they had control over their",
         "staff and their time."],
        ["Results", "Clients trusted outreach workers who had", "injected drugs themselves."],
    ])
    result = extract_bytes(data, "study.pdf")
    assert "RESEARCH Open Access" in result.text
    assert "control over their staff and their time." in result.text
    doc = Document(id="d", text=result.text, page_starts=result.page_starts)
    assert result.text[result.page_starts[1]:].startswith("Results")
    assert doc.page_at(result.text.index("who had injected")) == 2
    assert doc.page_at(result.text.index("their staff")) == 1
