"""Fonts, colours and the style sheet shared by every screen."""

from __future__ import annotations

from collections.abc import Iterable

from PySide6.QtGui import QColor, QFont, QFontDatabase, QIcon, QPainter, QPixmap
from PySide6.QtWidgets import QApplication

from cmo_desk.domain.i18n import tr

ROLE_COLORS = {
    "context": "#2e7d32",
    "mechanism": "#1565c0",
    "outcome": "#c62828",
    "intervention": "#6a1b9a",
    "other": "#616161",
}
ROLE_ORDER = ("context", "mechanism", "outcome", "intervention", "other")
# Colours for people, each far (CIE ΔE ≥ 35) from every role colour so a coder is never read as a
# role: amber, pink, cyan, olive, orange, raspberry. The colour stored with a coder is not used on
# screen, since older projects stored green, blue and red.
CODER_PALETTE = ("#ffb300", "#f06292", "#00acc1", "#9e9d24", "#ff6f00", "#ad1457")
# CJK fallbacks are named so Chinese renders wherever one of them is installed; none is required.
UI_FAMILIES = ["Noto Sans", "Segoe UI", "Helvetica Neue", "DejaVu Sans", "Liberation Sans",
               "Noto Sans CJK SC", "Microsoft YaHei", "PingFang SC", "WenQuanYi Micro Hei",
               "Droid Sans Fallback"]
READING_FAMILIES = ["Noto Serif", "Georgia", "DejaVu Serif", "Liberation Serif",
                    "Noto Serif CJK SC", "Noto Sans CJK SC", "SimSun", "Songti SC",
                    "Droid Sans Fallback"]


def role_label(role: str | None) -> str:
    return {
        "context": tr("Context"), "mechanism": tr("Mechanism"), "outcome": tr("Outcome"),
        "intervention": tr("Intervention"), "other": tr("Other"),
    }.get(role or "other", role or tr("Other"))


def coder_colors(coder_ids: Iterable[str]) -> dict[str, str]:
    """A display colour for each coder, stable for a given set of coders."""
    return {cid: CODER_PALETTE[n % len(CODER_PALETTE)]
            for n, cid in enumerate(sorted(set(coder_ids)))}


def role_color(role: str | None) -> QColor:
    return QColor(ROLE_COLORS.get(role or "other", ROLE_COLORS["other"]))


def tinted(color: QColor | str, alpha: int) -> QColor:
    c = QColor(color)
    c.setAlpha(alpha)
    return c


_icons: dict[tuple[str, int], QIcon] = {}


def swatch(color: str | QColor, size: int = 12) -> QIcon:
    key = (QColor(color).name(), size)
    if key not in _icons:
        pix = QPixmap(size, size)
        pix.fill(QColor(0, 0, 0, 0))
        p = QPainter(pix)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        p.setBrush(QColor(color))
        p.setPen(QColor(color).darker(120))
        p.drawRoundedRect(1, 1, size - 2, size - 2, 3, 3)
        p.end()
        _icons[key] = QIcon(pix)
    return _icons[key]


def _available(families: list[str]) -> list[str]:
    installed = set(QFontDatabase.families())
    found = [f for f in families if f in installed]
    return found or families


def ui_font(point_size: float = 10) -> QFont:
    font = QFont()
    font.setFamilies(_available(UI_FAMILIES))
    font.setPointSizeF(point_size)
    return font


def reading_font(point_size: float = 11.5) -> QFont:
    font = QFont()
    font.setFamilies(_available(READING_FAMILIES))
    font.setPointSizeF(point_size)
    return font


STYLE = """
QMainWindow, QDialog { background: #f6f7f9; }
QDockWidget::title { background: #eceff3; padding: 5px 8px; font-weight: 600; color: #37474f; }
QDockWidget { titlebar-close-icon: none; }
QTabWidget::pane { border: 1px solid #d5dae1; border-radius: 4px; background: white; top: -1px; }
QTabBar::tab { padding: 6px 14px; border: 1px solid transparent; color: #546e7a; }
QTabBar::tab:selected { color: #1a237e; border-bottom: 2px solid #3949ab; font-weight: 600; }
QTableView, QTreeView, QListView, QListWidget, QTreeWidget {
    background: white; border: 1px solid #d5dae1; border-radius: 4px;
    selection-background-color: #dbe4ff; selection-color: #111; alternate-background-color: #fafbfc;
}
QHeaderView::section { background: #f0f2f5; border: none; border-bottom: 1px solid #d5dae1;
    padding: 4px 6px; color: #455a64; font-weight: 600; }
QLineEdit, QPlainTextEdit, QComboBox { background: white; border: 1px solid #cfd6de;
    border-radius: 4px; padding: 3px 5px; }
QLineEdit:focus, QPlainTextEdit:focus, QComboBox:focus { border: 1px solid #5c6bc0; }
QPlainTextEdit#documentView { border: none; background: #fffefb; }
QPushButton { background: white; border: 1px solid #c5ccd6; border-radius: 4px; padding: 4px 10px; }
QPushButton:hover { background: #eef1f6; }
QPushButton:pressed { background: #dfe4ec; }
QPushButton:disabled { color: #9aa3ad; }
QPushButton#primary { background: #3949ab; color: white; border-color: #303f9f; }
QPushButton#primary:hover { background: #303f9f; }
QPushButton#primary:disabled { background: #c5cae9; color: #f5f6fa; border-color: #c5cae9; }
QLineEdit:disabled, QPlainTextEdit:disabled, QComboBox:disabled { background: #f4f5f7;
    color: #9aa3ad; }
QLabel#studyTitle { font-size: 14pt; font-weight: 600; color: #1c2733; }
QLabel#studyMeta { color: #607080; }
QLabel#sectionTitle { font-weight: 700; color: #37474f; padding-top: 8px;
    border-bottom: 1px solid #e0e4ea; }
QLabel#banner { background: #fff4e5; border: 1px solid #ffcc80; border-radius: 4px; padding: 5px;
    color: #6d4c00; }
QLabel#hint { color: #78909c; }
QStatusBar { background: #eceff3; color: #455a64; }
QStatusBar QLabel { padding: 0 8px; }
QToolBar { background: #f6f7f9; border: none; border-bottom: 1px solid #dde2e8; spacing: 4px; }
QToolButton { padding: 4px 8px; border-radius: 4px; }
QToolButton:hover { background: #e3e8ef; }
QScrollArea { border: none; background: white; }
"""


#: The desk's Qt style; start-up names it when making the application (APP_ARGUMENTS), since
#: setting it afterwards hands back the style object, and making its Python type costs the
#: first paint several milliseconds.
STYLE_NAME = "Fusion"
APP_ARGUMENTS = ["-style", STYLE_NAME]


def apply_theme(app: QApplication, style_sheet: bool = True, style: bool = True) -> None:
    """The desk's style (unless ``style`` is False: made with APP_ARGUMENTS), font, and style
    sheet (unless ``style_sheet`` is False: ``apply_style_sheet`` follows once the first window
    is built)."""
    if style:
        app.setStyle(STYLE_NAME)
    app.setFont(ui_font())
    if style_sheet:
        apply_style_sheet(app)


def apply_style_sheet(app: QApplication) -> None:
    """Set the style sheet. A window built before it is styled once, as a whole, when shown;
    built after it, each part is styled again every time it is placed into a larger one."""
    app.setStyleSheet(STYLE)
