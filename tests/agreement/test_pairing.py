"""Pairing two coders' CMOCs for reconciliation."""

from __future__ import annotations

import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cmo_desk.domain.records import Cmoc, Excerpt
from cmo_desk.agreement.pairing import pair_cmocs, slot_differences


def _ex(eid: str, start: int, end: int, doc: str = "d1", owner: str = "a") -> Excerpt:
    return Excerpt(eid, document_id=doc, study_id="s1", start=start, end=end, owner_id=owner)


EXCERPTS = {
    e.id: e
    for e in [
        _ex("ea1", 0, 100), _ex("ea2", 500, 600), _ex("ea3", 900, 950),
        _ex("eb1", 10, 110, owner="b"), _ex("eb2", 520, 640, owner="b"), _ex("eb3", 0, 50, doc="d2", owner="b"),
    ]
}

A1 = Cmoc("a1", study_id="s1", owner_id="a", context="Police crackdowns", mechanism_reasoning="Trust in peers",
          outcome="More NSP visits", code_ids=("trust", "police"), excerpt_ids=("ea1",))
A2 = Cmoc("a2", study_id="s1", owner_id="a", context="Stigma in clinics", outcome="ART uptake",
          code_ids=("stigma",), excerpt_ids=("ea2",))
A3 = Cmoc("a3", study_id="s1", owner_id="a", outcome="Peer burnout", code_ids=("burnout",), excerpt_ids=("ea3",))
B1 = Cmoc("b1", study_id="s1", owner_id="b", context="Police  crackdowns ", mechanism_reasoning="Trust",
          outcome="More NSP visits", code_ids=("trust",), excerpt_ids=("eb1",))
B2 = Cmoc("b2", study_id="s1", owner_id="b", context="Stigma in clinics", outcome="ART uptake rose",
          code_ids=("stigma", "empathy"), excerpt_ids=("eb2",))
B3 = Cmoc("b3", study_id="s1", owner_id="b", outcome="Overdose reversals", code_ids=("naloxone",),
          excerpt_ids=("eb3",))


def _ids(pairs):
    return [(p.a.id if p.a else None, p.b.id if p.b else None) for p in pairs]


def test_obvious_matches_are_paired_and_the_rest_left_alone():
    pairs = pair_cmocs([A1, A2, A3], [B3, B2, B1], EXCERPTS)
    assert _ids(pairs) == [("a1", "b1"), ("a2", "b2"), ("a3", None), (None, "b3")]
    first = pairs[0]
    assert first.shared_code_ids == ("trust",)
    assert first.overlapping_excerpt_ids == ("ea1", "eb1")
    # spacing alone is not a difference; changed wording is
    assert first.differences == ["mechanism_reasoning"]
    assert pairs[1].differences == ["outcome"]
    assert 0 < pairs[1].score < 1
    assert pairs[2].differences == [] and pairs[2].score == 0


def test_pairing_is_deterministic_and_symmetric():
    forward = pair_cmocs([A1, A2, A3], [B1, B2, B3], EXCERPTS)
    rng = random.Random(7)
    for _ in range(10):
        a_side, b_side = [A1, A2, A3], [B1, B2, B3]
        rng.shuffle(a_side)
        rng.shuffle(b_side)
        shuffled = pair_cmocs(a_side, b_side, EXCERPTS)
        assert sorted(_ids(shuffled), key=str) == sorted(_ids(forward), key=str)
    backward = pair_cmocs([B1, B2, B3], [A1, A2, A3], EXCERPTS)
    assert {(b, a) for a, b in _ids(backward)} == set(_ids(forward))


def test_ties_are_broken_by_id_whichever_coder_is_first():
    same = dict(study_id="s1", code_ids=("trust",))
    a_side = [Cmoc("x2", owner_id="a", **same), Cmoc("x1", owner_id="a", **same)]
    b_side = [Cmoc("y2", owner_id="b", **same), Cmoc("y1", owner_id="b", **same)]
    pairs = pair_cmocs(a_side, b_side, {})
    assert _ids(pairs) == [("x2", "y2"), ("x1", "y1")]
    swapped = pair_cmocs(b_side, a_side, {})
    assert {(b, a) for a, b in _ids(swapped)} == set(_ids(pairs))


