"""A coder's real day at the desk, driven with real clicks, keys and wheel turns."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt

from .realinput import click_check_box, double_click_item, mouse_select, wheel


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


# -- 2. the wheel scrolls and never writes ---------------------------------------------------


def _visible_combos(scroll: Any) -> list[Any]:
    from PySide6.QtWidgets import QComboBox

    port = scroll.viewport()
    found = []
    for combo in scroll.widget().findChildren(QComboBox):
        if not combo.isVisible():
            continue
        top_left = combo.mapTo(port, combo.rect().topLeft())
        if 0 <= top_left.y() and top_left.y() + combo.height() <= port.height():
            found.append(combo)
    return found


def test_the_wheel_scrolls_the_study_form_and_changes_nothing(open_window: Any,
                                                              qtbot: Any) -> None:
    window = open_window(study="Hanoi 2019")
    window.coding_tabs.setCurrentIndex(0)
    form = window.study_form
    qtbot.waitUntil(form.isVisible)
    bar = form.verticalScrollBar()
    assert bar.maximum() > 0, "the form should be taller than the window"
    before = window.session.store.change_count()
    combos = _visible_combos(form)
    assert combos
    values = [c.currentIndex() for c in form.widget().findChildren(type(combos[0]))]
    for _ in range(6):
        shown = _visible_combos(form)
        if not shown:
            break
        wheel(shown[0], -1)
    assert bar.value() > 0, "the wheel over a drop-down should scroll the form"
    for _ in range(6):
        shown = _visible_combos(form)
        if shown:
            wheel(shown[-1], +1)
    assert [c.currentIndex() for c in form.widget().findChildren(type(combos[0]))] == values
    assert window.session.store.change_count() == before


def test_the_wheel_over_cmoc_drop_downs_changes_nothing(open_window: Any, qtbot: Any) -> None:
    window = open_window(study="Hanoi 2019")
    panel = _own_cmoc(window)
    before = window.session.store.change_count()
    cmoc = window.session.store.get("cmoc", panel.cmoc.id)
    for key, combo in panel.combos.items():
        for steps in (-1, -1, 1, 1, 1):
            wheel(combo, steps)
    for combo in panel.relation_boxes.values():
        wheel(combo, -1)
    after = window.session.store.get("cmoc", panel.cmoc.id)
    assert (after.outcome_direction, after.outcome_intended, after.confidence, after.status,
            after.theories) == (cmoc.outcome_direction, cmoc.outcome_intended,
                                cmoc.confidence, cmoc.status, cmoc.theories)
    assert window.session.store.change_count() == before


def test_a_drop_down_the_coder_clicked_into_still_answers_the_wheel(open_window: Any,
                                                                    qtbot: Any) -> None:
    window = open_window(study="Hanoi 2019")
    panel = _own_cmoc(window)
    combo = panel.combos["confidence"]
    combo.setFocus()  # as after a Tab into it
    qtbot.waitUntil(combo.hasFocus)
    before = combo.currentIndex()
    wheel(combo, -1)
    assert combo.currentIndex() != before
    assert window.session.store.get("cmoc", panel.cmoc.id).confidence == combo.currentData()


# -- 3. applying a code never duplicates an excerpt -----------------------------------------


def _code_item(window: Any, name: str) -> Any:
    from PySide6.QtWidgets import QTreeWidgetItemIterator

    it = QTreeWidgetItemIterator(window.codebook.tree)
    while it.value():
        if it.value().text(0) == name:
            return it.value()
        it += 1
    raise AssertionError(f"no code {name}")


def _own_excerpts(window: Any) -> list[Any]:
    return [e for e in window.session.store.list("excerpt")
            if e.owner_id == window.session.coder_id and e.document_id == window.document.id]


def test_applying_a_code_to_an_excerpt_a_character_longer_codes_that_excerpt(
        open_window: Any, qtbot: Any) -> None:
    window = open_window(study="Hanoi 2019")
    ex = next(e for e in _own_excerpts(window) if len(e.quote or "") > 40)
    trust = next(c for c in window.codes.values() if c.name == "Trust")
    assert trust.id not in ex.code_ids
    before = {e.id for e in _own_excerpts(window)}
    mouse_select(window.doc_view, ex.start, ex.end + 1)
    assert window.doc_view.selection_span() == (ex.start, ex.end + 1)
    double_click_item(window.codebook.tree, _code_item(window, "Trust"))
    assert {e.id for e in _own_excerpts(window)} == before
    assert trust.id in window.session.store.get("excerpt", ex.id).code_ids
    assert window.excerpt_panel.selected_ids() == [ex.id]


def test_a_code_inside_an_excerpt_asks_and_can_still_mark_a_new_one(
        open_window: Any, qtbot: Any, dialogs: Any) -> None:
    window = open_window(study="Hanoi 2019")
    ex = next(e for e in _own_excerpts(window) if len(e.quote or "") > 40)
    trust = next(c for c in window.codes.values() if c.name == "Trust")
    before = {e.id for e in _own_excerpts(window)}
    dialogs.item_answer = "existing"
    mouse_select(window.doc_view, ex.start + 10, ex.start + 30)
    double_click_item(window.codebook.tree, _code_item(window, "Trust"))
    assert {e.id for e in _own_excerpts(window)} == before
    assert trust.id in window.session.store.get("excerpt", ex.id).code_ids
    dialogs.item_answer = "new"
    mouse_select(window.doc_view, ex.start + 10, ex.start + 30)
    double_click_item(window.codebook.tree, _code_item(window, "Trust"))
    new = [e for e in _own_excerpts(window) if e.id not in before]
    assert [(e.start, e.end, e.code_ids) for e in new] == [
        (ex.start + 10, ex.start + 30, (trust.id,))]


def test_marking_the_same_passage_twice_with_the_keyboard_keeps_one_excerpt(
        open_window: Any, qtbot: Any) -> None:
    window = open_window(study="Hanoi 2019")
    ex = next(e for e in _own_excerpts(window) if len(e.quote or "") > 40)
    key = {"context": Qt.Key.Key_1, "mechanism": Qt.Key.Key_2, "outcome": Qt.Key.Key_3}.get(
        ex.role, Qt.Key.Key_4)
    before = {e.id for e in _own_excerpts(window)}
    mouse_select(window.doc_view, ex.start, ex.end - 1)
    window.doc_view.setFocus()
    qtbot.keyClick(window.doc_view, key, Qt.KeyboardModifier.ControlModifier)
    assert {e.id for e in _own_excerpts(window)} == before


# -- 8. imported text is shown as the characters it is ----------------------------------------

NASTY_TITLE = "<h1>Peer navigation</h1><img src='http://example.org/x.png'> & <b>HIV</b>"
NASTY_JOURNAL = "<i>J Int AIDS Soc</i><table><tr><td>x</td></tr></table>"


def _shown(text: str, label_format: Any = None) -> str:
    """What a person sees of ``text`` where Qt decides between plain and rich text."""
    from PySide6.QtGui import QTextDocument
    from PySide6.QtGui import Qt as GuiQt

    rich = label_format == Qt.TextFormat.RichText or (
        label_format in (None, Qt.TextFormat.AutoText) and GuiQt.mightBeRichText(text))
    if not rich:
        return text
    doc = QTextDocument()
    doc.setHtml(text)
    return doc.toPlainText()


def test_imported_title_and_journal_are_shown_as_plain_text(open_window: Any,
                                                             qtbot: Any) -> None:
    from cmo_desk.services import coding

    window = open_window(study="Hanoi 2019")
    sid = window.study_id
    coding.update_study(window.session, sid, {"title": NASTY_TITLE, "journal": NASTY_JOURNAL})
    window.open_study(sid)
    title, meta = window.study_title, window.study_meta
    assert _shown(title.text(), title.textFormat()) == NASTY_TITLE
    assert NASTY_JOURNAL in _shown(meta.text(), meta.textFormat())
    row = window.study_model.row_of(sid)
    tip = window.study_model.index(row, 0).data(Qt.ItemDataRole.ToolTipRole)
    assert "Hanoi 2019" in _shown(tip)
    # an excerpt tooltip and a CMOC tooltip show their text literally too
    panel = window.cmoc_panel
    coding.update_cmoc(window.session, _own_cmoc(window).cmoc.id, {"statement": NASTY_TITLE})
    row = panel.model.row_of(panel.cmoc.id)
    assert NASTY_TITLE in _shown(panel.model.index(row, 0).data(Qt.ItemDataRole.ToolTipRole))


# -- 4. people never in role colours; blind mode hides others ----------------------------------


def _delta_e(a: str, b: str) -> float:
    """CIE76 colour difference."""
    def lab(hex_: str) -> tuple[float, float, float]:
        rgb = [int(hex_[i:i + 2], 16) / 255 for i in (1, 3, 5)]
        r, g, b = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in rgb]
        x = (0.4124 * r + 0.3576 * g + 0.1805 * b) / 0.95047
        y = 0.2126 * r + 0.7152 * g + 0.0722 * b
        z = (0.0193 * r + 0.1192 * g + 0.9505 * b) / 1.08883
        f = [t ** (1 / 3) if t > 0.008856 else 7.787 * t + 16 / 116 for t in (x, y, z)]
        return 116 * f[1] - 16, 500 * (f[0] - f[1]), 200 * (f[1] - f[2])
    return sum((p - q) ** 2 for p, q in zip(lab(a), lab(b))) ** 0.5


def test_coder_colours_are_never_role_colours() -> None:
    from cmo_desk.ui.theme import CODER_PALETTE, ROLE_COLORS

    for coder in CODER_PALETTE:
        for role, color in ROLE_COLORS.items():
            assert _delta_e(coder, color) >= 35, (coder, role)
    for i, a in enumerate(CODER_PALETTE):
        for b in CODER_PALETTE[i + 1:]:
            assert _delta_e(a, b) >= 20, (a, b)


def test_other_coders_are_drawn_in_people_colours_with_a_legend(open_window: Any,
                                                               qtbot: Any) -> None:
    from PySide6.QtGui import QColor

    from cmo_desk.services.demo import CODER_B
    from cmo_desk.ui.theme import CODER_PALETTE, ROLE_COLORS

    window = open_window(study="Hanoi 2019")
    assert window.coder_legend.isHidden()
    window.others_action.trigger()  # View → Show other coders' work
    assert window.show_others
    other = next(c for c in window.session.store.list("coder") if c.name == CODER_B)
    roles = {QColor(c).rgb() for c in ROLE_COLORS.values()}
    backgrounds = {QColor(s.format.background().color().rgb()).name()
                   for s in window.doc_view.extraSelections()}
    others = [h for h in window.doc_view._highlights if h.coder_color]
    assert others
    for h in others:
        assert h.coder_color in CODER_PALETTE and QColor(h.coder_color).rgb() not in roles
        assert QColor(h.coder_color).name() in backgrounds
    assert window.coder_legend.isVisible()
    assert [(cid, name) for cid, _c, name in window.coder_legend.entries] == [
        (other.id, CODER_B)]
    assert window.coder_legend.entries[0][1] == others[0].coder_color
    assert CODER_B in window.coder_legend.text()


def test_blind_codebook_counts_only_ones_own_coding(open_window: Any, qtbot: Any) -> None:
    from collections import Counter

    window = open_window(study="Hanoi 2019")
    assert not window.show_others
    store = window.session.store
    own = window.session.coder_id
    mine: Counter[str] = Counter()
    everyone: Counter[str] = Counter()
    for ex in store.list("excerpt"):
        for cid in ex.code_ids:
            everyone[cid] += 1
            if ex.owner_id == own:
                mine[cid] += 1
    differing = [cid for cid in everyone if everyone[cid] != mine[cid]]
    assert differing, "the demo should have codes used by the other coder"

    def shown() -> dict[str, str]:
        from PySide6.QtWidgets import QTreeWidgetItemIterator

        out = {}
        it = QTreeWidgetItemIterator(window.codebook.tree)
        while it.value():
            out[it.value().data(0, Qt.ItemDataRole.UserRole)] = it.value().text(1)
            it += 1
        return out

    counts = shown()
    for cid in differing:
        assert counts[cid] == (str(mine[cid]) if mine[cid] else "")
    window.others_action.trigger()
    counts = shown()
    for cid in differing:
        assert counts[cid] == str(everyone[cid])


# -- 5. every window fits a 1366×768 laptop; the desk reopens as it was left -------------------

LAPTOP = (1366, 768 - 40)  # the screen less a task bar


def _fits(widget: Any) -> None:
    """Within the screen's available area (the test screen is 800×800, so no wider than the
    window's own minimum), and that minimum fits a 1366×768 laptop with a task bar."""
    from cmo_desk.ui.window_fit import FRAME_HEIGHT, FRAME_WIDTH, available_size

    hint = widget.minimumSizeHint()
    assert hint.width() <= LAPTOP[0] - FRAME_WIDTH and hint.height() <= LAPTOP[1] - FRAME_HEIGHT, (
        type(widget).__name__, hint)
    max_w, max_h = available_size(widget)
    assert widget.width() <= max(max_w, hint.width()), (type(widget).__name__, widget.size())
    assert widget.height() <= max(max_h, hint.height()), (type(widget).__name__, widget.size())


