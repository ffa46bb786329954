"""Imported text is shown as the characters it is, never interpreted as HTML.

Qt guesses whether a label's text or a tooltip is rich text; a reference title such as
``<h1>…<img src=…>`` would be rendered as a heading and an image (and a remote image fetched).
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel


def plain_label(label: QLabel) -> QLabel:
    label.setTextFormat(Qt.TextFormat.PlainText)
    return label


def plain_tip(text: str | None) -> str:
    """A tooltip that shows ``text`` literally, line breaks kept."""
    if not text:
        return ""
    return "<p style='white-space:pre-wrap'>" + escape(text) + "</p>"


def escape(text: str | None) -> str:
    """Project text placed inside a label that is rich text for its own formatting."""
    import html  # (imported when first needed: not for the first paint)

    return html.escape(text or "")
