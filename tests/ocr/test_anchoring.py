"""An excerpt is found again by its quote and surroundings when the text around it changes."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from cmo_desk.domain.anchoring import find_anchor

WORDS = st.lists(st.text("abcdefghij", min_size=1, max_size=6), min_size=1, max_size=6)


def test_repeated_quote_is_told_apart_by_its_surroundings() -> None:
    text = "police came and fewer people came. Later, in winter, fewer people came to the van."
    anchor = find_anchor(text, "fewer people came", before="Later, in winter, ", after=" to the van")
    assert anchor is not None and text[anchor.start:anchor.end] == "fewer people came"
    assert anchor.start == text.rindex("fewer people came") and anchor.exact


def test_quote_found_when_line_breaks_differ() -> None:
    text = "Peer workers said trust\nwas built   slowly over months."
    anchor = find_anchor(text, "trust was built slowly")
    assert anchor is not None and not anchor.exact
    assert " ".join(text[anchor.start:anchor.end].split()) == "trust was built slowly"


def test_missing_quote_is_not_placed() -> None:
    assert find_anchor("nothing like it here", "needle exchange") is None
    assert find_anchor("anything", "   ") is None


@given(WORDS, WORDS, WORDS, st.sampled_from([" ", "\n", "  ", " \n"]))
def test_quote_is_found_in_any_spacing(left: list[str], quote: list[str], right: list[str],
                                       gap: str) -> None:
    text = " ".join(left) + " " + gap.join(quote) + " " + " ".join(right)
    anchor = find_anchor(text, " ".join(quote), before=" ".join(left) + " ",
                         after=" " + " ".join(right))
    assert anchor is not None
    assert text[anchor.start:anchor.end].split() == quote
