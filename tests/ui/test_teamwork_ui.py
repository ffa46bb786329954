"""Team work in the desk: reconciliation, merging coders' copies, conflicts, duplicates, agreement,
assignments, backups and rescuing a damaged project."""

from __future__ import annotations

import shutil
import sqlite3
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt, QTimer
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QDialog, QMessageBox

from cmo_desk.domain import records as rec
from cmo_desk.domain.errors import Cancelled
from cmo_desk.domain.i18n import tr
from cmo_desk.domain.ids import coder_id
from cmo_desk.services import backups, coding, duplicates, merging
from cmo_desk.services.demo import CODER_A, CODER_B
from cmo_desk.services.session import Session
from cmo_desk.store.backups import readable_copy
from cmo_desk.ui import merge_flow, reconcile_view
from cmo_desk.ui.agreement_view import open_agreement
from cmo_desk.ui.backups_view import open_backups, open_with_recovery
from cmo_desk.ui.conflicts_view import open_conflicts
from cmo_desk.ui.dialogs import Dialogs
from cmo_desk.ui.duplicates_view import open_duplicates

from .conftest import ScriptedDialogs


class TeamDialogs(ScriptedDialogs):
    """Also answers the team windows: prepared dialogs, file choices and the rescue question."""

    def __init__(self) -> None:
        super().__init__()
        self.shown: list[QDialog] = []
        self.answer_dialog: Callable[[QDialog], int] = lambda d: QDialog.DialogCode.Rejected
        self.paths: list[str] = []
        self.save_answer: str | None = None
        self.restore_answer = True
        self.restore_offers: list[tuple[str, str]] = []
        self.infos: list[str] = []

    def run_dialog(self, dialog: QDialog) -> int:
        self.shown.append(dialog)
        return int(self.answer_dialog(dialog))

    def open_paths(self, title: str, filters: str) -> list[str]:
        return self.paths

    def save_path(self, title: str, filters: str, default: str = "") -> str | None:
        return self.save_answer

    def ask_recovery(self, message: str, backup_name: str) -> str | None:
        self.restore_offers.append((message, backup_name))
        return "restore" if self.restore_answer else None

    def info(self, message: str) -> None:
        self.infos.append(message)


@pytest.fixture
def dialogs() -> TeamDialogs:
    return TeamDialogs()


def _study(session: Session, label: str) -> str:
    return next(s.id for s in session.store.list("study") if s.label == label)


def _pair(view: reconcile_view.ReconcileView) -> Any:
    return next(c for c in view.cards if c.pair.a and c.pair.b)


def test_reconciliation_shows_both_coders_side_by_side(open_window: Any) -> None:
    window = open_window(study="Hanoi 2019")
    view = reconcile_view.open_reconciliation(window)
    assert view is not None
    names = {view.coder_a_box.currentText(), view.coder_b_box.currentText()}
    assert names == {CODER_A, CODER_B}
    card = _pair(view)
    pair = card.pair
    assert pair.a.owner_id != pair.b.owner_id
    # the slots worded differently are the ones tinted; the same "+" direction is not
    assert "context" in pair.differences and "outcome_direction" not in pair.differences
    assert set(card.different_cells) == {s for s in pair.differences
                                         if getattr(pair.a, s) or getattr(pair.b, s)}
    a_cell, b_cell = card.different_cells["context"]
    assert reconcile_view.DIFFERENT_BG in a_cell.styleSheet()
    assert a_cell.text() == pair.a.context and b_cell.text() == pair.b.context
    shared = [window.codes[c].name for c in pair.shared_code_ids]
    assert shared and shared[0] in card.findChildren(type(a_cell))[-1].text()
    alone = [c for c in view.cards if (c.pair.a is None) != (c.pair.b is None)]
    assert alone and all(c.promote_button and c.set_aside_button for c in alone)
    assert card.consensus_button is not None and card.promote_button is None
    view.close()


def test_consensus_takes_the_chosen_wording_and_keeps_its_sources(open_window: Any,
                                                                 dialogs: TeamDialogs) -> None:
    window = open_window(study="Hanoi 2019")
    view = reconcile_view.open_reconciliation(window)
    pair = _pair(view).pair
    suggested = []

    def answer(editor: reconcile_view.ConsensusEditor) -> int:
        assert editor.values()["context"] == pair.a.context  # prefilled with A's wording
        for slot in pair.differences:
            editor.use_b_buttons[slot].click()
        suggested.append(editor.resolution_value())
        editor.set_text("statement", "If clinic staff stigmatise women, then a peer navigator "
                                     "helps them start ART, because they feel safe with her.")
        suggested.append(editor.resolution_value())
        editor.note.setPlainText("Kept Sam's wording, with a fuller statement.")
        return QDialog.DialogCode.Accepted

    dialogs.answer_dialog = answer
    assert view.make_consensus(pair)
    assert suggested == ["b", "merged"]
    made = [c for c in window.session.store.list("consensus", study_id=view.study_id)]
    assert len(made) == 1
    consensus = made[0]
    assert consensus.context == pair.b.context and consensus.outcome == pair.b.outcome
    assert consensus.statement.startswith("If clinic staff stigmatise women, then a peer")
    assert set(consensus.source_ids) == {pair.a.id, pair.b.id}
    assert consensus.resolution == "merged" and consensus.note.startswith("Kept Sam's")
    assert set(consensus.code_ids) >= set(pair.shared_code_ids)
    # the coders' own CMOCs keep their wording and are marked as reconciled
    a_now = window.session.store.get("cmoc", pair.a.id)
    assert a_now.context == pair.a.context and a_now.status == rec.CmocStatus.RECONCILED.value
    assert len(view.consensus_cards) == 1

    dialogs.answer_dialog = lambda d: QDialog.DialogCode.Rejected
    assert not view.make_consensus(_pair(view).pair)
    assert window.session.store.count("consensus", study_id=view.study_id) == 1
    view.close()


