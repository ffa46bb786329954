"""Team exchange at the desk, as a coordinator and a coder do it on their own laptops."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest

from cmo_desk.services import coding, merging
from cmo_desk.services.demo import CODER_A, CODER_B
from cmo_desk.services.session import Session
from cmo_desk.ui import merge_flow

from .test_teamwork_ui import TeamDialogs, _study, dialogs  # noqa: F401


def _laptop(tmp_path: Path, project: Path, name: str) -> Path:
    folder = tmp_path / name
    folder.mkdir()
    copy = folder / "project.cmo"
    shutil.copyfile(project, copy)
    return copy


def _as(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, name: str) -> None:
    monkeypatch.setenv("CMO_DESK_CONFIG_DIR", str(tmp_path / f"{name}-config"))


def _edited_at_home(tmp_path: Path, project: Path, monkeypatch: pytest.MonkeyPatch, cmoc_id: str,
                    values: dict[str, Any]) -> Path:
    """Lan's copy of the project on her laptop at home, where she changed a CMOC of hers; the
    desk's own laptop is the current one again afterwards."""
    home = _laptop(tmp_path, project, "home")
    _as(monkeypatch, tmp_path, "home")
    with Session.open(home, coder=CODER_A) as lan_at_home:
        coding.update_cmoc(lan_at_home, cmoc_id, values)
    _as(monkeypatch, tmp_path, "config")
    return home


def _merge(window: Any, dialogs: TeamDialogs, qtbot: Any, *paths: Path) -> list[Any]:
    seen: list[Any] = []

    def answer(summary: Any) -> int:
        seen.append((summary.text.text(), summary.reports))
        return 0

    dialogs.answer_dialog = answer
    task = merge_flow.start_merge(window, list(paths))
    assert task is not None
    qtbot.waitUntil(lambda: bool(seen) or bool(dialogs.errors), timeout=15000)
    assert window.runner.wait(5000)
    return seen


def _sams_copy(project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
               edit: Any) -> Path:
    """Sam works on a copy on his own laptop (its own site id), then hands the file over."""
    copy = _laptop(tmp_path, project, "sam")
    _as(monkeypatch, tmp_path, "sam")
    try:
        with Session.open(copy, coder=CODER_B) as sam:
            edit(sam)
    finally:
        _as(monkeypatch, tmp_path, "config")
    return copy


def _click_item(widget: Any, item: Any) -> None:
    QTest.mouseClick(widget.viewport(), Qt.MouseButton.LeftButton,
                     pos=widget.visualItemRect(item).center())


def test_the_open_study_deleted_in_a_merged_copy_is_shown_as_deleted_until_restored(
        open_window: Any, dialogs: TeamDialogs, project: Path, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch, qtbot: Any) -> None:
    def delete_hanoi(sam: Session) -> None:
        with sam.write() as uow:
            uow.delete("study", _study(sam, "Hanoi 2019"))

    copy = _sams_copy(project, tmp_path, monkeypatch, delete_hanoi)
    window = open_window(study="Hanoi 2019")
    hanoi = window.study_id
    assert window.cmoc_panel.new_button.isEnabled() and window.doc_view.can_mark
    assert _merge(window, dialogs, qtbot, copy)
    # the desk no longer offers to code a study that is not in the project any more: what was
    # typed there would be hidden with it
    assert window.banner.isVisible() and "deleted" in window.banner.text()
    assert "Conflicts" in window.banner.text()
    assert not window.doc_view.can_mark and not window.cmoc_panel.new_button.isEnabled()
    assert not window.study_form.widget().isEnabled()

    from cmo_desk.ui.conflicts_view import open_conflicts

    view = open_conflicts(window)
    QTest.mouseClick(view.restore_button, Qt.MouseButton.LeftButton)
    assert window.session.store.get("study", hanoi) is not None
    assert window.study_id == hanoi and not window.banner.isVisible()
    assert window.doc_view.can_mark and window.cmoc_panel.new_button.isEnabled()
    view.close()


