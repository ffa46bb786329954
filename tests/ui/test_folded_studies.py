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


def test_undoing_a_fold_brings_the_study_and_its_work_back(open_window: Any, qtbot: Any,
                                                            dialogs: Any) -> None:
    """Accepted by mistake: Edit → Undo at the desk takes the fold back (the study listed again,
    its CMOCs, full text, form answers and assignments on it again, the pair proposed again);
    Edit → Redo folds it once more."""
    window = open_window(study="Hanoi 2019")
    window.activateWindow()
    qtbot.waitActive(window)
    s = window.session
    store = s.store
    kunming = next(st.id for st in store.list("study") if st.label == "Kunming 2016")
    coding.update_study(s, kunming, {"doi": "10.1000/demo.kunming"})
    twin, _ = coding.add_study(s, {"label": "Kunming again", "title": "Another Kunming",
                                   "doi": "10.1000/DEMO.KUNMING"})
    view = open_duplicates(window)
    rows = [view.model.item(r) for r in range(view.model.rowCount())]
    mine = next(p for p in rows if {p.keep_id, p.duplicate_id} == {kunming, twin})
    dup, keep = mine.duplicate_id, mine.keep_id
    work_of_dup = {(t, r.id) for t in ("cmoc", "excerpt", "document", "consensus")
                   for r in store.list(t, study_id=dup)}
    forms_of_dup = {(f["coder_id"], f["key"], str(f["value"]))
                    for f in store.links("form_value", study_id=dup)}
    assigned_dup = {a["coder_id"] for a in store.links("assignment", study_id=dup)}
    work_of_keep = {(t, r.id) for t in ("cmoc", "excerpt", "document", "consensus")
                    for r in store.list(t, study_id=keep)}
    assert work_of_dup | work_of_keep  # Kunming's coding is on one of them
    _click_row(view.table, rows.index(mine))
    QTest.mouseClick(view.accept_button, Qt.MouseButton.LeftButton)
    QApplication.processEvents()
    assert store.get("study", dup).merged_into == keep
    assert mine.duplicate_label not in _listed(window)
    view.close()
    window.activateWindow()
    qtbot.waitActive(window)
    assert window.undo_action.isEnabled()

    window.undo_action.trigger()  # Edit → Undo
    QApplication.processEvents()
    assert dialogs.errors == []
    assert store.get("study", dup).merged_into is None
    assert mine.duplicate_label in _listed(window) and mine.keep_label in _listed(window)
    assert {(t, r.id) for t in ("cmoc", "excerpt", "document", "consensus")
            for r in store.list(t, study_id=dup)} == work_of_dup
    assert {(t, r.id) for t in ("cmoc", "excerpt", "document", "consensus")
            for r in store.list(t, study_id=keep)} == work_of_keep
    assert {(f["coder_id"], f["key"], str(f["value"]))
            for f in store.links("form_value", study_id=dup)} == forms_of_dup
    assert {a["coder_id"] for a in store.links("assignment", study_id=dup)} == assigned_dup
    from cmo_desk.services import duplicates

    assert any({p.keep_id, p.duplicate_id} == {kunming, twin}
               for p in duplicates.find_duplicates(s))

    window.redo_action.trigger()  # Edit → Redo
    QApplication.processEvents()
    assert store.get("study", dup).merged_into == keep
    assert mine.duplicate_label not in _listed(window)
    assert not store.list("cmoc", study_id=dup)