def test_set_aside_keeps_the_reason_and_promote_makes_a_consensus(open_window: Any,
                                                                  dialogs: TeamDialogs) -> None:
    window = open_window(study="Hanoi 2019")
    view = reconcile_view.open_reconciliation(window)
    alone = next(c for c in view.cards if (c.pair.a is None) != (c.pair.b is None))
    cmoc = alone.pair.a or alone.pair.b

    dialogs.text_answer = "   "
    assert not view.set_aside(alone.pair)
    assert dialogs.errors and "reason" in dialogs.errors[-1]
    dialogs.text_answer = "About staff support, outside this review's question"
    alone.set_aside_button.click()
    now = window.session.store.get("cmoc", cmoc.id)
    assert now.status == rec.CmocStatus.SET_ASIDE.value
    assert now.set_aside_reason == "About staff support, outside this review's question"
    assert now.statement == cmoc.statement
    shown = next(c for c in view.cards if (c.pair.a or c.pair.b).id == cmoc.id)
    assert any("outside this review" in lbl.text() for lbl in shown.findChildren(type(
        view.summary)))

    window.open_study_by_label("Odessa 2017")
    odessa = reconcile_view.open_reconciliation(window)
    before = window.session.store.count("consensus", study_id=odessa.study_id)
    lone = next(c for c in odessa.cards if (c.pair.a is None) != (c.pair.b is None))
    lone.promote_button.click()
    after = window.session.store.list("consensus", study_id=odessa.study_id)
    assert len(after) == before + 1
    new = next(c for c in after if lone.pair.a and lone.pair.a.id in c.source_ids
               or lone.pair.b and lone.pair.b.id in c.source_ids)
    assert new.statement == (lone.pair.a or lone.pair.b).statement
    view.close()
    odessa.close()


def test_reconcile_offers_a_choice_when_the_open_study_has_one_coder(
        open_window: Any, dialogs: TeamDialogs) -> None:
    window = open_window(study="Kunming 2016")
    dialogs.item_answer = _study(window.session, "Odessa 2017")
    view = reconcile_view.open_reconciliation(window)
    assert view is not None and view.study_id == dialogs.item_answer
    assert "Odessa" in view.title.text()
    view.close()


def _coder_copy(project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                edit: Callable[[Session], None]) -> Path:
    """Sam's laptop: a copy of the project edited under its own site id."""
    folder = tmp_path / "sam"
    folder.mkdir()
    copy = folder / "project.cmo"
    shutil.copyfile(project, copy)
    here = str(tmp_path / "config")
    monkeypatch.setenv("CMO_DESK_CONFIG_DIR", str(tmp_path / "sam-config"))
    try:
        with Session.open(copy, coder=CODER_B) as sam:
            edit(sam)
    finally:
        monkeypatch.setenv("CMO_DESK_CONFIG_DIR", here)
    return copy


def test_merge_brings_a_coders_copy_and_conflicts_are_settled(
        open_window: Any, dialogs: TeamDialogs, project: Path, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch, qtbot: Any) -> None:
    def sam_works(sam: Session) -> None:
        kunming = _study(sam, "Kunming 2016")
        coding.create_cmoc(sam, kunming, {"statement": "Sam's reading of Kunming"})
        coding.update_study(sam, kunming, {"journal": "Sam's journal"})

    copy = _coder_copy(project, tmp_path, monkeypatch, sam_works)
    window = open_window(study="Kunming 2016")
    kunming = _study(window.session, "Kunming 2016")
    coding.update_study(window.session, kunming, {"journal": "Lan's journal"})

    dialogs.paths = [str(copy)]
    seen: list[tuple[str, bool, list[merging.MergeReport]]] = []

    def answer(summary: merge_flow.MergeSummary) -> int:
        # the summary is read while shown: the desk disposes of it afterwards
        seen.append((summary.text.text(), summary.conflicts_button is not None, summary.reports))
        return merge_flow.OPEN_CONFLICTS

    dialogs.answer_dialog = answer
    window.merge_projects()
    qtbot.waitUntil(lambda: bool(seen), timeout=15000)
    assert window.runner.wait(5000)
    text, has_conflicts_button, reports = seen[-1]
    assert CODER_B in text and "1 CMOC," in text and "1 new conflict to settle" in text
    assert has_conflicts_button
    assert any(c.statement == "Sam's reading of Kunming"
               for c in window.session.store.list("cmoc", study_id=kunming))
    assert reports[0].backup is not None and reports[0].backup.exists()

    conflicts = window._conflicts_view  # opened from the summary's button
    assert len(conflicts.conflicts) == 1
    c = conflicts.conflicts[0]
    assert c.field == "journal" and "Kunming" in c.label
    assert conflicts.model.rowCount() == 1
    values = [conflicts.values.item(i).text() for i in range(conflicts.values.count())]
    sams = next(i for i, v in enumerate(values) if "Sam's journal" in v)
    assert CODER_B in values[sams]
    conflicts.values.setCurrentRow(sams)
    conflicts.keep_button.click()
    assert window.session.store.get("study", kunming).journal == "Sam's journal"
    assert conflicts.conflicts == [] and conflicts.model.rowCount() == 0
    conflicts.close()


