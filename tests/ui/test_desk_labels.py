"""The desk finds a study by its label as the command line does (``--study``)."""

from __future__ import annotations

from typing import Any

from cmo_desk.services import coding


def test_a_label_typed_loosely_opens_its_study(open_window: Any) -> None:
    window = open_window(study=None)
    assert window.open_study_by_label("  hanoi   2019 ")
    assert window.study_title.text() and window.study_id == next(
        s.id for s in window.session.store.list("study") if s.label == "Hanoi 2019")


def test_a_label_two_studies_share_opens_neither_and_says_why(open_window: Any) -> None:
    window = open_window(study=None)
    coding.add_study(window.session, {"label": "HANOI 2019", "title": "A second Hanoi study"})
    assert not window.open_study_by_label("Hanoi 2019")
    assert window.study_id is None
    assert "Several studies" in window.statusBar().currentMessage()
    assert not window.open_study_by_label("Hanoi 2018")
    assert "No single study" in window.statusBar().currentMessage()
