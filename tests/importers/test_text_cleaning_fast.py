"""Cleaning a page's text faster must not change one character of it: each step gives exactly
what its rule (the regular expression it replaced) gives, for ASCII pages and any other."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from cmo_desk.importers.textnorm import (
    _CONTROL_RE,
    _HYPHENATED_RE,
    _LIGATURE_RE,
    _LIGATURES,
    _TRAILING_SPACE_RE,
    fix_ligatures,
    hyphenated_vocabulary,
    reflow,
    strip_controls,
    strip_line_end_spaces,
)

#: Letters of several scripts and cases, digits, the underscore, hyphens, the spaces and breaks
#: the rules look at, controls of both ranges, ligatures, non-characters and a lone surrogate.
ALPHABET = st.sampled_from(
    list("aZz09_-- \t\n\n\r,;)].") + ["\u00a0", "é", "ß", "同", "٣", "²", "\x00", "\x07", "\x0b",
                                      "\x1f", "\x7f", "\x85", "\x9f", "\ufb01", "\ufb03",
                                      "\ufffe", "\uffff", "\ud83d", "’", "”", "\u00ad"])
ASCII = st.characters(min_codepoint=0, max_codepoint=127)
any_page = st.text(st.one_of(ALPHABET, ASCII), max_size=120)
ascii_page = st.text(st.one_of(ASCII, st.sampled_from(list("a-z \n\t"))), max_size=120)


@given(any_page)
def test_controls_are_removed_as_the_rule_says(text: str) -> None:
    assert strip_controls(text) == _CONTROL_RE.sub("", text)


@given(ascii_page)
def test_controls_of_an_ascii_page_are_removed_as_the_rule_says(text: str) -> None:
    assert strip_controls(text) == _CONTROL_RE.sub("", text)


@given(any_page)
def test_ligatures_are_opened_as_the_rule_says(text: str) -> None:
    assert fix_ligatures(text) == _LIGATURE_RE.sub(lambda m: _LIGATURES[m.group()], text)


@given(st.one_of(any_page, ascii_page))
def test_line_end_spaces_are_removed_as_the_rule_says(text: str) -> None:
    assert strip_line_end_spaces(text) == _TRAILING_SPACE_RE.sub("\n", text)


@given(st.one_of(any_page, ascii_page, st.text(st.sampled_from(list("ab-_é- \n")), max_size=60)))
def test_the_hyphenated_words_are_those_the_rule_finds(text: str) -> None:
    assert hyphenated_vocabulary(text) == frozenset(
        m.group(0).lower() for m in _HYPHENATED_RE.finditer(text))


def test_examples() -> None:
    assert strip_controls("a\x00b\tc\nd\x7f") == "ab\tc\nd"
    assert strip_line_end_spaces("a \t\nb\u00a0\nc  ") == "a\nb\nc  "
    assert hyphenated_vocabulary("peer-led and Dual-Encoder, a-b-c; x -y") == {
        "peer-led", "dual-encoder", "a-b"}
    assert hyphenated_vocabulary("-" * 50_000 + "a" * 50_000) == frozenset()
    assert reflow("trust \nworkers,\nclients\nLater") == "trust workers, clients\nLater"
