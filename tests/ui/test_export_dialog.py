"""File → Export…: the dialog's choices, its live preview, and the background export it starts."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import docx
import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QDialog

from cmo_desk.domain.i18n import tr
from cmo_desk.exporters.tables import ExportOptions
from cmo_desk.services.demo import CODER_A
from cmo_desk.services.exporting import preview_table
from cmo_desk.services.session import Session
from cmo_desk.ui import export_dialog
from cmo_desk.ui.export_dialog import ExportDialog

from .conftest import ScriptedDialogs


class ExportDialogs(ScriptedDialogs):
    """Fills in the Export dialog as a person would, then presses Export (or Cancel)."""

    def __init__(self) -> None:
        super().__init__()
        self.fill: Callable[[ExportDialog], None] = lambda d: None
        self.shown: list[ExportDialog] = []
        self.save_answer: str | None = None

    def run_dialog(self, dialog: QDialog) -> int:
        assert isinstance(dialog, ExportDialog)
        self.shown.append(dialog)
        self.fill(dialog)
        dialog.try_accept()
        return int(dialog.result())

    def save_path(self, title: str, filters: str, default: str = "") -> str | None:
        return self.save_answer


@pytest.fixture
def dialogs() -> ExportDialogs:
    return ExportDialogs()


@pytest.fixture
def session(project: Path) -> Iterator[Session]:
    with Session.open(project, coder=CODER_A) as opened:
        yield opened


@pytest.fixture
def make_dialog(qtbot: Any, session: Session, dialogs: ExportDialogs) -> Iterator[Any]:
    made: list[ExportDialog] = []

    def make() -> ExportDialog:
        dialog = ExportDialog(session, dialogs)
        qtbot.addWidget(dialog)
        made.append(dialog)
        return dialog

    yield make
    for dialog in made:
        dialog.done(QDialog.DialogCode.Rejected)
        assert dialog.runner.pool.activeThreadCount() == 0


def choose(combo: Any, value: str) -> None:
    index = combo.findData(value)
    assert index >= 0, value
    combo.setCurrentIndex(index)


def groups_of(session: Session, **options: str) -> list[tuple[str, int]]:
    table = preview_table(session, ExportOptions(**options))
    return [(g.heading, len(g.rows)) for g in table.groups]


def expected_statements(path: Path) -> list[str]:
    """Statements the default evidence table shows: consensus CMOCs and every coder CMOC that no
    consensus CMOC was built from."""
    with Session.open(path, read_only=True) as opened:
        snap = opened.store.snapshot()
    covered = {source for c in snap.consensus for source in c.source_ids}
    out: list[str] = []
    for study in snap.studies:
        agreed = [c.statement for c in snap.consensus if c.study_id == study.id]
        own = [c.statement for c in snap.cmocs
               if c.study_id == study.id and c.status != "set_aside" and c.id not in covered]
        out += agreed + own
    return out


def test_changing_group_by_updates_the_preview_groups(qtbot, make_dialog, session):
    dialog = make_dialog()
    by_study = groups_of(session, group_by="study", lang="en")
    assert dialog.preview_groups() == by_study
    assert dialog.tree.topLevelItemCount() == len(by_study)

    choose(dialog.group_combo, "code")
    # The preview waits for the choices to settle before it rebuilds.
    assert dialog.preview_groups() == by_study
    by_code = groups_of(session, group_by="code", lang="en")
    assert by_code != by_study
    qtbot.waitUntil(lambda: dialog.preview_groups() == by_code, timeout=20_000)
    shown = [dialog.tree.topLevelItem(i).text(0) for i in range(dialog.tree.topLevelItemCount())]
    assert len(shown) == len(by_code)
    for (heading, rows), text in zip(by_code, shown):
        assert heading in text and str(rows) in text
    # Each group lists its first rows by study label.
    first = dialog.tree.topLevelItem(0)
    labels = {"Odessa 2017", "Hanoi 2019", "Kunming 2016", "Nairobi 2021", "Tbilisi 2018"}
    assert first.childCount() >= 1
    assert any(first.child(0).text(0).startswith(label) for label in labels)


def test_chinese_shows_chinese_column_headings(qtbot, make_dialog):
    dialog = make_dialog()
    choose(dialog.lang_combo, "en")
    dialog.refresh_preview()
    assert "Supporting quotes" in dialog.columns_label.text()

    choose(dialog.lang_combo, "zh_CN")
    wanted = [tr(h, "zh_CN") for h in ("Study", "Context", "Supporting quotes", "Appraisal")]
    assert all(w not in ("Study", "Context", "Supporting quotes", "Appraisal") for w in wanted)
    qtbot.waitUntil(lambda: all(w in dialog.columns_label.text() for w in wanted),
                    timeout=20_000)
    assert "Supporting quotes" not in dialog.columns_label.text()
    assert tr("CMOC evidence table", "zh_CN") in dialog.summary.text()


def test_export_writes_the_word_table_in_the_background(qtbot, open_window, dialogs, project,
                                                        tmp_path, monkeypatch):
    out = tmp_path / "evidence.docx"

    def fill(dialog: ExportDialog) -> None:
        choose(dialog.table_combo, "evidence")
        choose(dialog.group_combo, "study")
        choose(dialog.records_combo, "consensus")
        choose(dialog.lang_combo, "en")
        choose(dialog.format_combo, ".docx")
        dialog.path_edit.setText(str(out))

    dialogs.fill = fill
    window = open_window()
    # Everyone's work is shown (View → Show other coders' work), so everyone's is exported.
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow, timeout=2000)
    QTest.keyClick(window.focusWidget() or window, Qt.Key.Key_O,
                   Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
    assert window.show_others
    task = window.export_project()
    assert task is not None
    qtbot.waitUntil(lambda: out.exists() and not window.runner.busy(), timeout=15000)
    assert window.runner.wait(5000)
    assert not dialogs.errors

    document = docx.Document(str(out))
    rows = [row for table in document.tables for row in table.rows[1:]]
    statements = expected_statements(project)
    assert len(rows) == len(statements)
    texts = [cell.text for row in rows for cell in row.cells]
    for statement in statements:
        assert sum(statement in t for t in texts) == 1, statement

    qtbot.waitUntil(lambda: "evidence.docx" in window.statusBar().currentMessage(),
                    timeout=20_000)
    button = window.open_export_folder_button
    assert button.isVisible()
    opened: list[Path] = []
    monkeypatch.setattr(export_dialog, "reveal_folder", lambda path: opened.append(path))
    button.click()
    assert opened == [out]


def test_bad_extension_shows_the_reason_and_writes_nothing(qtbot, open_window, dialogs, tmp_path):
    target = tmp_path / "evidence.txt"
    dialogs.fill = lambda d: d.path_edit.setText(str(target))
    window = open_window()
    before = sorted(tmp_path.iterdir())

    assert window.export_project() is None
    dialog = dialogs.shown[-1]
    assert dialog.result() == QDialog.DialogCode.Rejected
    assert dialog.message.isVisibleTo(dialog)
    assert "evidence.txt" in dialog.message.text() and ".docx" in dialog.message.text()
    assert not window.runner.busy()
    assert sorted(tmp_path.iterdir()) == before


def test_missing_folder_is_refused_before_anything_runs(qtbot, make_dialog, tmp_path):
    dialog = make_dialog()
    dialog.path_edit.setText(str(tmp_path / "no such folder" / "evidence.docx"))
    dialog.try_accept()
    assert dialog.result() != QDialog.DialogCode.Accepted
    assert "folder does not exist" in dialog.message.text()
    assert not (tmp_path / "no such folder").exists()


def test_refi_formats_turn_off_the_table_options(qtbot, make_dialog, tmp_path):
    dialog = make_dialog()
    dialog.path_edit.setText(str(tmp_path / "review.docx"))
    table_options = (dialog.table_combo, dialog.group_combo, dialog.records_combo,
                     dialog.lang_combo)
    assert all(c.isEnabled() for c in table_options)

    choose(dialog.format_combo, ".qdpx")
    assert not any(c.isEnabled() for c in table_options)
    assert dialog.path() == str(tmp_path / "review.qdpx")
    dialog.refresh_preview()
    assert dialog.preview_groups() == [] and dialog.tree.isHidden()

    choose(dialog.format_combo, ".qdc")
    assert not any(c.isEnabled() for c in table_options)
    # Typing a table format's name brings the options back.
    dialog.path_edit.textEdited.emit(str(tmp_path / "review.xlsx"))
    assert dialog.suffix() == ".xlsx"
    assert all(c.isEnabled() for c in table_options)


def test_study_table_has_no_grouping_or_record_choice(qtbot, make_dialog):
    dialog = make_dialog()
    choose(dialog.table_combo, "studies")
    assert not dialog.group_combo.isEnabled() and not dialog.records_combo.isEnabled()
    choose(dialog.table_combo, "excerpts")
    assert dialog.group_combo.isEnabled() and not dialog.records_combo.isEnabled()


def test_browse_fills_the_path_and_follows_its_format(qtbot, make_dialog, dialogs, tmp_path):
    dialog = make_dialog()
    dialogs.save_answer = str(tmp_path / "for-r.csv")
    dialog.browse()
    assert dialog.path() == str(tmp_path / "for-r.csv")
    assert dialog.suffix() == ".csv"
    dialogs.save_answer = str(tmp_path / "no-extension")
    dialog.browse()
    assert dialog.path() == str(tmp_path / "no-extension.csv")


def test_last_choices_come_back_in_the_same_session(qtbot, open_window, dialogs, tmp_path):
    def fill(dialog: ExportDialog) -> None:
        choose(dialog.group_combo, "theory")
        choose(dialog.lang_combo, "zh_CN")
        dialog.path_edit.setText(str(tmp_path / "missing" / "x.docx"))

    dialogs.fill = fill
    window = open_window()
    window.export_project()
    dialogs.fill = lambda d: None
    window.export_project()
    again = dialogs.shown[-1]
    assert again.group_combo.currentData() == "theory"
    assert again.lang_combo.currentData() == "zh_CN"
    assert again.path() == str(tmp_path / "missing" / "x.docx")


def test_large_projects_preview_in_the_background(qtbot, make_dialog, session, monkeypatch):
    monkeypatch.setattr(export_dialog, "LARGE_PROJECT_RECORDS", 1)
    dialog = make_dialog()
    assert dialog.slow_preview and dialog.table is None
    lang = dialog.lang_combo.currentData()
    qtbot.waitUntil(lambda: dialog.preview_groups() == groups_of(session, lang=lang),
                    timeout=20_000)
    # Quick changes while a preview is being built: only the last one is shown.
    choose(dialog.group_combo, "code")
    dialog.refresh_preview()
    choose(dialog.group_combo, "theory")
    dialog.refresh_preview()
    by_theory = groups_of(session, group_by="theory", lang=lang)
    qtbot.waitUntil(lambda: dialog.preview_groups() == by_theory and not dialog.runner.busy(),
                    timeout=20_000)
    assert dialog.runner.wait(5000)
    assert dialog.preview_groups() == by_theory


def test_cancelled_export_leaves_no_file(qtbot, open_window, dialogs, tmp_path):
    out = tmp_path / "cancelled.docx"
    dialogs.fill = lambda d: d.path_edit.setText(str(out))
    window = open_window()
    task = window.export_project()
    task.cancel()
    qtbot.waitUntil(lambda: not window.runner.busy(), timeout=15000)
    assert window.runner.wait(5000)
    assert not out.exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith("cancelled")]
    assert window.statusBar().currentMessage() == tr("Cancelled; nothing was changed.")
    assert not dialogs.errors


def test_coding_blind_the_preview_and_the_file_hold_only_my_own_work(qtbot, open_window, dialogs,
                                                                     project, tmp_path):
    out = tmp_path / "mine.csv"
    seen: dict[str, Any] = {}

    def fill(dialog: ExportDialog) -> None:
        choose(dialog.table_combo, "evidence")
        choose(dialog.format_combo, ".csv")
        dialog.path_edit.setText(str(out))
        dialog.refresh_preview()
        seen["rows"] = [row for _, row in dialog.table.iter_rows()]
        seen["note"] = dialog.options_note.text()
        seen["records_enabled"] = dialog.records_combo.isEnabled()

    dialogs.fill = fill
    window = open_window()
    assert not window.show_others  # other coders' work is hidden: coding blind
    with Session.open(project, read_only=True) as opened:
        snap = opened.store.snapshot()
    me = next(c.id for c in snap.coders if c.name == CODER_A)
    mine = {c.statement for c in snap.cmocs if c.owner_id == me and c.status != "set_aside"}
    theirs = {c.statement for c in snap.cmocs if c.owner_id != me} | {
        c.statement for c in snap.consensus}
    assert mine and theirs
    assert window.export_project() is not None
    qtbot.waitUntil(lambda: out.exists() and not window.runner.busy(), timeout=15000)
    assert {r["statement"] for r in seen["rows"]} == mine
    assert "blind coding" in seen["note"] and not seen["records_enabled"]
    import pandas as pd

    written = pd.read_csv(out, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    assert set(written["statement"]) == mine
    assert not set(written["statement"]) & (theirs - mine)
    assert set(written["record_type"]) == {"coder"}


def test_columns_empty_slots_and_tidy_data_are_chosen_with_the_mouse(qtbot, make_dialog,
                                                                     tmp_path):
    from PySide6.QtCore import QPoint

    dialog = make_dialog()
    dialog.show()
    qtbot.waitExposed(dialog)
    choose(dialog.table_combo, "evidence")
    choose(dialog.format_combo, ".docx")
    box = dialog.column_boxes["theories"]
    QTest.mouseClick(box, Qt.MouseButton.LeftButton, pos=QPoint(8, box.height() // 2))
    assert box.isChecked()
    qtbot.waitUntil(lambda: "Programme theories" in dialog.columns_label.text(), timeout=2000)
    assert dialog.empty_combo.isEnabled() and not dialog.tidy_box.isEnabled()
    choose(dialog.empty_combo, "NR")
    assert dialog.options().columns == ("theories",) and dialog.options().empty == "NR"
    choose(dialog.format_combo, ".csv")
    assert dialog.tidy_box.isEnabled() and not dialog.empty_combo.isEnabled()
    tidy = dialog.tidy_box
    QTest.mouseClick(tidy, Qt.MouseButton.LeftButton, pos=QPoint(8, tidy.height() // 2))
    assert dialog.options().tidy and dialog.options().empty == "blank"