def test_the_desk_opens_within_the_available_screen(qtbot: Any, project: Any) -> None:
    from cmo_desk.services.demo import CODER_A
    from cmo_desk.services.session import Session
    from cmo_desk.services.settings import Settings
    from cmo_desk.ui.main_window import MainWindow

    session = Session.open(project, coder=CODER_A)
    window = MainWindow(session, Settings.load())
    qtbot.addWidget(window)
    window.show()
    qtbot.waitExposed(window)
    assert window.open_study_by_label("Hanoi 2019")
    _fits(window)
    assert window.statusBar().isVisible()
    bar = window.statusBar().mapTo(window, window.statusBar().rect().bottomLeft())
    assert bar.y() < window.height()
    window.close()
    session.close()


def test_team_windows_fit_a_laptop_screen(open_window: Any, qtbot: Any) -> None:
    from PySide6.QtWidgets import QApplication, QDialog

    window = open_window(study="Hanoi 2019")
    team = next(a.menu() for a in window.menuBar().actions() if a.menu() and
                a.text() == "&Team")
    for action in team.actions():
        if action.isSeparator() or not action.text().endswith("…") or "Submit" in action.text() \
                or "Assign" in action.text():  # modal, answered elsewhere
            continue
        before = set(QApplication.topLevelWidgets())
        action.trigger()
        qtbot.wait(30)
        opened = [w for w in QApplication.topLevelWidgets()
                  if w not in before and w.isVisible() and isinstance(w, QDialog)]
        for w in opened:
            _fits(w)
            w.close()


