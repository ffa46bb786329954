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
