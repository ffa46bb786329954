"""One change pipeline: every write reaches every open view as a Changed, and each pane reads
again only its slice of it (no reload of everything after a keystroke or background work)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialog

from cmo_desk.domain import records as rec
from cmo_desk.services import coding, desk
from cmo_desk.services.session import Session
from cmo_desk.ui import merge_flow

from .test_teamwork_ui import TeamDialogs, _coder_copy


@pytest.fixture
def dialogs() -> TeamDialogs:
    return TeamDialogs()


class Calls:
    """Counts calls of the window's refresh methods while still running them."""

    def __init__(self, window: Any, monkeypatch: pytest.MonkeyPatch) -> None:
        self.counts: dict[str, int] = {}
        for name in ("refresh_all", "refresh_codebook", "refresh_studies", "refresh_study"):
            real = getattr(window, name)

            def spy(*args: Any, _real: Any = real, _name: str = name, **kw: Any) -> Any:
                self.counts[_name] = self.counts.get(_name, 0) + 1
                return _real(*args, **kw)

            monkeypatch.setattr(window, name, spy)

    def __getitem__(self, name: str) -> int:
        return self.counts.get(name, 0)


def listen(session: Session) -> list[rec.Changed]:
    heard: list[rec.Changed] = []
    session.listeners.append(heard.append)
    return heard


def shown_rows(window: Any) -> list[desk.StudyListItem]:
    model = window.study_model
    return [model.study(i) for i in range(model.rowCount())]