def test_the_desk_reopens_with_its_layout_and_last_study(qtbot: Any, project: Any) -> None:
    from PySide6.QtWidgets import QSplitter

    from cmo_desk.services.demo import CODER_A
    from cmo_desk.services.session import Session
    from cmo_desk.services.settings import Settings
    from cmo_desk.ui.main_window import MainWindow

    def desk() -> tuple[Any, Any]:
        session = Session.open(project, coder=CODER_A)
        window = MainWindow(session, Settings.load())
        qtbot.addWidget(window)
        window.show()
        qtbot.waitExposed(window)
        return window, session

    window, session = desk()
    assert window.open_study_by_label("Nairobi 2021")
    window.resize(window.width(), 620)
    qtbot.wait(20)
    width = window.width()
    window.findChild(QSplitter, "deskSplit").setSizes([300, 400])
    sizes = window.findChild(QSplitter, "deskSplit").sizes()
    window.close()
    session.close()
    again, session = desk()
    assert (again.width(), again.height()) == (width, 620)
    assert again.open_last_study()
    assert again.session.store.get("study", again.study_id).label == "Nairobi 2021"
    assert again.findChild(QSplitter, "deskSplit").sizes() == sizes
    again.close()
    session.close()


# -- 6. the desk asks for passwords and imports REFI files itself ------------------------------


