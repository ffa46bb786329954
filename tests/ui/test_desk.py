from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QTextCharFormat

from cmo_desk.domain.errors import Cancelled
from cmo_desk.services.demo import CODER_A, CODER_B
from cmo_desk.services.session import Session
from cmo_desk.ui.theme import ROLE_COLORS, coder_colors
from cmo_desk.ui.workers import BackgroundRunner

PHRASE = "Ten women living with HIV were trained as peer navigators"


def select_phrase(window: Any, phrase: str) -> tuple[int, int]:
    start = window.doc_view.text().index(phrase)
    window.doc_view.select_span(start, start + len(phrase))
    return start, start + len(phrase)


def highlighted_texts(window: Any) -> dict[str, QColor]:
    selections = window.doc_view.extraSelections()
    return {sel.cursor.selectedText(): QColor(sel.format.background().color())
            for sel in selections}


def test_marking_a_selection_creates_a_highlighted_excerpt(open_window: Any, qtbot: Any) -> None:
    window = open_window()
    select_phrase(window, PHRASE)
    window.activateWindow()
    qtbot.waitActive(window)
    window.doc_view.setFocus()
    qtbot.keyClick(window.doc_view, Qt.Key.Key_2, Qt.KeyboardModifier.ControlModifier)

    created = [e for e in window.session.store.list("excerpt") if e.quote == PHRASE]
    assert len(created) == 1
    assert created[0].role == "mechanism"
    assert created[0].owner_id == window.session.coder_id
    colours = highlighted_texts(window)
    assert PHRASE in colours
    assert colours[PHRASE].rgb() == QColor(ROLE_COLORS["mechanism"]).rgb()
    # The new excerpt is listed and selected in the Excerpts tab.
    assert window.excerpt_panel.selected_ids() == [created[0].id]


def test_overlapping_excerpts_stay_visible(open_window: Any) -> None:
    window = open_window()
    select_phrase(window, PHRASE)
    window.mark_selection("context")
    select_phrase(window, "peer navigators and paid a monthly stipend")
    window.mark_selection("outcome")
    selections = window.doc_view.extraSelections()
    by_text = {s.cursor.selectedText(): s for s in selections}
    second = by_text["peer navigators and paid a monthly stipend"].format
    assert second.underlineStyle() != QTextCharFormat.UnderlineStyle.NoUnderline
    first = by_text[PHRASE].format
    assert first.background().color().rgb() == QColor(ROLE_COLORS["context"]).rgb()


def test_marking_with_codes_links_the_chosen_codes(open_window: Any, dialogs: Any) -> None:
    window = open_window()
    trust = next(c for c in window.codes.values() if c.name == "Trust")
    dialogs.codes_answer = [trust.id]
    select_phrase(window, PHRASE)
    eid = window.mark_selection(None, with_codes=True)
    ex = window.session.store.get("excerpt", eid)
    assert ex.code_ids == (trust.id,)
    assert ex.role == trust.kind


def test_clicking_a_highlight_selects_its_excerpt_and_cmoc(open_window: Any) -> None:
    window = open_window()
    ex = next(e for e in window.excerpts if e.quote.startswith("118 started"))
    window.on_excerpts_clicked(window.doc_view.excerpts_at(ex.start + 3))
    assert window.excerpt_panel.selected_ids() == [ex.id]
    assert ex.id in window.cmoc_panel.cmoc.excerpt_ids


def test_a_cmoc_built_from_excerpts_cites_them(open_window: Any, qtbot: Any) -> None:
    window = open_window()
    a = window.mark_selection("context") if select_phrase(window, PHRASE) else None
    select_phrase(window, "phoned them before appointments")
    b = window.mark_selection("mechanism")
    window.excerpt_panel.select([a, b])
    qtbot.mouseClick(window.excerpt_panel.new_cmoc_button, Qt.MouseButton.LeftButton)
    cmoc = window.cmoc_panel.cmoc
    assert cmoc is not None and set(cmoc.excerpt_ids) == {a, b}
    box = window.cmoc_panel.texts["statement"]
    box.setFocus()
    qtbot.keyClicks(box, "If trained, then accompanied, because trusted.")
    qtbot.waitUntil(lambda: not box.has_pending(), timeout=3000)
    stored = window.session.store.get("cmoc", cmoc.id)
    assert stored.statement == "If trained, then accompanied, because trusted."
    assert set(stored.excerpt_ids) == {a, b}


