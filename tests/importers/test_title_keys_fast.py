"""Comparing titles faster must not change one key: an ASCII title's key, and the words of a
file's opening, are exactly what the Unicode rule gives."""

from __future__ import annotations

import unicodedata

from hypothesis import given
from hypothesis import strategies as st

from cmo_desk.importers.dedupe import title_word_set, title_words
from cmo_desk.importers.textnorm import normalise_title

#: Every ASCII character (controls, punctuation, both cases, digits), a few accented and CJK
#: letters, combining marks, a ligature, superscripts, full-width digits and Unicode spaces.
ALPHABET = st.one_of(
    st.characters(min_codepoint=0, max_codepoint=127),
    st.sampled_from(["é", "É", "ß", "ﬁ", "İ", "\u0301", "²", "½", "１", "同", "伴", "한",
                     "\u00a0", "\u2003", "\u3000", "\u2028"]))


def _key_by_the_rule(title: str) -> str:
    decomposed = unicodedata.normalize("NFKD", title.casefold())
    return "".join(ch for ch in decomposed
                   if not unicodedata.combining(ch) and unicodedata.category(ch)[0] in ("L", "N"))


@given(st.text(ALPHABET, max_size=60))
def test_a_title_key_is_the_rule_s_key(title: str) -> None:
    assert normalise_title(title) == _key_by_the_rule(title)


@given(st.text(st.characters(min_codepoint=0, max_codepoint=127), max_size=60))
def test_an_ascii_title_key_is_the_rule_s_key(title: str) -> None:
    assert normalise_title(title) == _key_by_the_rule(title)


@given(st.lists(st.text(ALPHABET, max_size=30), max_size=8))
def test_the_words_of_an_opening_are_those_of_its_every_title(lines: list[str]) -> None:
    text = " ".join(lines + lines[:3])  # candidate titles repeat the opening's lines
    assert title_word_set(text) == set(title_words(text))


def test_known_keys() -> None:
    assert normalise_title("Peer-led Outreach: a REVIEW (2019)") == "peerledoutreachareview2019"
    assert normalise_title("Café naïve") == "cafenaive"
    assert normalise_title("ﬁnding") == "finding"
    assert normalise_title("") == ""