def _run_import(window: Any, qtbot: Any, paths: list[str]) -> Any:
    task = window.start_import(paths)
    assert task is not None
    with qtbot.waitSignal(task.signals.ended, timeout=20000):
        pass
    qtbot.waitUntil(lambda: hasattr(window, "last_import"), timeout=5000)
    return window.last_import


def test_a_locked_pdf_is_asked_its_password_again_when_wrong(open_window: Any, qtbot: Any,
                                                            dialogs: Any, tmp_path: Any) -> None:
    from tests.pdf_builder import make_pdf

    window = open_window(study="Hanoi 2019")
    locked = tmp_path / "locked study.pdf"
    locked.write_bytes(make_pdf([["Harm reduction peers in Hai Phong", "Second line"]],
                                user_password="s3cret"))
    plain = tmp_path / "open study.pdf"
    plain.write_bytes(make_pdf([["Needle exchange in Kisumu"]]))
    answers = ["wrong", "s3cret"]
    asked: list[tuple[str, str]] = []

    def ask_password(title: str, label: str) -> str | None:
        asked.append((title, label))
        return answers.pop(0) if answers else None

    dialogs.ask_password = ask_password
    before = window.session.store.count("document")
    summaries, _messages, problems, skipped = _run_import(window, qtbot, [str(locked), str(plain)])
    assert len(asked) == 2 and "locked study.pdf" in asked[0][0]
    assert "does not open" in asked[1][1]
    assert not problems and not skipped and not dialogs.errors
    assert window.session.store.count("document") == before + 2
    texts = " ".join(d.text or "" for d in window.session.store.list("document"))
    assert "Harm reduction peers in Hai Phong" in texts
    assert not any("--password" in e for e in dialogs.errors)


