"""Decoding the LaTeX that BibTeX files carry in titles and names ({\\"u}, \\'{e}, \\c{c}, --).

A small table-driven decoder rather than a full LaTeX parser: reference files use a few dozen
escapes, and a general parser takes seconds over a thousand records on an old laptop.
"""

from __future__ import annotations

import re
import unicodedata

_ACCENTS = {
    "'": "\u0301",
    "`": "\u0300",
    "^": "\u0302",
    '"': "\u0308",
    "~": "\u0303",
    "=": "\u0304",
    ".": "\u0307",
    "u": "\u0306",
    "v": "\u030c",
    "H": "\u030b",
    "c": "\u0327",
    "k": "\u0328",
    "r": "\u030a",
    "d": "\u0323",
    "b": "\u0331",
}

_SYMBOLS = {
    "i": "ı",
    "j": "ȷ",
    "l": "ł",
    "L": "Ł",
    "o": "ø",
    "O": "Ø",
    "ss": "ß",
    "ae": "æ",
    "AE": "Æ",
    "oe": "œ",
    "OE": "Œ",
    "aa": "å",
    "AA": "Å",
    "dh": "ð",
    "DH": "Ð",
    "th": "þ",
    "TH": "Þ",
    "ng": "ŋ",
    "NG": "Ŋ",
    "textendash": "–",
    "textemdash": "—",
    "textquoteright": "’",
    "textquoteleft": "‘",
    "textquotedblleft": "“",
    "textquotedblright": "”",
    "textasciitilde": "~",
    "textregistered": "®",
    "texttrademark": "™",
    "textcopyright": "©",
    "textdegree": "°",
    "textbackslash": "\\",
    "textbar": "|",
    "textless": "<",
    "textgreater": ">",
    "textellipsis": "…",
    "ldots": "…",
    "dots": "…",
    "S": "§",
    "P": "¶",
    "pounds": "£",
    "euro": "€",
    "copyright": "©",
    "dag": "†",
    "ddag": "‡",
    "alpha": "α",
    "beta": "β",
    "gamma": "γ",
    "delta": "δ",
    "epsilon": "ε",
    "kappa": "κ",
    "lambda": "λ",
    "mu": "μ",
    "pi": "π",
    "sigma": "σ",
    "tau": "τ",
    "omega": "ω",
    "Delta": "Δ",
    "Omega": "Ω",
    "times": "×",
    "pm": "±",
    "leq": "≤",
    "geq": "≥",
    "le": "≤",
    "ge": "≥",
    "deg": "°",
    "circ": "°",
}

_ESCAPED = {"&": "&", "%": "%", "$": "$", "#": "#", "_": "_", "{": "{", "}": "}", " ": " ", ",": " ", ";": " "}

_ACCENT_RE = re.compile(
    r"\\([`'^\"~=.])\s*(?:\{\s*(\\[ij]\b|[A-Za-z0-9])\s*\}|(\\[ij]\b|[A-Za-z0-9]))"
    r"|\\([uvHckrdb])(?:\s*\{\s*(\\[ij]\b|[A-Za-z])\s*\}|\s+([A-Za-z]))"
)
_COMMAND_RE = re.compile(r"\\([A-Za-z]+)\s*(\{\})?")
_ESCAPE_RE = re.compile(r"\\([&%$#_{} ,;])")
_FORMAT_RE = re.compile(
    r"\\(?:textit|textbf|emph|textsc|textrm|textsf|texttt|textup|textnormal|mathrm|mathit|mbox|url|"
    r"uppercase|lowercase|MakeUppercase|MakeLowercase|ensuremath|NoCaseChange|textsubscript|"
    r"textsuperscript|href\{[^{}]*\})\s*(?=\{)"
)


def _accent(match: re.Match[str]) -> str:
    mark = match.group(1) or match.group(4)
    base = match.group(2) or match.group(3) or match.group(5) or match.group(6) or ""
    if base in ("\\i", "\\j"):
        base = base[1]
    return unicodedata.normalize("NFC", base + _ACCENTS[mark])


def decode_latex(text: str) -> str:
    """LaTeX source of a field value -> plain Unicode text, braces removed."""
    if not text:
        return text
    if "\\" in text:
        text = _FORMAT_RE.sub("", text)
        text = _ACCENT_RE.sub(_accent, text)
        text = _COMMAND_RE.sub(lambda m: _SYMBOLS.get(m.group(1), m.group(0)), text)
        text = _ESCAPE_RE.sub(lambda m: _ESCAPED[m.group(1)], text)
        text = text.replace("\\\\", " ")
    text = text.replace("---", "—").replace("--", "–")
    text = re.sub(r"(?<!\\)~", "\u00a0", text)
    if "$" in text:
        text = re.sub(r"\$([^$]*)\$", r"\1", text)
    text = text.replace("{", "").replace("}", "")
    # Leftover commands we do not know: drop the backslash, keep the word.
    text = re.sub(r"\\([A-Za-z]+)", r"\1", text)
    return " ".join(text.replace("\u00a0", " ").split())