def test_dropping_an_excerpt_on_a_slot_links_it(open_window: Any) -> None:
    window = open_window()
    select_phrase(window, PHRASE)
    eid = window.mark_selection("context")
    cmoc_id = window.cmoc_panel.current_id()
    window.cmoc_panel.texts["context"].excerpts_dropped.emit([eid])
    links = window.session.store.links("cmoc_excerpt", cmoc_id=cmoc_id, excerpt_id=eid)
    assert links and links[0]["slot"] == "context"


def test_edits_persist_after_closing_and_reopening(open_window: Any, qtbot: Any,
                                                   project: Path) -> None:
    window = open_window()
    select_phrase(window, PHRASE)
    eid = window.mark_selection("outcome")
    window.new_cmoc_from_selection()
    cmoc_id = window.cmoc_panel.current_id()
    box = window.cmoc_panel.texts["context"]
    box.setFocus()
    qtbot.keyClicks(box, "Stipend paid late")
    # Closing straight after typing, before the pause that saves, must not lose the text.
    window.close()
    window.session.close()

    with Session.open(project, coder=CODER_A) as again:
        cmoc = again.store.get("cmoc", cmoc_id)
        assert cmoc.context == "Stipend paid late"
        assert eid in cmoc.excerpt_ids
        assert again.store.get("excerpt", eid).role == "outcome"


def test_undo_and_redo_a_marked_passage(open_window: Any) -> None:
    window = open_window()
    select_phrase(window, PHRASE)
    eid = window.mark_selection("context")
    window.undo()
    assert window.session.store.get("excerpt", eid) is None
    assert PHRASE not in highlighted_texts(window)
    window.redo()
    assert window.session.store.get("excerpt", eid) is not None
    assert PHRASE in highlighted_texts(window)


def test_undo_a_slot_edit_restores_the_old_text(open_window: Any) -> None:
    window = open_window()
    panel = window.cmoc_panel
    before = panel.cmoc.outcome
    panel.texts["outcome"].setPlainText("ART started within a week")
    panel.texts["outcome"].flush()
    assert window.session.store.get("cmoc", panel.cmoc.id).outcome == "ART started within a week"
    window.undo()
    assert window.session.store.get("cmoc", panel.cmoc.id).outcome == before
    assert panel.texts["outcome"].toPlainText() == before


def test_blind_mode_hides_the_other_coder(open_window: Any) -> None:
    window = open_window()
    store = window.session.store
    other = next(c for c in store.list("coder") if c.name == CODER_B)
    assert all(e.owner_id == window.session.coder_id for e in window.excerpts)
    mine = window.cmoc_panel.model.rowCount()
    window.others_action.trigger()
    assert any(e.owner_id == other.id for e in window.excerpts)
    assert window.cmoc_panel.model.rowCount() > mine
    selections = window.doc_view.extraSelections()
    coloured = [s for s in selections
                if s.format.background().color().rgb() == QColor(
                    coder_colors(window.coders)[other.id]).rgb()]
    assert coloured
    window.others_action.trigger()
    assert all(e.owner_id == window.session.coder_id for e in window.excerpts)


def test_submitted_study_cannot_be_marked(open_window: Any, qtbot: Any,
                                          dialogs: Any) -> None:
    window = open_window(study="Odessa 2017")
    assert window.locked and window.banner.isVisibleTo(window)
    store = window.session.store
    mine = len(store.list("excerpt", study_id=window.study_id, owner_id=window.session.coder_id))
    total = store.count("excerpt")
    window.doc_view.select_span(0, 20)
    window.activateWindow()
    qtbot.waitActive(window)
    window.doc_view.setFocus()
    qtbot.keyClick(window.doc_view, Qt.Key.Key_1, Qt.KeyboardModifier.ControlModifier)
    # Even when the request reaches the desk's own path, the submission guard refuses it.
    window.doc_view.select_span(0, 20)
    assert window.mark_selection("context") is None
    assert store.count("excerpt") == total
    assert len(store.list("excerpt", study_id=window.study_id,
                          owner_id=window.session.coder_id)) == mine
    assert any("submitted" in m for m in dialogs.errors), dialogs.errors


