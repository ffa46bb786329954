"""A study folded into its duplicate leaves the lists that offer studies; its work shows under the
study it was folded into, and a fold taken back (a merge or a settled conflict clearing
``merged_into``) brings it back."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication

from cmo_desk.domain.errors import ValidationError
from cmo_desk.services import coding, desk, desk_rules
from cmo_desk.ui.duplicates_view import open_duplicates


def _listed(window: Any) -> list[str]:
    proxy = window.studies.proxy
    return [proxy.index(r, 0).data() for r in range(proxy.rowCount())]


def _click_row(table: Any, row: int) -> None:
    rect = table.visualRect(table.model().index(row, 1))
    QTest.mouseClick(table.viewport(), Qt.MouseButton.LeftButton,
                     Qt.KeyboardModifier.NoModifier, rect.center())


def test_a_study_folded_into_its_duplicate_leaves_the_studies_list(open_window: Any) -> None:
    window = open_window(study="Hanoi 2019")
    s = window.session
    nairobi = next(st for st in s.store.list("study") if st.label == "Nairobi 2021")
    coding.update_study(s, nairobi.id, {"doi": "10.1000/demo.nairobi"})
    twin, _ = coding.add_study(s, {"label": "Nairobi again", "title": nairobi.title,
                                   "year": nairobi.year, "doi": "10.1000/DEMO.NAIROBI"})
    QApplication.processEvents()
    assert "Nairobi again" in _listed(window)
    view = open_duplicates(window)
    rows = [view.model.item(r) for r in range(view.model.rowCount())]
    mine = next(p for p in rows if {p.keep_id, p.duplicate_id} == {nairobi.id, twin})
    assert window.open_study(mine.duplicate_id)
    _click_row(view.table, rows.index(mine))
    QTest.mouseClick(view.accept_button, Qt.MouseButton.LeftButton)
    QApplication.processEvents()
    folded = s.store.get("study", mine.duplicate_id)
    assert folded.merged_into == mine.keep_id
    kept_label = mine.keep_label
    listed = _listed(window)
    assert mine.duplicate_label not in listed and kept_label in listed
    assert len(listed) == 5
    # the folded study was open: the study it became is open now, and current in the list
    assert window.study_id == mine.keep_id
    current = window.studies.view.currentIndex()
    assert current.isValid() and current.siblingAtColumn(0).data() == kept_label
    # the label of a folded study names nothing a coder can assign or open
    assert desk_rules.studies_labelled(s, mine.duplicate_label) == []
    try:
        desk_rules.study_by_label(s, mine.duplicate_label)
    except ValidationError:
        pass
    else:
        raise AssertionError("a folded study's label still names a study")
    view.close()

    # taken back (as a settled conflict or another coder's merge does): listed again
    with s.write(need_coder=False) as uow:
        uow.update("study", mine.duplicate_id, {"merged_into": None})
    QApplication.processEvents()
    assert mine.duplicate_label in _listed(window)
    assert {r.label for r in desk.study_rows(s)} >= {mine.duplicate_label, kept_label}