def test_the_open_study_folded_into_another_in_a_merged_copy_opens_the_study_it_became(
        open_window: Any, dialogs: TeamDialogs, project: Path, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch, qtbot: Any) -> None:
    from cmo_desk.services import duplicates

    copy = _sams_copy(project, tmp_path, monkeypatch, lambda sam: duplicates.merge_studies(
        sam, _study(sam, "Kunming 2016"), _study(sam, "Nairobi 2021")))
    window = open_window(study="Kunming 2016")
    mine = {window.cmoc_panel.model.cmoc(r).id for r in range(window.cmoc_panel.model.rowCount())}
    assert mine
    assert _merge(window, dialogs, qtbot, copy)
    nairobi = _study(window.session, "Nairobi 2021")
    # the CMOCs the coder was looking at moved with the study: they are still in view
    assert window.study_id == nairobi
    shown = {window.cmoc_panel.model.cmoc(r).id for r in range(window.cmoc_panel.model.rowCount())}
    assert mine <= shown
    assert "Nairobi 2021" in window.study_meta.text()
    assert "Kunming 2016" in window.statusBar().currentMessage()


def test_the_open_studys_heading_shows_what_a_merge_and_a_settled_conflict_wrote(
        open_window: Any, dialogs: TeamDialogs, project: Path, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch, qtbot: Any) -> None:
    from cmo_desk.ui.conflicts_view import open_conflicts

    def sam_edits(sam: Session) -> None:
        kunming = _study(sam, "Kunming 2016")
        coding.update_study(sam, kunming, {"journal": "Sam's journal"})
        coding.update_study(sam, _study(sam, "Hanoi 2019"), {"journal": "Harm Reduction J"})

    copy = _sams_copy(project, tmp_path, monkeypatch, sam_edits)
    window = open_window(study="Hanoi 2019")
    assert _merge(window, dialogs, qtbot, copy)
    assert "Harm Reduction J" in window.study_meta.text()

    window.open_study_by_label("Kunming 2016")
    window.session.announce(coding.update_study(window.session, window.study_id,
                                                {"journal": "Lan's journal"}))
    assert "Lan's journal" in window.study_meta.text()
    _as(monkeypatch, tmp_path, "sam")
    with Session.open(copy, coder=CODER_B) as sam:
        coding.update_study(sam, _study(sam, "Kunming 2016"), {"journal": "Sam's second"})
    _as(monkeypatch, tmp_path, "config")
    assert _merge(window, dialogs, qtbot, copy)
    shown = window.session.store.get("study", window.study_id).journal
    assert shown in window.study_meta.text()
    view = open_conflicts(window)
    values = [view.values.item(i).text() for i in range(view.values.count())]
    _click_item(view.values, view.values.item(next(
        i for i, v in enumerate(values) if "Lan's journal" in v)))
    QTest.mouseClick(view.keep_button, Qt.MouseButton.LeftButton)
    assert window.session.store.get("study", window.study_id).journal == "Lan's journal"
    assert "Lan's journal" in window.study_meta.text()
    view.close()


@pytest.fixture
def stick(tmp_path: Path) -> Iterator[Path]:
    """A USB stick of its own: a small file system (mounted as root), or a skip."""
    folder = tmp_path / "stick"
    folder.mkdir()
    if not sys.platform.startswith("linux") or os.geteuid() != 0:
        pytest.skip("a small or write-protected stick is simulated with a tmpfs mount (root)")
    made = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(folder)],
                          capture_output=True)
    if made.returncode != 0:
        pytest.skip("a stick cannot be simulated here (root without mount)")
    try:
        yield folder
    finally:
        subprocess.run(["umount", "-l", str(folder)], capture_output=True)


