"""Reading a page's text faster must not change one character of it: line joining and hyphen
rejoining give exactly what the rule, applied one line break at a time, gives."""

from __future__ import annotations

import re

from hypothesis import given
from hypothesis import strategies as st

from cmo_desk.importers.textnorm import (
    _CJK_RE,
    _LINE_END_HYPHEN_RE,
    _SOFT_HYPHEN_BREAK_RE,
    _TRAILING_SPACE_RE,
    _WRAPPED_LINE_RE,
    clean_text,
    fix_ligatures,
    reflow,
    strip_controls,
)

#: Both sides of every decision: ASCII and other letters in both cases, digits, CJK, the closing
#: marks, spaces, tabs, line breaks, hyphens and the underscore.
ALPHABET = st.sampled_from(list("aZz09,;)]’”.-_ \t\n\n\n") + ["é", "É", "ß", "同", "伴", "한", "ǅ", "ª", "²", "½", "٣"])


def _reflow_by_the_rule(text: str) -> str:
    def join(match: re.Match[str]) -> str:
        after = match.end()
        if not text[after: after + 1].islower():
            return match.group(0)
        before = text[max(0, match.start() - 1): match.start()]
        if _CJK_RE.match(before) or _CJK_RE.match(text[after: after + 1]):
            return match.group(0)
        return " "

    return _WRAPPED_LINE_RE.sub(join, text)


@given(st.text(ALPHABET, max_size=80))
def test_reflow_joins_exactly_the_lines_the_rule_joins(text: str) -> None:
    assert reflow(text) == _reflow_by_the_rule(text)


def _clean_by_the_rule(text: str, hyphenated: frozenset[str]) -> str:
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = _SOFT_HYPHEN_BREAK_RE.sub("", text).replace("\u00ad", "")
    text = _TRAILING_SPACE_RE.sub("\n", strip_controls(fix_ligatures(text)))

    def join(match: re.Match[str]) -> str:
        left, right = match.group(1), match.group(2)
        if not (left[-1].isalpha() and right[0].isalpha() and right[0].islower()):
            return match.group(0)
        if f"{left}-{right}".lower() in hyphenated:
            return f"{left}-{right}"
        return left + right

    return _LINE_END_HYPHEN_RE.sub(join, text)


@given(st.text(st.one_of(ALPHABET, st.sampled_from(["\r", "\u00ad", "\ufb01", "\x07"])),
               max_size=80),
       st.frozensets(st.sampled_from(["a-z", "z-a", "é-a", "a-a"])))
def test_hyphens_are_rejoined_exactly_as_the_rule_says(text: str,
                                                       hyphenated: frozenset[str]) -> None:
    assert clean_text(text, hyphenated) == _clean_by_the_rule(text, hyphenated)


def test_a_wrapped_paragraph_and_a_cjk_line_end() -> None:
    assert reflow("control over their\nstaff") == "control over their staff"
    assert reflow("同伴\nabc") == "同伴\nabc"
    assert reflow("end.\nnext") == "end.\nnext"
    assert reflow("São\néa") == "São éa"
