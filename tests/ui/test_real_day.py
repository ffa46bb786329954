"""A coder's real day at the desk, driven with real clicks, keys and wheel turns."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt

from .realinput import click_check_box


def _own_cmoc(window: Any) -> Any:
    panel = window.cmoc_panel
    window.coding_tabs.setCurrentWidget(panel)
    own = next(panel.model.cmoc(r) for r in range(panel.model.rowCount())
               if panel.model.cmoc(r).owner_id == window.session.coder_id)
    panel.select_cmoc(own.id)
    return panel


def _theory_item(panel: Any, theory_id: str) -> Any:
    for i in range(panel.theories.topLevelItemCount()):
        item = panel.theories.topLevelItem(i)
        if item.data(0, Qt.ItemDataRole.UserRole) == theory_id:
            return item
    raise AssertionError("theory not listed")


def _linked(window: Any, cmoc_id: str) -> dict[str, str]:
    return dict(window.session.store.get("cmoc", cmoc_id).theories)


def test_ticking_and_unticking_a_theory_with_the_mouse(open_window: Any, qtbot: Any,
                                                       dialogs: Any) -> None:
    window = open_window(study="Hanoi 2019")
    panel = _own_cmoc(window)
    cmoc_id = panel.cmoc.id
    theory = next(t.id for t in panel._theory_records if t.id not in _linked(window, cmoc_id))
    dialogs.item_answer = "refines"
    click_check_box(panel.theories, _theory_item(panel, theory))
    qtbot.waitUntil(lambda: _linked(window, cmoc_id).get(theory) == "refines", timeout=3000)
    qtbot.waitUntil(lambda: theory in panel.relation_boxes, timeout=3000)
    assert _theory_item(panel, theory).checkState(0) == Qt.CheckState.Checked
    click_check_box(panel.theories, _theory_item(panel, theory))
    qtbot.waitUntil(lambda: theory not in _linked(window, cmoc_id), timeout=3000)
    qtbot.waitUntil(lambda: theory not in panel.relation_boxes, timeout=3000)
    assert _theory_item(panel, theory).checkState(0) == Qt.CheckState.Unchecked
    # and once more, to be sure the rebuilt tree still answers the mouse
    click_check_box(panel.theories, _theory_item(panel, theory))
    qtbot.waitUntil(lambda: _linked(window, cmoc_id).get(theory) == "refines", timeout=3000)


def test_cancelling_a_tick_with_the_mouse_leaves_it_unticked(open_window: Any, qtbot: Any,
                                                             dialogs: Any) -> None:
    window = open_window(study="Hanoi 2019")
    panel = _own_cmoc(window)
    cmoc_id = panel.cmoc.id
    theory = next(t.id for t in panel._theory_records if t.id not in _linked(window, cmoc_id))
    dialogs.choose_item = lambda *args: None
    click_check_box(panel.theories, _theory_item(panel, theory))
    qtbot.waitUntil(lambda: _theory_item(panel, theory).checkState(0) == Qt.CheckState.Unchecked,
                    timeout=3000)
    assert theory not in _linked(window, cmoc_id)
