"""Make any stored text safe for Word, Excel and CSV.

Text pasted or extracted from PDFs carries characters that XML 1.0 forbids (NUL, most C0 controls,
U+FFFE that pypdfium2 leaves where it rejoined a hyphenated word, lone surrogates). lxml and
openpyxl refuse them outright, so one stray byte would otherwise abort a whole export.
"""

from __future__ import annotations

import re
from typing import Any

#: Vertical tab and form feed are how PDFs and Word mark line and page breaks: keep the break.
_BREAKS = re.compile("[\r\x0b\x0c\u2028\u2029]")
#: Anything clean_text would change; most text has none, and searching is far cheaper than fixing.
_SUSPECT = re.compile(
    "[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff\ufdd0-\ufdef\ufffe\uffff"
    "\U0001fffe\U0001ffff\U0002fffe\U0002ffff\U0010fffe\U0010ffff]"
)

_ILLEGAL = re.compile(
    "["
    "\x00-\x08\x0e-\x1f\x7f"  # C0 controls except tab, newline, CR (handled below) and DEL
    "\x80-\x9f"  # C1 controls: legal in XML 1.0 but invisible garbage from mis-decoded text
    "\ud800-\udfff"  # lone surrogates cannot be encoded as UTF-8
    "\ufdd0-\ufdef\ufffe\uffff"  # Unicode noncharacters; U+FFFE marks pypdfium2's hyphen joins
    "]"
)
_NONCHAR_PLANES = re.compile("[\U0001fffe\U0001ffff\U0002fffe\U0002ffff\U0010fffe\U0010ffff]")


def clean_text(value: Any) -> str:
    """Return ``value`` as a string that every export format accepts, with line breaks as ``\\n``.

    None becomes "". Tabs are kept; CR/LF pairs and lone CRs become ``\\n``.
    """
    if value is None:
        return ""
    text = value if isinstance(value, str) else str(value)
    if not _SUSPECT.search(text):
        return text
    text = _BREAKS.sub("\n", text.replace("\r\n", "\n"))
    text = _ILLEGAL.sub("", text)
    return _NONCHAR_PLANES.sub("", text)


def one_line(value: Any) -> str:
    """Cleaned text with runs of whitespace (including line breaks) folded to single spaces."""
    return " ".join(clean_text(value).split())


#: Characters that make Excel, LibreOffice and Google Sheets read a CSV cell as a formula.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\n")
_PLAIN_NUMBER = re.compile(r"[+-]?(\d+([.,]\d*)?|[.,]\d+)([eE][+-]?\d+)?")


def csv_safe(value: Any) -> str:
    """Cleaned text for a CSV cell that a spreadsheet will show, never run.

    Text from PDFs, imported sheets or another coder's file may start with ``=``, ``+``, ``-`` or
    ``@`` (for instance ``=HYPERLINK(...)``); such a cell gets a leading apostrophe, the usual
    sign for "text", so it is shown as typed. Plain numbers such as ``-2.5`` and a lone ``+`` or
    ``-`` (an outcome direction) cannot run and are left alone.
    """
    text = clean_text(value)
    if (text.startswith(_FORMULA_START) and text not in ("+", "-")
            and not _PLAIN_NUMBER.fullmatch(text)):
        return "'" + text
    return text