def test_a_cancelled_password_skips_only_that_file(open_window: Any, qtbot: Any, dialogs: Any,
                                                   tmp_path: Any) -> None:
    from tests.pdf_builder import make_pdf

    window = open_window(study="Hanoi 2019")
    folder = tmp_path / "pdfs"
    folder.mkdir()
    (folder / "locked.pdf").write_bytes(make_pdf([["Locked words"]], user_password="x"))
    (folder / "open.pdf").write_bytes(make_pdf([["Open words about outreach"]]))
    dialogs.ask_password = lambda title, label: None
    before = window.session.store.count("document")
    summaries, _messages, problems, skipped = _run_import(window, qtbot, [str(folder)])
    assert [p.name for p in skipped] == ["locked.pdf"]
    assert not problems
    assert window.session.store.count("document") == before + 1
    assert dialogs.errors and "no password" in dialogs.errors[-1]
    assert not any("--password" in e for e in dialogs.errors)


def test_a_refi_project_imports_from_the_desk(open_window: Any, qtbot: Any, dialogs: Any,
                                              tmp_path: Any, demo_file: Any) -> None:
    from cmo_desk.services.projects import new_project
    from cmo_desk.services.refi_exchange import export_refi
    from cmo_desk.services.session import Session

    with Session.open(demo_file, coder="Lan Nguyen") as demo:
        export_refi(demo.store.snapshot(), tmp_path / "demo.qdpx")
    fresh = new_project(tmp_path / "fresh.cmo", coder="Lan Nguyen")
    fresh.close()
    window = open_window(path=tmp_path / "fresh.cmo", study=None)
    shown: list[str] = []
    dialogs.info = shown.append
    _summaries, messages, problems, _skipped = _run_import(window, qtbot,
                                                           [str(tmp_path / "demo.qdpx")])
    assert not problems and not dialogs.errors, (problems, dialogs.errors)
    assert messages and shown
    with Session.open(demo_file, coder="Lan Nguyen") as demo:
        quotes = sorted(e.quote for e in demo.store.list("excerpt"))
        labels = sorted(s.label for s in demo.store.list("study"))
    assert sorted(e.quote for e in window.session.store.list("excerpt")) == quotes
    assert sorted(s.label for s in window.session.store.list("study")) == labels
    assert not any("cmo-desk import" in m for m in shown + dialogs.errors)


def test_a_scanned_pdf_says_it_needs_ocr_where_the_text_would_be(open_window: Any, qtbot: Any,
                                                                 dialogs: Any,
                                                                 tmp_path: Any) -> None:
    from tests.pdf_builder import make_pdf

    window = open_window(study="Hanoi 2019")
    scan = tmp_path / "scanned study.pdf"
    scan.write_bytes(make_pdf([["x"], ["y"]], image_only=True))
    _run_import(window, qtbot, [str(scan)])
    assert any("needs OCR" in m and "scanned study.pdf" in m for m in dialogs.infos)
    doc = next(d for d in window.session.store.list("document")
               if (d.filename or "").startswith("scanned"))
    assert window.open_study(doc.study_id)
    view = window.doc_view
    assert view.toPlainText() == ""
    assert "OCR" in view.placeholderText() and "scanned" in view.placeholderText()
    assert view.isVisible()


# -- 9. a fresh machine is told which system packages Qt needs --------------------------------