def test_study_form_saves_a_field(open_window: Any, qtbot: Any) -> None:
    window = open_window()
    window.coding_tabs.setCurrentWidget(window.form_holder)
    edit = window.study_form.findChild(type(window.study_filter), "field_region")
    edit.setFocus()
    edit.selectAll()
    qtbot.keyClicks(edit, "Haiphong")
    qtbot.keyClick(edit, Qt.Key.Key_Return)
    from cmo_desk.services import coding

    assert coding.form_values(window.session, window.study_id)["region"] == "Haiphong"


def test_find_in_text_and_project_search(open_window: Any) -> None:
    window = open_window()
    window.find_bar.open_bar()
    window.find_bar.query.setText("navigator")
    assert len(window.find_bar.matches) >= 3
    hits = window.session.store.search("naloxone")
    assert hits
    window.open_study(hits[0].study_id, hits[0].page)
    assert window.study_id == hits[0].study_id


def test_models_pass_qt_model_tests(open_window: Any, qtmodeltester: Any) -> None:
    window = open_window()
    window.others_action.trigger()
    qtmodeltester.check(window.study_model)
    qtmodeltester.check(window.study_proxy)
    qtmodeltester.check(window.excerpt_panel.model)
    qtmodeltester.check(window.cmoc_panel.model)


def test_background_task_reports_progress_and_can_be_cancelled(qtbot: Any) -> None:
    runner = BackgroundRunner()
    seen: list[tuple[int, int]] = []

    def work(progress: Any, cancelled: Any) -> int:
        for i in range(1, 10_000):
            progress(i, 10_000)
            if cancelled():
                raise Cancelled("stopped")
            threading.Event().wait(0.001)
        return 1

    task = runner.start(work)
    task.signals.progressed.connect(lambda d, t: seen.append((d, t)))
    task.signals.progressed.connect(lambda *_: task.cancel())
    with qtbot.waitSignal(task.signals.cancelled, timeout=5000):
        pass
    assert runner.wait(5000)
    assert seen and seen[0][1] == 10_000
    assert seen[-1][0] < 9_999

    done = runner.start(lambda progress, cancelled: (progress(1, 1), 42)[1])
    with qtbot.waitSignal(done.signals.succeeded, timeout=5000) as result:
        pass
    assert result.args == [42]
    assert runner.wait(5000)


def _write_texts(folder: Path, n: int) -> list[str]:
    folder.mkdir()
    for i in range(n):
        (folder / f"study-{i}.txt").write_text(
            f"Peer support study number {i}.\n\nOutreach workers met clients weekly.\n",
            encoding="utf-8")
    return [str(folder)]


def test_import_runs_in_the_background(open_window: Any, qtbot: Any, tmp_path: Path) -> None:
    window = open_window()
    before = window.session.store.count("study")
    steps: list[tuple[int, int]] = []
    task = window.start_import(_write_texts(tmp_path / "texts", 3))
    task.signals.progressed.connect(lambda d, t: steps.append((d, t)))
    with qtbot.waitSignal(task.signals.ended, timeout=15000):
        pass
    qtbot.waitUntil(lambda: window.session.store.count("study") == before + 3, timeout=5000)
    assert window.study_model.rowCount() == before + 3
    assert window.runner.wait(5000)


def test_cancelled_import_changes_nothing(open_window: Any, qtbot: Any, tmp_path: Path) -> None:
    window = open_window()
    before = window.session.store.count("study")
    gate = threading.Event()
    # Hold the runner's only thread so the import is cancelled before it starts reading.
    window.runner.start(lambda progress, cancelled: gate.wait(5))
    task = window.start_import(_write_texts(tmp_path / "texts", 3))
    task.cancel()
    gate.set()
    with qtbot.waitSignal(task.signals.cancelled, timeout=15000):
        pass
    assert window.runner.wait(5000)
    assert window.session.store.count("study") == before
