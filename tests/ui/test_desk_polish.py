"""Everyday desk comforts: the study list's right-click menu, agreement computed without freezing
the desk, a theory's relation to a CMOC, and the study form after undo."""

from __future__ import annotations

from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialog, QLineEdit

from cmo_desk.domain.ids import coder_id
from cmo_desk.services import coding
from cmo_desk.services.demo import CODER_A, CODER_B
from cmo_desk.ui import reconcile_view

from .conftest import ScriptedDialogs
from .realinput import click_check_box


class PolishDialogs(ScriptedDialogs):
    """Also remembers the choices offered, and answers prepared dialogs."""

    def __init__(self) -> None:
        super().__init__()
        self.offered: list[list[tuple[str, str]]] = []
        self.shown: list[QDialog] = []

    def choose_item(self, title: str, label: str, items: list[tuple[str, str]]) -> str | None:
        self.offered.append(list(items))
        return super().choose_item(title, label, items)

    def run_dialog(self, dialog: QDialog) -> int:
        self.shown.append(dialog)
        return int(QDialog.DialogCode.Rejected)


@pytest.fixture
def dialogs() -> PolishDialogs:
    return PolishDialogs()


def _actions(menu: Any) -> dict[str, Any]:
    return {a.text(): a for a in menu.actions() if a.text()}


# -- 1. the study list's right-click menu ----------------------------------------------------


def test_study_menu_reconciles_only_double_coded_studies(open_window: Any) -> None:
    window = open_window(study="Nairobi 2021")
    hanoi = next(s.id for s in window.session.store.list("study") if s.label == "Hanoi 2019")
    nairobi = window.study_id
    single = _actions(window.study_menu(nairobi))
    assert not single["Reconcile this study…"].isEnabled()
    double = _actions(window.study_menu(hanoi))
    assert window.study_id == hanoi  # the right-clicked study is the one acted on
    assert double["Reconcile this study…"].isEnabled()
    double["Reconcile this study…"].trigger()
    view = window._reconcile_view
    assert view.study_id == hanoi
    view.close()


def test_study_menu_assigns_and_submits(open_window: Any, dialogs: PolishDialogs) -> None:
    window = open_window(study="Nairobi 2021")
    actions = _actions(window.study_menu(window.study_id))
    actions["Assign coders…"].trigger()
    assert dialogs.shown and isinstance(dialogs.shown[-1], reconcile_view.AssignDialog)
    assert not actions["Reopen for editing…"].isEnabled()  # nobody has submitted it yet
    actions["Submit my coding of this study"].trigger()
    assert window.locked and window.banner.isVisibleTo(window)
    after = _actions(window.study_menu(window.study_id))
    assert not after["Submit my coding of this study"].isEnabled()
    assert after["Reopen for editing…"].isEnabled()


def test_reopen_asks_which_submitted_coder_and_unlocks(open_window: Any,
                                                       dialogs: PolishDialogs) -> None:
    window = open_window(study="Odessa 2017")  # both demo coders submitted it
    assert window.locked and window.banner.isVisibleTo(window)
    row = window.study_model.row_of(window.study_id)
    marks_before = window.study_model.index(row, 3).data()
    dialogs.item_answer = coder_id(CODER_A)
    _actions(window.study_menu(window.study_id))["Reopen for editing…"].trigger()
    offered = {name for _, name in dialogs.offered[-1]}
    assert offered == {CODER_A, CODER_B}
    status = coding.study_status(window.session, window.study_id)
    assert status[coder_id(CODER_A)] != "submitted" and status[coder_id(CODER_B)] == "submitted"
    assert not window.locked and not window.banner.isVisibleTo(window)
    assert window.study_model.index(row, 3).data() != marks_before
    assert window.study_form is not None and window.study_form.widget().isEnabled()


def test_cancelling_reopen_changes_nothing(open_window: Any, dialogs: PolishDialogs) -> None:
    window = open_window(study="Odessa 2017")
    dialogs.choose_item = lambda *args: None  # type: ignore[method-assign]
    assert not window.reopen_study(window.study_id)
    assert window.locked
    status = coding.study_status(window.session, window.study_id)
    assert set(status.values()) == {"submitted"}


# -- 2. agreement computed in the background -------------------------------------------------


@pytest.fixture
def slow_agreement(monkeypatch: pytest.MonkeyPatch) -> Any:
    """Every agreement view works in the background, and the report waits for a go-ahead."""
    import threading

    from cmo_desk.services import agreement
    from cmo_desk.ui.agreement_view import AgreementView

    monkeypatch.setattr(AgreementView, "INLINE_STUDIES", 0)
    go = threading.Event()
    real = agreement.agreement_report

    def waiting(session: Any, coders: Any = None) -> Any:
        assert go.wait(10), "the test never let the report finish"
        return real(session, coders)

    monkeypatch.setattr(agreement, "agreement_report", waiting)
    return go


