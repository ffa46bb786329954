"""The text an excerpt keeps on either side of its quote: one rule wherever excerpts are made."""

from __future__ import annotations

from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from cmo_desk.domain.anchoring import CONTEXT_CHARS, context_around, find_anchor
from cmo_desk.services import coding
from cmo_desk.services.session import Session


def test_context_is_cut_at_the_ends_of_the_text() -> None:
    text = "🙂 peers 🙂" + "x" * 100
    before, after = context_around(text, 2, 7)
    assert (before, text[2:7]) == ("🙂 ", "peers")
    assert after == text[7:7 + CONTEXT_CHARS] and len(after) == CONTEXT_CHARS
    assert context_around(text, len(text) - 3, len(text)) == (text[-3 - CONTEXT_CHARS:-3], "")


@given(st.text(), st.data())
def test_context_touches_the_quote_and_is_never_longer_than_the_rule(text, data) -> None:
    start = data.draw(st.integers(0, len(text)))
    end = data.draw(st.integers(start, len(text)))
    before, after = context_around(text, start, end)
    assert text.endswith(before + text[start:end] + after, 0, end + len(after))
    assert text[:start].endswith(before) and text[end:].startswith(after)
    assert len(before) == min(start, CONTEXT_CHARS) and len(after) == min(len(text) - end, CONTEXT_CHARS)


def test_a_marked_passage_keeps_its_context_and_is_found_again(demo_path: Path) -> None:
    with Session.open(demo_path, coder="Lan Nguyen") as s:
        doc = next(d for d in s.store.list("document") if len(d.text or "") > 400)
        eid, _ = coding.add_excerpt(s, doc.id, 200, 260, "context")
        ex = s.store.get("excerpt", eid)
    text = doc.text
    assert (ex.before, ex.after) == (text[200 - CONTEXT_CHARS:200], text[260:260 + CONTEXT_CHARS])
    moved = "A new first page.\n" + text
    anchor = find_anchor(moved, ex.quote, ex.before, ex.after, ex.start, len(text))
    assert anchor is not None and moved[anchor.start:anchor.end] == ex.quote