def test_missing_qt_libraries_are_named_in_one_line(monkeypatch: Any, capsys: Any,
                                                    tmp_path: Any) -> None:
    from cmo_desk.ui import app, system_libs

    absent = {"libxcb-cursor.so.0", "libxcb-icccm.so.4", "libxcb-keysyms.so.1"}

    def load(name: str) -> object:
        if name in absent:
            raise OSError(f"{name}: cannot open shared object file")
        return object()

    assert system_libs.missing_packages(load) == ["libxcb-cursor0", "libxcb-icccm4",
                                                  "libxcb-keysyms1"]
    assert system_libs.uses_x11({"DISPLAY": ":0"}, "linux")
    assert not system_libs.uses_x11({"DISPLAY": ":0", "QT_QPA_PLATFORM": "offscreen"}, "linux")
    assert not system_libs.uses_x11({"DISPLAY": ":0"}, "win32")
    monkeypatch.setenv("CMO_DESK_CONFIG_DIR", str(tmp_path / "config"))
    monkeypatch.setenv("QT_QPA_PLATFORM", "xcb")
    monkeypatch.setattr(system_libs, "missing_packages",
                        lambda: ["libxcb-cursor0", "libxcb-icccm4", "libxcb-keysyms1"])
    assert app.run_desk([str(tmp_path / "p.cmo"), "--coder", "A"]) == 3
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and "Traceback" not in err
    assert err.endswith("sudo apt-get install libxcb-cursor0 libxcb-icccm4 libxcb-keysyms1")
    assert not (tmp_path / "p.cmo").exists()


def test_readme_lists_the_system_packages() -> None:
    from pathlib import Path

    from cmo_desk.ui.system_libs import XCB_LIBRARIES

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    for _library, package in XCB_LIBRARIES:
        assert package in readme, package


# -- 10. retrieval ---------------------------------------------------------------------------


def test_retrieval_lists_every_passage_for_a_code_and_opens_it(open_window: Any, qtbot: Any,
                                                               dialogs: Any,
                                                               tmp_path: Any) -> None:
    import csv

    from PySide6.QtTest import QTest

    window = open_window(study="Nairobi 2021")
    window.others_action.trigger()
    trust = next(c for c in window.codes.values() if c.name == "Trust")
    expected = sorted((e.quote or "") for e in window.session.store.list("excerpt")
                      if trust.id in e.code_ids)
    assert len(expected) >= 2
    view = window.retrieve_passages(trust.id)
    qtbot.waitExposed(view)
    excerpts = [p for p in view.passages if p.kind == "excerpt"]
    assert sorted(p.text for p in excerpts) == expected
    assert {p.coder_name for p in excerpts} >= {"Lan Nguyen", "Sam Okafor"}
    assert all(p.study_label and p.page for p in excerpts)
    n = len(view.passages)
    assert view.count.text() == (f"{n} passages found" if n != 1 else "1 passage found")
    # double-click a row: the study opens at that passage
    row = next(i for i, p in enumerate(view.passages) if p.kind == "excerpt")
    target = view.passages[row]
    rect = view.table.visualRect(view.model.index(row, 6))
    QTest.mouseClick(view.table.viewport(), Qt.MouseButton.LeftButton,
                     Qt.KeyboardModifier.NoModifier, rect.center())
    QTest.mouseDClick(view.table.viewport(), Qt.MouseButton.LeftButton,
                      Qt.KeyboardModifier.NoModifier, rect.center())
    assert window.study_id == target.study_id
    assert window.excerpt_panel.selected_ids() == [target.id]
    # words narrow it; the count speaks grammatically
    view.words.setFocus()
    QTest.keyClicks(view.words, expected[0][:25])
    assert view.count.text() in ("1 passage found",) or view.count.text().endswith(
        "passages found")
    # exported as CSV with the same content
    dialogs.save_path = lambda *a: str(tmp_path / "trust")
    view.words.clear()
    QTest.mouseClick(view.export_button, Qt.MouseButton.LeftButton)
    with open(tmp_path / "trust.csv", encoding="utf-8-sig", newline="") as fh:
        got = list(csv.reader(fh))
    assert got[0][0] == "Study" and len(got) == len(view.passages) + 1
    assert sorted(r[6] for r in got[1:] if r[4] == "") == expected
    view.close()


def test_blind_retrieval_lists_only_ones_own_passages(open_window: Any, qtbot: Any) -> None:
    window = open_window(study="Hanoi 2019")
    assert not window.show_others
    view = window.retrieve_passages(None)
    own = window.session.coder_id
    assert view.passages and all(p.coder_id == own for p in view.passages)
    assert view.coder.count() == 1
    view.close()