def test_agreement_is_computed_without_freezing_the_desk(open_window: Any, qtbot: Any,
                                                         slow_agreement: Any) -> None:
    from cmo_desk.ui.agreement_view import open_agreement

    window = open_window(study=None)
    view = open_agreement(window)
    assert view.computing and view.headline.text() == "Computing…"
    assert not view.compute_button.isEnabled() and not view.save_button.isEnabled()
    # the desk still answers while the report is being worked out
    assert window.open_study_by_label("Hanoi 2019")
    assert view.computing and window.runner.busy()
    slow_agreement.set()
    qtbot.waitUntil(lambda: not view.computing, timeout=10_000)
    assert "2 of 5" in view.headline.text()
    assert view.codes_model.index(0, 0).data() == "All codes (pooled)"
    assert view.codes_model.rowCount() == 1 + len(view.report.per_code)
    assert view.overlap_model.rowCount() == len(view.report.overlaps)
    assert view.compute_button.isEnabled() and view.save_button.isEnabled()
    view.close()
    assert window.runner.wait(5000)


def test_agreement_in_the_background_explains_a_bad_choice(open_window: Any, qtbot: Any,
                                                           slow_agreement: Any) -> None:
    from cmo_desk.ui.agreement_view import open_agreement

    window = open_window(study=None)
    slow_agreement.set()
    view = open_agreement(window)
    qtbot.waitUntil(lambda: not view.computing, timeout=10_000)
    assert view.codes_model.rowCount() > 1
    view.coder_list.item(1).setCheckState(Qt.CheckState.Unchecked)
    view.compute_button.click()
    assert view.computing
    qtbot.waitUntil(lambda: not view.computing, timeout=10_000)
    assert view.report is None and "two" in view.headline.text()
    assert view.codes_model.rowCount() == 0
    view.close()
    assert window.runner.wait(5000)


def test_closing_the_agreement_window_mid_computation_is_safe(open_window: Any, qtbot: Any,
                                                             slow_agreement: Any) -> None:
    from cmo_desk.ui.agreement_view import open_agreement

    window = open_window(study=None)
    view = open_agreement(window)
    assert view.computing
    view.close()
    slow_agreement.set()
    assert window.runner.wait(5000)
    qtbot.waitUntil(lambda: not window.runner.busy(), timeout=5000)
    assert window.isVisible() and not window.dialogs.errors


# -- 3. a theory's relation to a CMOC ---------------------------------------------------------


def _own_cmoc_with_theories(window: Any) -> Any:
    panel = window.cmoc_panel
    own = next(panel.model.cmoc(r) for r in range(panel.model.rowCount())
               if panel.model.cmoc(r).owner_id == window.session.coder_id)
    panel.select_cmoc(own.id)
    assert panel.theories.topLevelItemCount() >= 1
    return panel


def _theory_item(panel: Any, theory_id: str) -> Any:
    for i in range(panel.theories.topLevelItemCount()):
        item = panel.theories.topLevelItem(i)
        if item.data(0, Qt.ItemDataRole.UserRole) == theory_id:
            return item
    raise AssertionError("theory not listed")


def _relation(window: Any, cmoc_id: str, theory_id: str) -> str | None:
    return dict(window.session.store.get("cmoc", cmoc_id).theories).get(theory_id)


def test_linking_a_theory_asks_its_relation_and_shows_it(open_window: Any, qtbot: Any,
                                                         dialogs: PolishDialogs) -> None:
    window = open_window(study="Hanoi 2019")
    panel = _own_cmoc_with_theories(window)
    cmoc_id = panel.cmoc.id
    unlinked = next(t.id for t in panel._theory_records
                    if t.id not in dict(panel.cmoc.theories))
    dialogs.item_answer = "refutes"
    click_check_box(panel.theories, _theory_item(panel, unlinked))
    qtbot.waitUntil(lambda: unlinked in panel.relation_boxes, timeout=3000)
    assert [v for v, _ in dialogs.offered[-1]] == ["supports", "refutes", "refines", "new"]
    assert _relation(window, cmoc_id, unlinked) == "refutes"
    combo = panel.relation_boxes[unlinked]
    assert combo.currentData() == "refutes" and combo.currentText() == "refutes"
    assert panel.theories.itemWidget(_theory_item(panel, unlinked), 1) is combo
    window.undo()
    assert _relation(window, cmoc_id, unlinked) is None
    assert unlinked not in panel.relation_boxes
    assert _theory_item(panel, unlinked).checkState(0) == Qt.CheckState.Unchecked


