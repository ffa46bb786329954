"""Arabic folding for the search index: the quick test for Arabic letters decides exactly as a
character-by-character look would, so no page is indexed unfolded (and then never found)."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from cmo_desk.domain.textsearch import _ALEFS, _ARABIC_MARKS, fold_arabic, index_text

#: Around and inside the Arabic block, plus Latin, CJK and emoji (outside the BMP).
CHARS = st.one_of(
    st.characters(min_codepoint=0x05F0, max_codepoint=0x0710),
    st.sampled_from(list("aé 同伴\n.,") + ["\U0001F9EA", "\u0600", "\u06ff", "\u0700", "\u05ff"]),
)


def _slow_fold(text: str) -> str:
    """The rule spelled out character by character."""
    if not any("\u0600" <= ch <= "\u06ff" for ch in text):
        return text
    text = _ARABIC_MARKS.sub("", text).translate(_ALEFS)
    return text.replace("\u0644\u0627", "\u0627\u0644")


@given(st.text(CHARS, max_size=60))
def test_folding_decides_as_a_look_at_every_character(text: str) -> None:
    assert fold_arabic(text) == _slow_fold(text)
    assert len(fold_arabic(text)) <= len(text)


def test_the_block_edges_and_a_lam_alef_are_folded() -> None:
    assert fold_arabic("\u0600\u0623") == "\u0600\u0627"
    assert fold_arabic("\u0644\u0627") == "\u0627\u0644"
    assert fold_arabic("x\u06ff\u0644\u0627") == "x\u06ff\u0627\u0644"
    assert fold_arabic("\u05ff\u0700 plain") == "\u05ff\u0700 plain"
    assert index_text("أهلا 同伴") == "اهال  同  伴 "
