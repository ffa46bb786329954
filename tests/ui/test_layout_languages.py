"""At 1366×768, in every language the desk speaks, the study labels stay readable and the CMOC
form fits its pane: a longer column title or form label wraps or shortens instead."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QScrollArea, QSplitter

from cmo_desk.domain.i18n import set_language


@pytest.fixture(params=["en", "ru", "es", "fr", "pt_BR", "zh_CN"])
def language(request: pytest.FixtureRequest) -> Iterator[str]:
    set_language(request.param)
    try:
        yield request.param
    finally:
        set_language("en")


def test_study_labels_and_the_cmoc_form_fit_a_laptop_screen(open_window: Any, qtbot: Any,
                                                            language: str) -> None:
    window = open_window(study="Hanoi 2019")
    window.resize(1366, 768)
    # the panes as narrow as a first run lays them out at 1366 px in the longer languages
    window.resizeDocks([window.studies_dock], [330], Qt.Orientation.Horizontal)
    split = window.findChild(QSplitter, "deskSplit")
    split.setSizes([split.width() - 360, 360])
    qtbot.wait(50)
    view = window.study_view
    metrics = view.fontMetrics()
    labels = [view.model().index(r, 0).data() for r in range(view.model().rowCount())]
    assert "Kunming 2016" in labels
    widest = max(metrics.horizontalAdvance(label) for label in labels)
    assert view.columnWidth(0) >= widest + 8, (language, view.columnWidth(0), widest)
    for column in (1, 3):  # what the year and coders columns show is whole
        shown = max(metrics.horizontalAdvance(str(view.model().index(r, column).data() or ""))
                    for r in range(view.model().rowCount()))
        assert view.columnWidth(column) >= shown, (language, column)
    scroll = window.cmoc_panel.findChild(QScrollArea)
    assert scroll is not None and scroll.isVisible()
    assert not scroll.horizontalScrollBar().isVisible(), (
        language, scroll.widget().minimumSizeHint().width(), scroll.viewport().width())

