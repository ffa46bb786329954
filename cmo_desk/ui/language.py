"""The desk's language at start-up: the system's on first run, Qt's own dialogs in it, and a font for Chinese.

The language is the one given with ``--lang``, else the one chosen in Preferences, else ``$CMO_DESK_LANG``,
else the computer's (Qt's list of the user's UI languages, then the locale variables). Qt's standard
buttons and dialogs (file choosers, message boxes) are translated by Qt's own ``qtbase_<lang>.qm``
catalogue from the PySide6 package. Without any CJK font, Chinese text shows as empty boxes; the desk
then says so in one line naming the package to install.
"""

from __future__ import annotations

import os
import re
import sys
from datetime import datetime
from functools import cache

from PySide6.QtCore import QDate, QDateTime, QLibraryInfo, QLocale, Qt, QTime, QTranslator
from PySide6.QtGui import QFontDatabase
from PySide6.QtWidgets import QApplication, QLabel, QMainWindow

from cmo_desk.domain.i18n import CJK_LANGUAGES, current_language, set_language, system_language, tr

# Han ideographs (with extension A and compatibility forms), CJK punctuation, kana and Hangul.
_CJK = ("[\u2e80-\u2fdf\u3000-\u30ff\u3100-\u312f\u3190-\u31ff\u3400-\u4dbf"
        "\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff\uff00-\uffef]")
_FIRST_CJK = "\u2e80"


@cache
def _cjk() -> re.Pattern[str]:
    # compiled when first needed: compiling these wide ranges costs start-up several milliseconds
    return re.compile(_CJK)


HINT_OBJECT = "cjkFontHint"


def choose_language(given: str | None, saved: str | None) -> str:
    """Set and return the desk's language (see the module docstring for the order)."""
    if given or saved or os.environ.get("CMO_DESK_LANG"):
        return set_language(given or saved)
    return set_language(system_language(names=tuple(QLocale.system().uiLanguages())))


class _MnemonicFallback(QTranslator):
    """Qt's catalogue, and for a label it lacks that carries a keyboard mnemonic ("&Look in:",
    "Files of &type:" in the file chooser), the translation of the same label without it: some of
    Qt's catalogues (Chinese among them) predate the mnemonics and would leave those labels English."""

    def __init__(self, catalogue: QTranslator, parent: QApplication) -> None:
        super().__init__(parent)
        self.catalogue = catalogue

    def translate(self, context: str, source: str, disambiguation: str | None = None,  # type: ignore[override]
                  n: int = -1) -> str:
        found = self.catalogue.translate(context, source, disambiguation, n)
        if not found and source and "&" in source:
            found = self.catalogue.translate(context, source.replace("&", "", 1), disambiguation, n)
        return found

    def isEmpty(self) -> bool:
        return self.catalogue.isEmpty()


def install_qt_translations(app: QApplication, lang: str | None = None) -> QTranslator | None:
    """Translate Qt's own texts (standard buttons, file dialogs) and use the language's number and date
    conventions; returns the installed translator (kept on the application), or None for English."""
    lang = lang or current_language()
    system = QLocale.system()
    # English in Nairobi or Manila keeps the system's dates; otherwise the desk language's conventions.
    same = system.name().split("_")[0] == lang.split("_")[0] and lang != "pt_BR" or system.name() == lang
    QLocale.setDefault(system if same else QLocale("en_GB" if lang == "en" else lang))
    if lang == "en":
        return None
    catalogue = QTranslator(app)
    folder = QLibraryInfo.path(QLibraryInfo.LibraryPath.TranslationsPath)
    if not catalogue.load(QLocale(lang), "qtbase", "_", folder):
        return None
    translator = _MnemonicFallback(catalogue, app)
    app.installTranslator(translator)
    app.setProperty("cmo_desk_qt_translator", translator)  # keep it alive with the application
    return translator


def has_cjk_font() -> bool:
    return bool(QFontDatabase.families(QFontDatabase.WritingSystem.SimplifiedChinese))


def needs_cjk(text: str) -> bool:
    if not text or max(text) < _FIRST_CJK:  # (no character as far up as the CJK blocks)
        return False
    return bool(_cjk().search(text))


def cjk_font_hint() -> str:
    return tr("Chinese text shows as empty boxes because this computer has no CJK font. Install one "
              "(on Debian or Ubuntu: sudo apt install fonts-noto-cjk), then restart CMO Desk.")


def watch_cjk_fonts(window: QMainWindow, font_present: bool | None = None) -> QLabel:
    """Show the font hint in the window's status bar when the desk's language or an open study's text
    is Chinese, Japanese or Korean and no CJK font is installed. Returns the (hidden) hint label."""
    present = has_cjk_font() if font_present is None else font_present
    label = QLabel(cjk_font_hint())
    label.setObjectName(HINT_OBJECT)
    label.setTextFormat(Qt.TextFormat.PlainText)
    label.setStyleSheet("color: #a33; font-weight: bold;")
    label.setToolTip(label.text())
    label.setVisible(False)
    window.statusBar().addWidget(label, 1)
    if present:
        return label
    if current_language() in CJK_LANGUAGES:
        label.setVisible(True)
        print("cmo-desk: " + label.text(), file=sys.stderr)

    def check(_study_id: str = "") -> None:
        if label.isVisible():
            return
        doc_view = getattr(window, "doc_view", None)
        title = getattr(window, "study_title", None)
        text = (doc_view.text() if doc_view is not None else "") + (title.text() if title is not None else "")
        if needs_cjk(text):
            label.setVisible(True)

    opened = getattr(window, "study_opened", None)
    if opened is not None:
        opened.connect(check)
    check()
    return label


def local_datetime(moment: datetime, seconds: bool = False, date: bool = True) -> str:
    """``moment`` written the way the desk's locale writes dates and times (e.g. 29.11.2026 18:40)."""
    loc = QLocale()
    time_format = loc.timeFormat(QLocale.FormatType.ShortFormat)
    if seconds and "s" not in time_format:
        time_format = time_format.replace("mm", "mm:ss", 1)
    pattern = (loc.dateFormat(QLocale.FormatType.ShortFormat) + " " if date else "") + time_format
    when = QDateTime(QDate(moment.year, moment.month, moment.day),
                     QTime(moment.hour, moment.minute, moment.second))
    return loc.toString(when, pattern)