@pytest.mark.parametrize("trouble", ["write-protected", "full"])
def test_send_my_work_onto_a_stick_that_refuses_it_says_so_and_leaves_nothing(
        open_window: Any, dialogs: TeamDialogs, project: Path, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch, qtbot: Any, stick: Path, trouble: str) -> None:
    theirs = _sams_copy(project, tmp_path, monkeypatch, lambda sam: None)
    window = open_window(study="Hanoi 2019")
    # a long memo of work that does not compress away: more than the full stick holds
    coding.create_cmoc(window.session, window.study_id,
                       {"statement": "Lan's work for Sam", "memo": os.urandom(12000).hex()})
    if trouble == "full":
        (stick / "photos.bin").write_bytes(b"\0" * 60 * 1024)
    else:
        subprocess.run(["mount", "-o", "remount,ro", str(stick)], check=True)
    dialogs.paths = [str(theirs)]
    dialogs.save_answer = str(stick / "for-sam.cmobundle")
    assert window.send_my_work() is None
    assert dialogs.errors and "for-sam.cmobundle" in dialogs.errors[-1]
    assert "Traceback" not in dialogs.errors[-1]
    assert not (stick / "for-sam.cmobundle").exists()
    assert [p.name for p in stick.iterdir()] == (["photos.bin"] if trouble == "full" else [])
    assert "Wrote" not in window.statusBar().currentMessage()


def test_a_bundle_made_for_someone_else_says_what_it_could_not_show(
        open_window: Any, dialogs: TeamDialogs, project: Path, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch, qtbot: Any) -> None:
    """Sam's bundle for Mei holds only what Mei lacked: his edit of a CMOC she already had. The
    coordinator, who never received that CMOC, is not told that a CMOC arrived as if it could
    be seen: the summary says the file was made for another copy and what completes it."""
    sam = _laptop(tmp_path, project, "sam")
    mei = _laptop(tmp_path, project, "mei")
    _as(monkeypatch, tmp_path, "sam")
    with Session.open(sam, coder=CODER_B) as s:
        coding.create_cmoc(s, _study(s, "Kunming 2016"), {"statement": "Sam's first reading"})
    _as(monkeypatch, tmp_path, "mei")
    with Session.open(mei, coder="Mei Chen") as m:
        merging.merge_projects(m, [sam])
    _as(monkeypatch, tmp_path, "sam")
    with Session.open(sam, coder=CODER_B) as s:
        cmoc = next(c for c in s.store.list("cmoc") if c.statement == "Sam's first reading")
        coding.update_cmoc(s, cmoc.id, {"statement": "Sam's second reading"})
        bundle, n, _blobs = merging.make_delta_bundle(s, tmp_path / "for-mei.cmobundle", mei)
    assert n == 1
    _as(monkeypatch, tmp_path, "config")
    window = open_window(study="Kunming 2016")
    text, reports = _merge(window, dialogs, qtbot, bundle)[0]
    assert window.session.store.get("cmoc", cmoc.id, include_deleted=True) is None
    assert reports[0].incomplete == 1
    assert "made for another copy" in text and CODER_B in text
    # the change is kept: Sam's whole copy completes the CMOC, with his latest wording
    text, reports = _merge(window, dialogs, qtbot, sam)[0]
    assert window.session.store.get("cmoc", cmoc.id).statement == "Sam's second reading"
    assert reports[0].incomplete == 0 and "made for another copy" not in text


