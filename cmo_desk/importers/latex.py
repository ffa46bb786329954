"""Decoding the LaTeX that BibTeX files carry in titles and names ({\\"u}, \\'{e}, \\c{c}, --,
$\\cdot$, $_{1-x}$, \\textsubscript{2}, {\\em ...\\/}, \\-, \\AA rhus).

pylatexenc's LaTeX-to-text converter does the decoding; this module adds what reference files
need on top: subscripts and superscripts as Unicode where every character has one ("Ga₁₋ₓInₓN",
"CO₂"), a few macros it renders as nothing (``\\slash``), no soft hyphens from ``\\-``, and one
line of plain text. Values without LaTeX skip the converter, which keeps a thousand-record file
fast on an old laptop.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

_SUB = dict(zip("0123456789+-=()aehijklmnoprstuvx", "₀₁₂₃₄₅₆₇₈₉₊₋₌₍₎ₐₑₕᵢⱼₖₗₘₙₒₚᵣₛₜᵤᵥₓ"))
_SUP = dict(zip("0123456789+-=()in", "⁰¹²³⁴⁵⁶⁷⁸⁹⁺⁻⁼⁽⁾ⁱⁿ"))
#: What makes a run of words LaTeX: a command, a group, math, a tie, a dash, or ``quotes''.
_LATEX_MARKS = re.compile(r"[\\{}$~]|--|``|''")
#: _{...} / ^{...} / _x inside math, and \textsubscript{...} / \textsuperscript{...} anywhere.
_SCRIPT_RE = re.compile(r"([_^])(?:\{([^{}$]*)\}|([A-Za-z0-9+\-]))")
_TEXT_SCRIPT_RE = re.compile(r"\\text(sub|super)script\s*\{([^{}]*)\}")
_MATH_RE = re.compile(r"(?<!\\)\$([^$]*)(?<!\\)\$")


def _script(kind: str, body: str) -> str:
    table = _SUB if kind in ("_", "sub") else _SUP
    plain = body.replace(" ", "")
    for candidate in (plain, plain.lower()):
        if candidate and all(ch in table for ch in candidate):
            return "".join(table[ch] for ch in candidate)
    return body


#: A script left as literal text (Zotero escapes "Al_{x}" as "Al\_\{x\}").
_LITERAL_SCRIPT_RE = re.compile(r"([_^])\{([^{}]*)\}")


def _scripts_in_math(match: re.Match[str]) -> str:
    math = _SCRIPT_RE.sub(lambda m: _script(m.group(1), m.group(2) if m.group(2) is not None else m.group(3)),
                          match.group(1))
    return "$" + math + "$"


@lru_cache(maxsize=1)
def _converter() -> Any:
    from pylatexenc import latex2text, macrospec
    from pylatexenc.latexwalker import get_default_latex_context_db

    context = get_default_latex_context_db().filter_context(keep_categories=None)
    context.add_context_category(
        "cmo-desk-references",
        prepend=True,
        macros=[
            macrospec.MacroSpec("slash", ""),
            macrospec.MacroSpec("-", ""),
            macrospec.MacroSpec("/", ""),
        ],
    )
    text_context = latex2text.get_default_latex_context_db()
    text_context.add_context_category(
        "cmo-desk-references",
        prepend=True,
        macros=[
            latex2text.MacroTextSpec("slash", "/"),
            latex2text.MacroTextSpec("-", ""),
            latex2text.MacroTextSpec("/", ""),
        ],
    )
    return latex2text.LatexNodes2Text(
        latex_context=text_context, math_mode="text", strict_latex_spaces=False, keep_comments=True
    ), context


def decode_latex(text: str) -> str:
    """LaTeX source of a field value -> one line of plain Unicode text."""
    if not text:
        return text
    if _LATEX_MARKS.search(text):
        text = "".join(
            _decode_group(chunk) if special else chunk for special, chunk in _groups(text)
        )
    text = text.replace("\u00ad", "")
    return " ".join(text.replace("\u00a0", " ").split())


_CONTROL_WORD_END_RE = re.compile(r"\\[A-Za-z]+$")


def _groups(text: str) -> list[tuple[bool, str]]:
    """``text`` cut into runs of plain words and runs that carry LaTeX, so the converter (about a
    millisecond a title) sees only the few words that need it. A cut falls only on a space outside
    braces and math, and never after a control word (``\\AA rhus``: LaTeX eats that space)."""
    chunks: list[str] = []
    depth, math, start = 0, False, 0
    i = 0
    while i < len(text):
        ch = text[i]
        if ch == "\\":
            i += 2
            continue
        if ch == "{":
            depth += 1
        elif ch == "}":
            depth = max(0, depth - 1)
        elif ch == "$":
            math = not math
        elif ch == " " and depth == 0 and not math and not _CONTROL_WORD_END_RE.search(text[start:i]):
            chunks.append(text[start : i + 1])
            start = i + 1
        i += 1
    chunks.append(text[start:])
    groups: list[tuple[bool, str]] = []
    for chunk in chunks:
        special = bool(_LATEX_MARKS.search(chunk))
        if groups and groups[-1][0] == special:
            groups[-1] = (special, groups[-1][1] + chunk)
        else:
            groups.append((special, chunk))
    return groups


@lru_cache(maxsize=8192)
def _decode_group(text: str) -> str:
    trailing = text[len(text.rstrip(" ")) :]
    text = text.rstrip(" ")
    text = _TEXT_SCRIPT_RE.sub(lambda m: "{" + _script(m.group(1), m.group(2)) + "}", text)
    if "$" in text:
        text = _MATH_RE.sub(_scripts_in_math, text)
    converter, context = _converter()
    from pylatexenc.latexwalker import LatexWalker

    try:
        walker = LatexWalker(text, latex_context=context, tolerant_parsing=True)
        text = converter.nodelist_to_text(walker.get_latex_nodes()[0])
    except Exception:  # noqa: BLE001 - damaged LaTeX: keep the value readable as it is
        text = text.replace("{", "").replace("}", "")
    if "{" in text:
        text = _LITERAL_SCRIPT_RE.sub(lambda m: _script(m.group(1), m.group(2)), text)
    return text + trailing
