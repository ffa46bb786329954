"""The pure projection: order-independent, conflicts only for concurrent edits."""

from __future__ import annotations

import random

from hypothesis import given, settings
from hypothesis import strategies as st

from cmo_desk.domain.changelog import HybridClock, heads_of, make_change, project_entity


def _c(field, value, wall, site="s1", parents=(), seen=(), coder="c1"):
    return make_change("study", "e1", field, value, wall, 0, site, coder, parents, seen)


def test_sequential_edits_show_latest_without_conflict() -> None:
    create = _c("exists", True, 1)
    t1 = _c("title", "first", 2)
    t2 = _c("title", "second", 3, parents=[t1.change_id])
    state = project_entity("study", "e1", [t2, create, t1])
    assert state is not None and state.exists
    assert state.values["title"] == "second"
    assert state.conflicts == []


def test_concurrent_edits_are_a_conflict_with_their_ancestor() -> None:
    create = _c("exists", True, 1)
    base = _c("title", "base", 2)
    a = _c("title", "from A", 3, site="A", parents=[base.change_id])
    b = _c("title", "from B", 3, site="B", parents=[base.change_id])
    state = project_entity("study", "e1", [create, base, a, b])
    assert [c.field for c in state.conflicts] == ["title"]
    conflict = state.conflicts[0]
    assert {h.value for h in conflict.heads} == {"from A", "from B"}
    assert [x.value for x in conflict.ancestors] == ["base"]
    assert state.values["title"] == "from B"  # provisional: the greatest (clock, site, id)


def test_same_value_written_concurrently_is_not_a_conflict() -> None:
    create = _c("exists", True, 1)
    a = _c("title", "same", 3, site="A")
    b = _c("title", "same", 4, site="B")
    assert project_entity("study", "e1", [create, a, b]).conflicts == []


def test_delete_sticks_and_concurrent_edit_is_reported() -> None:
    create = _c("exists", True, 1)
    t1 = _c("title", "x", 2)
    delete = _c("exists", False, 5, site="A", parents=[create.change_id], seen=[t1.change_id])
    edit = _c("title", "edited meanwhile", 4, site="B", parents=[t1.change_id])
    state = project_entity("study", "e1", [create, t1, delete, edit])
    assert not state.exists
    assert [(c.field, c.kind) for c in state.conflicts] == [("exists", "edit_vs_delete")]
    # A delete that saw every edit is clean.
    clean = project_entity("study", "e1", [create, t1, delete])
    assert not clean.exists and clean.conflicts == []


def test_immutable_owner_keeps_first_value() -> None:
    create = make_change("cmoc", "m1", "exists", True, 1, 0, "s", "c1")
    owner = make_change("cmoc", "m1", "owner_id", "c1", 1, 1, "s", "c1")
    hijack = make_change("cmoc", "m1", "owner_id", "c2", 9, 0, "t", "c2", [owner.change_id])
    state = project_entity("cmoc", "m1", [create, owner, hijack])
    assert state.values["owner_id"] == "c1"


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["A", "B", "C"]), st.sampled_from(["title", "doi"]),
                          st.text(max_size=3), st.booleans()), min_size=1, max_size=12),
       st.randoms(use_true_random=False))
def test_projection_ignores_order(ops, rnd: random.Random) -> None:
    changes = [_c("exists", True, 0)]
    for i, (site, field, value, chain) in enumerate(ops, 1):
        prior = [c for c in changes if c.field == field]
        parents = [h.change_id for h in heads_of(prior)] if chain else []
        changes.append(_c(field, value, i, site=site, parents=parents))
    first = project_entity("study", "e1", changes)
    shuffled = list(changes)
    rnd.shuffle(shuffled)
    second = project_entity("study", "e1", shuffled)
    assert first.values == second.values
    assert [(c.field, [h.change_id for h in c.heads]) for c in first.conflicts] == \
        [(c.field, [h.change_id for h in c.heads]) for c in second.conflicts]


def test_clock_stays_monotonic_when_wall_clock_goes_back() -> None:
    times = iter([1000, 1000, 500, 400, 2000, 2001, 2002, 2003])
    clock = HybridClock(now=lambda: next(times))
    stamps = [clock.tick() for _ in range(5)]
    assert stamps == sorted(stamps) and len(set(stamps)) == 5
    clock.observe(5000, 7)
    assert clock.tick() > (5000, 7)


def test_delete_against_restore_and_unseen_edit_is_one_conflict_listing_every_side() -> None:
    create = _c("exists", True, 1)
    memo = _c("title", "first", 2)
    seen = [memo.change_id]
    gone_a = _c("exists", False, 3, site="A", parents=[create.change_id], seen=seen)
    gone_b = _c("exists", False, 3, site="B", parents=[create.change_id], seen=seen)
    back_b = _c("exists", True, 4, site="B", parents=[gone_b.change_id], seen=seen)
    edit_b = _c("title", "second", 5, site="B", parents=[memo.change_id])
    changes = [create, memo, gone_a, gone_b, back_b, edit_b]
    for order in (changes, changes[::-1]):
        state = project_entity("study", "e1", order)
        assert state is not None and not state.exists
        (conflict,) = [c for c in state.conflicts if c.field == "exists"]
        assert {h.change_id for h in conflict.heads} == {
            gone_a.change_id, back_b.change_id, edit_b.change_id}
    keys = [(c.field, c.kind) for c in state.conflicts]
    assert len({f for f, _ in keys}) == len(keys)


