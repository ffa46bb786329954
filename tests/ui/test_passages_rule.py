"""The rule that keeps a re-selected passage from becoming a second excerpt."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from cmo_desk.domain import records as rec
from cmo_desk.services.passages import holder_of, same_passage

spans = st.tuples(st.integers(0, 5000), st.integers(1, 800)).map(lambda p: (p[0], p[0] + p[1]))


@settings(max_examples=100)
@given(spans, spans)
def test_same_passage_is_symmetric_and_reflexive(a: tuple[int, int], b: tuple[int, int]) -> None:
    assert same_passage(*a, *a)
    assert same_passage(*a, *b) == same_passage(*b, *a)


def test_one_character_more_or_less_is_the_same_passage() -> None:
    assert same_passage(438, 521, 438, 522)
    assert same_passage(438, 521, 437, 521)
    assert not same_passage(438, 521, 450, 521)  # a different start is a different passage


@settings(max_examples=100)
@given(st.lists(spans, min_size=0, max_size=8), spans, st.booleans())
def test_holder_is_own_and_holds_the_selection(excerpt_spans: list[tuple[int, int]],
                                               selection: tuple[int, int],
                                               other_owner: bool) -> None:
    excerpts = [rec.Excerpt(id=f"e{i}", document_id="d", start=a, end=b,
                            owner_id="other" if other_owner and i % 2 else "me")
                for i, (a, b) in enumerate(excerpt_spans)]
    found = holder_of(excerpts, "d", *selection, "me")
    mine = [e for e in excerpts if e.owner_id == "me"]
    if found is None:
        assert not any(same_passage(e.start, e.end, *selection) or
                       (e.start <= selection[0] and selection[1] <= e.end) for e in mine)
        return
    ex = found.excerpt
    assert ex.owner_id == "me"
    if found.same:
        assert same_passage(ex.start, ex.end, *selection)
    else:
        assert ex.start <= selection[0] and selection[1] <= ex.end
        assert not any(same_passage(e.start, e.end, *selection) for e in mine)
    assert holder_of(excerpts, "another document", *selection, "me") is None