def test_retrieval_by_role_includes_cmoc_slots(open_window: Any) -> None:
    window = open_window(study="Hanoi 2019")
    view = window.retrieve_passages(None)
    view.role.setCurrentIndex(view.role.findData("outcome"))
    kinds = {p.kind for p in view.passages}
    assert kinds == {"excerpt", "cmoc"}
    assert all(p.role == "outcome" for p in view.passages)
    assert {p.slot for p in view.passages if p.kind == "cmoc"} == {"outcome"}
    view.close()


# -- the monkey: a day of random input ---------------------------------------------------------


def test_the_wheel_alone_never_writes(open_window: Any, qtbot: Any, monkeypatch: Any) -> None:
    from . import monkey

    window = open_window(study="Hanoi 2019")
    window.others_action.trigger()
    before = window.session.store.change_count()
    with monkey.nobody_waits(monkeypatch):
        for tab in range(window.coding_tabs.count()):
            window.coding_tabs.setCurrentIndex(tab)
            monkey.wheel_only(window, 60, seed=tab)
    assert window.session.store.change_count() == before


def test_a_seeded_monkey_day_leaves_a_sound_project(open_window: Any, qtbot: Any,
                                                   monkeypatch: Any, project: Any) -> None:
    from cmo_desk.services import recovery

    from . import monkey

    window = open_window(study="Hanoi 2019")
    with monkey.nobody_waits(monkeypatch):
        done = monkey.run(window, 300, seed=11)
    assert sum(done.values()) == 300
    window.flush_edits()
    assert window.runner.wait(10000)
    window.close()
    window.session.close()
    report = recovery.check_project(project)
    assert report.ok, report.problems


def test_project_search_finds_cmoc_words_and_opens_at_the_match(open_window: Any,
                                                                qtbot: Any) -> None:
    from PySide6.QtTest import QTest

    from cmo_desk.ui.dialogs import pages_found

    assert pages_found(1) == "1 page found" and pages_found(3) == "3 pages found"
    window = open_window(study="Nairobi 2021")
    own = window.session.coder_id
    cmoc = next(c for c in window.session.store.list("cmoc")
                if c.owner_id == own and "stigmatise" in (c.statement or ""))
    dlg = window.search_project()
    qtbot.waitExposed(dlg)
    dlg.query.setFocus()
    QTest.keyClicks(dlg.query, "stigmatise")
    QTest.keyClick(dlg.query, Qt.Key.Key_Return)
    pages = window.session.store.search("stigmatise")
    assert dlg.summary.text().startswith(pages_found(len(pages)))
    rows = [dlg.results.item(i) for i in range(dlg.results.count())]
    cmoc_rows = [r for r in rows if r.data(Qt.ItemDataRole.UserRole)[0] == "cmoc"]
    assert any(r.data(Qt.ItemDataRole.UserRole)[2] == cmoc.id for r in cmoc_rows)
    target = next(r for r in cmoc_rows if r.data(Qt.ItemDataRole.UserRole)[2] == cmoc.id)
    dlg.results.scrollToItem(target)
    rect = dlg.results.visualItemRect(target)
    QTest.mouseClick(dlg.results.viewport(), Qt.MouseButton.LeftButton,
                     Qt.KeyboardModifier.NoModifier, rect.center())
    QTest.mouseDClick(dlg.results.viewport(), Qt.MouseButton.LeftButton,
                      Qt.KeyboardModifier.NoModifier, rect.center())
    assert window.study_id == cmoc.study_id
    assert window.cmoc_panel.cmoc.id == cmoc.id
    # a full-text hit opens the study with the match selected
    dlg.query.clear()
    QTest.keyClicks(dlg.query, "stipend")
    QTest.keyClick(dlg.query, Qt.Key.Key_Return)
    page_rows = [dlg.results.item(i) for i in range(dlg.results.count())
                 if dlg.results.item(i).data(Qt.ItemDataRole.UserRole)[0] == "page"]
    assert page_rows
    kind, sid, page = page_rows[-1].data(Qt.ItemDataRole.UserRole)
    dlg.results.setCurrentItem(page_rows[-1])
    QTest.keyClick(dlg.results, Qt.Key.Key_Return)
    assert window.study_id == sid
    cursor = window.doc_view.textCursor()
    assert cursor.selectedText().casefold() == "stipend"
    dlg.close()