def test_marking_a_passage_refreshes_only_its_study(open_window: Any, qtbot: Any,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    window = open_window(study="Nairobi 2021")
    calls = Calls(window, monkeypatch)
    heard = listen(window.session)
    me = window.session.coder_id
    row_before = window.study_model.study(window.study_model.row_of(window.study_id))
    window.doc_view.select_span(0, 30)
    window.activateWindow()
    qtbot.waitActive(window)
    window.doc_view.setFocus()
    qtbot.keyClick(window.doc_view, Qt.Key.Key_3, Qt.KeyboardModifier.ControlModifier)

    created = [e for e in window.session.store.list("excerpt", study_id=window.study_id)
               if e.owner_id == me and e.start == 0 and e.end == 30]
    assert len(created) == 1
    assert heard and created[0].id in heard[-1].touched("excerpt")
    # the open study's panes show it; the list's row for the study is updated in place
    assert created[0].id in {e.id for e in window.excerpts}
    assert calls["refresh_all"] == 0 and calls["refresh_studies"] == 0
    assert calls["refresh_codebook"] == 0  # no code was applied
    assert calls["refresh_study"] == 1
    row = window.study_model.study(window.study_model.row_of(window.study_id))
    assert row.status.get(me) in ("draft", "submitted", "assigned")
    assert row == desk.study_rows(window.session, [window.study_id])[0]
    if row_before.status.get(me) is None:
        assert row != row_before
    # the whole list equals a fresh read of the project
    assert shown_rows(window) == desk.study_rows(window.session)


def test_a_write_to_another_study_leaves_the_open_study_alone(
        open_window: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    window = open_window(study="Hanoi 2019")
    other = next(r.id for r in shown_rows(window) if r.label == "Tbilisi 2018")
    calls = Calls(window, monkeypatch)
    coding.set_form_value(window.session, other, "countries", ["Georgia", "Armenia"])
    assert calls["refresh_study"] == 0 and calls["refresh_studies"] == 0
    row = window.study_model.study(window.study_model.row_of(other))
    assert row.countries[:2] == ("Georgia", "Armenia")
    assert shown_rows(window) == desk.study_rows(window.session)


def test_applying_a_code_updates_the_codebook_count(open_window: Any, dialogs: TeamDialogs,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    window = open_window()
    code = next(iter(window.codes.values()))
    before = dict(desk.code_usage(window.session))
    calls = Calls(window, monkeypatch)
    window.doc_view.select_span(5, 25)
    eid = window.mark_selection("context", code_ids=[code.id])
    assert eid
    assert calls["refresh_codebook"] == 1 and calls["refresh_all"] == 0
    assert desk.code_usage(window.session)[code.id] == before.get(code.id, 0) + 1
    assert shown_count(window, code.id) == str(before.get(code.id, 0) + 1)


def shown_count(window: Any, code_id: str) -> str:
    tree = window.codebook.tree
    stack = [tree.topLevelItem(i) for i in range(tree.topLevelItemCount())]
    while stack:
        item = stack.pop()
        if item.data(0, Qt.ItemDataRole.UserRole) == code_id:
            return item.text(1)
        stack.extend(item.child(i) for i in range(item.childCount()))
    raise AssertionError(f"code {code_id} is not in the codebook")


def _write_texts(folder: Path, n: int) -> list[str]:
    folder.mkdir()
    for i in range(n):
        (folder / f"pipeline-{i}.txt").write_text(
            f"Peer navigators in study {i} met clients weekly at the clinic.\n", encoding="utf-8")
    return [str(folder)]


def test_background_import_hands_its_change_to_the_open_views(
        open_window: Any, qtbot: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    window = open_window()
    heard = listen(window.session)
    calls = Calls(window, monkeypatch)
    before = {r.id for r in shown_rows(window)}
    task = window.start_import(_write_texts(tmp_path / "texts", 2))
    with qtbot.waitSignal(task.signals.ended, timeout=20_000):
        pass
    qtbot.waitUntil(lambda: bool(heard), timeout=10_000)
    assert window.runner.wait(5000)
    new = {s.id for s in window.session.store.list("study")} - before
    assert len(new) == 2
    assert heard[-1].touched("study") == new
    assert len(heard[-1].touched("document")) == 2
    assert calls["refresh_all"] == 0
    assert {r.id for r in shown_rows(window)} == before | new
    assert shown_rows(window) == desk.study_rows(window.session)


def test_background_merge_hands_its_change_to_the_open_views(
        open_window: Any, dialogs: TeamDialogs, project: Path, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch, qtbot: Any) -> None:
    made: dict[str, str] = {}

    def sam_works(sam: Session) -> None:
        study = next(s.id for s in sam.store.list("study") if s.label == "Kunming 2016")
        made["cmoc"] = coding.create_cmoc(sam, study, {"statement": "Sam's pipeline CMOC"})[0]
        made["study"] = study

    copy = _coder_copy(project, tmp_path, monkeypatch, sam_works)
    window = open_window(study="Kunming 2016")
    heard = listen(window.session)
    calls = Calls(window, monkeypatch)
    dialogs.paths = [str(copy)]
    dialogs.answer_dialog = lambda d: QDialog.DialogCode.Rejected
    task = merge_flow.start_merge(window, [copy])
    assert task is not None
    qtbot.waitUntil(lambda: bool(heard), timeout=20_000)
    assert window.runner.wait(5000)
    assert made["cmoc"] in heard[-1].touched("cmoc")
    assert calls["refresh_all"] == 0
    # the open study was touched by the merge: its CMOC list shows Sam's work
    assert calls["refresh_study"] >= 1
    row = window.study_model.study(window.study_model.row_of(made["study"]))
    assert row == desk.study_rows(window.session, [made["study"]])[0]


def test_a_failed_background_task_still_reports_what_it_wrote(
        open_window: Any, qtbot: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    window = open_window()
    heard = listen(window.session)
    made: list[str] = []

    def work(session: Session, progress: Any, cancelled: Any) -> Any:
        made.append(coding.add_study(session, {"label": "Half-way study"})[0])
        raise coding.ValidationError("the second step failed")

    task = window.run_task("Work", work, lambda result: None)
    with qtbot.waitSignal(task.signals.ended, timeout=20_000):
        pass
    qtbot.waitUntil(lambda: bool(heard), timeout=10_000)
    assert window.runner.wait(5000)
    assert heard[-1].touched("study") == set(made)
    assert any(r.label == "Half-way study" for r in shown_rows(window))


def test_an_open_conflicts_window_shows_what_a_merge_brings(
        open_window: Any, dialogs: TeamDialogs, project: Path, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch, qtbot: Any) -> None:
    from cmo_desk.ui.conflicts_view import open_conflicts

    def sam_works(sam: Session) -> None:
        kunming = next(s.id for s in sam.store.list("study") if s.label == "Kunming 2016")
        coding.update_study(sam, kunming, {"journal": "Sam's journal"})

    copy = _coder_copy(project, tmp_path, monkeypatch, sam_works)
    window = open_window(study="Kunming 2016")
    kunming = next(r.id for r in shown_rows(window) if r.label == "Kunming 2016")
    coding.update_study(window.session, kunming, {"journal": "Lan's journal"})
    conflicts = open_conflicts(window)
    assert conflicts.model.rowCount() == 0
    heard = listen(window.session)
    dialogs.answer_dialog = lambda d: QDialog.DialogCode.Rejected
    merge_flow.start_merge(window, [copy])
    qtbot.waitUntil(lambda: bool(heard), timeout=20_000)
    assert window.runner.wait(5000)
    # the window was open before the merge and nobody asked it to reload
    assert conflicts.model.rowCount() == 1
    assert conflicts.conflicts[0].field == "journal"
    conflicts.close()
    qtbot.waitUntil(lambda: len(window.session.listeners) <= 2, timeout=5000)


def test_a_full_text_arriving_for_the_open_study_is_shown(open_window: Any) -> None:
    window = open_window()
    sid, _ = coding.add_study(window.session, {"label": "Awaiting text 2024"})
    assert window.open_study(sid)
    assert window.document is None and window.banner.isVisibleTo(window)
    body = "Outreach workers carried naloxone to every meeting."
    with window.session.write(need_coder=False) as uow:
        uow.create("document", {"study_id": sid, "text": body, "page_starts": [0],
                                "filename": "awaiting.txt", "media_type": "text/plain"})
    assert window.document is not None and window.doc_view.text() == body
    assert not window.banner.isVisibleTo(window)
    row = window.study_model.study(window.study_model.row_of(sid))
    assert row.has_text
