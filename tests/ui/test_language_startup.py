"""The desk starts in the computer's language, Qt's own dialogs follow it, and a missing CJK font is named."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QLocale, Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QDialogButtonBox, QLabel

from cmo_desk.domain import i18n
from cmo_desk.services.demo import CODER_A
from cmo_desk.services.importing import import_paths
from cmo_desk.services.session import Session
from cmo_desk.ui import language


@pytest.fixture(autouse=True)
def english_afterwards(monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.delenv("CMO_DESK_LANG", raising=False)
    before = QLocale()
    yield
    i18n.set_language("en")
    QLocale.setDefault(before)


def test_first_run_takes_the_system_language(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(QLocale, "system", staticmethod(lambda: QLocale("ru_RU")))
    assert language.choose_language(None, None) == "ru" == i18n.current_language()
    monkeypatch.setattr(QLocale, "system", staticmethod(lambda: QLocale("pt_PT")))
    assert language.choose_language(None, None) == "pt_BR"
    monkeypatch.setattr(QLocale, "system", staticmethod(lambda: QLocale("de_DE")))
    monkeypatch.setenv("LANG", "de_DE.UTF-8")
    monkeypatch.delenv("LANGUAGE", raising=False)
    monkeypatch.delenv("LC_ALL", raising=False)
    monkeypatch.delenv("LC_MESSAGES", raising=False)
    assert language.choose_language(None, None) == "en"
    # a choice made in Preferences, or given on the command line, wins over the system
    monkeypatch.setattr(QLocale, "system", staticmethod(lambda: QLocale("ru_RU")))
    assert language.choose_language(None, "es") == "es"
    assert language.choose_language("fr", "es") == "fr"


def test_preferences_show_the_language_in_use(qtbot: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    from cmo_desk.ui.dialogs import PreferencesDialog

    monkeypatch.setattr(QLocale, "system", staticmethod(lambda: QLocale("es_MX")))
    lang = language.choose_language(None, None)
    dialog = PreferencesDialog("Lan", lang)
    qtbot.addWidget(dialog)
    assert dialog.language.currentText() == "Español"
    assert {dialog.language.itemData(i) for i in range(dialog.language.count())} == set(i18n.LANGUAGES)


@pytest.mark.parametrize(("lang", "cancel"), [("ru", "Отмена"), ("es", "Cancelar"), ("fr", "Annuler"),
                                              ("pt_BR", "Cancelar"), ("zh_CN", "取消")])
def test_qt_standard_buttons_speak_the_desk_language(qtbot: Any, lang: str, cancel: str) -> None:
    app = QApplication.instance()
    translator = language.install_qt_translations(app, lang)
    try:
        assert translator is not None
        box = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        qtbot.addWidget(box)
        assert box.button(QDialogButtonBox.StandardButton.Cancel).text().replace("&", "") == cancel
        assert QLocale().name().startswith(lang.split("_")[0])
    finally:
        if translator is not None:
            app.removeTranslator(translator)
    assert language.install_qt_translations(app, "en") is None


def test_cjk_text_is_detected() -> None:
    assert language.needs_cjk("同伴导航员")
    assert language.needs_cjk("ピア") and language.needs_cjk("동료")
    assert not language.needs_cjk("Женщины, употребляющие наркотики · café · عربى")
    # the first character of the CJK blocks, one inside a long Latin text, and characters beyond
    # the blocks that are not CJK (emoji, a private-use sign)
    assert language.needs_cjk("\u2e80") and language.needs_cjk("Hanoi " * 5000 + "河内")
    assert not language.needs_cjk("😀 \ue000 \u2e7f") and not language.needs_cjk("")


def _hint(window: Any) -> QLabel:
    return window.statusBar().findChild(QLabel, language.HINT_OBJECT)


def test_no_cjk_font_is_named_when_the_desk_speaks_chinese(open_window: Any, capsys: Any) -> None:
    i18n.set_language("zh_CN")
    window = open_window()
    language.watch_cjk_fonts(window, font_present=False)
    hint = _hint(window)
    assert hint.isVisible() and "fonts-noto-cjk" in hint.text()
    assert "fonts-noto-cjk" in capsys.readouterr().err


def test_no_cjk_font_is_named_when_a_study_is_chinese(open_window: Any, project: Path, tmp_path: Path,
                                                       qtbot: Any) -> None:
    text = tmp_path / "同伴导航研究.txt"
    text.write_text("女性吸毒者在艾滋病诊所面临歧视。同伴导航员陪同她们就诊。\n", encoding="utf-8")
    with Session.open(project, coder=CODER_A) as session:
        import_paths(session, [text])
    window = open_window()
    hint = language.watch_cjk_fonts(window, font_present=False)
    assert not hint.isVisible()  # the demo study is in English
    proxy, view = window.study_proxy, window.study_view
    row = next(r for r in range(proxy.rowCount())
               if "同伴" in str(proxy.index(r, 0).data()) + str(proxy.index(r, 0).data(Qt.ItemDataRole.ToolTipRole)))
    rect = view.visualRect(proxy.index(row, 0))
    QTest.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    qtbot.waitUntil(lambda: "女性" in window.doc_view.text())
    assert hint.isVisible() and "fonts-noto-cjk" in hint.text()


def test_nothing_is_said_when_a_cjk_font_is_present(open_window: Any) -> None:
    i18n.set_language("zh_CN")
    window = open_window()
    hint = language.watch_cjk_fonts(window, font_present=True)
    assert not hint.isVisible()


AR_PARAGRAPH = "النساء اللواتي يتعاطين المخدرات يواجهن الوصمة."
EN_PARAGRAPH = "Women who use drugs face stigma."


def _shown(qtbot: Any, text: str) -> Any:
    from cmo_desk.domain import records as rec
    from cmo_desk.ui.document_view import DocumentView

    view = DocumentView()
    qtbot.addWidget(view)
    view.resize(700, 400)
    view.show()
    qtbot.waitExposed(view)
    view.set_document(rec.Document(id="d", text=text, page_starts=[0]))
    QApplication.processEvents()
    return view


def _block_edges(view: Any, number: int) -> tuple[int, int]:
    """Left and right x of the first line of paragraph ``number`` as drawn."""
    from PySide6.QtGui import QTextCursor

    block = view.document().findBlockByNumber(number)
    start, end = QTextCursor(block), QTextCursor(block)
    end.movePosition(QTextCursor.MoveOperation.EndOfBlock)
    xs = (view.cursorRect(start).x(), view.cursorRect(end).x())
    return min(xs), max(xs)


def test_an_arabic_study_reads_right_to_left_in_the_full_text(qtbot: Any) -> None:
    view = _shown(qtbot, f"{AR_PARAGRAPH}\n\n{EN_PARAGRAPH}\n\n{AR_PARAGRAPH}")
    width = view.viewport().width()
    left, right = _block_edges(view, 0)
    assert right > width - 40 and left > width / 3  # short Arabic line hugs the right edge
    start = view.cursorRect(QTextCursor_at(view, 0)).x()
    assert start == right  # its first letter is at the right: it reads right-to-left
    assert view.document().toPlainText() == f"{AR_PARAGRAPH}\n\n{EN_PARAGRAPH}\n\n{AR_PARAGRAPH}"


def test_an_english_study_quoting_arabic_stays_left_aligned(qtbot: Any) -> None:
    view = _shown(qtbot, f"{EN_PARAGRAPH}\n\n{AR_PARAGRAPH}\n\n{EN_PARAGRAPH}")
    left, _ = _block_edges(view, 0)
    assert left < 40
    ar_left, ar_right = _block_edges(view, 2)
    assert view.cursorRect(QTextCursor_at(view, 2)).x() == ar_right  # the quote still reads right-to-left


def QTextCursor_at(view: Any, number: int) -> Any:  # noqa: N802 - reads like the Qt class it returns
    from PySide6.QtGui import QTextCursor

    return QTextCursor(view.document().findBlockByNumber(number))


def test_paragraph_direction_rule() -> None:
    assert i18n.is_rtl(AR_PARAGRAPH) and i18n.is_rtl("« " + AR_PARAGRAPH)
    assert i18n.is_rtl("שלום עולם") and not i18n.is_rtl("123 " + EN_PARAGRAPH + AR_PARAGRAPH)
    assert not i18n.is_rtl("") and not i18n.is_rtl("2024 — 15 %")
    assert i18n.mostly_rtl(f"{AR_PARAGRAPH}\n{EN_PARAGRAPH}\n{AR_PARAGRAPH}\n\n42")
    assert not i18n.mostly_rtl(f"{EN_PARAGRAPH}\n{AR_PARAGRAPH}\n{EN_PARAGRAPH}")
    assert not i18n.mostly_rtl("")


@pytest.mark.parametrize(("lang", "expected"), [("ru", "29.11.2026 18:40"), ("fr", "29/11/2026 18:40"),
                                                ("pt_BR", "29/11/2026 18:40"), ("zh_CN", "2026/11/29 18:40")])
def test_dates_follow_the_desk_language(lang: str, expected: str, monkeypatch: pytest.MonkeyPatch) -> None:
    from datetime import datetime

    monkeypatch.setattr(QLocale, "system", staticmethod(lambda: QLocale("C")))
    translator = language.install_qt_translations(QApplication.instance(), lang)
    try:
        assert language.local_datetime(datetime(2026, 11, 29, 18, 40, 5)) == expected
        assert language.local_datetime(datetime(2026, 11, 29, 18, 40, 5), seconds=True, date=False) == "18:40:05"
    finally:
        if translator is not None:
            QApplication.instance().removeTranslator(translator)


def test_english_keeps_an_english_system_locale(monkeypatch: pytest.MonkeyPatch) -> None:
    from datetime import datetime

    monkeypatch.setattr(QLocale, "system", staticmethod(lambda: QLocale("en_KE")))
    language.install_qt_translations(QApplication.instance(), "en")
    assert QLocale().name() == "en_KE"
    monkeypatch.setattr(QLocale, "system", staticmethod(lambda: QLocale("ru_RU")))
    language.install_qt_translations(QApplication.instance(), "en")
    assert language.local_datetime(datetime(2026, 11, 29, 18, 40)) == "29/11/2026 18:40"


def test_qt_file_chooser_labels_speak_chinese(qtbot: Any) -> None:
    """Qt's Chinese catalogue knows "Look in:" but Qt now asks for "&Look in:": the file chooser a
    coder imports and exports with is in Chinese all the same."""
    from PySide6.QtWidgets import QFileDialog, QLabel

    app = QApplication.instance()
    translator = language.install_qt_translations(app, "zh_CN")
    try:
        assert translator is not None
        chooser = QFileDialog(None, "t")
        chooser.setOption(QFileDialog.Option.DontUseNativeDialog, True)
        qtbot.addWidget(chooser)
        labels = [label.text() for label in chooser.findChildren(QLabel) if label.text()]
        assert len(labels) >= 3
        assert all(language.needs_cjk(text) for text in labels), labels
        assert chooser.labelText(QFileDialog.DialogLabel.LookIn).startswith("查找范围")
    finally:
        if translator is not None:
            app.removeTranslator(translator)
    assert language.install_qt_translations(app, "en") is None


def test_the_desks_own_help_is_chinese_throughout(capsys: pytest.CaptureFixture[str]) -> None:
    from cmo_desk.ui.app import build_parser

    i18n.set_language("zh_CN")
    try:
        with pytest.raises(SystemExit):
            build_parser().parse_args(["--help"])
    finally:
        i18n.set_language("en")
    shown = capsys.readouterr().out
    assert shown.startswith("用法：") and "位置参数" in shown and "显示此帮助信息并退出" in shown, shown
    for english in ("usage:", "positional arguments", "options:", "show this help"):
        assert english not in shown, english