@pytest.mark.parametrize("lang", ["en", "ru"])
def test_the_merge_summary_counts_in_the_languages_singular_and_plural(
        open_window: Any, dialogs: TeamDialogs, project: Path, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch, qtbot: Any, lang: str) -> None:
    from cmo_desk.domain.i18n import set_language, trn

    def sam_works(sam: Session) -> None:
        coding.create_cmoc(sam, _study(sam, "Kunming 2016"), {"statement": "Sam's one CMOC"})
        for label in ("Nairobi 2021", "Tbilisi 2018"):
            coding.update_study(sam, _study(sam, label), {"journal": f"{label} journal"})

    copy = _sams_copy(project, tmp_path, monkeypatch, sam_works)
    set_language(lang)
    try:
        window = open_window(study=None)
        text, reports = _merge(window, dialogs, qtbot, copy)[0]
        assert reports[0].arrived[CODER_B]["cmoc"] == 1
        assert reports[0].arrived[CODER_B]["study"] == 2
        what = re.search(r"<td>([^<]*)</td>", text).group(1).split(", ")  # Sam's row
        assert trn("{n} CMOC", "{n} CMOCs", 1).format(n=1) in what
        assert trn("{n} study", "{n} studies", 2).format(n=2) in what
        if lang == "en":
            assert "1 CMOC" in what and "2 studies" in what
    finally:
        set_language("en")


def _click_check(widget: Any, item: Any) -> None:
    """Click the check box of a list item where the style draws it."""
    from PySide6.QtWidgets import QStyle, QStyleOptionViewItem

    widget.scrollToItem(item)
    opt = QStyleOptionViewItem()
    opt.initFrom(widget)
    opt.rect = widget.visualItemRect(item)
    opt.features |= QStyleOptionViewItem.ViewItemFeature.HasCheckIndicator
    box = widget.style().subElementRect(QStyle.SubElement.SE_ItemViewItemCheckIndicator, opt,
                                        widget)
    QTest.mouseClick(widget.viewport(), Qt.MouseButton.LeftButton,
                     Qt.KeyboardModifier.NoModifier, box.center())


def test_assigning_more_coders_keeps_the_submissions_already_made(
        open_window: Any, dialogs: TeamDialogs) -> None:
    """Both demo coders submitted Odessa. The coordinator adds Mei; the dialog shows Lan and Sam
    as already coding it, and clicking Sam's box does not take his submission back."""
    from PySide6.QtWidgets import QDialog, QDialogButtonBox

    from cmo_desk.domain.ids import coder_id
    from cmo_desk.ui.assign_dialog import AssignDialog, assign_study

    window = open_window(study="Odessa 2017")
    odessa = window.study_id
    before = coding.study_status(window.session, odessa)
    assert before[coder_id(CODER_B)] == before[coder_id(CODER_A)] == "submitted"
    ticked: list[str] = []

    def answer(dialog: AssignDialog) -> int:
        items = [dialog.coder_list.item(r) for r in range(dialog.coder_list.count())]
        ticked.extend(i.text() for i in items if i.checkState() == Qt.CheckState.Checked)
        _click_check(dialog.coder_list, next(i for i in items if i.text() == CODER_B))
        QTest.keyClicks(dialog.new_names, "Mei Chen")
        ok = dialog.findChild(QDialogButtonBox).button(QDialogButtonBox.StandardButton.Ok)
        QTest.mouseClick(ok, Qt.MouseButton.LeftButton)
        return dialog.result() or QDialog.DialogCode.Rejected

    dialogs.answer_dialog = answer
    assert assign_study(window)
    assert set(ticked) == {CODER_A, CODER_B}
    after = coding.study_status(window.session, odessa)
    assert after[coder_id(CODER_B)] == after[coder_id(CODER_A)] == "submitted"
    assert after[coder_id("Mei Chen")] == "assigned"
    assert window.locked  # Lan's own submission still locks her coding
    # assigning him again by name (as `cmo-desk assign` does) keeps it too
    coding.assign(window.session, odessa, [coder_id(CODER_B)])
    assert coding.study_status(window.session, odessa)[coder_id(CODER_B)] == "submitted"