def test_deleted_versus_edited_is_settled_by_keeping_or_restoring(
        open_window: Any, project: Path, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    with Session.open(project, coder=CODER_A) as lan:
        ex = lan.store.list("excerpt", owner_id=coder_id(CODER_A))[0]
    copy = _coder_copy(project, tmp_path, monkeypatch,
                       lambda sam: None)
    monkeypatch.setenv("CMO_DESK_CONFIG_DIR", str(tmp_path / "lan2"))
    with Session.open(copy, coder=CODER_A) as lan_laptop:
        coding.update_excerpt(lan_laptop, ex.id, {"memo": "still needed"})
    monkeypatch.setenv("CMO_DESK_CONFIG_DIR", str(tmp_path / "config"))
    with Session.open(project, coder=CODER_A) as lan:
        coding.delete_excerpt(lan, ex.id)
        merging.merge_projects(lan, [copy])
    window = open_window(study=None)
    view = open_conflicts(window)
    exists = [c for c in view.conflicts if c.field == "exists"]
    if not exists:
        pytest.skip("this edit and deletion did not conflict")
    view.select(exists[0].number)
    assert view.restore_button.isEnabled() and not view.keep_button.isVisible()
    view.restore_button.click()
    assert window.session.store.get("excerpt", ex.id) is not None
    view.close()


def test_cancelled_merge_changes_nothing_and_a_wrong_file_is_refused(
        open_window: Any, dialogs: TeamDialogs, project: Path, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch, qtbot: Any) -> None:
    copy = _coder_copy(project, tmp_path, monkeypatch, lambda sam: coding.create_cmoc(
        sam, _study(sam, "Kunming 2016"), {"statement": "should not arrive"}))
    window = open_window(study=None)
    before = window.session.store.count("cmoc")
    release = threading.Event()
    real = merging.merge_projects

    def slow(session: Session, others: Any, dry_run: bool = False,
             before_write: Any = None) -> Any:
        def held() -> None:  # the files are read and checked; writing is about to begin
            release.wait(10)
            if before_write is not None:
                before_write()
        return real(session, others, dry_run, held)

    monkeypatch.setattr(merging, "merge_projects", slow)
    task = merge_flow.start_merge(window, [copy])
    with qtbot.waitSignal(task.signals.cancelled, timeout=15000):
        task.cancel()
        release.set()
    assert window.runner.wait(5000)
    assert window.session.store.count("cmoc") == before
    assert not dialogs.shown and not dialogs.errors

    other = tmp_path / "other.cmo"
    Session.create(other, coder="Someone", title="Another review").close()
    task = merge_flow.start_merge(window, [other])
    with qtbot.waitSignal(task.signals.failed, timeout=15000):
        pass
    assert window.runner.wait(5000)
    assert dialogs.errors and "other.cmo" in dialogs.errors[-1]
    assert window.session.store.count("cmoc") == before and not dialogs.shown


def test_the_desk_reads_each_chosen_file_once(
        open_window: Any, dialogs: TeamDialogs, project: Path, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch, qtbot: Any) -> None:
    """A bundle is unpacked, and a copy checked, once per merge: not once for a preview and again
    for each step of the merge."""
    from cmo_desk.store import merging as store_merging

    copy = _coder_copy(project, tmp_path, monkeypatch, lambda sam: coding.create_cmoc(
        sam, _study(sam, "Kunming 2016"), {"statement": "Sam's reading of Kunming"}))
    with Session.open(copy, coder=CODER_B) as sam:
        bundle, _n, _blobs = merging.make_delta_bundle(sam, tmp_path / "sam.cmobundle", project)
    opened: list[str] = []
    real = store_merging.reading

    def counted(path: Path) -> Any:
        opened.append(Path(path).name)
        return real(path)

    monkeypatch.setattr(store_merging, "reading", counted)
    window = open_window(study=None)
    shown: list[merge_flow.MergeSummary] = []
    dialogs.answer_dialog = lambda d: shown.append(d) or QDialog.DialogCode.Rejected
    dialogs.paths = [str(bundle)]
    window.merge_projects()
    qtbot.waitUntil(lambda: bool(shown), timeout=15000)
    assert window.runner.wait(5000)
    assert opened == ["sam.cmobundle"]
    assert shown[0].reports[0].new_changes > 0
    assert any(c.statement == "Sam's reading of Kunming"
               for c in window.session.store.list("cmoc"))


def test_a_codebook_cycle_is_shown_by_code_names(
        open_window: Any, dialogs: TeamDialogs, project: Path, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch, qtbot: Any) -> None:
    """Two laptops moved two codes under each other: the conflict lists the moves by the codes'
    names, never by their ids, in the table and in the list of values to keep."""
    with Session.open(project, coder=CODER_A) as lan:
        codes = sorted(lan.store.list("code"), key=lambda c: c.name)[:2]
    first, second = codes
    copy = _coder_copy(project, tmp_path, monkeypatch, lambda sam: coding.update_code(
        sam, second.id, {"parent_id": first.id}))
    with Session.open(project, coder=CODER_A) as lan:
        coding.update_code(lan, first.id, {"parent_id": second.id})
        merging.merge_projects(lan, [copy])
    window = open_window(study=None)
    view = open_conflicts(window)
    cycle = [c for c in view.conflicts if c.kind == "parent_cycle"]
    assert cycle, [c.kind for c in view.conflicts]
    view.select(cycle[0].number)
    row = cycle[0].number - 1
    shown = " ".join(view.model.index(row, col).data() for col in range(view.model.columnCount()))
    values = [view.values.item(i).text() for i in range(view.values.count())]
    for text in (shown, *values):
        assert first.id not in text and second.id not in text, text
        assert first.id[:8] not in text and second.id[:8] not in text, text
    assert any(first.name in v and second.name in v for v in values)
    assert f"{first.name} under {second.name}" in " ".join(values)
    assert f"{second.name} under {first.name}" in " ".join(values)
    # keeping one move by clicking it: the other code goes to the top level
    moved = next(i for i, v in enumerate(values) if f"{first.name} under {second.name}" in v)
    item = view.values.item(moved)
    QTest.mouseClick(view.values.viewport(), Qt.MouseButton.LeftButton,
                     pos=view.values.visualItemRect(item).center())
    QTest.mouseClick(view.keep_button, Qt.MouseButton.LeftButton)
    store = window.session.store
    assert store.get("code", first.id).parent_id == second.id
    assert store.get("code", second.id).parent_id is None
    assert not [c for c in view.conflicts if c.kind == "parent_cycle"]
    view.close()


def test_duplicates_are_listed_and_accepted(open_window: Any) -> None:
    window = open_window(study=None)
    s = window.session
    nairobi = next(st for st in s.store.list("study") if st.label == "Nairobi 2021")
    coding.update_study(s, nairobi.id, {"doi": "10.1000/demo.nairobi"})
    twin, _ = coding.add_study(s, {"label": "Nairobi again", "title": nairobi.title,
                                   "year": nairobi.year, "doi": "10.1000/DEMO.NAIROBI"})
    view = open_duplicates(window)
    rows = [view.model.item(r) for r in range(view.model.rowCount())]
    mine = next(p for p in rows if {p.keep_id, p.duplicate_id} == {nairobi.id, twin})
    view.table.selectRow(rows.index(mine))
    assert view.accept_selected()
    gone = s.store.get("study", mine.duplicate_id)
    assert gone.merged_into == mine.keep_id
    assert all({p.keep_id, p.duplicate_id} != {nairobi.id, twin}
               for p in (view.model.item(r) for r in range(view.model.rowCount())))

    coding.add_code(s, "Trust", "mechanism")
    view.refresh()
    rows = [view.model.item(r) for r in range(view.model.rowCount())]
    twin_code = next(p for p in rows if p.kind == "code")
    view.table.selectRow(rows.index(twin_code))
    assert view.reject_selected()
    assert all({p.keep_id, p.duplicate_id} != {twin_code.keep_id, twin_code.duplicate_id}
               for p in duplicates.find_duplicates(s))
    assert s.store.get("code", twin_code.duplicate_id).merged_into is None
    view.close()


def test_agreement_report_in_a_table_and_saved(open_window: Any, dialogs: TeamDialogs,
                                               tmp_path: Path) -> None:
    window = open_window(study=None)
    view = open_agreement(window)
    assert "2 of 5" in view.headline.text()
    pooled = [view.codes_model.index(0, c).data() for c in range(view.codes_model.columnCount())]
    assert pooled[0] == "All codes (pooled)" and int(pooled[1]) > 0
    assert view.codes_model.rowCount() == 1 + len(view.report.per_code)
    assert view.overlap_model.rowCount() == len(view.report.overlaps)
    dialogs.save_answer = str(tmp_path / "agreement.csv")
    assert view.save() == str(tmp_path / "agreement.csv")
    lines = (tmp_path / "agreement.csv").read_text(encoding="utf-8-sig").splitlines()
    assert sum(line.startswith("code,") for line in lines) == len(view.report.per_code)
    assert sum(line.startswith("pooled,") for line in lines) == 1
    dialogs.save_answer = str(tmp_path / "agreement.txt")
    assert view.save() is None and ".docx or .csv" in dialogs.errors[-1]
    view.coder_list.item(1).setCheckState(view.coder_list.item(1).checkState().Unchecked)
    assert view.compute() is None and "two" in view.headline.text()
    view.close()


def test_assigning_a_study_to_coders(open_window: Any, dialogs: TeamDialogs) -> None:
    window = open_window(study="Nairobi 2021")

    def answer(dialog: reconcile_view.AssignDialog) -> int:
        dialog.check(CODER_B)
        dialog.new_names.setText("Mei Chen")
        return QDialog.DialogCode.Accepted

    dialogs.answer_dialog = answer
    assert reconcile_view.assign_study(window)
    status = coding.study_status(window.session, window.study_id)
    assert status[coder_id(CODER_B)] == "assigned" and status[coder_id("Mei Chen")] == "assigned"
    assert any(c.name == "Mei Chen" for c in window.session.coders())


def test_backups_view_restores_and_keeps_the_current_file(open_window: Any, qtbot: Any) -> None:
    window = open_window(study=None)
    view = open_backups(window)
    made = view.back_up_now()
    assert made is not None and view.model.rowCount() >= 1
    assert view.model.item(0).path == made
    s = window.session
    kunming = _study(s, "Kunming 2016")
    coding.update_study(s, kunming, {"journal": "Edited after the backup"})
    successor = view.restore_selected()
    assert successor is not None
    qtbot.addWidget(successor)
    try:
        assert successor.session.store.get("study", kunming).journal != "Edited after the backup"
        kept = [b for b in backups.list_backups(successor.session.path)
                if b.reason == "before-restore"]
        assert kept
        with readable_copy(kept[0].path) as plain, Session.open(plain, read_only=True) as old:
            assert old.store.get("study", kunming).journal == "Edited after the backup"
        assert "Restored" in successor.statusBar().currentMessage()
    finally:
        successor.close()
        assert successor.runner.pool.activeThreadCount() == 0


def test_a_damaged_project_is_offered_its_latest_good_backup(
        project: Path, dialogs: TeamDialogs) -> None:
    backups.backup_before(project, "manual")
    data = project.read_bytes()
    project.write_bytes(data[: len(data) // 2])
    damaged = project.read_bytes()

    dialogs.restore_answer = False
    with pytest.raises(Cancelled):
        open_with_recovery(project, CODER_A, dialogs)
    assert project.read_bytes() == damaged
    message, name = dialogs.restore_offers[-1]
    assert "damaged" in message and name.endswith(".cmo.gz")

    dialogs.restore_answer = True
    session = open_with_recovery(project, CODER_A, dialogs)
    try:
        assert session.store.count("study") == 5
    finally:
        session.close()
    kept = [b for b in backups.list_backups(project) if b.reason == "damaged"]
    assert kept and kept[0].path.read_bytes() == damaged
    assert "Restored the backup" in dialogs.infos[-1]


class ClickedRecovery(Dialogs):
    """The real rescue question, answered by clicking one of its buttons."""

    def __init__(self, button_text: str) -> None:
        super().__init__(None)
        self.button_text = button_text
        self.infos: list[str] = []
        self.seen: list[str] = []

    def ask_recovery(self, message: str, backup_name: str) -> str | None:
        def click() -> None:
            box = QApplication.activeModalWidget()
            assert isinstance(box, QMessageBox)
            self.seen.extend(b.text() for b in box.buttons())
            button = next(b for b in box.buttons() if b.text().startswith(self.button_text))
            QTest.mouseClick(button, Qt.MouseButton.LeftButton)

        QTimer.singleShot(0, click)
        return super().ask_recovery(message, backup_name)

    def info(self, message: str) -> None:
        self.infos.append(message)


def test_rescuing_a_damaged_project_keeps_the_work_since_its_backup(
        project: Path, qtbot: Any) -> None:
    """The work done after the last backup is in the damaged file's log: rescuing opens a new
    file holding it, and leaves both the damaged file and the backup as they were."""
    backups.backup_before(project, "manual")
    with Session.open(project, coder=CODER_A) as session:
        kunming = _study(session, "Kunming 2016")
        coding.update_study(session, kunming, {"journal": "Edited after the backup"})
    con = sqlite3.connect(project)
    pages = [n for (n,) in con.execute("SELECT pageno FROM dbstat WHERE name = 'study'")]
    size = con.execute("PRAGMA page_size").fetchone()[0]
    con.close()
    data = bytearray(project.read_bytes())
    start = (pages[0] - 1) * size
    data[start:start + size] = b"\xff" * size  # the visible study table is lost; the log is not
    project.write_bytes(bytes(data))
    damaged = project.read_bytes()

    dialogs = ClickedRecovery("Rescue my work")
    session = open_with_recovery(project, CODER_A, dialogs)
    try:
        assert any(t.startswith("Restore latest good backup") for t in dialogs.seen)
        assert session.path != project and session.path.exists()
        assert session.store.get("study", kunming).journal == "Edited after the backup"
        assert "changes from the damaged file" in dialogs.infos[-1]
    finally:
        session.close()
    assert project.read_bytes() == damaged


def test_closing_the_rescue_question_leaves_everything(project: Path, qtbot: Any) -> None:
    backups.backup_before(project, "manual")
    project.write_bytes(project.read_bytes()[:8192])
    damaged = project.read_bytes()
    before = sorted(p.name for p in project.parent.iterdir())
    with pytest.raises(Cancelled):
        open_with_recovery(project, CODER_A, ClickedRecovery("Close"))
    assert project.read_bytes() == damaged
    assert sorted(p.name for p in project.parent.iterdir()) == before


def test_damaged_project_without_backup_says_so(project: Path, dialogs: TeamDialogs) -> None:
    project.write_bytes(b"SQLite format 3\x00" + b"\x00" * 100)
    with pytest.raises(Exception, match="no backup"):
        open_with_recovery(project, CODER_A, dialogs)
    assert not dialogs.restore_offers


def test_team_tables_pass_qt_model_tests(open_window: Any, qtmodeltester: Any) -> None:
    window = open_window(study=None)
    agreement = open_agreement(window)
    backups_view = open_backups(window)
    backups_view.back_up_now()
    conflicts = open_conflicts(window)
    duplicates = open_duplicates(window)
    for model in (agreement.codes_model, agreement.overlap_model, backups_view.model,
                  conflicts.model, duplicates.model):
        qtmodeltester.check(model)
    assert agreement.codes_model.rowCount() > 1 and backups_view.model.rowCount() >= 1
    for view in (agreement, backups_view, conflicts, duplicates):
        view.close()


def test_with_three_coders_the_pair_of_coders_can_be_chosen(open_window: Any,
                                                            project: Path) -> None:
    window = open_window(study="Hanoi 2019")
    hanoi = window.study_id
    mei = Session(window.session.store, "Mei Chen")
    coding.create_cmoc(mei, hanoi, {"statement": "Mei's reading of Hanoi"})
    view = reconcile_view.open_reconciliation(window)
    assert view.coder_a_box.isEnabled() and view.coder_a_box.count() == 3
    view.set_coders(coder_id(CODER_A), coder_id("Mei Chen"))
    owners = {(c.pair.a or c.pair.b).owner_id for c in view.cards}
    assert owners == {coder_id(CODER_A), coder_id("Mei Chen")}
    assert any(c.pair.b and c.pair.b.statement == "Mei's reading of Hanoi" for c in view.cards)
    view.set_coders(coder_id("Mei Chen"), coder_id("Mei Chen"))
    assert view.cards == [] and view.view is None
    view.close()


def test_opening_a_damaged_project_from_the_desk_leaves_it_alone_when_declined(
        open_window: Any, dialogs: TeamDialogs, tmp_path: Path) -> None:
    window = open_window(study=None)
    other = tmp_path / "other.cmo"
    shutil.copyfile(window.session.path, other)
    backups.backup_before(other, "manual")
    other.write_bytes(other.read_bytes()[:5000])
    damaged = other.read_bytes()
    dialogs.restore_answer = False
    window.open_path(str(other))
    assert dialogs.restore_offers and "left as it is" in dialogs.errors[-1]
    assert other.read_bytes() == damaged and window.isVisible()


def test_a_project_open_elsewhere_opens_read_only_and_says_who_has_it(
        open_window: Any, project: Path) -> None:
    import subprocess
    import sys

    holder = subprocess.Popen(
        [sys.executable, "-c",
         "import sys\n"
         "from cmo_desk.store.project_store import ProjectStore\n"
         f"s = ProjectStore.open({str(project)!r}, coder='Sam Okafor')\n"
         "print('ready', flush=True)\n"
         "sys.stdin.readline()\n"
         "s.close()\n"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "ready"
        window = open_window(study="Hanoi 2019")
        assert window.session.read_only
        assert window.banner.isVisible() and "Sam Okafor" in window.banner.text()
        assert not window.doc_view.can_mark
    finally:
        holder.communicate("\n", timeout=30)


def test_reconciliation_shows_the_chosen_values_in_the_desk_language(
        open_window: Any, dialogs: TeamDialogs) -> None:
    from cmo_desk.domain.i18n import set_language, tr

    set_language("ru")
    try:
        window = open_window(study="Odessa 2017")
        view = reconcile_view.open_reconciliation(window)
        card = _pair(view)
        pair = card.pair
        assert (pair.a.confidence, pair.b.confidence) == ("moderate", "high")
        a_cell, b_cell = card.different_cells["confidence"]
        assert (a_cell.text(), b_cell.text()) == (tr("moderate", "ru"), tr("high", "ru"))
        assert tr("high", "ru") != "high"
        shown: list[list[str]] = []

        def answer(editor: reconcile_view.ConsensusEditor) -> int:
            combo = editor.editors["outcome_intended"]
            shown.append([combo.itemText(i) for i in range(combo.count())])
            editor.use_b_buttons["confidence"].click()
            return QDialog.DialogCode.Accepted

        dialogs.answer_dialog = answer
        assert view.make_consensus(pair)
        assert shown == [["", tr("intended", "ru"), tr("unintended", "ru")]]
        made = [c for c in window.session.store.list("consensus", study_id=view.study_id)
                if set(c.source_ids) == {pair.a.id, pair.b.id}]
        # what is stored stays the value, whatever the language shown
        assert made[-1].confidence == "high" and made[-1].outcome_intended == "intended"
        view.close()
    finally:
        set_language("en")


def test_reconciliation_shows_an_edit_that_arrives_while_it_is_open(open_window: Any,
                                                                    qtbot: Any) -> None:
    window = open_window(study="Hanoi 2019")
    view = reconcile_view.open_reconciliation(window)
    pair = _pair(view).pair
    sam_cmoc = pair.b if pair.b.owner_id == coder_id(CODER_B) else pair.a
    # Sam's change comes in (a merge, or Sam at this desk) while the window is open
    sam = Session(window.session.store, CODER_B)
    window.session.announce(coding.update_cmoc(sam, sam_cmoc.id,
                                               {"context": "Clinic staff now welcome peers"}))
    qtbot.waitUntil(lambda: any(
        getattr(c.pair.a, "context", None) == "Clinic staff now welcome peers"
        or getattr(c.pair.b, "context", None) == "Clinic staff now welcome peers"
        for c in view.cards))
    view.close()


def test_a_consensus_whose_source_changed_on_a_coders_laptop_says_so(
        open_window: Any, dialogs: TeamDialogs, tmp_path: Path, qtbot: Any,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """The coordinator makes a consensus; the other coder then rewords her CMOC on her own
    laptop and her copy is merged. The consensus card must not stand silently on wording that
    is no longer there."""
    window = open_window(study="Hanoi 2019")
    view = reconcile_view.open_reconciliation(window)
    pair = _pair(view).pair
    dialogs.answer_dialog = lambda editor: QDialog.DialogCode.Accepted
    QTest.mouseClick(_pair(view).consensus_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: len(view.consensus_cards) == 1)
    card = view.consensus_cards[0]
    assert not card.warning.isVisibleTo(card)
    window.session.store.settle()
    theirs = tmp_path / "sam" / "project.cmo"
    theirs.parent.mkdir()
    shutil.copyfile(window.session.path, theirs)
    monkeypatch.setenv("CMO_DESK_CONFIG_DIR", str(tmp_path / "sam-config"))
    b_owner = pair.b.owner_id
    with Session.open(theirs, coder=CODER_B) as s:
        assert coder_id(CODER_B) == b_owner
        coding.update_cmoc(s, pair.b.id, {"outcome": "Fewer women started ART after all"})
    merging.merge_projects(window.session, [theirs])
    qtbot.waitUntil(lambda: view.consensus_cards and view.consensus_cards[0] is not card)
    card = view.consensus_cards[0]
    assert card.warning.isVisibleTo(card)
    text = card.warning.text()
    assert CODER_B in text and reconcile_view.slot_titles()["outcome"] in text
    assert CODER_A not in text


def test_agreement_names_the_studies_it_leaves_out_and_waits_for_submission(
        open_window: Any, dialogs: TeamDialogs, tmp_path: Path, qtbot: Any,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Hanoi is assigned to both coders; only Lan has submitted it. Sam's unfinished coding is not
    counted as disagreement, the view says so, and once his submitted copy is merged and the
    coordinator presses Compute, Hanoi counts."""
    window = open_window(study="Hanoi 2019")
    session = window.session
    hanoi = _study(session, "Hanoi 2019")
    coding.assign(session, hanoi, [coder_id(CODER_A), coder_id(CODER_B)])
    coding.submit_study(session, hanoi)
    session.store.settle()
    theirs = tmp_path / "sam" / "project.cmo"
    theirs.parent.mkdir()
    shutil.copyfile(session.path, theirs)
    view = open_agreement(window)
    assert "1 of 5" in view.headline.text()
    notes = view.notes.text()
    assert f"Hanoi 2019 ({CODER_B})" in notes
    single = [s.label for s in session.store.list("study")
              if s.label not in ("Hanoi 2019",) and s.id in {
                  x.study_id for x in view.report.left_out if x.reason == "one_coder"}]
    assert single and all(label in notes for label in single)
    monkeypatch.setenv("CMO_DESK_CONFIG_DIR", str(tmp_path / "sam-config"))
    with Session.open(theirs, coder=CODER_B) as s:
        coding.submit_study(s, hanoi)
    merging.merge_projects(session, [theirs])
    QTest.mouseClick(view.compute_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "2 of 5" in view.headline.text())
    assert "Hanoi 2019" not in view.notes.text()
    view.close()


def test_undo_in_the_reconcile_view_takes_back_the_consensus_and_redo_makes_it_again(
        open_window: Any, dialogs: TeamDialogs, qtbot: Any) -> None:
    """The coordinator makes a consensus from the wrong pair (or with the wrong wording) and
    presses Ctrl+Z in the reconcile view: the consensus goes, the coders' CMOCs are no longer
    marked reconciled, and nothing else the coordinator did earlier is undone instead."""
    window = open_window(study="Hanoi 2019")
    session = window.session
    doc = next(d for d in session.store.list("document") if d.study_id == window.study_id)
    earlier = window.actions.add_excerpt(doc.id, 0, 12, "context")  # the step before
    assert earlier is not None
    view = reconcile_view.open_reconciliation(window)
    card = _pair(view)
    pair = card.pair
    before = {c.id: session.store.get("cmoc", c.id).status for c in (pair.a, pair.b)}
    assert set(before.values()) != {rec.CmocStatus.RECONCILED.value}
    dialogs.answer_dialog = lambda editor: QDialog.DialogCode.Accepted
    QTest.mouseClick(card.consensus_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: len(view.consensus_cards) == 1)
    made = view.consensus_cards[0].item.id
    assert session.store.get("cmoc", pair.a.id).status == rec.CmocStatus.RECONCILED.value
    assert window.undo_stack.steps.undo_text() == tr("Make consensus")

    view.activateWindow()
    qtbot.waitUntil(view.isActiveWindow)
    QTest.keyClick(view, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: not view.consensus_cards)
    assert session.store.get("consensus", made) is None
    assert {c: session.store.get("cmoc", c).status for c in before} == before
    assert session.store.get("excerpt", earlier) is not None  # the earlier step stays

    QTest.keyClick(view, Qt.Key.Key_Z,
                   Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
    qtbot.waitUntil(lambda: len(view.consensus_cards) == 1)
    again = session.store.get("consensus", made)
    assert again is not None and set(again.source_ids) == {pair.a.id, pair.b.id}
    assert session.store.get("cmoc", pair.b.id).status == rec.CmocStatus.RECONCILED.value
    view.close()


def test_undo_in_the_reconcile_view_puts_a_cmoc_set_aside_back(
        open_window: Any, dialogs: TeamDialogs, qtbot: Any) -> None:
    window = open_window(study="Hanoi 2019")
    session = window.session
    view = reconcile_view.open_reconciliation(window)
    card = next(c for c in view.cards if (c.pair.a is None) != (c.pair.b is None))
    cmoc = card.pair.a or card.pair.b
    before = session.store.get("cmoc", cmoc.id)
    dialogs.text_answer = "Outside the review question"
    QTest.mouseClick(card.set_aside_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: session.store.get("cmoc", cmoc.id).status
                    == rec.CmocStatus.SET_ASIDE.value)
    view.activateWindow()
    qtbot.waitUntil(view.isActiveWindow)
    QTest.keyClick(view, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    after = session.store.get("cmoc", cmoc.id)
    assert (after.status, after.set_aside_reason) == (before.status, before.set_aside_reason)
    view.close()


def test_a_consensus_can_be_deleted_from_its_card_and_the_delete_undone(
        open_window: Any, dialogs: TeamDialogs, qtbot: Any) -> None:
    """A consensus whose source changed since is deleted from its card: the coders' CMOCs
    regain the status they had before it, read from the change log; Ctrl+Z brings it back."""
    window = open_window(study="Hanoi 2019")
    session = window.session
    view = reconcile_view.open_reconciliation(window)
    card = _pair(view)
    pair = card.pair
    before = {c.id: session.store.get("cmoc", c.id).status for c in (pair.a, pair.b)}
    assert all(before.values())  # the demo's CMOCs were submitted or drafted
    dialogs.answer_dialog = lambda editor: QDialog.DialogCode.Accepted
    QTest.mouseClick(card.consensus_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: len(view.consensus_cards) == 1)
    made = view.consensus_cards[0].item.id

    QTest.mouseClick(view.consensus_cards[0].delete_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not view.consensus_cards)
    assert session.store.get("consensus", made) is None
    assert {c: session.store.get("cmoc", c).status for c in before} == before
    # the coders' CMOCs are not touched otherwise, and the pair can be reconciled again
    assert session.store.get("cmoc", pair.a.id).context == pair.a.context
    assert _pair(view).consensus_button is not None

    view.activateWindow()
    qtbot.waitUntil(view.isActiveWindow)
    QTest.keyClick(view, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: len(view.consensus_cards) == 1)
    assert session.store.get("cmoc", pair.a.id).status == rec.CmocStatus.RECONCILED.value
    view.close()