def test_cancelling_the_relation_leaves_the_theory_unlinked(open_window: Any, qtbot: Any,
                                                            dialogs: PolishDialogs) -> None:
    window = open_window(study="Hanoi 2019")
    panel = _own_cmoc_with_theories(window)
    unlinked = next(t.id for t in panel._theory_records
                    if t.id not in dict(panel.cmoc.theories))
    asked: list[str] = []
    dialogs.choose_item = lambda *args: asked.append(args[0])  # type: ignore[method-assign]
    click_check_box(panel.theories, _theory_item(panel, unlinked))
    qtbot.waitUntil(lambda: bool(asked), timeout=3000)
    assert _relation(window, panel.cmoc.id, unlinked) is None
    assert _theory_item(panel, unlinked).checkState(0) == Qt.CheckState.Unchecked


def test_the_relation_of_a_linked_theory_can_be_changed_and_undone(open_window: Any,
                                                                   qtbot: Any) -> None:
    window = open_window(study="Hanoi 2019")
    panel = _own_cmoc_with_theories(window)
    cmoc_id = panel.cmoc.id
    theory = next(t.id for t in panel._theory_records)
    if theory not in panel.relation_boxes:
        click_check_box(panel.theories, _theory_item(panel, theory))  # answered: supports
        qtbot.waitUntil(lambda: theory in panel.relation_boxes, timeout=3000)
    combo = panel.relation_boxes[theory]
    assert combo.currentData() == "supports"
    combo.setCurrentIndex(combo.findData("refines"))
    combo.activated.emit(combo.currentIndex())
    assert _relation(window, cmoc_id, theory) == "refines"
    assert panel.relation_boxes[theory].currentData() == "refines"
    window.undo()
    assert _relation(window, cmoc_id, theory) == "supports"
    assert panel.relation_boxes[theory].currentData() == "supports"
    window.redo()
    assert _relation(window, cmoc_id, theory) == "refines"


def test_another_coders_theory_links_are_shown_but_not_changeable(open_window: Any) -> None:
    from cmo_desk.services.session import Session

    window = open_window(study="Hanoi 2019")
    sam = Session(window.session.store, CODER_B)
    theirs = next(c for c in window.session.store.list("cmoc", study_id=window.study_id)
                  if c.owner_id == sam.coder_id)
    theory = window.cmoc_panel._theory_records[0].id
    coding.link_theory(sam, theirs.id, theory, "refines")
    window.others_action.trigger()
    panel = window.cmoc_panel
    panel.select_cmoc(theirs.id)
    assert panel.relation_boxes[theory].currentData() == "refines"
    assert not panel.theories.isEnabled()


# -- 4. the study form after undo and redo ------------------------------------------------------


def _type_into(qtbot: Any, edit: QLineEdit, text: str) -> None:
    edit.setFocus()
    edit.selectAll()
    qtbot.keyClicks(edit, text)
    qtbot.keyClick(edit, Qt.Key.Key_Return)


def test_undo_and_redo_show_the_restored_form_value(open_window: Any, qtbot: Any) -> None:
    window = open_window()
    window.coding_tabs.setCurrentWidget(window.form_holder)
    edit = window.study_form.findChild(QLineEdit, "field_region")
    before = edit.text()
    _type_into(qtbot, edit, "Haiphong")
    assert coding.form_values(window.session, window.study_id)["region"] == "Haiphong"
    # the undo command itself, as Edit → Undo or an undo history would run it
    window.undo_stack.undo()
    assert coding.form_values(window.session, window.study_id).get("region") in (before, None)
    assert edit.text() == before
    window.undo_stack.redo()
    assert edit.text() == "Haiphong"


def test_refreshing_the_form_leaves_other_fields_alone(open_window: Any, qtbot: Any) -> None:
    window = open_window()
    window.coding_tabs.setCurrentWidget(window.form_holder)
    region = window.study_form.findChild(QLineEdit, "field_region")
    _type_into(qtbot, region, "Haiphong")
    others = [e for e in window.study_form.findChildren(QLineEdit)
              if e.objectName().startswith("field_") and e is not region]
    assert others
    other = others[0]
    other.setText("half-typed, not yet saved")
    window.undo_stack.undo()
    assert other.text() == "half-typed, not yet saved"
    assert region.text() != "Haiphong"