def test_coding_stripes_show_overlaps_with_initials_and_select_on_click(open_window: Any,
                                                                        qtbot: Any) -> None:
    from PySide6.QtTest import QTest

    window = open_window(study="Hanoi 2019")
    window.others_action.trigger()
    stripes = window.doc_view.stripes
    assert stripes.isVisible() and stripes.width() >= 40
    bars = stripes.bars()
    assert bars
    initials = {h.coder_initials for _r, h in bars}
    coders = {c.initials for c in window.coders.values()}
    assert len(initials & coders) >= 2  # both coders' stripes, each with initials
    lanes = {r.left() for r, _h in bars}
    assert len(lanes) >= 2  # overlapping excerpts stand side by side
    rect, h = next((r, h) for r, h in bars if h.coder_color)
    QTest.mouseClick(stripes, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier,
                     rect.center())
    assert h.excerpt_id in window.excerpt_panel.selected_ids()
    assert [x.coder_name for x in stripes.stripes_at(rect.center())][0]


def test_the_page_image_opens_fitted_to_width_with_excerpts_drawn(open_window: Any,
                                                                  qtbot: Any, dialogs: Any,
                                                                  tmp_path: Any) -> None:
    from PySide6.QtTest import QTest

    from tests.pdf_builder import make_pdf

    window = open_window(study="Hanoi 2019")
    pdf = tmp_path / "outreach study.pdf"
    pdf.write_bytes(make_pdf([["Peer outreach workers carried naloxone kits",
                               "to every squat in the district."], ["Second page text"]]))
    _run_import(window, qtbot, [str(pdf)])
    doc = next(d for d in window.session.store.list("document")
               if (d.filename or "").startswith("outreach"))
    assert window.open_study(doc.study_id)
    text = window.doc_view.text()
    start = text.index("outreach workers")
    mouse_select(window.doc_view, start, start + len("outreach workers carried naloxone"))
    window.doc_view.setFocus()
    qtbot.keyClick(window.doc_view, Qt.Key.Key_1, Qt.KeyboardModifier.ControlModifier)
    tab_bar = window.doc_tabs.tabBar()
    QTest.mouseClick(tab_bar, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier,
                     tab_bar.tabRect(1).center())
    view = window.page_view
    qtbot.waitUntil(lambda: view.image.pixmap() is not None and not view.image.pixmap().isNull(),
                    timeout=5000)
    pixmap = view.image.pixmap()
    room = view.scroll.viewport().width()
    assert room - 40 <= pixmap.width() / pixmap.devicePixelRatio() <= room
    assert view.drawn and view.drawn[0][1] >= 1
    QTest.mouseClick(view.zoom_in, Qt.MouseButton.LeftButton)
    assert not view.fit_width


def test_a_code_dragged_from_the_codebook_onto_a_selection_marks_it(open_window: Any,
                                                                    qtbot: Any) -> None:
    from PySide6.QtCore import QPointF
    from PySide6.QtGui import QDragEnterEvent, QDropEvent
    from PySide6.QtWidgets import QApplication

    window = open_window(study="Hanoi 2019")
    text = window.doc_view.text()
    phrase = "phoned them before appointments"
    start = text.index(phrase)
    mouse_select(window.doc_view, start, start + len(phrase))
    item = _code_item(window, "Trust")
    mime = window.codebook.tree.mimeData([item])
    port = window.doc_view.viewport()
    where = QPointF(port.rect().center())
    actions = Qt.DropAction.CopyAction | Qt.DropAction.MoveAction
    enter = QDragEnterEvent(where.toPoint(), actions, mime, Qt.MouseButton.LeftButton,
                            Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(port, enter)
    assert enter.isAccepted()
    drop = QDropEvent(where, actions, mime, Qt.MouseButton.LeftButton,
                      Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(port, drop)
    assert drop.isAccepted() and drop.dropAction() == Qt.DropAction.CopyAction
    trust = next(c for c in window.codes.values() if c.name == "Trust")
    made = [e for e in _own_excerpts(window) if e.quote == phrase]
    assert len(made) == 1 and made[0].code_ids == (trust.id,)
    assert made[0].role == trust.kind
    # without a selection the drop is refused, and nothing is written
    before = window.session.store.change_count()
    enter = QDragEnterEvent(where.toPoint(), actions, mime, Qt.MouseButton.LeftButton,
                            Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(port, enter)
    assert not enter.isAccepted()
    assert window.session.store.change_count() == before