def test_a_clock_years_ahead_elsewhere_is_not_adopted_but_order_still_moves_on() -> None:
    now = [1_700_000_000_000]
    clock = HybridClock(now=lambda: now[0])
    clock.tick()
    fast = now[0] + 14 * 365 * 24 * 3600 * 1000
    clock.observe(fast, 3)
    assert clock.wall <= now[0] + 10 * 60 * 1000
    first = clock.tick()
    assert first < (fast, 3) and first > (now[0], 0)
    # a small drift (a laptop a minute fast) is still followed
    now[0] += 1000
    clock.observe(now[0] + 60_000, 2)
    assert clock.tick() > (now[0] + 60_000, 2)


@settings(max_examples=100, deadline=None)
@given(value=st.recursive(st.none() | st.booleans() | st.integers() | st.text(),
                          lambda inner: st.lists(inner, max_size=3)
                          | st.dictionaries(st.text(max_size=5), inner, max_size=3)),
       field=st.text(min_size=1, max_size=8), coder=st.none() | st.text(max_size=8),
       parents=st.lists(st.text(min_size=1, max_size=6), max_size=3))
def test_a_stored_change_verifies_and_any_altered_copy_does_not(value, field, coder,
                                                               parents) -> None:
    import json as _json

    from cmo_desk.domain.changelog import canonical_json, row_matches_id

    c = make_change("study", "e1 🙂", field, value, 5, 1, "site", coder, parents, ["x"])
    row = [c.change_id, c.entity_type, c.entity_id, c.field, canonical_json(c.value), c.wall,
           c.counter, c.site_id, c.coder_id, _json.dumps(list(c.parents)), _json.dumps(["x"])]
    assert row_matches_id(*row)
    for k, bad in ((4, canonical_json([value])), (4, "not json {"), (5, 6), (5, "5"),
                   (8, "someone else"), (9, '{"a": 1}'), (4, canonical_json(value) + ",1")):
        altered = list(row)
        altered[k] = bad
        if altered[k] != row[k]:
            assert not row_matches_id(*altered)


@settings(max_examples=100, deadline=None)
@given(value=st.recursive(st.none() | st.booleans() | st.integers() | st.floats() | st.text(),
                          lambda inner: st.lists(inner, max_size=3)
                          | st.dictionaries(st.text(max_size=5), inner, max_size=3)),
       coder=st.none() | st.text(max_size=8),
       parents=st.lists(st.text(min_size=1, max_size=6), max_size=3),
       seen=st.lists(st.text(min_size=1, max_size=6), max_size=2))
def test_a_checked_row_gives_back_the_change_that_was_written(value, coder, parents,
                                                             seen) -> None:
    import json as _json

    from cmo_desk.domain.changelog import canonical_json, change_from_row

    c = make_change("excerpt", "e1 🙂", "quote", value, 7, 2, "site ü", coder, parents, seen)
    row = (c.change_id, c.entity_type, c.entity_id, c.field, canonical_json(c.value), c.wall,
           c.counter, c.site_id, c.coder_id, _json.dumps(list(c.parents)),
           _json.dumps(list(c.seen)))
    back = change_from_row(*row)
    assert back is not None
    assert vars(back).keys() == vars(c).keys()  # every field of a Change, nothing else
    assert canonical_json(back.value) == canonical_json(c.value)
    assert (back.change_id, back.entity_type, back.entity_id, back.field, back.wall,
            back.counter, back.site_id, back.coder_id, back.parents, back.seen) == (
        c.change_id, c.entity_type, c.entity_id, c.field, c.wall, c.counter, c.site_id,
        c.coder_id, c.parents, c.seen)


def test_a_row_whose_id_was_computed_over_a_padded_or_doubled_value_is_refused() -> None:
    """A forger can compute a matching id over any text; the text must still be one JSON value
    and nothing more, or the row is refused (not half-read)."""
    import hashlib

    from cmo_desk.domain.changelog import change_from_row

    for value_text in ("1 2", " 1", "1 ", "[1]]", "", "{\"a\": 1}x"):
        payload = f'["study","s1","label",{value_text},5,0,"site",null,[],[]]'
        forged = hashlib.sha256(payload.encode("utf-8")).hexdigest()
        assert change_from_row(forged, "study", "s1", "label", value_text, 5, 0, "site", None,
                               "[]", "[]") is None, value_text
    payload = '["study","s1","label",12,5,0,"site",null,[],[]]'
    good = hashlib.sha256(payload.encode("utf-8")).hexdigest()
    assert change_from_row(good, "study", "s1", "label", "12", 5, 0, "site", None, "[]",
                           "[]").value == 12
    # a number, or bytes, in a text column
    assert change_from_row(good, "study", b"s1", "label", "12", 5, 0, "site", None, "[]",
                           "[]") is None
    assert change_from_row(good, "study", "s1", "label", "12", 5, 0, "site", 7, "[]",
                           "[]") is None