def test_codes_merged_into_another_count_as_shared():
    a = Cmoc("a", study_id="s1", code_ids=("trust-ana",))
    b = Cmoc("b", study_id="s1", code_ids=("trust-bo",))
    assert _ids(pair_cmocs([a], [b], {})) == [("a", None), (None, "b")]
    merged = pair_cmocs([a], [b], {}, code_alias={"trust-bo": "trust-ana"})
    assert _ids(merged) == [("a", "b")] and merged[0].shared_code_ids == ("trust-ana",)


def test_cmocs_of_different_studies_or_without_anything_in_common_are_not_paired():
    a = Cmoc("a", study_id="s1", code_ids=("trust",))
    b = Cmoc("b", study_id="s2", code_ids=("trust",))
    assert _ids(pair_cmocs([a], [b], {})) == [("a", None), (None, "b")]
    empty_a, empty_b = Cmoc("ea", study_id="s1"), Cmoc("eb", study_id="s1")
    assert _ids(pair_cmocs([empty_a], [empty_b], {})) == [("ea", None), (None, "eb")]


def test_missing_or_unanchored_excerpts_do_not_break_pairing():
    floating = Excerpt("f", document_id=None, start=None, end=None)
    a = Cmoc("a", study_id="s1", code_ids=("k",), excerpt_ids=("gone", "f"))
    b = Cmoc("b", study_id="s1", code_ids=("k",), excerpt_ids=("f",))
    pairs = pair_cmocs([a], [b], {"f": floating})
    assert _ids(pairs) == [("a", "b")] and pairs[0].score == pytest.approx(1.0)


def test_slot_differences_in_slot_order():
    a = Cmoc("a", context="C", outcome="O", outcome_direction="+")
    b = Cmoc("b", context="C", outcome="O2", outcome_direction="-", statement="If ... then ...")
    assert slot_differences(a, b) == ["outcome", "outcome_direction", "statement"]
    assert slot_differences(a, a) == []


_cmoc_lists = st.lists(
    st.tuples(
        st.frozensets(st.sampled_from(["k1", "k2", "k3", "k4"]), max_size=3),
        st.lists(st.tuples(st.sampled_from(["d1", "d2"]), st.integers(0, 90), st.integers(1, 30)), max_size=2),
    ),
    max_size=6,
)


@settings(max_examples=60, deadline=None)
@given(_cmoc_lists, _cmoc_lists)
def test_every_cmoc_appears_exactly_once_and_pairs_are_mutual_best_first(side_a, side_b):
    excerpts: dict[str, Excerpt] = {}

    def build(prefix, specs):
        out = []
        for i, (codes, spans) in enumerate(specs):
            ids = []
            for j, (doc, start, size) in enumerate(spans):
                eid = f"{prefix}{i}e{j}"
                excerpts[eid] = _ex(eid, start, start + size, doc=doc, owner=prefix)
                ids.append(eid)
            out.append(Cmoc(f"{prefix}{i}", study_id="s1", code_ids=tuple(sorted(codes)), excerpt_ids=tuple(ids)))
        return out

    cmocs_a, cmocs_b = build("a", side_a), build("b", side_b)
    pairs = pair_cmocs(cmocs_a, cmocs_b, excerpts)
    assert sorted(p.a.id for p in pairs if p.a) == sorted(c.id for c in cmocs_a)
    assert sorted(p.b.id for p in pairs if p.b) == sorted(c.id for c in cmocs_b)
    assert all(p.score > 0 for p in pairs if p.a and p.b)
    # an unpaired A and an unpaired B never had anything in common (greedy leaves no such leftovers)
    lonely_a = [p.a for p in pairs if p.b is None]
    lonely_b = [p.b for p in pairs if p.a is None]
    for a in lonely_a:
        for b in lonely_b:
            assert pair_cmocs([a], [b], excerpts)[0].b is None
    assert pair_cmocs(cmocs_a, cmocs_b, excerpts) == pairs