def test_a_code_deleted_while_a_colleague_used_it_names_what_uses_it(
        open_window: Any, dialogs: TeamDialogs, project: Path, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch, qtbot: Any) -> None:
    """The coordinator deletes a code that Sam, on his laptop, has just put on one of his
    excerpts. The conflict says which of Sam's excerpts still use it: "Keep it deleted" takes the
    code off them, so the person must see what they are choosing."""
    from cmo_desk.domain.ids import coder_id
    from cmo_desk.ui.conflicts_view import open_conflicts

    quote: list[str] = []

    def sam_tags(sam: Session) -> None:
        trust = next(c for c in sam.store.list("code") if c.name == "Emotional support")
        ex = sam.store.list("excerpt", owner_id=coder_id(CODER_B))[0]
        coding.set_excerpt_codes(sam, ex.id, [*ex.code_ids, trust.id])
        quote.append(ex.quote)

    copy = _sams_copy(project, tmp_path, monkeypatch, sam_tags)
    window = open_window(study=None)
    code = next(c for c in window.session.store.list("code") if c.name == "Emotional support")
    window.codebook.delete_code(code.id)
    assert window.session.store.get("code", code.id) is None
    assert _merge(window, dialogs, qtbot, copy)
    view = open_conflicts(window)
    c = next(c for c in view.conflicts if c.entity_id == code.id)
    view.select(c.number)
    values = [view.values.item(i).text() for i in range(view.values.count())]
    assert any(quote[0][:20] in v and CODER_B in v for v in values), values
    assert any(v.startswith("deleted") and CODER_A in v for v in values), values
    assert "Emotional support" in view.detail.text()
    view.close()


def test_a_cmoc_conflict_reads_in_the_desk_language(
        open_window: Any, dialogs: TeamDialogs, project: Path, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch, qtbot: Any) -> None:
    """Lan coded on two laptops and changed one CMOC's confidence on both: the conflicts window
    names the field and its values in Russian, as the CMOC panel does, not "confidence: low"."""
    from cmo_desk.domain.i18n import set_language, tr
    from cmo_desk.domain.ids import coder_id
    from cmo_desk.ui.conflicts_view import open_conflicts

    mine = Session.open(project, coder=CODER_A)
    cmoc = mine.store.list("cmoc", owner_id=coder_id(CODER_A),
                           study_id=_study(mine, "Hanoi 2019"))[0]  # not submitted
    mine.close()
    at_home, at_office = [v for v in ("high", "moderate", "low") if v != cmoc.confidence][:2]
    home = _edited_at_home(tmp_path, project, monkeypatch, cmoc.id, {"confidence": at_home})
    set_language("ru")
    try:
        window = open_window(study=None)
        coding.update_cmoc(window.session, cmoc.id, {"confidence": at_office})
        assert _merge(window, dialogs, qtbot, home)
        view = open_conflicts(window)
        row = next(r for r in range(view.model.rowCount())
                   if view.model.item(r).entity_id == cmoc.id)
        view.select(row + 1)
        assert view.model.index(row, 2).data() == tr("Confidence", "ru") != "Confidence"
        values = [view.values.item(i).text() for i in range(view.values.count())]
        assert {v.splitlines()[0] for v in values} == {tr(at_home, "ru"), tr(at_office, "ru")}
        assert tr("Confidence", "ru") in view.detail.text()
        view.close()
    finally:
        set_language("en")


def test_sending_my_work_again_offers_a_name_that_is_free(
        open_window: Any, dialogs: TeamDialogs, project: Path, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch, qtbot: Any) -> None:
    """Lan sends her work to Sam every week from the same folder. The name offered the second
    time is not last week's bundle (which the desk refuses to overwrite after the file dialog
    asked "Replace?"); both bundles stay, and Sam gets all of the work from them."""
    theirs = _sams_copy(project, tmp_path, monkeypatch, lambda sam: None)
    offered: list[str] = []

    def accept_default(title: str, filters: str, default: str = "") -> str:
        offered.append(default)
        return default

    monkeypatch.setattr(dialogs, "save_path", accept_default)
    dialogs.paths = [str(theirs)]
    window = open_window(study="Hanoi 2019")
    first = coding.create_cmoc(window.session, window.study_id, {"statement": "Week one"})
    assert window.send_my_work() is not None
    coding.create_cmoc(window.session, window.study_id, {"statement": "Week two"})
    second = window.send_my_work()
    assert second is not None and not dialogs.errors
    assert len(set(offered)) == 2 and all(Path(p).exists() for p in offered)
    assert "Wrote" in window.statusBar().currentMessage()
    _as(monkeypatch, tmp_path, "sam")
    with Session.open(theirs, coder=CODER_B) as sam:
        merging.merge_projects(sam, [Path(p) for p in offered])
        statements = {c.statement for c in sam.store.list("cmoc")}
    _as(monkeypatch, tmp_path, "config")
    assert {"Week one", "Week two"} <= statements and first


def test_undo_right_after_a_merge_does_not_settle_the_conflict_it_brought(
        open_window: Any, dialogs: TeamDialogs, project: Path, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch, qtbot: Any) -> None:
    """Lan rewrote a CMOC's context at the office and, on her laptop at home, differently.
    Merging the home copy leaves a conflict. Ctrl+Z at the office must not quietly replace both
    versions by the old text (which settled the conflict and hid the home wording)."""
    from PySide6.QtWidgets import QApplication

    from cmo_desk.domain.ids import coder_id

    with Session.open(project, coder=CODER_A) as lan:
        cmoc = lan.store.list("cmoc", owner_id=coder_id(CODER_A),
                              study_id=_study(lan, "Hanoi 2019"))[0]
    home = _edited_at_home(tmp_path, project, monkeypatch, cmoc.id, {"context": "Written at home"})
    window = open_window(study="Hanoi 2019")
    window.coding_tabs.show_cmoc(cmoc.id)
    box = window.cmoc_panel.texts["context"]
    box.setFocus()
    box.selectAll()
    QTest.keyClicks(box, "Written at the office")
    window.flush_edits()
    assert window.session.store.get("cmoc", cmoc.id).context == "Written at the office"
    assert _merge(window, dialogs, qtbot, home)
    store = window.session.store
    assert [c.field for c in store.conflicts() if c.entity_id == cmoc.id] == ["context"]

    window.activateWindow()
    QTest.keyClick(window, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    QApplication.processEvents()
    values = {v.value for c in store.conflicts() if c.entity_id == cmoc.id for v in c.values}
    assert values == {"Written at home", "Written at the office"}
    assert store.get("cmoc", cmoc.id).context in values
    assert dialogs.errors and "Conflicts" in dialogs.errors[-1]


def test_values_to_choose_between_are_shown_whole(
        open_window: Any, dialogs: TeamDialogs, project: Path, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch, qtbot: Any) -> None:
    """Two versions of a long memo that differ only near their end: the list the person
    chooses from shows each whole, so the two can be told apart."""
    from cmo_desk.domain.ids import coder_id
    from cmo_desk.ui.conflicts_view import open_conflicts

    start = "The navigators were paid late and often worked as volunteers; " * 4
    with Session.open(project, coder=CODER_A) as lan:
        cmoc = lan.store.list("cmoc", owner_id=coder_id(CODER_A),
                              study_id=_study(lan, "Hanoi 2019"))[0]
    home = _edited_at_home(tmp_path, project, monkeypatch, cmoc.id, {"memo": start + "keep for the theory."})
    window = open_window(study=None)
    coding.update_cmoc(window.session, cmoc.id, {"memo": start + "drop: off topic."})
    assert _merge(window, dialogs, qtbot, home)
    view = open_conflicts(window)
    view.select(next(c.number for c in view.conflicts if c.entity_id == cmoc.id))
    values = [view.values.item(i).text() for i in range(view.values.count())]
    assert any("keep for the theory." in v for v in values), values
    assert any("drop: off topic." in v for v in values), values
    view.close()
